"""The fleet: many repositories and their active branches in one run (`--config fleet.toml`).

file.py reads and validates the fleet file, plan.py picks the (repository, branch) pairs and a
shard's share of them, run.py runs an action (actions.py: push, dump, history) over them.
"""

from .file import Fleet, FleetFileError, RepoSpec, is_fleet_file, load_fleet
from .plan import Shard, ShardError, choose_shard, parse_shard, shard_of
from .run import Failure, Summary, default_jobs, run_fleet

__all__ = [
    "Failure",
    "Fleet",
    "FleetFileError",
    "RepoSpec",
    "Shard",
    "ShardError",
    "Summary",
    "choose_shard",
    "default_jobs",
    "is_fleet_file",
    "load_fleet",
    "parse_shard",
    "run_fleet",
    "shard_of",
]
