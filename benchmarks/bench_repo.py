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

The heavy-churn scenario (issue 12, synth_churn.py) builds the same base, then 52 weeks that
each change 15% of the test files, add and delete files, move directories and change mark
aliases in shared helpers. It measures a cold scan of HEAD, `history` over the 52 weekly
commits with an empty cache, and the same history again with everything cached (per point),
and prints the distinct-blob ratio the target is stated in: 52 points <= (ratio + 1) x cold.
History's records are checked against cold scans of HEAD and of two commits after moves.

Peak memory is the largest summed RSS of the measuring process and its parser workers.

    python3 benchmarks/bench_repo.py [--scenario light|heavy|all] [--repeat 3] [--json]
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
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT)]
import synth  # noqa: E402
import synth_churn  # noqa: E402
from hostinfo import PeakRss, cpu_model  # noqa: E402

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
TARGET_CACHED_POINT = 0.1  # seconds, a 3,000-file tree
TARGET_PEAK_MB = 400
HEAVY_CHECKED = (15, 28)  # HEAD~15 and HEAD~28: the weeks after two directory moves


def base_repo(
    work: Path, files: int, target_mb: float, weekly: float = WEEKLY_CHURN
) -> tuple[Path, dict[str, Any]]:
    """The synthetic repository with a year of weekly churn, built once and reused."""
    place = work / f"repo-bench-v{synth.GENERATOR_VERSION}-f{files}-mb{target_mb:g}"
    if weekly != WEEKLY_CHURN:
        place = place.with_name(f"{place.name}-churn{weekly:g}")

    def churn(place: Path, stats: dict[str, Any]) -> None:
        changed = 0
        for week in range(WEEKS - 1):
            changed += len(synth.churn(place, weekly, seed=100 + week))
        last = synth.churn(place, LAST_CHURN, seed=999)
        stats.update(weekly_changed_files=changed / (WEEKS - 1), last_changed_files=len(last))

    return _built_once(place, files, target_mb, churn)


def heavy_repo(work: Path, files: int, target_mb: float) -> tuple[Path, dict[str, Any]]:
    """The same base, then 52 weeks of heavy churn (synth_churn.py), built once."""
    version = f"{synth.GENERATOR_VERSION}.{synth_churn.VERSION}"

    def churn(place: Path, stats: dict[str, Any]) -> None:
        weeks = [synth_churn.week(place, n) for n in range(WEEKS)]
        commits = _git(place, "log", "--first-parent", f"-{WEEKS}", "--format=%H").split()
        stats.update(
            weeks={k: sum(w[k] for w in weeks) for k in weeks[0]},
            py_files_at_head=len(_git(place, "ls-files", "*.py").splitlines()),
            distinct_blob_ratio=round(synth_churn.distinct_blob_ratio(place, commits[::-1]), 3),
        )

    place = work / f"repo-heavy-v{version}-f{files}-mb{target_mb:g}"
    return _built_once(place, files, target_mb, churn)


def _built_once(
    place: Path,
    files: int,
    target_mb: float,
    churn: Callable[[Path, dict[str, Any]], None],
) -> tuple[Path, dict[str, Any]]:
    """synth.py's repository at `place` with `churn`'s commits on top, packed; its stats."""
    stats_file = place.parent / f"{place.name}.json"
    if stats_file.is_file() and place.is_dir():
        return place, json.loads(stats_file.read_text())
    shutil.rmtree(place, ignore_errors=True)
    started = time.perf_counter()
    stats = synth.build(place, files=files, seed=1, target_mb=target_mb)
    _git(place, "config", "gc.auto", "0")  # no gc in the background while committing
    churn(place, stats)
    _git(place, "gc", "--quiet")
    stats["build_seconds"] = round(time.perf_counter() - started, 1)
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


def history_run(repo: Path, cache_dir: Path) -> tuple[list[Snapshot], list[float]]:
    """The snapshots of the last 52 first-parent commits, and the seconds each point took."""
    times = [
        datetime.fromtimestamp(int(t), UTC)
        for t in _git(repo, "log", "--first-parent", f"-{WEEKS}", "--format=%ct").split()
    ]
    moments = sorted(times)
    assert len(moments) == WEEKS
    found: list[Snapshot] = []
    seconds: list[float] = []
    started = time.perf_counter()
    for _, snapshot in scan_history(
        open_git(str(repo)),
        "main",
        [m + timedelta(seconds=1) for m in moments],
        Settings(),
        cache_dir=cache_dir,
    ):
        now = time.perf_counter()
        found.append(snapshot)
        seconds.append(now - started)
        started = now
    return found, seconds


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
        points, seconds = history_run(repo, cache)
        result = {
            "points": len(points),
            "digest": digest(points[-1]),
            "digests": [digest(p) for p in points],
            "commits": [p.commit for p in points],
            "point_seconds": seconds,
        }
    result["seconds"] = time.perf_counter() - started
    result["cpu"] = cpu_seconds() - cpu
    return result


