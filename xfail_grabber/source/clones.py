"""The clone cache: one bare partial clone per remote URL under the cache directory.

The first run clones (`--bare --filter=blob:none`: commits and trees, blobs on demand); later
runs fetch only what is new. A file lock (fcntl.flock on `<clone>.lock`) serialises clone and
fetch between processes; a clone is built in a temporary directory and renamed into place, so
an interrupted run never leaves a half clone where the next run looks. A clone that fails a
health check (or a fetch failing with a corruption error) is deleted and cloned again.

Clone and fetch run through `command.run` (GitPython's `Git.execute`) rather than
`Repo.clone_from` / `Remote.fetch`: in GitPython 3.2 `clone_from` takes no deadline, and
`Remote.fetch(kill_after_timeout=...)` kills the tree it finds with `pgrep` but leaves git
running when this process itself ends; here each network command runs in a process group of
its own that a deadline, an interrupt or our exit kills. The clone is then opened as a `Repo`.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import platformdirs
from git import Repo

from . import SourceError
from .command import LOCAL, GitFailed, git_for, run
from .remote import AUTH_ERRORS, NETWORK_ERRORS, Remote, remote_error

log = logging.getLogger("xfail_grabber.git")

APP_NAME = "xfail-grabber"
COMPLETE_MARKER = "grabber-clone-complete"
REFSPECS = ("+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")


def default_cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def _key(remote: Remote) -> str:
    digest = hashlib.sha256(remote.url.encode()).hexdigest()[:16]
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", remote.label.rstrip("/").rsplit("/", 1)[-1])
    name = name.removesuffix(".git")[:40] or "repo"
    return f"{name}-{digest}"


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _healthy(git_dir: Path) -> bool:
    """Cheap check: a complete clone whose ref tips are all readable."""
    if not (git_dir / COMPLETE_MARKER).is_file() or not (git_dir / "HEAD").is_file():
        return False
    git = git_for(LOCAL)
    try:
        tips = run(git, ["for-each-ref", "--format=%(objectname)"], git_dir=git_dir).stdout
        if not tips.strip():
            return True
        out = run(git, ["cat-file", "--batch-check"], git_dir=git_dir, input=tips).stdout
    except GitFailed:
        return False
    return b"missing" not in out and out.count(b"\n") == tips.count(b"\n")


def _clone(remote: Remote, target: Path) -> None:
    """Clone into a temporary sibling of `target`, then rename it into place."""
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{target.name}-", dir=target.parent))
    network = remote.network
    try:
        log.info("cloning %s", remote.label)
        run(
            git_for(network),
            ["clone", "--bare", "--filter=blob:none", "-q", "--", remote.url, str(tmp / "r")],
            network=network,
            timeout=network.timeout,
        )
        repo = Repo(tmp / "r")
        with repo.config_writer() as config:
            config.set_value("gc", "autoDetach", "false")
            config.set_value("core", "logAllRefUpdates", "false")
        repo.close()
        (tmp / "r" / COMPLETE_MARKER).write_text("ok\n", encoding="ascii")
        os.rename(tmp / "r", target)
    except GitFailed as exc:
        raise remote_error(remote, exc) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _fetch(remote: Remote, git_dir: Path, refs: tuple[str, ...] = REFSPECS) -> None:
    log.info("fetching %s", remote.label)
    network = remote.network
    run(
        git_for(network),
        ["fetch", "-q", "--prune", "--filter=blob:none", "origin", *refs],
        git_dir=git_dir,
        network=network,
        timeout=network.timeout,
    )


def fetch_ref(remote: Remote, git_dir: Path, ref: str) -> str | None:
    """Fetch one ref or commit the branches do not hold (refs/pull/1/head, a bare sha)."""
    if ref.startswith(("-", "+")) or ":" in ref or "*" in ref:
        return None  # an option or a refspec, refused before (open.check_name)
    lock = git_dir.parent / f"{git_dir.name}.lock"
    with _locked(lock):
        try:
            _fetch(remote, git_dir, (ref,))
        except GitFailed as exc:
            if exc.timed_out:
                raise remote_error(remote, exc, "fetch") from None
            return None
    proc = run(
        git_for(LOCAL),
        ["rev-parse", "-q", "--verify", "FETCH_HEAD^{commit}"],
        git_dir=git_dir,
        check=False,
    )
    return proc.stdout.decode().strip() or None if proc.returncode == 0 else None


def clone_path(remote: Remote, cache_dir: Path | None) -> Path:
    """Where the cached clone of `remote` is (or would be)."""
    return (cache_dir or default_cache_dir()) / "repos" / f"{_key(remote)}.git"


def cached_clone(remote: Remote, cache_dir: Path | None, *, fetch: bool = True) -> Path:
    """The bare clone of `remote` in the cache, cloned or brought up to date."""
    root = clone_path(remote, cache_dir).parent
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SourceError(f"cannot create cache directory {root}: {exc.strerror}") from None
    target = root / f"{_key(remote)}.git"
    with _locked(root / f"{target.name}.lock"):
        # Left by a clone that was killed (we hold the lock: nobody is cloning it now).
        for stale in root.glob(f".tmp-{target.name}-*"):
            shutil.rmtree(stale, ignore_errors=True)
        if target.exists() and not _healthy(target):
            log.warning("the cached clone of %s is damaged; cloning it again", remote.label)
            shutil.rmtree(target, ignore_errors=True)
        if not target.exists():
            _clone(remote, target)
            return target
        if not fetch:
            return target
        try:
            _fetch(remote, target)
        except GitFailed as exc:
            text = exc.stderr or str(exc)
            if exc.timed_out or AUTH_ERRORS.search(text) or NETWORK_ERRORS.search(text):
                raise remote_error(remote, exc, "fetch") from None
            log.warning("fetch into the cached clone failed (%s); cloning again", exc)
            shutil.rmtree(target, ignore_errors=True)
            _clone(remote, target)
    return target
