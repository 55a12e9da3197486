"""`grabber dump`: scan a repository and print its snapshot in one of the formats."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from ..timings import TIMINGS
from .common import ScanArgs, output_option, scan_options, user_errors, write_output

log = logging.getLogger("xfail_grabber")


@click.command()
@click.argument("repository")
@click.argument("branch", required=False)
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
@user_errors
def dump(
    repository: str, branch: str | None, scan: ScanArgs, fmt: str, output: Path | None
) -> None:
    """Scan REPOSITORY at BRANCH and print its muted tests.

    Without BRANCH a local work tree is scanned as it is on disk; a URL or bare repository
    is scanned at its default branch.

    \b
    Examples:
      grabber dump .                          # this work tree, as JSON
      grabber dump . main --format markdown   # a summary for $GITHUB_STEP_SUMMARY
      grabber dump https://github.com/org/repo main --only xfailflake
    """
    from ..sinks.formats import RENDERERS

    snapshot = scan.snapshot(repository, branch)
    for error in snapshot.errors:
        log.info("could not scan %s: %s", error.path, error.error)
    with TIMINGS.phase("render"):
        write_output(RENDERERS[fmt](snapshot), output)
