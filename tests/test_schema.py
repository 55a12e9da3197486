"""Every output that carries a snapshot validates against the JSON Schema in the package."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
from pathlib import Path

import jsonschema
import pytest

from tests.pytest_run import run_pytest
from tests.serve.test_cli import spawn
from tests.source.gitutil import commit, init_repo
from xfail_grabber.cli import main
from xfail_grabber.model import Snapshot, snapshot_schema
from xfail_grabber.sinks import db

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = "<script>alert(1)</script> '; DROP TABLE x; -- 🙈\nline two"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = init_repo(tmp_path / "repo")
    for day, reason in (("2024-01-01", "first"), ("2024-01-09", HOSTILE)):
        text = f"import pytest\n\n@pytest.mark.xfail(reason={reason!r})\ndef test_a(): pass\n"
        commit(path, {"tests/test_a.py": text}, day, date=f"{day}T12:00:00Z")
    return path


def valid(data: dict) -> dict:
    jsonschema.validate(data, snapshot_schema())
    return data


def test_history_lines_are_snapshots(repo: Path, tmp_path: Path, capsys) -> None:
    code = main(
        [
            "history",
            str(repo),
            "main",
            "--since",
            "2024-01-01",
            "--until",
            "2024-01-16",
            "--every",
            "week",
            "--cache-dir",
            str(tmp_path / "cache"),
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    snapshots = [valid(json.loads(line)) for line in out.splitlines()]
    assert [s["muted"][0]["reason"] for s in snapshots] == ["first", HOSTILE]


def test_stored_snapshot_reads_back_valid(repo: Path, tmp_path: Path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    assert (
        main(["push", str(repo), "main", "--db", url, "--cache-dir", str(tmp_path / "cache")]) == 0
    )
    stored = db.latest_snapshot(url)
    assert stored is not None
    assert valid(stored.to_dict())["muted"][0]["reason"] == HOSTILE


def test_served_snapshot_is_valid(repo: Path, tmp_path: Path) -> None:
    env = {**os.environ, "GRABBER_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("GRABBER_DATABASE_URL", None)
    env.pop("GRABBER_AUTH_TOKEN", None)
    child = spawn(
        [sys.executable, "-m", "xfail_grabber", "serve", str(repo), "main", "--port", "0"],
        env,
        ROOT,
    )
    process = child.process
    try:
        body = child.wait_for("/api/snapshot")
        snapshot = valid(json.loads(body))
        assert Snapshot.from_dict(snapshot).muted[0].reason == HOSTILE
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)


def test_collect_plugin_output_is_valid(tmp_path: Path) -> None:
    """The shipped pytest plugin writes `"parser": "pytest"` records (marks pytest applied,
    outcomes of a real run); the schema takes them, and an inherited test's def_path is the
    file pytest locates it in, as the scanner says."""
    project = tmp_path / "project"
    shutil.copytree(ROOT / "tests" / "fixtures" / "mark_path", project)
    out = tmp_path / "collected.json"
    run = run_pytest(project, "-q", grabber_json=out)
    assert run.returncode == 0, run.stdout + run.stderr
    collected = valid(json.loads(out.read_text()))
    assert {r["parser"] for r in collected["muted"]} == {"pytest"}
    assert any(r["marker"] == "outcome" for r in collected["muted"])  # the setup skip
    static = tmp_path / "static.json"
    assert main(["dump", str(project), "--cache-dir", str(tmp_path / "c"), "-o", str(static)]) == 0
    scanned = {r["nodeid"]: r["def_path"] for r in json.loads(static.read_text())["muted"]}
    plugin = {r["nodeid"]: r["def_path"] for r in collected["muted"]}
    assert plugin == scanned
    assert plugin["tests/test_derived.py::TestMarked::test_inherited"] == "tests/bases.py"
    assert plugin["tests/test_derived.py::TestMarked::test_own"] is None
