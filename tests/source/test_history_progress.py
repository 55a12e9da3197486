"""`grabber history` draws a progress bar on a terminal (a real pty), and nothing elsewhere."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import time
from pathlib import Path

import pytest

from xfail_grabber.commands.history import progress_line
from xfail_grabber.history import HistoryProgress

from .gitutil import commit, init_repo


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = init_repo(tmp_path_factory.mktemp("progress") / "r")
    mute = 'import pytest\n\n\n@pytest.mark.skip(reason="{}")\ndef test_s():\n    pass\n'
    for day in (1, 2, 3):
        files = {"tests/test_a.py": mute.format(day), f"tests/test_{day}.py": mute.format(day)}
        commit(root, files, date=f"2024-06-0{day}T12:00:00Z")
    return root


def grabber(repo: Path, cache: Path, *extra: str, terminal: bool) -> tuple[str, str]:
    """Run `grabber history` over three days; stderr on a pty or a pipe. (stdout, stderr)"""
    argv = [sys.executable, "-m", "xfail_grabber", "history", str(repo), "--since"]
    argv += ["2024-06-01T13:00:00Z", "--until", "2024-06-03T13:00:00Z", "--every", "day"]
    argv += ["--cache-dir", str(cache), *extra]
    if not terminal:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=True)
        return done.stdout, done.stderr
    master, slave = pty.openpty()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    drawn = b""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the child closed the terminal (it exited)
            break
        if not chunk:
            break
        drawn += chunk
    os.close(master)
    assert proc.stdout is not None
    out = proc.stdout.read().decode()
    proc.stdout.close()
    assert proc.wait(timeout=60) == 0
    return out, drawn.decode()


def test_a_bar_on_a_terminal(repo: Path, tmp_path: Path) -> None:
    out, err = grabber(repo, tmp_path / "c", terminal=True)
    assert [json.loads(line)["counts"]["total"] for line in out.splitlines()] == [2, 3, 4]
    frames = err.replace("\r\n", "\n").split("\r")
    assert frames[0] == ""  # every frame starts at the line's beginning
    assert frames[1].startswith("history [--------------------] 0/3 points, 0 commits scanned")
    assert frames[1].rstrip().endswith("ETA --:--")
    last = frames[-1]
    assert last.startswith("history [####################] 3/3 points, 3 commits scanned, ")
    assert " files parsed, ETA 0:00" in last and last.endswith("\n")
    assert len(frames) == 5  # drawn before the first point and after each


def test_nothing_extra_without_a_terminal(repo: Path, tmp_path: Path) -> None:
    out, err = grabber(repo, tmp_path / "c", terminal=False)
    assert len(out.splitlines()) == 3
    assert err == ""
    # --no-progress keeps a terminal quiet too; --progress draws into a pipe when asked.
    assert grabber(repo, tmp_path / "c", "--no-progress", terminal=True)[1] == ""
    assert "3/3 points" in grabber(repo, tmp_path / "c", "--progress", terminal=False)[1]


def test_progress_line() -> None:
    state = HistoryProgress(points=52, done=13, commits=12, parsed=4321, started=0.0)
    line = progress_line(state)
    assert line.startswith("history [#####---------------] 13/52 points, 12 commits scanned, ")
    assert "4,321 files parsed, ETA " in line
