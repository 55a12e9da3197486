"""Reasons and conditions of helper-made marks when the helper builds them in steps: locals
followed as Python runs them, or kept as written where their value depends on running code.
The fixture's records are checked against pytest in test_pytest_agrees.py."""

from __future__ import annotations

from pathlib import Path

from tests.scan.conftest import scan
from xfail_grabber.cli import main
from xfail_grabber.crosscheck import load

FIXTURE = Path(__file__).parent.parent / "fixtures" / "pytest_forms"
KEYS = ("test", "kind", "reason", "reason_is_source", "condition")


def pick(records, keys=KEYS):
    return [tuple(r[k] for k in keys) for r in records]


def test_straight_line_reassignments_build_the_reason():
    records = scan("""
        import pytest
        from importlib.util import find_spec

        def _importorskip(modname, minversion=None):
            has = find_spec(modname) is not None
            reason = f"requires {modname}"
            reason += " (optional)"
            reason = "[" + reason + "]"
            return has, pytest.mark.skipif(not has, reason=reason)

        def made_before(modname):
            reason = f"no {modname}"
            mark = pytest.mark.skip(reason=reason)
            reason = "changed after the mark was made"
            return mark

        has_x, requires_x = _importorskip("x")

        @requires_x
        def test_a(): pass

        @made_before("y")
        def test_b(): pass
    """)
    assert pick(records) == [
        (
            "test_a",
            "skipif",
            "[requires x (optional)]",
            False,
            'not (find_spec("x") is not None)',
        ),
        ("test_b", "skip", "no y", False, None),
    ]


def test_a_branch_on_a_parameter_is_decided_at_the_call():
    """pandas' skip_if_no: `if min_version: msg += ...`."""
    records = scan("""
        import pytest

        def skip_if_no(package, min_version=None):
            msg = f"'{package}' not installed"
            if min_version:
                msg += f" >= {min_version}"
            return pytest.mark.skipif(not has(package, min_version), reason=msg)

        def needs(name, version=None):
            if version is None:
                why = "needs " + name
            elif not version:
                why = f"needs any {name!r}"
            else:
                why = f"needs {name} {version}"
            return pytest.mark.skip(reason=why)

        @skip_if_no("a")
        def test_a(): pass

        @skip_if_no("b", "1.0")
        def test_b(): pass

        @skip_if_no("c", min_version=VERSION)
        def test_c(): pass

        @needs("d")
        def test_d(): pass

        @needs("e", "")
        def test_e(): pass

        @needs("f", version="2")
        def test_f(): pass
    """)
    assert pick(records) == [
        ("test_a", "skipif", "'a' not installed", False, 'not has("a", None)'),
        ("test_b", "skipif", "'b' not installed >= 1.0", False, 'not has("b", "1.0")'),
        ("test_c", "skipif", "msg", True, 'not has("c", VERSION)'),  # known when it runs
        ("test_d", "skip", "needs d", False, None),
        ("test_e", "skip", "needs any 'e'", False, None),
        ("test_f", "skip", "needs f 2", False, None),
    ]


def test_values_known_only_when_the_helper_runs_are_kept_as_written():
    records = scan("""
        import sys
        import pytest

        def on_platform(name):
            reason = "not on " + name
            if sys.platform == name:
                reason = "on " + name
            return pytest.mark.skipif(sys.platform == name, reason=reason)

        def requires_each(first, second):
            missing = []
            for name in (first, second):
                if not available(name):
                    missing.append(name)
            found = len(missing)
            return pytest.mark.skipif(missing, reason=f"{found} missing of {first}")

        def guarded(modname):
            try:
                __import__(modname)
                has = True
            except ImportError:
                has = False
            return pytest.mark.skipif(not has, reason=f"requires {modname}")

        def fallback(pkg=None):
            if pkg is None:
                pkg = default_package()
            return pytest.mark.skipif(not available(pkg), reason=f"needs {pkg}")

        @on_platform("win32")
        def test_a(): pass

        @requires_each("x", "y")
        def test_b(): pass

        @guarded("z")
        def test_c(): pass

        @fallback("w")
        def test_d(): pass
    """)
    assert pick(records) == [
        ("test_a", "skipif", "reason", True, 'sys.platform == "win32"'),
        ("test_b", "skipif", 'f"{len(missing)} missing of {"x"}"', True, "missing"),
        ("test_c", "skipif", "requires z", False, "not has"),
        ("test_d", "skipif", 'f"needs {pkg}"', True, "not available(pkg)"),
    ]


