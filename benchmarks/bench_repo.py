"""Repository benchmark (issue 3): the scan cache and `grabber history`.

Builds the synthetic repository of synth.py (under benchmarks/.work/, once), copies it, and
adds a year of history with synth.churn: 51 commits that each touch 2% of the test files (add,
remove or edit a mute; add or remove a test), a week's worth of churn each, then one commit
touching 1%; then packs the repository as a real one would be (`git gc`). It measures,
reading git objects (`REPO main --ref COMMIT`, no work tree), each figure the median of
--repeat runs:

- cold: a scan of HEAD~1 with an empty cache directory;
- warm, same commit: the same scan again, cache warm;
- warm, 1% changed: a scan of HEAD (1% of the test files differ from HEAD~1), cache warm;
- history: `grabber history` over 52 points, one per commit HEAD~51..HEAD (synth.churn dates
  commits a day apart; each point stands for a week of churn), with an empty cache directory.

Warm results are checked against cold ones (identical records), and the ratios reported
against the targets of issue 3: warm <= 0.1 x cold, history of 52 points <= 3 x cold. Each
measurement runs in a process of its own, as every `grabber` run does, with the scan cache on
disk; the clock covers the work (listing, reading blobs, the cache, the parser pool), not the
interpreter start and imports. The CLI's own figures, interpreter start included, follow.

    python3 benchmarks/bench_repo.py [--files 2500] [--target-mb 15] [--repeat 3] [--json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT)]
import synth  # noqa: E402
from hostinfo import cpu_model  # noqa: E402

from xfail_grabber.config import Settings  # noqa: E402
from xfail_grabber.core import snapshot_of  # noqa: E402
from xfail_grabber.history import scan_history  # noqa: E402
from xfail_grabber.model import Snapshot  # noqa: E402
from xfail_grabber.source.cache import open_scan_cache  # noqa: E402
from xfail_grabber.source.open import open_git, open_source  # noqa: E402

WEEKS = 52
WEEKLY_CHURN = 0.02
LAST_CHURN = 0.01
TARGET_WARM = 0.1
TARGET_HISTORY = 3.0


def base_repo(
    work: Path, files: int, target_mb: float, weekly: float = WEEKLY_CHURN
) -> tuple[Path, dict[str, Any]]:
    """The synthetic repository with a year of weekly churn, built once and reused."""
    place = work / f"repo-bench-v{synth.GENERATOR_VERSION}-f{files}-mb{target_mb:g}"
    if weekly != WEEKLY_CHURN:
        place = place.with_name(f"{place.name}-churn{weekly:g}")
    stats_file = place.parent / f"{place.name}.json"
    if stats_file.is_file() and place.is_dir():
        return place, json.loads(stats_file.read_text())
    shutil.rmtree(place, ignore_errors=True)
    started = time.perf_counter()
    stats = synth.build(place, files=files, seed=1, target_mb=target_mb)
    changed = 0
    for week in range(WEEKS - 1):
        changed += len(synth.churn(place, weekly, seed=100 + week))
    last = synth.churn(place, LAST_CHURN, seed=999)
    _git(place, "gc", "--quiet")
    stats.update(
        weekly_changed_files=changed / (WEEKS - 1),
        last_changed_files=len(last),
        build_seconds=round(time.perf_counter() - started, 1),
    )
    stats_file.write_text(json.dumps(stats, indent=2))
    return place, stats


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def scan(repo: Path, commit: str, cache_dir: Path) -> Snapshot:
    with (
        open_source(str(repo), "main", commit, cache_dir=cache_dir) as checkout,
        open_scan_cache(cache_dir) as cache,
    ):
        return snapshot_of(checkout, Settings(), cache=cache)


def history_run(repo: Path, cache_dir: Path) -> list[Snapshot]:
    times = [
        datetime.fromtimestamp(int(t), UTC)
        for t in _git(repo, "log", "--first-parent", f"-{WEEKS}", "--format=%ct").split()
    ]
    moments = sorted(times)
    assert len(moments) == WEEKS
    found = list(
        scan_history(
            open_git(str(repo)),
            "main",
            [m + timedelta(seconds=1) for m in moments],
            Settings(),
            cache_dir=cache_dir,
        )
    )
    return [snapshot for _, snapshot in found]


def digest(snapshot: Snapshot) -> str:
    records = [r.to_dict() for r in snapshot.muted] + [e.to_dict() for e in snapshot.errors]
    return hashlib.sha256(json.dumps(records, sort_keys=True).encode()).hexdigest()[:16]


def cpu_seconds() -> float:
    """User + system CPU time of this process and of its children that have ended (the
    parser pool's workers, git): unlike wall-clock time, it hardly moves when other work
    shares the machine."""
    own, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def child(mode: str, repo: Path, cache: Path, ref: str | None) -> dict[str, Any]:
    """One measurement, in a process of its own (as every `grabber` run is): imports are
    done before the clock starts; the scan cache is whatever `cache` holds on disk."""
    started, cpu = time.perf_counter(), cpu_seconds()
    result: dict[str, Any]
    if mode == "scan":
        assert ref is not None
        snapshot = scan(repo, ref, cache)
        result = {"digest": digest(snapshot), "muted": len(snapshot.muted)}
    else:
        points = history_run(repo, cache)
        result = {"points": len(points), "digest": digest(points[-1])}
    result["seconds"] = time.perf_counter() - started
    result["cpu"] = cpu_seconds() - cpu
    return result


def run_child(label: str, *args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", *args],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout
    result: dict[str, Any] = json.loads(out)
    print(
        f"  {label}: {result['seconds']:.2f} s (CPU {result['cpu']:.2f} s)",
        file=sys.stderr,
        flush=True,
    )
    return result


def cli(args: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "xfail_grabber", *args],
        check=True,
        stdout=subprocess.DEVNULL,
        cwd=ROOT,
    )
    return time.perf_counter() - started


def measure(repo: Path, repeat: int, scratch: Path) -> dict[str, Any]:
    head = _git(repo, "rev-parse", "HEAD")
    parent = _git(repo, "rev-parse", "HEAD~1")
    runs: dict[str, list[float]] = {
        "cold": [],
        "warm_same": [],
        "warm_1pct": [],
        "history": [],
        "cli_cold": [],
        "cli_warm_same": [],
    }
    cpu: dict[str, list[float]] = {k: [] for k in ("cold", "warm_same", "warm_1pct", "history")}
    records = 0
    fresh = run_child(
        "cold scan of HEAD, for the checks", "scan", str(repo), str(scratch / "check"), head
    )
    for n in range(repeat):
        cache = str(scratch / f"cache-{n}")
        cold = run_child("cold", "scan", str(repo), cache, parent)
        warm = run_child("warm, same commit", "scan", str(repo), cache, parent)
        assert warm["digest"] == cold["digest"], "a warm scan differs from the cold one"
        changed = run_child("warm, 1% changed", "scan", str(repo), cache, head)
        assert changed["digest"] == fresh["digest"], "a warm scan differs from a cold one"
        history = run_child("history", "history", str(repo), str(scratch / f"hist-{n}"))
        assert history["points"] == WEEKS and history["digest"] == fresh["digest"]
        for key, result in (
            ("cold", cold),
            ("warm_same", warm),
            ("warm_1pct", changed),
            ("history", history),
        ):
            runs[key].append(result["seconds"])
            cpu[key].append(result["cpu"])
        records = cold["muted"]
        cli_cache = str(scratch / f"cli-{n}")
        args = ["dump", str(repo), "main", "--ref", parent, "--cache-dir", cli_cache]
        runs["cli_cold"].append(cli(args))
        runs["cli_warm_same"].append(cli(args))
    med = {k: statistics.median(v) for k, v in runs.items()}
    cpu_med = {k: statistics.median(v) for k, v in cpu.items()}
    return {
        "seconds": {k: round(v, 3) for k, v in med.items()},
        "ratios": {
            "warm_same_commit": round(med["warm_same"] / med["cold"], 3),
            "warm_1pct_changed": round(med["warm_1pct"] / med["cold"], 3),
            "history_52_points": round(med["history"] / med["cold"], 3),
            "cli_warm_same_commit": round(med["cli_warm_same"] / med["cli_cold"], 3),
        },
        "cpu_seconds": {k: round(v, 3) for k, v in cpu_med.items()},
        "cpu_ratios": {
            "warm_same_commit": round(cpu_med["warm_same"] / cpu_med["cold"], 3),
            "warm_1pct_changed": round(cpu_med["warm_1pct"] / cpu_med["cold"], 3),
            "history_52_points": round(cpu_med["history"] / cpu_med["cold"], 3),
        },
        "records_at_head_1": records,
        "runs": {k: [round(x, 3) for x in v] for k, v in runs.items()},
        "repeat": repeat,
    }


def machine() -> str:
    model = cpu_model()
    return (
        f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}, git {_git(ROOT, '--version')[12:]}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=2500)
    parser.add_argument("--target-mb", type=float, default=15.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--weekly-churn",
        type=float,
        default=WEEKLY_CHURN,
        metavar="FRACTION",
        help="Share of the test files each history commit touches.",
    )
    parser.add_argument("--json", action="store_true", help="Print the figures as JSON.")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        mode, repo_arg, cache_arg, *ref = args.child
        print(json.dumps(child(mode, Path(repo_arg), Path(cache_arg), ref[0] if ref else None)))
        return 0
    work = HERE / ".work"
    work.mkdir(exist_ok=True)
    repo, stats = base_repo(work, args.files, args.target_mb, args.weekly_churn)
    with tempfile.TemporaryDirectory(prefix="bench-repo-") as scratch:
        result = measure(repo, args.repeat, Path(scratch))
    result["repository"] = {
        k: stats[k]
        for k in ("test_files", "py_files", "bytes", "weekly_changed_files", "last_changed_files")
    }
    result["machine"] = machine()
    result["date"] = datetime.now(UTC).date().isoformat()
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    s, r = result["seconds"], result["ratios"]
    c, cr = result["cpu_seconds"], result["cpu_ratios"]
    rows = [
        ("cold scan of one commit", s["cold"], 1.0, c["cold"], 1.0, ""),
        (
            "warm re-scan, same commit",
            s["warm_same"],
            r["warm_same_commit"],
            c["warm_same"],
            cr["warm_same_commit"],
            f"<= {TARGET_WARM}",
        ),
        (
            "warm scan, 1% of test files changed",
            s["warm_1pct"],
            r["warm_1pct_changed"],
            c["warm_1pct"],
            cr["warm_1pct_changed"],
            f"<= {TARGET_WARM}",
        ),
        (
            f"history, {WEEKS} points, cold cache",
            s["history"],
            r["history_52_points"],
            c["history"],
            cr["history_52_points"],
            f"<= {TARGET_HISTORY}",
        ),
    ]
    repo_stats = result["repository"]
    print(
        f"repository: {repo_stats['py_files']} .py files ({repo_stats['test_files']} tests, "
        f"{repo_stats['bytes'] / 2**20:.1f} MB), {WEEKS} commits touching "
        f"~{repo_stats['weekly_changed_files']:.0f} test files each"
    )
    print(f"machine: {result['machine']}; median of {args.repeat}")
    print()
    print("| measurement | wall s | ratio | CPU s | CPU ratio | target |")
    print("|---|---:|---:|---:|---:|---|")
    for name, seconds, ratio, cpu, cpu_ratio, target in rows:
        print(f"| {name} | {seconds:.2f} | {ratio:.3f} | {cpu:.2f} | {cpu_ratio:.3f} | {target} |")
    print()
    print(
        f"CLI `grabber dump` as a child process, interpreter start included: cold "
        f"{s['cli_cold']:.2f} s, warm same commit {s['cli_warm_same']:.2f} s "
        f"(ratio {r['cli_warm_same_commit']:.3f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