def run_child(label: str, *args: str) -> dict[str, Any]:
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    with PeakRss(proc.pid) as peak:
        out, err = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"{label} failed:\n{err}")
    result: dict[str, Any] = json.loads(out)
    result["peak_mb"] = peak.peak / 2**20
    print(
        f"  {label}: {result['seconds']:.2f} s (CPU {result['cpu']:.2f} s, "
        f"peak {result['peak_mb']:.0f} MB)",
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


def _medians(
    runs: dict[str, list[dict[str, Any]]],
) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    seconds = {k: statistics.median(r["seconds"] for r in v) for k, v in runs.items()}
    cpu = {k: statistics.median(r["cpu"] for r in v) for k, v in runs.items()}
    peak = {k: max(r["peak_mb"] for r in v) for k, v in runs.items()}
    return seconds, cpu, peak


def measure(repo: Path, repeat: int, scratch: Path) -> dict[str, Any]:
    head = _git(repo, "rev-parse", "HEAD")
    parent = _git(repo, "rev-parse", "HEAD~1")
    runs: dict[str, list[dict[str, Any]]] = {
        k: [] for k in ("cold", "warm_same", "warm_1pct", "history")
    }
    cli_runs: dict[str, list[float]] = {"cli_cold": [], "cli_warm_same": []}
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
            runs[key].append(result)
        cli_cache = str(scratch / f"cli-{n}")
        args = ["dump", str(repo), "main", "--ref", parent, "--cache-dir", cli_cache]
        cli_runs["cli_cold"].append(cli(args))
        cli_runs["cli_warm_same"].append(cli(args))
    med, cpu_med, peak = _medians(runs)
    med.update({k: statistics.median(v) for k, v in cli_runs.items()})
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
        "peak_mb": {k: round(v) for k, v in peak.items()},
        "records_at_head_1": runs["cold"][-1]["muted"],
        "runs": {k: [round(r["seconds"], 3) for r in v] for k, v in runs.items()},
        "repeat": repeat,
    }


def measure_heavy(repo: Path, repeat: int, scratch: Path) -> dict[str, Any]:
    head = _git(repo, "rev-parse", "HEAD")
    runs: dict[str, list[dict[str, Any]]] = {k: [] for k in ("cold", "history", "cached")}
    cached_points: list[float] = []
    for n in range(repeat):
        cold = run_child(
            "heavy: cold scan of HEAD", "scan", str(repo), str(scratch / f"hc-{n}"), head
        )
        cache = str(scratch / f"hh-{n}")
        history = run_child("heavy: history, empty cache", "history", str(repo), cache)
        assert history["points"] == WEEKS and history["digest"] == cold["digest"]
        cached = run_child("heavy: history, everything cached", "history", str(repo), cache)
        assert cached["digests"] == history["digests"], "a cached history differs"
        for key, result in (("cold", cold), ("history", history), ("cached", cached)):
            runs[key].append(result)
        cached_points.append(statistics.median(cached["point_seconds"][1:]))
    # Points after directory moves, against cold scans of their commits.
    history = runs["history"][-1]
    for back in HEAVY_CHECKED:
        index = WEEKS - 1 - back
        check = run_child(
            f"heavy: cold scan of HEAD~{back}, for the checks",
            "scan",
            str(repo),
            str(scratch / f"hcheck-{back}"),
            history["commits"][index],
        )
        assert check["digest"] == history["digests"][index], f"history differs at HEAD~{back}"
    med, cpu_med, peak = _medians(runs)
    return {
        "seconds": {k: round(v, 3) for k, v in med.items()},
        "history_ratio": round(med["history"] / med["cold"], 3),
        "cpu_seconds": {k: round(v, 3) for k, v in cpu_med.items()},
        "cpu_history_ratio": round(cpu_med["history"] / cpu_med["cold"], 3),
        "cached_point_seconds": round(statistics.median(cached_points), 4),
        "cached_first_point_seconds": round(
            statistics.median(r["point_seconds"][0] for r in runs["cached"]), 3
        ),
        "peak_mb": {k: round(v) for k, v in peak.items()},
        "runs": {k: [round(r["seconds"], 3) for r in v] for k, v in runs.items()},
        "head": head,
        "repeat": repeat,
    }


def machine() -> str:
    model = cpu_model()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}, git {_git(ROOT, '--version')[12:]}, "
        f"load average {load} at the end"
    )


