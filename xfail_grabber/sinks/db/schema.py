"""Tables, the compatibility view, and migrations with a version table.

Every migration is a list of statements built from the dialect and the configured names, run
in one transaction together with its row in the version table. Migrations are never edited
once released; a change is a new migration (tests/db migrate from every previous version).
"""

# ruff: noqa: S608 - table names come only from Names.table (quote_ident); values are bound.

from __future__ import annotations

import logging
from collections.abc import Callable

from .connection import Db, in_transaction
from .dialect import quote_ident
from .errors import SchemaTooNew

log = logging.getLogger("xfail_grabber")

# (name, type, VARCHAR byte limit for Redshift); type: text, int, bool, ts, date
Column = tuple[str, str, int]

VERSION_TABLE = "schema_version"
SNAPSHOTS = "snapshots"
MUTED = "muted_tests"
ERRORS = "scan_errors"
LEGACY_VIEW = "xfailflake_history_v1"
MAX_VARCHAR = 65535

SNAPSHOT_COLUMNS: tuple[Column, ...] = (
    ("snapshot_id", "text", 32),
    ("repo", "text", 4096),
    ("branch", "text", 1024),
    ("commit", "text", 256),
    ("day", "date", 0),
    ("scanned_at", "ts", 0),
    ("committed_at", "ts", 0),
    ("tool_name", "text", 64),
    ("tool_version", "text", 64),
    ("schema_version", "int", 0),
    ("markers", "text", MAX_VARCHAR),
    ("total", "int", 0),
    ("tests", "int", 0),
    ("files", "int", 0),
    ("files_scanned", "int", 0),
    ("errors", "int", 0),
    ("by_kind", "text", MAX_VARCHAR),
    ("by_category", "text", MAX_VARCHAR),
)
# muted_tests as migration 1 created it (never changes); later columns are appended below.
MUTED_COLUMNS_1: tuple[Column, ...] = (
    ("snapshot_id", "text", 32),
    ("position", "int", 0),
    ("nodeid", "text", MAX_VARCHAR),
    ("path", "text", 4096),
    ("test", "text", MAX_VARCHAR),
    ("line", "int", 0),
    ("mark_line", "int", 0),
    ("kind", "text", 256),
    ("marker", "text", 256),
    ("scope", "text", 32),
    ("category", "text", 32),
    ("ticket", "text", 1024),
    ("reason", "text", MAX_VARCHAR),
    ("since", "text", 256),
    ("strict", "bool", 0),
    ("condition", "text", MAX_VARCHAR),
    ("kwargs", "text", MAX_VARCHAR),
    ("parser", "text", 32),
)
# Added by migration 4 (snapshot schema 2): marked param values, cases, ticket links.
MUTED_COLUMNS_4: tuple[Column, ...] = (
    ("param_index", "int", 0),
    ("param_id", "text", MAX_VARCHAR),
    ("cases", "int", 0),
    ("ticket_url", "text", 4096),
    ("reason_is_source", "bool", 0),
)
# Added by migration 6 (enrichment): CODEOWNERS owners (space-separated), git blame, tickets.
MUTED_COLUMNS_6: tuple[Column, ...] = (
    ("owners", "text", 4096),
    ("first_seen_commit", "text", 64),
    ("first_seen_at", "ts", 0),
    ("first_seen_author", "text", 1024),
    ("age_days", "int", 0),
    ("since_mismatch", "bool", 0),
    ("ticket_status", "text", 16),
    ("ticket_title", "text", 4096),
    ("stale", "bool", 0),
)
# Added by migration 7: the file of mark_line when it is not the record's path.
MUTED_COLUMNS_7: tuple[Column, ...] = (("mark_path", "text", 4096),)
# Added by migration 8: the file of line (the def) when it is not the record's path.
MUTED_COLUMNS_8: tuple[Column, ...] = (("def_path", "text", 4096),)
# (schema version, the muted_tests columns it added), oldest first.
MUTED_COLUMNS_ADDED: tuple[tuple[int, tuple[Column, ...]], ...] = (
    (1, MUTED_COLUMNS_1),
    (4, MUTED_COLUMNS_4),
    (6, MUTED_COLUMNS_6),
    (7, MUTED_COLUMNS_7),
    (8, MUTED_COLUMNS_8),
)
MUTED_COLUMNS: tuple[Column, ...] = tuple(c for _, added in MUTED_COLUMNS_ADDED for c in added)
# One row per repository and ticket: its status when a push last looked it up (--tickets),
# for dashboards to join on muted_tests.ticket.
TICKETS = "ticket_status"
TICKET_COLUMNS: tuple[Column, ...] = (
    ("repo", "text", 4096),
    ("ticket", "text", 1024),
    ("ticket_url", "text", 4096),
    ("status", "text", 16),
    ("title", "text", 4096),
    ("checked_at", "ts", 0),
)


