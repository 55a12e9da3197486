"""Where a run's time goes: wall-clock seconds per phase and counts behind them (`-vv`).

The scan adds to one process-wide `TIMINGS`; the command line resets it at the start of a
run and prints `TIMINGS.report()` on stderr at the end with -vv. Parsing runs in worker
processes alongside reading: `parse` is the time the run itself spent handing files to the
parsers and waiting for their results, not the parsers' total CPU time.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

PHASES = ("resolve", "list", "cache", "read", "prefilter", "parse", "link", "render", "push")
COUNTS = ("listed", "cache hits", "read", "prefiltered out", "parsed")


class Timings:
    """Seconds per phase and counts, added up over every scan of the run."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.counts: dict[str, int] = {}

    def reset(self) -> None:
        self.seconds = {}
        self.counts = {}

    def add(self, phase: str, seconds: float) -> None:
        self.seconds[phase] = self.seconds.get(phase, 0.0) + seconds

    def count(self, name: str, number: int) -> None:
        self.counts[name] = self.counts.get(name, 0) + number

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - start)

    def timed(self, phase: str, count: str | None = None) -> Callable[[F], F]:
        """Charge every call of the decorated function to `phase` (and, with `count`, add the
        length of what it returns to that count)."""

        def decorate(func: F) -> F:
            @functools.wraps(func)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                start = time.perf_counter()
                try:
                    result = func(*args, **kwargs)
                finally:
                    self.add(phase, time.perf_counter() - start)
                if count is not None:
                    self.count(count, len(result))
                return result

            return wrapper  # type: ignore[return-value]

        return decorate

    def timed_iterator(self, phase: str, count: str | None = None) -> Callable[[F], F]:
        """`timed` for a function that returns an iterator (a generator): the time spent
        producing its items is charged, and their number counted."""

        def decorate(func: F) -> F:
            @functools.wraps(func)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                return self.iterate(func(*args, **kwargs), phase, count)

            return wrapper  # type: ignore[return-value]

        return decorate

    def iterate(self, items: Iterable[T], phase: str, count: str | None = None) -> Iterator[T]:
        """The items, the time spent producing each charged to `phase`, counted in `count`."""
        clock = time.perf_counter
        spent, number = 0.0, 0
        source = iter(items)
        try:
            while True:
                start = clock()
                try:
                    item = next(source)
                except StopIteration:
                    break
                finally:
                    spent += clock() - start
                number += 1
                yield item
        finally:
            self.add(phase, spent)
            if count is not None:
                self.count(count, number)

    def search(self, pattern: Any, phase: str, missed: str) -> Search:
        """`pattern` (a compiled regex) whose `search` is charged to `phase`; the texts it
        finds nothing in are counted in `missed`."""
        return Search(self, pattern, phase, missed)

    def report(self) -> str:
        """A few lines for stderr: phases in flow order (those that ran), then counts."""
        names = [p for p in PHASES if p in self.seconds]
        names += sorted(set(self.seconds) - set(PHASES))
        width = max((len(n) for n in names), default=0)
        lines = ["grabber: timings (wall clock):"]
        lines += [f"  {name:<{width}} {self.seconds[name]:9.3f} s" for name in names]
        if self.counts:
            counted = [*COUNTS, *sorted(set(self.counts) - set(COUNTS))]
            shown = ", ".join(f"{self.counts.get(c, 0)} {c}" for c in counted)
            lines.append(f"grabber: files: {shown}")
        return "\n".join(lines) + "\n"


class Search:
    """A prefilter pattern that keeps time (see `Timings.search`)."""

    def __init__(self, timings: Timings, pattern: Any, phase: str, missed: str) -> None:
        self.timings = timings
        self.pattern = pattern
        self.phase = phase
        self.missed = missed

    def search(self, data: Any) -> Any:
        start = time.perf_counter()
        found = self.pattern.search(data)
        self.timings.add(self.phase, time.perf_counter() - start)
        if not found:
            self.timings.count(self.missed, 1)
        return found


TIMINGS = Timings()
