"""grabber diff: added, removed and changed mutes, renames followed, exit 3 on request."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xfail_grabber.cli import main

from .gitutil import commit, git, init_repo


def module_text(*tests: tuple[str, str, str]) -> str:
    body = ["import pytest", ""]
    for name, mark, reason in tests:
        body += [f'@pytest.mark.{mark}(reason="{reason}")', f"def test_{name}():", "    pass", ""]
    return "\n".join(body)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = init_repo(tmp_path / "repo")
    commit(
        root,
        {
            "tests/test_keep.py": module_text(("same", "xfail", "r"), ("edit", "xfail", "old")),
            "tests/test_gone.py": module_text(("gone", "skip", "bye")),
            "tests/test_moved.py": module_text(("moved", "xfail", "m")) + "\n# padding\n" * 20,
        },
    )
    git(root, "branch", "base")
    git(root, "mv", "tests/test_moved.py", "tests/test_renamed.py")
    commit(
        root,
        {
            "tests/test_keep.py": module_text(("same", "xfail", "r"), ("edit", "xfail", "new")),
            "tests/test_gone.py": None,
            "tests/test_new.py": module_text(("new", "skip", "ABC-1 broken")),
        },
    )
    return root


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_json(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "diff", str(repo), "base", "main", "--cache-dir", str(tmp_path / "c")
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["counts"] == {"added": 1, "removed": 1, "changed": 1}
    assert [r["nodeid"] for r in data["added"]] == ["tests/test_new.py::test_new"]
    assert data["added"][0]["ticket"] == "ABC-1"
    assert [r["nodeid"] for r in data["removed"]] == ["tests/test_gone.py::test_gone"]
    assert data["changed"] == [
        {
            "nodeid": "tests/test_keep.py::test_edit",
            "fields": ["reason"],
            "before": {
                "kind": "xfail",
                "ticket": None,
                "reason": "old",
                "since": None,
                "strict": None,
                "nodeid": "tests/test_keep.py::test_edit",
                "line": 8,
                "def_path": None,
            },
            "after": {
                "kind": "xfail",
                "ticket": None,
                "reason": "new",
                "since": None,
                "strict": None,
                "nodeid": "tests/test_keep.py::test_edit",
                "line": 8,
                "def_path": None,
            },
        }
    ]
    assert data["renamed"] == {"tests/test_moved.py": "tests/test_renamed.py"}
    assert data["base"]["commit"] == git(repo, "rev-parse", "base")


def test_markdown_and_fail_on_added(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys,
        "diff",
        str(repo),
        "base",
        "main",
        "--format",
        "markdown",
        "--fail-on-added",
        "--cache-dir",
        str(tmp_path / "c"),
    )
    assert code == 3
    assert out.startswith(
        "### Muted tests: base → main\n\n**1** added, **1** removed, **1** changed (4 → 4 muted).\n"
    )
    assert "| `tests/test_new.py::test_new` | skip | ABC-1 | ABC-1 broken |" in out
    assert "| `tests/test_keep.py::test_edit` | reason | old | new |" in out.splitlines()
    # No mutes added the other way round: exit 0.
    code, _, _ = run(
        capsys,
        "diff",
        str(repo),
        "main",
        "main",
        "--fail-on-added",
        "--cache-dir",
        str(tmp_path / "c"),
    )
    assert code == 0


BASES = (
    "import pytest\n\n\nclass Base:\n"
    '    @pytest.mark.xfail(reason="{}")\n    def test_base(self):\n        pass\n'
)
DERIVED = (
    "import pytest\n\nfrom tests.bases import Base\n\n\nclass TestA(Base):\n"
    "    @pytest.mark.skip\n    def test_own(self):\n        pass\n"
)


def test_a_changed_inherited_test_is_located_in_its_base_s_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """TestA inherits test_base from tests/bases.py: its `line` is the def there, so the
    change names that file too (def_path), in json and in markdown."""
    root = init_repo(tmp_path / "repo")
    files = {"tests/__init__.py": "", "tests/test_derived.py": DERIVED}
    commit(root, {**files, "tests/bases.py": BASES.format("old")})
    git(root, "branch", "base")
    commit(root, {"tests/bases.py": "\n\n" + BASES.format("new")})  # the def moves down two
    cache = str(tmp_path / "c")
    code, out, err = run(capsys, "diff", str(root), "base", "main", "--cache-dir", cache)
    assert code == 0, err
    [change] = json.loads(out)["changed"]
    assert change["nodeid"] == "tests/test_derived.py::TestA::test_base"
    before, after = change["before"], change["after"]
    assert (before["def_path"], before["line"]) == ("tests/bases.py", 6)
    assert (after["def_path"], after["line"]) == ("tests/bases.py", 8)
    code, out, err = run(
        capsys, "diff", str(root), "base", "main", "--format", "markdown", "--cache-dir", cache
    )
    assert code == 0, err
    assert (
        "| `tests/test_derived.py::TestA::test_base` (`tests/bases.py:8`) | reason | old | new |"
        in out.splitlines()
    )


def test_unknown_ref(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "diff", str(repo), "nope", "main")
    assert (code, out, err) == (1, "", "Error: unknown ref: nope\n")
