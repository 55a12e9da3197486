"""Run `grabber` (or a Python snippet) in a child with a deadline and an address-space cap, so
that a regression (a crash, a hang, a memory blow-up) fails one test instead of taking the
whole run down with it. The child reports its own peak resident memory."""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import xfail_grabber

ROOT = Path(xfail_grabber.__file__).resolve().parent.parent
# Far above what a healthy run needs, far below what would hurt the machine.
ADDRESS_SPACE = 3 * 1024**3

REPORT_PEAK = """
import atexit, os, resource, runpy, sys
def _peak():
    who = (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    usage = [resource.getrusage(w).ru_maxrss for w in who]
    with open(os.environ["BOUNDED_PEAK_FILE"], "w") as out:
        out.write(str(max(usage)))
atexit.register(_peak)
"""
RUN_GRABBER = (
    REPORT_PEAK
    + """
sys.argv = ["grabber", *sys.argv[1:]]
runpy.run_module("xfail_grabber", run_name="__main__")
"""
)


@dataclass
class Finished:
    returncode: int
    stdout: bytes
    stderr: bytes
    seconds: float
    peak_mb: float  # peak resident memory of the child (and its waited-for children)

    @property
    def err(self) -> str:
        return self.stderr.decode("utf-8", "replace")


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def run_python(
    code: str,
    *args: str,
    cwd: Path | None = None,
    timeout: float = 60,
    env: dict[str, str] | None = None,
    stdin: bytes | None = None,
    **popen: object,
) -> Finished:
    """Run `code` with `args` in a bounded child; a timeout fails the calling test."""
    with tempfile.NamedTemporaryFile("r", suffix=".peak") as peak:
        environment = {**os.environ, **(env or {}), "BOUNDED_PEAK_FILE": peak.name}
        environment.pop("GRABBER_DATABASE_URL", None)
        environment["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(ROOT), environment.get("PYTHONPATH")])
        )
        started = time.monotonic()
        try:
            done = subprocess.run(
                [sys.executable, "-c", REPORT_PEAK + code, *args],
                cwd=cwd,
                env=environment,
                input=stdin,
                capture_output=True,
                timeout=timeout,
                preexec_fn=_limits,
                check=False,
                **popen,  # type: ignore[arg-type]
            )
        except subprocess.TimeoutExpired:
            raise AssertionError(f"still running after {timeout} s: {args}") from None
        seconds = time.monotonic() - started
        text = Path(peak.name).read_text()
    return Finished(
        done.returncode, done.stdout, done.stderr, seconds, int(text or 0) / 1024 if text else 0
    )


def run_grabber(*args: str, **options: object) -> Finished:
    """`grabber ARGS` in a bounded child (see run_python for the options)."""
    return run_python(RUN_GRABBER, *args, **options)  # type: ignore[arg-type]


@dataclass
class Served:
    port: int
    pid: int

    def rss_mb(self) -> float:
        """The server's resident memory now."""
        status = Path(f"/proc/{self.pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024  # type: ignore[union-attr]


@contextlib.contextmanager
def serving(*args: str | Path, timeout: float = 60) -> Iterator[Served]:
    """`grabber serve ARGS` on 127.0.0.1, a free port, bounded like run_python (killed after
    `timeout`); stopped with SIGTERM (then SIGKILL) after."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    for name in ("GRABBER_DATABASE_URL", "GRABBER_AUTH_TOKEN"):
        environment.pop(name, None)
    command = [sys.executable, "-m", "xfail_grabber", "serve", *map(str, args)]
    process = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
        preexec_fn=_limits,
    )
    assert process.stderr is not None
    timer = threading.Timer(timeout, process.kill)
    timer.start()
    try:
        line = process.stderr.readline()
        match = re.search(r"serving on http://127\.0\.0\.1:(\d+)/", line)
        assert match, line
        yield Served(int(match.group(1)), process.pid)
    finally:
        timer.cancel()
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate(timeout=5)


def wait_for(port: int, path: str, timeout: float = 60, **headers: str) -> bytes:
    """The body of the first 200 answer to GET path (503 while the first scan runs)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            body = response.read()
        finally:
            conn.close()
        if response.status == 200:
            return body
        assert response.status == 503, (response.status, body[:200])
        time.sleep(0.1)
    raise AssertionError(f"{path} never answered 200")