def muted_columns(version: int) -> tuple[Column, ...]:
    """The muted_tests columns a database at schema `version` has (reads of a database
    that could not be migrated, e.g. by a read-only user, still work)."""
    found = tuple(c for since, added in MUTED_COLUMNS_ADDED if since <= version for c in added)
    return found or MUTED_COLUMNS_1


ERROR_COLUMNS: tuple[Column, ...] = (
    ("snapshot_id", "text", 32),
    ("position", "int", 0),
    ("path", "text", 4096),
    ("error", "text", MAX_VARCHAR),
)
# One row per dynamic mute site of a snapshot (migration 7): `item.add_marker(...)` in a
# hook or fixture, whose tests are known only at run time.
DYNAMIC = "dynamic_sites"
DYNAMIC_COLUMNS: tuple[Column, ...] = (
    ("snapshot_id", "text", 32),
    ("position", "int", 0),
    ("path", "text", 4096),
    ("line", "int", 0),
    ("marker", "text", 1024),
    ("hook", "text", 1024),
)
NOT_NULL = {"snapshot_id", "repo", "branch", "commit", "day", "scanned_at", "position"}
LIMITS = {c[0]: c[2] for c in (*SNAPSHOT_COLUMNS, *MUTED_COLUMNS, *ERROR_COLUMNS)}
TICKET_LIMITS = {c[0]: c[2] for c in TICKET_COLUMNS}
DYNAMIC_LIMITS = {c[0]: c[2] for c in DYNAMIC_COLUMNS}
# The tables whose rows belong to one snapshot (replaced and pruned with it).
SNAPSHOT_TABLES = (MUTED, ERRORS, DYNAMIC)


def q(name: str) -> str:
    return '"' + name + '"'  # our own fixed column names only; table names use Names.table


def column_sql(db: Db, column: Column) -> str:
    name, kind, limit = column
    types = {
        "text": db.dialect.text_type(limit),
        "int": "INTEGER",
        "bool": db.dialect.bool_type,
        "ts": db.dialect.timestamp_type,
        "date": db.dialect.date_type,
    }
    return f"{q(name)} {types[kind]}" + (" NOT NULL" if name in NOT_NULL else "")


def create_table(db: Db, table: str, columns: tuple[Column, ...], extra: str = "") -> str:
    body = ",\n  ".join([column_sql(db, c) for c in columns] + ([extra] if extra else []))
    return f"CREATE TABLE IF NOT EXISTS {db.names.table(table)} (\n  {body}\n)"


def add_columns(db: Db, table: str, columns: tuple[Column, ...]) -> list[str]:
    """ALTER TABLE ... ADD COLUMN, one statement per column (SQLite and Redshift take one)."""
    where = db.names.table(table)
    return [f"ALTER TABLE {where} ADD COLUMN {column_sql(db, c)}" for c in columns]


