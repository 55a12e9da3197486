"""The records everything else passes around: MutedTest, ScanError, Snapshot.

These are the contracts of DESIGN.md; their `to_dict()` forms are what users see
(JSON keys, database columns, API fields). Change them only on purpose.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .__about__ import __version__

SCHEMA_VERSION = 2
TOOL_NAME = "xfail-grabber"

KINDS_BUILTIN = ("xfail", "skip", "skipif", "flaky")
CATEGORIES = ("muted", "conditional", "retry")
SCOPES = ("function", "class", "module", "param", "body", "setup")

JsonValue = Any


@dataclass(frozen=True)
class FirstSeen:
    """The commit that wrote a mark's line, as `git blame` tells it (see enrich/blame.py)."""

    commit: str
    date: datetime
    author: str

    def to_dict(self) -> dict[str, JsonValue]:
        return {"commit": self.commit, "date": iso(self.date), "author": self.author}

    @classmethod
    def from_dict(cls, data: dict[str, JsonValue]) -> FirstSeen:
        moment = parse_iso(data["date"])
        assert moment is not None
        return cls(str(data["commit"]), moment, str(data["author"]))


@dataclass(frozen=True)
class MutedTest:
    """One muting mark on one test (a test with two marks gives two records)."""

    nodeid: str
    mark_line: int
    kind: str
    marker: str
    path: str
    test: str
    line: int
    scope: str
    category: str
    ticket: str | None = None
    reason: str | None = None
    since: str | None = None
    strict: bool | None = None
    condition: str | None = None
    # (key, value) pairs, sorted by key; values are JSON scalars or source text.
    kwargs: tuple[tuple[str, JsonValue], ...] = ()
    parser: str = "libcst"
    # Schema 2: a marked `pytest.param` value (index in its parametrize, pytest's id or None
    # when it cannot be known), how many collected items the record covers (None: unknown),
    # a link for the ticket, and whether `reason` is source text rather than a literal.
    param_index: int | None = None
    param_id: str | None = None
    cases: int | None = None
    ticket_url: str | None = None
    reason_is_source: bool = False
    # Enrichment (enrich/): CODEOWNERS owners of the path; with --blame the commit that wrote
    # the mark's line, its age and whether `since` disagrees; with --tickets the ticket's
    # status and title, and stale when the ticket is closed but the mute is still there.
    owners: tuple[str, ...] = ()
    first_seen: FirstSeen | None = None
    age_days: int | None = None
    since_mismatch: bool | None = None
    ticket_status: str | None = None
    ticket_title: str | None = None
    stale: bool | None = None
    # The file holding `mark_line` when it is not `path`: a mark inherited from a base class
    # defined in another file (None: the mark is in `path`).
    mark_path: str | None = None
    # The file holding `line` (the test function's def) when it is not `path`: a test method
    # inherited from a base class defined in another file (None: the def is in `path`).
    def_path: str | None = None

    def sort_key(self) -> tuple[str, int, str, str, str]:
        return (self.nodeid, self.mark_line, self.kind, self.marker, self.scope)

    def to_dict(self) -> dict[str, JsonValue]:
        return {
            "nodeid": self.nodeid,
            "path": self.path,
            "test": self.test,
            "line": self.line,
            "def_path": self.def_path,
            "mark_line": self.mark_line,
            "mark_path": self.mark_path,
            "kind": self.kind,
            "marker": self.marker,
            "scope": self.scope,
            "category": self.category,
            "ticket": self.ticket,
            "reason": self.reason,
            "since": self.since,
            "strict": self.strict,
            "condition": self.condition,
            "kwargs": dict(self.kwargs),
            "parser": self.parser,
            "param_index": self.param_index,
            "param_id": self.param_id,
            "cases": self.cases,
            "ticket_url": self.ticket_url,
            "reason_is_source": self.reason_is_source,
            "owners": list(self.owners),
            "first_seen": self.first_seen.to_dict() if self.first_seen else None,
            "age_days": self.age_days,
            "since_mismatch": self.since_mismatch,
            "ticket_status": self.ticket_status,
            "ticket_title": self.ticket_title,
            "stale": self.stale,
        }

    @classmethod
    def from_dict(cls, data: dict[str, JsonValue]) -> MutedTest:
        values = dict(data)
        values["kwargs"] = tuple(sorted((values.get("kwargs") or {}).items()))
        values["owners"] = tuple(values.get("owners") or ())
        if values.get("first_seen"):
            values["first_seen"] = FirstSeen.from_dict(values["first_seen"])
        return cls(**values)


