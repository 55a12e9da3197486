"""Tickets in plain sight: reasons, trailing comments, comments above the decorators; links."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.scan.conftest import scan
from xfail_grabber.model import MutedTest
from xfail_grabber.scan.tickets import (
    comment_of,
    find_ticket,
    link_tickets,
    repo_web_url,
    ticket_url,
)


@pytest.mark.parametrize(
    ("text", "ticket"),
    [
        ("fails on Windows, DCOS_OSS-1007", "DCOS_OSS-1007"),
        ("ABC2-12: flaky", "ABC2-12"),
        ("see gh-1234", "gh-1234"),
        ("see GH-1234", "GH-1234"),
        ("broken since #1234 landed", "#1234"),
        ("upstream issue 1234", "issue 1234"),
        ("Issue #77", "Issue #77"),
        ("bpo-31234 regression", "bpo-31234"),
        ("https://github.com/org/repo/issues/5.", "https://github.com/org/repo/issues/5"),
        ("(https://github.com/org/repo/pull/6)", "https://github.com/org/repo/pull/6"),
        ("https://gitlab.com/g/sub/p/-/issues/7", "https://gitlab.com/g/sub/p/-/issues/7"),
        ("https://gitlab.com/g/p/-/merge_requests/8", "https://gitlab.com/g/p/-/merge_requests/8"),
        ("https://jira.example.com/browse/OPS_2-9 x", "https://jira.example.com/browse/OPS_2-9"),
        (
            "https://bugzilla.redhat.com/show_bug.cgi?id=1234567",
            "https://bugzilla.redhat.com/show_bug.cgi?id=1234567",
        ),
        # the first of several, by position
        ("gh-2 then ABC-1", "gh-2"),
        ("ABC-1 then gh-2", "ABC-1"),
        # not tickets
        ("UTF-8 input", None),
        ("see PEP-8 and CVE-2021-1", None),
        ("https://docs.python.org/3/library/os.html", None),
        ("numpy-1 and x#12 and step-2", None),
        ("", None),
        (None, None),
    ],
)
def test_find_ticket(text, ticket):
    assert find_ticket(text) == ticket


def test_the_repositorys_own_host_is_preferred_among_several_urls():
    text = "https://bugzilla.example.org/show_bug.cgi?id=3 or https://gitlab.com/g/p/-/issues/4"
    assert find_ticket(text) == "https://bugzilla.example.org/show_bug.cgi?id=3"
    assert find_ticket(text, "gitlab.com") == "https://gitlab.com/g/p/-/issues/4"


def test_comment_of_ignores_hashes_in_strings():
    assert comment_of('@pytest.mark.skip(reason="a # b")  # gh-1') == "# gh-1"
    assert comment_of("@pytest.mark.skip(reason='''#1''')") is None
    assert comment_of('x = "\\"#"  # c') == "# c"


@pytest.mark.parametrize(
    ("repo", "url"),
    [
        ("https://github.com/org/repo.git", "https://github.com/org/repo/issues/12"),
        ("https://github.com/org/repo", "https://github.com/org/repo/issues/12"),
        ("git@github.com:org/repo.git", "https://github.com/org/repo/issues/12"),
        ("ssh://git@github.com/org/repo.git", "https://github.com/org/repo/issues/12"),
        ("https://gitlab.com/group/sub/repo.git", "https://gitlab.com/group/sub/repo/-/issues/12"),
        ("https://example.com/org/repo.git", None),
        ("/home/me/repo", None),
        ("file:///home/me/repo", None),
        ("https://github.com/org", None),
    ],
)
def test_issue_numbers_become_the_repositorys_issue_url(repo, url):
    assert ticket_url("#12", repo) == url
    assert ticket_url("gh-12", repo) == url
    assert ticket_url("GH-12", repo) == url


def test_ticket_url_of_other_tickets():
    repo = "https://github.com/org/repo"
    assert ticket_url("https://jira.example.com/browse/A-1", repo) == (
        "https://jira.example.com/browse/A-1"
    )
    assert ticket_url("bpo-4", "/local") == "https://bugs.python.org/issue4"
    assert ticket_url("DCOS-1", repo) is None  # the Jira host is not known
    assert ticket_url(None, repo) is None
    assert repo_web_url("https://github.com/../x") is None


def test_link_tickets_sets_urls_and_prefers_the_repos_host():
    reason = "https://github.com/up/stream/issues/1 and https://gitlab.com/me/p/-/issues/2"
    record = MutedTest("t::a", 1, "skip", "skip", "t", "a", 1, "function", "muted")
    records = link_tickets(
        [
            replace(record, ticket="#5"),
            replace(record, reason=reason, ticket=find_ticket(reason)),
        ],
        "https://gitlab.com/me/p.git",
    )
    assert [(r.ticket, r.ticket_url) for r in records] == [
        ("#5", "https://gitlab.com/me/p/-/issues/5"),
        ("https://gitlab.com/me/p/-/issues/2", "https://gitlab.com/me/p/-/issues/2"),
    ]


def test_tickets_from_comments_next_to_the_mark():
    records = scan("""
        import pytest

        # TODO: DCOS_OSS-3464 - muted Windows tests
        @pytest.mark.skip(reason="windows")
        def test_above(): pass

        @pytest.mark.skip(reason="windows")  # gh-17
        def test_trailing_mark(): pass

        @pytest.mark.skip(reason="windows")
        def test_trailing_def():  # see #99
            pass

        # unrelated comment DCOS-1

        @pytest.mark.skip(reason="blank line between")
        def test_not_directly_above(): pass

        @pytest.mark.xfailflake(jira="OWN-1")  # gh-3
        def test_argument_wins(): pass

        @pytest.mark.skip(reason="reason names ABC-2")  # gh-4
        def test_reason_wins(): pass

        @pytest.mark.parametrize("x", [
            1,
            pytest.param(2, marks=pytest.mark.xfail(reason="r")),  # issue 55
        ])
        def test_param(x): pass

        def test_body():
            # bpo-12345 makes this fail
            pytest.skip("no")
    """)
    tickets = {r["test"]: r["ticket"] for r in records}
    assert tickets == {
        "test_above": "DCOS_OSS-3464",
        "test_trailing_mark": "gh-17",
        "test_trailing_def": "#99",
        "test_not_directly_above": None,
        "test_argument_wins": "OWN-1",
        "test_reason_wins": "ABC-2",
        "test_param[2]": "issue 55",
        "test_body": "bpo-12345",
    }


def test_ticket_in_a_comment_on_an_imported_mark(tmp_path):
    from xfail_grabber.config import Settings
    from xfail_grabber.scan.incremental import scan_checkout
    from xfail_grabber.source.local import DirectoryCheckout

    (tmp_path / "tests").mkdir()
    (tmp_path / "tests/marks.py").write_text("import pytest\nbroken = pytest.mark.skip\n")
    (tmp_path / "tests/test_a.py").write_text(
        "from tests.marks import broken\n\n@broken  # ABC-9\ndef test_a(): pass\n"
    )
    result = scan_checkout(DirectoryCheckout(tmp_path), Settings())
    assert [(r.test, r.ticket) for r in result.records] == [("test_a", "ABC-9")]


def test_tickets_from_comments_in_the_regex_fallback():
    records = scan("""
        import pytest
        print "python 2"

        # flaky since gh-12
        @pytest.mark.skip(reason="x")
        def test_above(): pass

        @pytest.mark.skip(reason="x")  # ABC-3
        def test_trailing(): pass
    """)
    assert [(r["test"], r["ticket"], r["parser"]) for r in records] == [
        ("test_above", "gh-12", "regex"),
        ("test_trailing", "ABC-3", "regex"),
    ]
