"""Correct under failure: racing pushes, a push killed with SIGKILL, serialization retries."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import psycopg2
import pytest

from xfail_grabber.sinks.db import latest_snapshot, store_snapshot
from xfail_grabber.sinks.db.connection import Db, connect, in_transaction, is_retryable

from .helpers import admin_connection, count_rows, snapshot, url_for

ROOT = Path(__file__).resolve().parents[2]


def race(url: str, pushes: int) -> list[BaseException]:
    barrier = threading.Barrier(pushes)
    failures: list[BaseException] = []

    def push(n: int) -> None:
        try:
            barrier.wait(timeout=30)
            store_snapshot(url, snapshot(10 + n))
        except BaseException as exc:  # reported by the test
            failures.append(exc)

    threads = [threading.Thread(target=push, args=(n,)) for n in range(pushes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return failures


def test_racing_pushes_of_one_key_leave_exactly_one(db_url: str) -> None:
    # The first round also races the creation of the schema and tables.
    for _ in range(3):
        assert race(db_url, 4) == []
        assert count_rows(db_url, "snapshots") == 1
        stored = latest_snapshot(db_url)
        assert stored is not None
        assert count_rows(db_url, "muted_tests") == len(stored.muted)
        assert len(stored.muted) in range(10, 14)


CHILD = """
import json, os, sys, time
from xfail_grabber.model import Snapshot
from xfail_grabber.sinks.db import push

real_insert = push.insert_rows

def insert_then_hang(db, table, columns, rows):
    real_insert(db, table, columns, rows)
    if table == "muted_tests":
        print("inserted", flush=True)
        time.sleep(120)

push.insert_rows = insert_then_hang
with open(sys.argv[1], encoding="utf-8") as handle:
    push.store_snapshot(os.environ["GRABBER_DATABASE_URL"], Snapshot.from_dict(json.load(handle)))
"""


def test_sigkill_halfway_leaves_the_previous_state(db_url: str, tmp_path: Path) -> None:
    before = snapshot(3)
    store_snapshot(db_url, before)
    after = snapshot(2000)  # the same key: the killed push had already deleted `before`
    data = tmp_path / "snapshot.json"
    data.write_text(json.dumps(after.to_dict()), encoding="utf-8")
    env = {**os.environ, "GRABBER_DATABASE_URL": db_url, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(data)], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "inserted"  # mid-transaction, rows written
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        if child.stdout is not None:
            child.stdout.close()
    assert latest_snapshot(db_url) == before
    assert count_rows(db_url, "muted_tests") == 3
    store_snapshot(db_url, after)
    assert latest_snapshot(db_url) == after
    assert count_rows(db_url, "snapshots") == 1


def test_a_real_serialization_failure_is_retried(pg_base: str, tmp_path: Path) -> None:
    url = url_for("postgresql", pg_base, tmp_path, "s_" + uuid.uuid4().hex[:8])
    table = "counter_" + uuid.uuid4().hex[:8]
    dbname = pg_base.rsplit("/", 1)[1]
    other = admin_connection(dbname)  # autocommit; `with other` would open a transaction
    with other.cursor() as cur:
        cur.execute(f"CREATE TABLE {table} (n INTEGER)")
        cur.execute(f"INSERT INTO {table} VALUES (0)")
        attempts: list[int] = []
        sleeps: list[float] = []

        def work(db: Db) -> int:
            attempts.append(1)
            db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            value = db.execute(f"SELECT n FROM {table}")[0][0]
            if len(attempts) == 1:  # a concurrent writer commits after our snapshot
                cur.execute(f"UPDATE {table} SET n = n + 100")
            db.execute(f"UPDATE {table} SET n = ?", (value + 1,))
            return int(value)

        with connect(url) as db:
            assert in_transaction(db, work, sleep=sleeps.append) == 100
        assert len(attempts) == 2 and len(sleeps) == 1
        cur.execute(f"SELECT n FROM {table}")
        assert cur.fetchone() == (101,)
    other.close()


def redshift_1023() -> psycopg2.Error:
    """The error Redshift sends for a serializable isolation violation, raised by a real server."""
    conn = admin_connection()
    with conn.cursor() as cur:
        try:
            cur.execute(
                "DO $$ BEGIN RAISE EXCEPTION '1023' USING ERRCODE = 'XX000', DETAIL = "
                "'Serializable isolation violation on table - 119371, transactions "
                "forming the cycle are: 1745830, 1745762 (pid:15021)'; END $$"
            )
        except psycopg2.Error as exc:
            return exc
        finally:
            conn.close()
    raise AssertionError("no error")


def test_redshift_1023_is_retried_with_backoff(pg_base: str, tmp_path: Path) -> None:
    error = redshift_1023()
    assert error.pgcode == "XX000" and is_retryable(error)
    sleeps: list[float] = []
    calls: list[int] = []

    def work(db: Db) -> str:
        calls.append(1)
        if len(calls) < 4:
            raise error
        return "done"

    url = url_for("redshift", pg_base, tmp_path, "s_" + uuid.uuid4().hex[:8])
    with connect(url) as db:
        assert in_transaction(db, work, sleep=sleeps.append) == "done"
    assert len(sleeps) == 3
    assert sleeps[0] < sleeps[2]  # backing off
    assert 0.1 <= sleeps[0] <= 0.2


def test_retries_give_up_after_a_bound(pg_base: str, tmp_path: Path) -> None:
    error = redshift_1023()
    sleeps: list[float] = []

    def work(db: Db) -> None:
        raise error

    url = url_for("redshift", pg_base, tmp_path, "s_" + uuid.uuid4().hex[:8])
    with pytest.raises(Exception, match="1023"), connect(url) as db:
        in_transaction(db, work, sleep=sleeps.append)
    assert len(sleeps) == 5


def test_other_errors_are_not_retried(tmp_path: Path) -> None:
    calls: list[int] = []

    def work(db: Db) -> None:
        calls.append(1)
        db.execute("SELECT * FROM no_such_table")

    with (
        pytest.raises(Exception, match="no_such_table"),
        connect(f"sqlite:///{tmp_path}/x.db") as db,
    ):
        in_transaction(db, work, sleep=lambda _: None)
    assert calls == [1]
