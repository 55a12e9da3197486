"""`--config fleet.toml` on push, dump and history, through the real command line."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import jsonschema
import pytest

from xfail_grabber.cli import main
from xfail_grabber.fleet import load_fleet

from .conftest import OLD, RECENT, make_repo, write_fleet

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "xfail_grabber/schema/snapshot.schema.json").read_text()
)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def fleet_file(tmp_path: Path) -> Path:
    a = make_repo(tmp_path / "a", {"main": RECENT, "release/1": OLD, "release/2": RECENT})
    b = make_repo(tmp_path / "b", {"master": RECENT}, head="master")
    return write_fleet(
        tmp_path / "fleet.toml",
        '[defaults]\nbranches = ["main", "master", "release/*"]\nactive_within = "30d"\n\n'
        f'[[repos]]\nurl = "file://{a}"\n\n[[repos]]\nurl = "file://{b}"\n',
    )


def broken(fleet_file: Path) -> Path:
    with fleet_file.open("a") as handle:
        handle.write(f'\n[[repos]]\nurl = "file://{fleet_file.parent}/gone.git"\n')
    return fleet_file


def test_push_stores_every_active_branch(
    capsys: pytest.CaptureFixture[str], fleet_file: Path, tmp_path: Path
) -> None:
    db = tmp_path / "s.db"
    code, out, err = run(
        capsys, "push", "--config", str(fleet_file), "--db", f"sqlite:///{db}",
        "--cache-dir", str(tmp_path / "cache"), "--jobs", "2",
    )  # fmt: skip
    assert (code, out) == (0, "")
    assert err.startswith(
        "grabber: fleet: 2 repositories, 4 branches matched, 3 active, 3 snapshots pushed, "
        "0 failures, "
    )
    rows = sqlite3.connect(db).execute('SELECT "repo", "branch" FROM snapshots').fetchall()
    assert sorted((r.rsplit("/", 1)[-1], b) for r, b in rows) == [
        ("a", "main"),
        ("a", "release/2"),
        ("b", "master"),
    ]


def test_one_failing_repository_is_reported_and_the_rest_is_pushed(
    capsys: pytest.CaptureFixture[str], fleet_file: Path, tmp_path: Path
) -> None:
    db = tmp_path / "s.db"
    code, out, err = run(
        capsys, "push", "--config", str(broken(fleet_file)), "--db", f"sqlite:///{db}",
        "--cache-dir", str(tmp_path / "cache"), "--jobs", "1",
    )  # fmt: skip
    assert code == 1 and out == ""
    lines = err.splitlines()
    assert lines[0].startswith(f"grabber: failed: cannot list the branches of file://{tmp_path}")
    assert "3 snapshots pushed, 1 failure," in lines[1]
    assert lines[2] == "  " + lines[0].removeprefix("grabber: ")
    assert len(lines) == 3
    assert sqlite3.connect(db).execute("SELECT COUNT(*) FROM snapshots").fetchone() == (3,)


def test_dump_prints_one_valid_snapshot_per_line(
    capsys: pytest.CaptureFixture[str], fleet_file: Path, tmp_path: Path
) -> None:
    code, out, err = run(
        capsys, "dump", "--config", str(fleet_file), "--cache-dir", str(tmp_path / "cache"),
        "--only", "xfail",
    )  # fmt: skip
    assert code == 0, err
    snapshots = [json.loads(line) for line in out.splitlines()]
    assert len(snapshots) == 3
    for snapshot in snapshots:
        jsonschema.validate(snapshot, SCHEMA)
        assert snapshot["markers"] == ["xfail"]
    assert "snapshots written" in err


def test_history_backfills_every_branch_and_skips_what_is_stored(
    capsys: pytest.CaptureFixture[str], fleet_file: Path, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'h.db'}"
    argv = (
        "history", "--config", str(fleet_file), "--since", "2026-11-16", "--until",
        "2026-11-19", "--every", "day", "--db", db, "--cache-dir", str(tmp_path / "cache"),
    )  # fmt: skip
    code, _, err = run(capsys, *argv)
    assert code == 0, err
    assert "12 snapshots pushed" in err  # 4 days x 3 active branches
    code, _, err = run(capsys, *argv)
    assert code == 0 and "0 snapshots pushed" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("push", ".", "--jobs", "2"), "--jobs, --shard and --shards go with --config FILE"),
        (("push",), "missing REPOSITORY (or --config FILE listing [[repos]])"),
        (("dump", "--shard", "3/2"), "shard index 3 is not in 0..1"),
        (("dump", "--format", "csv"), "a fleet dump prints one JSON snapshot per line"),
        (("dump", "--ref", "HEAD"), "--ref names one commit of one repository"),
    ],
)
def test_usage_errors_exit_2_in_one_line(
    capsys: pytest.CaptureFixture[str],
    fleet_file: Path,
    tmp_path: Path,
    argv: tuple[str, ...],
    message: str,
) -> None:
    config = () if argv == ("push",) else ("--config", str(fleet_file))
    database = ("--db", f"sqlite:///{tmp_path}/x.db") if argv[0] == "push" else ()
    code, out, err = run(capsys, *argv, *config, *database)
    assert (code, out) == (2, "")
    assert err.startswith(f"Error: {message}")
    assert err.count("\n") == 1


def test_a_bad_fleet_file_names_file_line_and_key(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write_fleet(
        tmp_path / "fleet.toml",
        '[[repos]]\nurl = "https://github.com/org/a"\n\n[[repos]]\nurl = "https://github.com/org/b"\n'
        "active_within = 30\n",
    )
    code, out, err = run(capsys, "push", "--config", str(path), "--db", f"sqlite:///{tmp_path}/x")
    assert (code, out) == (2, "")
    assert err == (
        f"Error: {path}:6: key 'active_within' in [[repos]] #2: must be a string such as \"30d\"\n"
    )


def test_jobs_index_without_a_count_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
    fleet_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("JOB_COMPLETION_INDEX", "0")
    code, _, err = run(capsys, "dump", "--config", str(fleet_file))
    assert code == 2 and "JOB_COMPLETION_INDEX is set but not the shard count" in err


def test_readme_documents_the_fleet_and_its_example_file_is_valid(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text(encoding="utf-8")
    section = readme.split("<!-- section: fleet -->")[1].split("<!-- end section: fleet -->")[0]
    for text in (
        "xfailflake_grabber.py redshift",
        "grabber push --config fleet.toml",
        "grabber dump --config fleet.toml",
        "grabber history --config fleet.toml",
        "--jobs",
        "--shard INDEX/COUNT",
        "--shards N",
        "JOB_COMPLETION_INDEX",
        "deploy/kubernetes/cronjob.yaml",
        "deploy/github/daily.yml",
    ):
        assert text in section, text
    for path in ("deploy/kubernetes/cronjob.yaml", "deploy/github/daily.yml"):
        assert (root / path).is_file()
    example = section.split("```toml\n")[1].split("```")[0]
    fleet = load_fleet(write_fleet(tmp_path / "fleet.toml", example))
    assert [r.branches for r in fleet.repos] == [
        ("main", "master", "release/*"),
        ("master", "1.*"),
    ]
