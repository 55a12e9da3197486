"""Hand-built records and snapshots for the format tests (no scanner needed)."""

from __future__ import annotations

from datetime import UTC, datetime

from xfail_grabber.model import MutedTest, Snapshot

SCANNED_AT = datetime(2026, 11, 29, tzinfo=UTC)


def muted(
    test: str, *, line: int, kind: str = "xfail", path: str = "tests/test_x.py", **changes: object
) -> MutedTest:
    """A `muted` record of `test` in `path`, marked on the line above its def (unless
    `mark_line` says otherwise); `changes` sets any other field."""
    values: dict[str, object] = {
        "nodeid": f"{path}::{test}",
        "path": path,
        "test": test,
        "line": line,
        "mark_line": line - 1,
        "kind": kind,
        "marker": kind,
        "scope": "function",
        "category": "muted",
        **changes,
    }
    return MutedTest(**values)  # type: ignore[arg-type]


def snapshot_of(
    *records: MutedTest, markers: tuple[str, ...] = ("xfail",), **changes: object
) -> Snapshot:
    """A snapshot of these records, of one fixed repository, branch, commit and time."""
    values: dict[str, object] = {
        "repo": "https://github.com/org/repo",
        "branch": "main",
        "commit": "c" * 40,
        "committed_at": None,
        "scanned_at": SCANNED_AT,
        "markers": markers,
        "muted": records,
        **changes,
    }
    return Snapshot(**values)  # type: ignore[arg-type]
