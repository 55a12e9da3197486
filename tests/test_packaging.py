"""What the Dockerfile and the README promise, run the way they run it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def dockerfile_command() -> list[str]:
    text = (ROOT / "Dockerfile").read_text()
    entrypoint = json.loads(re.search(r"^ENTRYPOINT (\[.*\])$", text, re.M).group(1))
    return entrypoint


def test_dockerfile_installs_git_and_the_package_and_runs_grabber():
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"apt-get install .*\bgit\b", text)
    assert "pip install --no-cache-dir '/src[postgres]'" in text
    assert dockerfile_command() == ["grabber"]


def test_the_installed_console_script_runs_the_daily_job(tmp_path):
    grabber = shutil.which(dockerfile_command()[0])
    assert grabber, "pip install . must put `grabber` on PATH"
    helped = subprocess.run([grabber, "--help"], capture_output=True, text=True)
    assert helped.returncode == 0 and "push" in helped.stdout
    repo = tmp_path / "repo"
    (repo / "tests").mkdir(parents=True)
    (repo / "tests" / "test_a.py").write_text(
        "import pytest\n@pytest.mark.xfailflake(jira='X-1')\ndef test_a(): pass\n"
    )
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=repo, check=True)
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "x"], cwd=repo, check=True)
    env = {
        "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
        "HOME": str(tmp_path),
        "GRABBER_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
    }
    pushed = subprocess.run(
        [grabber, "push", f"file://{repo}", "main"], capture_output=True, text=True, env=env
    )
    assert pushed.returncode == 0, pushed.stderr
    dumped = subprocess.run(
        [grabber, "dump", f"file://{repo}", "main"], capture_output=True, text=True, env=env
    )
    assert [r["ticket"] for r in json.loads(dumped.stdout)["muted"]] == ["X-1"]


def test_readme_gives_the_two_setup_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```sh\n(.*?)\n```", readme, re.S)
    assert blocks[0] == "pip install . && grabber dump ."
    assert blocks[1] == "bash scripts/test.sh"
    assert "bash scripts/test.sh" in (ROOT / ".ci" / "run").read_text()
