"""Every statement the Redshift dialect sends, parsed with sqlglot and checked against what
Redshift rejects. The statements are collected while they run for real on PostgreSQL (the
Redshift dialect pointed at the test server), so they are also known to execute."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from xfail_grabber.sinks.db import (
    import_legacy,
    latest_snapshot,
    prune,
    store_snapshot,
    stored_keys,
    trace_statements,
    trend,
    upgrade,
)
from xfail_grabber.sinks.db.dialect import REDSHIFT_MAX_STATEMENT_BYTES, truncate_utf8
from xfail_grabber.sinks.db.literals import inline, literal

from .helpers import admin_connection, count_rows, record, snapshot, url_for

REDSHIFT_LIMIT = 16 * 1024 * 1024
FORBIDDEN_TYPES = {
    exp.DataType.Type.SERIAL,
    exp.DataType.Type.BIGSERIAL,
    exp.DataType.Type.SMALLSERIAL,
    exp.DataType.Type.JSON,
    exp.DataType.Type.JSONB,
    exp.DataType.Type.ARRAY,
    exp.DataType.Type.TEXT,  # Redshift TEXT is VARCHAR(256): silent truncation
    exp.DataType.Type.TIMESTAMP,  # times are TIMESTAMPTZ
}
FORBIDDEN_NODES = (
    exp.OnConflict,
    exp.Returning,
    exp.Copy,
    exp.Array,
    exp.UniqueColumnConstraint,
    exp.PrimaryKey,
)
FORBIDDEN_TEXT = re.compile(
    r"\bON\s+CONFLICT\b|\bRETURNING\b|\bSERIAL\b|\bCREATE\s+(UNIQUE\s+)?INDEX\b|\bJSONB?\b"
    r"|\bFROM\s+STDIN\b|\[\]|\bpg_advisory|\bSAVEPOINT\b|(?<![\w'])E'",
    re.IGNORECASE,
)
# Statements sqlglot cannot parse and that Redshift does support.
COMMANDS = re.compile(r'^LOCK TABLE "[^"]+"\."[^"]+"$')


def violations(statement: str) -> list[str]:
    found = []
    if len(statement.encode("utf-8")) >= REDSHIFT_LIMIT:
        found.append("statement over 16 MB")
    if FORBIDDEN_TEXT.search(statement):
        found.append(f"forbidden text {FORBIDDEN_TEXT.search(statement)!r}")
    for tree in sqlglot.parse(statement, read="redshift"):
        if tree is None:
            continue
        if isinstance(tree, exp.Command) and not COMMANDS.match(statement):
            found.append("unparsed command")
        if isinstance(tree, exp.Create) and str(tree.args.get("kind")).upper() == "INDEX":
            found.append("CREATE INDEX")
        for node in tree.walk():
            if isinstance(node, FORBIDDEN_NODES):
                found.append(type(node).__name__)
            if isinstance(node, exp.DataType) and node.this in FORBIDDEN_TYPES:
                found.append(f"type {node.this.name}")
    return found


@pytest.mark.parametrize(
    "bad",
    [
        "INSERT INTO t (a) VALUES (1) ON CONFLICT DO NOTHING",
        "INSERT INTO t (a) VALUES (1) RETURNING a",
        "CREATE TABLE t (id SERIAL, a VARCHAR(3))",
        "CREATE TABLE t (a JSONB)",
        "CREATE TABLE t (a INTEGER[])",
        "CREATE TABLE t (a TIMESTAMP)",
        "CREATE TABLE t (a TEXT)",
        "CREATE TABLE t (a VARCHAR(3), UNIQUE (a))",
        'CREATE INDEX "i" ON "s"."t" ("a")',
        'COPY "s"."t" ("a") FROM STDIN',
        "SELECT pg_advisory_xact_lock(1)",
    ],
)
def test_the_checker_catches_what_redshift_rejects(bad: str) -> None:
    assert violations(bad)


def test_every_redshift_statement_is_redshift_sql(pg_base: str, tmp_path: Path) -> None:
    url = url_for("redshift", pg_base, tmp_path, "rs_" + uuid.uuid4().hex[:8])
    legacy = "legacy_" + uuid.uuid4().hex[:8]
    with admin_connection(pg_base.rsplit("/", 1)[1]) as conn, conn.cursor() as cur:
        cur.execute(
            f'CREATE TABLE "{legacy}" (test VARCHAR, ticket VARCHAR, file VARCHAR, '
            "repo VARCHAR, branch VARCHAR, timestamp TIMESTAMP, since TIMESTAMP)"
        )
        cur.execute(
            f"INSERT INTO \"{legacy}\" VALUES ('test_a', 'DCOS-1', 'a.py', 'r', 'main', "
            "'2019-03-01 10:00', '2019-01-15')"
        )
    now = datetime(2026, 11, 22, 4, tzinfo=UTC)
    with trace_statements() as statements:
        upgrade(url)
        upgrade(url)
        store_snapshot(url, snapshot(5))
        store_snapshot(url, snapshot(5))  # the replace path
        store_snapshot(url, snapshot(0, commit="b" * 40))
        store_snapshot(url, snapshot(2, scanned_at=now - timedelta(days=500)))
        latest_snapshot(url)
        latest_snapshot(url, "https://github.com/org/repo", "main")
        stored_keys(url, "https://github.com/org/repo", "main")
        trend(url)
        prune(url, timedelta(days=400), now=now)
        import_legacy(url, f"public.{legacy}")
    kinds = {s.split()[0].upper() for s in statements}
    assert {"CREATE", "INSERT", "DELETE", "SELECT", "LOCK", "BEGIN", "COMMIT"} <= kinds
    assert any(s.startswith("CREATE VIEW") for s in statements)
    problems = {s[:200]: v for s in statements if (v := violations(s))}
    assert problems == {}


def test_multi_row_inserts_stay_under_16_mb(pg_base: str, tmp_path: Path) -> None:
    url = url_for("redshift", pg_base, tmp_path, "rs_" + uuid.uuid4().hex[:8])
    big = snapshot(records=tuple(record(i, reason=f"{i} " + "é" * 40_000) for i in range(300)))
    with trace_statements() as statements:
        store_snapshot(url, big)
    inserts = [s for s in statements if s.startswith("INSERT INTO") and "muted_tests" in s[:80]]
    assert len(inserts) >= 2
    assert all(len(s.encode("utf-8")) <= REDSHIFT_MAX_STATEMENT_BYTES for s in inserts)
    assert count_rows(url, "muted_tests") == 300
    stored = latest_snapshot(url)
    assert stored is not None
    assert [r.reason for r in stored.muted] == [
        truncate_utf8(r.reason or "", 65535) for r in big.muted
    ]


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("abc", 3, "abc"),
        ("abcd", 3, "abc"),
        ("aé", 2, "a"),
        ("aé", 3, "aé"),
        ("🎉🎉", 7, "🎉"),
        ("🎉🎉", 3, ""),
        ("", 0, ""),
    ],
)
def test_truncate_utf8_never_splits_a_character(text: str, limit: int, expected: str) -> None:
    assert truncate_utf8(text, limit) == expected


def test_backslashes_are_escaped_the_redshift_way(pg_base: str, tmp_path: Path) -> None:
    url = url_for("redshift", pg_base, tmp_path, "rs_" + uuid.uuid4().hex[:8])
    text = "C:\\temp\\new \\' \\\\ end\\"
    with trace_statements() as statements:
        store_snapshot(url, snapshot(records=(record(0, reason=text),), repo="r\\" + text))
    inserts = [s for s in statements if s.startswith("INSERT INTO") and "muted_tests" in s[:80]]
    assert "'C:\\\\temp\\\\new \\\\'' \\\\\\\\ end\\\\'" in inserts[0]
    stored = latest_snapshot(url, "r\\" + text)
    assert stored is not None and stored.muted[0].reason == text


def test_inline_fills_placeholders_outside_quotes_only() -> None:
    assert inline("SELECT \"a?\" FROM t WHERE x = ? AND y = '?' AND z = ?", ["it's", 3]) == (
        "SELECT \"a?\" FROM t WHERE x = 'it''s' AND y = '?' AND z = 3"
    )
    assert (
        literal(None) == "NULL"
        and literal(True) == "TRUE"
        and literal(date(2026, 1, 2)) == ("CAST('2026-01-02' AS DATE)")
    )
    assert literal(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == (
        "CAST('2026-01-02 03:04:05+00:00' AS TIMESTAMPTZ)"
    )
    with pytest.raises(ValueError, match="fewer parameters"):
        inline("? ?", [1])
    with pytest.raises(ValueError, match="more parameters"):
        inline("?", [1, 2])
