"""Files libcst cannot parse, and bad input: scanned by regex, or listed under errors."""

from __future__ import annotations

import textwrap

from xfail_grabber.config import Settings
from xfail_grabber.scan.file import scan_bytes
from xfail_grabber.scan.regex import scan_text


def regex_records(source: str) -> list[tuple]:
    records = scan_text(textwrap.dedent(source), "tests/test_x.py", Settings())
    return [(r.test, r.kind, r.ticket, r.reason, r.since, r.mark_line, r.parser) for r in records]


def test_regex_keeps_both_stacked_marks_whatever_the_keyword_order():
    assert regex_records("""
        import pytest
        @pytest.mark.xfailflake(since="2019-01-15", reason="first", jira="DCOS-1")
        @pytest.mark.xfailflake(
            jira='DCOS-2',
            reason='second',
        )
        def test_a():
            print "python 2"
    """) == [
        ("test_a", "xfailflake", "DCOS-1", "first", "2019-01-15", 3, "regex"),
        ("test_a", "xfailflake", "DCOS-2", "second", None, 4, "regex"),
    ]


def test_regex_knows_classes_pytestmark_and_bodies():
    records = regex_records("""
        import pytest
        pytestmark = pytest.mark.skip(reason="module")
        @pytest.mark.xfail(reason="class")
        class TestA:
            def test_m(self):
                pytest.skip("body")
        class Helper:
            @pytest.mark.skip
            def test_hidden(self): pass
        exec "py2"
    """)
    assert sorted((r[0], r[1], r[3]) for r in records) == [
        ("TestA::test_m", "imperative-skip", "body"),
        ("TestA::test_m", "skip", "module"),
        ("TestA::test_m", "xfail", "class"),
    ]


def facts_of(data: bytes, size_limit: int | None = None):
    settings = Settings() if size_limit is None else Settings(max_parse_bytes=size_limit)
    return scan_bytes("tests/test_x.py", data, settings, True)


MUTED = b'import pytest\n\n@pytest.mark.skip(reason="r")\ndef test_a():\n    pass\n'


def test_python2_and_merge_conflicts_go_to_the_regex_fallback():
    for data in (MUTED + b'print "x"\n', b"<<<<<<< HEAD\n" + MUTED + b">>>>>>> b\n"):
        facts = facts_of(data)
        assert [(r.test, r.parser) for r in facts.records] == [("test_a", "regex")]
        assert facts.note


def test_coding_cookie_is_honoured():
    data = b"# -*- coding: latin-1 -*-\n" + MUTED.replace(b'"r"', b'"caf\xe9"')
    facts = facts_of(data)
    assert [(r.reason, r.parser, r.line) for r in facts.records] == [("café", "libcst", 5)]


def test_utf8_bom_is_fine():
    assert [r.parser for r in facts_of(b"\xef\xbb\xbf" + MUTED).records] == ["libcst"]


def test_undecodable_bytes_still_found_by_regex():
    facts = facts_of(MUTED.replace(b'"r"', b'"bad \xff"'))
    assert [(r.test, r.parser) for r in facts.records] == [("test_a", "regex")]


def test_unknown_coding_cookie_is_an_error():
    facts = facts_of(b"# coding: no-such-codec\n" + MUTED)
    assert facts.error and "encoding" in facts.error


def test_nul_byte_is_an_error():
    facts = facts_of(MUTED + b"\x00")
    assert facts.error == "contains NUL bytes; not a Python source file"


def test_deep_nesting_does_not_crash_the_parser():
    # libcst's native parser overflows the C stack on input like this; ast refuses it first.
    for depth in (1000, 100_000):
        deep = b"x = " + b"(" * depth + b"1" + b")" * depth + b"\n"
        chain = b"y = 1" + b" + 1" * depth + b"\n"
        facts = facts_of(MUTED + deep + chain)
        assert [(r.test, r.parser) for r in facts.records] == [("test_a", "regex")]


def test_files_over_the_size_limit_use_the_regex_fallback():
    facts = facts_of(MUTED, size_limit=10)
    assert [(r.test, r.parser) for r in facts.records] == [("test_a", "regex")]


def test_odd_line_breaks_keep_line_numbers_right():
    data = b"import pytest\n# form\x0cfeed\n\n@pytest.mark.skip\ndef test_a():\n    pass\n"
    assert [(r.line, r.mark_line) for r in facts_of(data).records] == [(5, 4)]
