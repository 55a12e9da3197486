"""def_path in every dump format: the file of `line` (the def) for a test method inherited
from a base class in another file, next to `line` in JSON and CSV, a Redash column, valid
against the JSON Schema, and absent from records written before it existed."""

from __future__ import annotations

import csv
import io
import json

import jsonschema

from tests.records import muted, snapshot_of
from xfail_grabber.model import RECORD_COLUMNS, MutedTest, Snapshot, snapshot_schema
from xfail_grabber.sinks.formats import (
    REDASH_COLUMNS,
    render_csv,
    render_json,
    render_jsonl,
    render_redash,
)

BASES = "tests/bases.py"


def record(test: str, line: int = 14, **changes: object) -> MutedTest:
    return muted(test, line=line, **changes)


def snapshot() -> Snapshot:
    return snapshot_of(
        record("TestA::test_inherited", def_path=BASES, mark_path=BASES),
        record("TestA::test_own", line=7),
    )


def test_json_places_def_path_after_line_and_validates() -> None:
    data = json.loads(render_json(snapshot()))
    jsonschema.validate(data, snapshot_schema())
    assert [r["def_path"] for r in data["muted"]] == [BASES, None]
    assert list(data["muted"][0])[3:5] == ["line", "def_path"]
    assert Snapshot.from_dict(data) == snapshot()
    assert [json.loads(line)["def_path"] for line in render_jsonl(snapshot()).splitlines()] == [
        BASES,
        None,
    ]


def test_a_record_written_before_def_path_still_loads() -> None:
    old = json.loads(render_json(snapshot()))
    for r in old["muted"]:
        del r["def_path"]
    jsonschema.validate(old, snapshot_schema())  # optional in the schema
    loaded = Snapshot.from_dict(old)
    assert [r.def_path for r in loaded.muted] == [None, None]


def test_def_path_cannot_be_empty() -> None:
    data = json.loads(render_json(snapshot()))
    data["muted"][0]["def_path"] = ""
    try:
        jsonschema.validate(data, snapshot_schema())
    except jsonschema.ValidationError as exc:
        assert list(exc.absolute_path) == ["muted", 0, "def_path"]
    else:
        raise AssertionError("an empty def_path validated")


def test_csv_and_redash_columns() -> None:
    assert RECORD_COLUMNS.index("def_path") == RECORD_COLUMNS.index("line") + 1
    rows = list(csv.DictReader(io.StringIO(render_csv(snapshot()), newline="")))
    assert [(r["test"], r["line"], r["def_path"]) for r in rows] == [
        ("TestA::test_inherited", "14", BASES),
        ("TestA::test_own", "7", ""),
    ]
    names = [c[0] for c in REDASH_COLUMNS]
    assert names.index("def_path") == names.index("line") + 1
    redash = json.loads(render_redash(snapshot()))
    assert ("def_path", "string") in [(c["name"], c["type"]) for c in redash["columns"]]
    assert [r["def_path"] for r in redash["rows"]] == [BASES, None]
