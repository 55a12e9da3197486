"""`grabber push` and `grabber db upgrade|prune|import-legacy`: a thin layer over the library."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

from ...options import ScanArgs, scan_options, user_errors
from .errors import DatabaseError
from .url import parse_url, resolve_url, with_names

F = TypeVar("F", bound=Callable[..., Any])


def db_options(func: F) -> F:
    """Where snapshots go: --db (or GRABBER_DATABASE_URL), schema and table prefix."""
    options = [
        click.option(
            "--db",
            "db_url",
            metavar="URL",
            help="sqlite:///FILE, postgresql://HOST/DB or redshift://HOST/DB. Put "
            "passwords in GRABBER_DATABASE_URL instead (default: that, else the "
            "POSTGRES_* variables, else a SQLite file in the user data dir).",
        ),
        click.option(
            "--db-schema",
            "schema",
            metavar="NAME",
            envvar="GRABBER_DB_SCHEMA",
            help="PostgreSQL/Redshift schema for the tables (default: public).",
        ),
        click.option(
            "--table-prefix",
            metavar="PREFIX",
            envvar="GRABBER_DB_TABLE_PREFIX",
            help="Prefix for every table and view name.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def database_errors(func: F) -> F:
    """DatabaseError -> one line on stderr, exit 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except DatabaseError as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper  # type: ignore[return-value]


def target_url(db_url: str | None, schema: str | None, table_prefix: str | None) -> str:
    if db_url and "://" in db_url and parse_url(db_url).password:
        say(
            "warning: a password in --db is visible to every user of this machine (ps); "
            "put the URL in GRABBER_DATABASE_URL instead"
        )
    return with_names(resolve_url(db_url), schema, table_prefix)


def say(message: str) -> None:
    click.echo(f"grabber: {message}", err=True)


@click.command()
@click.argument("repository")
@click.argument("branch", required=False)
@scan_options
@db_options
@user_errors
@database_errors
def push(
    repository: str,
    branch: str | None,
    scan: ScanArgs,
    db_url: str | None,
    schema: str | None,
    table_prefix: str | None,
) -> None:
    """Scan REPOSITORY at BRANCH and store the snapshot in a database.

    One snapshot per repository, branch, commit and UTC day: pushing the same scan again
    replaces it. The push is one transaction; the tables are created on first use.

    \b
    Examples:
      grabber push . main                                  # SQLite file in the user data dir
      GRABBER_DATABASE_URL=postgresql://u:pw@db/ci grabber push https://github.com/org/repo main
    """
    from . import store_snapshot
    from . import upgrade as upgrade_url

    scan.settings()  # usage errors first
    url = target_url(db_url, schema, table_prefix)
    upgrade_url(url)  # an unreachable or read-only database fails before the (slow) scan
    snapshot = scan.snapshot(repository, branch)
    store_snapshot(url, snapshot)
    commit = f" ({snapshot.commit[:12]})" if snapshot.commit else ""
    label = snapshot.repo + (f"@{snapshot.branch}" if snapshot.branch else "")
    say(
        f"stored {len(snapshot.muted)} muted tests of {label}{commit} in {parse_url(url).display()}"
    )


@click.group()
def db() -> None:
    """Manage the snapshot database: migrations, retention, importing the old table."""


@db.command()
@db_options
@database_errors
def upgrade(db_url: str | None, schema: str | None, table_prefix: str | None) -> None:
    """Create the tables, or migrate them to this grabber's schema version."""
    from . import upgrade as upgrade_url

    url = target_url(db_url, schema, table_prefix)
    before, after = upgrade_url(url)
    where = parse_url(url).display()
    if before == after:
        say(f"{where} is at schema version {after}; nothing to do")
    else:
        say(f"migrated {where} from schema version {before} to {after}")


def _duration(_ctx: click.Context, _param: click.Parameter, value: str) -> Any:
    from .push import parse_duration

    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@db.command()
@click.option(
    "--keep",
    required=True,
    metavar="AGE",
    callback=_duration,
    help="Keep snapshots scanned within this age: 400d, 8w, 2y (days if no unit).",
)
@db_options
@database_errors
def prune(keep: Any, db_url: str | None, schema: str | None, table_prefix: str | None) -> None:
    """Delete snapshots older than --keep (by the UTC day they were scanned)."""
    from . import prune as prune_url

    url = target_url(db_url, schema, table_prefix)
    deleted = prune_url(url, keep)
    say(f"deleted {deleted} snapshots older than {keep.days} days from {parse_url(url).display()}")


@db.command("import-legacy")
@click.argument("table", default="dashboards.xfailflake_history_v1")
@db_options
@database_errors
def import_legacy(
    table: str, db_url: str | None, schema: str | None, table_prefix: str | None
) -> None:
    """Import the rows of the original tool's TABLE (same database) as daily snapshots.

    TABLE defaults to dashboards.xfailflake_history_v1; importing twice replaces, never
    duplicates. Rename the old table first if the compatibility view is to take its name.
    """
    from . import import_legacy as import_url

    url = target_url(db_url, schema, table_prefix)
    count = import_url(url, table)
    say(f"imported {count} daily snapshots from {table} into {parse_url(url).display()}")
