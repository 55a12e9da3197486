"""What a fleet run does with each branch: push, dump or history (see run.Action)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..config import Settings
from ..sinks.formats import to_json_text
from ..source.open import GitRepository
from .run import Emit, Task, snapshot_branch


@dataclass(frozen=True)
class Push:
    """Scan the branch and store the snapshot (one transaction; replaces the same day's)."""

    db_url: str

    def __call__(
        self, repo: GitRepository, branch: str, settings: Settings, task: Task, emit: Emit
    ) -> int:
        from ..sinks.db import store_snapshot

        store_snapshot(self.db_url, snapshot_branch(repo, branch, settings, task))
        return 1


@dataclass(frozen=True)
class Dump:
    """Scan the branch and write the snapshot as one JSON line."""

    def __call__(
        self, repo: GitRepository, branch: str, settings: Settings, task: Task, emit: Emit
    ) -> int:
        snapshot = snapshot_branch(repo, branch, settings, task)
        emit(to_json_text(snapshot.to_dict(), indent=None))
        return 1


@dataclass(frozen=True)
class History:
    """Snapshots of the branch at past points: stored (points already stored are skipped),
    or written as JSON lines when there is no database."""

    moments: tuple[datetime, ...]
    db_url: str | None = None

    def __call__(
        self, repo: GitRepository, branch: str, settings: Settings, task: Task, emit: Emit
    ) -> int:
        from ..history import scan_history

        skip: set[tuple[str, str]] = set()
        if self.db_url:
            from ..sinks.db import store_snapshot, stored_keys

            skip = stored_keys(self.db_url, repo.label, branch)
        count = 0
        for _point, snapshot in scan_history(
            repo,
            branch,
            list(self.moments),
            settings,
            workers=task.workers,
            cache_dir=task.cache_dir,
            skip=skip,
            enrichment=task.enrichment,
        ):
            if self.db_url:
                store_snapshot(self.db_url, snapshot)
            else:
                emit(to_json_text(snapshot.to_dict(), indent=None))
            count += 1
        return count
