"""`grabber dump` over every kind of repository, and its one-line errors (exit 1)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from xfail_grabber.cli import main

from .gitutil import commit, git, init_repo, write
from .httpgit import serve_git
from .test_token import SECRETS, TOKEN, assert_no_secret_under, own_processes

MUTED = 'import pytest\n\n@pytest.mark.xfailflake(jira="DCOS-1")\ndef test_one():\n    pass\n'


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    root = init_repo(tmp_path / "origin", branch="develop")
    commit(
        root, {"tests/test_m.py": MUTED, "pytest.ini": "[pytest]\n"}, date="2024-03-01T08:00:00Z"
    )
    return root


def test_dump_work_tree_includes_uncommitted_edits(
    origin: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(origin, {"tests/test_new.py": MUTED.replace("DCOS-1", "DCOS-2")})
    code, out, err = run(capsys, "dump", str(origin), "--cache-dir", str(tmp_path / "c"))
    assert code == 0, err
    data = json.loads(out)
    assert [r["ticket"] for r in data["muted"]] == ["DCOS-1", "DCOS-2"]
    assert data["branch"] == "develop"
    assert data["commit"] == git(origin, "rev-parse", "HEAD")
    assert data["committed_at"] == "2024-03-01T08:00:00Z"
    # With the branch: the committed state only.
    code, out, _ = run(capsys, "dump", str(origin), "develop", "--cache-dir", str(tmp_path / "c"))
    assert [r["ticket"] for r in json.loads(out)["muted"]] == ["DCOS-1"]


def test_dump_file_url_and_bare(
    origin: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = str(tmp_path / "c")
    code, out, err = run(capsys, "dump", f"file://{origin}", "--cache-dir", cache)
    assert code == 0, err
    data = json.loads(out)
    assert (data["repo"], data["branch"]) == (f"file://{origin}", "develop")
    assert data["counts"]["total"] == 1
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(origin), str(bare))
    code, out, _ = run(capsys, "dump", str(bare), "--ref", "develop", "--cache-dir", cache)
    assert json.loads(out)["muted"][0]["nodeid"] == "tests/test_m.py::test_one"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["{tmp}/missing"], "no such file or directory: {tmp}/missing"),
        (["{tmp}/plain", "main"], "not a git repository: {tmp}/plain"),
        (["{tmp}/plain", "--ref", "HEAD"], "not a git repository: {tmp}/plain"),
        (["{origin}", "nope"], "unknown branch: nope"),
        (["{origin}", "--ref", "v9"], "unknown ref: v9"),
        (["file://{tmp}/missing"], "cannot clone file://{tmp}/missing: "),
    ],
)
def test_dump_errors(
    origin: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    (tmp_path / "plain").mkdir()
    values = {"tmp": str(tmp_path), "origin": str(origin)}
    code, out, err = run(
        capsys, "dump", *[a.format(**values) for a in argv], "--cache-dir", str(tmp_path / "c")
    )
    assert (code, out) == (1, "")
    assert err.startswith("Error: " + message.format(**values))
    assert len(err.splitlines()) == 1
    repos = tmp_path / "c" / "repos"
    assert not repos.exists() or not list(repos.glob(".tmp*"))


def test_empty_repository_gives_an_empty_snapshot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bare = tmp_path / "empty.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    code, out, err = run(capsys, "dump", f"file://{bare}", "--cache-dir", str(tmp_path / "c"))
    assert code == 0, err
    data = json.loads(out)
    assert (data["commit"], data["muted"], data["counts"]["total"]) == (None, [], 0)


def test_token_through_the_cli(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    debug_log: pytest.LogCaptureFixture,
) -> None:
    work = init_repo(tmp_path / "work")
    commit(work, {"tests/test_m.py": MUTED})
    root = tmp_path / "srv"
    root.mkdir()
    git(tmp_path, "clone", "-q", "--bare", str(work), str(root / "p.git"))
    git(root / "p.git", "config", "uploadpack.allowFilter", "true")
    git(root / "p.git", "config", "uploadpack.allowAnySHA1InWant", "true")
    with serve_git(root, TOKEN) as server:
        seen: list[bytes] = []
        server.on_request = lambda: seen.extend(own_processes().values())
        url = f"{server.url}/p.git"
        monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
        code, out, err = run(capsys, "-vv", "dump", url, "--cache-dir", str(tmp_path / "c"))
        assert code == 0, err
        assert json.loads(out)["repo"] == url
        assert "running git" in err + debug_log.text
        monkeypatch.setenv("GITHUB_TOKEN", "wrong-token")
        code, out2, err2 = run(capsys, "dump", url, "--cache-dir", str(tmp_path / "c2"))
        assert (code, out2, err2) == (1, "", f"Error: authentication failed for {url}\n")
    assert seen
    for text in (out, err, debug_log.text, *[a.decode("utf-8", "replace") for a in seen]):
        for secret in SECRETS:
            assert secret.decode() not in text
    assert_no_secret_under(tmp_path / "c")


def test_file_name_that_is_not_utf8(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = init_repo(tmp_path / "latin1")
    (root / "tests").mkdir()
    (root / os.fsdecode(b"tests/test_caf\xe9.py")).write_bytes(MUTED.encode())
    commit(root, {})
    for extra in ([], ["main"]):
        code, out, err = run(capsys, "dump", str(root), *extra, "--cache-dir", str(tmp_path / "c"))
        assert code == 0, err
        assert [r["nodeid"] for r in json.loads(out)["muted"]] == [
            "tests/test_caf\\xe9.py::test_one"
        ]
