"""`first_seen` and `age_days` from git blame: the commit that last wrote each mark's line.

One `git blame --porcelain` per file at the scanned commit gives every line at once; git
follows the file through renames by itself. Results are kept per (path, blob id): a file
whose content did not change between two history points blames the same, so backfill
reuses them.
"""

from __future__ import annotations

import logging
import os
import subprocess
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

log = logging.getLogger("xfail_grabber")

BLAME_TIMEOUT = 120.0  # seconds for one file
UNCOMMITTED = "0" * 40


@dataclass(frozen=True)
class Origin:
    """Where a line came from: the commit, its author's date (UTC) and name."""

    commit: str
    date: datetime
    author: str

    def to_dict(self) -> dict[str, str]:
        return {
            "commit": self.commit,
            "date": self.date.isoformat().replace("+00:00", "Z"),
            "author": self.author,
        }


Lines = Mapping[int, Origin]  # 1-based line number -> origin


def parse_porcelain(out: bytes) -> dict[int, Origin]:
    """Lines of `git blame --porcelain` output -> {final line number: Origin}."""
    result: dict[int, Origin] = {}
    commits: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    line_no = 0
    sha = ""
    for raw in out.split(b"\n"):
        if raw.startswith(b"\t"):
            info = commits[sha]
            if sha != UNCOMMITTED:
                moment = datetime.fromtimestamp(int(info.get("author-time", "0")), UTC)
                result[line_no] = Origin(sha, moment, info.get("author", ""))
            current = None
            continue
        text = raw.decode("utf-8", "replace")
        if current is None:
            parts = text.split(" ")
            if len(parts) >= 3 and len(parts[0]) in (40, 64):
                sha, line_no = parts[0], int(parts[2])
                current = commits.setdefault(sha, {})
            continue
        key, _, value = text.partition(" ")
        current[key] = value
    return result


def blame_file(
    git_dir: Path, commit: str | None, path: str, env: Mapping[str, str] | None = None
) -> dict[int, Origin]:
    """Every line of `path` at `commit` (None: the work tree of `git_dir`'s repository)."""
    command = ["git", "--git-dir", str(git_dir)]
    if commit is None:
        command += ["--work-tree", str(git_dir.parent)]
    command += ["-c", "protocol.allow=never", "blame", "--porcelain", "-w"]
    command += [commit, "--", path] if commit else ["--", path]
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            timeout=BLAME_TIMEOUT,
            env={**os.environ, **(env or {}), "GIT_TERMINAL_PROMPT": "0"},
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.info("git blame %s: %s", path, type(exc).__name__)
        return {}
    if done.returncode != 0:
        first = done.stderr.decode("utf-8", "replace").strip().splitlines()[:1]
        log.info("git blame %s: %s", path, first[0] if first else f"exit {done.returncode}")
        return {}
    return parse_porcelain(done.stdout)


class BlameCache:
    """Blame results per (path, blob id), in memory for one process (history backfill);
    safe to use from several threads."""

    def __init__(self, limit: int = 4096) -> None:
        self._lines: dict[tuple[str, str], dict[int, Origin]] = {}
        self._limit = limit
        self._lock = threading.Lock()
        self.runs = 0

    def __contains__(self, key: tuple[str, str]) -> bool:
        """(path, blob id) already blamed."""
        with self._lock:
            return bool(key[1]) and key in self._lines

    def lines(
        self, path: str, blob: str | None, run: Callable[[str], dict[int, Origin]]
    ) -> dict[int, Origin]:
        key = (path, blob or "")
        with self._lock:
            found = self._lines.get(key) if blob else None
            if found is None:
                self.runs += 1
        if found is not None:
            return found
        found = run(path)
        if blob:
            with self._lock:
                if len(self._lines) >= self._limit:
                    self._lines.pop(next(iter(self._lines)))
                self._lines[key] = found
        return found


def age_days(origin: Origin, today: date) -> int:
    return max(0, (today - origin.date.date()).days)


def since_mismatch(since: str | None, origin: Origin, tolerance_days: int) -> bool | None:
    """True when the declared `since` date is more than `tolerance_days` away from when the
    mark really appeared; None when `since` is missing or not a date."""
    if not since or len(since) < 10:
        return None
    try:
        declared = date.fromisoformat(since[:10])
    except ValueError:
        return None
    return abs((origin.date.date() - declared).days) > tolerance_days
