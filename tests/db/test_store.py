"""store_snapshot and the read functions, on SQLite, PostgreSQL and the Redshift dialect."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from xfail_grabber.model import ScanError
from xfail_grabber.sinks.db import (
    latest_snapshot,
    parse_duration,
    prune,
    store_snapshot,
    stored_keys,
    trend,
    upgrade,
    with_names,
)
from xfail_grabber.sinks.db.schema import LATEST

from .helpers import count_rows, record, snapshot, url_for

REPO = "https://github.com/org/repo"
HOSTILE = (
    'it\'s "quoted"; DROP TABLE snapshots; --',
    "line one\nline two\r\n\ttabbed \\ backslash \\N",
    "emoji 🎉🐍 and ünïcödé, 中文, RTL \u202e",
    "%s %(name)s ? $1 {} ''",
    "",
)


def test_round_trip_every_field(db_url: str) -> None:
    original = snapshot(
        records=(
            record(
                0,
                strict=True,
                condition="sys.platform == 'win32'",
                kind="skipif",
                category="conditional",
                kwargs=(("n", 3), ("run", False), ("x", None)),
            ),
            record(1, strict=False, ticket=None, reason=None, since=None, kwargs=()),
            record(2, scope="param", test="test_2[a-b]", nodeid="tests/test_a.py::test_2[a-b]"),
        ),
        errors=(ScanError("broken.py", "SyntaxError: invalid syntax (line 3)"),),
    )
    store_snapshot(db_url, original)
    assert latest_snapshot(db_url) == original
    assert latest_snapshot(db_url, REPO, "main") == original
    assert latest_snapshot(db_url, REPO, "other") is None
    assert latest_snapshot(db_url, "elsewhere") is None


def test_empty_database_reads_as_empty(db_url: str) -> None:
    assert latest_snapshot(db_url) is None
    assert stored_keys(db_url, REPO, "main") == set()
    assert trend(db_url) == []


def test_same_key_replaces_never_duplicates(db_url: str) -> None:
    store_snapshot(db_url, snapshot(5))
    store_snapshot(db_url, snapshot(5))
    later_same_day = snapshot(2, scanned_at=datetime(2026, 11, 22, 23, 59, 59, tzinfo=UTC))
    store_snapshot(db_url, later_same_day)
    assert count_rows(db_url, "snapshots") == 1
    assert count_rows(db_url, "muted_tests") == 2
    assert latest_snapshot(db_url) == later_same_day
    assert stored_keys(db_url, REPO, "main") == {("a" * 40, "2026-11-22")}


def test_other_day_commit_or_branch_is_another_snapshot(db_url: str) -> None:
    first = snapshot(1)
    store_snapshot(db_url, first)
    store_snapshot(db_url, replace(first, scanned_at=first.scanned_at + timedelta(days=1)))
    store_snapshot(db_url, replace(first, commit="b" * 40))
    store_snapshot(db_url, replace(first, branch="release"))
    assert count_rows(db_url, "snapshots") == 4
    assert stored_keys(db_url, REPO, "main") == {
        ("a" * 40, "2026-11-22"),
        ("a" * 40, "2026-11-23"),
        ("b" * 40, "2026-11-22"),
    }
    assert stored_keys(db_url, REPO, "release") == {("a" * 40, "2026-11-22")}


def test_day_is_the_utc_day_of_scanned_at(db_url: str) -> None:
    from datetime import timezone

    tokyo = timezone(timedelta(hours=9))
    store_snapshot(db_url, snapshot(1, scanned_at=datetime(2026, 11, 23, 8, 0, tzinfo=tokyo)))
    assert stored_keys(db_url, REPO, "main") == {("a" * 40, "2026-11-22")}


def test_no_branch_no_commit_round_trip(db_url: str) -> None:
    local = snapshot(2, repo="/home/me/project", branch=None, commit=None)
    store_snapshot(db_url, local)
    store_snapshot(db_url, local)
    assert latest_snapshot(db_url) == local
    assert count_rows(db_url, "snapshots") == 1


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_strings_round_trip(db_url: str, text: str) -> None:
    hostile = snapshot(
        repo=REPO + "/" + text,
        branch="feature/" + text,
        records=(
            record(
                0,
                reason=text,
                ticket=text,
                nodeid="t.py::" + text,
                test=text,
                condition=text,
                kwargs=(("k" + text, text),),
            ),
        ),
        errors=(ScanError(text, text),),
    )
    store_snapshot(db_url, hostile)
    assert latest_snapshot(db_url, hostile.repo, hostile.branch) == hostile
    assert stored_keys(db_url, hostile.repo, "feature/" + text) == {("a" * 40, "2026-11-22")}


def test_huge_reason_kept_or_cut_at_a_character_boundary(db_url: str) -> None:
    reason = "é🎉" * 20_000 + "x" * 30_000  # 150 KB of UTF-8
    store_snapshot(db_url, snapshot(records=(record(0, reason=reason),)))
    stored = latest_snapshot(db_url)
    assert stored is not None
    got = stored.muted[0].reason
    assert got is not None
    if db_url.startswith("redshift"):
        # VARCHAR(65535) counts bytes: cut there, never inside a character.
        assert len(got.encode("utf-8")) <= 65535
        assert len(got.encode("utf-8")) > 65535 - 4
        assert reason.startswith(got)
    else:
        assert got == reason


def test_nul_characters_become_replacement_characters(db_url: str) -> None:
    store_snapshot(db_url, snapshot(records=(record(0, reason="a\x00b"),)))
    stored = latest_snapshot(db_url)
    assert stored is not None and stored.muted[0].reason == "a\ufffdb"


def test_lone_surrogates_become_question_marks(db_url: str) -> None:
    # e.g. a file name decoded with surrogateescape
    store_snapshot(db_url, snapshot(records=(record(0, path="bad\udcff.py", reason="ok"),)))
    stored = latest_snapshot(db_url)
    assert stored is not None
    assert (stored.muted[0].path, stored.muted[0].reason) == ("bad?.py", "ok")


def test_trend_takes_the_last_snapshot_of_each_day(db_url: str) -> None:
    day1 = datetime(2026, 11, 20, 10, tzinfo=UTC)
    store_snapshot(db_url, snapshot(3, scanned_at=day1))
    store_snapshot(db_url, snapshot(1, commit="c" * 40, scanned_at=day1 + timedelta(hours=5)))
    skips = tuple(record(i, kind="skip", category="conditional") for i in range(2))
    store_snapshot(db_url, snapshot(records=skips, scanned_at=day1 + timedelta(days=1)))
    store_snapshot(db_url, snapshot(4, branch="dev", scanned_at=day1))
    assert trend(db_url, REPO, "main") == [
        {
            "day": "2026-11-20",
            "repo": REPO,
            "branch": "main",
            "total": 1,
            "by_kind": {"xfailflake": 1},
            "by_category": {"muted": 1},
        },
        {
            "day": "2026-11-21",
            "repo": REPO,
            "branch": "main",
            "total": 2,
            "by_kind": {"skip": 2},
            "by_category": {"conditional": 2},
        },
    ]
    everything = trend(db_url)
    assert [(p["day"], p["branch"], p["total"]) for p in everything] == [
        ("2026-11-20", "dev", 4),
        ("2026-11-20", "main", 1),
        ("2026-11-21", "main", 2),
    ]


def test_latest_is_the_most_recently_scanned(db_url: str) -> None:
    old = snapshot(1, scanned_at=datetime(2026, 1, 1, tzinfo=UTC))
    new = snapshot(2, commit="f" * 40, scanned_at=datetime(2026, 6, 1, tzinfo=UTC))
    store_snapshot(db_url, new)
    store_snapshot(db_url, old)
    assert latest_snapshot(db_url) == new


def test_prune_deletes_only_older_days(db_url: str) -> None:
    now = datetime(2026, 11, 22, 12, tzinfo=UTC)
    for age in (0, 399, 400, 401, 900):
        store_snapshot(db_url, snapshot(2, scanned_at=now - timedelta(days=age)))
    assert prune(db_url, parse_duration("400d"), now=now) == 2
    assert sorted(day for _, day in stored_keys(db_url, REPO, "main")) == [
        "2025-10-18",
        "2025-10-19",
        "2026-11-22",
    ]
    assert count_rows(db_url, "muted_tests") == 6
    assert prune(db_url, parse_duration("400d"), now=now) == 0


@pytest.mark.parametrize(("text", "days"), [("400d", 400), ("8w", 56), ("2y", 730), ("30", 30)])
def test_parse_duration(text: str, days: int) -> None:
    assert parse_duration(text) == timedelta(days=days)


@pytest.mark.parametrize("text", ["", "d", "-3d", "3x", "1.5d"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    "prefix", ['x"; DROP TABLE snapshots; --', "Mixed Case ", "xg_", "a?b%s%(x)s% '"]
)
def test_hostile_table_prefix_is_quoted(db_url: str, prefix: str) -> None:
    url = with_names(db_url, table_prefix=prefix)
    store_snapshot(url, snapshot(2))
    assert latest_snapshot(url) == snapshot(2)
    assert latest_snapshot(db_url) is None  # the unprefixed tables were never created
    assert upgrade(url) == (LATEST, LATEST)


@pytest.mark.parametrize("kind", ["postgresql", "redshift"])
def test_hostile_schema_name_is_quoted(kind: str, pg_base: str, tmp_path: Path) -> None:
    url = url_for(kind, pg_base, tmp_path, 'we"ird; DROP SCHEMA public CASCADE; --')
    store_snapshot(url, snapshot(1))
    assert latest_snapshot(url) == snapshot(1)


def test_copy_is_utf8_whatever_the_client_encoding(pg_base: str, tmp_path: Path) -> None:
    url = url_for("postgresql", pg_base, tmp_path, "s_latin1") + "&client_encoding=LATIN1"
    emoji = snapshot(records=(record(0, reason="🎉 ünï"), record(1, reason="中文")))
    store_snapshot(url, emoji)
    assert latest_snapshot(url) == emoji
