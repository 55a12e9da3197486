"""Database URLs, the original POSTGRES_* variables, and which database the CLI picks."""

from __future__ import annotations

from pathlib import Path

import pytest

from xfail_grabber.sinks.db import InvalidDatabaseUrl, legacy_env_url, parse_url, resolve_url
from xfail_grabber.sinks.db.url import with_names

LEGACY = ("POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (*LEGACY, "GRABBER_DATABASE_URL", "PGSSLMODE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))


def test_sqlite_relative_and_absolute() -> None:
    assert parse_url("sqlite:///snap.db").path == "snap.db"
    assert parse_url("sqlite:////var/lib/x/snap.db").path == "/var/lib/x/snap.db"
    assert parse_url("sqlite:////var/x.db?table_prefix=xg_").table_prefix == "xg_"


def test_postgresql_parts_are_decoded() -> None:
    url = parse_url(
        "postgresql://ci%40org:p%40ss%3Aw%2Frd@db.example.com:6543/my%20db"
        "?sslmode=verify-full&schema=dash&table_prefix=xg_"
    )
    assert (url.kind, url.host, url.port, url.dbname, url.user, url.password) == (
        "postgresql",
        "db.example.com",
        6543,
        "my db",
        "ci@org",
        "p@ss:w/rd",
    )
    assert (url.schema, url.table_prefix) == ("dash", "xg_")
    kwargs = url.connect_kwargs()
    assert kwargs["sslmode"] == "verify-full" and kwargs["password"] == "p@ss:w/rd"
    assert "schema" not in kwargs and "table_prefix" not in kwargs
    assert url.display() == "postgresql://ci@org@db.example.com:6543/my db"
    assert "p@ss" not in repr(url)


def test_postgres_alias_and_default_port() -> None:
    assert parse_url("postgres://h/db").kind == "postgresql"
    assert parse_url("postgresql://h/db").port == 5432


def test_redshift_defaults_to_port_5439_and_ssl(monkeypatch: pytest.MonkeyPatch) -> None:
    url = parse_url("redshift://u:pw@cluster.example.com/events")
    assert url.port == 5439
    assert url.connect_kwargs()["sslmode"] == "require"
    assert parse_url("redshift://h/db?sslmode=verify-full").connect_kwargs()["sslmode"] == (
        "verify-full"
    )
    monkeypatch.setenv("PGSSLMODE", "disable")  # libpq's own variable is respected
    assert "sslmode" not in url.connect_kwargs()


@pytest.mark.parametrize(
    "bad", ["mysql://h/db", "h/db", "sqlite://x.db", "sqlite:///", "postgresql://h:99999999/db"]
)
def test_bad_urls(bad: str) -> None:
    with pytest.raises(InvalidDatabaseUrl):
        parse_url(bad)


def test_with_names_keeps_sqlite_absolute_paths() -> None:
    url = with_names("sqlite:////abs/x.db", table_prefix="p_")
    assert parse_url(url).path == "/abs/x.db" and parse_url(url).table_prefix == "p_"
    assert parse_url(with_names("postgresql://h/d?sslmode=disable", schema="s")).options == (
        ("sslmode", "disable"),
    )


def test_legacy_env_url(monkeypatch: pytest.MonkeyPatch) -> None:
    assert legacy_env_url() is None
    monkeypatch.setenv("POSTGRES_HOST", "cluster.example.com")
    monkeypatch.setenv("POSTGRES_DB", "events")
    monkeypatch.setenv("POSTGRES_USER", "ci")
    monkeypatch.setenv("POSTGRES_PASSWORD", "p@ss:w/rd?#% ")
    url = legacy_env_url()
    assert url is not None and url.startswith("redshift://")
    parsed = parse_url(url)
    assert (parsed.host, parsed.port, parsed.dbname, parsed.user, parsed.password) == (
        "cluster.example.com",
        5439,
        "events",
        "ci",
        "p@ss:w/rd?#% ",
    )
    monkeypatch.setenv("POSTGRES_PORT", "5440")
    assert parse_url(legacy_env_url("postgresql") or "").port == 5440


def test_resolution_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    default = resolve_url(None)
    assert default == f"sqlite:///{tmp_path}/data/xfail-grabber/snapshots.db"
    assert parse_url(default).path == f"{tmp_path}/data/xfail-grabber/snapshots.db"
    monkeypatch.setenv("POSTGRES_HOST", "pg.example.com")
    assert resolve_url(None).startswith("postgresql://pg.example.com")
    monkeypatch.setenv("GRABBER_DATABASE_URL", "redshift://rs.example.com/db")
    assert resolve_url(None) == "redshift://rs.example.com/db"
    assert resolve_url("sqlite:///x.db") == "sqlite:///x.db"
