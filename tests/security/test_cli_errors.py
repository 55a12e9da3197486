"""One line, not a traceback (issue 9, item 13): full and closed standard streams, a
directory we may not read, a NUL in a database URL, durations too large for the clock, an
empty REPOSITORY. Each runs `grabber` in a bounded child, as a user would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .bounded import ROOT, run_grabber

NO_DAC_OVERRIDE = "--bounding-set=-dac_override,-dac_read_search"
MUTED = "import pytest\n@pytest.mark.skip\ndef test_a(): pass\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "test_a.py").write_text(MUTED)
    return tmp_path / "repo"


def one_line_error(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr, stderr[-3000:]
    assert lines, "nothing on stderr"
    return lines[-1]


def grabber_shell(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`grabber ...` with shell redirections (closing a descriptor needs the shell)."""
    python = f"{sys.executable} -m xfail_grabber"
    return subprocess.run(
        ["bash", "-c", command.replace("grabber", python, 1)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )


def test_stdout_on_a_full_disk(repo: Path) -> None:
    done = grabber_shell("grabber dump . >/dev/full", repo)
    assert done.returncode == 1
    assert one_line_error(done.stderr) == "Error: cannot write to stdout: No space left on device"


def test_stdout_closed(repo: Path) -> None:
    done = grabber_shell("grabber dump . >&-", repo)
    assert done.returncode == 1
    assert one_line_error(done.stderr) == "Error: cannot write to stdout: it is closed"


def test_stderr_closed_after_a_good_dump_is_still_success(repo: Path) -> None:
    done = grabber_shell("grabber -v dump . 2>&-", repo)
    assert done.returncode == 0  # was 1
    assert '"nodeid": "test_a.py::test_a"' in done.stdout


def test_stdout_closed_is_never_given_to_a_file(repo: Path, tmp_path: Path) -> None:
    # With descriptor 1 free, the SQLite file would have been opened as stdout.
    database = tmp_path / "x.db"
    done = grabber_shell(f"grabber push . --db sqlite:///{database} >&-", repo)
    assert done.returncode == 0, done.stderr
    assert b"schema_version" not in database.read_bytes()[:100]


def test_a_directory_we_may_not_read(tmp_path: Path) -> None:
    # `dump /proc/1/cwd` as a user. These tests run as root, who reads anything: the child
    # runs without the capabilities that let root ignore permissions (util-linux setpriv),
    # on a directory closed to everyone.
    setpriv = shutil.which("setpriv")
    assert setpriv, "needs setpriv (util-linux)"
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "test_a.py").write_text(MUTED)
    locked.chmod(0)
    try:
        done = subprocess.run(
            [setpriv, NO_DAC_OVERRIDE, sys.executable, "-m", "xfail_grabber", "dump", str(locked)],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            check=False,
        )
    finally:
        locked.chmod(0o755)
    assert done.returncode == 1
    assert one_line_error(done.stderr) == f"Error: Permission denied: {locked}"


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///x.db?schema=a%00b",
        "sqlite:///x%00.db",
        "postgresql://postgres@127.0.0.1/post%00gres",
        "postgresql://postgres@127.0.0.1/postgres?schema=a%00b",
    ],
)
def test_a_nul_in_a_database_url(tmp_path: Path, url: str) -> None:
    done = run_grabber("db", "upgrade", "--db", url, cwd=tmp_path)
    assert done.returncode == 1
    assert one_line_error(done.err) == ("Error: a database URL cannot hold a NUL character (%00)")


def test_prune_keep_beyond_the_calendar(tmp_path: Path) -> None:
    done = run_grabber(
        "db", "prune", "--keep", "999999999999y", "--db", "sqlite:///x.db", cwd=tmp_path
    )
    assert done.returncode == 2
    assert one_line_error(done.err).endswith("'999999999999y' is more than 1000 years")


def test_serve_refresh_beyond_a_timer(repo: Path) -> None:
    done = run_grabber("serve", str(repo), "--port", "0", "--refresh", "99999999999999d")
    assert done.returncode == 2
    assert one_line_error(done.err) == (
        "Error: Invalid value for --refresh: '99999999999999d' is longer than 365 days"
    )


