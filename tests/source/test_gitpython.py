"""GitPython carries the command line into its trace log and its exceptions: the token is in
neither (it travels in the environment of the git process), nor in the clone's config."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from git import Git

from xfail_grabber.source import SourceError
from xfail_grabber.source.open import open_source

from .gitutil import commit, init_repo
from .httpgit import GitServer
from .test_token import SECRETS, TOKEN, assert_no_secret_under, server  # noqa: F401

CLI_WITH_LOGGING = """
import logging, sys
logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
from xfail_grabber.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_gitpython_trace_log_and_errors_never_hold_the_token(
    server: GitServer,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(Git, "GIT_PYTHON_TRACE", "full")
    caplog.set_level(logging.DEBUG)  # every logger: GitPython's `git.cmd` among them
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    cache = tmp_path / "cache"
    url = f"{server.url}/private.git"
    for _ in range(2):  # a clone, then a fetch into the cached clone
        with open_source(url, cache_dir=cache) as checkout:
            assert [f.path for f in checkout.files()] == ["tests/test_p.py"]
            assert checkout.read_root_file("pytest.ini") == b"[pytest]\n"
    # GitPython traced the commands it ran (its `git.cmd` logger), clone and fetch included.
    traced = [r.getMessage() for r in caplog.records if r.name.startswith("git.")]
    assert any(" clone " in m for m in traced) and any(" fetch " in m for m in traced)
    # A failing command: GitCommandError holds argv and stderr; the error we show is one line.
    with pytest.raises(SourceError) as info, open_source(url, ref="0" * 40, cache_dir=cache):
        pass
    assert str(info.value) == f"unknown ref: {'0' * 40}"
    text = caplog.text + str(info.value) + repr(info.value.__context__)
    for secret in SECRETS:
        assert secret.decode() not in text
    assert_no_secret_under(cache)
    (config,) = cache.glob("repos/*.git/config")
    assert "extraheader" not in config.read_text().lower()


def test_trace_from_the_environment_in_a_cli_run(
    server: GitServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    url = f"{server.url}/private.git"
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "GITHUB_TOKEN": TOKEN,
        "GIT_PYTHON_TRACE": "full",
        "GIT_TRACE": "1",
        "GIT_TRACE_CURL": "1",  # git's own trace: the header is redacted (GIT_TRACE_REDACT)
    }
    argv = ["dump", url, "--cache-dir", str(tmp_path / "c"), "-vv"]
    proc = subprocess.run(
        [sys.executable, "-c", CLI_WITH_LOGGING, *argv],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout)["repo"] == url
    assert b"git.cmd" in proc.stderr and b" clone " in proc.stderr
    for secret in SECRETS:
        assert secret not in proc.stderr and secret not in proc.stdout
    assert_no_secret_under(tmp_path / "c")


def test_hook_variables_do_not_redirect_git(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inside a git hook GIT_DIR & co. name the hook's repository: a scan reads its own."""
    ours = init_repo(tmp_path / "ours")
    commit(ours, {"test_ours.py": "x\n"})
    other = init_repo(tmp_path / "other")
    commit(other, {"test_other.py": "y\n"})
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_INDEX_FILE", str(other / ".git" / "index"))
    monkeypatch.setenv("GIT_OBJECT_DIRECTORY", str(other / ".git" / "objects"))
    with open_source(str(ours), "main") as checkout:
        assert [f.path for f in checkout.files()] == ["test_ours.py"]
    with open_source(str(ours)) as checkout:
        assert [f.path for f in checkout.files()] == ["test_ours.py"]