RECORD_FIELDS = tuple(MutedTest.__dataclass_fields__)
# The order users see (JSON key order, CSV columns, table columns).
RECORD_COLUMNS = tuple(MutedTest("", 0, "", "", "", "", 0, "", "").to_dict())


@dataclass(frozen=True, order=True)
class ScanError:
    """A file that could not be read or parsed at all, and why."""

    path: str
    error: str

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "error": self.error}


def utc_now() -> datetime:
    """Now, or SOURCE_DATE_EPOCH when set, so that output can be reproduced byte for byte."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return datetime.fromtimestamp(int(epoch), UTC)
    return datetime.now(UTC).replace(microsecond=0)


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_iso(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


@dataclass(frozen=True, order=True)
class DynamicSite:
    """`item.add_marker(...)` in a hook or fixture: which tests it mutes is known only when
    pytest runs, so the snapshot lists the site instead of silently under-counting."""

    path: str
    line: int
    marker: str  # the mark's name when it is written there, else the argument's source
    hook: str  # the hook or fixture function holding the call

    def to_dict(self) -> dict[str, JsonValue]:
        return {"path": self.path, "line": self.line, "marker": self.marker, "hook": self.hook}


@dataclass(frozen=True)
class Snapshot:
    """The muted tests of one repository at one commit, scanned at one time."""

    repo: str
    branch: str | None
    commit: str | None
    committed_at: datetime | None
    scanned_at: datetime
    markers: tuple[str, ...]
    muted: tuple[MutedTest, ...]
    errors: tuple[ScanError, ...] = ()
    files_scanned: int = 0
    tool_version: str = __version__
    extra: dict[str, JsonValue] = field(default_factory=dict, compare=False)
    dynamic: tuple[DynamicSite, ...] = ()

    def counts(self) -> dict[str, JsonValue]:
        return {
            "total": len(self.muted),
            "tests": len({r.nodeid for r in self.muted}),
            "files": len({r.path for r in self.muted}),
            "files_scanned": self.files_scanned,
            "errors": len(self.errors),
            "by_kind": dict(sorted(Counter(r.kind for r in self.muted).items())),
            "by_category": dict(sorted(Counter(r.category for r in self.muted).items())),
            # Not in the other counts: which tests a hook mutes is known only at run time.
            "dynamic": len(self.dynamic),
        }

    def to_dict(self) -> dict[str, JsonValue]:
        return {
            "schema_version": SCHEMA_VERSION,
            "repo": self.repo,
            "branch": self.branch,
            "commit": self.commit,
            "committed_at": iso(self.committed_at),
            "scanned_at": iso(self.scanned_at),
            "tool": {"name": TOOL_NAME, "version": self.tool_version},
            "markers": list(self.markers),
            "counts": self.counts(),
            "muted": [r.to_dict() for r in self.muted],
            "errors": [e.to_dict() for e in self.errors],
            "dynamic": [d.to_dict() for d in self.dynamic],
        }

    @classmethod
    def from_dict(cls, data: dict[str, JsonValue]) -> Snapshot:
        scanned_at = parse_iso(data["scanned_at"])
        assert scanned_at is not None
        return cls(
            repo=data["repo"],
            branch=data.get("branch"),
            commit=data.get("commit"),
            committed_at=parse_iso(data.get("committed_at")),
            scanned_at=scanned_at,
            markers=tuple(data.get("markers") or ()),
            muted=tuple(MutedTest.from_dict(r) for r in data.get("muted") or ()),
            errors=tuple(ScanError(**e) for e in data.get("errors") or ()),
            files_scanned=(data.get("counts") or {}).get("files_scanned", 0),
            tool_version=(data.get("tool") or {}).get("version", __version__),
            dynamic=tuple(DynamicSite(**d) for d in data.get("dynamic") or ()),
        )


def snapshot_schema() -> dict[str, Any]:
    """The JSON Schema of `Snapshot.to_dict()` (ships in the package)."""
    import json
    from importlib import resources

    text = resources.files("xfail_grabber").joinpath("schema/snapshot.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema
