"""Every muting form the scanner must find, one snippet each."""

from __future__ import annotations

from tests.scan.conftest import scan


def pick(records, *keys):
    return [tuple(r[k] for k in keys) for r in records]


def test_keyword_order_and_quotes_do_not_matter():
    a = scan("""
        import pytest
        @pytest.mark.xfailflake(jira="DCOS-1", reason="r", since="2019-01-15")
        def test_a(): pass
    """)
    b = scan("""
        import pytest
        @pytest.mark.xfailflake(since='2019-01-15', reason='r', jira='DCOS-1')
        def test_a(): pass
    """)
    assert pick(a, "ticket", "reason", "since") == [("DCOS-1", "r", "2019-01-15")]
    assert pick(a, "ticket", "reason", "since") == pick(b, "ticket", "reason", "since")


def test_stacked_marks_are_all_found_with_their_lines():
    records = scan("""
        import pytest
        @pytest.mark.xfailflake(jira="A-1")
        @pytest.mark.slow
        @pytest.mark.xfailflake(
            reason="two",
            jira="A-2",
        )
        def test_a(): pass
    """)
    assert pick(records, "ticket", "mark_line", "line") == [("A-1", 3, 9), ("A-2", 5, 9)]


def test_same_marker_twice_gives_two_records():
    records = scan("""
        import pytest
        @pytest.mark.skip
        @pytest.mark.skip
        def test_a(): pass
    """)
    assert len(records) == 2


def test_unmuted_and_uncollected_functions_are_not_reported():
    assert (
        scan("""
        import pytest
        @pytest.mark.slow
        def test_a(): pass
        @pytest.mark.skip
        def helper(): pass
        @pytest.fixture
        @pytest.mark.skip
        def test_fixture(): pass
        def test_b():
            @pytest.mark.skip
            def test_nested(): pass
    """)
        == []
    )


def test_class_decorator_and_class_pytestmark_reach_every_method():
    records = scan("""
        import pytest
        @pytest.mark.skip(reason="c")
        class TestA:
            pytestmark = [pytest.mark.xfail(reason="p")]
            def test_one(self): pass
            def test_two(self): pass
            def helper(self): pass
    """)
    assert pick(records, "test", "kind", "scope") == [
        ("TestA::test_one", "skip", "class"),
        ("TestA::test_one", "xfail", "class"),
        ("TestA::test_two", "skip", "class"),
        ("TestA::test_two", "xfail", "class"),
    ]


def test_methods_and_marks_inherited_from_a_base_class_in_the_same_file():
    records = scan("""
        import pytest
        @pytest.mark.quarantined
        class Base:
            @pytest.mark.flaky(reruns=2)
            def test_base(self): pass
        class TestChild(Base):
            def test_child(self): pass
    """)
    assert pick(records, "test", "kind", "category") == [
        ("TestChild::test_base", "quarantined", "muted"),
        ("TestChild::test_base", "flaky", "retry"),
        ("TestChild::test_child", "quarantined", "muted"),
    ]


def test_classes_pytest_does_not_collect():
    assert (
        scan("""
        import pytest
        class Helper:
            @pytest.mark.skip
            def test_a(self): pass
        class TestInit:
            def __init__(self): pass
            @pytest.mark.skip
            def test_b(self): pass
        class TestOff:
            __test__ = False
            @pytest.mark.skip
            def test_c(self): pass
    """)
        == []
    )


def test_module_pytestmark_single_and_list():
    single = scan("""
        import pytest
        pytestmark = pytest.mark.skip(reason="all")
        def test_a(): pass
        def test_b(): pass
    """)
    assert pick(single, "test", "scope") == [("test_a", "module"), ("test_b", "module")]
    several = scan("""
        import pytest
        def test_a(): pass
        pytestmark = (pytest.mark.skip, pytest.mark.xfailflake(jira="X-1"))
    """)
    assert pick(several, "kind", "mark_line") == [("skip", 4), ("xfailflake", 4)]


