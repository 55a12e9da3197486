"""Routes over stored snapshots: the repositories and branches a database holds, the muted
tests of any stored day, and the comparison of two days ("387 skipped, up from 386: which?").

The current view answers for its own repository, branch and day; everything else is read from
the database (`serve --db`) in a worker thread. Without a database only the current snapshot
can be shown, and the routes say so.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from ...model import Snapshot, iso
from ..formats import render_json
from .view import QueryError, View, compact

JSON = "application/json"
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_VALUE_LENGTH = 4096


class History(Protocol):
    """What the routes read from stored snapshots."""

    def targets(self) -> list[dict[str, Any]]: ...

    def snapshot(self, repo: str, branch: str | None, day: str | None) -> Snapshot | None: ...

    def trend(self, repo: str, branch: str | None) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class DbHistory:
    """History from a database URL (the db sink is imported only when used)."""

    url: str

    def targets(self) -> list[dict[str, Any]]:
        from ..db import targets

        return targets(self.url)

    def snapshot(self, repo: str, branch: str | None, day: str | None) -> Snapshot | None:
        from ..db import latest_snapshot, snapshot_on

        if day is None:
            return latest_snapshot(self.url, repo, branch or "")
        return snapshot_on(self.url, repo, branch, day)

    def trend(self, repo: str, branch: str | None) -> list[dict[str, Any]]:
        from ..db import trend

        return trend(self.url, repo, branch or "")


@dataclass(frozen=True)
class Where:
    """The repository, branch and day a request asks about (day None: the latest)."""

    repo: str
    branch: str | None
    day: str | None = None

    def label(self) -> str:
        return self.repo + (f"@{self.branch}" if self.branch else "")


def _params(request: Request, allowed: Sequence[str]) -> dict[str, str]:
    items = request.query_params.multi_items()
    found: dict[str, str] = {}
    for key, value in items:
        if key not in allowed:
            raise QueryError(f"unknown parameter {key!r}; known: {', '.join(allowed)}")
        if key in found:
            raise QueryError(f"{key}: give it once")
        if len(value) > MAX_VALUE_LENGTH:
            raise QueryError(f"{key}: value longer than {MAX_VALUE_LENGTH} characters")
        found[key] = value
    return found


def _day(name: str, text: str | None) -> str | None:
    if text is None:
        return None
    if not DAY.fullmatch(text):
        raise QueryError(f"{name}: expected a day as YYYY-MM-DD, got {text!r}")
    try:
        date.fromisoformat(text)
    except ValueError:
        raise QueryError(f"{name}: no such day: {text}") from None
    return text


def _where(view: View, params: dict[str, str], day: str | None) -> Where:
    if "branch" in params and "repo" not in params:
        raise QueryError("branch: give repo too")
    repo = params.get("repo", view.snapshot.repo)
    branch = params.get("branch", view.snapshot.branch if "repo" not in params else None)
    return Where(repo, branch or None, day)


def _is_current(view: View, where: Where) -> bool:
    s = view.snapshot
    same_target = (where.repo, where.branch) == (s.repo, s.branch)
    return same_target and where.day in (None, s.scanned_at.date().isoformat())


class StoredRoutes:
    """The handlers; `current()` gives the current view or raises the 503 that says why."""

    def __init__(self, current: Any, history: History | None) -> None:
        self.current = current
        self.history = history

    async def load(self, view: View, where: Where) -> Snapshot:
        if _is_current(view, where):
            return view.snapshot
        if self.history is None:
            raise HTTPException(
                404, f"only the current snapshot is held; serve with --db to read {_what(where)}"
            )
        history = self.history
        found = await run_in_threadpool(history.snapshot, where.repo, where.branch, where.day)
        if found is None:
            raise HTTPException(404, f"no snapshot stored for {_what(where)}")
        return found

    async def targets(self, request: Request) -> Response:
        view = self.current()
        _params(request, ())
        stored = await run_in_threadpool(self.history.targets) if self.history else []
        s = view.snapshot
        mine = {"repo": s.repo, "branch": s.branch}
        listed = [dict(t, current=(t["repo"], t["branch"]) == (s.repo, s.branch)) for t in stored]
        if not any(t["current"] for t in listed):
            day = s.scanned_at.date().isoformat()
            listed.append({**mine, "days": 1, "first_day": day, "last_day": day, "current": True})
        listed.sort(key=lambda t: (t["repo"], t["branch"] or ""))
        return Response(compact({"targets": listed}), media_type=JSON, headers=_no_cache())

    async def day(self, request: Request) -> Response:
        view = self.current()
        params = _params(request, ("day", "repo", "branch"))
        where = _where(view, params, _day("day", params.get("day")))
        snapshot = await self.load(view, where)
        if snapshot is view.snapshot:
            body = view.snapshot_body.data
        else:
            body = (await run_in_threadpool(render_json, snapshot)).encode()
        return Response(body, media_type=JSON, headers=_no_cache())

    async def compare(self, request: Request) -> Response:
        from ...diff import compare

        view = self.current()
        params = _params(request, ("from", "to", "repo", "branch"))
        days = [_day(name, params.get(name)) for name in ("from", "to")]
        if days[0] is None or days[1] is None:
            raise QueryError("give both days: from=YYYY-MM-DD&to=YYYY-MM-DD")
        base = await self.load(view, _where(view, params, days[0]))
        head = await self.load(view, _where(view, params, days[1]))
        result = compare(base, head).to_dict()
        body = {
            "repo": head.repo,
            "branch": head.branch,
            "from": _side(days[0], base),
            "to": _side(days[1], head),
            **{k: result[k] for k in ("counts", "added", "removed", "changed")},
        }
        return Response(compact(body), media_type=JSON, headers=_no_cache())

    async def trend(self, request: Request, view: View) -> Response | None:
        """The trend of another repository or branch; None: the current one (the caller
        answers with its prepared body)."""
        params = _params(request, ("repo", "branch"))
        where = _where(view, params, None)
        if _is_current(view, where):
            return None
        if self.history is None:
            raise HTTPException(404, f"no stored trend for {where.label()} without --db")
        history = self.history
        days = await run_in_threadpool(history.trend, where.repo, where.branch)
        return Response(compact({"days": days}), media_type=JSON, headers=_no_cache())


def _what(where: Where) -> str:
    return f"{where.label()} on {where.day}" if where.day else where.label()


def _side(day: str, snapshot: Snapshot) -> dict[str, Any]:
    return {
        "day": day,
        "commit": snapshot.commit,
        "scanned_at": iso(snapshot.scanned_at),
        "total": len(snapshot.muted),
        "dynamic": [d.to_dict() for d in snapshot.dynamic],
    }


def _no_cache() -> dict[str, str]:
    return {"cache-control": "no-cache"}
