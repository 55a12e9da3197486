"""Which files are tests: pytest 9's TOML config, its precedence, and norecursedirs."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from xfail_grabber.cli import main
from xfail_grabber.config import discovery_from_files

MUTED = "import pytest\n\n@pytest.mark.skip\ndef test_a(): pass\n"


def discovery(files: dict[str, str]):
    return discovery_from_files(lambda name: files[name].encode() if name in files else None)


def test_pytest_toml_comes_first_even_when_empty():
    ini = "[pytest]\npython_files = check_*.py\n"
    assert discovery({"pytest.toml": "", "pytest.ini": ini}).source == "pytest.toml"
    found = discovery({".pytest.toml": '[pytest]\npython_files = ["check_*.py"]\n'})
    assert (found.source, found.python_files) == (".pytest.toml", ("check_*.py",))
    assert discovery({"pytest.ini": ini, "pyproject.toml": "[tool.pytest]\n"}).source == (
        "pytest.ini"
    )


def test_native_tool_pytest_in_pyproject():
    native = discovery(
        {
            "pyproject.toml": '[tool.pytest]\npython_functions = ["check_", "test_"]\n'
            'norecursedirs = ["testing/example_scripts"]\n',
            "tox.ini": "[pytest]\npython_functions = nope\n",
        }
    )
    assert native.source == "pyproject.toml"
    assert native.python_functions == ("check_", "test_")
    assert native.norecursedirs_configured
    ini = discovery({"pyproject.toml": '[tool.pytest.ini_options]\npython_files = "t_*.py"\n'})
    assert ini.python_files == ("t_*.py",)
    assert not ini.norecursedirs_configured


def test_path_style_norecursedirs_match_the_path():
    found = discovery({"pytest.ini": "[pytest]\nnorecursedirs = testing/example_scripts .*\n"})
    assert found.skips_path("testing/example_scripts/test_x.py", tracked=True)
    assert found.skips_path("pkg/testing/example_scripts/sub/test_x.py", tracked=True)
    assert not found.skips_path("testing/test_x.py", tracked=True)
    assert not found.skips_path("example_scripts/test_x.py", tracked=True)
    assert found.skips_path(".hidden/test_x.py", tracked=True)


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


def dump(root: Path, tmp_path: Path, *args: str) -> list[str]:
    out = tmp_path / "out.json"
    assert main(["dump", str(root), *args, "--cache-dir", str(tmp_path / "c"), "-o", str(out)]) == 0
    return sorted({r["path"] for r in json.loads(out.read_text())["muted"]})


def test_default_norecursedirs_only_for_untracked_files(tmp_path):
    root = tmp_path / "repo"
    (root / "pkg" / "build" / "tests").mkdir(parents=True)
    (root / "pkg" / "build" / "tests" / "build_integration_test.py").write_text(MUTED)
    (root / "tests").mkdir()
    (root / "tests" / "test_plain.py").write_text(MUTED)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "c")
    (root / "build").mkdir()
    (root / "build" / "test_generated.py").write_text(MUTED)  # untracked build output
    expected = ["pkg/build/tests/build_integration_test.py", "tests/test_plain.py"]
    assert dump(root, tmp_path) == expected  # the work tree as it is on disk
    assert dump(root, tmp_path, "main") == expected  # git objects: every file is tracked
    # The repository's own norecursedirs apply to tracked files too.
    (root / "pytest.toml").write_text('[pytest]\nnorecursedirs = ["pkg/build"]\n')
    git(root, "add", "pytest.toml")
    git(root, "commit", "-q", "-m", "config")
    assert dump(root, tmp_path, "main") == ["tests/test_plain.py"]
    assert dump(root, tmp_path) == ["build/test_generated.py", "tests/test_plain.py"]
