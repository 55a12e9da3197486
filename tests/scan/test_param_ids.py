"""Parametrize ids checked against pytest itself: `pytest --collect-only` over a fixture of
tricky parametrizations, and every node id the scanner says it knows must be one pytest made."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from tests.pytest_run import run_pytest
from tests.scan.conftest import scan
from xfail_grabber.config import Settings
from xfail_grabber.scan.file import scan_bytes

FIXTURE = Path(__file__).parent.parent / "fixtures" / "params" / "test_param_ids.py"
# Records, for every collected item, the marks its parametrize values gave it.
PLUGIN = """
import json

def pytest_collection_modifyitems(config, items):
    found = {}
    for item in items:
        callspec = getattr(item, "callspec", None)
        found[item.nodeid] = sorted(m.name for m in (callspec.marks if callspec else ()))
    with open("collected.json", "w") as out:
        json.dump(found, out)
"""


@pytest.fixture(scope="module")
def collected(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    root = tmp_path_factory.mktemp("params")
    shutil.copy(FIXTURE, root / FIXTURE.name)
    (root / "pytest.ini").write_text("[pytest]\n")  # stop pytest looking further up
    (root / "conftest.py").write_text(PLUGIN)
    done = run_pytest(root, "--collect-only", "-q", timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    result: dict[str, list[str]] = json.loads((root / "collected.json").read_text())
    return result


@pytest.fixture(scope="module")
def records() -> list[dict[str, object]]:
    facts = scan_bytes(FIXTURE.name, FIXTURE.read_bytes(), Settings(), True)
    assert facts.error is None and facts.parser == "libcst"
    return [r.to_dict() for r in facts.records]


def base(nodeid: str) -> str:
    return nodeid.split("[", 1)[0]


def test_every_known_param_nodeid_is_one_pytest_printed(collected, records):
    params = [r for r in records if r["scope"] == "param"]
    exact = [r for r in params if r["param_id"] is not None and r["cases"] == 1]
    assert len(exact) > 30
    for record in exact:
        assert record["nodeid"] in collected, record["nodeid"]
        assert record["nodeid"] == f"{base(record['nodeid'])}[{record['param_id']}]"
        assert record["kind"] in collected[record["nodeid"]]


def test_every_marked_value_pytest_collected_has_exactly_its_records(collected, records):
    """One record per marked value and mark: never multiplied across sibling parametrizes."""
    expected = Counter()
    for nodeid, marks in collected.items():
        for mark in marks:
            expected[(base(nodeid), mark)] += 1
    found = Counter()
    for record in records:
        if record["scope"] == "param":
            cases = record["cases"]
            found[(base(str(record["nodeid"])), record["kind"])] += cases if cases else 1
    # test_siblings: 2 of its 24 items carry the mark through x=2 (cases unknown: range());
    # the generator's values cannot be listed statically: one record, `[?]`.
    sibling = ("test_param_ids.py::test_siblings", "xfail")
    assert expected.pop(sibling) == 12 and found.pop(sibling) == 1
    generator = ("test_param_ids.py::test_generator", "skip")  # one record: test_generator[?]
    assert expected.pop(generator) == 2 and found.pop(generator) == 1
    assert found == expected


def test_unknown_ids_are_indexes_never_guesses(collected, records):
    unknown = {r["nodeid"]: r for r in records if r["param_id"] is None and r["scope"] == "param"}
    assert sorted(unknown) == [
        "test_param_ids.py::test_generator[?]",  # a comprehension: which values, unknown
        "test_param_ids.py::test_ids_callable[#1]",
        "test_param_ids.py::test_long_string[#1]",  # 101 characters: depends on pytest's version
        "test_param_ids.py::test_long_string[#2]",  # "y" * 3
        "test_param_ids.py::test_trailing_comma[#1]",  # "x,": depends on pytest's version
        "test_param_ids.py::test_values[#20]",  # 2**31 - 1
        "test_param_ids.py::test_values[#21]",  # object()
        "test_param_ids.py::test_values[#22]",  # "x" * 101
        "test_param_ids.py::test_values[#24]",  # id="a" + "b"
    ]
    for nodeid, record in unknown.items():
        items = [n for n in collected if base(n) == base(nodeid)]
        assert record["param_index"] is None or record["param_index"] < len(items)


def test_cases_of_class_level_and_sibling_parametrize(records):
    by_id = {(r["nodeid"], r["kind"]): r["cases"] for r in records}
    assert by_id[("test_param_ids.py::TestClassParams::test_method[q]", "skip")] == 2
    assert by_id[("test_param_ids.py::TestClassParams::test_method[2]", "xfail")] == 2
    assert by_id[("test_param_ids.py::TestClassParams::test_whole", "skip")] == 6
    assert by_id[("test_param_ids.py::TestClassParams::test_whole[q]", "skip")] == 3


def test_cases_of_plain_marks():
    records = scan("""
        import pytest
        @pytest.mark.skip
        @pytest.mark.parametrize("a", [1, 2, 3])
        @pytest.mark.parametrize("b", ["x", "y"])
        def test_product(a, b): pass
        @pytest.mark.skip
        def test_single(): pass
        @pytest.mark.skip
        @pytest.mark.parametrize("a", VALUES)
        def test_unknown(a): pass
    """)
    assert [(r["test"], r["cases"], r["param_index"]) for r in records] == [
        ("test_product", 6, None),
        ("test_single", 1, None),
        ("test_unknown", None, None),
    ]


def test_a_mark_survives_a_sibling_whose_values_cannot_be_listed():
    records = scan("""
        import pytest
        @pytest.mark.parametrize("b", make_values())
        @pytest.mark.parametrize("a", [1, pytest.param(2, marks=pytest.mark.xfail)])
        def test_a(a, b): pass
    """)
    assert [(r["test"], r["param_id"], r["cases"]) for r in records] == [("test_a[2]", "2", None)]


def test_shadowed_builtins_and_decorated_functions_are_not_named():
    records = scan("""
        import pytest
        from somewhere import helper
        int = str
        @pytest.fixture
        def decorated(): pass
        class Mixed(str, enum.Enum):
            A = "a"
        @pytest.mark.parametrize("v", [
            pytest.param(int, marks=pytest.mark.skip),
            pytest.param(helper, marks=pytest.mark.skip),
            pytest.param(decorated, marks=pytest.mark.skip),
            pytest.param(Mixed.A, marks=pytest.mark.skip),
            pytest.param(len, marks=pytest.mark.skip),
        ])
        def test_a(v): pass
    """)
    assert [r["test"] for r in records] == [
        "test_a[#0]",
        "test_a[#1]",
        "test_a[#2]",
        "test_a[#3]",
        "test_a[len]",
    ]


def test_named_lists_and_comprehensions():
    records = scan("""
        import pytest
        MODES = ["a", pytest.param("b", marks=pytest.mark.skip(reason="b"))]
        @pytest.mark.parametrize("m", MODES)
        def test_named(m): pass
        @pytest.mark.parametrize("x", [pytest.param(i, marks=pytest.mark.xfail) for i in range(3)])
        @pytest.mark.parametrize("y", [1, 2])
        def test_made(x, y): pass
    """)
    found = [
        (r["test"], r["param_index"], r["param_id"], r["cases"], r["mark_line"]) for r in records
    ]
    assert found == [("test_made[?]", None, None, 2, 6), ("test_named[b]", 1, "b", 1, 3)]
