"""`grabber push` end to end (a real git repository, a real database) and `grabber db ...`."""

from __future__ import annotations

import re
import subprocess
import uuid
from pathlib import Path

import pytest

from xfail_grabber.cli import main
from xfail_grabber.compat import main as compat_main
from xfail_grabber.sinks.db import latest_snapshot, stored_keys, upgrade
from xfail_grabber.sinks.db.schema import LATEST

from .helpers import count_rows, url_for

ROOT = Path(__file__).resolve().parents[2]
TEST_FILE = """import pytest


@pytest.mark.xfailflake(jira="DCOS-1", reason="it's 'flaky'; DROP TABLE snapshots; -- 🎉",
                        since="2019-01-15")
def test_a():
    pass


@pytest.mark.skip(reason="no")
def test_b():
    pass
"""


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "GRABBER_DATABASE_URL",
        "GRABBER_DB_SCHEMA",
        "GRABBER_DB_TABLE_PREFIX",
        "POSTGRES_HOST",
        "POSTGRES_PORT",
        "POSTGRES_DB",
        "POSTGRES_USER",
        "POSTGRES_PASSWORD",
        "GITHUB_TOKEN",
        "GRABBER_GIT_TOKEN",
        "PGSSLMODE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("GRABBER_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "tests").mkdir(parents=True)
    (root / "tests" / "test_x.py").write_text(TEST_FILE, encoding="utf-8")
    git = ["git", "-C", str(root), "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "mute"], check=True)
    return root


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def check_pushed(url: str, repo: Path, kinds: list[str]) -> None:
    stored = latest_snapshot(url)
    assert stored is not None
    assert (stored.repo, stored.branch) == (str(repo), "main")
    assert [r.kind for r in stored.muted] == kinds
    assert stored.muted[0].reason == "it's 'flaky'; DROP TABLE snapshots; -- 🎉"
    assert re.fullmatch("[0-9a-f]{40}", stored.commit or "")


def test_push_with_db_option(db_url: str, repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["push", str(repo), "main", "--db", db_url], capsys)
    assert (code, out) == (0, "")
    assert re.fullmatch(r"grabber: stored 2 muted tests of \S+@main \([0-9a-f]{12}\) in \S+\n", err)
    check_pushed(db_url, repo, ["xfailflake", "skip"])
    assert run(["push", str(repo), "main", "--db", db_url], capsys)[0] == 0
    assert count_rows(db_url, "snapshots") == 1  # the same scan again replaces it


def test_push_takes_the_url_and_names_from_the_environment(
    pg_base: str,
    repo: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    schema = "env_" + uuid.uuid4().hex[:8]
    monkeypatch.setenv("GRABBER_DATABASE_URL", pg_base)
    monkeypatch.setenv("GRABBER_DB_SCHEMA", schema)
    monkeypatch.setenv("GRABBER_DB_TABLE_PREFIX", "xg_")
    code, out, _ = run(["push", str(repo), "main", "--only", "xfailflake"], capsys)
    assert (code, out) == (0, "")
    url = f"{pg_base}?schema={schema}&table_prefix=xg_"
    check_pushed(url, repo, ["xfailflake"])


def test_push_with_the_original_postgres_variables(
    pg_base: str, repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    schema = "legacy_" + uuid.uuid4().hex[:8]
    monkeypatch.setenv("POSTGRES_HOST", "127.0.0.1")
    monkeypatch.setenv("POSTGRES_PORT", "5432")
    monkeypatch.setenv("POSTGRES_DB", pg_base.rsplit("/", 1)[1])
    monkeypatch.setenv("POSTGRES_USER", "postgres")
    monkeypatch.setenv("POSTGRES_PASSWORD", "not-needed-but-never-shown")
    monkeypatch.setenv("GRABBER_DB_SCHEMA", schema)
    code, out, err = run(["push", str(repo), "main"], capsys)
    assert (code, out) == (0, "")
    assert "not-needed" not in err and "postgresql://postgres@127.0.0.1:5432/" in err
    check_pushed(f"{pg_base}?schema={schema}", repo, ["xfailflake", "skip"])


def test_compat_redshift_action_pushes_like_the_original(
    pg_base: str, repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    schema = "compat_" + uuid.uuid4().hex[:8]
    monkeypatch.setenv("POSTGRES_HOST", "127.0.0.1")
    monkeypatch.setenv("POSTGRES_PORT", "5432")  # the Redshift dialect, against PostgreSQL
    monkeypatch.setenv("POSTGRES_DB", pg_base.rsplit("/", 1)[1])
    monkeypatch.setenv("POSTGRES_USER", "postgres")
    monkeypatch.setenv("POSTGRES_PASSWORD", "pw-never-shown")
    monkeypatch.setenv("PGSSLMODE", "disable")  # the local server has no TLS
    monkeypatch.setenv("GRABBER_DB_SCHEMA", schema)
    assert compat_main(["redshift", str(repo), "main"]) == 0
    out, err = capsys.readouterr()
    assert out == "" and "pw-never-shown" not in err and "redshift://" in err
    url = url_for("redshift", pg_base, Path(), schema)
    check_pushed(url, repo, ["xfailflake", "skip"])


def test_push_to_a_down_database_fails_before_scanning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "postgresql://u:hunter2@127.0.0.1:9/db?connect_timeout=3"
    monkeypatch.setenv("GRABBER_DATABASE_URL", url)
    code, out, err = run(["push", str(tmp_path / "does-not-exist"), "main"], capsys)
    assert (code, out) == (1, "")  # not the missing repository: the database is checked first
    assert err.startswith("Error: cannot connect to postgresql://u@127.0.0.1:9/db")
    assert err.count("\n") == 1 and "hunter2" not in err


def test_push_default_is_a_sqlite_file_in_the_user_data_dir(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["push", str(repo), "main"], capsys)[0] == 0
    path = tmp_path / "data" / "xfail-grabber" / "snapshots.db"
    assert path.is_file()
    check_pushed(f"sqlite:///{path}", repo, ["xfailflake", "skip"])


def test_db_upgrade_and_prune(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path}/x.db"
    assert run(["db", "upgrade", "--db", url], capsys) == (
        0,
        "",
        f"grabber: migrated {url} from schema version 0 to {LATEST}\n",
    )
    assert run(["db", "upgrade", "--db", url], capsys) == (
        0,
        "",
        f"grabber: {url} is at schema version {LATEST}; nothing to do\n",
    )
    assert run(["db", "prune", "--keep", "400d", "--db", url], capsys) == (
        0,
        "",
        f"grabber: deleted 0 snapshots older than 400 days from {url}\n",
    )
    code, _, err = run(["db", "prune", "--keep", "soon", "--db", url], capsys)
    assert code == 2 and "not a duration" in err
    assert run(["db", "prune", "--db", url], capsys)[0] == 2  # --keep is required


def test_db_import_legacy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path}/x.db"
    upgrade(url)
    from xfail_grabber.sinks.db.connection import connect

    with connect(url) as db:
        db.execute("CREATE TABLE old (test, ticket, file, repo, branch, timestamp, since)")
        db.execute(
            "INSERT INTO old VALUES ('t', 'J-1', 'a.py', 'r', 'b', '2019-03-01 10:00:00', NULL)"
        )
    assert run(["db", "import-legacy", "old", "--db", url], capsys) == (
        0,
        "",
        f"grabber: imported 1 daily snapshots from old into {url}\n",
    )
    assert stored_keys(url, "r", "b") == {("", "2019-03-01")}


def test_readme_documents_every_db_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("<!-- section: db -->")[1].split("<!-- end section: db -->")[0]
    for command in (
        "grabber push",
        "grabber db upgrade",
        "grabber db prune",
        "grabber db import-legacy",
        "GRABBER_DATABASE_URL",
        "POSTGRES_HOST",
        "--db-schema",
        "--table-prefix",
        "xfailflake_history_v1",
    ):
        assert command in section, command


def test_a_password_on_the_command_line_is_warned_about(
    pg_base: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = url_for("postgresql", pg_base.replace("postgres@", "postgres:visible@"), tmp_path, "w")
    code, out, err = run(["db", "upgrade", "--db", url], capsys)
    assert (code, out) == (0, "")
    assert err.startswith("grabber: warning: a password in --db is visible")
    assert "visible@" not in err
