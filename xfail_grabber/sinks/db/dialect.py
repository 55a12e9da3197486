"""What differs between SQLite, PostgreSQL and Redshift, in one place.

Redshift rules the Redshift dialect keeps (tests/db check every statement it emits):
no ON CONFLICT, RETURNING, SERIAL, indexes, JSON/JSONB or arrays; TIMESTAMPTZ for times;
VARCHAR(n) counts bytes, so text is cut to n UTF-8 bytes on a character boundary; multi-row
INSERTs stay under the 16 MB statement limit.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import InvalidDatabaseUrl

# Redshift's limit is 16 MB per statement; keep a margin for the INSERT head.
REDSHIFT_MAX_STATEMENT_BYTES = 16 * 1024 * 1024 - 64 * 1024
MAX_IDENTIFIER_BYTES = 63  # PostgreSQL silently cuts longer names; we refuse them instead.


def quote_ident(name: str) -> str:
    """A safely quoted SQL identifier; names are never formatted into SQL any other way."""
    if not name or "\x00" in name or len(name.encode("utf-8")) > MAX_IDENTIFIER_BYTES:
        raise InvalidDatabaseUrl(
            f"invalid schema or table name {name!r}: 1 to {MAX_IDENTIFIER_BYTES} bytes, no NUL"
        )
    return '"' + name.replace('"', '""') + '"'


def clean_text(value: str) -> str:
    """Text every database can hold: NUL becomes U+FFFD, lone surrogates become '?'."""
    if "\x00" in value:
        value = value.replace("\x00", "\ufffd")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            value = value.encode("utf-8", "replace").decode("utf-8")
    return value


def truncate_utf8(value: str, max_bytes: int) -> str:
    """`value` cut to at most `max_bytes` UTF-8 bytes, never in the middle of a character."""
    if len(value) * 4 <= max_bytes:
        return value
    data = value.encode("utf-8")
    if len(data) <= max_bytes:
        return value
    return data[:max_bytes].decode("utf-8", "ignore")


@dataclass(frozen=True)
class Names:
    """Where the tables live: an optional schema and a prefix for every table name."""

    schema: str | None = None
    prefix: str = ""

    def table(self, name: str) -> str:
        quoted = quote_ident(self.prefix + name)
        return f"{quote_ident(self.schema)}.{quoted}" if self.schema else quoted

    def bare(self, name: str) -> str:
        return self.prefix + name


@dataclass(frozen=True)
class Dialect:
    name: str  # sqlite, postgresql, redshift
    param: str  # the DB-API placeholder
    timestamp_type: str
    date_type: str
    bool_type: str
    varchar_limits: bool  # VARCHAR(n) with byte truncation instead of TEXT
    constraints: bool  # UNIQUE constraints and indexes
    use_copy: bool  # COPY FROM STDIN for bulk rows
    max_statement_bytes: int | None

    def text_type(self, limit: int) -> str:
        return f"VARCHAR({limit})" if self.varchar_limits else "TEXT"

    def text(self, value: str | None, limit: int) -> str | None:
        if value is None:
            return None
        value = clean_text(value)
        return truncate_utf8(value, limit) if self.varchar_limits else value

    def lock(self, table: str) -> str | None:
        """The statement that serialises writers on `table` (SQLite uses BEGIN IMMEDIATE)."""
        if self.name == "postgresql":
            return f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE"
        if self.name == "redshift":
            return f"LOCK TABLE {table}"
        return None

    @property
    def begin(self) -> str:
        return "BEGIN IMMEDIATE" if self.name == "sqlite" else "BEGIN"


SQLITE = Dialect("sqlite", "?", "TEXT", "TEXT", "INTEGER", False, True, False, None)
POSTGRESQL = Dialect("postgresql", "%s", "TIMESTAMPTZ", "DATE", "BOOLEAN", False, True, True, None)
REDSHIFT = Dialect(
    "redshift",
    "%s",
    "TIMESTAMPTZ",
    "DATE",
    "BOOLEAN",
    True,
    False,
    False,
    REDSHIFT_MAX_STATEMENT_BYTES,
)
DIALECTS = {d.name: d for d in (SQLITE, POSTGRESQL, REDSHIFT)}
