"""Forms that reach a test from elsewhere: helper-made marks (5), trial attributes (7),
setup skips (3) and base classes in other files (4)."""

from __future__ import annotations

from pathlib import Path

from tests.scan.conftest import scan
from xfail_grabber.cli import main
from xfail_grabber.crosscheck import load

STATIC = Path(__file__).parent.parent / "fixtures" / "static_forms"


def pick(records, *keys):
    return [tuple(r[k] for k in keys) for r in records]


HELPERS = """
    import importlib
    import pytest

    def _importorskip(modname, minversion=None):
        try:
            importlib.import_module(modname)
            has = True
        except ImportError:
            has = False
        reason = f"requires {modname}"
        func = pytest.mark.skipif(not has, reason=reason)
        return has, func

    def skip_if_no(package, min_version=None):
        msg = f"Could not import '{package}'"
        return pytest.mark.skipif(not safe_import(package, min_version=min_version), reason=msg)

    def xfail_on(platform):
        return pytest.mark.xfail(reason="broken on " + platform)

    has_x, requires_x = _importorskip("x")

    @requires_x
    def test_a(): pass

    @skip_if_no("pkg", min_version="1.2")
    def test_b(): pass

    @xfail_on("win32")
    def test_c(): pass

    def plain(): return 1

    @plain
    def test_d(): pass
"""


def test_helper_made_marks_in_the_same_file():
    records = scan(HELPERS)
    assert pick(records, "test", "kind", "marker", "reason", "condition", "mark_line") == [
        ("test_a", "skipif", "requires_x", "requires x", "not has", 24),
        (
            "test_b",
            "skipif",
            "skip_if_no",
            "Could not import 'pkg'",
            'not safe_import("pkg", min_version="1.2")',
            27,
        ),
        ("test_c", "xfail", "xfail_on", "broken on win32", None, 30),
    ]


def test_trial_attributes():
    records = scan("""
        import sys
        from twisted.trial import unittest
        skip = None
        class TestT(unittest.TestCase):
            skip = "whole class"
            def test_a(self): pass
            def test_b(self): pass
            test_b.todo = "later"
        class TestU(unittest.SynchronousTestCase):
            if sys.platform == "win32":
                skip = "no windows"
            def test_c(self): pass
            def test_d(self): pass
            test_d.skip = "method"
            def test_e(self): pass
            test_e.skip = REASON
        class TestPlain:
            skip = "not trial: pytest ignores it"
            def test_f(self): pass
    """)
    assert pick(records, "test", "kind", "scope", "category", "reason", "condition") == [
        ("TestT::test_a", "trial-skip", "class", "muted", "whole class", None),
        ("TestT::test_b", "trial-skip", "class", "muted", "whole class", None),
        ("TestT::test_b", "trial-todo", "function", "muted", "later", None),
        (
            "TestU::test_c",
            "trial-skip",
            "class",
            "conditional",
            "no windows",
            'sys.platform == "win32"',
        ),
        ("TestU::test_d", "trial-skip", "function", "muted", "method", None),
        ("TestU::test_e", "trial-skip", "function", "conditional", "REASON", "REASON"),
    ]


def test_setup_skips_reach_every_test_they_set_up():
    records = scan("""
        import pytest, unittest
        class TestA:
            def setup_method(self):
                if X:
                    pytest.skip("meth")
            def test_a(self): pass
        class B(unittest.TestCase):
            @classmethod
            def setUpClass(cls):
                raise unittest.SkipTest("cls")
            def test_b(self): pass
        class TestC(B):
            def test_c(self): pass
        class TestNotUnittest:
            def setUp(self):
                pytest.skip("pytest never calls setUp here")
            def test_d(self): pass
    """)
    assert pick(records, "test", "kind", "scope", "reason", "condition") == [
        ("B::test_b", "imperative-skip", "setup", "cls", None),
        ("TestA::test_a", "imperative-skip", "setup", "meth", "X"),
        ("TestC::test_b", "imperative-skip", "setup", "cls", None),
        ("TestC::test_c", "imperative-skip", "setup", "cls", None),
    ]


def test_setup_module_and_setup_function():
    records = scan("""
        import pytest
        def setup_function(function):
            pytest.skip("f")
        def setUpModule():
            pytest.skip("m")
        def test_a(): pass
        class TestB:
            def test_b(self): pass
    """)
    assert pick(records, "test", "reason", "scope") == [
        ("TestB::test_b", "m", "setup"),
        ("test_a", "f", "setup"),
        ("test_a", "m", "setup"),
    ]


def test_static_only_fixtures(tmp_path):
    out = tmp_path / "static.json"
    assert main(["dump", str(STATIC), "--cache-dir", str(tmp_path / "c"), "-o", str(out)]) == 0
    records = load(out)
    assert pick(records, "test", "kind", "scope", "reason") == [
        ("TestTodo::test_a", "trial-todo", "class", "the whole class is unfinished"),
        ("TestTodo::test_b", "trial-todo", "function", "not done yet"),
    ]
