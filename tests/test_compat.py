"""`xfailflake_grabber.py serve <repository> <branch> <port>` as the original ran it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.serve.test_cli import spawn

ROOT = Path(__file__).resolve().parents[1]


def test_original_serve_form_serves_xfailflake_rows(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "tests").mkdir(parents=True)
    (repo / "tests" / "test_a.py").write_text(
        "import pytest\n\n@pytest.mark.xfailflake(jira='DCOS-9')\ndef test_a(): pass\n\n"
        "@pytest.mark.skip\ndef test_b(): pass\n"
    )
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "c"]):
        subprocess.run([*git, *args], check=True, timeout=30)
    env = {
        **os.environ,
        "GRABBER_HOST": "127.0.0.1",
        "GRABBER_AUTH_TOKEN": "cli-t0ken-value",
        "GRABBER_CACHE_DIR": str(tmp_path / "cache"),
    }
    env.pop("GRABBER_DATABASE_URL", None)
    child = spawn(
        [sys.executable, str(ROOT / "xfailflake_grabber.py"), "serve", str(repo), "main", "0"],
        env,
        tmp_path,
    )
    process = child.process
    try:
        rows = json.loads(child.wait_for("/redash"))["rows"]
        assert [(r["test"], r["kind"], r["ticket"]) for r in rows] == [
            ("test_a", "xfailflake", "DCOS-9")
        ]
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    assert process.returncode == 0
