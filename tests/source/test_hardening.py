"""Issue 9, the git side: the token stays with its origin, a stuck server cannot hang a run,
refspecs and transports are refused (each test failed before its fix)."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from xfail_grabber.source import SourceError
from xfail_grabber.source.open import open_source

from ..serve.test_cli import Child, spawn
from .gitutil import commit, git, init_repo
from .httpgit import GitServer, serve_redirect, stuck_server
from .test_token import TOKEN, own_processes, server  # noqa: F401


def grabber(
    *argv: str, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "xfail_grabber", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT", "GRABBER"))}
    env.pop("GITHUB_TOKEN", None)
    env.update(HOME=str(home), XDG_CACHE_HOME=str(home / "xdg"), **extra)
    return env


def git_children(marker: str) -> list[int]:
    """git processes whose command line holds `marker` (our git children for that URL)."""
    me = os.getpid()
    return [
        pid
        for pid, argv in own_processes().items()
        if pid != me
        and marker.encode() in argv
        and Path(argv.split(b"\0", 1)[0].decode(errors="replace")).name.startswith("git")
    ]


# -- 1. the token does not follow a redirect to another origin ------------------------------


def test_token_not_sent_to_a_redirect_target(
    server: GitServer,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    # The target serves anyone (a public mirror, or an attacker's server) and logs headers.
    server.expected = None  # type: ignore[assignment]
    with serve_redirect(server.url) as redirect:
        url = f"{redirect.url}/private.git"
        with pytest.raises(SourceError) as info, open_source(url, cache_dir=tmp_path / "c"):
            pass
    # The first server (the repository's own origin) got the token; the second, nothing.
    assert server.authorizations == []
    assert not server.requests
    assert redirect.requests and all(auth is not None for _, auth in redirect.requests)
    assert str(info.value).startswith(f"cannot clone {url}: the server redirects elsewhere")
    assert len(str(info.value).splitlines()) == 1 and TOKEN not in str(info.value)


def test_redirect_without_a_token_is_followed(server: GitServer, tmp_path: Path) -> None:  # noqa: F811
    """Nothing to leak: a public repository that moved still clones (git's default)."""
    server.expected = None  # type: ignore[assignment]  # the target asks for no token
    with (
        serve_redirect(server.url) as redirect,
        open_source(f"{redirect.url}/private.git", cache_dir=tmp_path / "c") as checkout,
    ):
        assert [f.path for f in checkout.files()] == ["tests/test_p.py"]
    assert server.authorizations == []


# -- 4. network timeouts ---------------------------------------------------------------------


def test_stuck_server_fails_in_time_and_releases_the_lock(tmp_path: Path) -> None:
    with stuck_server() as base:
        url = f"{base}/r.git"
        for _ in range(2):  # the second run is not blocked by a lock the first one kept
            started = time.monotonic()
            with (
                pytest.raises(SourceError) as info,
                open_source(url, cache_dir=tmp_path / "c", timeout=2),
            ):
                pass
            assert time.monotonic() - started < 15
            message = str(info.value)
            assert message.startswith(f"cannot clone {url}: ") and len(message.splitlines()) == 1
            assert "too slow" in message or "gave no answer" in message
        time.sleep(0.5)
        assert git_children(base) == []  # git and its http helper are gone


def test_stuck_server_through_the_cli(tmp_path: Path) -> None:
    with stuck_server() as base:
        url = f"{base}/r.git"
        for argv, extra in (
            (["--git-timeout", "2"], {}),
            ([], {"GRABBER_GIT_TIMEOUT": "2"}),
        ):
            started = time.monotonic()
            proc = grabber("dump", url, *argv, env=clean_env(tmp_path, **extra))
            assert time.monotonic() - started < 30
            assert (proc.returncode, proc.stdout) == (1, "")
            assert proc.stderr.startswith(f"Error: cannot clone {url}: ")
            assert len(proc.stderr.splitlines()) == 1
        proc = grabber("dump", url, "--git-timeout", "soon", env=clean_env(tmp_path))
        assert proc.returncode == 2 and "--git-timeout" in proc.stderr


def metrics(port: int) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/metrics")
        return conn.getresponse().read().decode()
    finally:
        conn.close()


def start_serve(url: str, home: Path, timeout: str) -> Child:
    argv = ["serve", url, "--port", "0", "--refresh", "0", "--git-timeout", timeout]
    return spawn([sys.executable, "-m", "xfail_grabber", *argv], clean_env(home), home)


def test_serve_reports_a_stuck_refresh_and_ends_its_git_children(tmp_path: Path) -> None:
    with stuck_server() as base:
        url = f"{base}/r.git"
        # A deadline: the stuck refresh fails, and /metrics says so.
        child = start_serve(url, tmp_path, "2")
        process, port = child.process, child.port
        try:
            deadline = time.monotonic() + 30
            while "grabber_refresh_failures_total 1" not in metrics(port):
                assert time.monotonic() < deadline, metrics(port)
                time.sleep(0.2)
            assert "grabber_last_refresh_ok 0" in metrics(port)
        finally:
            process.send_signal(signal.SIGTERM)
            process.communicate(timeout=30)
        # Still stuck (a long deadline): not reported as ok; its git ends with the server.
        child = start_serve(url, tmp_path, "300")
        process, port = child.process, child.port
        try:
            deadline = time.monotonic() + 30
            while not git_children(base):
                assert time.monotonic() < deadline, "git never started"
                time.sleep(0.1)
            assert "grabber_last_refresh_ok 0" in metrics(port)
        finally:
            process.send_signal(signal.SIGTERM)
            process.communicate(timeout=30)
        deadline = time.monotonic() + 5
        while git_children(base) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert git_children(base) == []


# -- 11. refspecs and transports -------------------------------------------------------------


@pytest.mark.parametrize(
    "ref", ["refs/heads/main:refs/heads/evil", "refs/heads/*", "+refs/heads/main", ":evil"]
)
def test_refspec_like_refs_are_refused(tmp_path: Path, ref: str) -> None:
    origin = init_repo(tmp_path / "origin")
    commit(origin, {"test_a.py": "1\n"})
    cache = tmp_path / "c"
    url = f"file://{origin}"
    with open_source(url, cache_dir=cache):
        pass
    with (
        pytest.raises(SourceError, match=r"^not a valid ref name: "),
        open_source(url, ref=ref, cache_dir=cache),
    ):
        pass
    (clone,) = cache.glob("repos/*.git")
    assert git(clone, "for-each-ref", "--format=%(refname)").split() == ["refs/heads/main"]


def test_diff_refuses_refspecs(tmp_path: Path) -> None:
    origin = init_repo(tmp_path / "origin")
    commit(origin, {"test_a.py": "1\n"})
    env = clean_env(tmp_path)
    proc = grabber("diff", f"file://{origin}", "main", "main:refs/heads/evil", env=env)
    assert proc.returncode in (1, 2) and proc.stdout == ""
    assert "not a valid ref name: 'main:refs/heads/evil'" in proc.stderr
    assert len(proc.stderr.splitlines()) == 1
    for clone in (tmp_path / "xdg").glob("xfail-grabber/repos/*.git"):
        assert "evil" not in git(clone, "for-each-ref")


def hostile_home(tmp_path: Path) -> Path:
    """A HOME whose git config allows `ext::` and rewrites an https URL into it."""
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text(
        '[protocol "ext"]\n\tallow = always\n'
        "[protocol]\n\tallow = always\n"
        f'[url "ext::sh -c touch% {tmp_path}/pwned2% "]\n\tinsteadOf = https://evil.invalid/\n'
    )
    return home


def test_ext_transport_refused_whatever_the_user_config(tmp_path: Path) -> None:
    home = hostile_home(tmp_path)
    env = clean_env(home)
    proc = subprocess.run(  # the command this config really enables, without grabber
        ["git", "ls-remote", f"ext::sh -c touch% {tmp_path}/control"],
        env=env,
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert (tmp_path / "control").exists(), proc.stderr
    proc = grabber("dump", "ext::sh -c touch% pwned@x", env=env, timeout=60)
    assert (proc.returncode, proc.stdout) == (1, "")
    assert proc.stderr.startswith("Error: ") and len(proc.stderr.splitlines()) == 1
    # An https URL that the user's config rewrites into ext:: gets past any URL check of
    # ours: git itself refuses the transport (protocol.allow=never and protocol.ext.allow).
    proc = grabber("dump", "https://evil.invalid/repo.git", env=env, timeout=60)
    assert (proc.returncode, proc.stdout) == (1, "")
    assert "not allowed" in proc.stderr and len(proc.stderr.splitlines()) == 1
    assert not list(tmp_path.glob("pwned*")) and not list(Path.cwd().glob("pwned*"))


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("git://example.com/r.git", "unsupported URL scheme: git"),
        ("http://example.com/r.git", "plain http is allowed to a loopback host only"),
        ("fd::17", "unsupported transport: fd::"),
    ],
)
def test_other_transports_refused(tmp_path: Path, url: str, message: str) -> None:
    with pytest.raises(SourceError, match=message), open_source(url, cache_dir=tmp_path):
        pass
