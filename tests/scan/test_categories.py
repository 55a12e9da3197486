"""`category`: debt (`muted`), a guard (`conditional`), or a rerun plugin (`retry`)."""

from __future__ import annotations

from pathlib import Path

from tests.scan.conftest import scan
from xfail_grabber.config import Settings, discovery_from_files


def categories(source: str, settings: Settings | None = None) -> dict[str, tuple[str, str]]:
    return {r["test"]: (r["kind"], r["category"]) for r in scan(source, settings=settings)}


def test_unconditional_forms_are_muted_and_guards_conditional():
    assert categories("""
        import pytest, unittest
        @pytest.mark.skip(reason="x")
        def test_skip(): pass
        @pytest.mark.xfail
        def test_xfail(): pass
        @pytest.mark.xfail(True, reason="always")
        def test_xfail_true(): pass
        @pytest.mark.xfail(condition=True, reason="always")
        def test_xfail_condition_true(): pass
        @pytest.mark.xfail(sys.platform == "win32", reason="windows")
        def test_xfail_guard(): pass
        @pytest.mark.skipif(True, reason="always")
        def test_skipif_true(): pass
        @pytest.mark.skipif("sys.version_info < (3, 9)", reason="old")
        def test_skipif_guard(): pass
        @pytest.mark.xfailflake(jira="A-1")
        def test_custom(): pass
        class TestU(unittest.TestCase):
            @unittest.skipIf(True, "always")
            def test_skipif_true(self): pass
            @unittest.skipUnless(False, "never")
            def test_skipunless_false(self): pass
            @unittest.skipIf(IS_PYPY, "pypy")
            def test_skipif_guard(self): pass
    """) == {
        "test_skip": ("skip", "muted"),
        "test_xfail": ("xfail", "muted"),
        "test_xfail_true": ("xfail", "muted"),
        "test_xfail_condition_true": ("xfail", "muted"),
        "test_xfail_guard": ("xfail", "conditional"),
        "test_skipif_true": ("skipif", "muted"),
        "test_skipif_guard": ("skipif", "conditional"),
        "test_custom": ("xfailflake", "muted"),
        "TestU::test_skipif_true": ("unittest-skip", "muted"),
        "TestU::test_skipunless_false": ("unittest-skip", "muted"),
        "TestU::test_skipif_guard": ("unittest-skip", "conditional"),
    }


FLAKY = """
    import pytest
    from flaky import flaky
    @pytest.mark.flaky(reruns=3)
    def test_mark(): pass
    @flaky(max_runs=3)
    def test_package(): pass
"""


def test_flaky_is_retry_unless_the_project_registers_its_own_flaky_marker(tmp_path: Path):
    assert categories(FLAKY) == {
        "test_mark": ("flaky", "retry"),
        "test_package": ("flaky", "retry"),
    }
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nmarkers =\n    slow: slow tests\n    flaky(reason): known flaky, see wiki\n"
    )
    discovery = discovery_from_files(
        lambda name: (tmp_path / name).read_bytes() if (tmp_path / name).is_file() else None
    )
    assert discovery.markers == ("slow", "flaky")
    settings = Settings().with_discovery(discovery)
    assert settings.fingerprint() != Settings().fingerprint()  # cached facts differ
    assert categories(FLAKY, settings) == {
        "test_mark": ("flaky", "muted"),  # the project's own marker: debt like any custom one
        "test_package": ("flaky", "retry"),  # the flaky package still reruns
    }


def test_markers_from_pyproject_lists():
    data = b'[tool.pytest.ini_options]\nmarkers = ["flaky: ours", "net"]\n'
    discovery = discovery_from_files(lambda name: data if name == "pyproject.toml" else None)
    assert discovery.markers == ("flaky", "net")


def test_non_literal_reasons_are_source_text_and_say_so():
    records = scan("""
        import pytest
        MSG = "why"
        @pytest.mark.skip(reason=MSG)
        def test_name(): pass
        @pytest.mark.skip(reason="needs {}".format(
            "network",
        ))
        def test_format(): pass
        @pytest.mark.skip(reason="literal")
        def test_literal(): pass
        @pytest.mark.skip
        def test_none(): pass
    """)
    assert [(r["test"], r["reason"], r["reason_is_source"]) for r in records] == [
        ("test_format", '"needs {}".format("network",)', True),
        ("test_literal", "literal", False),
        ("test_name", "MSG", True),
        ("test_none", None, False),
    ]


def test_multi_line_conditions_are_kept_on_one_line():
    records = scan("""
        import pytest, sys
        @pytest.mark.skipif(
            sys.platform == "win32"  # no fork
            or sys.version_info < (3, 9),
            reason="x",
        )
        def test_a(): pass
    """)
    assert records[0]["condition"] == ('sys.platform == "win32" or sys.version_info < (3, 9)')
    assert records[0]["category"] == "conditional"