def test_pytest_param_marks_per_case_with_ids():
    records = scan("""
        import pytest
        @pytest.mark.parametrize("x", [
            1,
            pytest.param(2, marks=pytest.mark.xfail),
            pytest.param(3, id="three", marks=[pytest.mark.skip, pytest.mark.flaky]),
            "é",
            pytest.param("é", marks=pytest.mark.skip),
        ])
        def test_a(x): pass
    """)
    assert pick(records, "test", "kind", "scope", "mark_line") == [
        ("test_a[2]", "xfail", "param", 5),
        ("test_a[\\xe9_1]", "skip", "param", 8),
        ("test_a[three]", "flaky", "param", 6),
        ("test_a[three]", "skip", "param", 6),
    ]


def test_stacked_parametrize_one_record_per_marked_value():
    records = scan("""
        import pytest
        @pytest.mark.parametrize("x", [0, pytest.param(1, marks=pytest.mark.skip)])
        @pytest.mark.parametrize("y", [2, 3])
        def test_a(x, y): pass
    """)
    # pytest collects test_a[2-1] and test_a[3-1]: one mark, 2 cases, the id within its own
    # parametrize (see test_param_ids.py for the check against pytest)
    assert pick(records, "test", "param_index", "param_id", "cases") == [("test_a[1]", 1, "1", 2)]


def test_import_forms():
    records = scan("""
        import pytest as pt
        from pytest import mark
        from pytest import mark as m
        @pt.mark.skip
        def test_a(): pass
        @mark.skip
        def test_b(): pass
        @m.skip
        def test_c(): pass
    """)
    assert [r["test"] for r in records] == ["test_a", "test_b", "test_c"]


def test_a_name_that_is_not_pytest_is_not_a_mark():
    assert (
        scan("""
        import other as pytest
        @pytest.mark.skip
        def test_a(): pass
    """)
        == []
    )


def test_module_level_alias_used_bare_and_called():
    records = scan("""
        import pytest
        slow_flaky = pytest.mark.xfailflake(jira="X-1", reason="slow")
        requires_network = pytest.mark.skipif(NO_NET, reason="network")
        @slow_flaky
        def test_a(): pass
        @slow_flaky(reason="override", since="2020")
        def test_b(): pass
        @requires_network
        def test_c(): pass
    """)
    assert pick(records, "test", "kind", "marker", "reason", "ticket", "since") == [
        ("test_a", "xfailflake", "slow_flaky", "slow", "X-1", None),
        ("test_b", "xfailflake", "slow_flaky", "override", "X-1", "2020"),
        ("test_c", "skipif", "requires_network", "network", None, None),
    ]


def test_unittest_decorators_on_methods_and_classes():
    records = scan("""
        import unittest
        from unittest import skip
        class MyTest(unittest.TestCase):
            @unittest.skipIf(WIN, "no windows")
            def test_a(self): pass
            @unittest.skipUnless(HAS_X, "needs x")
            def test_b(self): pass
            @unittest.expectedFailure
            def test_c(self): pass
            def test_d(self):
                self.skipTest("later")
        @skip("all")
        class Other(unittest.TestCase):
            def test_e(self): pass
    """)
    assert pick(records, "test", "kind", "marker", "category", "condition") == [
        ("MyTest::test_a", "unittest-skip", "skipIf", "conditional", "WIN"),
        ("MyTest::test_b", "unittest-skip", "skipUnless", "conditional", "HAS_X"),
        ("MyTest::test_c", "expectedFailure", "expectedFailure", "muted", None),
        ("MyTest::test_d", "imperative-skip", "skipTest", "muted", None),
        ("Other::test_e", "unittest-skip", "skip", "muted", None),
    ]


def test_imperative_calls_in_a_body():
    records = scan("""
        import pytest
        from pytest import skip
        def test_a():
            pytest.skip("not ready")
        def test_b():
            if ON_CI:
                pytest.xfail(reason="ci")
            else:
                skip("elsewhere")
        def test_c():
            def inner():
                pytest.skip("not the test's own body")
    """)
    assert pick(records, "test", "kind", "category", "condition", "reason") == [
        ("test_a", "imperative-skip", "muted", None, "not ready"),
        ("test_b", "imperative-xfail", "conditional", "ON_CI", "ci"),
        ("test_b", "imperative-skip", "conditional", "not (ON_CI)", "elsewhere"),
    ]


