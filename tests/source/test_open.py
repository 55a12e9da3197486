"""open_source() on real repositories: work trees, bare repositories, file:// URLs, errors."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from xfail_grabber.source import Checkout, SourceError
from xfail_grabber.source.open import open_source

from .gitutil import commit, git, init_repo, write


def contents(checkout: Checkout) -> dict[str, bytes | str]:
    return {f.path: data for f, data in checkout.read(checkout.files())}


def leftovers(cache: Path) -> list[str]:
    if not cache.exists():
        return []
    return sorted(p.name for p in (cache / "repos").iterdir() if p.name.startswith(".tmp"))


def test_work_tree_is_scanned_as_on_disk(repo: Path, tmp_path: Path) -> None:
    write(
        repo,
        {
            "tests/test_a.py": "EDITED\n",
            "tests/test_new.py": "NEW\n",
            ".venv/lib/test_venv.py": "V\n",
            "build/test_built.py": "X\n",
            ".gitignore": ".venv/\nbuild/\n",
        },
    )
    (repo / "tests/test_b.py").unlink()
    with open_source(str(repo), cache_dir=tmp_path / "cache") as checkout:
        assert contents(checkout) == {"tests/test_a.py": b"EDITED\n", "tests/test_new.py": b"NEW\n"}
        assert checkout.branch == "main"
        assert checkout.commit == git(repo, "rev-parse", "HEAD")
        assert checkout.committed_at == datetime(2024, 1, 20, 10, 0, tzinfo=UTC)
        assert checkout.repo == str(repo)
        assert checkout.read_root_file("pytest.ini") == b"[pytest]\n"


def test_work_tree_without_commits(tmp_path: Path) -> None:
    root = init_repo(tmp_path / "fresh", branch="trunk")
    write(root, {"test_x.py": "X\n"})
    with open_source(str(root)) as checkout:
        assert contents(checkout) == {"test_x.py": b"X\n"}
        assert (checkout.branch, checkout.commit, checkout.committed_at) == ("trunk", None, None)


def test_branch_and_ref_read_committed_objects(repo: Path) -> None:
    write(repo, {"tests/test_a.py": "EDITED\n"})
    with open_source(str(repo), "main") as checkout:
        assert contents(checkout) == {"tests/test_a.py": b"A2\n", "tests/test_b.py": b"B\n"}
        assert checkout.branch == "main"
    with open_source(str(repo), "feature") as checkout:
        assert contents(checkout) == {"tests/test_a.py": b"A1\n"}
        assert checkout.committed_at == datetime(2024, 1, 10, 10, 0, tzinfo=UTC)
    git(repo, "tag", "v1", "HEAD~1")
    with open_source(str(repo), "v1") as checkout:
        assert contents(checkout) == {"tests/test_a.py": b"A1\n"}
        assert checkout.branch == "v1"
    with open_source(str(repo), "main", ref="HEAD~1") as checkout:
        assert contents(checkout) == {"tests/test_a.py": b"A1\n"}
        assert checkout.branch == "main"
        assert checkout.commit == git(repo, "rev-parse", "HEAD~1")
        files = checkout.files()
        assert files[0].blob_id == git(repo, "rev-parse", "HEAD~1:tests/test_a.py")
        assert files[0].size == 3


def test_bare_repository(repo: Path, tmp_path: Path) -> None:
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(bare))
    with open_source(str(bare)) as checkout:
        assert checkout.branch == "main"
        assert contents(checkout) == {"tests/test_a.py": b"A2\n", "tests/test_b.py": b"B\n"}
        assert checkout.read_root_file("pytest.ini") == b"[pytest]\n"
        assert checkout.read_root_file("setup.cfg") is None
    with open_source(str(bare), ref="feature") as checkout:
        assert contents(checkout) == {"tests/test_a.py": b"A1\n"}
        assert checkout.branch is None


def test_symlinks_in_git_objects(tmp_path: Path) -> None:
    root = init_repo(tmp_path / "links")
    write(root, {"tests/test_real.py": "R\n"})
    os.symlink("test_real.py", root / "tests/test_inside.py")
    os.symlink("/etc/passwd", root / "tests/test_abs.py")
    os.symlink("../../outside.py", root / "tests/test_up.py")
    os.symlink("nothere.py", root / "tests/test_dangling.py")
    commit(root, {})
    with open_source(str(root), "main") as checkout:
        files = {f.path: f.error for f in checkout.files()}
        data = contents(checkout)
    assert files == {
        "tests/test_abs.py": "symlink points outside the repository; not followed",
        "tests/test_dangling.py": "symlink does not point to a file",
        "tests/test_real.py": None,
        "tests/test_up.py": "symlink points outside the repository; not followed",
    }
    assert data["tests/test_real.py"] == b"R\n"
    assert data["tests/test_abs.py"] == "symlink points outside the repository; not followed"


def test_many_files_stream_in_order(tmp_path: Path) -> None:
    root = init_repo(tmp_path / "many")
    files = {f"pkg{i % 30}/test_{i:04d}.py": f"# {i}\n" + "x = 1\n" * (i % 50) for i in range(3000)}
    commit(root, files)
    with open_source(str(root), "main") as checkout:
        listed = checkout.files()
        assert len(listed) == 3000
        got = {f.path: data for f, data in checkout.read(listed)}
        assert got == {k: v.encode() for k, v in files.items()}
        # A reader that stops early does not hang or leak the git process.
        stream = checkout.read(listed)
        next(stream)
        stream.close()


def test_file_url_clone_defaults_to_remote_head(tmp_path: Path) -> None:
    origin = init_repo(tmp_path / "origin", branch="trunk")
    first = commit(origin, {"test_t.py": "T1\n"}, date="2024-02-01T00:00:00Z")
    commit(origin, {"test_t.py": "T2\n"}, date="2024-02-02T00:00:00Z")
    git(origin, "branch", "other", first)
    cache = tmp_path / "cache"
    url = f"file://{origin}"
    with open_source(url, cache_dir=cache) as checkout:
        assert (checkout.repo, checkout.branch) == (url, "trunk")
        assert contents(checkout) == {"test_t.py": b"T2\n"}
        assert checkout.committed_at == datetime(2024, 2, 2, tzinfo=UTC)
    with open_source(url, "other", cache_dir=cache) as checkout:
        assert contents(checkout) == {"test_t.py": b"T1\n"}
        assert checkout.commit == first
    with open_source(url, "trunk", ref=first[:10], cache_dir=cache) as checkout:
        assert checkout.commit == first and checkout.branch == "trunk"
    assert leftovers(cache) == []


def test_empty_repositories_give_empty_checkouts(tmp_path: Path) -> None:
    bare = tmp_path / "empty.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    with open_source(str(bare)) as checkout:
        assert checkout.files() == [] and checkout.commit is None
    with open_source(f"file://{bare}", cache_dir=tmp_path / "cache") as checkout:
        assert checkout.files() == [] and checkout.commit is None
        assert checkout.read_root_file("pytest.ini") is None
    with (
        pytest.raises(SourceError, match=r"^unknown branch: main \(the repository is empty\)$"),
        open_source(f"file://{bare}", "main", cache_dir=tmp_path / "cache"),
    ):
        pass


@pytest.mark.parametrize(
    ("where", "branch", "ref", "message"),
    [
        ("missing", None, None, "no such file or directory: {path}"),
        ("file", None, None, "not a directory: {path}"),
        ("plain", "main", None, "not a git repository: {path}"),
        ("plain", None, "HEAD", "not a git repository: {path}"),
        ("repo", "nope", None, "unknown branch: nope"),
        ("repo", None, "deadbeef", "unknown ref: deadbeef"),
        ("repo", "main", "--exec=x", "not a valid ref name: '--exec=x'"),
    ],
)
def test_local_errors(
    repo: Path, tmp_path: Path, where: str, branch: str | None, ref: str | None, message: str
) -> None:
    paths = {
        "missing": tmp_path / "missing",
        "file": repo / "README",
        "plain": tmp_path / "plain",
        "repo": repo,
    }
    (tmp_path / "plain").mkdir()
    path = str(paths[where])
    with pytest.raises(SourceError) as info, open_source(path, branch, ref):
        pass
    assert str(info.value) == message.format(path=path)


def test_url_errors_leave_nothing_behind(repo: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with (
        pytest.raises(SourceError, match=r"^cannot clone file://.*/nowhere: "),
        open_source(f"file://{tmp_path}/nowhere", cache_dir=cache),
    ):
        pass
    with (
        pytest.raises(SourceError, match=r"^unknown branch: nope$"),
        open_source(f"file://{repo}", "nope", cache_dir=cache),
    ):
        pass
    with (
        pytest.raises(SourceError, match=r"^unknown ref: 0{40}$"),
        open_source(f"file://{repo}", ref="0" * 40, cache_dir=cache),
    ):
        pass
    assert leftovers(cache) == []
    assert len([p for p in (cache / "repos").iterdir() if p.suffix == ".git"]) == 1
