"""Enrichment benchmark (issue 15): what `--blame` costs next to a cold scan.

Uses bench_repo's synthetic repository (2,500 test files, a year of weekly churn: 53 commits),
scans HEAD from git objects with an empty scan cache in a fresh process (the cold scan), then
blames every file that holds a muted test at that commit, one `git blame --porcelain` per file,
one per core at a time. Target: the
blame at most 1x the cold scan. It then blames again through the same per-blob cache (what a
history backfill does for files unchanged between two points) and checks the records are the
same. Each figure is the median of --repeat runs; ratios are against the cold scan measured
in the same run.

    python3 benchmarks/bench_blame.py [--files 2500] [--target-mb 15] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT)]
from bench_repo import base_repo, machine  # noqa: E402

from xfail_grabber.config import Settings  # noqa: E402
from xfail_grabber.core import snapshot_of  # noqa: E402
from xfail_grabber.enrich.apply import add_blame, where_of  # noqa: E402
from xfail_grabber.enrich.blame import BlameCache  # noqa: E402
from xfail_grabber.source.cache import open_scan_cache  # noqa: E402
from xfail_grabber.source.open import open_source  # noqa: E402

TARGET = 1.0


def child(repo: Path) -> dict[str, float | int]:
    """One measurement in a fresh process: a cold scan, a blame, a blame through the cache."""
    with tempfile.TemporaryDirectory() as scratch:
        cache_dir = Path(scratch)
        started = time.perf_counter()
        with (
            open_source(str(repo), "main", "HEAD", cache_dir=cache_dir) as checkout,
            open_scan_cache(cache_dir) as cache,
        ):
            snapshot = snapshot_of(checkout, Settings(), cache=cache)
            cold = time.perf_counter() - started
            where = where_of(checkout)
            blames = BlameCache()
            started = time.perf_counter()
            first = add_blame(snapshot, where, 30, blames)
            blame = time.perf_counter() - started
            runs = blames.runs
            started = time.perf_counter()
            second = add_blame(snapshot, where, 30, blames)
            again = time.perf_counter() - started
    assert second == first and blames.runs == runs
    return {
        "cold": cold,
        "blame": blame,
        "again": again,
        "files": runs,
        "records": len(first.muted),
        "dated": sum(1 for r in first.muted if r.first_seen is not None),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2500)
    parser.add_argument("--target-mb", type=float, default=15)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child)))
        return 0
    repo, _ = base_repo(HERE / ".work", args.files, args.target_mb)
    runs = []
    for _ in range(args.repeat):
        done = subprocess.run(
            [sys.executable, __file__, "--child", str(repo)],
            check=True,
            capture_output=True,
            text=True,
        )
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    c, b, a = (statistics.median(r[k] for r in runs) for k in ("cold", "blame", "again"))
    last = runs[-1]
    print(f"machine: {machine()}")
    print(f"repository: {args.files} test files, {last['records']} records")
    print(f"cold scan (fresh process): {c:7.2f} s")
    ratio = f"{b / c:5.2f}x cold (target <= {TARGET}x)"
    print(f"blame, {last['files']} files:        {b:7.2f} s   {ratio}")
    print(f"blame again, cached:       {a:7.3f} s   {a / c:5.3f}x cold")
    print(f"records dated: {last['dated']} of {last['records']}")
    return 0 if b / c <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