def print_light(result: dict[str, Any]) -> None:
    s, r = result["seconds"], result["ratios"]
    c, cr, p = result["cpu_seconds"], result["cpu_ratios"], result["peak_mb"]
    rows = [
        ("cold scan of one commit", "cold", 1.0, 1.0, ""),
        (
            "warm re-scan, same commit",
            "warm_same",
            r["warm_same_commit"],
            cr["warm_same_commit"],
            f"<= {TARGET_WARM}",
        ),
        (
            "warm scan, 1% of test files changed",
            "warm_1pct",
            r["warm_1pct_changed"],
            cr["warm_1pct_changed"],
            f"<= {TARGET_WARM}",
        ),
        (
            f"history, {WEEKS} points, cold cache",
            "history",
            r["history_52_points"],
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
    print()
    print("| measurement | wall s | ratio | CPU s | CPU ratio | peak MB | target |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for name, key, ratio, cpu_ratio, target in rows:
        print(
            f"| {name} | {s[key]:.2f} | {ratio:.3f} | {c[key]:.2f} | {cpu_ratio:.3f} "
            f"| {p[key]} | {target} |"
        )
    print()
    print(
        f"CLI `grabber dump` as a child process, interpreter start included: cold "
        f"{s['cli_cold']:.2f} s, warm same commit {s['cli_warm_same']:.2f} s "
        f"(ratio {r['cli_warm_same_commit']:.3f})"
    )


def print_heavy(result: dict[str, Any]) -> None:
    s, c, p = result["seconds"], result["cpu_seconds"], result["peak_mb"]
    stats = result["repository"]
    ratio = stats["distinct_blob_ratio"]
    print(
        f"heavy churn: {stats['py_files_at_head']} .py files at HEAD; over {WEEKS} weeks "
        f"{stats['weeks']['edited']} test-file edits, {stats['weeks']['added']} added, "
        f"{stats['weeks']['deleted']} deleted, {stats['weeks']['moved']} moved, "
        f"{stats['weeks']['helpers']} helper alias changes; distinct-blob ratio {ratio:.2f}"
    )
    print()
    print("| measurement | wall s | ratio | CPU s | CPU ratio | peak MB | target |")
    print("|---|---:|---:|---:|---:|---:|---|")
    print(
        f"| cold scan of HEAD | {s['cold']:.2f} | 1.000 | {c['cold']:.2f} | 1.000 | {p['cold']} | |"
    )
    print(
        f"| history, {WEEKS} points, empty cache | {s['history']:.2f} | "
        f"{result['history_ratio']:.3f} | {c['history']:.2f} | {result['cpu_history_ratio']:.3f} "
        f"| {p['history']} | <= {ratio + 1:.2f} (ratio + 1) |"
    )
    print(
        f"| history, {WEEKS} points, everything cached | {s['cached']:.2f} | "
        f"{s['cached'] / s['cold']:.3f} | {c['cached']:.2f} | {c['cached'] / c['cold']:.3f} "
        f"| {p['cached']} | |"
    )
    print()
    print(
        f"per point with everything cached (median of points 2-{WEEKS}): "
        f"{result['cached_point_seconds']:.3f} s (target < {TARGET_CACHED_POINT} s); "
        f"the first point (a full scan from the cache) {result['cached_first_point_seconds']:.2f} s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=2500)
    parser.add_argument("--target-mb", type=float, default=15.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scenario", choices=("light", "heavy", "all"), default="all")
    parser.add_argument(
        "--weekly-churn",
        type=float,
        default=WEEKLY_CHURN,
        metavar="FRACTION",
        help="Share of the test files each commit of the light scenario touches.",
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
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-repo-") as scratch:
        if args.scenario in ("light", "all"):
            repo, stats = base_repo(work, args.files, args.target_mb, args.weekly_churn)
            result["light"] = measure(repo, args.repeat, Path(scratch))
            result["light"]["repository"] = {
                k: stats[k]
                for k in (
                    "test_files",
                    "py_files",
                    "bytes",
                    "weekly_changed_files",
                    "last_changed_files",
                )
            }
        if args.scenario in ("heavy", "all"):
            repo, stats = heavy_repo(work, args.files, args.target_mb)
            result["heavy"] = measure_heavy(repo, args.repeat, Path(scratch))
            result["heavy"]["repository"] = {
                k: stats[k]
                for k in ("test_files", "py_files_at_head", "weeks", "distinct_blob_ratio")
            }
    result["machine"] = machine()
    result["date"] = datetime.now(UTC).isoformat(timespec="minutes")
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"machine: {result['machine']}; {result['date']}; median of {args.repeat}")
    for name, show in (("light", print_light), ("heavy", print_heavy)):
        if name in result:
            print()
            show(result[name])
    return 0


if __name__ == "__main__":
    sys.exit(main())
