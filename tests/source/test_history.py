"""grabber history: points, first-parent commits at or before them, JSONL and --db."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from xfail_grabber.cli import main
from xfail_grabber.history import HistoryError, parse_moment, points

from .gitutil import commit, git, init_repo


def mute(name: str, reason: str = "flaky") -> str:
    return f'import pytest\n\n@pytest.mark.xfail(reason="{reason}")\ndef test_{name}():\n    pass\n'


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def dated(tmp_path: Path) -> Path:
    """main: commits on Jan 5, 10, 20 and 28; a merged side branch dated Jan 15."""
    root = init_repo(tmp_path / "dated")
    commit(root, {"tests/test_a.py": mute("a")}, date="2024-01-05T12:00:00Z")
    commit(root, {"tests/test_b.py": mute("b")}, date="2024-01-10T12:00:00Z")
    git(root, "checkout", "-q", "-b", "side")
    commit(root, {"tests/test_side.py": mute("side")}, date="2024-01-15T12:00:00Z")
    git(root, "checkout", "-q", "main")
    commit(root, {"tests/test_c.py": mute("c")}, date="2024-01-20T12:00:00Z")
    git(root, "merge", "-q", "--no-ff", "side", "-m", "merge", date="2024-01-28T12:00:00Z")
    return root


def test_points() -> None:
    jan1 = parse_moment("2024-01-01")
    assert jan1 == datetime(2024, 1, 1, tzinfo=UTC)
    assert points(jan1, parse_moment("2024-01-15"), "week") == [
        datetime(2024, 1, d, tzinfo=UTC) for d in (1, 8, 15)
    ]
    assert len(points(jan1, parse_moment("2024-01-03T00:00:00+00:00"), "day")) == 3
    assert [
        p.day for p in points(parse_moment("2024-01-31"), parse_moment("2024-05-01"), "month")
    ] == [31, 29, 31, 30]
    assert len(points(jan1, parse_moment("2024-03-01"), "2w")) == 5
    with pytest.raises(HistoryError, match="not an interval"):
        points(jan1, jan1, "fortnight")
    # The last points of the calendar: the step after them does not exist, and that ends it.
    end = parse_moment("9999-12-31")
    assert points(parse_moment("9999-12-01"), end, "week")[-1].day == 29
    assert [p.day for p in points(parse_moment("9999-11-30"), end, "month")] == [30, 30]
    with pytest.raises(HistoryError, match="not a date"):
        parse_moment("yesterday")


def test_history_jsonl(dated: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys,
        "history",
        str(dated),
        "main",
        "--since",
        "2024-01-01",
        "--until",
        "2024-02-01",
        "--every",
        "week",
        "--cache-dir",
        str(tmp_path / "cache"),
    )
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    # Jan 1 has no commit yet; Jan 15 and 22 stand on the Jan 10 / Jan 20 first-parent
    # commits (the side branch commit of Jan 15 is not first-parent).
    assert [(r["scanned_at"][:10], r["committed_at"][:10], r["counts"]["total"]) for r in rows] == [
        ("2024-01-08", "2024-01-05", 1),
        ("2024-01-15", "2024-01-10", 2),
        ("2024-01-22", "2024-01-20", 3),
        ("2024-01-29", "2024-01-28", 4),
    ]
    assert {r["branch"] for r in rows} == {"main"}
    assert {r["repo"] for r in rows} == {str(dated)}


def test_identical_commits_scanned_once(
    dated: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:

    scanned = count_scans(monkeypatch)
    code, out, _ = run(
        capsys,
        "history",
        str(dated),
        "--since",
        "2024-01-21",
        "--until",
        "2024-01-27",
        "--every",
        "day",
        "--cache-dir",
        str(tmp_path / "c"),
    )
    assert code == 0
    assert len(out.splitlines()) == 7
    assert len(scanned) == 1


def test_history_into_database_skips_stored_points(
    dated: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("xfail_grabber.sinks.db")
    url = f"sqlite:///{tmp_path / 'm.db'}"
    argv = [
        "history",
        str(dated),
        "main",
        "--since",
        "2024-01-01",
        "--until",
        "2024-02-01",
        "--every",
        "week",
        "--cache-dir",
        str(tmp_path / "c"),
        "--db",
        url,
    ]
    code, out, err = run(capsys, "-v", *argv)
    assert (code, out) == (0, ""), err
    assert "stored 4 snapshots" in err
    code, out, err = run(capsys, "-v", *argv)
    assert (code, out) == (0, ""), err
    assert "stored 0 snapshots" in err
    from xfail_grabber.sinks.db import stored_keys

    assert len(stored_keys(url, str(dated), "main")) == 4


def test_shallow_clone_cannot_give_old_history(
    dated: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{dated}", str(shallow))
    code, out, err = run(
        capsys,
        "history",
        str(shallow),
        "--since",
        "2024-01-01",
        "--until",
        "2024-02-01",
        "--cache-dir",
        str(tmp_path / "c"),
    )
    assert (code, out) == (1, "")
    assert err == (
        f"Error: history before 2024-01-28 is not available: {shallow} is a "
        "shallow clone (fetch it with --unshallow)\n"
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--every", "fortnight"], "not an interval: 'fortnight'"),
        (["--every", "0d"], "not an interval: '0d'"),
        # Steps past the calendar were an OverflowError traceback with exit 1.
        (["--every", "99999999999999d"], "interval too long: '99999999999999d'"),
        (["--every", "3000000d"], "interval too long: '3000000d'"),
        (["--until", "2023-01-01"], "--since is after --until"),
        (["--since", "2999-01-01"], "--since is in the future"),
    ],
)
def test_bad_parameters(
    dated: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    code, out, err = run(capsys, "history", str(dated), "--since", "2024-01-01", *extra)
    assert (code, out) == (2, "")  # a usage error
    assert f"Error: {message}" in err


def test_history_matches_scans_of_each_commit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The batched warm-up must not change results, also where a mute comes from another file."""
    root = init_repo(tmp_path / "alias")
    alias = 'import pytest\n\nflaky_net = pytest.mark.xfailflake(jira="NET-{n}")\n'
    user = "from .marks import flaky_net\n\n\n@flaky_net\ndef test_x():\n    pass\n"
    commit(
        root,
        {
            "tests/__init__.py": "",
            "tests/marks.py": alias.format(n=1),
            "tests/test_x.py": user,
            "tests/test_y.py": mute("y"),
        },
        date="2024-01-01T12:00:00Z",
    )
    commit(root, {"tests/marks.py": alias.format(n=2)}, date="2024-01-02T12:00:00Z")
    commit(root, {"tests/test_y.py": mute("y", "other")}, date="2024-01-03T12:00:00Z")
    code, out, err = run(
        capsys,
        "history",
        str(root),
        "--since",
        "2024-01-01T13:00:00Z",
        "--until",
        "2024-01-03T13:00:00Z",
        "--every",
        "day",
        "--cache-dir",
        str(tmp_path / "shared"),
    )
    assert code == 0, err
    history = [json.loads(line) for line in out.splitlines()]
    assert len(history) == 3
    for n, point in enumerate(history):
        code, out, err = run(
            capsys,
            "dump",
            str(root),
            "main",
            "--ref",
            point["commit"],
            "--cache-dir",
            str(tmp_path / f"fresh-{n}"),
        )
        assert code == 0, err
        assert point["muted"] == json.loads(out)["muted"]
    assert [[(r["ticket"], r["reason"]) for r in p["muted"]] for p in history] == [
        [("NET-1", None), (None, "flaky")],
        [("NET-2", None), (None, "flaky")],  # only marks.py changed
        [("NET-2", None), (None, "other")],
    ]