@pytest.mark.parametrize("verb", ["dump", "push", "history", "serve"])
def test_an_empty_repository_is_a_usage_error(repo: Path, verb: str) -> None:
    done = run_grabber(verb, "", cwd=repo)  # scanned the current directory before
    assert done.returncode == 2
    assert one_line_error(done.err) == "Error: Invalid value for '[REPOSITORY]': must not be empty"


EMPTY = "must not be empty"
BRANCH_X = "not a valid branch name: '-x'"
REF_X = "not a valid ref name: '-x'"
SINCE = ["--since", "2024-01-01"]


@pytest.mark.parametrize(
    ("args", "hint", "why"),
    [
        (["dump", "REPO", ""], "'[BRANCH]'", EMPTY),
        (["dump", "REPO", "--", "-x"], "'[BRANCH]'", BRANCH_X),
        (["dump", "REPO", "--ref", ""], "'--ref'", EMPTY),
        (["dump", "REPO", "--ref=-x"], "'--ref'", REF_X),
        (["push", "REPO", "--", "-x"], "'[BRANCH]'", BRANCH_X),
        (["push", "REPO", "--ref", " "], "'--ref'", EMPTY),
        (["history", "REPO", *SINCE, "--", "-x"], "'[BRANCH]'", BRANCH_X),
        (["history", "REPO", "", *SINCE], "'[BRANCH]'", EMPTY),
        (["diff", "REPO", "", "HEAD"], "'BASE'", EMPTY),
        (["diff", "REPO", "--", "-x", "HEAD"], "'BASE'", REF_X),
        (["diff", "REPO", "HEAD", "a:b"], "'HEAD'", "not a valid ref name: 'a:b'"),
        (["check", "REPO", ""], "'[BRANCH]'", EMPTY),
        (["check", "REPO", "--", "-x"], "'[BRANCH]'", BRANCH_X),
        (["check", "REPO", "--baseline", ""], "'--baseline'", EMPTY),
        (["check", "REPO", "--baseline=-x"], "'--baseline'", REF_X),
        (["check", ""], "'[REPOSITORY]'", EMPTY),
    ],
)
def test_a_bad_branch_or_ref_is_a_one_line_usage_error(
    tmp_path: Path, args: list[str], hint: str, why: str
) -> None:
    """An empty or dash-leading BRANCH, BASE, HEAD, --ref or --baseline exited 1 as a failed
    scan (or 2 under click's usage block): now exit 2 and one line, the same for every verb."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "test_a.py").write_text(MUTED)
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    argv = [str(repo) if a == "REPO" else a for a in args]
    done = run_grabber(*argv, cwd=tmp_path, env={"GRABBER_CACHE_DIR": str(tmp_path / "c")})
    assert (done.returncode, done.stdout) == (2, b""), done.err
    assert done.err == f"Error: Invalid value for {hint}: {why}\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["dump", "REPO", "--format", "xml"],
            "Error: Invalid value for '--format': 'xml' is not one of 'json', 'jsonl', 'csv', "
            "'markdown', 'redash'.",
        ),
        (
            ["dump", "REPO", "--workers", "0"],
            "Error: Invalid value for '--workers': 0 is not in the range x>=1.",
        ),
        (["diff", "REPO", "main"], "Error: Missing argument 'HEAD'."),
        (["nosuchverb"], "Error: No such command 'nosuchverb'."),
    ],
)
def test_click_s_own_usage_errors_are_one_line(repo: Path, args: list[str], message: str) -> None:
    """A bad option value, a missing argument or an unknown verb: one line and exit 2, like
    grabber's own usage errors (click printed its usage text above the error)."""
    done = run_grabber(*[str(repo) if a == "REPO" else a for a in args], cwd=repo)
    assert (done.returncode, done.stdout) == (2, b""), done.err
    assert done.err == message + "\n"


def test_an_unknown_option_is_one_line(repo: Path) -> None:
    done = run_grabber("dump", str(repo), "--zzz", cwd=repo)
    assert (done.returncode, done.stdout) == (2, b""), done.err
    assert done.err.startswith("Error: No such option") and done.err.count("\n") == 1
    assert "--zzz" in done.err


@pytest.mark.parametrize("args", [[], ["db"]])
def test_a_group_alone_shows_its_help(repo: Path, args: list[str]) -> None:
    done = run_grabber(*args, cwd=repo)
    assert done.returncode == 2
    assert done.err.startswith("Usage: grabber") and "Commands:" in done.err
