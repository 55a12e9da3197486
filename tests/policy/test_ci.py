"""The CI recipes, run for real where they can be: the composite action's steps in bash,
actionlint on the README's workflow (with the local action.yml), the pre-commit hook through
the real `pre-commit try-repo`, the GitLab recipe's report path."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ..source.gitutil import BASE_ENV, commit, git

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
BAD = "import pytest\n\n\n@pytest.mark.skip\ndef test_bad():\n    pass\n"
GOOD = (
    "import pytest\n\n\n"
    '@pytest.mark.xfailflake(jira="DCOS-9", reason="races", since="2026-11-01")\n'
    "def test_good():\n    pass\n"
)


def readme_block(heading: str) -> str:
    """The first ```yaml block after the paragraph that starts with `heading`."""
    after = README[README.index(heading) :]
    match = re.search(r"```yaml\n(.*?)```", after, re.S)
    assert match, heading
    return match.group(1)


def env_without_git() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "GITHUB_"))}
    return env | BASE_ENV


# The composite action ----------------------------------------------------------------------


def test_action_steps_run_in_bash(example: Path, tmp_path: Path) -> None:
    """Every `run:` step of action.yml (setup-python and the install aside: grabber is
    installed here), with the variables GitHub sets, on a pull request's commits."""
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    base = git(example, "rev-parse", "HEAD")
    commit(example, {"tests/test_bad.py": BAD, "tests/test_good.py": GOOD})
    summary, output = tmp_path / "summary.md", tmp_path / "output"
    env = env_without_git() | {
        "GITHUB_ACTION_PATH": str(ROOT),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_OUTPUT": str(output),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path),
    }
    outputs = {"steps.base.outputs.sha": "", "inputs.config": ""}
    results = []
    for step in action["runs"]["steps"]:
        if "run" not in step or "pip install" in step["run"]:
            continue
        assert step["shell"] == "bash"
        step_env = {}
        for key, value in (step.get("env") or {}).items():
            expression = value.strip("${} ")
            if expression.startswith("inputs.base ||"):
                step_env[key] = base  # github.event.pull_request.base.sha
            else:
                step_env[key] = outputs[expression]
        proc = subprocess.run(
            ["bash", "-e", "-c", step["run"]],
            cwd=example,
            env=env | step_env,
            capture_output=True,
            text=True,
            check=False,
        )
        results.append(proc)
        if step.get("id") == "base":
            outputs["steps.base.outputs.sha"] = output.read_text().split("sha=", 1)[1].strip()
    find_base, diff_step, check_step = results
    assert find_base.returncode == 0, find_base.stderr
    assert diff_step.returncode == 0, diff_step.stderr
    assert "\n**Policy:** +2 mutes, 1 without a ticket, 1 without a reason, " in summary.read_text()
    # Only the new bad mute is judged (the baseline holds the old ones); exit 3 fails the job.
    assert check_step.returncode == 3
    annotations = [line for line in check_step.stdout.splitlines() if line.startswith("::")]
    on_tests = [a for a in annotations if "file=grabber.toml," not in a]  # budget: the file
    assert on_tests and all("file=tests/test_bad.py,line=4," in a for a in on_tests)
    assert "::error file=tests/test_bad.py,line=4,title=grabber ticket-required::" in (
        check_step.stdout
    )


def test_readme_workflow_passes_actionlint(tmp_path: Path) -> None:
    workflow = readme_block("**GitHub Actions.**")
    assert "your-org/xfail-grabber@main" in workflow
    # The local copy of the action: actionlint then checks its inputs against action.yml.
    workflow = workflow.replace("your-org/xfail-grabber@main", "./")
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "mute-policy.yml").write_text(workflow)
    shutil.copy(ROOT / "action.yml", tmp_path / "action.yml")
    git(tmp_path, "init", "-q")
    proc = subprocess.run(
        ["actionlint", "-no-color"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert (proc.returncode, proc.stdout) == (0, ""), proc.stdout + proc.stderr
    # And it would catch a mistake: an input the action does not have.
    broken = workflow.replace("config: grabber.toml", "policy: grabber.toml")
    (tmp_path / ".github" / "workflows" / "mute-policy.yml").write_text(broken)
    proc = subprocess.run(
        ["actionlint", "-no-color"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 1 and 'input "policy" is not defined' in proc.stdout


def test_readme_gitlab_recipe() -> None:
    job = yaml.safe_load(readme_block("**GitLab CI.**"))["mute-policy"]
    report = job["artifacts"]["reports"]["codequality"]
    assert any(f"--format gitlab -o {report}" in line for line in job["script"])
    assert job["artifacts"]["when"] == "always"  # exit 3 still hands the report over


# pre-commit ---------------------------------------------------------------------------------


def hook_repository(tmp_path: Path) -> Path:
    """This repository as it is on disk, committed, so pre-commit builds its env once."""
    target = tmp_path / "hook-repo"
    names = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for raw in filter(None, names):
        name = raw.decode()
        if name.startswith(("tests/", "benchmarks/", "deploy/")) or not (ROOT / name).is_file():
            continue
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target / name)
    git(target, "init", "-q")
    git(target, "add", "-A")
    git(target, "commit", "-qm", "hook")
    return target


def test_pre_commit_manifest_and_readme_config(tmp_path: Path) -> None:
    run = [sys.executable, "-m", "pre_commit"]
    manifest = subprocess.run(
        [*run, "validate-manifest", str(ROOT / ".pre-commit-hooks.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert manifest.returncode == 0, manifest.stdout
    config = tmp_path / ".pre-commit-config.yaml"
    config.write_text(readme_block("**pre-commit.**"))
    validated = subprocess.run(
        [*run, "validate-config", str(config)], capture_output=True, text=True, check=False
    )
    assert validated.returncode == 0, validated.stdout
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert [h["id"] for h in hooks] == ["grabber-check"]
    assert hooks[0]["entry"] == "grabber check --files"


@pytest.mark.slow
def test_pre_commit_try_repo_checks_only_staged_files(example: Path, tmp_path: Path) -> None:
    hooks = hook_repository(tmp_path)
    env = env_without_git() | {"PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    env["HOME"] = str(tmp_path)

    def try_repo() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pre_commit", "try-repo", str(hooks), "grabber-check"],
            cwd=example,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )

    # The committed tests/test_api.py breaks the policy, but it is not staged: not checked.
    (example / "tests" / "test_good.py").write_text(GOOD)
    git(example, "add", "tests/test_good.py")
    passed = try_repo()
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert re.search(r"grabber check \(muted-test policy\)\.+Passed", passed.stdout)
    (example / "tests" / "test_bad.py").write_text(BAD)
    git(example, "add", "tests/test_bad.py")
    failed = try_repo()
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "- exit code: 3" in failed.stdout
    assert "tests/test_bad.py:4: ticket-required: skip mute of test_bad has no ticket" in (
        failed.stdout
    )
    assert "test_api.py" not in failed.stdout
