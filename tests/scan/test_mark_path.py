"""mark_path: a mark inherited from a base class in another file is written there, so
`path:mark_line` would point at the wrong file; the record names the mark's file.

tests/fixtures/mark_path: tests/bases.py holds base classes (a class mark, a method mark, a
setup skip), tests/test_derived.py the test classes inheriting them, plus a base in its own
file. pytest collects it too, to check what `line` holds for an inherited test: the `def` in
the file that defines it, the file pytest's own `item.location` names.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from xfail_grabber.cli import main

FIXTURE = Path(__file__).parent.parent / "fixtures" / "mark_path"
BASES = "tests/bases.py"
DERIVED = "tests/test_derived.py"

# (test, kind, scope, line, mark_line, mark_path)
EXPECTED = [
    ("TestLocal::test_local", "xfail", "function", 23, 22, None),
    ("TestLocal::test_method", "xfail", "function", 14, 13, BASES),
    ("TestMarked::test_inherited", "skip", "class", 8, 6, BASES),
    ("TestMarked::test_own", "skip", "class", 7, 6, BASES),
    ("TestMethods::test_method", "skipif", "class", 14, 11, None),
    ("TestMethods::test_method", "xfail", "function", 14, 13, BASES),
    ("TestMethods::test_plain", "skipif", "class", 17, 11, None),
    ("TestSetup::test_here", "imperative-skip", "setup", 17, 23, BASES),
]


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    out = tmp_path_factory.mktemp("dump") / "static.json"
    cache = tmp_path_factory.mktemp("cache")
    assert main(["dump", str(FIXTURE), "--cache-dir", str(cache), "-o", str(out)]) == 0
    return list(json.loads(out.read_text())["muted"])


def source_line(path: str, line: int) -> str:
    return (FIXTURE / path).read_text().splitlines()[line - 1].strip()


def test_inherited_marks_name_the_file_they_are_written_in(records: list[dict]) -> None:
    found = [
        (r["test"], r["kind"], r["scope"], r["line"], r["mark_line"], r["mark_path"])
        for r in records
    ]
    assert found == EXPECTED
    assert {r["path"] for r in records} == {DERIVED}


def test_mark_path_and_mark_line_point_at_the_mark(records: list[dict]) -> None:
    marks = {
        (r["test"], r["kind"]): source_line(r["mark_path"] or r["path"], r["mark_line"])
        for r in records
    }
    assert marks[("TestMarked::test_own", "skip")] == (
        '@pytest.mark.skip(reason="class mark in the base")'
    )
    assert marks[("TestMethods::test_method", "xfail")].startswith("@pytest.mark.xfail(")
    assert marks[("TestMethods::test_method", "skipif")].startswith("@pytest.mark.skipif(True")
    assert marks[("TestSetup::test_here", "imperative-skip")] == (
        'pytest.skip("setup skip in the base")'
    )
    assert marks[("TestLocal::test_local", "xfail")] == (
        '@pytest.mark.xfail(reason="a base in this file")'
    )


LOCATIONS = """
def pytest_collection_finish(session):
    import json, os
    found = {item.nodeid: item.location[0] for item in session.items}
    with open(os.environ["LOCATIONS_OUT"], "w") as handle:
        json.dump(found, handle)
"""


def test_line_is_the_def_in_the_file_pytest_locates_the_test_in(
    records: list[dict], tmp_path: Path
) -> None:
    (tmp_path / "locations_plugin.py").write_text(LOCATIONS)
    out = tmp_path / "locations.json"
    env = {
        **os.environ,
        "PYTHONPATH": str(tmp_path),
        "PYTHONDONTWRITEBYTECODE": "1",
        "LOCATIONS_OUT": str(out),
    }
    env.pop("PYTEST_ADDOPTS", None)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-p",
            "locations_plugin",
            "--collect-only",
            "-q",
        ],
        cwd=FIXTURE,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    located = json.loads(out.read_text())
    assert located["tests/test_derived.py::TestMarked::test_inherited"] == BASES
    assert located["tests/test_derived.py::TestMarked::test_own"] == DERIVED
    for r in records:
        name = r["test"].rsplit("::", 1)[-1]
        assert source_line(located[r["nodeid"]], r["line"]) == f"def {name}(self):", r
