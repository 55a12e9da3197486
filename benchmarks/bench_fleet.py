"""Fleet benchmark (issue 13): `grabber push --config fleet.toml` over many small repositories
against a loop of single `grabber push REPOSITORY BRANCH` runs, in the same run.

The fleet: `--repos` (200) small repositories made by benchmarks/synth.py (seed = index, so
they differ; `--files` test files each), served as file:// URLs with partial clone allowed (as
GitHub does). Each has 2-5 branches (main and release/1..4). The fleet file picks
`main` and `release/*` with `active_within = "30d"`: main and one release branch in three got
a commit yesterday, the rest are dormant (2019).

Rows, each from a cold cache (a fresh --cache-dir, like a pod's emptyDir), for SQLite and for
PostgreSQL (a throwaway database on the local server):

- loop: one `python -m xfail_grabber push URL BRANCH` process per active pair (what the fleet
  pushes), one after another, sharing one cache directory; the sum of their wall times;
- fleet --jobs 1, --jobs 2, and the default (`default_jobs()`);
- 4 shards: four `push --config --shard i/4 --jobs 1` processes at once (the pods of an
  Indexed Job, here on one machine).

Overhead per repository, fleet runs divided by the repositories: no branch matched (start-up
and one ls-remote a repository), no branch active (`active_within = "1h"`: also the shallow
fetch of the tips), and `push --jobs 1` twice over one cache (cold, then warm: one fetch of
the clone a repository, scan-cache look-ups, the pushes). `--compare-tips` also times how the
tips' dates are learnt on a cold cache: the shallow fetch of the tips (what the fleet does)
against a full partial clone into the cache (the other way).

Target: the default at least 1.5x faster than the loop; overhead under 100 ms a repository.

    python3 benchmarks/bench_fleet.py [--repos 200] [--files 6] [--check] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))
import synth  # noqa: E402
from hostinfo import cpu_model  # noqa: E402

from xfail_grabber.fleet import default_jobs  # noqa: E402

ADMIN_URL = os.environ.get(
    "GRABBER_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
DAY = 86_400


def build_fleet(root: Path, repos: int, files: int) -> list[tuple[str, str]]:
    """The repositories under root; returns the active (url, branch) pairs."""
    now = int(time.time())
    active: list[tuple[str, str]] = []
    for index in range(repos):
        path = root / f"repo{index:03d}"
        synth.build(path, files=files, seed=index + 1, target_mb=files * 0.004)
        synth._git(path, "config", "uploadpack.allowFilter", "true")
        url = f"file://{path}"
        releases = 1 + index % 4  # 2-5 branches with main
        for n in range(1, releases + 1):
            synth._git(path, "branch", f"release/{n}")
        busy = ["main"] + (["release/1"] if index % 3 == 0 else [])
        for branch in busy:
            synth._git(path, "checkout", "-q", branch)
            test = path / "tests" / f"test_recent_{branch.replace('/', '_')}.py"
            test.write_text(
                "import pytest\n\n\n@pytest.mark.xfailflake(jira='DCOS-1', reason='new')\n"
                "def test_recent():\n    pass\n"
            )
            synth._commit_all(path, "yesterday", now - DAY)
            active.append((url, branch))
        synth._git(path, "checkout", "-q", "main")
    return active


def fleet_file(
    path: Path, urls: list[str], within: str, branches: str = '["main", "release/*"]'
) -> Path:
    entries = "".join(f'\n[[repos]]\nurl = "{url}"\n' for url in urls)
    path.write_text(f'[defaults]\nbranches = {branches}\nactive_within = "{within}"\n' + entries)
    return path


def grabber(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "xfail_grabber", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def timed(*args: str, env: dict[str, str]) -> tuple[float, str]:
    start = time.monotonic()
    proc = grabber(*args, env=env)
    _, err = proc.communicate()
    seconds = time.monotonic() - start
    if proc.returncode != 0:
        raise SystemExit(f"bench_fleet: grabber {' '.join(args)} failed:\n{err}")
    return seconds, err


def summary_line(err: str) -> str:
    return next((line for line in reversed(err.splitlines()) if "fleet" in line), "")


def run_loop(pairs: list[tuple[str, str]], db: str, cache: Path, env: dict[str, str]) -> float:
    total = 0.0
    for url, branch in pairs:
        seconds, _ = timed("push", url, branch, "--db", db, "--cache-dir", str(cache), env=env)
        total += seconds
    return total


def run_shards(config: Path, db: str, tmp: Path, env: dict[str, str], count: int) -> float:
    start = time.monotonic()
    procs = [
        grabber(
            "push",
            "--config",
            str(config),
            "--db",
            db,
            "--shard",
            f"{i}/{count}",
            "--jobs",
            "1",
            "--cache-dir",
            str(tmp / f"cache-shard{i}"),
            env=env,
        )
        for i in range(count)
    ]
    for proc in procs:
        _, err = proc.communicate()
        if proc.returncode != 0:
            raise SystemExit(f"bench_fleet: a shard failed:\n{err}")
    return time.monotonic() - start


def compare_tips(urls: list[str], tmp: Path) -> dict[str, float]:
    """ms per repository: shallow fetch of the tips vs a partial clone into the cache."""
    from xfail_grabber.fleet.file import RepoSpec
    from xfail_grabber.fleet.plan import list_branches, match_branches, tip_dates
    from xfail_grabber.source.clones import cached_clone, parse_remote

    specs = [RepoSpec(u, u, ("main", "release/*"), None, None, None, 0) for u in urls]
    branches = [match_branches(s, list_branches(s)) for s in specs]
    start = time.monotonic()
    for spec, names in zip(specs, branches, strict=True):
        tip_dates(spec, names, tmp / "tips-cache")
    shallow = time.monotonic() - start
    start = time.monotonic()
    for spec in specs:
        cached_clone(parse_remote(spec.url), tmp / "clone-cache")
    clone = time.monotonic() - start
    return {"shallow_tips_ms": 1000 * shallow / len(urls), "clone_ms": 1000 * clone / len(urls)}


def postgres_url() -> tuple[str, Any]:
    import psycopg2

    name = "xg_bench_fleet_" + uuid.uuid4().hex[:10]
    admin = psycopg2.connect(ADMIN_URL, connect_timeout=10)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    return ADMIN_URL.rsplit("/", 1)[0] + "/" + name, (admin, name)


def drop_postgres(handle: Any) -> None:
    admin, name = handle
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repos", type=int, default=200)
    parser.add_argument("--files", type=int, default=6, help="test files per repository")
    parser.add_argument(
        "--databases", default="sqlite,postgresql", help="comma-separated; `none`: overhead only"
    )
    parser.add_argument("--compare-tips", type=int, default=50, metavar="N", help="repositories")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="bench-fleet-"))
    results: dict[str, Any] = {
        "machine": f"{cpu_model()}, {os.cpu_count()} CPUs, {platform.platform()}",
        "python": platform.python_version(),
        "repos": args.repos,
        "default_jobs": default_jobs(),
    }
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for name in ("GITHUB_TOKEN", "GRABBER_GIT_TOKEN", "JOB_COMPLETION_INDEX", "GRABBER_CACHE_DIR"):
        env.pop(name, None)
    try:
        start = time.monotonic()
        pairs = build_fleet(tmp / "repos", args.repos, args.files)
        urls = [f"file://{tmp / 'repos' / f'repo{i:03d}'}" for i in range(args.repos)]
        print(f"built {args.repos} repositories, {len(pairs)} active pairs "
              f"in {time.monotonic() - start:.0f}s", flush=True)  # fmt: skip
        results["active_pairs"] = len(pairs)
        config = fleet_file(tmp / "fleet.toml", urls, "30d")
        dormant = fleet_file(tmp / "dormant.toml", urls, "1h")

        unmatched = fleet_file(tmp / "unmatched.toml", urls, "30d", '["no-such-branch"]')
        for label, config_path in (("unmatched", unmatched), ("dormant", dormant)):
            for jobs in ("1", str(default_jobs())):
                seconds, _ = timed(
                    "dump", "--config", str(config_path), "--jobs", jobs,
                    "--cache-dir", str(tmp / f"c0-{label}-{jobs}"), env=env,
                )  # fmt: skip
                key = f"overhead_ms_per_repo_{label}_jobs_{jobs}"
                results[key] = 1000 * seconds / args.repos
                print(f"overhead ({label}, --jobs {jobs}): {seconds:.1f}s, "
                      f"{results[key]:.0f} ms a repository", flush=True)  # fmt: skip
        results["overhead_ms_per_repo"] = results["overhead_ms_per_repo_unmatched_jobs_1"]
        warm = tmp / "warm-cache"
        warm_db = f"sqlite:///{tmp / 'warm.sqlite3'}"
        for run in ("cold", "warm"):
            seconds, _ = timed(
                "push", "--config", str(config), "--db", warm_db, "--jobs", "1",
                "--cache-dir", str(warm), env=env,
            )  # fmt: skip
            results[f"{run}_rerun_s"] = seconds
            print(f"fleet --jobs 1, {run} cache: {seconds:.1f}s, "
                  f"{1000 * seconds / args.repos:.0f} ms a repository", flush=True)  # fmt: skip
        if args.compare_tips:
            results["tips"] = compare_tips(urls[: args.compare_tips], tmp)
            print(f"tips: {results['tips']}", flush=True)

        for kind in [k.strip() for k in args.databases.split(",") if k.strip() != "none"]:
            handle = None
            if kind == "sqlite":
                db = f"sqlite:///{tmp / 'fleet.sqlite3'}"
                loop_db = f"sqlite:///{tmp / 'loop.sqlite3'}"
            else:
                db, handle = postgres_url()
                loop_db = db + "?schema=loop"
            try:
                row: dict[str, float] = {}
                row["loop"] = run_loop(pairs, loop_db, tmp / f"{kind}-loop-cache", env)
                print(f"{kind}: loop of {len(pairs)} single pushes: {row['loop']:.1f}s", flush=True)
                for jobs in ("1", "2", str(default_jobs())):
                    key = f"jobs {jobs}"
                    if key in row:
                        continue
                    row[key], err = timed(
                        "push", "--config", str(config), "--db", db, "--jobs", jobs,
                        "--cache-dir", str(tmp / f"{kind}-cache-{jobs}"), env=env,
                    )  # fmt: skip
                    print(f"{kind}: fleet --jobs {jobs}: {row[key]:.1f}s  {summary_line(err)}",
                          flush=True)  # fmt: skip
                row["4 shards"] = run_shards(config, db, tmp / kind, env, 4)
                print(f"{kind}: 4 shards as 4 processes: {row['4 shards']:.1f}s", flush=True)
                results[kind] = row
            finally:
                if handle is not None:
                    drop_postgres(handle)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    missed = []
    print()
    print(f"machine: {results['machine']}, Python {results['python']}")
    print(f"{'database':<11} {'row':<12} {'wall s':>8} {'loop/row':>9}")
    for kind in ("sqlite", "postgresql"):
        row = results.get(kind)
        if not row:
            continue
        for name, seconds in row.items():
            print(f"{kind:<11} {name:<12} {seconds:8.1f} {row['loop'] / seconds:9.2f}")
        speedup = row["loop"] / row[f"jobs {default_jobs()}"]
        if speedup < 1.5:
            missed.append(f"{kind}: default only {speedup:.2f}x faster than the loop")
    if results["overhead_ms_per_repo"] >= 100:
        missed.append(
            f"overhead (start-up, ls-remote) {results['overhead_ms_per_repo']:.0f} ms a repository"
        )
    for line in missed:
        print(f"TARGET MISSED: {line}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 1 if missed and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