def index(db: Db, table: str, name: str, columns: str) -> list[str]:
    if not db.dialect.constraints:
        return []  # Redshift has no indexes
    # The index lives in its table's schema, so its own name is never qualified.
    return [
        f"CREATE INDEX IF NOT EXISTS {quote_ident(db.names.bare(name))} "
        f"ON {db.names.table(table)} ({columns})"
    ]


def migration_1(db: Db) -> list[str]:
    """The snapshots and muted_tests tables."""
    unique = ""
    if db.dialect.constraints:
        unique = 'UNIQUE ("repo", "branch", "commit", "day")'
    return [
        create_table(db, SNAPSHOTS, SNAPSHOT_COLUMNS, unique),
        create_table(db, MUTED, MUTED_COLUMNS_1),
        *index(db, MUTED, "muted_tests_snapshot", '"snapshot_id"'),
        *index(db, SNAPSHOTS, "snapshots_scanned", '"scanned_at"'),
    ]


def migration_2(db: Db) -> list[str]:
    """The view with the original table's columns (xfailflake rows only, as the old tool)."""
    timestamp = 's."scanned_at"'
    if db.dialect.name != "sqlite":
        timestamp = "(s.\"scanned_at\" AT TIME ZONE 'UTC')"
    view = db.names.table(LEGACY_VIEW)
    if relation_kind(db, LEGACY_VIEW) not in (None, "view"):
        log.warning(
            "%s is a table (the original tool's?), left alone: no compatibility view; "
            "see `grabber db import-legacy`",
            db.names.bare(LEGACY_VIEW),
        )
        return []
    return [
        f"DROP VIEW IF EXISTS {view}",
        f'CREATE VIEW {view} AS SELECT m."test" AS "test", m."ticket" AS "ticket", '
        f'm."path" AS "file", s."repo" AS "repo", s."branch" AS "branch", '
        f'{timestamp} AS "timestamp", m."since" AS "since" '
        f"FROM {db.names.table(MUTED)} m JOIN {db.names.table(SNAPSHOTS)} s "
        f'ON s."snapshot_id" = m."snapshot_id" WHERE m."kind" = \'xfailflake\'',
    ]


def migration_3(db: Db) -> list[str]:
    """scan_errors: the files a scan could not read, so a stored snapshot reads back whole."""
    return [
        create_table(db, ERRORS, ERROR_COLUMNS),
        *index(db, ERRORS, "scan_errors_snapshot", '"snapshot_id"'),
    ]


def migration_4(db: Db) -> list[str]:
    """muted_tests columns of snapshot schema 2: param_index, param_id, cases, ticket_url,
    reason_is_source (NULL in rows stored before)."""
    return add_columns(db, MUTED, MUTED_COLUMNS_4)


def migration_5(db: Db) -> list[str]:
    """Views for dashboards: latest_muted_tests and muted_trend_daily (see views.py)."""
    from .views import MUTED_AT_V5, latest_muted_sql, trend_daily_sql

    return [*latest_muted_sql(db, MUTED_AT_V5), *trend_daily_sql(db)]


def migration_6(db: Db) -> list[str]:
    """Enrichment: owners, first_seen, age, ticket status columns (NULL in rows stored
    before); the ticket_status table; latest_muted_tests with the new columns."""
    from .views import MUTED_AT_V6, latest_muted_sql

    return [
        *add_columns(db, MUTED, MUTED_COLUMNS_6),
        create_table(db, TICKETS, TICKET_COLUMNS),
        *index(db, TICKETS, "ticket_status_ticket", '"repo", "ticket"'),
        *latest_muted_sql(db, MUTED_AT_V6),
    ]


def migration_7(db: Db) -> list[str]:
    """dynamic_sites (the snapshot's hook and fixture add_marker sites); muted_tests.mark_path
    (NULL in rows stored before); latest_muted_tests with it."""
    from .views import MUTED_AT_V7, latest_muted_sql

    return [
        *add_columns(db, MUTED, MUTED_COLUMNS_7),
        create_table(db, DYNAMIC, DYNAMIC_COLUMNS),
        *index(db, DYNAMIC, "dynamic_sites_snapshot", '"snapshot_id"'),
        *latest_muted_sql(db, MUTED_AT_V7),
    ]


