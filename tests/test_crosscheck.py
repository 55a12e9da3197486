"""`grabber crosscheck`: what a static scan missed or added against pytest's collection."""

from __future__ import annotations

import json
from pathlib import Path

from tests.pytest_run import run_pytest
from xfail_grabber.cli import main


def snapshot(path: Path, *records: tuple[str, str, str]) -> Path:
    muted = [
        {"nodeid": n, "kind": k, "marker": m, "reason": None, "category": "muted"}
        for n, k, m in records
    ]
    path.write_text(json.dumps({"muted": muted}))
    return path


def test_lists_missed_and_added_and_fails_on_request(tmp_path, capsys):
    static = snapshot(
        tmp_path / "s.json",
        ("t.py::test_a", "skip", "skip"),
        ("t.py::test_b", "xfail", "xfail"),
        ("t.py::test_c", "imperative-skip", "pytest.skip"),  # not a mark: needs a run
    )
    collected = snapshot(
        tmp_path / "c.json",
        ("t.py::test_a", "skip", "skip"),
        ("t.py::test_d", "skipif", "skipif"),
    )
    assert main(["crosscheck", str(static), str(collected)]) == 0
    assert capsys.readouterr().out == (
        "missed\tt.py::test_d\tskipif\n"
        "added\tt.py::test_b\txfail\n"
        "1 missed, 1 added, 2 static records compared "
        "(marks only: the collected file has no outcomes)\n"
    )
    assert main(["crosscheck", "--fail", str(static), str(collected)]) == 3
    capsys.readouterr()
    ran = snapshot(
        tmp_path / "r.json",
        ("t.py::test_a", "skip", "skip"),
        ("t.py::test_b", "xfail", "xfail"),
        ("t.py::test_c", "imperative-skip", "outcome"),
    )
    assert main(["crosscheck", "--fail", "--json", str(static), str(ran)]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "missed": [],
        "added": [],
        "unconfirmed": [],
        "compared": 3,
        "outcomes": True,
    }


def test_a_file_that_is_not_a_snapshot_is_a_one_line_error(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    good = snapshot(tmp_path / "g.json")
    assert main(["crosscheck", str(bad), str(good)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.endswith("not a snapshot (no 'muted' list)") and "\n" not in err
    assert main(["crosscheck", str(tmp_path / "none.json"), str(good)]) == 1
    assert "no such file" in capsys.readouterr().err


def test_the_collect_command_in_the_help_can_be_run_again(tmp_path, capsys):
    """Copied from `grabber crosscheck --help`, the pytest command gives the same node ids when
    its output file exists (a separate `--grabber-json FILE` moved pytest's rootdir up to the
    file's folder: every id changed and crosscheck reported everything)."""
    import re
    import shlex

    assert main(["crosscheck", "--help"]) == 0
    shown = re.search(r"`(pytest -p xfail_grabber\.collect [^`]*)`", capsys.readouterr().out)
    assert shown is not None
    project = tmp_path / "project"
    project.mkdir()
    (project / "test_a.py").write_text(
        "import pytest\n\n@pytest.mark.skip\ndef test_a():\n    pass\n"
    )
    out = tmp_path / "collected.json"
    argv = [arg.replace("FILE", str(out)) for arg in shlex.split(shown.group(1))[1:]]
    ids = []
    for _ in range(2):
        done = run_pytest(project, *argv, "-q")
        assert done.returncode == 0, done.stdout + done.stderr
        ids.append([r["nodeid"] for r in json.loads(out.read_text())["muted"]])
    assert ids == [["test_a.py::test_a"], ["test_a.py::test_a"]]
