"""Real pytest in a child process, for the tests that check the scanner against it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path


def run_pytest(
    cwd: Path,
    *args: str,
    grabber_json: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """`python -m pytest -p no:cacheprovider ARGS` run at `cwd`, without this run's
    PYTEST_ADDOPTS and without writing bytecode; `env` adds variables. With `grabber_json`,
    the shipped plugin (`-p xfail_grabber.collect`) writes what pytest collected there."""
    environ = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **(env or {})}
    environ.pop("PYTEST_ADDOPTS", None)
    plugin = []
    if grabber_json is not None:
        # `=`: a separate value that names an existing file would be taken for a test path
        # when pytest picks its rootdir (the option is not known yet at that point).
        plugin = ["-p", "xfail_grabber.collect", f"--grabber-json={grabber_json}"]
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *plugin, *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
