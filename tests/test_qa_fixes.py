"""Small things a newcomer tripped on (the QA pass): an empty --db, a token on argv."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from xfail_grabber.cli import main


def test_an_empty_db_url_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "test_a.py").write_text("import pytest\n\n@pytest.mark.skip\ndef test_a(): pass\n")
    code = main(["push", str(tmp_path), "--db", "", "--cache-dir", str(tmp_path / "c")])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err == "Error: --db is empty; give a database URL, or leave --db out\n"


def test_a_token_on_the_command_line_is_warned_about(tmp_path: Path) -> None:
    # serve never returns by itself: it warns before it binds, then fails on a taken port.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        done = subprocess.run(
            [sys.executable, "-m", "xfail_grabber", "serve", str(tmp_path), "--auth-token",
             "abc", "--port", port],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    assert done.returncode == 1
    assert "--auth-token on the command line is visible" in done.stderr
    assert "abc" not in done.stderr


def test_history_counts_only_points_that_are_stored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from .enrich.test_apply import make_repo  # one commit, 2025-02-01 09:00

    repo = make_repo(tmp_path)
    db = f"sqlite:///{tmp_path}/h.db"
    # Four daily points at midnight; the 31st and the 1st come before the first commit (09:00
    # on the 1st): two points to store, and the rerun finds them stored (it used to say 4).
    args = ["history", str(repo), "main", "--since", "2025-01-31", "--until", "2025-02-03"]
    args += ["--every", "day", "--db", db, "--cache-dir", str(tmp_path / "c"), "-v"]
    assert main(args) == 0
    capsys.readouterr()
    assert main(args) == 0
    _, err = capsys.readouterr()
    assert "grabber: 2 points already stored" in err.splitlines()
