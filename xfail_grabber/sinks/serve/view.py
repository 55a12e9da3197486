"""What the server hands out for one snapshot, rendered once when the snapshot lands.

Requests only slice and join bytes prepared here, so a 10,000-record snapshot costs a
request microseconds, not a re-serialisation; the rendering happens in the refresher thread.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from ...model import MutedTest, Snapshot, iso
from ..formats import (
    redash_dynamic_result,
    render_csv,
    render_json,
    render_redash,
    to_json_text,
)

# Bodies smaller than this are not worth compressing.
GZIP_MIN_BYTES = 1024


@dataclass(frozen=True)
class Body:
    """A rendered response body, its gzip form (when it pays off) and its ETag."""

    data: bytes
    gzipped: bytes | None
    etag: str

    @classmethod
    def of(cls, data: bytes) -> Body:
        gzipped = (
            gzip.compress(data, compresslevel=6, mtime=0) if len(data) >= GZIP_MIN_BYTES else None
        )
        if gzipped is not None and len(gzipped) >= len(data):
            gzipped = None
        return cls(data, gzipped, '"' + hashlib.sha256(data).hexdigest()[:32] + '"')


@dataclass(frozen=True)
class Columns:
    """The filterable fields, one tuple per field (filters scan these, not the records)."""

    by_kind: dict[str, tuple[int, ...]]
    category: tuple[str, ...]
    ticket: tuple[str, ...]  # casefolded; "" when there is none
    path: tuple[str, ...]
    since: tuple[date | None, ...]
    owners: tuple[frozenset[str], ...] = ()  # casefolded
    ticket_status: tuple[str | None, ...] = ()
    stale: tuple[bool, ...] = ()
    age_days: tuple[int | None, ...] = ()

    @classmethod
    def of(cls, records: Sequence[MutedTest]) -> Columns:
        by_kind: dict[str, list[int]] = {}
        for i, r in enumerate(records):
            by_kind.setdefault(r.kind, []).append(i)
        return cls(
            by_kind={k: tuple(v) for k, v in by_kind.items()},
            category=tuple(r.category for r in records),
            ticket=tuple((r.ticket or "").casefold() for r in records),
            path=tuple(r.path for r in records),
            since=tuple(since_date(r.since) for r in records),
            owners=tuple(frozenset(o.casefold() for o in r.owners) for r in records),
            ticket_status=tuple(r.ticket_status for r in records),
            stale=tuple(bool(r.stale) for r in records),
            age_days=tuple(r.age_days for r in records),
        )


@dataclass(frozen=True)
class View:
    """One snapshot with every full-size body pre-rendered."""

    snapshot: Snapshot
    record_json: tuple[bytes, ...]  # compact JSON of each record, in snapshot order
    snapshot_body: Body
    redash_body: Body
    csv_body: Body
    trend_body: Body
    dynamic_body: Body  # the snapshot's dynamic mute sites, a JSON list
    redash_dynamic_body: Body  # the same in Redash's query-result shape
    columns: Columns
    sort_ranks: dict[tuple[str, bool], tuple[int, ...]] = field(default_factory=dict)

    @classmethod
    def build(cls, snapshot: Snapshot, trend: Sequence[Mapping[str, Any]]) -> View:
        return cls(
            snapshot=snapshot,
            record_json=tuple(compact(r.to_dict()) for r in snapshot.muted),
            snapshot_body=Body.of(render_json(snapshot).encode()),
            redash_body=Body.of(render_redash(snapshot).encode()),
            csv_body=Body.of(render_csv(snapshot).encode()),
            trend_body=Body.of(compact({"days": list(trend)})),
            dynamic_body=Body.of(compact([d.to_dict() for d in snapshot.dynamic])),
            redash_dynamic_body=Body.of(to_json_text(redash_dynamic_result(snapshot)).encode()),
            columns=Columns.of(snapshot.muted),
        )

    def rank(self, field: str, descending: bool) -> tuple[int, ...]:
        """The sort order by one field, computed on first use and kept."""
        key = (field, descending)
        found = self.sort_ranks.get(key)
        if found is None:
            found = self.sort_ranks[key] = ranks(self.snapshot.muted, field, descending)
        return found

    def header(self) -> dict[str, Any]:
        s = self.snapshot
        return {
            "repo": s.repo,
            "branch": s.branch,
            "commit": s.commit,
            "scanned_at": iso(s.scanned_at),
        }


def compact(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


class QueryError(ValueError):
    """A query parameter the API does not accept; the message says which and why."""


FILTER_PARAMS = (
    "kind",
    "category",
    "ticket",
    "has_ticket",
    "path",
    "older_than",
    "owner",
    "stale",
    "ticket_status",
    "min_age",
)
TICKET_STATUSES = ("open", "closed", "unknown")
PAGE_PARAMS = ("limit", "offset", "sort")
SORT_FIELDS = (
    "nodeid",
    "path",
    "line",
    "kind",
    "category",
    "ticket",
    "since",
    "marker",
    "age_days",
    "ticket_status",
)
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_VALUE_LENGTH = 1000


@dataclass(frozen=True)
class Filters:
    kinds: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    ticket: str | None = None
    has_ticket: bool | None = None
    path: str | None = None
    older_than: int | None = None
    owner: str | None = None  # casefolded
    stale: bool | None = None
    ticket_statuses: frozenset[str] = frozenset()
    min_age: int | None = None

    def active(self) -> bool:
        return self != Filters()


@dataclass(frozen=True)
class Page:
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    sort: str | None = None
    descending: bool = False


def since_date(text: str | None) -> date | None:
    """The date a `since=` value names ("2019-01-15", "2019-01-15T10:00Z"), else None."""
    if not text or len(text) < 10:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def _values(params: Sequence[tuple[str, str]], name: str) -> list[str]:
    found: list[str] = []
    for key, value in params:
        if key == name:
            if len(value) > MAX_VALUE_LENGTH:
                raise QueryError(f"{name}: value longer than {MAX_VALUE_LENGTH} characters")
            found.extend(v.strip() for v in value.split(",") if v.strip())
    return found


def _single(params: Sequence[tuple[str, str]], name: str) -> str | None:
    values = [v for k, v in params if k == name]
    if len(values) > 1:
        raise QueryError(f"{name}: give it once")
    if values and len(values[0]) > MAX_VALUE_LENGTH:
        raise QueryError(f"{name}: value longer than {MAX_VALUE_LENGTH} characters")
    return values[0] if values else None


def _integer(params: Sequence[tuple[str, str]], name: str, low: int, high: int) -> int | None:
    text = _single(params, name)
    if text is None:
        return None
    if not text.isascii() or not text.isdigit():
        raise QueryError(f"{name}: expected a whole number from {low} to {high}, got {text!r}")
    value = int(text)
    if not low <= value <= high:
        raise QueryError(f"{name}: expected a whole number from {low} to {high}, got {value}")
    return value


def parse_query(params: Sequence[tuple[str, str]], *, paged: bool) -> tuple[Filters, Page]:
    """Check and read the query string of /api/muted (paged) or /redash and /muted.csv."""
    allowed = FILTER_PARAMS + (PAGE_PARAMS if paged else ())
    unknown = sorted({k for k, _ in params} - set(allowed))
    if unknown:
        raise QueryError(f"unknown parameter {unknown[0]!r}; known: {', '.join(allowed)}")
    has_ticket_text = _single(params, "has_ticket")
    if has_ticket_text not in (None, "true", "false"):
        raise QueryError(f"has_ticket: expected true or false, got {has_ticket_text!r}")
    stale_text = _single(params, "stale")
    if stale_text not in (None, "true", "false"):
        raise QueryError(f"stale: expected true or false, got {stale_text!r}")
    statuses = frozenset(_values(params, "ticket_status"))
    if statuses - set(TICKET_STATUSES):
        wrong = sorted(statuses - set(TICKET_STATUSES))[0]
        raise QueryError(f"ticket_status: expected {', '.join(TICKET_STATUSES)}, got {wrong!r}")
    owner = _single(params, "owner")
    ticket = _single(params, "ticket")
    filters = Filters(
        kinds=frozenset(_values(params, "kind")),
        categories=frozenset(_values(params, "category")),
        ticket=ticket.strip().casefold() if ticket is not None else None,
        has_ticket=None if has_ticket_text is None else has_ticket_text == "true",
        path=_single(params, "path"),
        older_than=_integer(params, "older_than", 0, 100_000),
        owner=owner.strip().casefold() if owner is not None else None,
        stale=None if stale_text is None else stale_text == "true",
        ticket_statuses=statuses,
        min_age=_integer(params, "min_age", 0, 100_000),
    )
    if not paged:
        return filters, Page()
    sort = _single(params, "sort")
    descending = False
    if sort is not None:
        descending = sort.startswith("-")
        sort = sort.removeprefix("-")
        if sort not in SORT_FIELDS:
            raise QueryError(f"sort: expected one of {', '.join(SORT_FIELDS)} (- for descending)")
    limit = _integer(params, "limit", 1, MAX_LIMIT)
    offset = _integer(params, "offset", 0, 10**9)
    page = Page(
        limit=DEFAULT_LIMIT if limit is None else limit,
        offset=offset or 0,
        sort=sort,
        descending=descending,
    )
    return filters, page


def ranks(records: Sequence[MutedTest], field: str, descending: bool) -> tuple[int, ...]:
    """rank[i]: where record i goes when sorted by `field`; records without it go last."""
    present = [i for i, r in enumerate(records) if getattr(r, field) is not None]
    absent = [i for i, r in enumerate(records) if getattr(r, field) is None]
    present.sort(key=lambda i: (getattr(records[i], field), records[i].nodeid), reverse=descending)
    absent.sort(key=lambda i: records[i].nodeid)
    rank = [0] * len(records)
    for position, i in enumerate(present + absent):
        rank[i] = position
    return tuple(rank)


def select(view: View, filters: Filters, today: date) -> list[int]:
    """Indexes of the records that pass the filters, in snapshot order."""
    c = view.columns
    if filters.kinds:
        chosen = sorted(i for k in filters.kinds for i in c.by_kind.get(k, ()))
    else:
        chosen = list(range(len(view.snapshot.muted)))
    if filters.categories:
        categories = filters.categories
        chosen = [i for i in chosen if c.category[i] in categories]
    if filters.ticket is not None:
        ticket = filters.ticket
        chosen = [i for i in chosen if c.ticket[i] == ticket]
    if filters.has_ticket is not None:
        wanted = filters.has_ticket
        chosen = [i for i in chosen if bool(c.ticket[i]) is wanted]
    if filters.path is not None:
        prefix = filters.path
        chosen = [i for i in chosen if c.path[i].startswith(prefix)]
    if filters.older_than is not None:
        cutoff = today - timedelta(days=filters.older_than)
        chosen = [i for i in chosen if (d := c.since[i]) is not None and d <= cutoff]
    if filters.owner is not None:
        owner = filters.owner
        chosen = [i for i in chosen if owner in c.owners[i]]
    if filters.stale is not None:
        wanted_stale = filters.stale
        chosen = [i for i in chosen if c.stale[i] is wanted_stale]
    if filters.ticket_statuses:
        statuses = filters.ticket_statuses
        chosen = [i for i in chosen if c.ticket_status[i] in statuses]
    if filters.min_age is not None:
        least = filters.min_age
        chosen = [i for i in chosen if (a := c.age_days[i]) is not None and a >= least]
    return chosen


def muted_page(view: View, filters: Filters, page: Page, today: date) -> bytes:
    """The /api/muted body: one page of the filtered records, as JSON bytes."""
    indexes = select(view, filters, today)
    if page.sort is not None:
        indexes.sort(key=view.rank(page.sort, page.descending).__getitem__)
    chosen = indexes[page.offset : page.offset + page.limit]
    end = page.offset + len(chosen)
    head = {
        **view.header(),
        "total": len(indexes),
        "offset": page.offset,
        "limit": page.limit,
        "next_offset": end if end < len(indexes) else None,
    }
    records = b",".join(view.record_json[i] for i in chosen)
    return compact(head)[:-1] + b',"muted":[' + records + b"]}"


def filtered_snapshot(view: View, filters: Filters, today: date) -> Snapshot:
    records = view.snapshot.muted
    return dataclasses.replace(
        view.snapshot, muted=tuple(records[i] for i in select(view, filters, today))
    )
