"""Control flow around mutes: module-level branches (form 1), every statement of a test body
(form 2), importorskip (form 6) and add_marker sites (form 9)."""

from __future__ import annotations

from tests.scan.conftest import scan
from xfail_grabber.config import Settings
from xfail_grabber.scan.file import scan_bytes


def pick(records, *keys):
    return [tuple(r[k] for k in keys) for r in records]


def test_module_level_branches_each_with_its_condition():
    records = scan("""
        import sys, pytest
        if sys.platform == "win32":
            pytestmark = pytest.mark.skip(reason="a")
        elif HAS_X:
            pytestmark = [pytest.mark.xfail(reason="b")]
        else:
            pytestmark = pytest.mark.xfailflake(jira="C-1")
        try:
            import numpy
        except ImportError:
            pytest.skip("no numpy", allow_module_level=True)
        else:
            pytestmark.append(pytest.mark.quarantined)
        finally:
            pytestmark += [pytest.mark.skip(reason="finally")]
        with ctx():
            pytestmark.extend([pytest.mark.skip(reason="with")])
        def test_a(): pass
    """)
    assert pick(records, "kind", "reason", "category", "condition", "mark_line") == [
        ("skip", "a", "conditional", 'sys.platform == "win32"', 4),
        ("xfail", "b", "conditional", 'not (sys.platform == "win32") and HAS_X', 6),
        (
            "xfailflake",
            None,
            "conditional",
            'not (sys.platform == "win32") and not (HAS_X)',
            8,
        ),
        ("imperative-skip", "no numpy", "conditional", "except ImportError", 12),
        ("quarantined", None, "conditional", "not (except ImportError)", 14),
        ("skip", "finally", "muted", None, 16),
        ("skip", "with", "muted", None, 18),
    ]


def test_module_level_raise_and_importorskip():
    records = scan("""
        import unittest, pytest
        np = pytest.importorskip("numpy", minversion="1.20")
        raise unittest.SkipTest("not here")
        class TestA:
            def test_a(self): pass
    """)
    assert pick(records, "test", "kind", "marker", "category", "condition", "reason") == [
        (
            "TestA::test_a",
            "imperative-skip",
            "importorskip",
            "conditional",
            "cannot import numpy",
            "could not import 'numpy'",
        ),
        ("TestA::test_a", "imperative-skip", "SkipTest", "muted", None, "not here"),
    ]


def test_every_statement_of_a_body():
    records = scan("""
        import unittest, pytest
        from unittest.case import SkipTest
        def test_a():
            for x in xs:
                pass
            else:
                pytest.skip("for else")
            while cond:
                break
            else:
                pytest.xfail("while else")
        def test_b():
            match value:
                case 1 if flag:
                    return pytest.skip("match")
        def test_c():
            try:
                pass
            finally:
                raise SkipTest("finally")
        def test_d(request):
            with a():
                with b():
                    request.node.add_marker(pytest.mark.xfail(reason="applied"))
            np = pytest.importorskip("numpy")
    """)
    assert pick(records, "test", "kind", "marker", "category", "condition", "reason") == [
        ("test_a", "imperative-skip", "pytest.skip", "muted", None, "for else"),
        ("test_a", "imperative-xfail", "pytest.xfail", "muted", None, "while else"),
        ("test_b", "imperative-skip", "pytest.skip", "conditional", "case 1 if flag", "match"),
        ("test_c", "imperative-skip", "SkipTest", "muted", None, "finally"),
        ("test_d", "xfail", "xfail", "muted", None, "applied"),
        (
            "test_d",
            "imperative-skip",
            "importorskip",
            "conditional",
            "cannot import numpy",
            "could not import 'numpy'",
        ),
    ]
    assert all(r["mark_line"] > 0 for r in records)


def test_skips_the_test_catches_itself_are_not_mutes():
    assert (
        scan("""
        import pytest
        from _pytest.outcomes import Skipped
        def test_a():
            with pytest.raises(pytest.skip.Exception):
                pytest.skip("x")
        def test_b():
            try:
                pytest.skip("y")
            except Skipped:
                pass
        def test_c():
            try:
                pytest.skip("z")
            except BaseException:
                pass
    """)
        == []
    )


def test_add_marker_in_hooks_and_fixtures_is_a_dynamic_site():
    source = b"""import pytest

def pytest_collection_modifyitems(config, items):
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(pytest.mark.skip(reason="slow"))

def pytest_runtest_setup(item):
    item.add_marker(marker)

@pytest.fixture
def quarantine(request):
    request.applymarker(pytest.mark.xfailflake(jira="Q-1"))
"""
    facts = scan_bytes("conftest.py", source, Settings(), False)
    assert [(d.line, d.marker, d.hook) for d in facts.dynamic] == [
        (6, "skip", "pytest_collection_modifyitems"),
        (9, "marker", "pytest_runtest_setup"),
        (13, "xfailflake", "quarantine"),
    ]
    assert facts.records == ()
