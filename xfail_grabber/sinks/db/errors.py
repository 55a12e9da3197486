"""Database errors: one line each, naming the host, never the password."""

from __future__ import annotations


class DatabaseError(Exception):
    """A database failure the user must act on. The message is one line and holds no secret."""


class InvalidDatabaseUrl(DatabaseError):
    """The URL cannot be understood (unknown scheme, bad port...)."""


class DatabaseUnreachable(DatabaseError):
    """The server is down, the host unknown, or the connection refused or timed out."""


class AuthenticationFailed(DatabaseError):
    """The server refused the user or the password."""


class PermissionDenied(DatabaseError):
    """The user may not create the schema or tables, or write to them."""


class SchemaTooNew(DatabaseError):
    """The database was migrated by a newer grabber than this one."""


def one_line(message: str, *secrets: str | None) -> str:
    """The first non-empty line of a driver message, with every secret masked."""
    text = message
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    first = lines[0] if lines else "unknown error"
    if first.startswith(("FATAL:", "ERROR:")):
        first = first.split(":", 1)[1].strip()
    return first
