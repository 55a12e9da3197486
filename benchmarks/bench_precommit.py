"""pre-commit speed (issue 14): `grabber check --files` on the 20 test files a commit stages.

Builds a small synthetic repository with synth.py (200 files, 1.2 MB; the same generator as
the scanner benchmark), picks its 20 largest test files (muted ones first, so the rules have
work to do), and measures in the same run, interleaved, the median wall time of:

- baseline: `python3 -m xfail_grabber --version` (the interpreter and the CLI's imports);
- `grabber check --files <20 files>`, cold: a fresh empty --cache-dir each run;
- the same, warm: a cache dir the first run filled (pre-commit's usual case: a file committed
  unchanged since the last run is not parsed again).

Target: under 1 s for the cold run. Exit code 1 with --check when it is missed.

    python3 benchmarks/bench_precommit.py [--repeat 5] [--check]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import synth
from hostinfo import cpu_model

TARGET_S = 1.0
FILES = 20


def timed(argv: list[str], cwd: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds: user + system of the child and its children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 3):
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(argv)}\n{proc.stderr.decode()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="grabber-precommit-"))
    try:
        repo = work / "repo"
        synth.build(repo, files=200, target_mb=1.2)
        tests = sorted(
            (p for p in repo.rglob("test_*.py")),
            key=lambda p: (b"mark." not in p.read_bytes(), -p.stat().st_size),
        )[:FILES]
        names = [str(p.relative_to(repo)) for p in tests]
        size = sum(p.stat().st_size for p in tests)
        warm = work / "warm"
        check = [sys.executable, "-m", "xfail_grabber", "check", "--files", *names]
        timed([*check, "--cache-dir", str(warm)], repo)  # fills the warm cache
        rows: dict[str, list[tuple[float, float]]] = {"baseline": [], "cold": [], "warm": []}
        for index in range(args.repeat):
            cold = work / f"cold{index}"
            version = [sys.executable, "-m", "xfail_grabber", "--version"]
            rows["baseline"].append(timed(version, repo))
            rows["cold"].append(timed([*check, "--cache-dir", str(cold)], repo))
            rows["warm"].append(timed([*check, "--cache-dir", str(warm)], repo))
        base = statistics.median(t[0] for t in rows["baseline"])
        load = os.getloadavg()[0]
        print(f"machine: {cpu_model()}, {os.cpu_count()} cores, load {load:.1f}")
        print(f"{FILES} test files, {size / 1024:.0f} KiB")
        print(f"{'run':<10} {'wall s':>8} {'cpu s':>7} {'wall x baseline':>16}")
        for name, times in rows.items():
            wall = statistics.median(t[0] for t in times)
            cpu = statistics.median(t[1] for t in times)
            print(f"{name:<10} {wall:>8.3f} {cpu:>7.3f} {wall / base:>16.2f}")
        cold_s = statistics.median(t[0] for t in rows["cold"])
        verdict = "met" if cold_s < TARGET_S else "MISSED"
        print(f"target: cold wall time under {TARGET_S:.1f} s: {verdict}")
        return 1 if args.check and cold_s >= TARGET_S else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
