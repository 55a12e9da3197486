"""`--config fleet.toml` on dump, push and history: the options and the run (see fleet/)."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import click

from .common import ScanArgs, say, usage_error

if TYPE_CHECKING:
    from ..fleet.run import Action

# The fleet package (planning, git ls-remote, the clone cache) is imported by a fleet run only:
# a single-repository dump does not pay for it at start-up.

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class FleetArgs:
    jobs: int | None
    shard: str | None
    shards: int | None

    def given(self) -> bool:
        return self.jobs is not None or self.shard is not None or self.shards is not None


def fleet_options(func: F) -> F:
    """--jobs, --shard, --shards, handed over as `fleet: FleetArgs`."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        fleet = FleetArgs(kwargs.pop("jobs"), kwargs.pop("shard"), kwargs.pop("shards"))
        return func(*args, fleet=fleet, **kwargs)

    options = [
        click.option(
            "--jobs",
            type=click.IntRange(min=1, max=256),
            metavar="N",
            help="Fleet: repositories at once (default: two per core).",
        ),
        click.option(
            "--shard",
            metavar="INDEX/COUNT",
            help="Fleet: take only this share of the (repository, branch) pairs, INDEX from 0.",
        ),
        click.option(
            "--shards",
            type=click.IntRange(min=1, max=10_000),
            metavar="COUNT",
            help="Fleet: the shard count when the index comes from JOB_COMPLETION_INDEX.",
        ),
    ]
    decorated: Any = wrapper
    for option in reversed(options):
        decorated = option(decorated)
    return decorated  # type: ignore[no-any-return]


def fleet_mode(repository: str | None, scan: ScanArgs, fleet: FleetArgs) -> bool:
    """True for a fleet run (no REPOSITORY, a --config that lists repositories); a usage
    error for a mix that means nothing."""
    if repository is not None:
        if fleet.given():
            raise usage_error("--jobs, --shard and --shards go with --config FILE, not REPOSITORY")
        return False
    from ..fleet import is_fleet_file

    if scan.config_file is None or not is_fleet_file(scan.config_file):
        if scan.config_file is not None and scan.config_file.is_file():
            raise usage_error(
                f"missing REPOSITORY ({scan.config_file} lists no repositories: add [[repos]])"
            )
        raise usage_error("missing REPOSITORY (or --config FILE listing [[repos]])")
    if scan.ref is not None:
        raise usage_error("--ref names one commit of one repository: not with a fleet")
    return True


def run_fleet_command(scan: ScanArgs, fleet: FleetArgs, action: Action, verb: str) -> None:
    """Run `action` over the fleet of --config; the summary on stderr; exit 1 on failures."""
    from ..enrich.settings import tracker_note
    from ..fleet import Fleet, FleetFileError, ShardError, choose_shard, load_fleet, run_fleet
    from ..source.clones import default_cache_dir

    assert scan.config_file is not None
    try:
        loaded: Fleet = load_fleet(scan.config_file)
        shard = choose_shard(fleet.shard, fleet.shards, loaded.shards)
    except (FleetFileError, ShardError) as exc:
        raise usage_error(str(exc)) from None
    base = scan.settings()
    cache_dir = scan.cache_dir or default_cache_dir()
    note = tracker_note(
        *(loaded.enrichment_for(repo, scan.blame, scan.tickets) for repo in loaded.repos)
    )
    if note is not None:
        say(note)
    summary = run_fleet(
        loaded,
        lambda repo: loaded.settings_for(repo, base, scan.markers, scan.only),
        action,
        jobs=fleet.jobs,
        shard=shard,
        cache_dir=scan.cache_dir,
        workers=scan.workers,
        progress=sys.stderr.isatty(),
        enrichment_for=lambda repo: loaded.enrichment_for(
            repo, scan.blame, scan.tickets, cache_dir
        ),
    )
    say(summary.text(verb, shard))
    for failure in summary.failures:
        click.echo(f"  failed: {failure}", err=True)
    if summary.failures:
        click.get_current_context().exit(1)
