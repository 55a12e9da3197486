"""What machine a benchmark ran on (every benchmark prints it next to its figures)."""

from __future__ import annotations

import os
import platform
import threading
from pathlib import Path
from types import TracebackType

PAGE = os.sysconf("SC_PAGE_SIZE")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def tree_rss(root: int) -> int:
    """Sum of VmRSS over `root` and its descendants (via /proc/<pid>/task/<tid>/children).

    A child between vfork and exec (Python starts git that way) shares its parent's memory
    and shows the same resident size and command line: it is not counted a second time.
    """
    total, stack, seen = 0, [(root, None)], set()
    while stack:
        pid, parent = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            with open(f"/proc/{pid}/statm", "rb") as handle:
                rss = int(handle.read().split()[1]) * PAGE
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                command = handle.read()
            if parent is not None and (rss, command) == parent:
                continue  # vforked, not yet exec'd
            total += rss
            for tid in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{tid}/children", "rb") as handle:
                    stack.extend((int(child), (rss, command)) for child in handle.read().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue  # the process ended between two reads
    return total


class PeakRss:
    """The largest `tree_rss(pid)` seen while the block runs, sampled every 20 ms.

    Pages shared between a parent and its forked workers count once per process, so the
    figure errs high.
    """

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, tree_rss(self.pid))
            self._done.wait(0.02)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._done.set()
        self._thread.join()
