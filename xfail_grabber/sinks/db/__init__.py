"""Snapshots in PostgreSQL, Amazon Redshift and SQLite.

The functions here are the contract other parts of grabber (history, serve, the compat shim)
build on; each takes a database URL (see `url.py`) and opens its own connection.
"""

from __future__ import annotations

from .connection import trace_statements
from .errors import (
    AuthenticationFailed,
    DatabaseError,
    DatabaseUnreachable,
    InvalidDatabaseUrl,
    PermissionDenied,
    SchemaTooNew,
)
from .push import import_legacy, parse_duration, prune, store_snapshot, store_snapshots
from .read import latest_snapshot, snapshot_on, stored_keys, targets, trend
from .url import default_sqlite_path, legacy_env_url, parse_url, resolve_url, with_names


def upgrade(url: str) -> tuple[int, int]:
    """Create or migrate the tables; return (version before, version after)."""
    from .connection import connect
    from .schema import upgrade as upgrade_db

    with connect(url) as db:
        return upgrade_db(db)


__all__ = [
    "AuthenticationFailed",
    "DatabaseError",
    "DatabaseUnreachable",
    "InvalidDatabaseUrl",
    "PermissionDenied",
    "SchemaTooNew",
    "default_sqlite_path",
    "import_legacy",
    "latest_snapshot",
    "legacy_env_url",
    "parse_duration",
    "parse_url",
    "prune",
    "resolve_url",
    "snapshot_on",
    "store_snapshot",
    "store_snapshots",
    "stored_keys",
    "targets",
    "trace_statements",
    "trend",
    "upgrade",
    "with_names",
]
