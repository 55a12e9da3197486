"""What the Dockerfile and the README promise, run the way they run it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import unicodedata
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


def github_anchor(heading: str) -> str:
    """The id GitHub gives a heading (github-slugger): the text as rendered (code spans and
    links keep their text), lower-cased, punctuation dropped but `-` and `_`, spaces as `-`."""
    text = re.sub(r"`([^`]*)`", r"\1", heading)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text).strip().lower()
    kept = (c for c in text if c.isalnum() or c in " -_" or unicodedata.category(c)[0] == "M")
    return "".join(kept).replace(" ", "-")


def markdown_headings(text: str) -> list[tuple[int, str]]:
    """(level, text) of the ATX headings outside fenced code blocks."""
    found, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        match = None if fenced else re.match(r"(#{1,6}) +(.*?)[ #]*$", line)
        if match:
            found.append((len(match[1]), match[2]))
    return found


def markdown_anchors(text: str) -> set[str]:
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    for _, heading in markdown_headings(text):
        anchor = github_anchor(heading)
        count = seen.get(anchor, 0)
        seen[anchor] = count + 1
        anchors.add(anchor if count == 0 else f"{anchor}-{count}")  # GitHub's duplicates
    return anchors


def test_github_anchors_as_github_makes_them():
    assert github_anchor("Whose, how old, still needed: owners, `--blame`, `--tickets`") == (
        "whose-how-old-still-needed-owners---blame---tickets"
    )
    assert github_anchor("From Python: `xfail_grabber.api`") == "from-python-xfail_grabberapi"
    assert markdown_anchors("# A\n```\n# not a heading\n```\n## A\n") == {"a", "a-1"}


def test_readme_contents_list_every_section_and_every_link_resolves():
    readme = (ROOT / "README.md").read_text()
    contents = readme.split("**Contents**", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"\]\(#([^)]+)\)", contents)
    anchors = markdown_anchors(readme)
    assert listed and [a for a in listed if a not in anchors] == []
    sections = [github_anchor(h) for level, h in markdown_headings(readme) if level == 2]
    assert [s for s in sections if s not in listed] == []  # a new section goes in the list
    # Every other link of the README into itself or another file of the repository, too.
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", readme):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, fragment = target.partition("#")
        file = ROOT / path if path else ROOT / "README.md"
        if not file.exists() or (
            fragment and file.suffix == ".md" and fragment not in markdown_anchors(file.read_text())
        ):
            broken.append(target)
    assert broken == []
