"""The `grabber` command: parse options, call the core, render, map errors to exit codes.

stdout carries data only; diagnostics go to stderr. Exit codes: 0 ok, 1 a failure the user
must act on, 2 a usage error (3 is kept for "findings present" checks such as diff).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from .__about__ import __version__
from .options import (
    ScanArgs,
    configure_logging,
    output_option,
    scan_options,
    settings_from,
    user_errors,
    write_output,
)

# Command modules used to import these from here.
__all__ = ["grabber", "main", "scan_options", "settings_from", "user_errors", "write_output"]

log = logging.getLogger("xfail_grabber")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="grabber")
@click.option("-v", "--verbose", count=True, help="More detail on stderr (-vv for debug).")
def grabber(verbose: int) -> None:
    """Find every muted test (xfail, skip, skipif, flaky, xfailflake, ...) in a repository.

    REPOSITORY is an https, ssh or file:// URL, or a local path (a work tree, a bare git
    directory or a plain directory). A token for private repositories is read from
    GITHUB_TOKEN (or GRABBER_GIT_TOKEN), never from the command line.
    """
    configure_logging(verbose)


@grabber.command()
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
    from .sinks.formats import RENDERERS

    snapshot = scan.snapshot(repository, branch)
    for error in snapshot.errors:
        log.info("could not scan %s: %s", error.path, error.error)
    write_output(RENDERERS[fmt](snapshot), output)


from .sinks.serve.command import serve_command  # noqa: E402

grabber.add_command(serve_command())

from .sinks.db import commands as db_commands  # noqa: E402

grabber.add_command(db_commands.push)
grabber.add_command(db_commands.db)

from .history import history_command  # noqa: E402

grabber.add_command(history_command())

from .diff import diff_command  # noqa: E402

grabber.add_command(diff_command())

from .commands.check import check  # noqa: E402

grabber.add_command(check)


def main(argv: Sequence[str] | None = None) -> int:
    """Run `grabber` with argv; return the exit code instead of exiting."""
    try:
        result = grabber.main(
            args=list(argv) if argv is not None else None,
            prog_name="grabber",
            standalone_mode=False,
        )
    except click.exceptions.Abort:
        click.echo("Aborted!", err=True)
        return 1
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except BrokenPipeError:
        # `grabber dump ... | head`: the reader left; that is not our failure.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