def migration_8(db: Db) -> list[str]:
    """muted_tests.def_path (NULL in rows stored before); latest_muted_tests with it."""
    from .views import MUTED_AT_V8, latest_muted_sql

    return [
        *add_columns(db, MUTED, MUTED_COLUMNS_8),
        *latest_muted_sql(db, MUTED_AT_V8),
    ]


MIGRATIONS: tuple[Callable[[Db], list[str]], ...] = (
    migration_1,
    migration_2,
    migration_3,
    migration_4,
    migration_5,
    migration_6,
    migration_7,
    migration_8,
)
LATEST = len(MIGRATIONS)


def relation_kind(db: Db, name: str) -> str | None:
    """'table', 'view' (or another kind) of one of our relations; None when missing."""
    if db.dialect.name == "sqlite":
        rows = db.execute("SELECT type FROM sqlite_master WHERE name = ?", (db.names.bare(name),))
        return str(rows[0][0]) if rows else None
    rows = db.execute(
        "SELECT c.relkind FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
        "ON n.oid = c.relnamespace WHERE n.nspname = ? AND c.relname = ?",
        (db.names.schema, db.names.bare(name)),
    )
    if not rows:
        return None
    return {"r": "table", "v": "view"}.get(str(rows[0][0]), str(rows[0][0]))


def relation_exists(db: Db, name: str) -> bool:
    return relation_kind(db, name) is not None


def current_version(db: Db) -> int:
    """The schema version of the database (0: no tables yet)."""
    if not relation_exists(db, VERSION_TABLE):
        return 0
    rows = db.execute(f'SELECT MAX("version") FROM {db.names.table(VERSION_TABLE)}')
    return int(rows[0][0] or 0)


def check_not_newer(db: Db, version: int) -> None:
    if version > LATEST:
        raise SchemaTooNew(
            f"{db.url.display()}: the schema is at version {version}, newer than "
            f"this grabber knows ({LATEST}); upgrade xfail-grabber"
        )


def upgrade(db: Db, target: int = LATEST) -> tuple[int, int]:
    """Migrate to `target`; return (from, to). Safe to run concurrently."""
    from ...__about__ import __version__
    from ...model import utc_now

    start = current_version(db)
    check_not_newer(db, start)
    if start >= target:
        return start, start  # no DDL at all: a user who may only write rows can still push
    schema = db.names.schema
    if schema and not db.execute(
        "SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = ?", (schema,)
    ):
        create = f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)}"
        in_transaction(db, lambda d: d.execute(create))
    version_table = db.names.table(VERSION_TABLE)

    def work(d: Db) -> tuple[int, int]:
        d.execute(
            f'CREATE TABLE IF NOT EXISTS {version_table} ("version" INTEGER NOT NULL, '
            f'"applied_at" {d.dialect.timestamp_type}, "tool_version" '
            f"{d.dialect.text_type(64)})"
        )
        lock = d.dialect.lock(version_table)
        if lock:
            d.execute(lock)
        start = current_version(d)
        check_not_newer(d, start)
        for number in range(start + 1, target + 1):
            for statement in MIGRATIONS[number - 1](d):
                d.execute(statement)
            applied = utc_now().isoformat() if d.dialect.name == "sqlite" else utc_now()
            d.execute(
                f'INSERT INTO {version_table} ("version", "applied_at", "tool_version") '
                "VALUES (?, ?, ?)",
                (number, applied, __version__),
            )
        return start, max(start, target)

    return in_transaction(db, work)


def ensure_schema(db: Db) -> None:
    """Create or migrate the tables when they are missing or older than this grabber."""
    version = current_version(db)
    check_not_newer(db, version)
    if version < LATEST:
        upgrade(db)
