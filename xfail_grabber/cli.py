"""The `grabber` command group, assembled from the verbs in `commands/`.

stdout carries data only; diagnostics go to stderr. Exit codes: 0 ok, 1 a failure the user
must act on, 2 a usage error (3 is kept for "findings present" checks such as diff).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

import click

from .__about__ import __version__
from .commands.common import configure_logging, timings_wanted
from .commands.process import TERMINATED_EXIT, Terminated, command_process, describe, discard_stdout
from .timings import TIMINGS
from .visible import visible

__all__ = ["grabber", "main"]


# Every verb, in one list (a new verb is a module in commands/ and a line here). A verb's module
# is imported only when that verb runs (or --help lists them all): `grabber dump` does not pay
# for the server's, the policy's or the database's imports (a third of a second at start-up).
VERBS: tuple[str, ...] = (
    "dump",
    "push",
    "serve",
    "history",
    "diff",
    "db",
    "check",
    "crosscheck",
)


class Verbs(click.Group):
    """The group of VERBS, each loaded from `commands/<verb>.py` when it is asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(VERBS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in VERBS:
            return None
        module = importlib.import_module(f"{__package__}.commands.{cmd_name}")
        command = getattr(module, cmd_name)
        assert isinstance(command, click.Command)
        return command


@click.group(
    cls=Verbs, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}
)
@click.version_option(__version__, prog_name="grabber")
@click.option(
    "-v", "--verbose", count=True, help="More detail on stderr (-vv: debug and timings, -vvv: SQL)."
)
def grabber(verbose: int) -> None:
    """Find every muted test (xfail, skip, skipif, flaky, xfailflake, ...) in a repository.

    REPOSITORY is an https, ssh or file:// URL, or a local path (a work tree, a bare git
    directory or a plain directory). A token for private repositories is read from
    GITHUB_TOKEN (or GRABBER_GIT_TOKEN), never from the command line.
    """
    configure_logging(verbose)


def main(argv: Sequence[str] | None = None) -> int:
    """Run `grabber` with argv; return the exit code instead of exiting.

    With -vv, where the run's time went (phases and file counts) follows on stderr.
    """
    configure_logging(0)  # a previous run in this process may have left -vv on
    TIMINGS.reset()
    try:
        with command_process():
            return _run(argv)
    finally:
        if timings_wanted() and TIMINGS.seconds:
            sys.stderr.write(TIMINGS.report())
            sys.stderr.flush()


def _run(argv: Sequence[str] | None) -> int:
    try:
        result = grabber.main(
            args=list(argv) if argv is not None else None,
            prog_name="grabber",
            standalone_mode=False,
        )
    except click.exceptions.Abort:
        click.echo("Aborted!", err=True)
        return 1
    except Terminated:
        click.echo("grabber: terminated", err=True)
        return TERMINATED_EXIT
    except click.exceptions.NoArgsIsHelpError as exc:
        exc.show()  # `grabber` or `grabber db` alone: the help
        return exc.exit_code
    except click.UsageError as exc:
        # One line, as grabber's own usage errors are (a bad --format, a missing argument, an
        # option out of range), without click's usage text above it.
        click.echo(f"Error: {visible(exc.format_message())}", err=True)
        return exc.exit_code
    except click.ClickException as exc:
        # The message may quote a path or a URL from a repository.
        # Through vars(): click 8.5 declares `message` Final, 8.4 does not, and an ignore
        # comment would be needed by one and rejected as unused by the other.
        vars(exc)["message"] = visible(exc.message, keep="\n")
        exc.show()
        return exc.exit_code
    except BrokenPipeError:
        # `grabber dump ... | head`: the reader left; that is not our failure.
        discard_stdout()
        return 0
    except OSError as exc:
        # A file or directory we may not read (permissions), a disk that is full...
        click.echo(f"Error: {visible(describe(exc))}", err=True)
        return 1
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
