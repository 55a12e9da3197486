"""Dynamic mute sites and mark_path in every dump format: counted apart in `counts`, listed in
markdown (rendered with GitHub's renderer, cmark-gfm), kept out of the one-row-per-record
formats, in the JSON Schema; the -v summary of `grabber dump` and push's line mention them."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import cmarkgfm
import jsonschema
import pytest

from tests.records import muted, snapshot_of
from tests.source.gitutil import commit, init_repo
from xfail_grabber.cli import main
from xfail_grabber.model import RECORD_COLUMNS, DynamicSite, MutedTest, Snapshot, snapshot_schema
from xfail_grabber.sinks.formats import (
    REDASH_COLUMNS,
    redash_dynamic_result,
    render_csv,
    render_json,
    render_jsonl,
    render_markdown,
    render_redash,
    summary,
)

FIXTURES = Path(__file__).parent / "fixtures"
HOSTILE_HOOK = "pytest_`x`|<b>y</b>*z*"
SITES = (
    DynamicSite("conftest.py", 8, "xfail", "pytest_collection_modifyitems"),
    DynamicSite("tests/a|b.py", 3, "marks[`k`] | <i>", HOSTILE_HOOK),
)


def record(test: str, line: int = 7, **changes: object) -> MutedTest:
    return muted(test, line=line, kind="skip", scope="class", **changes)


def snapshot(*, dynamic: tuple[DynamicSite, ...] = SITES, records: int = 2) -> Snapshot:
    found = (
        record("TestA::test_a", mark_path="tests/bases.py"),
        record("TestA::test_b", line=9, mark_line=6),
    )[:records]
    return snapshot_of(*found, markers=("skip",), dynamic=dynamic)


def test_counts_hold_the_sites_apart() -> None:
    counts = snapshot().counts()
    assert counts["dynamic"] == 2 and counts["total"] == 2 and counts["tests"] == 2
    assert snapshot(dynamic=()).counts()["dynamic"] == 0


def test_json_validates_and_round_trips() -> None:
    data = json.loads(render_json(snapshot()))
    jsonschema.validate(data, snapshot_schema())
    assert data["counts"]["dynamic"] == 2
    assert [r["mark_path"] for r in data["muted"]] == ["tests/bases.py", None]
    assert list(data["muted"][0])[3:7] == ["line", "def_path", "mark_line", "mark_path"]
    assert Snapshot.from_dict(data) == snapshot()
    old = dict(data["muted"][1])
    del old["mark_path"]  # a record written before the field existed
    assert MutedTest.from_dict(old).mark_path is None


def test_one_row_per_record_formats_hold_records_only() -> None:
    rows = list(csv.DictReader(io.StringIO(render_csv(snapshot()), newline="")))
    assert [(r["test"], r["mark_path"]) for r in rows] == [
        ("TestA::test_a", "tests/bases.py"),
        ("TestA::test_b", ""),
    ]
    assert "mark_path" in RECORD_COLUMNS
    assert len(render_jsonl(snapshot()).splitlines()) == 2
    redash = json.loads(render_redash(snapshot()))
    assert [c["name"] for c in redash["columns"]] == [c[0] for c in REDASH_COLUMNS]
    assert [r["mark_path"] for r in redash["rows"]] == ["tests/bases.py", None]


def test_redash_shape_of_the_sites() -> None:
    result = redash_dynamic_result(snapshot())
    assert [c["name"] for c in result["columns"]] == [
        "repo", "branch", "commit", "scanned_at", "path", "line", "marker", "hook",
    ]  # fmt: skip
    assert result["rows"][0] == {
        "repo": "https://github.com/org/repo",
        "branch": "main",
        "commit": "c" * 40,
        "scanned_at": "2026-11-29T00:00:00Z",
        "path": "conftest.py",
        "line": 8,
        "marker": "xfail",
        "hook": "pytest_collection_modifyitems",
    }
    assert redash_dynamic_result(snapshot(dynamic=()))["rows"] == []


def test_markdown_mentions_and_lists_the_sites() -> None:
    text = render_markdown(snapshot())
    assert text.splitlines()[2] == (
        "**2** muted (2 tests in 1 file; skip: 2); 2 dynamic mute sites (not counted)."
    )
    assert "| `conftest.py:8` | `xfail` | `pytest_collection_modifyitems` |" in text
    page = cmarkgfm.github_flavored_markdown_to_html(text)
    rows = re.findall(r"<tr>\s*<td>(.*?)</td>\s*<td>(.*?)</td>\s*<td>(.*?)</td>", page, re.S)
    assert rows[-1] == (
        "<code>tests/a|b.py:3</code>",
        "<code>marks[`k`] | &lt;i&gt;</code>",
        "<code>pytest_`x`|&lt;b&gt;y&lt;/b&gt;*z*</code>",
    )
    assert "<b>" not in page and "<i>" not in page


@pytest.mark.parametrize(
    ("records", "headline"),
    [(0, "No muted tests; 1 dynamic mute site (not counted)."), (1, "**1** muted")],
)
def test_markdown_headline_singular_and_empty(records: int, headline: str) -> None:
    text = render_markdown(snapshot(dynamic=SITES[:1], records=records))
    assert text.splitlines()[2].startswith(headline)
    assert "1 dynamic mute site: hooks and fixtures" in text


def test_no_sites_no_mention() -> None:
    text = render_markdown(snapshot(dynamic=()))
    assert "dynamic" not in text
    assert text.splitlines()[2] == "**2** muted (2 tests in 1 file; skip: 2)"
    assert render_markdown(snapshot(dynamic=(), records=0)).splitlines()[2] == "No muted tests."
    assert summary(snapshot(dynamic=())) == "2 muted (2 tests in 1 file; 0 files scanned)"


def test_dump_verbose_summary_and_push_line(tmp_path: Path, capsys) -> None:
    project = FIXTURES / "pytest_forms"
    cache = str(tmp_path / "cache")
    code = main(["dump", str(project), "-v", "--cache-dir", cache, "-o", str(tmp_path / "s.json")])
    err = capsys.readouterr().err
    assert code == 0, err
    assert re.search(
        r"^grabber: \d+ muted \(\d+ tests in \d+ files; \d+ files scanned\); "
        r"2 dynamic mute sites \(not counted\)$",
        err,
        re.M,
    ), err
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    assert main(["push", str(project), "--db", url, "--cache-dir", cache]) == 0
    err = capsys.readouterr().err
    assert err.rstrip().endswith("; 2 dynamic mute sites (not counted)"), err


def test_history_points_carry_their_sites(tmp_path: Path) -> None:
    from xfail_grabber.api import history

    repo = init_repo(tmp_path / "repo")
    files = {
        "tests/test_a.py": "import pytest\n\n@pytest.mark.skip\ndef test_a(): pass\n",
        "conftest.py": "import pytest\n\n\ndef pytest_collection_modifyitems(items):\n"
        "    for item in items:\n        item.add_marker(pytest.mark.xfail)\n",
    }
    commit(repo, files, "one", date="2024-01-02T12:00:00Z")
    points = list(
        history(repo, "main", since="2024-01-03", until="2024-01-04", every="day",
                cache_dir=tmp_path / "cache")
    )  # fmt: skip
    assert points and all(
        p.dynamic == (DynamicSite("conftest.py", 6, "xfail", "pytest_collection_modifyitems"),)
        for p in points
    )
