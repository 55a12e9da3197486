"""A directory inside a git work tree (`grabber dump ./repo/tests`) is scanned as `pytest tests`
run at the repository's top sees it: node ids, rootdir and config as pytest computes them,
paths from the repository's top, only the files under the directory. pytest itself is asked
what it collects and where it roots the run."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.pytest_run import run_pytest
from xfail_grabber.config import RootDir, find_rootdir

from .gitutil import commit, git, init_repo, write

MUTED = 'import pytest\n\n\n@pytest.mark.skip(reason="r")\ndef test_x():\n    pass\n'
FILES = {
    "pytest.ini": "[pytest]\npython_files = check_*.py\nnorecursedirs = build\n",
    "tests/unit/check_a.py": MUTED,
    "tests/unit/deep/check_b.py": MUTED,
    "tests/unit/build/check_c.py": MUTED,  # norecursedirs below the directory given: skipped
    "tests/check_outside.py": MUTED,  # not under tests/unit: not scanned
    "build/tests/check_d.py": MUTED,
}


def grabber(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "xfail_grabber", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "GRABBER_CACHE_DIR": str(cwd / ".cache")},
        check=False,
    )


def dumped(*args: str, cwd: Path) -> dict:
    done = grabber("dump", *args, cwd=cwd)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def pytest_run(top: Path, *args: str) -> str:
    """pytest's --collect-only output, run at the repository's top."""
    done = run_pytest(top, "--collect-only", *args, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def pytest_ids(top: Path, directory: str) -> list[str]:
    lines = pytest_run(top, "-q", directory).splitlines()
    return sorted(line for line in lines if "::" in line)


def pytest_rootdir(top: Path, directory: str) -> RootDir:
    header = pytest_run(top, directory)
    where = Path(re.search(r"^rootdir: (.*)$", header, re.M)[1])
    config = re.search(r"configfile: (\S+)", header)
    path = where.relative_to(top).as_posix()
    path = "" if path == "." else path
    return RootDir(path, f"{path}/{config[1]}".lstrip("/") if config else None)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    top = init_repo(tmp_path / "repo")
    commit(top, FILES, date="2024-03-01T12:00:00Z")
    return top


def test_a_directory_of_a_work_tree_has_the_repository_s_node_ids_and_config(
    project: Path, tmp_path: Path
) -> None:
    snapshot = dumped("repo/tests/unit", cwd=tmp_path)
    ids = sorted(r["nodeid"] for r in snapshot["muted"])
    assert ids == ["tests/unit/check_a.py::test_x", "tests/unit/deep/check_b.py::test_x"]
    assert ids == pytest_ids(project, "tests/unit")
    assert {r["path"] for r in snapshot["muted"]} == {
        "tests/unit/check_a.py",
        "tests/unit/deep/check_b.py",
    }
    assert snapshot["repo"] == str(project / "tests" / "unit")  # a series of its own
    assert snapshot["branch"] == "main" and snapshot["commit"] == git(project, "rev-parse", "HEAD")


def test_the_directory_given_is_collected_even_when_norecursedirs_names_it(
    project: Path, tmp_path: Path
) -> None:
    snapshot = dumped(str(project / "build" / "tests"), cwd=tmp_path)
    ids = [r["nodeid"] for r in snapshot["muted"]]
    assert ids == ["build/tests/check_d.py::test_x"] == pytest_ids(project, "build/tests")


def test_a_config_file_inside_the_directory_roots_the_node_ids_there(
    project: Path, tmp_path: Path
) -> None:
    write(project, {"tests/unit/pytest.ini": "[pytest]\npython_files = check_*.py\n"})
    git(project, "rm", "-rq", "tests/unit/build")
    snapshot = dumped(str(project / "tests" / "unit"), cwd=tmp_path)
    ids = sorted(r["nodeid"] for r in snapshot["muted"])
    assert ids == ["check_a.py::test_x", "deep/check_b.py::test_x"]
    assert ids == pytest_ids(project, "tests/unit")
    assert sorted(r["path"] for r in snapshot["muted"]) == [
        "tests/unit/check_a.py",
        "tests/unit/deep/check_b.py",
    ]


@pytest.mark.parametrize(
    ("layout", "start"),
    [
        ({"pytest.ini": "[pytest]\n"}, "a/b"),
        ({"a/tox.ini": "[pytest]\n", "pyproject.toml": "[tool.pytest.ini_options]\n"}, "a/b"),
        ({"a/tox.ini": "[tox]\n", "setup.cfg": "[tool:pytest]\n"}, "a/b"),
        ({"a/pyproject.toml": "[project]\nname = 'x'\n", "setup.py": ""}, "a/b"),
        ({"a/pyproject.toml": "[project]\nname = 'x'\n", "pytest.ini": "[pytest]\n"}, "a/b"),
        ({"a/setup.py": "", "a/b/tox.ini": "[tox]\n"}, "a/b"),
        ({"a/b/pytest.toml": "", "pytest.ini": "[pytest]\n"}, "a/b"),
        ({"a/setup.cfg": "[metadata]\n"}, "a/b"),
    ],
)
def test_rootdir_and_config_file_are_the_ones_pytest_picks(
    tmp_path: Path, layout: dict[str, str], start: str
) -> None:
    top = tmp_path / "top"
    write(top, {**layout, f"{start}/test_a.py": "def test_a(): pass\n"})
    found = find_rootdir(lambda name: _read(top / name), start)
    assert found == pytest_rootdir(top, start)


def _read(path: Path) -> bytes | None:
    return path.read_bytes() if path.is_file() else None


def test_with_a_branch_the_directory_is_read_from_that_commit(
    project: Path, tmp_path: Path
) -> None:
    first = git(project, "rev-parse", "HEAD")
    commit(project, {"tests/unit/check_new.py": MUTED}, date="2024-03-02T12:00:00Z")
    write(project, {"tests/unit/check_edit.py": MUTED})  # not committed: not in `main`
    at_main = dumped(str(project / "tests" / "unit"), "main", cwd=tmp_path)
    assert sorted(r["nodeid"] for r in at_main["muted"]) == [
        "tests/unit/check_a.py::test_x",
        "tests/unit/check_new.py::test_x",
        "tests/unit/deep/check_b.py::test_x",
    ]
    older = dumped(str(project / "tests" / "unit"), "main", "--ref", first, cwd=tmp_path)
    assert len(older["muted"]) == 2 and older["commit"] == first
    on_disk = dumped(str(project / "tests" / "unit"), cwd=tmp_path)
    assert "tests/unit/check_edit.py::test_x" in {r["nodeid"] for r in on_disk["muted"]}


def test_a_directory_missing_at_that_commit_is_one_line(project: Path, tmp_path: Path) -> None:
    first = git(project, "rev-parse", "HEAD")
    commit(project, {"later/check_l.py": MUTED}, date="2024-03-02T12:00:00Z")
    done = grabber("dump", str(project / "later"), "--ref", first, cwd=tmp_path)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == f"Error: no directory later in {project} at {first}\n"


@pytest.mark.parametrize("verb", ["history", "diff"])
def test_history_and_diff_ask_for_the_repository_itself(
    project: Path, tmp_path: Path, verb: str
) -> None:
    args = ["--since", "2024-01-01"] if verb == "history" else ["HEAD", "HEAD"]
    done = grabber(verb, str(project / "tests"), *args, cwd=tmp_path)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        f"Error: not the top of a git repository: {project / 'tests'} "
        f"(a directory inside {project}; give that)\n"
    )


def test_owners_and_the_policy_file_are_the_repository_s(project: Path, tmp_path: Path) -> None:
    write(
        project,
        {
            ".github/CODEOWNERS": "/tests/unit/deep/ @org/deep\n",
            "grabber.toml": '[policy]\nticket-required = "off"\nreason-required = "off"\n'
            'forbid-kinds = { severity = "error", kinds = ["skip"] }\n',
        },
    )
    snapshot = dumped(str(project / "tests" / "unit"), cwd=tmp_path)
    owners = {r["path"]: r["owners"] for r in snapshot["muted"]}
    assert owners == {"tests/unit/check_a.py": [], "tests/unit/deep/check_b.py": ["@org/deep"]}
    done = grabber("check", str(project / "tests" / "unit"), "--format", "json", cwd=tmp_path)
    assert done.returncode == 3, done.stderr  # the top's grabber.toml forbids skip
    report = json.loads(done.stdout)
    assert {f["rule"] for f in report["findings"]} == {"forbid-kinds"}
