"""Ticket lookups against loopback stand-ins of Jira, GitHub, GitLab and Bugzilla."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from xfail_grabber.enrich.tickets.cache import TicketCache
from xfail_grabber.enrich.tickets.lookup import Credentials, Lookup, Status
from xfail_grabber.enrich.tickets.refs import TicketRef, Trackers, resolve

from .trackers import Tracker, tracker

SECRET = "s3cr3t-token-value"


def trackers_at(url: str) -> Trackers:
    return Trackers(jira_url=url, github_api=url, gitlab_url=url, bugzilla_url=url)


def statuses(
    t: Tracker, tickets: list[tuple[str | None, str | None]], **options: object
) -> dict[str, Status]:
    config = trackers_at(t.url)
    refs = [resolve(ticket, url, "https://github.com/org/repo", config) for ticket, url in tickets]
    env = {
        "GITHUB_TOKEN": SECRET,
        "JIRA_TOKEN": SECRET,
        "GITLAB_TOKEN": SECRET,
        "BUGZILLA_API_KEY": SECRET,
    }
    lookup = Lookup(Credentials.from_env(config, env), **options)  # type: ignore[arg-type]
    found = lookup.statuses(r for r in refs if r is not None)
    return {key: found[key] for key in sorted(found)}


def test_every_tracker_answers_open_or_closed_with_its_title() -> None:
    with tracker() as t:
        found = statuses(
            t,
            [
                ("ABC-1", None),
                ("ABC-2", None),
                ("DCOS_OSS-7", None),
                ("#1", None),
                ("gh-2", None),
                (None, f"{t.url}/group/sub/proj/-/issues/3"),
                (None, f"{t.url}/group/proj/-/merge_requests/4"),
                (None, f"{t.url}/show_bug.cgi?id=5"),
                (None, f"{t.url}/show_bug.cgi?id=6"),
            ],
        )
        seen = {(s.status, s.title) for s in found.values()}
    assert seen == {
        ("open", "Upload is flaky"),
        ("closed", "Fixed the race"),
        ("closed", "Windows tests"),
        ("open", "Flaky upload"),
        ("closed", "Fixed timeout"),
        ("open", "Nightly fails"),
        ("closed", "Done now"),
        ("closed", "Crash on exit"),
        ("open", "Slow"),
    }


def test_missing_tickets_and_refusals_are_unknown_never_errors() -> None:
    with tracker() as t:
        found = statuses(t, [("ABC-404", None), ("#999", None)])
        assert {s.status for s in found.values()} == {"unknown"}
        assert all("HTTP 404" in (s.why or "") for s in found.values())
        t.require_auth = True
        config = trackers_at(t.url)
        ref = resolve("ABC-1", None, "", config)
        assert ref is not None
        refused = Lookup(Credentials.from_env(config, {})).one(ref)
        assert (refused.status, refused.why) == ("unknown", f"{t.url}: HTTP 401")


def test_each_ticket_is_asked_once_and_tokens_stay_with_their_origin() -> None:
    with tracker() as t:
        statuses(t, [("ABC-1", None), ("ABC-1", None), ("#1", None), ("gh-1", None)])
        assert len(t.log) == 2
        jira = next(h for p, h in t.log if p.startswith("/rest/api/2/issue/ABC-1"))
        assert jira["authorization"] == f"Bearer {SECRET}"
    # A ticket URL at any other place is never requested (it comes from the scanned code).
    config = Trackers(jira_url="https://jira.example.com")
    assert resolve(None, "http://169.254.169.254/browse/ABC-1", "", config) is None
    assert resolve(None, "http://10.0.0.1/show_bug.cgi?id=1", "", config) is None
    # No token over plain http to anything but loopback.
    plain = Trackers(jira_url="http://jira.example.com")
    creds = Credentials.from_env(plain, {"JIRA_TOKEN": SECRET})
    ref = resolve("ABC-1", None, "", plain)
    assert ref is not None and creds.for_ref(ref) == {}
    assert Credentials.from_env(config, {"JIRA_TOKEN": SECRET}).headers == {
        ("jira", "https://jira.example.com"): {"authorization": f"Bearer {SECRET}"}
    }


def test_a_redirect_is_not_followed_so_the_token_goes_nowhere_else() -> None:
    with tracker() as t:
        ref = TicketRef("github", "github:o/r#1", f"{t.url}/redirect")
        lookup = Lookup(Credentials({("github", t.url): {"authorization": f"Bearer {SECRET}"}}))
        assert lookup.one(ref).status == "unknown"
        assert [p for p, _ in t.log] == ["/redirect"]


def test_github_rate_limits_are_waited_out_or_given_up() -> None:
    with tracker() as t:
        t.rate_limited_once.add("/repos/org/repo/issues/1")
        waited: list[float] = []
        found = statuses(t, [("#1", None)], sleep=waited.append)
        assert [s.status for s in found.values()] == ["open"]
        assert len(waited) == 1 and 0 <= waited[0] <= 2
        t.rate_limited_once.update({"/repos/org/repo/issues/1", "/repos/org/repo/issues/2"})
        slow = statuses(t, [("#1", None), ("#2", None)], max_wait=0.0, concurrency=1)
        assert {s.why for s in slow.values()} == {f"{t.url}: rate limited"}
        # The host is given up after the first limit: the second ticket asks nothing.
        assert [p for p, _ in t.log].count("/repos/org/repo/issues/2") == 0


def test_a_tracker_that_is_down_or_hangs_is_unknown_within_the_timeout() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    config = trackers_at(closed)
    ref = resolve("ABC-1", None, "", config)
    assert ref is not None
    assert Lookup(Credentials()).one(ref).status == "unknown"
    with tracker() as t:
        t.hang = True
        ref = resolve("ABC-1", None, "", trackers_at(t.url))
        assert ref is not None
        assert Lookup(Credentials(), timeout=0.5).one(ref).status == "unknown"


def test_the_cache_keeps_answers_for_a_while_but_not_unknowns(tmp_path: Path) -> None:
    cache = TicketCache(tmp_path / "tickets.sqlite", ttl=3600)
    with tracker() as t:
        statuses(t, [("ABC-1", None), ("ABC-404", None)], cache=cache)
        statuses(t, [("ABC-1", None), ("ABC-404", None)], cache=cache)
        paths = [p.split("?")[0] for p, _ in t.log]
    assert paths.count("/rest/api/2/issue/ABC-1") == 1
    assert paths.count("/rest/api/2/issue/ABC-404") == 2
    assert SECRET.encode() not in (tmp_path / "tickets.sqlite").read_bytes()
    expired = TicketCache(tmp_path / "tickets.sqlite", ttl=0)
    assert expired.get(f"{t.url}/browse/ABC-1") is None
    assert cache.get(f"{t.url}/browse/ABC-1") == Status("open", "Upload is flaky")


@pytest.mark.parametrize(
    ("ticket", "url", "key"),
    [
        ("#12", None, "github:org/repo#12"),
        ("GH-12", None, "github:org/repo#12"),
        ("issue 12", None, "github:org/repo#12"),
        (None, "https://github.com/other/x/pull/5", "github:other/x#5"),
        ("ABC2-9", None, "https://jira.example.com/browse/ABC2-9"),
        ("bpo-12", None, None),
        ("see the wiki", None, None),
    ],
)
def test_resolve(ticket: str | None, url: str | None, key: str | None) -> None:
    config = Trackers(jira_url="https://jira.example.com")
    ref = resolve(ticket, url, "https://github.com/org/repo.git", config)
    assert (ref.key if ref else None) == key
