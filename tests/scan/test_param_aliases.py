"""`pytest.param` under any name: an alias, `from pytest import param as p`, `pt.param`, an
alias imported from another module of the repository; and a function of our own that is
merely named `param`, which is not it. Checked against pytest in test_pytest_agrees.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.scan.conftest import scan
from tests.source.gitutil import commit, init_repo, write
from xfail_grabber.cli import main
from xfail_grabber.crosscheck import load

FIXTURE = Path(__file__).parent.parent / "fixtures" / "pytest_forms"
KEYS = ("test", "kind", "reason", "param_id", "mark_line", "line")


def pick(records, keys=KEYS):
    return [tuple(r[k] for k in keys) for r in records]


def test_aliases_in_the_same_file():
    records = scan("""
        import pytest
        import pytest as pt
        from pytest import param as p
        from _pytest.mark import param as internal
        P = pytest.param
        Q = P
        xf = pytest.mark.xfail

        @pytest.mark.parametrize("x", [
            P(1, marks=pytest.mark.skip(reason="P")),
            Q(2, marks=pytest.mark.skip(reason="Q")),
            p(3, marks=pytest.mark.skip(reason="p")),
            pt.param(4, marks=pytest.mark.skip(reason="pt")),
            internal(5, marks=pytest.mark.skip(reason="internal")),
            pytest.param(6, marks=xf(reason="called")),
            pytest.param(7, marks=[xf]),
            P(8, id="eight", marks=[xf, pytest.mark.skip]),
            9,
        ])
        def test_a(x): pass
    """)
    assert pick(records) == [
        ("test_a[1]", "skip", "P", "1", 11, 21),
        ("test_a[2]", "skip", "Q", "2", 12, 21),
        ("test_a[3]", "skip", "p", "3", 13, 21),
        ("test_a[4]", "skip", "pt", "4", 14, 21),
        ("test_a[5]", "skip", "internal", "5", 15, 21),
        ("test_a[6]", "xfail", "called", "6", 16, 21),
        ("test_a[7]", "xfail", None, "7", 17, 21),
        ("test_a[eight]", "skip", None, "eight", 18, 21),
        ("test_a[eight]", "xfail", None, "eight", 18, 21),
    ]


def test_parametrize_under_another_name():
    records = scan("""
        import pytest
        from pytest import mark
        parametrize = pytest.mark.parametrize
        cases = mark.parametrize
        @parametrize("x", [1, pytest.param(2, marks=pytest.mark.skip)])
        @cases("y", [3, pytest.param(4, marks=pytest.mark.xfail)])
        def test_a(x, y): pass
    """)
    assert pick(records, ("test", "kind", "param_id", "cases", "mark_line")) == [
        ("test_a[2]", "skip", "2", 2, 6),
        ("test_a[4]", "xfail", "4", 2, 7),
    ]


def test_a_function_named_param_is_not_pytest_param():
    records = scan("""
        import pytest
        from helpers import make
        def param(*values, **kwargs):
            return values
        class Other:
            param = staticmethod(param)
        @pytest.mark.parametrize("x", [
            param(1, marks=pytest.mark.skip(reason="ours")),
            Other.param(2, marks=pytest.mark.skip(reason="ours too")),
            undefined.param(3, marks=pytest.mark.skip(reason="unknown")),
            pytest.mark.param(4, marks=pytest.mark.skip(reason="a mark named param")),
        ])
        def test_a(x): pass
    """)
    assert records == []


def test_aliases_in_comprehensions_and_named_lists():
    records = scan("""
        import pytest
        P = pytest.param
        CASES = [1, P(2, marks=pytest.mark.xfail(reason="named list"))]
        @pytest.mark.parametrize("x", CASES)
        def test_named(x): pass
        @pytest.mark.parametrize("y", [P(i, marks=pytest.mark.skip) for i in range(3)])
        def test_made(y): pass
    """)
    assert pick(records, ("test", "kind", "reason", "param_index", "mark_line")) == [
        ("test_made[?]", "skip", None, None, 7),
        ("test_named[2]", "xfail", "named list", 1, 4),
    ]


def test_aliases_imported_from_the_repository(tmp_path):
    """tests/param_helpers.py mentions no marker word: it is read for the names only."""
    records = [r for r in dump(FIXTURE, tmp_path) if "param_" in r["path"]]
    assert pick(records) == [
        ("test_parametrize_alias[one]", "xfail", "parametrize alias", "one", 36, 37),
        ("test_values[1]", "skip", "local alias", "1", 21, 32),
        ("test_values[2]", "skip", "from pytest import param as p", "2", 22, 32),
        ("test_values[3]", "skip", "import pytest as pt", "3", 23, 32),
        ("test_values[4]", "xfail", "alias called", "4", 24, 32),
        ("test_values[5]", "xfail", None, "5", 25, 32),
        ("test_values[6]", "skip", "imported alias", "6", 26, 32),
        ("test_values[7]", "skip", "imported alias of an import", "7", 27, 32),
        ("test_values[8]", "skip", "module attribute", "8", 28, 32),
    ]
    assert {r["path"] for r in records} == {"tests/test_param_aliases.py"}


@pytest.mark.parametrize(
    ("helpers", "expected"),
    [
        ("import pytest\nP = pytest.param\n", ["test_a[1]"]),
        ("from pytest import param as P\n", ["test_a[1]"]),
        ("from .more import P\n", ["test_a[1]"]),  # a re-export of tests/more.py's alias
        ("def P(*values, **kwargs):\n    return values\n", []),
        ("P = print\n", []),
        ("", []),
    ],
)
def test_imported_names_count_only_when_they_are_pytest_param(tmp_path, helpers, expected):
    files = {
        "tests/__init__.py": "",
        "tests/helpers.py": helpers,
        "tests/more.py": "import pytest\n\nP = pytest.param\n",
        "tests/test_a.py": (
            "import pytest\nfrom .helpers import P\nfrom elsewhere import R\n\n"
            '@pytest.mark.parametrize("x", [P(1, marks=pytest.mark.skip),'
            " R(2, marks=pytest.mark.skip)])\ndef test_a(x):\n    pass\n"
        ),
    }
    root = tmp_path / "repo"
    write(root, files)
    assert [r["test"] for r in dump(root, tmp_path)] == expected


def test_history_follows_a_changed_alias(tmp_path, capsys):
    """Incremental scans (history) link an aliased value again when the alias changes."""
    root = init_repo(tmp_path / "repo")
    user = (
        "import pytest\nfrom .helpers import P\n\n"
        '@pytest.mark.parametrize("x", [P(1, marks=pytest.mark.skip)])\ndef test_a(x):\n'
        "    pass\n"
    )
    first = {"tests/__init__.py": "", "tests/helpers.py": "import pytest\nP = pytest.param\n"}
    commit(root, {**first, "tests/test_a.py": user}, date="2024-01-01T12:00:00Z")
    commit(
        root, {"tests/helpers.py": "def P(*a, **k):\n    return a\n"}, date="2024-01-02T12:00:00Z"
    )
    commit(
        root, {"tests/helpers.py": "import pytest as t\nP = t.param\n"}, date="2024-01-03T12:00:00Z"
    )
    code = main(
        ["history", str(root), "--since", "2024-01-01T13:00:00Z", "--until",
         "2024-01-03T13:00:00Z", "--every", "day", "--cache-dir", str(tmp_path / "c")]
    )  # fmt: skip
    assert code == 0
    points = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [[r["test"] for r in p["muted"]] for p in points] == [["test_a[1]"], [], ["test_a[1]"]]


def dump(root: Path, tmp_path: Path) -> list[dict]:
    out = tmp_path / "static.json"
    assert main(["dump", str(root), "--cache-dir", str(tmp_path / "cache"), "-o", str(out)]) == 0
    return load(out)


def test_a_name_bound_to_an_imported_one_is_followed(tmp_path):
    """`again = helpers.flaky_net` (or `= flaky_net`) binds the name as if imported."""
    files = {
        "tests/__init__.py": "",
        "tests/helpers.py": 'import pytest\n\nflaky_net = pytest.mark.xfail(reason="net")\n',
        "tests/test_a.py": (
            "import pytest\nfrom tests import helpers\nfrom tests.helpers import flaky_net\n\n"
            "again = helpers.flaky_net\nonce_more = again\nplain = flaky_net\n\n\n"
            "@again\ndef test_a():\n    pass\n\n\n@once_more\ndef test_b():\n    pass\n\n\n"
            "@plain\ndef test_c():\n    pass\n\n\n@pytest.mark.skip\ndef test_d():\n    pass\n"
        ),
    }
    root = tmp_path / "repo"
    write(root, files)
    found = [(r["test"], r["kind"], r["marker"], r["reason"]) for r in dump(root, tmp_path)]
    assert found == [
        # the marker is the alias's own name, as for `from ... import flaky_net as plain`
        ("test_a", "xfail", "flaky_net", "net"),
        ("test_b", "xfail", "flaky_net", "net"),
        ("test_c", "xfail", "flaky_net", "net"),
        ("test_d", "skip", "skip", None),
    ]
