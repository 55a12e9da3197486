"""Running git child processes safely: a clean environment, the token kept out of argv.

Every git process of the package is started here. The token (GITHUB_TOKEN or
GRABBER_GIT_TOKEN) reaches git only as an `http.<url>.extraHeader` passed through the
GIT_CONFIG_COUNT/KEY/VALUE environment variables: never in argv (visible in
/proc/<pid>/cmdline), never in a URL, never in a config file. Error messages are built from
git's stderr, scrubbed of the token, cut to one line.
"""

from __future__ import annotations

import base64
import logging
import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from . import SourceError

log = logging.getLogger("xfail_grabber.git")

TOKEN_VARIABLES = ("GRABBER_GIT_TOKEN", "GITHUB_TOKEN")
TOKEN_USER = "x-access-token"  # noqa: S105 (a user name, not a secret)

# Variables that would point git at another repository, index or object store than the one
# we name (they are set inside git hooks, e.g. when grabber runs as a pre-commit check).
_REPOSITORY_VARIABLES = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
    "GIT_QUARANTINE_PATH",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT",
)

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def token_from_env(environ: Mapping[str, str] | None = None) -> str | None:
    environ = os.environ if environ is None else environ
    for name in TOKEN_VARIABLES:
        value = environ.get(name, "").strip()
        if value:
            return value
    return None


@dataclass(frozen=True)
class Auth:
    """How git authenticates to one remote: a token sent as a header to that URL prefix."""

    token: str | None = None
    url_prefix: str | None = None  # scheme://host[:port]/ the header is restricted to

    def scrub(self, text: str) -> str:
        """Remove every form of the token from a text (stderr, exception messages)."""
        if not self.token:
            return text
        for secret in (self.token, _basic(self.token)):
            text = text.replace(secret, "***")
        return text


def _basic(token: str) -> str:
    return base64.b64encode(f"{TOKEN_USER}:{token}".encode()).decode("ascii")


def auth_for(url: str, token: str | None) -> Auth:
    """The Auth for a remote URL: the token is used for https (and plain http on loopback)."""
    if not token:
        return Auth()
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme == "https" or (scheme == "http" and host in LOOPBACK_HOSTS):
        netloc = parts.netloc.rsplit("@", 1)[-1]
        return Auth(token=token, url_prefix=f"{scheme}://{netloc}/")
    if scheme == "http":
        log.warning("not sending the token over plain http to %s", host)
    return Auth(token=token)  # kept only to scrub messages


def git_env(auth: Auth | None = None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a git child process."""
    env = {k: v for k, v in os.environ.items() if k not in _REPOSITORY_VARIABLES}
    env.update(
        {
            "GIT_TERMINAL_PROMPT": "0",  # never wait for a password on a terminal
            "GIT_ASKPASS": "",
            "SSH_ASKPASS": "",
            "LC_ALL": "C",  # messages we can recognise
            "GIT_OPTIONAL_LOCKS": "0",
            "GIT_TRACE_REDACT": "1",  # GIT_TRACE_CURL must not print the Authorization header
        }
    )
    if "GIT_SSH_COMMAND" not in env and "GIT_SSH" not in env:
        env["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes"
    # An empty credential.helper resets the user's helpers: nothing stores or asks for
    # credentials behind our back (a `store` helper would write the token to a file).
    config: list[tuple[str, str]] = [("credential.helper", "")]
    if auth is not None and auth.token and auth.url_prefix:
        config.append(
            (f"http.{auth.url_prefix}.extraHeader", f"Authorization: Basic {_basic(auth.token)}")
        )
    env["GIT_CONFIG_COUNT"] = str(len(config))
    for index, (key, value) in enumerate(config):
        env[f"GIT_CONFIG_KEY_{index}"] = key
        env[f"GIT_CONFIG_VALUE_{index}"] = value
    if extra:
        env.update(extra)
    return env


class GitFailed(SourceError):
    """A git command failed; `stderr` is already scrubbed of the token."""

    def __init__(self, message: str, stderr: str = "") -> None:
        super().__init__(message)
        self.stderr = stderr


def first_line(text: str) -> str:
    """The most telling line of git's stderr ('fatal: ...' first), without the prefix."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines:
        for prefix in ("fatal: ", "error: "):
            if line.startswith(prefix):
                return line[len(prefix) :]
    return lines[-1] if lines else "git failed"


def run_git(
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    git_dir: Path | None = None,
    auth: Auth | None = None,
    input: bytes | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[bytes]:
    """Run `git args...` and return its output; raise GitFailed (scrubbed) when it fails."""
    argv = ["git"]
    if git_dir is not None:
        argv += ["--git-dir", str(git_dir)]
    argv += list(args)
    log.debug("running %s", " ".join(argv))
    try:
        proc = subprocess.run(
            argv,
            cwd=cwd,
            env=git_env(auth),
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
            capture_output=True,
            check=False,
        )
    except FileNotFoundError:
        raise SourceError("git is not installed (or not on PATH)") from None
    if check and proc.returncode != 0:
        stderr = (auth or Auth()).scrub(proc.stderr.decode("utf-8", "replace"))
        raise GitFailed(first_line(stderr), stderr)
    return proc


def git_text(
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    git_dir: Path | None = None,
    auth: Auth | None = None,
) -> str:
    """stdout of a git command as text, stripped."""
    proc = run_git(args, cwd=cwd, git_dir=git_dir, auth=auth)
    return proc.stdout.decode("utf-8", "replace").strip()
