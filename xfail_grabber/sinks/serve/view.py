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
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from ...model import MutedTest, Snapshot, iso
from ..formats import render_csv, render_json, render_redash

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
class View:
    """One snapshot with every full-size body pre-rendered."""

    snapshot: Snapshot
    record_json: tuple[bytes, ...]  # compact JSON of each record, in snapshot order
    snapshot_body: Body
    redash_body: Body
    csv_body: Body
    trend_body: Body

    @classmethod
    def build(cls, snapshot: Snapshot, trend: Sequence[Mapping[str, Any]]) -> View:
        return cls(
            snapshot=snapshot,
            record_json=tuple(compact(r.to_dict()) for r in snapshot.muted),
            snapshot_body=Body.of(render_json(snapshot).encode()),
            redash_body=Body.of(render_redash(snapshot).encode()),
            csv_body=Body.of(render_csv(snapshot).encode()),
            trend_body=Body.of(compact({"days": list(trend)})),
        )

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


FILTER_PARAMS = ("kind", "category", "ticket", "has_ticket", "path", "older_than")
PAGE_PARAMS = ("limit", "offset", "sort")
SORT_FIELDS = ("nodeid", "path", "line", "kind", "category", "ticket", "since", "marker")
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

    def active(self) -> bool:
        return self != Filters()

    def matches(self, record: MutedTest, today: date) -> bool:
        if self.kinds and record.kind not in self.kinds:
            return False
        if self.categories and record.category not in self.categories:
            return False
        if self.ticket is not None and (record.ticket or "").casefold() != self.ticket:
            return False
        if self.has_ticket is not None and bool(record.ticket) != self.has_ticket:
            return False
        if self.path is not None and not record.path.startswith(self.path):
            return False
        if self.older_than is not None:
            since = since_date(record.since)
            if since is None or since > today - timedelta(days=self.older_than):
                return False
        return True


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
    ticket = _single(params, "ticket")
    filters = Filters(
        kinds=frozenset(_values(params, "kind")),
        categories=frozenset(_values(params, "category")),
        ticket=ticket.strip().casefold() if ticket is not None else None,
        has_ticket=None if has_ticket_text is None else has_ticket_text == "true",
        path=_single(params, "path"),
        older_than=_integer(params, "older_than", 0, 100_000),
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


def _sort_key(field: str) -> Any:
    def key(pair: tuple[int, MutedTest]) -> tuple[bool, Any, str]:
        value = getattr(pair[1], field)
        # Records without the value sort last either way; nodeid breaks ties.
        return (value is None, value if value is not None else "", pair[1].nodeid)

    return key


def select(view: View, filters: Filters, today: date) -> list[int]:
    """Indexes of the records that pass the filters, in snapshot order."""
    records = view.snapshot.muted
    if not filters.active():
        return list(range(len(records)))
    return [i for i, r in enumerate(records) if filters.matches(r, today)]


def muted_page(view: View, filters: Filters, page: Page, today: date) -> bytes:
    """The /api/muted body: one page of the filtered records, as JSON bytes."""
    indexes = select(view, filters, today)
    if page.sort is not None:
        pairs = sorted(
            ((i, view.snapshot.muted[i]) for i in indexes),
            key=_sort_key(page.sort),
            reverse=page.descending,
        )
        indexes = [i for i, _ in pairs]
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
