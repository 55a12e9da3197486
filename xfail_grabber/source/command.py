"""Every git process of the package: GitPython's `Git` with an explicit environment.

- The environment is built here for each repository (`git_env`): the token as an
  `http.<origin>/.extraHeader` in GIT_CONFIG_COUNT/KEY/VALUE (git reads them as it reads `-c`,
  at the command-line scope that beats the user's and the repository's config, and they are not
  in argv: /proc/<pid>/cmdline, GitPython's trace log and GitCommandError all show argv);
  transports pinned (`protocol.allow=never`, then https, ssh, file, and http on loopback only),
  so no `protocol.ext.allow=always` in a user's config lets `ext::` run a command; redirects
  not followed while a token is sent; git's low-speed limits.
- Network commands (clone, fetch) run in a process group of their own under a deadline: the
  group (git and its remote helper) is killed when the deadline passes, when the caller is
  interrupted, and when this process exits.
- A failure is GitPython's GitCommandError, mapped to `GitFailed`: one line, token scrubbed.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from . import SourceError
from .auth import Auth

# GitPython checks for git when imported; without git only git repositories fail (below),
# a plain directory can still be scanned.
os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
from git import Git
from git.exc import GitCommandError, GitCommandNotFound

log = logging.getLogger("xfail_grabber.git")

TIMEOUT_VARIABLE = "GRABBER_GIT_TIMEOUT"
DEFAULT_TIMEOUT = 600.0  # seconds for one clone or fetch
LOW_SPEED_LIMIT = 1000  # bytes/s; slower than that for LOW_SPEED_TIME seconds aborts
LOW_SPEED_TIME = 60

# Variables that would point git at another repository, index or object store than the one
# we name (they are set inside git hooks, e.g. when grabber runs as a pre-commit check).
HOOK_VARIABLES = (
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
# Transports git may use. Any other (ext::, fd::, git://, a remote helper) is refused by git
# itself, whatever the user's own config allows: per-protocol keys are pinned too, since
# `protocol.<name>.allow` in any config scope beats `protocol.allow`.
ALLOWED_PROTOCOLS = ("https", "ssh", "file")
REFUSED_PROTOCOLS = ("ext", "fd", "git")


_chosen_timeout: float | None = None  # --git-timeout, for every repository of this process


def set_default_timeout(seconds: float | None) -> None:
    """The deadline of every clone and fetch of this process (the CLI's --git-timeout)."""
    global _chosen_timeout
    _chosen_timeout = seconds


def default_timeout() -> float:
    """--git-timeout, else GRABBER_GIT_TIMEOUT (seconds), else 600 s."""
    if _chosen_timeout is not None:
        return _chosen_timeout
    text = os.environ.get(TIMEOUT_VARIABLE, "").strip()
    return parse_timeout(text, TIMEOUT_VARIABLE) if text else DEFAULT_TIMEOUT


def parse_timeout(text: str, what: str = "timeout") -> float:
    try:
        value = float(text)
    except ValueError:
        raise SourceError(f"{what} must be a number of seconds: {text!r}") from None
    if not 0 < value <= 7 * 24 * 3600:
        raise SourceError(f"{what} must be between 0 and 604800 seconds: {text!r}")
    return value


NO_AUTH = Auth()


@dataclass(frozen=True)
class Network:
    """What git may do on the network for one repository."""

    auth: Auth = NO_AUTH
    allow_http: bool = False  # plain http: loopback hosts only
    timeout: float = DEFAULT_TIMEOUT

    def scrub(self, text: str) -> str:
        return self.auth.scrub(text)


LOCAL = Network()


def git_config(network: Network) -> list[tuple[str, str]]:
    """The config every git process gets at command-line scope."""
    # An empty credential.helper resets the user's helpers: nothing stores or asks for
    # credentials behind our back (a `store` helper would write the token to a file).
    config = [("credential.helper", ""), ("protocol.allow", "never")]
    config += [(f"protocol.{name}.allow", "always") for name in ALLOWED_PROTOCOLS]
    config += [(f"protocol.{name}.allow", "never") for name in REFUSED_PROTOCOLS]
    config.append(("protocol.http.allow", "always" if network.allow_http else "never"))
    low_time = max(1, min(LOW_SPEED_TIME, int(network.timeout)))
    config += [("http.lowSpeedLimit", str(LOW_SPEED_LIMIT)), ("http.lowSpeedTime", str(low_time))]
    header = network.auth.header()
    if header is not None:
        # A redirect would take the header to another origin (git adds it to every request
        # of the new base URL): with a token, a redirect is an error.
        config += [
            (f"http.{network.auth.url_prefix}.extraHeader", header),
            ("http.followRedirects", "false"),
        ]
    return config


def git_env(network: Network = LOCAL) -> dict[str, str]:
    """The variables set on top of the process environment for every git process."""
    env = {
        "GIT_TERMINAL_PROMPT": "0",  # never wait for a password on a terminal
        "GIT_ASKPASS": "",
        "SSH_ASKPASS": "",
        "LC_ALL": "C",  # messages we can recognise
        "LANGUAGE": "C",
        "GIT_OPTIONAL_LOCKS": "0",
        "GIT_TRACE_REDACT": "1",  # GIT_TRACE_CURL must not print the Authorization header
    }
    if "GIT_SSH_COMMAND" not in os.environ and "GIT_SSH" not in os.environ:
        alive = max(1, min(15, int(network.timeout) // 4))
        env["GIT_SSH_COMMAND"] = (
            f"ssh -o BatchMode=yes -o ConnectTimeout={max(1, min(60, int(network.timeout)))}"
            f" -o ServerAliveInterval={alive} -o ServerAliveCountMax=4"
        )
    config = git_config(network)
    env["GIT_CONFIG_COUNT"] = str(len(config))
    for index, (key, value) in enumerate(config):
        env[f"GIT_CONFIG_KEY_{index}"] = key
        env[f"GIT_CONFIG_VALUE_{index}"] = value
    return env


def forget_hook_variables() -> None:
    """Drop the variables a git hook sets from this process's environment.

    GitPython's `Repo` reads them and `Git` adds every git process's environment on top of
    os.environ (it cannot unset a variable), so they are removed at the source: nothing in
    this process needs them, and a scan must read the repository it names.
    """
    for name in HOOK_VARIABLES:
        if os.environ.pop(name, None) is not None:
            log.debug("ignoring %s from the environment", name)


def git_for(network: Network = LOCAL, cwd: Path | None = None) -> Git:
    """A GitPython `Git` whose every process gets `git_env(network)`."""
    forget_hook_variables()
    command = Git(cwd)
    command.update_environment(**git_env(network))
    return command


class GitFailed(SourceError):
    """A git command failed; `stderr` is already scrubbed of the token."""

    def __init__(self, message: str, stderr: str = "", *, timed_out: bool = False) -> None:
        super().__init__(message)
        self.stderr = stderr
        self.timed_out = timed_out


def first_line(text: str) -> str:
    """The most telling line of git's stderr ('fatal: ...' first), without the prefix."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines:
        for prefix in ("fatal: ", "error: "):
            if line.startswith(prefix):
                return line[len(prefix) :]
    return lines[-1] if lines else "git failed"


def failed(error: GitCommandError, network: Network) -> GitFailed:
    """GitPython's error as one token-free line."""
    raw = error.stderr if isinstance(error.stderr, str) else ""
    stderr = network.scrub(raw.removeprefix("\n  stderr: '").removesuffix("'"))
    return GitFailed(first_line(stderr), stderr)


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: bytes
    stderr: bytes


# Process groups of network commands still running: killed when this process exits.
_groups: set[int] = set()
_groups_lock = threading.Lock()


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(OSError):
        os.killpg(pgid, signal.SIGKILL)


@atexit.register
def _kill_running_groups() -> None:
    with _groups_lock:
        groups = list(_groups)
        _groups.clear()
    for pgid in groups:
        _kill_group(pgid)


def run(
    command: Git,
    args: Sequence[str],
    *,
    git_dir: Path | None = None,
    network: Network = LOCAL,
    input: bytes | None = None,
    timeout: float | None = None,
    check: bool = True,
) -> Result:
    """Run `git [--git-dir DIR] args...` through GitPython and return its output.

    With a timeout, git runs in a process group of its own, killed with everything in it
    when the deadline passes (or this call is interrupted, or this process exits).
    Raises GitFailed (one line, scrubbed) when git fails and `check` is true.
    """
    argv = [Git.GIT_PYTHON_GIT_EXECUTABLE or "git"]
    if git_dir is not None:
        argv += ["--git-dir", str(git_dir)]
    argv += list(args)
    log.debug("running %s", " ".join(argv))
    proc = _spawn(command, argv, own_group=timeout is not None)
    if timeout is not None:
        with _groups_lock:
            _groups.add(proc.pid)
    started = time.monotonic()
    try:
        stdout, stderr = proc.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc.pid)
        proc.communicate()
        raise GitFailed(
            f"git gave no answer in {time.monotonic() - started:.0f} s "
            f"(timeout {timeout:g} s; set --git-timeout or {TIMEOUT_VARIABLE})",
            timed_out=True,
        ) from None
    finally:
        if timeout is not None:
            _kill_group(proc.pid)  # what git left behind (a remote helper), if anything
            with _groups_lock:
                _groups.discard(proc.pid)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if check and proc.returncode != 0:
        error = GitCommandError(argv, proc.returncode, stderr.decode("utf-8", "replace"))
        raise failed(error, network)
    return Result(proc.returncode, stdout, stderr)


def text(command: Git, args: Sequence[str], *, git_dir: Path | None = None) -> str:
    """stdout of a local git command as text, stripped."""
    out = run(command, args, git_dir=git_dir).stdout
    return out.decode("utf-8", "replace").strip()


def start(command: Git, args: Sequence[str], *, git_dir: Path) -> subprocess.Popen[bytes]:
    """A long-lived git process with pipes on stdin and stdout (stderr discarded)."""
    argv = [Git.GIT_PYTHON_GIT_EXECUTABLE or "git", "--git-dir", str(git_dir), *args]
    log.debug("running %s", " ".join(argv))
    return _spawn(command, argv, own_group=False)


def _spawn(command: Git, argv: list[str], *, own_group: bool) -> subprocess.Popen[bytes]:
    """Start git through GitPython (its environment, trace log and argv redaction)."""
    try:
        if own_group:
            handle = command.execute(
                argv, as_process=True, istream=subprocess.PIPE, process_group=0
            )
        else:
            handle = command.execute(argv, as_process=True, istream=subprocess.PIPE)
    except GitCommandNotFound:
        raise SourceError("git is not installed (or not on PATH)") from None
    proc = handle.proc
    assert proc is not None
    # The caller owns the process now: AutoInterrupt would terminate it when collected.
    handle.proc = None
    return proc
