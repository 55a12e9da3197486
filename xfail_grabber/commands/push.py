"""`grabber push`: scan a repository and store the snapshot in a database."""

from __future__ import annotations

import click

from ..timings import TIMINGS
from .common import (
    ScanArgs,
    database_errors,
    db_options,
    not_empty,
    ref_name,
    say,
    scan_options,
    target_url,
    user_errors,
)
from .fleet import FleetArgs, fleet_mode, fleet_options, run_fleet_command


@click.command()
@click.argument("repository", required=False, callback=not_empty)
@click.argument("branch", required=False, callback=ref_name)
@scan_options
@db_options
@fleet_options
@user_errors
@database_errors
def push(
    repository: str | None,
    branch: str | None,
    scan: ScanArgs,
    db_url: str | None,
    schema: str | None,
    table_prefix: str | None,
    fleet: FleetArgs,
) -> None:
    """Scan REPOSITORY at BRANCH and store the snapshot in a database.

    One snapshot per repository, branch, commit and UTC day: pushing the same scan again
    replaces it. The push is one transaction; the tables are created on first use.

    \b
    Examples:
      grabber push . main                                  # SQLite file in the user data dir
      GRABBER_DATABASE_URL=postgresql://u:pw@db/ci grabber push https://github.com/org/repo main
      grabber push --config fleet.toml --jobs 4            # every repository and branch

    With --config FILE listing [[repos]] and no REPOSITORY, every active branch of every
    repository is pushed (--shard INDEX/COUNT, or JOB_COMPLETION_INDEX with --shards, for a
    share of them); a failure is reported and the others go on; exit 1 if any failed.
    """
    from ..sinks.db import parse_url, store_snapshot, upgrade
    from ..sinks.formats import dynamic_note

    is_fleet = fleet_mode(repository, scan, fleet)
    scan.settings()  # usage errors first
    url = target_url(db_url, schema, table_prefix)
    upgrade(url)  # an unreachable or read-only database fails before the (slow) scan
    if is_fleet:
        from ..fleet.actions import Push

        run_fleet_command(scan, fleet, Push(url), "pushed")
        return
    assert repository is not None
    snapshot = scan.snapshot(repository, branch)
    with TIMINGS.phase("push"):
        store_snapshot(url, snapshot)
    commit = f" ({snapshot.commit[:12]})" if snapshot.commit else ""
    label = snapshot.repo + (f"@{snapshot.branch}" if snapshot.branch else "")
    note = dynamic_note(snapshot)
    say(
        f"stored {len(snapshot.muted)} muted tests of {label}{commit} in {parse_url(url).display()}"
        + (f"; {note}" if note else "")
    )
