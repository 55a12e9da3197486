"""Condition text of mutes under an enclosing if/elif/else or except."""

from __future__ import annotations

import libcst as cst

from tests.scan.conftest import scan
from xfail_grabber.scan.flow import both, branches


def conditions(source: str, outer: str | None = None) -> list[str | None]:
    return [guard for _, guard in branches(cst.parse_statement(source), outer)]


def test_every_branch_says_which_it_is():
    assert conditions(
        "if a:\n    pass\nelif b:\n    pass\nelif c or d:\n    pass\nelse:\n    pass\n"
    ) == [
        "a",
        "not (a) and b",
        "not (a) and not (b) and (c or d)",
        "not (a) and not (b) and not (c or d)",
    ]
    assert conditions("if x == (\n    1,\n):\n    pass\nelse:\n    pass\n") == [
        "x == (1,)",
        "not (x == (1,))",
    ]


def test_guards_nest_with_and():
    assert both(None, "a") == "a"
    assert both("a", None) == "a"
    assert both("a or b", "c") == "(a or b) and c"
    assert both("(a or b)", "not (c)") == "(a or b) and not (c)"
    source = "if a or b:\n    pass\nelse:\n    pass\n"
    assert conditions(source, "outer") == ["outer and (a or b)", "outer and not (a or b)"]


def test_except_handlers():
    assert conditions(
        "try:\n    pass\nexcept ImportError:\n    pass\nexcept (OSError, ValueError) as e:\n"
        "    pass\nexcept:\n    pass\n"
    ) == [None, "except ImportError", "except (OSError, ValueError)", "except"]


def test_body_skips_under_branches_and_handlers():
    records = scan("""
        import pytest, sys
        def test_a():
            if sys.platform == "win32":
                pytest.skip("windows")
            elif sys.platform == "darwin":
                pytest.skip("mac")
            else:
                pytest.skip("other")
        def test_b():
            try:
                import numpy
            except ImportError:
                pytest.skip("no numpy")
    """)
    assert [(r["test"], r["condition"], r["category"]) for r in records] == [
        ("test_a", 'sys.platform == "win32"', "conditional"),
        ("test_a", 'not (sys.platform == "win32") and sys.platform == "darwin"', "conditional"),
        (
            "test_a",
            'not (sys.platform == "win32") and not (sys.platform == "darwin")',
            "conditional",
        ),
        ("test_b", "except ImportError", "conditional"),
    ]


def test_module_level_skip_under_nested_ifs():
    records = scan("""
        import pytest, sys
        if sys.platform == "win32":
            if sys.version_info < (3, 12) or IS_PYPY:
                pytest.skip("old python", allow_module_level=True)
        def test_a(): pass
    """)
    assert [(r["condition"], r["category"]) for r in records] == [
        ('sys.platform == "win32" and (sys.version_info < (3, 12) or IS_PYPY)', "conditional"),
    ]
