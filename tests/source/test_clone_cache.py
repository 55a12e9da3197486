"""The clone cache: reused and fetched, shared by processes, rebuilt when damaged."""

from __future__ import annotations

import multiprocessing
import shutil
from pathlib import Path

import pytest

from xfail_grabber.source.clones import cached_clone
from xfail_grabber.source.open import open_source
from xfail_grabber.source.remote import parse_remote

from .gitutil import commit, git, init_repo
from .httpgit import serve_git
from .test_token import TOKEN


def clones(cache: Path) -> list[Path]:
    return sorted((cache / "repos").glob("*.git"))


def read_all(url: str, cache: Path, branch: str | None = None) -> dict[str, bytes | str]:
    with open_source(url, branch, cache_dir=cache) as checkout:
        return {f.path: data for f, data in checkout.read(checkout.files())}


def test_second_run_fetches_what_is_new(tmp_path: Path) -> None:
    origin = init_repo(tmp_path / "origin")
    commit(origin, {"test_a.py": "1\n"})
    cache = tmp_path / "cache"
    url = f"file://{origin}"
    assert read_all(url, cache) == {"test_a.py": b"1\n"}
    first = clones(cache)
    marker = first[0] / "objects" / "marker"
    marker.write_text("kept")  # the clone is reused, not recloned
    commit(origin, {"test_a.py": "2\n", "test_b.py": "b\n"})
    git(origin, "branch", "later")
    assert read_all(url, cache) == {"test_a.py": b"2\n", "test_b.py": b"b\n"}
    assert read_all(url, cache, "later") == {"test_a.py": b"2\n", "test_b.py": b"b\n"}
    assert clones(cache) == first and marker.exists()


@pytest.mark.parametrize("damage", ["packs", "head", "half-clone"])
def test_damaged_clone_is_rebuilt(tmp_path: Path, damage: str) -> None:
    origin = init_repo(tmp_path / "origin")
    commit(origin, {"test_a.py": "1\n"})
    cache = tmp_path / "cache"
    url = f"file://{origin}"
    read_all(url, cache)
    (target,) = clones(cache)
    if damage == "packs":
        for pack in (target / "objects" / "pack").iterdir():
            pack.write_bytes(b"garbage")
    elif damage == "head":
        (target / "HEAD").write_text("nonsense\n")
    else:  # a clone killed half way: no completion marker, its temporary directory left
        (target / "grabber-clone-complete").unlink()
        (cache / "repos" / f".tmp-{target.name}-x1y2").mkdir()
    assert read_all(url, cache) == {"test_a.py": b"1\n"}
    assert clones(cache) == [target]
    assert not list((cache / "repos").glob(".tmp*"))


def _open_in_process(url: str, cache: str, queue: multiprocessing.Queue[object]) -> None:
    try:
        queue.put(read_all(url, Path(cache)))
    except Exception as exc:  # reported to the parent
        queue.put(repr(exc))


def test_two_processes_share_the_cache(tmp_path: Path) -> None:
    origin = init_repo(tmp_path / "origin")
    commit(origin, {f"tests/test_{i}.py": f"{i}\n" for i in range(200)})
    context = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue[object] = context.Queue()
    url = f"file://{origin}"
    workers = [
        context.Process(target=_open_in_process, args=(url, str(tmp_path / "c"), queue))
        for _ in range(3)
    ]
    for worker in workers:
        worker.start()
    results = [queue.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(30)
    expected = {f"tests/test_{i}.py": f"{i}\n".encode() for i in range(200)}
    assert results == [expected] * 3
    assert len(clones(tmp_path / "c")) == 1
    assert not list((tmp_path / "c" / "repos").glob(".tmp*"))


def test_partial_clone_fetches_blobs_in_one_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = init_repo(tmp_path / "work")
    commit(work, {**{f"tests/test_{i}.py": f"{i}\n" for i in range(60)}, "data.bin": "x" * 100_000})
    root = tmp_path / "srv"
    root.mkdir()
    git(tmp_path, "clone", "-q", "--bare", str(work), str(root / "r.git"))
    git(root / "r.git", "config", "uploadpack.allowFilter", "true")
    git(root / "r.git", "config", "uploadpack.allowAnySHA1InWant", "true")
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    with serve_git(root, TOKEN) as server:
        data = read_all(f"{server.url}/r.git", tmp_path / "c")
        requests = len(server.requests)
    assert len(data) == 60
    # clone (refs + pack) and one batched blob fetch; not one request per file.
    assert requests <= 6, server.requests
    (target,) = clones(tmp_path / "c")
    blob = git(work, "rev-parse", "HEAD:data.bin")
    missing = git(target, "rev-list", "--objects", "--missing=print", "--all")
    assert f"?{blob}" in missing.splitlines()  # the non-Python blob was never downloaded


def test_label_and_url_never_hold_credentials() -> None:
    remote = parse_remote("https://user:s3cret@example.com/org/repo.git", token=None)
    assert remote.label == "https://example.com/org/repo.git"
    assert remote.url == "https://example.com/org/repo.git"
    assert remote.auth.token == "s3cret"
    remote = parse_remote("https://ghp_abc@example.com/org/repo", token=None)
    assert (remote.url, remote.auth.token) == ("https://example.com/org/repo", "ghp_abc")
    remote = parse_remote("ssh://git@example.com:2222/org/repo.git", token=None)
    assert remote.url == "ssh://git@example.com:2222/org/repo.git"
    assert remote.label == "ssh://example.com:2222/org/repo.git"


def test_cache_dir_that_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    from xfail_grabber.source import SourceError

    with pytest.raises(SourceError, match=r"^cannot create cache directory"):
        cached_clone(parse_remote("file:///nowhere"), blocker)
    shutil.rmtree(tmp_path / "nothing", ignore_errors=True)
