"""`grabber history`: snapshots of a branch at past points, as JSONL or into a database."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TextIO

import click

from ..history import HistoryError, HistoryProgress, moments, scan_history
from ..model import Snapshot
from ..source.open import open_git
from ..timings import TIMINGS
from .common import ScanArgs, not_empty, ref_name, scan_options, stderr_is_tty, user_errors
from .fleet import FleetArgs, fleet_mode, fleet_options, run_fleet_command
from .process import write_stdout


@click.command("history")
@click.argument("repository", required=False, callback=not_empty)
@click.argument("branch", required=False, callback=ref_name)
@click.option(
    "--since",
    "since_text",
    required=True,
    metavar="DATE",
    help="First point (YYYY-MM-DD, midnight UTC, or an ISO date-time).",
)
@click.option("--until", "until_text", metavar="DATE", help="Last point at most (default: now).")
@click.option(
    "--every",
    default="week",
    show_default=True,
    metavar="day|week|month|Nd|Nw",
    help="Interval between points.",
)
@scan_options(with_ref=False)
@click.option(
    "--db",
    "db_url",
    metavar="URL",
    envvar="GRABBER_DATABASE_URL",
    help="Store the snapshots in this database (skipping stored points) instead of printing JSONL.",
)
@fleet_options
@click.option(
    "--progress/--no-progress",
    default=None,
    help="A progress bar on stderr (default: when stderr is a terminal).",
)
@user_errors
def history(
    repository: str | None,
    branch: str | None,
    since_text: str,
    until_text: str | None,
    every: str,
    scan: ScanArgs,
    db_url: str | None,
    fleet: FleetArgs,
    progress: bool | None,
) -> None:
    """Snapshots of BRANCH (default: the repository's HEAD) at past points in time.

    For each point the last first-parent commit at or before it is scanned (a commit is
    scanned once however many points it stands for). Prints one JSON snapshot per line, or
    stores them with --db; points already stored are skipped.

    \b
    Examples:
      grabber history . main --since 2024-01-01 --every week > history.jsonl
      grabber history https://github.com/org/repo --since 2023-01-01 --every month --db sqlite:///m.db
      grabber history --config fleet.toml --since 2024-01-01 --db "$URL"   # backfill a fleet

    With --config FILE listing [[repos]] and no REPOSITORY, every active branch of every
    repository is backfilled (see `grabber push --help` for --jobs and shards).
    """
    from ..sinks.formats import to_json_text

    settings = scan.settings()
    workers, cache_dir = scan.workers, scan.cache_dir
    try:
        wanted = moments(since_text, until_text, every)
    except HistoryError as exc:
        raise click.UsageError(str(exc)) from None  # bad option values: exit 2
    if fleet_mode(repository, scan, fleet):
        from ..fleet.actions import History

        if db_url:
            _database_url(db_url)
        run_fleet_command(
            scan, fleet, History(tuple(wanted), db_url), "written" if not db_url else "pushed"
        )
        return
    assert repository is not None
    with TIMINGS.phase("resolve"):
        repo = open_git(repository, cache_dir=cache_dir)
        label_branch = repo.resolve(branch).branch
    store: Callable[[str, Snapshot], None] | None = None
    skip: set[tuple[str, str]] = set()
    if db_url:
        store, skip = _database(db_url, repo.label, label_branch)
    if progress is None:
        progress = stderr_is_tty()
    bar = ProgressBar(sys.stderr) if progress else None
    found = scan_history(
        repo,
        branch,
        wanted,
        settings,
        workers=workers,
        cache_dir=cache_dir,
        skip=skip,
        progress=bar,
        enrichment=scan.enrichment(),
    )
    done = 0
    try:
        for _, snapshot in found:
            done += 1
            if store is not None and db_url:
                with TIMINGS.phase("push"):
                    store(db_url, snapshot)
            else:
                with TIMINGS.phase("render"):
                    write_stdout(to_json_text(snapshot.to_dict(), indent=None))
    except Exception as exc:
        error = _database_error(exc)
        if error is None:
            raise
        raise click.ClickException(error) from None
    finally:
        if bar is not None:
            bar.end()
        repo.close()
    if store is not None:
        click.echo(f"grabber: stored {done} snapshots in the database", err=True)


class ProgressBar:
    """One line on a terminal, redrawn after each point (carriage return, no scrolling)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.drawn = 0

    def __call__(self, state: HistoryProgress) -> None:
        line = progress_line(state)[: self.columns() - 1]
        self.stream.write("\r" + line + " " * max(self.drawn - len(line), 0))
        self.stream.flush()
        self.drawn = len(line)

    def columns(self) -> int:
        """The terminal's width (a line longer than it would wrap instead of redrawing)."""
        try:
            columns = os.get_terminal_size(self.stream.fileno()).columns
        except (OSError, ValueError, AttributeError):
            columns = 0
        return columns if columns >= 40 else 100  # 0: a terminal that does not say

    def end(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()


def progress_line(state: HistoryProgress, width: int = 20) -> str:
    """`history [#####-----] 26/52 points, 20 commits scanned, 1,234 files parsed, ETA 1:05`"""
    filled = width * state.done // max(state.points, 1)
    eta = state.eta()
    left = "--:--" if eta is None else _clock(eta)
    return (
        f"history [{'#' * filled}{'-' * (width - filled)}] {state.done}/{state.points} points, "
        f"{state.commits:,} commits scanned, {state.parsed:,} files parsed, ETA {left}"
    )


def _clock(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{rest:02d}" if hours else f"{minutes}:{rest:02d}"


def _database(
    url: str, repo: str, branch: str | None
) -> tuple[Callable[[str, Snapshot], None], set[tuple[str, str]]]:
    try:
        from ..sinks.db import store_snapshot, stored_keys
    except ImportError as exc:
        raise click.ClickException(f"--db needs the database support: {exc}") from None
    try:
        keys = stored_keys(url, repo, branch or "")
    except Exception as exc:
        error = _database_error(exc)
        if error is None:
            raise
        raise click.ClickException(error) from None
    return store_snapshot, keys


def _database_error(exc: Exception) -> str | None:
    try:
        from ..sinks.db import DatabaseError
    except ImportError:
        return None
    return str(exc) if isinstance(exc, DatabaseError) else None


def _database_url(url: str) -> None:
    """Create or migrate the tables once, before the fleet (an unreachable database: exit 1)."""
    from ..sinks.db import DatabaseError, upgrade

    try:
        upgrade(url)
    except DatabaseError as exc:
        raise click.ClickException(str(exc)) from None
