"""A password written into a database URL without percent-encoding never reaches a message
(issue 9, item 9): everything between `://` and the last `@` is the user information."""

from __future__ import annotations

import socket

import pytest

from xfail_grabber.cli import main
from xfail_grabber.sinks.db.url import parse_url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("userinfo", "user", "password"),
    [
        ("postgres:12345/S3CRET", "postgres", "12345/S3CRET"),
        ("u:p@ss:w/rd", "u", "p@ss:w/rd"),
        ("u:p%40ss", "u", "p@ss"),
        ("only-user", "only-user", None),
    ],
)
def test_user_information_is_everything_up_to_the_last_at(
    userinfo: str, user: str, password: str | None
) -> None:
    url = parse_url(f"postgresql://{userinfo}@db.example:6543/name?sslmode=disable")
    assert (url.user, url.password) == (user, password)
    assert (url.host, url.port, url.dbname) == ("db.example", 6543, "name")
    assert url.display() == f"postgresql://{user}@db.example:6543/name"


def test_an_at_in_a_sqlite_path_is_a_path() -> None:
    assert parse_url("sqlite:////tmp/a@b/x.db").path == "/tmp/a@b/x.db"


@pytest.mark.parametrize(
    ("userinfo", "pieces"),
    [
        ("postgres:12345/S3CRET", ["12345", "S3CRET"]),
        ("u:p@ss:w/rd", ["p@ss", "ss:w", "w/rd"]),
    ],
)
def test_the_connection_error_holds_no_part_of_the_password(
    userinfo: str,
    pieces: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"postgresql://{userinfo}@127.0.0.1:{free_port()}/db?connect_timeout=5"
    monkeypatch.setenv("GRABBER_DATABASE_URL", url)
    assert main(["db", "upgrade"]) == 1
    err = capsys.readouterr().err
    assert "127.0.0.1" in err and err.count("\n") == 1
    assert not [piece for piece in pieces if piece in err], err
