"""`grabber dump`: scan a repository and print its snapshot in one of the formats."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from ..timings import TIMINGS
from .common import (
    ScanArgs,
    not_empty,
    output_option,
    ref_name,
    scan_options,
    usage_error,
    user_errors,
    write_output,
)
from .fleet import FleetArgs, fleet_mode, fleet_options, run_fleet_command

log = logging.getLogger("xfail_grabber")


@click.command()
@click.argument("repository", required=False, callback=not_empty)
@click.argument("branch", required=False, callback=ref_name)
@scan_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "jsonl", "csv", "markdown", "redash"]),
    default="json",
    show_default=True,
    help="Output format.",
)
@output_option
@fleet_options
@user_errors
def dump(
    repository: str | None,
    branch: str | None,
    scan: ScanArgs,
    fmt: str,
    output: Path | None,
    fleet: FleetArgs,
) -> None:
    """Scan REPOSITORY at BRANCH and print its muted tests.

    Without BRANCH a local work tree is scanned as it is on disk; a URL or bare repository
    is scanned at its default branch.

    \b
    Examples:
      grabber dump .                          # this work tree, as JSON
      grabber dump . main --format markdown   # a summary for $GITHUB_STEP_SUMMARY
      grabber dump https://github.com/org/repo main --only xfailflake
      grabber dump --config fleet.toml > snapshots.jsonl   # every repository and branch

    With --config FILE listing [[repos]] and no REPOSITORY, every active branch of every
    repository is scanned: one JSON snapshot per line.
    """
    from ..sinks.formats import RENDERERS, summary

    if fleet_mode(repository, scan, fleet):
        if fmt != "json" or output is not None:
            raise usage_error("a fleet dump prints one JSON snapshot per line on stdout")
        from ..fleet.actions import Dump

        run_fleet_command(scan, fleet, Dump(), "written")
        return
    assert repository is not None
    snapshot = scan.snapshot(repository, branch)
    for error in snapshot.errors:
        log.info("could not scan %s: %s", error.path, error.error)
    log.info("%s", summary(snapshot))
    with TIMINGS.phase("render"):
        write_output(RENDERERS[fmt](snapshot), output)