def test_substitution_keeps_meaning():
    """Parenthesized where needed; attributes, keywords and strings that spell a local's or
    a parameter's name are left alone."""
    records = scan("""
        import pytest

        def helper(name, strict=False):
            either = check(name) or config.name
            both = either and "name" != name
            return pytest.mark.xfail(not both, reason=make(name=name), strict=strict)

        @helper("n", strict=True)
        def test_a(): pass
    """)
    assert pick(records, (*KEYS, "strict")) == [
        (
            "test_a",
            "xfail",
            'make(name="n")',
            True,
            'not ((check("n") or config.name) and "name" != "n")',
            True,
        ),
    ]


def test_helpers_imported_from_the_repository(tmp_path):
    out = tmp_path / "static.json"
    assert main(["dump", str(FIXTURE), "--cache-dir", str(tmp_path / "c"), "-o", str(out)]) == 0
    records = [r for r in load(out) if r["path"] == "tests/test_helper_templates.py"]
    missing = 'find_spec("{}") is None'.format
    present = 'not (find_spec("{}") is not None)'.format
    assert pick(records, (*KEYS, "mark_line", "line")) == [
        ("test_each", "skipif", "needs 'json' and 'missing_each_tpl'", False,
         "len(missing) > 0", 53, 54),
        ("test_local", "skipif", "needs missing_local_tpl 3", False,
         present("missing_local_tpl"), 63, 64),
        ("test_local_present", "skipif", "needs json", False, present("json"), 68, 69),
        ("test_made_before", "skipif", "no missing_before_tpl", False,
         missing("missing_before_tpl"), 58, 59),
        ("test_min_version", "skipif", "'missing_pkg_tpl' not installed >= 2.0", False,
         missing("missing_pkg_tpl"), 43, 44),
        ("test_missing", "skipif", "requires missing_module_tpl (optional)", False,
         present("missing_module_tpl"), 33, 34),
        ("test_no_version", "skipif", "'missing_pkg_tpl' not installed", False,
         missing("missing_pkg_tpl"), 38, 39),
        ("test_old_style", "skipif", "needs missing_old_tpl >= 1.5, '1.5'", False,
         missing("missing_old_tpl"), 73, 74),
        ("test_platform", "skipif", "reason", True, 'sys.platform.startswith("linux")', 48, 49),
        ("test_present", "skipif", "requires json (optional)", False, present("json"), 28, 29),
    ]  # fmt: skip


def test_a_parameter_passed_through_keeps_its_literal():
    records = scan("""
        import sys
        import pytest

        def xfail_on(platform, reason, strict=False):
            return pytest.mark.xfail(sys.platform == platform, reason=reason, strict=strict)

        @xfail_on("win32", "flaky there")
        def test_a(): pass

        @xfail_on("linux", REASON, strict=True)
        def test_b(): pass
    """)
    assert pick(records, (*KEYS, "strict")) == [
        ("test_a", "xfail", "flaky there", False, 'sys.platform == "win32"', False),
        ("test_b", "xfail", "REASON", True, 'sys.platform == "linux"', True),
    ]


def test_format_and_percent_strings():
    records = scan("""
        import pytest

        def needs(name, version=None, extra=3):
            return pytest.mark.skip(reason="needs {} {v!r} {0}".format(name, v=version))

        def old(name, count):
            return pytest.mark.skip(reason="old %s, %r%% done" % (name, count))

        def unknown(name):
            return pytest.mark.skip(reason="%d of %s" % (3, name))

        def escaped(name):
            return pytest.mark.skip(reason=f"{name}\\tend")

        @needs("a")
        def test_a(): pass

        @old("b", 2.5)
        def test_b(): pass

        @unknown("c")
        def test_c(): pass

        @escaped("d")
        def test_d(): pass
    """)
    assert pick(records) == [
        ("test_a", "skip", "needs a None a", False, None),
        ("test_b", "skip", "old b, 2.5% done", False, None),
        ("test_c", "skip", '"%d of %s" % (3, "c")', True, None),  # %d: not followed
        ("test_d", "skip", 'f"{"d"}\\tend"', True, None),  # an escape: the text as written
    ]


def test_a_walrus_rebinding_keeps_the_name():
    records = scan("""
        import pytest

        def helper(name):
            found = lookup(name)
            if (found := other(name)) is None:
                pass
            return pytest.mark.skipif(not found, reason="r")

        @helper("x")
        def test_a(): pass
    """)
    assert pick(records) == [("test_a", "skipif", "r", False, "not found")]
