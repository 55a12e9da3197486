"""The clone cache: one bare partial clone per remote URL under the cache directory.

The first run clones (`--bare --filter=blob:none`: commits and trees, blobs on demand); later
runs fetch only what is new. A file lock (fcntl.flock on `<clone>.lock`) serialises clone and
fetch between processes; a clone is built in a temporary directory and renamed into place, so
an interrupted run never leaves a half clone where the next run looks. A clone that fails a
health check (or a fetch failing with a corruption error) is deleted and cloned again.
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
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import platformdirs

from . import SourceError
from .gitrun import Auth, GitFailed, auth_for, run_git, token_from_env

log = logging.getLogger("xfail_grabber.git")

APP_NAME = "xfail-grabber"
COMPLETE_MARKER = "grabber-clone-complete"
REFSPECS = ("+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")

_AUTH_ERRORS = re.compile(
    r"authentication failed|could not read (username|password)|returned error: 40[13]|"
    r"\b401\b|\b403\b|terminal prompts disabled",
    re.IGNORECASE,
)
_NETWORK_ERRORS = re.compile(
    r"could not resolve host|connection refused|unable to access|timed out|"
    r"does not appear to be a git repository|could not read from remote|not found|"
    r"no such file or directory|not a git repository|unable to connect|network is unreachable",
    re.IGNORECASE,
)


def default_cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def is_url(repository: str) -> bool:
    """https://, ssh://, file:// URLs and scp-like `git@host:org/repo`."""
    if "://" in repository:
        return True
    head = repository.split("/", 1)[0]
    return ":" in head and "@" in head and not os.path.exists(repository)


@dataclass(frozen=True)
class Remote:
    url: str  # what git is given: no password, no token
    label: str  # what users see: no credentials at all
    auth: Auth


def parse_remote(repository: str, token: str | None = None) -> Remote:
    """Split credentials off a URL: a password (or a bare token user) becomes the token."""
    token = token if token is not None else token_from_env()
    if "://" not in repository:
        return Remote(url=repository, label=repository, auth=Auth(token=token))
    parts = urlsplit(repository)
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http", "ssh", "git", "file"):
        raise SourceError(f"unsupported URL scheme: {scheme}")
    try:
        port = parts.port
    except ValueError:
        raise SourceError(f"not a valid URL: {_redact(repository)}") from None
    host = parts.hostname or ""
    if ":" in host:  # IPv6
        host = f"[{host}]"
    if port:
        host = f"{host}:{port}"
    user = parts.username
    password = parts.password
    if scheme in ("https", "http") and (user or password):
        # https://TOKEN@host/... and https://user:TOKEN@host/... both carry a secret.
        token = password or user
        user = None
    netloc_url = f"{user}@{host}" if user and scheme == "ssh" else host
    url = urlunsplit((parts.scheme, netloc_url, parts.path, parts.query, ""))
    label = urlunsplit((parts.scheme, host, parts.path, "", ""))
    return Remote(url=url, label=label, auth=auth_for(url, token))


def _redact(url: str) -> str:
    """A URL with any user information replaced, for error messages."""
    head, sep, rest = url.partition("://")
    if sep and "@" in rest.split("/", 1)[0]:
        return f"{head}://***@{rest.split('@', 1)[1]}"
    return url


def clone_error(remote: Remote, error: GitFailed, action: str = "clone") -> SourceError:
    """A one-line, token-free error for a failed clone or fetch."""
    text = remote.auth.scrub(error.stderr or str(error))
    if _AUTH_ERRORS.search(text):
        if remote.auth.token:
            return SourceError(f"authentication failed for {remote.label}")
        return SourceError(
            f"authentication required for {remote.label}: set GITHUB_TOKEN or GRABBER_GIT_TOKEN"
        )
    detail = remote.auth.scrub(str(error)).replace(remote.url, remote.label)
    return SourceError(f"cannot {action} {remote.label}: {detail}")


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
    try:
        tips = run_git(["for-each-ref", "--format=%(objectname)"], git_dir=git_dir).stdout
        if not tips.strip():
            return True
        out = run_git(["cat-file", "--batch-check"], git_dir=git_dir, input=tips).stdout
    except GitFailed:
        return False
    return b"missing" not in out and out.count(b"\n") == tips.count(b"\n")


def _clone(remote: Remote, target: Path) -> None:
    """Clone into a temporary sibling of `target`, then rename it into place."""
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{target.name}-", dir=target.parent))
    try:
        log.info("cloning %s", remote.label)
        run_git(
            ["clone", "--bare", "--filter=blob:none", "-q", "--", remote.url, str(tmp / "r")],
            auth=remote.auth,
        )
        for key, value in (("gc.autoDetach", "false"), ("core.logAllRefUpdates", "false")):
            run_git(["config", key, value], git_dir=tmp / "r")
        (tmp / "r" / COMPLETE_MARKER).write_text("ok\n", encoding="ascii")
        os.rename(tmp / "r", target)
    except GitFailed as exc:
        raise clone_error(remote, exc) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _fetch(remote: Remote, git_dir: Path, refs: tuple[str, ...] = REFSPECS) -> None:
    log.info("fetching %s", remote.label)
    run_git(
        ["fetch", "-q", "--prune", "--filter=blob:none", "origin", *refs],
        git_dir=git_dir,
        auth=remote.auth,
    )


def fetch_ref(remote: Remote, git_dir: Path, ref: str) -> str | None:
    """Fetch one ref or commit the branches do not hold (refs/pull/1/head, a bare sha)."""
    if ref.startswith("-"):
        return None
    lock = git_dir.parent / f"{git_dir.name}.lock"
    with _locked(lock):
        try:
            _fetch(remote, git_dir, (ref,))
        except GitFailed:
            return None
    proc = run_git(
        ["rev-parse", "-q", "--verify", "FETCH_HEAD^{commit}"], git_dir=git_dir, check=False
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
            if _AUTH_ERRORS.search(text) or _NETWORK_ERRORS.search(text):
                raise clone_error(remote, exc, "fetch") from None
            log.warning("fetch into the cached clone failed (%s); cloning again", exc)
            shutil.rmtree(target, ignore_errors=True)
            _clone(remote, target)
    return target
