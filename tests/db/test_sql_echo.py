"""GRABBER_SQL_ECHO=1 / -vvv: every statement a push or read runs, with its parameters,
never the password (real PostgreSQL, the Redshift dialect against it, and SQLite)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.source.gitutil import commit, init_repo
from xfail_grabber.cli import main
from xfail_grabber.sinks.db import latest_snapshot
from xfail_grabber.sinks.db.connection import ECHO_CHARS, masked

from .helpers import url_for

PASSWORD = "Echo'pw\\" + uuid.uuid4().hex[:10]  # a quote and a backslash: escaped in literals


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for name in ("GRABBER_DATABASE_URL", "GRABBER_SQL_ECHO", "GITHUB_TOKEN", "PGPASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GRABBER_CACHE_DIR", str(tmp_path / "cache"))
    yield
    logging.getLogger("xfail_grabber.sql").setLevel(logging.NOTSET)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A muted test whose reason holds the password: the data itself must be masked."""
    root = init_repo(tmp_path / "repo")
    reason = "see " + PASSWORD
    source = (
        f"import pytest\n\n\n@pytest.mark.xfail(reason={reason!r})\ndef test_echoed():\n    pass\n"
    )
    commit(root, {"tests/test_x.py": source})
    return root


def with_password(url: str) -> str:
    from urllib.parse import quote

    return url.replace("postgres@", f"postgres:{quote(PASSWORD, safe='')}@", 1)


@pytest.mark.parametrize("kind", ["postgresql", "redshift"])
def test_echo_shows_statements_and_parameters_never_the_password(
    kind: str,
    pg_base: str,
    repo: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = with_password(url_for(kind, pg_base, tmp_path, "echo_" + uuid.uuid4().hex[:8]))
    assert PASSWORD not in url  # percent-encoded in the URL; the driver gets it decoded
    monkeypatch.setenv("GRABBER_DATABASE_URL", url)
    monkeypatch.setenv("GRABBER_SQL_ECHO", "1")
    assert main(["push", str(repo), "main", "--workers", "1"]) == 0
    out, err = capsys.readouterr()
    assert out == ""
    statements = [line for line in err.splitlines() if line.startswith("grabber: sql: ")]
    assert any("CREATE TABLE" in s for s in statements)
    assert any("INSERT INTO" in s for s in statements)
    assert statements[-1] == "grabber: sql: COMMIT"
    # Parameters are shown as sent: the repository label is bound into the replacing DELETE.
    assert any("DELETE FROM" in s and f"\"repo\" = '{repo}'" in s for s in statements)
    if kind == "redshift":  # records travel in multi-row INSERTs with inline values
        # PostgreSQL standing in for Redshift is first told to read literals Redshift's way.
        assert "grabber: sql: SET standard_conforming_strings TO off" in statements
        assert any("test_echoed" in s and "see ***" in s for s in statements)
    else:  # records travel by COPY: the statement and the row count
        assert any(s.endswith("FROM STDIN -- 1 rows") for s in statements)
    doubled = PASSWORD.replace("\\", "\\\\")
    for form in (PASSWORD, PASSWORD.replace("'", "''"), doubled, doubled.replace("'", "''")):
        assert form not in err
    assert PASSWORD.split("\\")[1] not in err  # not even its tail

    # A read logs its statements too (the library, with the logger switched on).
    logging.getLogger("xfail_grabber.sql").setLevel(logging.INFO)
    stored = latest_snapshot(url)
    assert stored is not None and stored.muted[0].reason == "see " + PASSWORD
    err = capsys.readouterr().err
    assert "grabber: sql: SELECT" in err
    assert PASSWORD not in err


def test_vvv_echoes_a_sqlite_push_and_nothing_without_it(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{tmp_path}/echo.db"
    assert main(["push", str(repo), "main", "--db", db, "--workers", "1"]) == 0
    assert "sql:" not in capsys.readouterr().err
    assert main(["-vvv", "push", str(repo), "main", "--db", db, "--workers", "1"]) == 0
    err = capsys.readouterr().err
    inserts = [line for line in err.splitlines() if line.startswith("grabber: sql: INSERT")]
    # SQLite shows each statement with its parameters bound in.
    assert any("test_echoed" in line and "tests/test_x.py" in line for line in inserts)
    assert "?" not in "".join(line for line in inserts if "test_echoed" in line)


def test_masked_cuts_long_statements_and_hides_every_form_of_the_secret() -> None:
    secret = "p'w\\x"  # p'w\x
    text = "'p''w\\\\x' 'p''w\\x' 'p\"w'"  # Redshift's form, psycopg2's, another value
    assert masked(text, secret) == "'***' '***' 'p\"w'"
    assert masked("x", None) == "x"
    long = "INSERT " + "v" * (ECHO_CHARS + 10)
    assert masked(long, None).endswith(f"... ({len(long) - ECHO_CHARS} more characters)")
