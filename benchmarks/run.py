"""Scanner benchmark (issue 2): `grabber dump` against `git grep` and an `ast.parse` loop.

Builds the synthetic repository of synth.py under benchmarks/.work/ when it is missing, then
measures in the same run, interleaved, several times each (the median time is reported):

- `git grep -c -E '<marker names>' -- '*.py'` over the work tree;
- one process reading every test file and calling `ast.parse` on it;
- `grabber dump PATH` (the work tree) and `grabber dump PATH main` (git objects), cold: each
  run gets a fresh empty `--cache-dir`.

Every command runs as a child process and is timed by wall clock, interpreter start included.
Peak memory is the largest sum of the resident set sizes (VmRSS) of the child and all of its
descendants, sampled from /proc every 20 ms: pages shared between a parent and its forked
workers count once per process, so the figure errs high. A process too short for one sample
falls back on its ru_maxrss (from wait4), which has the benchmark's own RSS as a floor: a
forked child starts with its parent's pages.

It is a report: the exit code is 0 unless `--check` is given and a target is missed
(grabber slower than the ast loop, peak memory >= 400 MB, a failed run, or a record count
other than the one the generator planted).

    python3 benchmarks/run.py [--repeat 3] [--check] [--files 2500] [--target-mb 15]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT)]
import synth  # noqa: E402
from hostinfo import PeakRss, cpu_model  # noqa: E402

MAX_PEAK_MB = 400.0
EXTRA_WORDS = ("skipIf", "skipUnless", "skipTest", "expectedFailure")
AST_LOOP = """
import ast, os, sys
count = 0
for dirpath, dirnames, filenames in os.walk(sys.argv[1]):
    dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
    for name in filenames:
        if name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py")):
            with open(os.path.join(dirpath, name), "rb") as handle:
                ast.parse(handle.read())
            count += 1
