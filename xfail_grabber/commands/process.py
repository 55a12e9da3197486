"""The process around a command: standard streams that may be closed or full, and SIGTERM.

`grabber dump . >&-` starts with no stdout: the first file opened would get descriptor 1 and
receive the data (a database file, a socket). `2>&-` leaves no stderr for diagnostics. Both
descriptors are pointed at /dev/null first; data for a closed stdout is then an error, a
closed stderr only loses the diagnostics. SIGTERM ends a command like an exception, so that
`finally` blocks run (worker processes are ended, temporary files removed).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType

import click

TERMINATED_EXIT = 128 + signal.SIGTERM


class Terminated(Exception):
    """SIGTERM arrived: unwind, clean up, exit 143."""


def _reopen_closed_descriptors() -> list[int]:
    closed = []
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
            closed.append(fd)
    return closed


@contextlib.contextmanager
def command_process() -> Iterator[None]:
    """Closed standard descriptors reopened on /dev/null (sys.stdout stays None when stdout
    was closed: see write_stdout), and SIGTERM raised as Terminated, for one command."""
    _reopen_closed_descriptors()
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 (for the process)
    previous = None
    if threading.current_thread() is threading.main_thread():

        def terminate(signum: int, frame: FrameType | None) -> None:
            raise Terminated()

        previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def write_stdout(text: str) -> None:
    """Data to stdout, or a one-line error when it cannot go there (closed, disk full)."""
    stream = sys.stdout
    if stream is None:
        raise click.ClickException("cannot write to stdout: it is closed")
    try:
        stream.write(text)
        stream.flush()
    except BrokenPipeError:
        raise  # the reader left: cli.py makes that a quiet exit
    except OSError as exc:
        discard_stdout()
        raise click.ClickException(f"cannot write to stdout: {exc.strerror or exc}") from None


def discard_stdout() -> None:
    """Point stdout at /dev/null: what is still buffered is dropped quietly at exit instead
    of failing again there."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)


def describe(exc: OSError) -> str:
    """An OSError as one line: `Permission denied: /proc/1/cwd`."""
    where = exc.filename if exc.filename is not None else None
    what = exc.strerror or type(exc).__name__
    return f"{what}: {os.fsdecode(where)}" if where is not None else str(what)
