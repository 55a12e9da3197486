"""The token over a real (loopback) smart-HTTP server: it authenticates, and leaks nowhere."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from xfail_grabber.source import SourceError
from xfail_grabber.source.open import open_source

from .gitutil import commit, git, init_repo
from .httpgit import GitServer, serve_git

TOKEN = "ghp_T0kenThatMustNeverLeak0123456789"
SECRETS = (TOKEN.encode(), base64.b64encode(f"x-access-token:{TOKEN}".encode()))


def own_processes() -> dict[int, bytes]:
    """argv of every process of this user (the clone's git children among them)."""
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                found[int(entry)] = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
    return found


@pytest.fixture
def server(tmp_path: Path) -> Iterator[GitServer]:
    work = init_repo(tmp_path / "work")
    commit(work, {"tests/test_p.py": "import pytest\n", "pytest.ini": "[pytest]\n"})
    root = tmp_path / "srv"
    root.mkdir()
    git(tmp_path, "clone", "-q", "--bare", str(work), str(root / "private.git"))
    git(root / "private.git", "config", "uploadpack.allowFilter", "true")
    git(root / "private.git", "config", "uploadpack.allowAnySHA1InWant", "true")
    with serve_git(root, TOKEN) as srv:
        yield srv


def assert_no_secret_under(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            for secret in SECRETS:
                assert secret not in data, path


def test_token_authenticates_and_never_leaks(
    server: GitServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    debug_log: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    seen: list[bytes] = []

    def inspect_clients() -> None:
        seen.extend(own_processes().values())

    server.on_request = inspect_clients
    cache = tmp_path / "cache"
    url = f"{server.url}/private.git"
    with open_source(url, cache_dir=cache) as checkout:
        data = {f.path: d for f, d in checkout.read(checkout.files())}
        assert checkout.repo == url
    assert data == {"tests/test_p.py": b"import pytest\n"}
    # The clone really was in flight while we looked: git's http helper was running.
    assert any(b"remote-http" in argv for argv in seen), seen
    for argv in seen:
        for secret in SECRETS:
            assert secret not in argv
    assert all(status == 200 for _, status in server.requests)
    assert_no_secret_under(cache)
    assert "running git" in debug_log.text
    for secret in SECRETS:
        assert secret.decode() not in debug_log.text


def test_token_in_the_url_is_moved_out_of_it(
    server: GitServer, tmp_path: Path, debug_log: pytest.LogCaptureFixture
) -> None:
    seen: list[bytes] = []
    server.on_request = lambda: seen.extend(own_processes().values())
    host = server.url.removeprefix("http://")
    with open_source(f"http://{TOKEN}@{host}/private.git", cache_dir=tmp_path / "c") as checkout:
        assert checkout.repo == f"http://{host}/private.git"
        assert len(checkout.files()) == 1
    assert seen and not any(TOKEN.encode() in argv for argv in seen)
    assert_no_secret_under(tmp_path / "c")
    assert TOKEN not in debug_log.text


def test_wrong_token_says_authentication_failed(
    server: GitServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = "ghp_wrong_wrong_wrong"
    monkeypatch.setenv("GRABBER_GIT_TOKEN", wrong)
    url = f"{server.url}/private.git"
    with pytest.raises(SourceError) as info, open_source(url, cache_dir=tmp_path / "c"):
        pass
    assert str(info.value) == f"authentication failed for {url}"
    assert wrong not in str(info.value)
    assert not list((tmp_path / "c" / "repos").glob("*.git"))
    assert not list((tmp_path / "c" / "repos").glob(".tmp*"))


def test_no_token_says_authentication_required(server: GitServer, tmp_path: Path) -> None:
    url = f"{server.url}/private.git"
    with pytest.raises(SourceError) as info, open_source(url, cache_dir=tmp_path / "c"):
        pass
    assert str(info.value) == (
        f"authentication required for {url}: set GITHUB_TOKEN or GRABBER_GIT_TOKEN"
    )
    assert {status for _, status in server.requests} == {401}
