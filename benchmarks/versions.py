"""Two versions of grabber on the scanner benchmark's repository: did a change make it slower?

    python3 benchmarks/versions.py BEFORE_REV [AFTER_REV] [--repeat 5]

Each git revision of this repository (AFTER_REV: the work tree as it is when left out) is
exported to a temporary directory; then `grabber dump` of the synthetic repository (built by
run.py's generator when missing) runs from each, interleaved and alternating which goes first:
cold from a work tree and from git objects (a fresh `--cache-dir` each), and warm from git
objects (one cache kept per version). Wall clock and CPU (user + sys of the reaped children)
are reported as medians with after/before ratios; on a busy machine read the CPU columns.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from run import ensure_repo  # noqa: E402


def export(rev: str | None, into: Path) -> Path:
    """The package at `rev` (None: the work tree) in a directory to put on PYTHONPATH."""
    if rev is None:
        return ROOT
    into.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "xfail_grabber"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def timed(tree: Path, args: list[str], cwd: Path) -> tuple[float, float]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    env.pop("GRABBER_CACHE_DIR", None)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    command = [sys.executable, "-m", "xfail_grabber", "dump", *args]
    subprocess.run(command, env=env, check=True, cwd=cwd, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before")
    parser.add_argument("after", nargs="?")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--work-dir", type=Path, default=HERE / ".work")
    args = parser.parse_args(argv)
    repo = Path(str(ensure_repo(args.work_dir, 2500, 1, 15.0)["path"]))
    if not repo.is_absolute() or not repo.exists():
        repo = args.work_dir / "synth-s1-f2500-mb15" / "repo"
    scratch = Path(tempfile.mkdtemp(prefix="grabber-versions-"))
    trees = {
        "before": export(args.before, scratch / "before"),
        "after": export(args.after, scratch / "after"),
    }
    out = str(scratch / "out.json")

    def fresh(_: str) -> list[str]:
        return ["--cache-dir", tempfile.mkdtemp(dir=scratch), "-o", out]

    def kept(name: str) -> list[str]:
        return ["--cache-dir", str(scratch / f"warm-{name}"), "-o", out]

    cases: dict[str, Callable[[str], list[str]]] = {
        "cold, work tree": lambda name: [str(repo), *fresh(name)],
        "cold, git objects": lambda name: [str(repo), "main", *fresh(name)],
        "warm, git objects": lambda name: [str(repo), "main", *kept(name)],
    }
    for name, tree in trees.items():  # bytecode written, warm caches filled
        timed(tree, cases["warm, git objects"](name), scratch)
    runs: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for rep in range(args.repeat):
        for case, make in cases.items():
            for name in ("before", "after") if rep % 2 == 0 else ("after", "before"):
                runs.setdefault((case, name), []).append(timed(trees[name], make(name), scratch))
    head = "| wall before | wall after | ratio | CPU before | CPU after | ratio |"
    print(f"| median of {args.repeat} {head}")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for case in cases:
        wall = [statistics.median(r[0] for r in runs[(case, n)]) for n in ("before", "after")]
        cpu = [statistics.median(r[1] for r in runs[(case, n)]) for n in ("before", "after")]
        print(
            f"| {case} | {wall[0]:.2f} s | {wall[1]:.2f} s | {wall[1] / wall[0]:.2f} "
            f"| {cpu[0]:.2f} s | {cpu[1]:.2f} s | {cpu[1] / cpu[0]:.2f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
