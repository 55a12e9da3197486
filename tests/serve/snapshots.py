"""Hand-built snapshots for the server tests and the benchmark (no scanner needed)."""

from __future__ import annotations

from datetime import UTC, datetime

from xfail_grabber.model import MutedTest, ScanError, Snapshot

SCANNED_AT = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
XSS = "<script>alert(1)</script>"


def record(
    path: str, test: str, line: int, kind: str = "xfail", category: str = "muted", **extra: object
) -> MutedTest:
    marker = extra.pop("marker", kind)
    return MutedTest(
        nodeid=f"{path}::{test}",
        mark_line=line - 1,
        kind=kind,
        marker=str(marker),
        path=path,
        test=test,
        line=line,
        scope="function",
        category=category,
        **extra,
    )  # type: ignore[arg-type]


def small_snapshot(**changes: object) -> Snapshot:
    records = (
        record(
            "tests/api/test_users.py",
            "test_create",
            10,
            "xfailflake",
            ticket="DCOS-123",
            reason="flaky on CI",
            since="2019-01-15",
        ),
        record(
            "tests/api/test_users.py",
            "test_delete",
            30,
            "skip",
            reason=XSS,
            ticket="https://issues.example.com/browse/OPS-7",
        ),
        record(
            "tests/api/test_users.py",
            "TestAdmin::test_grant",
            52,
            "skipif",
            category="conditional",
            condition="sys.platform == 'win32'",
            reason="windows",
            marker="skipif",
        ),
        record(
            "tests/ui/test_login.py",
            "test_login[chrome]",
            8,
            "flaky",
            category="retry",
            ticket="javascript:alert(2)",
            since="2026-11-01",
        ),
        record(
            "tests/ui/test_login.py",
            "test_logout",
            20,
            "xfail",
            reason="bug",
            ticket="UI-9",
            since="2024-06-30",
        ),
    )
    values: dict[str, object] = {
        "repo": "https://github.com/example/project",
        "branch": "main",
        "commit": "0123456789abcdef0123456789abcdef01234567",
        "committed_at": datetime(2026, 11, 19, 12, 0, tzinfo=UTC),
        "scanned_at": SCANNED_AT,
        "markers": ("xfail", "skip", "skipif", "flaky", "xfailflake"),
        "muted": tuple(sorted(records, key=MutedTest.sort_key)),
        "errors": (ScanError("tests/broken_test.py", "SyntaxError: invalid syntax"),),
        "files_scanned": 42,
    }
    values.update(changes)
    return Snapshot(**values)  # type: ignore[arg-type]


def big_snapshot(size: int = 10_000) -> Snapshot:
    kinds = (
        ("xfail", "muted"),
        ("skip", "muted"),
        ("skipif", "conditional"),
        ("flaky", "retry"),
        ("xfailflake", "muted"),
    )
    records = []
    for i in range(size):
        kind, category = kinds[i % len(kinds)]
        records.append(
            record(
                f"tests/module_{i // 50:03d}/test_area_{i // 10:04d}.py",
                f"test_case_{i:05d}",
                10 + (i % 10) * 12,
                kind,
                category,
                ticket=f"PROJ-{i}" if i % 3 else None,
                reason=f"flaky because of reason number {i} on the CI machines",
                since=f"20{18 + i % 8}-0{1 + i % 9}-1{i % 10}",
            )
        )
    return small_snapshot(muted=tuple(sorted(records, key=MutedTest.sort_key)), errors=())
