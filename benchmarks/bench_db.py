"""Database benchmark (issue 4): `store_snapshot` of a 50,000-record snapshot against a plain
bulk load of the same rows, on PostgreSQL and SQLite, in the same run.

For each database, interleaved, `--repeat` times (the median is reported):

- grabber: `store_snapshot(url, snapshot)` end to end: connect, schema check, lock, delete of
  the key, converting the records, bulk insert (COPY on PostgreSQL, executemany on SQLite,
  multi-row INSERTs for the Redshift dialect), commit. Each run stores a new key (commit).
- plain COPY (PostgreSQL) and plain `execute_values` (PostgreSQL) / `executemany` (SQLite):
  the same rows, already built as tuples (their building is not timed), into a table of the
  same shape (columns and the index on snapshot_id), in one transaction on an open
  connection. For information, also a plain COPY into a table without the index.

The ratio is grabber's time over the faster plain load's (target: 2 or less). PostgreSQL is
a throwaway database on the local server (dropped at the end); SQLite is a temp file.

    python3 benchmarks/bench_db.py [--records 50000] [--repeat 5] [--check]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from hostinfo import cpu_model  # noqa: E402

from xfail_grabber.model import MutedTest, Snapshot  # noqa: E402
from xfail_grabber.sinks.db import store_snapshot, upgrade  # noqa: E402

ADMIN_URL = os.environ.get(
    "GRABBER_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
KINDS = ("xfail", "skip", "skipif", "xfailflake", "flaky")


def build_snapshot(n: int) -> Snapshot:
    records = []
    for i in range(n):
        kind = KINDS[i % len(KINDS)]
        records.append(
            MutedTest(
                nodeid=f"tests/pkg{i % 97}/test_mod{i % 1013}.py::TestClass{i % 7}::test_case_{i}",
                mark_line=10 + i % 500,
                kind=kind,
                marker=kind,
                path=f"tests/pkg{i % 97}/test_mod{i % 1013}.py",
                test=f"TestClass{i % 7}::test_case_{i}",
                line=11 + i % 500,
                scope="function",
                category="conditional" if kind == "skipif" else "muted",
                ticket=f"DCOS-{10000 + i}" if i % 3 else None,
                reason=f"flaky on CI since the {i % 28}th, see https://jira.example.com/DCOS-{i}",
                since="2019-01-15" if i % 2 else None,
                strict=bool(i % 2) if i % 4 == 0 else None,
                condition="sys.platform == 'win32'" if kind == "skipif" else None,
                kwargs=(("jira", f"DCOS-{i}"),) if kind == "xfailflake" else (),
            )
        )
    return Snapshot(
        repo="https://github.com/org/big-repo",
        branch="main",
        commit="0" * 40,
        committed_at=datetime(2026, 11, 1, tzinfo=UTC),
        scanned_at=datetime(2026, 11, 22, 4, tzinfo=UTC),
        markers=("xfailflake",),
        muted=tuple(records),
        files_scanned=5000,
    )


def plain_rows(snapshot: Snapshot) -> list[tuple[Any, ...]]:
    return [
        (
            "plain",
            i,
            r.nodeid,
            r.path,
            r.test,
            r.line,
            r.mark_line,
            r.kind,
            r.marker,
            r.scope,
            r.category,
            r.ticket,
            r.reason,
            r.since,
            r.strict,
            r.condition,
            json.dumps(dict(r.kwargs)) if r.kwargs else None,
            r.parser,
        )
        for i, r in enumerate(snapshot.muted)
    ]


def copy_text(rows: list[tuple[Any, ...]]) -> io.StringIO:
    def field(value: Any) -> str:
        if value is None:
            return "\\N"
        text = str(value)
        return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")

    return io.StringIO("".join("\t".join(map(field, row)) + "\n" for row in rows))


def timed(action: Callable[[], None]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def bench(cases: dict[str, Callable[[int], None]], repeat: int) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in cases}
    for run in range(repeat):
        for name, case in cases.items():  # interleaved, so drift hits every case alike
            times[name].append(timed(lambda case=case, run=run: case(run)))  # type: ignore[misc]
    return {name: statistics.median(values) for name, values in times.items()}


def postgres_cases(
    snapshot: Snapshot, rows: list[tuple[Any, ...]], dbname: str
) -> tuple[dict[str, Callable[[int], None]], Callable[[], None]]:
    import psycopg2
    from psycopg2.extras import execute_values

    base = ADMIN_URL.rsplit("/", 1)[0] + "/" + dbname
    pg_url = base + "?schema=bench"
    rs_url = base.replace("postgresql://", "redshift://", 1) + "?schema=bench_rs&sslmode=disable"
    upgrade(pg_url)
    upgrade(rs_url)
    conn = psycopg2.connect(base)
    with conn.cursor() as cur:
        # The same table as grabber's, its index included, and one without the index.
        cur.execute("CREATE TABLE plain (LIKE bench.muted_tests INCLUDING ALL)")
        cur.execute("CREATE TABLE bare (LIKE bench.muted_tests)")
    conn.commit()
    # `plain` has the columns of muted_tests, in the same order as the tuples of plain_rows.

    def plain_copy(_: int) -> None:
        with conn.cursor() as cur:
            cur.copy_expert("COPY plain FROM STDIN", copy_text(rows), size=1 << 20)
        conn.commit()

    def bare_copy(_: int) -> None:
        with conn.cursor() as cur:
            cur.copy_expert("COPY bare FROM STDIN", copy_text(rows), size=1 << 20)
        conn.commit()

    def plain_values(_: int) -> None:
        with conn.cursor() as cur:
            execute_values(cur, "INSERT INTO plain VALUES %s", rows, page_size=1000)
        conn.commit()

    cases = {
        "grabber push (postgresql, COPY)": lambda run: store_snapshot(
            pg_url, replace(snapshot, commit=f"{run:040d}")
        ),
        "grabber push (redshift dialect, multi-row INSERT)": lambda run: store_snapshot(
            rs_url, replace(snapshot, commit=f"{run:040d}")
        ),
        "plain COPY": plain_copy,
        "plain execute_values": plain_values,
        "(plain COPY into a table without the index)": bare_copy,
    }
    return cases, conn.close


def sqlite_cases(
    snapshot: Snapshot, rows: list[tuple[Any, ...]], directory: Path
) -> tuple[dict[str, Callable[[int], None]], Callable[[], None]]:
    import sqlite3

    path = directory / "bench.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE TABLE plain AS SELECT * FROM muted_tests WHERE 0")
    conn.execute('CREATE INDEX plain_snapshot ON plain ("snapshot_id")')  # as grabber's table
    marks = ", ".join("?" * len(rows[0]))

    def plain_executemany(_: int) -> None:
        conn.execute("BEGIN")
        conn.executemany(f"INSERT INTO plain VALUES ({marks})", rows)
        conn.execute("COMMIT")

    cases = {
        "grabber push (sqlite, executemany)": lambda run: store_snapshot(
            url, replace(snapshot, commit=f"{run:040d}")
        ),
        "plain executemany": plain_executemany,
    }
    return cases, conn.close


def report(title: str, results: dict[str, float], n: int, baselines: list[str]) -> float:
    fastest = min(results[b] for b in baselines)
    print(f"\n{title} ({n:,} records)\n")
    print("| load | seconds | rows/s | ratio to the fastest plain load |")
    print("| --- | ---: | ---: | ---: |")
    for name, seconds in results.items():
        print(f"| {name} | {seconds:.3f} | {n / seconds:,.0f} | {seconds / fastest:.2f} |")
    grabber = next(s for name, s in results.items() if name.startswith("grabber push ("))
    return grabber / fastest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--check", action="store_true", help="exit 1 when a ratio is over 2")
    args = parser.parse_args()

    import psycopg2

    snapshot = build_snapshot(args.records)
    rows = plain_rows(snapshot)
    print(
        f"machine: {os.cpu_count()} cpus, {cpu_model()}, Python {platform.python_version()}, "
        f"psycopg2 {psycopg2.__version__.split()[0]}"
    )
    ratios = []
    dbname = "xg_bench_" + uuid.uuid4().hex[:10]
    admin = psycopg2.connect(ADMIN_URL)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{dbname}"')
    try:
        cases, close = postgres_cases(snapshot, rows, dbname)
        try:
            results = bench(cases, args.repeat)
        finally:
            close()
        ratios.append(
            report("PostgreSQL", results, args.records, ["plain COPY", "plain execute_values"])
        )
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        admin.close()
    with tempfile.TemporaryDirectory() as tmp:
        cases, close = sqlite_cases(snapshot, rows, Path(tmp))
        try:
            results = bench(cases, args.repeat)
        finally:
            close()
        ratios.append(report("SQLite", results, args.records, ["plain executemany"]))
    print(f"\nratios (grabber / fastest plain): PostgreSQL {ratios[0]:.2f}, SQLite {ratios[1]:.2f}")
    return 1 if args.check and max(ratios) > 2 else 0


if __name__ == "__main__":
    sys.exit(main())
