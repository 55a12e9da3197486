"""`grabber crosscheck`: what a static scan missed or added against pytest's collection."""

from __future__ import annotations

import json
from pathlib import Path

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