def test_history_of_a_partial_clone_fetches_blobs_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from .httpgit import serve_git

    work = init_repo(tmp_path / "work")
    for day in range(1, 8):
        commit(
            work,
            {f"tests/test_{day}.py": mute(str(day)), "tests/test_1.py": mute("1", f"r{day}")},
            date=f"2024-01-0{day}T12:00:00Z",
        )
    root = tmp_path / "srv"
    root.mkdir()
    git(tmp_path, "clone", "-q", "--bare", str(work), str(root / "r.git"))
    git(root / "r.git", "config", "uploadpack.allowFilter", "true")
    git(root / "r.git", "config", "uploadpack.allowAnySHA1InWant", "true")
    monkeypatch.setenv("GITHUB_TOKEN", "tok")
    with serve_git(root, "tok") as server:
        code, out, err = run(
            capsys,
            "history",
            f"{server.url}/r.git",
            "--since",
            "2024-01-01T13:00:00Z",
            "--until",
            "2024-01-07T13:00:00Z",
            "--every",
            "day",
            "--cache-dir",
            str(tmp_path / "c"),
        )
        requests = [path for path, _ in server.requests]
    assert code == 0, err
    assert [json.loads(line)["counts"]["total"] for line in out.splitlines()] == list(range(1, 8))
    # clone: refs + pack; one batched blob fetch for all seven points: refs + pack.
    assert len(requests) <= 6, requests


