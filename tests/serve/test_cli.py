"""`grabber serve` as users run it: a child process on 127.0.0.1, a real SQLite file."""

from __future__ import annotations

import dataclasses
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

import xfail_grabber
from xfail_grabber.cli import grabber
from xfail_grabber.sinks.formats import render_redash

from .snapshots import small_snapshot

db = pytest.importorskip("xfail_grabber.sinks.db")
TOKEN = "cli-t0ken-value"
ROOT = Path(xfail_grabber.__file__).resolve().parent.parent


@dataclasses.dataclass
class Child:
    process: subprocess.Popen[str]
    port: int

    def get(self, path: str, **headers: str) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def wait_for(self, path: str, status: int = 200, timeout: float = 60) -> bytes:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code, body = self.get(path, Authorization=f"Bearer {TOKEN}")
            if code == status:
                return body
            time.sleep(0.1)
        raise AssertionError(f"{path} never answered {status}")


Serve = Callable[..., Child]


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Serve]:
    children: list[Child] = []

    def start(*args: str, env: dict[str, str] | None = None) -> Child:
        environment = {**os.environ, "GRABBER_AUTH_TOKEN": TOKEN, **(env or {})}
        environment.pop("GRABBER_DATABASE_URL", None)
        # The child imports this checkout's package, installed or not.
        environment["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(ROOT), environment.get("PYTHONPATH")])
        )
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "xfail_grabber",
                "serve",
                *args,
                "--host",
                "127.0.0.1",
                "--port",
                "0",
            ],
            stderr=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=environment,
            cwd=tmp_path,
        )
        assert process.stderr is not None
        line = process.stderr.readline()
        match = re.search(r"serving on http://127\.0\.0\.1:(\d+)/", line)
        assert match, line
        child = Child(process, int(match.group(1)))
        children.append(child)
        return child

    yield start
    for child in children:
        if child.process.poll() is None:
            child.process.send_signal(signal.SIGTERM)
        try:
            child.process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            child.process.kill()
            child.process.communicate(timeout=5)


def test_serve_reads_the_latest_stored_snapshot_and_trend(serve: Serve, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'grabber.db'}"
    older = small_snapshot(
        commit="1" * 40,
        muted=small_snapshot().muted[:3],
        scanned_at=small_snapshot().scanned_at - timedelta(days=1),
    )
    db.store_snapshot(url, older)
    db.store_snapshot(url, small_snapshot())
    child = serve("--db", url)
    body = child.wait_for("/redash")
    assert body.decode() == render_redash(small_snapshot())
    days = json.loads(child.wait_for("/api/trend"))["days"]
    assert [(d["day"], d["total"]) for d in days] == [("2026-11-19", 3), ("2026-11-20", 5)]
    assert child.get("/redash")[0] == 401  # the token came from the environment
    child.process.send_signal(signal.SIGTERM)
    out, err = child.process.communicate(timeout=10)
    assert child.process.returncode == 0  # a graceful stop
    assert TOKEN not in err
    assert out == ""  # stdout carries data only


def test_an_empty_database_is_a_503_that_says_so(serve: Serve, tmp_path: Path) -> None:
    child = serve("--db", f"sqlite:///{tmp_path / 'empty.db'}")
    deadline = time.monotonic() + 30
    message = ""
    while "no snapshot stored yet" not in message and time.monotonic() < deadline:
        message = json.loads(child.wait_for("/api/muted", status=503))["error"]
        time.sleep(0.05)
    assert message.startswith("no snapshot yet: the last attempt failed (no snapshot stored yet")


@pytest.fixture
def git_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "tests").mkdir(parents=True)
    (repo / "tests" / "test_a.py").write_text(
        "import pytest\n\n\n@pytest.mark.xfailflake(jira='DCOS-1', reason='r')\n"
        "def test_one():\n    pass\n\n\n@pytest.mark.skip(reason='later')\ndef test_two():\n"
        "    pass\n"
    )
    for command in (
        ["init", "-q", "-b", "main"],
        ["add", "-A"],
        ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "c"],
    ):
        subprocess.run(["git", "-C", str(repo), *command], check=True, timeout=30)
    return repo


def test_compat_form_scans_a_repository(serve: Serve, git_repo: Path) -> None:
    # What xfailflake_grabber.py serve <repository> <branch> <port> runs.
    child = serve(str(git_repo), "main", "--only", "xfailflake")
    rows = json.loads(child.wait_for("/redash"))["rows"]
    assert [(r["nodeid"], r["ticket"]) for r in rows] == [("tests/test_a.py::test_one", "DCOS-1")]


def test_scan_with_the_trend_from_the_database(
    serve: Serve, git_repo: Path, tmp_path: Path
) -> None:
    from xfail_grabber.config import build_settings
    from xfail_grabber.core import take_snapshot

    url = f"sqlite:///{tmp_path / 'grabber.db'}"
    now = take_snapshot(str(git_repo), "main", build_settings((), (), None))
    earlier = dataclasses.replace(
        now, scanned_at=now.scanned_at - timedelta(days=3), muted=now.muted * 2
    )
    db.store_snapshot(url, earlier)
    child = serve(str(git_repo), "main", "--db", url)
    days = json.loads(child.wait_for("/api/trend"))["days"]
    assert [(d["day"], d["total"]) for d in days] == [
        (earlier.scanned_at.date().isoformat(), 4),
        (now.scanned_at.date().isoformat(), 2),  # the live scan, not stored
    ]


def test_usage_errors() -> None:
    runner = CliRunner()
    result = runner.invoke(grabber, ["serve"], env={"GRABBER_DATABASE_URL": ""})
    assert result.exit_code == 2
    assert "give a REPOSITORY to scan, or --db URL" in result.output
    result = runner.invoke(grabber, ["serve", ".", "--refresh", "soon"])
    assert result.exit_code == 2 and "not a duration" in result.output
    result = runner.invoke(grabber, ["serve", ".", "--ticket-url", "javascript:{ticket}"])
    assert result.exit_code == 2 and "--ticket-url" in result.output
    result = runner.invoke(grabber, ["serve", ".", "--from-db"], env={"GRABBER_DATABASE_URL": ""})
    assert result.exit_code == 2 and "--from-db needs --db" in result.output


def test_a_taken_port_is_a_one_line_error(tmp_path: Path) -> None:
    from xfail_grabber.sinks.serve.runner import bind

    sock = bind("127.0.0.1", 0)
    try:
        port = sock.getsockname()[1]
        result = CliRunner().invoke(
            grabber, ["serve", "--db", f"sqlite:///{tmp_path / 'x.db'}", "--port", str(port)]
        )
        assert result.exit_code == 1
        assert f"cannot listen on 127.0.0.1:{port}" in result.output
    finally:
        sock.close()


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90), ("90s", 90), ("15m", 900), ("1h", 3600), ("1d", 86400), ("0", 0)],
)
def test_durations(text: str, seconds: float) -> None:
    from xfail_grabber.commands.serve import parse_duration

    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),  # noqa: S104 - only a string here
        ("::", False),
        ("10.1.2.3", False),
        ("grabber.example.com", False),
    ],
)
def test_which_hosts_get_the_no_token_warning(host: str, loopback: bool) -> None:
    # Serving beyond loopback without a token logs a warning (not tested by binding
    # 0.0.0.0: the tests stay on loopback).
    from xfail_grabber.commands.serve import _loopback

    assert _loopback(host) is loopback


def test_access_log_lines_on_stderr(serve: Serve, git_repo: Path) -> None:
    child = serve(str(git_repo), "main", "--access-log")
    child.wait_for("/healthz")
    child.process.send_signal(signal.SIGTERM)
    _, err = child.process.communicate(timeout=30)
    assert '"GET /healthz HTTP/1.1" 200' in err
    assert TOKEN not in err


def test_a_missing_repository_is_an_error_not_a_server(tmp_path: Path) -> None:
    result = CliRunner().invoke(grabber, ["serve", str(tmp_path / "nope")])
    assert result.exit_code == 1 and "no such directory" in result.output


def spawn(argv: list[str], env: dict[str, str], cwd: Path) -> Child:
    """Start a server command; return once it says where it listens."""
    process = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd
    )
    assert process.stderr is not None
    match = re.search(r"serving on http://127\.0\.0\.1:(\d+)/", process.stderr.readline())
    if not match:
        process.kill()
        process.communicate(timeout=30)
        raise AssertionError("the server did not start")
    return Child(process, int(match.group(1)))
