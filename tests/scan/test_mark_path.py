"""mark_path and def_path: a mark, or a test method, inherited from a base class in another
file is written there, so `path:mark_line` / `path:line` would point at the wrong file; the
record names the mark's file (mark_path) and the def's file (def_path).

tests/fixtures/mark_path: tests/bases.py holds base classes (a class mark, a method mark, a
setup skip), tests/test_derived.py the test classes inheriting them, plus a base in its own
file. pytest collects it (and tests/fixtures/pytest_forms, whose TestChain::test_middle is
defined in a middle class's file, a third file) to check what `line` and def_path hold for
an inherited test: the `def` in the file that defines it, the file pytest's own
`item.location` and `item.reportinfo()` name.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.pytest_run import run_pytest
from xfail_grabber.cli import main

FIXTURE = Path(__file__).parent.parent / "fixtures" / "mark_path"
BASES = "tests/bases.py"
DERIVED = "tests/test_derived.py"

# (test, kind, scope, line, def_path, mark_line, mark_path)
EXPECTED = [
    ("TestLocal::test_local", "xfail", "function", 23, None, 22, None),
    ("TestLocal::test_method", "xfail", "function", 14, BASES, 13, BASES),
    ("TestMarked::test_inherited", "skip", "class", 8, BASES, 6, BASES),
    ("TestMarked::test_own", "skip", "class", 7, None, 6, BASES),
    ("TestMethods::test_method", "skipif", "class", 14, BASES, 11, None),
    ("TestMethods::test_method", "xfail", "function", 14, BASES, 13, BASES),
    ("TestMethods::test_plain", "skipif", "class", 17, BASES, 11, None),
    ("TestSetup::test_here", "imperative-skip", "setup", 17, None, 23, BASES),
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
        (r["test"], r["kind"], r["scope"], r["line"], r["def_path"], r["mark_line"], r["mark_path"])
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
    root = str(session.config.rootpath)
    found = {
        item.nodeid: [
            item.location[0],
            os.path.relpath(str(item.reportinfo()[0]), root).replace(os.sep, "/"),
        ]
        for item in session.items
    }
    with open(os.environ["LOCATIONS_OUT"], "w") as handle:
        json.dump(found, handle)
"""


def pytest_locations(project: Path, tmp_path: Path) -> dict[str, list[str]]:
    """nodeid -> [item.location's file, item.reportinfo()'s file], as pytest collects it."""
    (tmp_path / "locations_plugin.py").write_text(LOCATIONS)
    out = tmp_path / "locations.json"
    env = {"PYTHONPATH": str(tmp_path), "LOCATIONS_OUT": str(out)}
    proc = run_pytest(project, "-p", "locations_plugin", "--collect-only", "-q", env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return dict(json.loads(out.read_text()))


def test_line_is_the_def_in_the_file_pytest_locates_the_test_in(
    records: list[dict], tmp_path: Path
) -> None:
    located = pytest_locations(FIXTURE, tmp_path)
    assert located["tests/test_derived.py::TestMarked::test_inherited"] == [BASES, BASES]
    assert located["tests/test_derived.py::TestMarked::test_own"] == [DERIVED, DERIVED]
    for r in records:
        name = r["test"].rsplit("::", 1)[-1]
        # def_path is the file pytest locates the test in; `line` is its def there.
        assert located[r["nodeid"]] == [r["def_path"] or r["path"]] * 2, r
        assert source_line(located[r["nodeid"]][0], r["line"]) == f"def {name}(self):", r


def test_def_path_through_a_chain_of_bases_agrees_with_pytest(tmp_path: Path) -> None:
    """tests/fixtures/pytest_forms: TestChain (test_cross_class.py) inherits test_middle from
    Middle (middle.py), which inherits BaseChecks (base_tests.py) under another name. Every
    record's def_path or path is the file pytest locates the item in, and `line` its def."""
    project = tmp_path / "forms"
    shutil.copytree(FIXTURE.parent / "pytest_forms", project)
    out = tmp_path / "static.json"
    assert main(["dump", str(project), "--cache-dir", str(tmp_path / "cache"), "-o", str(out)]) == 0
    static = json.loads(out.read_text())["muted"]
    located = pytest_locations(project, tmp_path)
    by_test = {
        nodeid.split("[", 1)[0]: where for nodeid, where in sorted(located.items(), reverse=True)
    }
    chain = "tests/test_cross_class.py::TestChain::"
    assert by_test[chain + "test_middle"] == ["tests/middle.py"] * 2
    assert by_test[chain + "test_base_xfail"] == ["tests/base_tests.py"] * 2
    defs = {r["nodeid"]: r["def_path"] for r in static if r["nodeid"].startswith(chain)}
    assert defs == {
        chain + "test_middle": "tests/middle.py",
        chain + "test_base_xfail": "tests/base_tests.py",
        chain + "test_base_plain": "tests/base_tests.py",
    }
    files = {nodeid.split("::", 1)[0] for nodeid in located}
    for r in static:
        where = by_test.get(r["nodeid"].split("[", 1)[0])
        if where is None:
            # Only a module pytest skips while importing it has a record pytest cannot locate.
            assert r["path"] not in files, r
            continue
        assert where == [r["def_path"] or r["path"]] * 2, r
        assert r["def_path"] != r["path"], r  # null, never the record's own path
        name = r["test"].split("[", 1)[0].rsplit("::", 1)[-1]
        text = (project / where[0]).read_text().splitlines()[r["line"] - 1].strip()
        assert re.match(rf"(async )?def {name}\(", text), (r, text)