def test_one_or_two_workers_give_the_same_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = init_repo(tmp_path / "long")
    for day in range(1, 19):
        commit(
            root,
            {f"tests/test_{day % 5}.py": mute(str(day % 5), f"day {day}")},
            date=f"2024-02-{day:02d}T12:00:00Z",
        )
    outputs = []
    for workers in ("1", "2"):
        code, out, err = run(
            capsys,
            "history",
            str(root),
            "--since",
            "2024-02-01",
            "--until",
            "2024-02-20",
            "--every",
            "day",
            "--workers",
            workers,
            "--cache-dir",
            str(tmp_path / f"c{workers}"),
        )
        assert code == 0, err
        outputs.append(out)
    assert outputs[0] == outputs[1]
    rows = [json.loads(line) for line in outputs[1].splitlines()]
    assert len(rows) == 19  # Feb 2 .. Feb 20
    assert rows[-1]["counts"]["total"] == 5
    assert [r["reason"] for r in rows[-1]["muted"]] == [
        "day 15",
        "day 16",
        "day 17",
        "day 18",
        "day 14",
    ]


def test_commits_with_the_same_python_files_are_scanned_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:

    root = init_repo(tmp_path / "docs")
    commit(root, {"tests/test_a.py": mute("a")}, date="2024-03-01T12:00:00Z")
    for day in (2, 3, 4):
        commit(root, {"README.md": f"day {day}\n"}, date=f"2024-03-0{day}T12:00:00Z")
    commit(root, {"tests/test_a.py": mute("a", "changed")}, date="2024-03-05T12:00:00Z")
    scanned = count_scans(monkeypatch)
    code, out, err = run(
        capsys,
        "history",
        str(root),
        "--since",
        "2024-03-01T13:00:00Z",
        "--until",
        "2024-03-05T13:00:00Z",
        "--every",
        "day",
        "--cache-dir",
        str(tmp_path / "c"),
    )
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    commits = git(root, "log", "--reverse", "--format=%H").split()
    assert [r["commit"] for r in rows] == commits
    assert [r["committed_at"][:10] for r in rows] == [f"2024-03-0{d}" for d in range(1, 6)]
    assert [r["muted"][0]["reason"] for r in rows] == ["flaky"] * 4 + ["changed"]
    assert scanned == [1, 1]  # the first commit in full, then the one file of the last


def count_scans(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The scans `history` computes (a full scan or an update), each as the number of files
    it read (wraps the real scan; nothing is faked)."""
    from xfail_grabber.scan.incremental import TreeScan

    scanned: list[int] = []
    real = TreeScan.update

    def counting(self, source, *, removed=(), added=(), **kwargs):  # type: ignore[no-untyped-def]
        added = list(added)
        scanned.append(len(added))
        return real(self, source, removed=removed, added=added, **kwargs)

    monkeypatch.setattr(TreeScan, "update", counting)
    return scanned
