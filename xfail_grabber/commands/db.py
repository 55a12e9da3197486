"""`grabber db upgrade|prune|import-legacy`: migrations, retention, the original tool's table."""

from __future__ import annotations

from typing import Any

import click

from .common import database_errors, db_options, say, target_url


@click.group()
def db() -> None:
    """Manage the snapshot database: migrations, retention, importing the old table."""


@db.command()
@db_options
@database_errors
def upgrade(db_url: str | None, schema: str | None, table_prefix: str | None) -> None:
    """Create the tables, or migrate them to this grabber's schema version."""
    from ..sinks.db import parse_url
    from ..sinks.db import upgrade as upgrade_url

    url = target_url(db_url, schema, table_prefix)
    before, after = upgrade_url(url)
    where = parse_url(url).display()
    if before == after:
        say(f"{where} is at schema version {after}; nothing to do")
    else:
        say(f"migrated {where} from schema version {before} to {after}")


def _duration(_ctx: click.Context, _param: click.Parameter, value: str) -> Any:
    from ..sinks.db import parse_duration

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
    from ..sinks.db import parse_url
    from ..sinks.db import prune as prune_url

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
    from ..sinks.db import import_legacy as import_url
    from ..sinks.db import parse_url

    url = target_url(db_url, schema, table_prefix)
    count = import_url(url, table)
    say(f"imported {count} daily snapshots from {table} into {parse_url(url).display()}")