print(count)
"""


@dataclass
class Run:
    seconds: float
    sampled_peak: int  # bytes: the largest sum of RSS over the process tree
    peak: int  # bytes: sampled_peak, or ru_maxrss when no sample caught the process
    cpu_seconds: float
    returncode: int
    stderr: str


@dataclass
class Measure:
    name: str
    argv: list[str]
    output: Path | None = None  # where a grabber run writes its JSON
    runs: list[Run] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.runs) and all(
            r.returncode in (0, 1) if self.is_grep else r.returncode == 0 for r in self.runs
        )

    @property
    def is_grep(self) -> bool:
        return self.argv[:1] == ["git"]  # git grep exits 1 when nothing matches

    @property
    def median(self) -> float:
        return statistics.median(r.seconds for r in self.runs)

    @property
    def peak_mb(self) -> float:
        return max(r.peak for r in self.runs) / 1e6

    @property
    def cpu(self) -> float:
        return statistics.median(r.cpu_seconds for r in self.runs)


def run_once(argv: list[str], *, cwd: Path, env: dict[str, str]) -> Run:
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=err)
        with PeakRss(proc.pid) as sampled:
            _, status, usage = os.wait4(proc.pid, 0)
            seconds = time.perf_counter() - start
        peak = [sampled.peak]
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    return Run(
        seconds,
        peak[0],
        max(peak[0], usage.ru_maxrss * 1024),
        usage.ru_utime + usage.ru_stime,
        proc.returncode,
        stderr,
    )


def ensure_repo(work: Path, files: int, seed: int, target_mb: float) -> dict[str, object]:
    """The synthetic repository and its stats, built once per generator version."""
    place = work / f"synth-s{seed}-f{files}-mb{target_mb:g}"
    stats_file = place / "stats.json"
    if stats_file.exists():
        stats = json.loads(stats_file.read_text())
        if stats.get("generator_version") == synth.GENERATOR_VERSION:
            return dict(stats)
    shutil.rmtree(place, ignore_errors=True)
    place.mkdir(parents=True)
    print(f"building the synthetic repository in {place / 'repo'} ...", file=sys.stderr)
    start = time.perf_counter()
    stats = synth.build(place / "repo", files=files, seed=seed, target_mb=target_mb)
    print(f"built in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    stats_file.write_text(json.dumps(stats, indent=2) + "\n")
    return stats


def machine() -> dict[str, str]:
    model = cpu_model()
    try:
        import libcst

        libcst_version = getattr(libcst, "__version__", None) or _dist_version("libcst")
    except ImportError:
        libcst_version = "missing"
    return {
        "cpus": str(len(os.sched_getaffinity(0))),
        "cpu_model": model,
        "python": platform.python_version(),
        "libcst": libcst_version,
        "git": subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.strip(),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        # Other work on the machine slows the parallel scan more than the 1-process baselines.
        "load_average": " ".join(f"{x:.1f}" for x in os.getloadavg()),
    }


def _dist_version(name: str) -> str:
    from importlib.metadata import version

    return version(name)


def marker_pattern() -> str:
    from xfail_grabber.config import Settings

    return "|".join(dict.fromkeys((*Settings().mark_names, *EXTRA_WORDS)))


def check_records(stats: dict[str, object], output: Path) -> list[str]:
    """Differences between what the generator planted and what grabber reported."""
    try:
        snapshot = json.loads(output.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return [f"cannot read grabber output {output}: {exc}"]
    counts = snapshot.get("counts", {})
    problems = []
    total = counts.get("total", len(snapshot.get("muted", [])))
    if total != stats["expected_records"]:
        problems.append(f"records: expected {stats['expected_records']}, grabber found {total}")
    expected = dict(stats["expected_by_kind"])  # type: ignore[call-overload]
    found = counts.get("by_kind", {})
    for kind in sorted(set(expected) | set(found)):
        if expected.get(kind, 0) != found.get(kind, 0):
            problems.append(
                f"  kind {kind}: expected {expected.get(kind, 0)}, found {found.get(kind, 0)}"
            )
    planted = stats.get("expected_by_file")
    if isinstance(planted, dict):
        per_file: dict[str, int] = {}
        for record in snapshot.get("muted", []):
            per_file[record["path"]] = per_file.get(record["path"], 0) + 1
        differ = sorted(
            p for p in set(planted) | set(per_file) if planted.get(p, 0) != per_file.get(p, 0)
        )
        for path in differ[:10]:
            problems.append(
                f"  {path}: expected {planted.get(path, 0)}, found {per_file.get(path, 0)}"
            )
        if len(differ) > 10:
            problems.append(f"  ... and {len(differ) - 10} more files")
    if snapshot.get("errors"):
        problems.append(
            f"grabber listed {len(snapshot['errors'])} files under errors, "
            f"e.g. {snapshot['errors'][0]}"
        )
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each (median)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--files", type=int, default=2500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--target-mb", type=float, default=15.0)
    parser.add_argument("--workers", type=int, help="pass --workers N to grabber")
    parser.add_argument("--work-dir", type=Path, default=HERE / ".work")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = parser.parse_args(argv)

    stats = ensure_repo(args.work_dir, args.files, args.seed, args.target_mb)
    repo = Path(str(stats["path"]))
    if not repo.is_absolute() or not repo.exists():
        repo = args.work_dir / f"synth-s{args.seed}-f{args.files}-mb{args.target_mb:g}" / "repo"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("GRABBER_CACHE_DIR", None)
    scratch = Path(tempfile.mkdtemp(prefix="grabber-bench-"))
    grabber = [sys.executable, "-m", "xfail_grabber", "dump"]
    extra = ["--workers", str(args.workers)] if args.workers else []
    measures = [
        Measure(
            "git grep -c -E <markers>",
            ["git", "-C", str(repo), "grep", "-c", "-E", "-e", marker_pattern(), "--", "*.py"],
        ),
        Measure("ast.parse loop, 1 process", [sys.executable, "-c", AST_LOOP, str(repo)]),
        Measure(
            "grabber dump PATH (work tree)",
            [*grabber, str(repo), *extra],
            scratch / "worktree.json",
        ),
        Measure(
            "grabber dump PATH main (git)",
            [*grabber, str(repo), "main", *extra],
            scratch / "git.json",
        ),
    ]
    try:
        # Warm the page cache and write bytecode: one untimed round of the baselines, and an
        # import of everything a scan loads (a full untimed scan would double the run time).
        warm = "import libcst, xfail_grabber.cli, xfail_grabber.core, xfail_grabber.scan.file"
        run_once([sys.executable, "-c", warm], cwd=ROOT, env=env)
        for rep in range(args.repeat + 1):
            for measure in measures:
                if not rep and measure.output is not None:
                    continue
                argv_now = list(measure.argv)
                if measure.output is not None:  # a fresh, empty cache: a cold scan
                    cache = Path(tempfile.mkdtemp(prefix="cache-", dir=scratch))
                    argv_now += ["--cache-dir", str(cache), "-o", str(measure.output)]
                result = run_once(argv_now, cwd=ROOT, env=env)
                if rep:
                    measure.runs.append(result)
                    print(
                        f"run {rep}/{args.repeat} {measure.name}: {result.seconds:.2f} s",
                        file=sys.stderr,
                    )
                if result.returncode != 0 and not (measure.is_grep and result.returncode == 1):
                    print(
                        f"{measure.name}: exit {result.returncode}: {result.stderr.strip()[-400:]}",
                        file=sys.stderr,
                    )
        problems = {
            m.name: check_records(stats, m.output)
            for m in measures
            if m.output is not None and m.ok
        }
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return report(args, stats, measures, problems)


def report(
    args: argparse.Namespace,
    stats: dict[str, object],
    measures: list[Measure],
    problems: dict[str, list[str]],
) -> int:
    info = machine()
    test_files = int(str(stats["test_files"]))
    mib = int(str(stats["bytes"])) / (1024 * 1024)
    grep, loop = measures[0], measures[1]
    print(
        f"\nScanner benchmark, {info['date']}: {info['cpus']} CPUs ({info['cpu_model']}), "
        f"Python {info['python']}, libcst {info['libcst']}, {info['git']}, "
        f"load average {info['load_average']}"
    )
    print(
        f"synthetic repo (seed {stats['seed']}, commit {str(stats['commit'])[:12]}): "
        f"{test_files} test files of {stats['py_files']} .py files, {mib:.1f} MiB, "
        f"{stats['muted_files']} files with mutes, {stats['expected_records']} expected records"
    )
    print(
        f"median of {args.repeat} runs (baselines after a warm-up round); files/s counts test "
        "files, MiB/s the whole tree's .py bytes; peak = summed RSS of the process tree;\n"
        "CPU s = user+sys of the process and its workers (CPU/ast: the same ratio in CPU time,\n"
        "less sensitive to other load on the machine than the wall-clock ratio)\n"
    )
    head = (
        f"{'':32} {'seconds':>8} {'files/s':>9} {'MiB/s':>7} {'peak MB':>8} "
        f"{'CPU s':>6} {'vs ast':>7} {'CPU/ast':>7} {'vs grep':>8}"
    )
    print(head)
    print("-" * len(head))
    results: list[dict[str, object]] = []
    for m in measures:
        if not m.ok:
            last = m.runs[-1].stderr.strip().splitlines()[-1:] if m.runs else ["no run"]
            print(f"{m.name:32} failed: {' '.join(last)}")
            results.append({"name": m.name, "ok": False})
            continue
        vs_ast = m.median / loop.median if loop.ok else float("nan")
        cpu_ast = m.cpu / loop.cpu if loop.ok and loop.cpu else float("nan")
        vs_grep = m.median / grep.median if grep.ok else float("nan")
        print(
            f"{m.name:32} {m.median:8.2f} {test_files / m.median:9.0f} {mib / m.median:7.1f} "
            f"{m.peak_mb:8.0f} {m.cpu:6.2f} {vs_ast:7.2f} {cpu_ast:7.2f} {vs_grep:8.1f}"
        )
        results.append(
            {
                "name": m.name,
                "ok": True,
                "seconds": round(m.median, 3),
                "files_per_s": round(test_files / m.median),
                "mib_per_s": round(mib / m.median, 2),
                "peak_mb": round(m.peak_mb),
                "cpu_s": round(m.cpu, 2),
                "vs_ast": round(vs_ast, 3),
                "cpu_vs_ast": round(cpu_ast, 3),
                "vs_grep": round(vs_grep, 2),
            }
        )
    missed: list[str] = []
    print()
    for m in measures[2:]:
        if not m.ok:
            missed.append(f"{m.name}: the run failed")
            continue
        ratio = m.median / loop.median
        verdict = "ok" if ratio <= 1.0 else "MISSED"
        print(
            f"target {m.name}: time <= ast loop: ratio {ratio:.2f} {verdict}; "
            f"peak {m.peak_mb:.0f} MB < {MAX_PEAK_MB:.0f} MB "
            f"{'ok' if m.peak_mb < MAX_PEAK_MB else 'MISSED'}"
        )
        if ratio > 1.0:
            missed.append(f"{m.name}: {ratio:.2f}x the ast loop")
        if m.peak_mb >= MAX_PEAK_MB:
            missed.append(f"{m.name}: peak {m.peak_mb:.0f} MB")
    for name, found in problems.items():
        if found:
            banner = "!" * 72
            print(f"\n{banner}\nRECORD MISMATCH in {name}:", file=sys.stderr)
            for line in found:
                print(f"  {line}", file=sys.stderr)
            print(banner, file=sys.stderr)
            missed.append(f"{name}: records differ from the generator's")
        else:
            print(f"records {name}: {stats['expected_records']} found, as planted")
    if args.json:
        args.json.write_text(
            json.dumps(
                {"machine": info, "stats": stats, "results": results, "missed": missed}, indent=2
            )
            + "\n"
        )
    if missed and args.check:
        print("\ntargets missed: " + "; ".join(missed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
