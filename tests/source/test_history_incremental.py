"""History updates each commit's scan from the previous one: it must equal a fresh scan.

Every test walks a real repository with `scan_history` and compares each point with an
independent full scan of the same commit (no cache), and checks the records that matter.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from xfail_grabber.config import Settings
from xfail_grabber.core import snapshot_of
from xfail_grabber.history import HistoryProgress, scan_history
from xfail_grabber.model import Snapshot
from xfail_grabber.source.open import open_git, open_source
from xfail_grabber.source.treediff import BlobSizes, tree_diff

from .gitutil import commit, git, init_repo
from .test_history import count_scans

HELPERS = 'import pytest\n\nflaky_net = pytest.mark.{mark}(reason="{reason}")\n'
USER = "from {module} import flaky_net\n\n\n@flaky_net\ndef test_net():\n    pass\n"


def days(root: Path) -> list[datetime]:
    """A moment just after each commit of main, oldest first."""
    stamps = git(root, "log", "--reverse", "--format=%ct").split()
    return [datetime.fromtimestamp(int(s), UTC) + timedelta(seconds=1) for s in stamps]


def history(root: Path, cache: Path) -> list[Snapshot]:
    found = scan_history(open_git(str(root)), "main", days(root), Settings(), cache_dir=cache)
    return [snapshot for _, snapshot in found]


def fresh(root: Path, sha: str) -> Snapshot:
    with open_source(str(root), "main", sha) as checkout:
        return snapshot_of(checkout, Settings(), cache=None)


def same_as_fresh_scans(root: Path, snapshots: list[Snapshot]) -> None:
    for snapshot in snapshots:
        assert snapshot.commit is not None
        other = fresh(root, snapshot.commit)
        assert [r.to_dict() for r in snapshot.muted] == [r.to_dict() for r in other.muted]
        assert snapshot.errors == other.errors
        assert snapshot.files_scanned == other.files_scanned


def kinds(snapshot: Snapshot) -> list[tuple[str, str, str | None]]:
    return [(r.nodeid, r.kind, r.reason) for r in snapshot.muted]


def test_tree_diff_reports_changes_renames_and_deletes(tmp_path: Path) -> None:
    root = init_repo(tmp_path / "r")
    body = "def test_a():\n    assert 1 == 1\n" * 20
    one = commit(root, {"a/test_x.py": body, "a/test_y.py": "y = 1\n", "doc.md": "d\n"})
    git(root, "mv", "a", "b")
    two = commit(root, {"b/test_y.py": None, "c/test_z.py": "z = 1\n", "doc.md": "e\n"})
    changes = {c.path: c for c in tree_diff(root / ".git", one, two)}
    assert set(changes) == {"b/test_x.py", "a/test_y.py", "c/test_z.py", "doc.md"}
    moved = changes["b/test_x.py"]
    assert (moved.status, moved.old_path, moved.score) == ("R", "a/test_x.py", 100)
    assert moved.old_blob == moved.new_blob == git(root, "rev-parse", f"{two}:b/test_x.py")
    assert (changes["a/test_y.py"].status, changes["a/test_y.py"].new_blob) == ("D", None)
    added = changes["c/test_z.py"]
    assert (added.status, added.old_path, added.old_blob) == ("A", None, None)
    assert changes["doc.md"].status == "M"
    plain = {c.path: c.status for c in tree_diff(root / ".git", one, two, renames=False)}
    assert (plain["a/test_x.py"], plain["b/test_x.py"]) == ("D", "A")
    sizes = BlobSizes(root / ".git")
    try:
        blob = added.new_blob
        assert blob is not None
        assert sizes.get([blob, "0" * 40]) == {blob: 6}  # the missing id is left out
        assert sizes.get([blob, moved.new_blob or ""]) == {blob: 6, moved.new_blob: len(body)}
    finally:
        sizes.close()


def test_a_changed_alias_changes_records_of_unchanged_importers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = init_repo(tmp_path / "alias")
    user = USER.format(module=".helpers")
    commit(
        root,
        {
            "tests/__init__.py": "",
            "tests/helpers.py": HELPERS.format(mark="xfail", reason="net down"),
            "tests/test_net.py": user,
            "tests/test_other.py": user,
        },
        date="2024-01-01T12:00:00Z",
    )
    helper = "tests/helpers.py"
    commit(
        root, {helper: HELPERS.format(mark="skip", reason="no net")}, date="2024-01-02T12:00:00Z"
    )
    commit(root, {helper: "import pytest\n"}, date="2024-01-03T12:00:00Z")  # alias gone
    commit(root, {helper: HELPERS.format(mark="xfail", reason="back")}, date="2024-01-04T12:00:00Z")
    scans = count_scans(monkeypatch)
    snapshots = history(root, tmp_path / "cache")
    assert scans == [4, 1, 1, 1]  # after the first commit, only helpers.py is read
    assert [kinds(s) for s in snapshots] == [
        [
            ("tests/test_net.py::test_net", "xfail", "net down"),
            ("tests/test_other.py::test_net", "xfail", "net down"),
        ],
        [
            ("tests/test_net.py::test_net", "skip", "no net"),
            ("tests/test_other.py::test_net", "skip", "no net"),
        ],
        [],
        [
            ("tests/test_net.py::test_net", "xfail", "back"),
            ("tests/test_other.py::test_net", "xfail", "back"),
        ],
    ]
    same_as_fresh_scans(root, snapshots)


def test_moves_renames_and_deletes(tmp_path: Path) -> None:
    """A moved package's relative import reaches another helpers module; a renamed file
    keeps its records under its new path; a deleted helpers module takes its marks along;
    a module added nearer an absolute import than the one it found takes over."""
    root = init_repo(tmp_path / "moves")
    mute = 'import pytest\n\n\n@pytest.mark.xfail(reason="r")\ndef test_m():\n    pass\n'
    commit(
        root,
        {
            "tests/__init__.py": "",
            "tests/helpers.py": HELPERS.format(mark="xfail", reason="top"),
            "tests/a/__init__.py": "",
            "tests/a/helpers.py": HELPERS.format(mark="xfail", reason="from a"),
            "tests/a/sub/__init__.py": "",
            "tests/a/sub/test_user.py": USER.format(module="..helpers"),
            "tests/b/__init__.py": "",
            "tests/b/helpers.py": HELPERS.format(mark="skip", reason="from b"),
            "tests/b/test_mute.py": mute,
            "tests/b/test_gone.py": mute,
            "tests/c/__init__.py": "",
            "tests/c/test_abs.py": USER.format(module="helpers"),
        },
        date="2024-02-01T12:00:00Z",
    )
    git(root, "mv", "tests/a/sub", "tests/b/sub")
    git(root, "mv", "tests/b/test_mute.py", "tests/b/test_renamed.py")
    commit(root, {"tests/b/test_gone.py": None}, date="2024-02-02T12:00:00Z")
    commit(root, {"tests/b/helpers.py": None}, date="2024-02-03T12:00:00Z")
    nearest = {"tests/c/helpers.py": HELPERS.format(mark="xfail", reason="nearest")}
    commit(root, nearest, date="2024-02-04T12:00:00Z")
    commit(root, {"tests/c/helpers.py": None}, date="2024-02-05T12:00:00Z")
    snapshots = history(root, tmp_path / "cache")
    renamed = ("tests/b/test_renamed.py::test_m", "xfail", "r")
    top = ("tests/c/test_abs.py::test_net", "xfail", "top")
    assert [kinds(s) for s in snapshots] == [
        [
            ("tests/a/sub/test_user.py::test_net", "xfail", "from a"),
            ("tests/b/test_gone.py::test_m", "xfail", "r"),
            ("tests/b/test_mute.py::test_m", "xfail", "r"),
            top,
        ],
        [("tests/b/sub/test_user.py::test_net", "skip", "from b"), renamed, top],
        [renamed, top],
        [renamed, ("tests/c/test_abs.py::test_net", "xfail", "nearest")],
        [renamed, top],
    ]
    same_as_fresh_scans(root, snapshots)


def test_a_base_class_changed_in_another_file(tmp_path: Path) -> None:
    """Records of an unchanged test class follow its base class in another file (pass 3
    parses the base's file for the class name; the link follows the import)."""
    root = init_repo(tmp_path / "bases")
    base = "import pytest\n\n\nclass Checks:\n{body}"
    plain = "    def test_base(self):\n        pass\n"
    marked = '    @pytest.mark.xfail(reason="base")\n' + plain
    derived = (
        "import pytest\n\nfrom tests.base_checks import Checks\n\n\n"
        '@pytest.mark.skip(reason="derived")\nclass TestDerived(Checks):\n    pass\n'
    )
    files = {
        "tests/__init__.py": "",
        "tests/base_checks.py": base.format(body=plain),
        "tests/test_derived.py": derived,
    }
    commit(root, files, date="2024-03-01T12:00:00Z")
    commit(root, {"tests/base_checks.py": base.format(body=marked)}, date="2024-03-02T12:00:00Z")
    other = {"tests/base_checks.py": None, "tests/checks2.py": base.format(body=marked)}
    commit(root, other, date="2024-03-03T12:00:00Z")
    snapshots = history(root, tmp_path / "cache")
    test = "tests/test_derived.py::TestDerived::test_base"
    assert [kinds(s) for s in snapshots] == [
        [(test, "skip", "derived")],
        [(test, "xfail", "base"), (test, "skip", "derived")],  # by mark line
        [],  # the base is gone: pytest would fail to import, and the scan finds no test
    ]
    same_as_fresh_scans(root, snapshots)


def test_a_class_without_marker_words_inherits_marks_from_another_file(tmp_path: Path) -> None:
    """Pass 2: a test module that names no mark, whose class inherits marked tests from a base
    in another file (directly and through a chain), has their records as soon as the base has
    a mark, and loses them when it is gone (a file with a class of the same name of its own
    stays without records)."""
    root = init_repo(tmp_path / "plain")
    base = "import pytest\n\n\nclass Base:\n{body}"
    plain = "    def test_base(self):\n        pass\n"
    marked = '    @pytest.mark.xfail(reason="base")\n' + plain
    files = {
        "tests/__init__.py": "",
        "tests/bases.py": base.format(body=plain),
        "tests/middle.py": "from tests.bases import Base\n\n\nclass Middle(Base):\n    pass\n",
        "tests/test_derived.py": "from tests.bases import Base\n\n\nclass TestA(Base):\n    pass\n",
        "tests/test_chain.py": (
            "from tests import middle\n\n\nclass TestB(middle.Middle):\n    pass\n"
        ),
        "tests/test_same_name.py": "class Base:\n    pass\n\n\nclass TestC(Base):\n    pass\n",
    }
    commit(root, files, date="2024-03-01T12:00:00Z")
    commit(root, {"tests/bases.py": base.format(body=marked)}, date="2024-03-02T12:00:00Z")
    commit(root, {"tests/bases.py": base.format(body=plain)}, date="2024-03-03T12:00:00Z")
    snapshots = history(root, tmp_path / "cache")
    assert [kinds(s) for s in snapshots] == [
        [],
        [
            ("tests/test_chain.py::TestB::test_base", "xfail", "base"),
            ("tests/test_derived.py::TestA::test_base", "xfail", "base"),
        ],
        [],
    ]
    same_as_fresh_scans(root, snapshots)


def test_a_new_alias_name_reaches_files_without_marker_words(tmp_path: Path) -> None:
    """Pass 2: a file that only names an alias is parsed once some file exports the name."""
    root = init_repo(tmp_path / "names")
    user = "from conftest_marks import needs_gpu\n\n\n@needs_gpu\ndef test_gpu():\n    pass\n"
    commit(
        root,
        {"tests/test_gpu.py": user, "tests/conftest_marks.py": "needs_gpu = object()\n"},
        date="2024-03-01T12:00:00Z",
    )
    marks = 'import pytest\n\nneeds_gpu = pytest.mark.skipif(True, reason="gpu")\n'
    commit(root, {"tests/conftest_marks.py": marks}, date="2024-03-02T12:00:00Z")
    commit(root, {"tests/conftest_marks.py": "needs_gpu = 1\n"}, date="2024-03-03T12:00:00Z")
    snapshots = history(root, tmp_path / "cache")
    assert [kinds(s) for s in snapshots] == [
        [],
        [("tests/test_gpu.py::test_gpu", "skipif", "gpu")],
        [],
    ]
    same_as_fresh_scans(root, snapshots)


def test_pytest_configuration_and_symlinks_scan_afresh(tmp_path: Path) -> None:
    root = init_repo(tmp_path / "config")
    mute = 'import pytest\n\n\n@pytest.mark.skip(reason="s")\ndef test_s():\n    pass\n'
    commit(
        root, {"tests/check_one.py": mute, "tests/test_two.py": mute}, date="2024-04-01T12:00:00Z"
    )
    commit(
        root, {"pytest.ini": "[pytest]\npython_files = check_*.py\n"}, date="2024-04-02T12:00:00Z"
    )
    commit(root, {"tests/test_three.py": mute}, date="2024-04-03T12:00:00Z")
    (root / "tests" / "check_link.py").symlink_to("test_two.py")
    (root / "tests" / "check_bad.py").symlink_to("missing.py")
    commit(root, {}, date="2024-04-04T12:00:00Z")
    commit(
        root, {"tests/test_two.py": None}, date="2024-04-05T12:00:00Z"
    )  # check_link.py now dangles
    snapshots = history(root, tmp_path / "cache")
    assert [len(s.muted) for s in snapshots] == [1, 1, 1, 1, 1]
    assert [s.muted[0].path for s in snapshots] == ["tests/test_two.py"] + [
        "tests/check_one.py"
    ] * 4
    assert [e.path for e in snapshots[-1].errors] == ["tests/check_bad.py", "tests/check_link.py"]
    same_as_fresh_scans(root, snapshots)


def test_progress_counts_points_commits_and_parsed_files(tmp_path: Path) -> None:
    root = init_repo(tmp_path / "progress")
    mute = 'import pytest\n\n\n@pytest.mark.skip(reason="{}")\ndef test_s():\n    pass\n'
    commit(
        root,
        {"tests/test_a.py": mute.format(1), "tests/test_b.py": "x = 1\n"},
        date="2024-05-01T12:00:00Z",
    )
    commit(root, {"README": "docs only\n"}, date="2024-05-02T12:00:00Z")
    commit(root, {"tests/test_a.py": mute.format(2)}, date="2024-05-03T12:00:00Z")
    seen: list[tuple[int, int, int, int]] = []

    def note(state: HistoryProgress) -> None:
        seen.append((state.points, state.done, state.commits, state.parsed))
        assert (state.eta() is None) == (state.done == 0)

    moments = days(root)
    repo = open_git(str(root))
    found = list(
        scan_history(repo, "main", moments, Settings(), cache_dir=tmp_path / "c", progress=note)
    )
    assert len(found) == 3
    # The docs-only commit is not scanned again; test_b.py has no marker word: never parsed.
    assert seen == [(3, 0, 0, 0), (3, 1, 1, 1), (3, 2, 1, 1), (3, 3, 2, 2)]
