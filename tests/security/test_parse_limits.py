"""Hostile repository content: one file must not crash, hang or exhaust the scan (issue 9,
items 2 and 3). Each scan runs in a bounded child (tests/security/bounded.py)."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from xfail_grabber.config import Settings
from xfail_grabber.scan.file import MAX_LIBCST_DEPTH, scan_bytes

from .bounded import run_grabber, serving, wait_for

PEAK_MB = 400
AND_CHAIN = "@pytest.mark.skipif({}, reason='d')\n".format(" and ".join(["x"] * 10_000))


def write_tests(root: Path, body: str, name: str = "test_hostile.py") -> Path:
    (root / "tests").mkdir(parents=True, exist_ok=True)
    (root / "tests" / name).write_text("import pytest\n\n" + body + "def test_a():\n    pass\n")
    return root


def records(stdout: bytes) -> list[tuple[str, str, str]]:
    snapshot = json.loads(stdout)
    return [(r["nodeid"], r["kind"], r["parser"]) for r in snapshot["muted"]]


# -- item 2: a file that crashed libcst's native parser ----------------------------------------


def test_a_10000_term_and_chain_is_read_by_the_fallback_in_dump(tmp_path: Path) -> None:
    repo = write_tests(tmp_path / "repo", AND_CHAIN)
    done = run_grabber("-v", "dump", str(repo), "--workers", "1")
    assert done.returncode == 0, done.err[-2000:]  # was -11 (SIGSEGV), nothing printed
    assert records(done.stdout) == [("tests/test_hostile.py::test_a", "skipif", "regex")]
    assert "nested too deeply for libcst" in done.err
    assert "read with the regex fallback" in done.err


def test_the_and_chain_in_push_and_serve(tmp_path: Path) -> None:
    repo = write_tests(tmp_path / "repo", AND_CHAIN)
    database = tmp_path / "grabber.db"
    pushed = run_grabber("push", str(repo), "--db", f"sqlite:///{database}", "--workers", "1")
    assert pushed.returncode == 0, pushed.err[-2000:]
    with sqlite3.connect(database) as conn:
        tables = [r[0] for r in conn.execute("select name from sqlite_master where type='table'")]
        table = next(t for t in tables if "muted" in t)
        assert conn.execute(f"select count(*) from {table}").fetchone() == (1,)
    with serving(repo, "--workers", "1") as served:
        body = wait_for(served.port, "/api/snapshot")
    assert records(body) == [("tests/test_hostile.py::test_a", "skipif", "regex")]


def test_depth_counts_each_boolean_operator_as_libcst_nests_them() -> None:
    under = " and ".join(["x"] * (MAX_LIBCST_DEPTH // 2))
    over = " and ".join(["x"] * (MAX_LIBCST_DEPTH + 1))
    for condition, parser in ((under, "libcst"), (over, "regex")):
        mark = f"@pytest.mark.skipif({condition}, reason='d')"
        source = f"import pytest\n{mark}\ndef test_a(): pass\n"
        facts = scan_bytes("test_x.py", source.encode(), Settings(), True)
        assert [(r.test, r.condition == condition, r.parser) for r in facts.records] == [
            ("test_a", parser == "libcst", parser)
        ]


# -- item 3: memory and time ----------------------------------------------------------------------


@pytest.mark.parametrize("megabytes", [10, 30])
def test_a_huge_string_literal(tmp_path: Path, megabytes: int) -> None:
    reason = "x" * megabytes * 1_000_000
    repo = write_tests(tmp_path / "repo", f"@pytest.mark.skip(reason='{reason}')\n")
    done = run_grabber("dump", str(repo), "--workers", "1")
    assert done.returncode == 0, done.err[-2000:]
    assert done.peak_mb < PEAK_MB, done.peak_mb  # was 1.75 GB (the fallback's regex backtracked)
    (record,) = json.loads(done.stdout)["muted"]
    assert (record["parser"], len(record["reason"])) == ("regex", len(reason))


def test_a_long_bare_word_in_a_call_is_linear_in_the_fallback(tmp_path: Path) -> None:
    # A Python 2 file (so: the fallback) whose mark holds a 2 MB name: the keyword pattern
    # used to try every position of the word to its end (quadratic: hours).
    word = "y" * 2_000_000
    repo = write_tests(tmp_path / "repo", f"print 'py2'\n@pytest.mark.skip({word})\n")
    done = run_grabber("dump", str(repo), "--workers", "1", timeout=120)
    assert done.returncode == 0, done.err[-2000:]
    assert records(done.stdout) == [("tests/test_hostile.py::test_a", "skip", "regex")]


def test_a_2_mb_pytestmark_list(tmp_path: Path) -> None:
    ones = ", ".join(["1"] * 700_000)
    repo = write_tests(tmp_path / "repo", f"pytestmark = [pytest.mark.skip] + [{ones}]\n")
    done = run_grabber("-v", "dump", str(repo), "--workers", "1", timeout=120)
    assert done.returncode == 0, done.err[-2000:]
    assert done.peak_mb < PEAK_MB, done.peak_mb  # was 4.7 GB and 71 s
    assert records(done.stdout) == [("tests/test_hostile.py::test_a", "skip", "regex")]
    assert "tokens to parse" in done.err


def test_a_file_over_the_size_cap_is_listed_unread(tmp_path: Path) -> None:
    repo = write_tests(tmp_path / "repo", "# " + "z" * (33 * 1024 * 1024) + "\n")
    done = run_grabber("dump", str(repo))
    assert done.returncode == 0, done.err[-2000:]
    snapshot = json.loads(done.stdout)
    assert snapshot["errors"] == [
        {"path": "tests/test_hostile.py", "error": "larger than 32 MB; not scanned"}
    ]


def test_pytest_ini_linked_to_dev_zero_is_ignored(tmp_path: Path) -> None:
    repo = write_tests(tmp_path / "repo", "@pytest.mark.skip\n")
    (repo / "pytest.ini").symlink_to("/dev/zero")
    done = run_grabber("dump", str(repo), timeout=60)
    assert done.returncode == 0, done.err[-2000:]  # was a MemoryError after reading gigabytes
    assert done.peak_mb < PEAK_MB
    assert records(done.stdout) == [("tests/test_hostile.py::test_a", "skip", "libcst")]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_named_tox_ini_does_not_block(tmp_path: Path) -> None:
    repo = write_tests(tmp_path / "repo", "@pytest.mark.skip\n")
    os.mkfifo(repo / "tox.ini")
    done = run_grabber("dump", str(repo), timeout=30)  # was: blocked forever on open()
    assert done.returncode == 0, done.err[-2000:]
    assert records(done.stdout) == [("tests/test_hostile.py::test_a", "skip", "libcst")]


def test_config_files_over_the_cap_are_ignored(tmp_path: Path) -> None:
    repo = write_tests(tmp_path / "repo", "@pytest.mark.skip\n", name="check_me.py")
    (repo / "pytest.ini").write_text("[pytest]\npython_files = check_*.py\n")
    done = run_grabber("dump", str(repo))
    assert records(done.stdout) == [("tests/check_me.py::test_a", "skip", "libcst")]
    with (repo / "pytest.ini").open("a") as ini:
        ini.write("# " + "p" * (1024 * 1024) + "\n")
    done = run_grabber("dump", str(repo))
    assert records(done.stdout) == []  # pytest's defaults: check_me.py is no test file


def test_libcst_is_given_a_bounded_number_of_nodes() -> None:
    ones = ", ".join(["1"] * 50_000)  # under the token cap of ast, over libcst's node budget
    source = f"import pytest\npytestmark = [pytest.mark.skip, {ones}]\ndef test_a(): pass\n"
    facts = scan_bytes("test_x.py", source.encode(), Settings(), True)
    assert [(r.test, r.kind, r.parser) for r in facts.records] == [("test_a", "skip", "regex")]
    assert facts.note == "too large for libcst (over 40000 syntax nodes)"
