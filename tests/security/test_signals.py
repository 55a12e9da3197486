"""Signals (issue 9, item 8): SIGTERM during a parallel scan ends the workers too (a pipeline
sees end-of-file), and Ctrl-C while -o is written leaves no temporary file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

from .bounded import ROOT, run_python

FILES = 300


def children_of(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def test_sigterm_during_a_parallel_scan_ends_the_workers(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    body = "".join(
        f"@pytest.mark.skip(reason='r{n}')\ndef test_{n}(a, b, c):\n    assert a + b == c\n"
        for n in range(150)
    )
    for n in range(FILES):
        (repo / f"test_{n}.py").write_text("import pytest\n" + body)
    process = subprocess.Popen(
        [sys.executable, "-m", "xfail_grabber", "dump", str(repo), "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        workers: set[int] = set()
        deadline = time.monotonic() + 60
        while len(workers) < 2 and time.monotonic() < deadline and process.poll() is None:
            workers = children_of(process.pid)
            time.sleep(0.05)
        assert len(workers) >= 2, "the scan never started its workers"
        time.sleep(0.5)
        process.send_signal(signal.SIGTERM)
        # The pipeline's view: stdout reaches end-of-file, soon.
        out: list[bytes] = []
        reader = threading.Thread(target=lambda: out.append(process.stdout.read()))  # type: ignore[union-attr]
        reader.start()
        reader.join(20)
        assert not reader.is_alive(), "stdout stayed open after SIGTERM (orphaned workers)"
        assert process.wait(20) == 143
        err = process.stderr.read().decode()  # type: ignore[union-attr]
        assert err.strip().endswith("grabber: terminated"), err[-2000:]
        assert "Traceback" not in err
        deadline = time.monotonic() + 10
        while any(running(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in workers if running(pid)], "workers outlived grabber"
    finally:
        if process.poll() is None:
            process.kill()
        for pid in children_of(process.pid):
            os.kill(pid, signal.SIGKILL)
        process.communicate(timeout=10)


CTRL_C_WHILE_WRITING = textwrap.dedent(
    """
    import os, signal, sys, threading, time, traceback
    from pathlib import Path
    from xfail_grabber.commands.common import write_output

    armed = False

    def interrupt(signum, frame):
        if armed:  # Python's own handler, but only while an attempt runs
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupt)
    target = Path(sys.argv[1])
    text = "x" * 20_000_000
    hits = 0
    for attempt in range(40):
        timer = threading.Timer(0.002 * attempt, os.kill, (os.getpid(), signal.SIGINT))
        armed = True
        try:
            timer.start()
            write_output(text, target)
            timer.join()
            time.sleep(0.01)  # a signal sent meanwhile lands here
        except KeyboardInterrupt as exc:
            names = [frame.name for frame in traceback.extract_tb(exc.__traceback__)]
            hits += "write_output" in names
        armed = False
        timer.join()
        leftovers = [p.name for p in target.parent.iterdir() if p.name.endswith(".tmp")]
        if leftovers:
            print("LEFT", leftovers)
            sys.exit(1)
        if hits:
            break
    print("hits", hits)
    """
)


def test_ctrl_c_while_writing_the_output_leaves_no_temporary_file(tmp_path: Path) -> None:
    done = run_python(CTRL_C_WHILE_WRITING, str(tmp_path / "out.json"), timeout=120)
    assert done.returncode == 0, (done.stdout, done.err[-2000:])
    hits = int(done.stdout.split()[-1])
    assert hits >= 1, "no interrupt landed inside write_output"