def test_flaky_package_and_rerunfailures():
    records = scan("""
        import pytest
        from flaky import flaky
        @flaky(max_runs=3)
        def test_a(): pass
        @pytest.mark.flaky(reruns=2)
        def test_b(): pass
    """)
    assert pick(records, "kind", "category", "kwargs") == [
        ("flaky", "retry", {"max_runs": 3}),
        ("flaky", "retry", {"reruns": 2}),
    ]


def test_metadata_tickets_reason_since_strict_condition_kwargs():
    records = scan("""
        import pytest
        @pytest.mark.xfail(COND, reason="see ABC-12", strict=True, raises=KeyError, run=False)
        def test_a(): pass
        @pytest.mark.skip("positional reason https://bugs.example.com/issues/9.")
        def test_b(): pass
        @pytest.mark.xfailflake(bug="B-1", since=SINCE)
        def test_c(): pass
        @pytest.mark.skip(reason="UTF-8 and SHA-256 are not tickets")
        def test_d(): pass
    """)
    assert pick(records, "ticket", "reason", "since", "strict", "condition", "kwargs") == [
        ("ABC-12", "see ABC-12", None, True, "COND", {"raises": "KeyError", "run": False}),
        (
            "https://bugs.example.com/issues/9",
            "positional reason https://bugs.example.com/issues/9.",
            None,
            None,
            None,
            {},
        ),
        ("B-1", None, "SINCE", None, None, {}),
        (None, "UTF-8 and SHA-256 are not tickets", None, None, None, {}),
    ]


def test_custom_markers_and_only():
    source = """
        import pytest
        @pytest.mark.muted_by_team
        @pytest.mark.skip
        def test_a(): pass
    """
    assert [r["kind"] for r in scan(source)] == ["skip"]
    assert [r["kind"] for r in scan(source, markers=("muted_by_team",))] == [
        "muted_by_team",
        "skip",
    ]
    assert [
        r["kind"] for r in scan(source, markers=("muted_by_team",), only=("muted_by_team",))
    ] == ["muted_by_team"]


def test_python_classes_and_functions_from_settings():
    from xfail_grabber.config import Discovery, Settings

    settings = Settings(
        discovery=Discovery(python_classes=("Suite",), python_functions=("check_",))
    )
    records = scan(
        """
        import pytest
        class SuiteA:
            @pytest.mark.skip
            def check_a(self): pass
            @pytest.mark.skip
            def test_b(self): pass
        class TestC:
            @pytest.mark.skip
            def check_c(self): pass
    """,
        settings=settings,
    )
    assert [r["test"] for r in records] == ["SuiteA::check_a"]


def test_tests_defined_under_module_level_if():
    records = scan("""
        import sys, pytest
        if sys.platform == "linux":
            @pytest.mark.skip
            def test_a(): pass
    """)
    assert [r["test"] for r in records] == ["test_a"]


def test_alias_chains_and_lists_of_marks():
    records = scan("""
        import pytest
        skip_a = pytest.mark.skip(reason="a")
        skip_b = skip_a
        skip_c = skip_b
        both = [pytest.mark.xfail(reason="x"), pytest.mark.skip(reason="s")]
        @skip_c
        def test_chained(): pass
        @pytest.mark.parametrize("v", [pytest.param(True, marks=both), 1])
        def test_ids(v): pass
        class TestList:
            pytestmark = both
            def test_lm(self): pass
    """)
    assert pick(records, "test", "kind", "marker", "mark_line") == [
        ("TestList::test_lm", "skip", "skip", 12),
        ("TestList::test_lm", "xfail", "xfail", 12),
        ("test_chained", "skip", "skip_c", 7),
        ("test_ids[True]", "skip", "skip", 9),
        ("test_ids[True]", "xfail", "xfail", 9),
    ]


def test_bytes_parameters_get_pytest_ids():
    records = scan("""
        import pytest
        @pytest.mark.parametrize("v", [pytest.param(b"by", marks=pytest.mark.skip)])
        def test_b(v): pass
    """)
    assert [r["test"] for r in records] == ["test_b[by]"]
