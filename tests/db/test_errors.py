"""A database that is down, a wrong password, a missing permission: one line naming the host,
never the password, exit 1, nothing half-written."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from xfail_grabber.cli import main
from xfail_grabber.sinks.db import (
    AuthenticationFailed,
    DatabaseError,
    DatabaseUnreachable,
    InvalidDatabaseUrl,
    PermissionDenied,
    SchemaTooNew,
    latest_snapshot,
    store_snapshot,
    upgrade,
)
from xfail_grabber.sinks.db.connection import connect

from .fakeserver import refusing_server
from .helpers import admin_connection, count_rows, snapshot, url_for

PASSWORD = "s3cr3t-p@ss:w/rd?#"
QUOTED = "s3cr3t-p%40ss%3Aw%2Frd%3F%23"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_without_secret(message: str, host: str = "127.0.0.1") -> None:
    assert message.count("\n") <= 1 and message.strip()
    assert host in message
    assert PASSWORD not in message and QUOTED not in message and "s3cr3t" not in message


@pytest.mark.parametrize("kind", ["postgresql", "redshift"])
def test_database_down(
    kind: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"{kind}://ci:{QUOTED}@127.0.0.1:{free_port()}/db?sslmode=disable&connect_timeout=5"
    with pytest.raises(DatabaseUnreachable) as caught:
        store_snapshot(url, snapshot(1))
    assert_one_line_without_secret(str(caught.value))
    monkeypatch.setenv("GRABBER_DATABASE_URL", url)
    code, out, err = run_cli(["db", "upgrade"], capsys)
    assert (code, out) == (1, "")
    assert err.startswith("Error: cannot connect to")
    assert_one_line_without_secret(err)


@pytest.mark.parametrize("kind", ["postgresql", "redshift"])
def test_wrong_password(
    kind: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with refusing_server() as (port, received):
        url = f"{kind}://ci:{QUOTED}@127.0.0.1:{port}/db?sslmode=disable&gssencmode=disable"
        with pytest.raises(AuthenticationFailed) as caught:
            upgrade(url)
        assert_one_line_without_secret(str(caught.value))
        assert "password authentication failed" in str(caught.value)
        assert received and PASSWORD.encode() in received[0]  # sent on the wire, not in argv
        monkeypatch.setenv("GRABBER_DATABASE_URL", url)
        code, out, err = run_cli(["db", "prune", "--keep", "400d"], capsys)
    assert (code, out) == (1, "")
    assert_one_line_without_secret(err)


def test_unknown_user_on_the_real_server(pg_base: str) -> None:
    url = pg_base.replace("postgres@", f"nobody_{uuid.uuid4().hex[:6]}:{QUOTED}@")
    with pytest.raises(AuthenticationFailed) as caught:
        upgrade(url)
    assert_one_line_without_secret(str(caught.value))


@pytest.fixture
def weak_role(pg_base: str) -> Iterator[str]:
    """A login role with no CREATE right on the test database."""
    role = "xg_weak_" + uuid.uuid4().hex[:8]
    dbname = pg_base.rsplit("/", 1)[1]
    admin = admin_connection()
    with admin.cursor() as cur:
        cur.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'unused'")
    try:
        yield role
    finally:
        in_db = admin_connection(dbname)
        with in_db.cursor() as cur:
            cur.execute(f"DROP OWNED BY {role}")
        in_db.close()
        with admin.cursor() as cur:
            cur.execute(f"DROP ROLE {role}")
        admin.close()


@pytest.mark.parametrize("kind", ["postgresql", "redshift"])
def test_no_right_to_create_the_schema(
    kind: str, pg_base: str, weak_role: str, tmp_path: Path
) -> None:
    schema = "s_" + uuid.uuid4().hex[:8]
    url = url_for(kind, pg_base.replace("postgres@", f"{weak_role}:{QUOTED}@"), tmp_path, schema)
    with pytest.raises(PermissionDenied) as caught:
        store_snapshot(url, snapshot(2))
    assert_one_line_without_secret(str(caught.value))
    assert "permission denied" in str(caught.value)
    with admin_connection(pg_base.rsplit("/", 1)[1]).cursor() as cur:
        cur.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,))
        assert cur.fetchall() == []  # nothing created


@pytest.mark.parametrize("kind", ["postgresql", "redshift"])
def test_read_only_user_cannot_half_write(
    kind: str, pg_base: str, weak_role: str, tmp_path: Path
) -> None:
    schema = "s_" + uuid.uuid4().hex[:8]
    admin_url = url_for(kind, pg_base, tmp_path, schema)
    before = snapshot(3)
    store_snapshot(admin_url, before)
    conn = admin_connection(pg_base.rsplit("/", 1)[1])
    with conn.cursor() as cur:
        cur.execute(f"GRANT USAGE ON SCHEMA {schema} TO {weak_role}")
        cur.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {weak_role}")
    conn.close()
    url = url_for(kind, pg_base.replace("postgres@", f"{weak_role}:{QUOTED}@"), tmp_path, schema)
    assert latest_snapshot(url) == before  # reading is allowed
    with pytest.raises(PermissionDenied) as caught:
        store_snapshot(url, snapshot(5))
    assert_one_line_without_secret(str(caught.value))
    assert latest_snapshot(admin_url) == before
    assert count_rows(admin_url, "muted_tests") == 3


def test_sqlite_file_that_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(DatabaseError) as caught:
        store_snapshot(f"sqlite:///{blocker}/sub/snapshots.db", snapshot(1))
    assert str(caught.value).startswith(f"sqlite:///{blocker}/sub/snapshots.db: ")


@pytest.mark.parametrize(
    "url",
    [
        "mysql://u:s3cr3t@h/db",
        "s3cr3t",
        "sqlite://relative.db",
        "postgresql://u:s3cr3t@h:notaport/db",
    ],
)
def test_bad_urls(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(InvalidDatabaseUrl) as caught:
        store_snapshot(url, snapshot(1))
    assert "s3cr3t" not in str(caught.value)
    code, out, err = run_cli(["db", "upgrade", "--db", url], capsys)
    assert (code, out) == (1, "")
    assert err.count("\n") == 1 and "s3cr3t" not in err


def test_a_newer_schema_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path}/x.db"
    upgrade(url)
    with connect(url) as db:
        db.execute('INSERT INTO "schema_version" ("version") VALUES (99)')
    with pytest.raises(SchemaTooNew, match="version 99"):
        store_snapshot(url, snapshot(1))
    with pytest.raises(SchemaTooNew):
        latest_snapshot(url)
    code, _, err = run_cli(["db", "upgrade", "--db", url], capsys)
    assert code == 1 and "newer than this grabber" in err


@pytest.mark.parametrize("kind", ["postgresql", "redshift"])
def test_a_user_who_may_only_write_rows_can_push(
    kind: str, pg_base: str, weak_role: str, tmp_path: Path
) -> None:
    schema = "s_" + uuid.uuid4().hex[:8]
    store_snapshot(url_for(kind, pg_base, tmp_path, schema), snapshot(1))  # the admin's tables
    conn = admin_connection(pg_base.rsplit("/", 1)[1])
    with conn.cursor() as cur:
        cur.execute(f"GRANT USAGE ON SCHEMA {schema} TO {weak_role}")
        cur.execute(f"GRANT SELECT, INSERT, DELETE ON ALL TABLES IN SCHEMA {schema} TO {weak_role}")
    conn.close()
    url = url_for(kind, pg_base.replace("postgres@", f"{weak_role}@"), tmp_path, schema)
    store_snapshot(url, snapshot(4))
    assert latest_snapshot(url) == snapshot(4)
