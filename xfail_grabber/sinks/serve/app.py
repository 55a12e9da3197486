"""The HTTP app (Starlette): routes over a DataState, behind the Guard.

Every route answers from the view in memory. Until the first snapshot lands, data routes answer
503 with a message saying so; a request never waits for a clone or a scan.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from ...__about__ import __version__
from ...model import utc_now
from ..formats import render_csv, render_redash
from .guard import Guard
from .metrics import CONTENT_TYPE as METRICS_TYPE
from .metrics import health, render_metrics
from .state import DataState
from .stored import History, StoredRoutes
from .view import (
    Body,
    Filters,
    Page,
    QueryError,
    View,
    compact,
    filtered_snapshot,
    muted_page,
    parse_query,
)

JSON = "application/json"
CSV = "text/csv; charset=utf-8"
# How often the page asks /healthz whether a new snapshot landed.
POLL_SECONDS = 10
SLICE_BYTES = 64 * 1024


class SharedBodyResponse(Response):
    """A prepared body (shared by every request) sent in slices of the one bytes object.

    Starlette would hand the whole body to uvicorn at once, which copies it into the
    connection's write buffer: 200 clients that ask for a 10 MB snapshot and never read held
    gigabytes. Slices are views, not copies, and uvicorn waits for the client to drain each
    (flow control), so a client holds at most a slice and its socket buffers.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        data = memoryview(self.body)
        if scope.get("method") == "HEAD" or len(data) <= SLICE_BYTES:
            await send({"type": "http.response.body", "body": bytes(data)})
            return
        for start in range(0, len(data), SLICE_BYTES):
            end = start + SLICE_BYTES
            await send(
                {
                    "type": "http.response.body",
                    "body": data[start:end],
                    "more_body": end < len(data),
                }
            )


def load_static() -> dict[str, tuple[Body, str]]:
    """The dashboard's files, read once from the package: a fixed set, so no path can escape."""
    found: dict[str, tuple[Body, str]] = {}
    folder = resources.files("xfail_grabber.sinks.serve").joinpath("static")
    for entry in folder.iterdir():
        if entry.is_file() and not entry.name.startswith("."):
            kind = mimetypes.guess_type(entry.name)[0] or "application/octet-stream"
            if kind.startswith("text/") or kind.endswith("javascript"):
                kind += "; charset=utf-8"
            found[entry.name] = (Body.of(entry.read_bytes()), kind)
    return found


def send(request: Request, body: Body, media_type: str, **headers: str) -> Response:
    """A prepared body: 304 when the ETag matches, gzip when the client takes it."""
    common = {"etag": body.etag, "cache-control": "no-cache", "vary": "accept-encoding", **headers}
    if body.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=common)
    if body.gzipped is not None and "gzip" in request.headers.get("accept-encoding", ""):
        return SharedBodyResponse(
            body.gzipped, media_type=media_type, headers={**common, "content-encoding": "gzip"}
        )
    return SharedBodyResponse(body.data, media_type=media_type, headers=common)


def error(status: int, message: str, **headers: str) -> JSONResponse:
    return JSONResponse(
        {"error": message}, status_code=status, headers={"cache-control": "no-store", **headers}
    )


def create_app(
    state: DataState,
    *,
    token: str | None = None,
    on_refresh: Callable[[], None] | None = None,
    info: dict[str, Any] | None = None,
    history: History | None = None,
    hosts: frozenset[str] | None = None,
) -> ASGIApp:
    """The whole server as an ASGI app. `on_refresh` runs for POST /refresh (default: a refresh
    in a worker thread); `info` is extra data for the dashboard (/api/info); `history` reads
    stored snapshots for the drill-down and comparison routes; `hosts` the names a Host header
    may carry (None: any; see guard.allowed_hosts)."""
    static = load_static()
    about = {"tool": "xfail-grabber", "version": __version__, "poll_seconds": POLL_SECONDS}
    info_body = Body.of(compact({**about, **(info or {})}))

    def current() -> View:
        view = state.view
        if view is not None:
            return view
        if state.status.last_error:
            message = (
                f"no snapshot yet: the last attempt failed ({state.status.last_error}); retrying"
            )
        else:
            message = "no snapshot yet: the first scan is running in the background; retry shortly"
        raise HTTPException(503, message, headers={"retry-after": "5"})

    def query(request: Request, *, paged: bool) -> tuple[Filters, Page]:
        try:
            return parse_query(request.query_params.multi_items(), paged=paged)
        except QueryError as exc:
            raise HTTPException(400, str(exc)) from None

    async def index(request: Request) -> Response:
        body, kind = static["index.html"]
        return send(request, body, kind)

    async def static_file(request: Request) -> Response:
        found = static.get(request.path_params["name"])
        if found is None:
            raise HTTPException(404, "no such file")
        return send(request, *found)

    async def redash(request: Request) -> Response:
        view = current()
        filters, _ = query(request, paged=False)
        if not filters.active():
            return send(request, view.redash_body, JSON)
        subset = filtered_snapshot(view, filters, utc_now().date())
        text = await run_in_threadpool(render_redash, subset)
        return Response(text, media_type=JSON, headers={"cache-control": "no-cache"})

    async def muted_csv(request: Request) -> Response:
        view = current()
        filters, _ = query(request, paged=False)
        disposition = {"content-disposition": 'attachment; filename="muted.csv"'}
        if not filters.active():
            return send(request, view.csv_body, CSV, **disposition)
        subset = filtered_snapshot(view, filters, utc_now().date())
        text = await run_in_threadpool(render_csv, subset)
        return Response(text, media_type=CSV, headers={"cache-control": "no-cache", **disposition})

    async def api_snapshot(request: Request) -> Response:
        return send(request, current().snapshot_body, JSON)

    async def api_dynamic(request: Request) -> Response:
        return send(request, current().dynamic_body, JSON)

    async def redash_dynamic(request: Request) -> Response:
        return send(request, current().redash_dynamic_body, JSON)

    async def api_muted(request: Request) -> Response:
        view = current()
        filters, page = query(request, paged=True)
        body = muted_page(view, filters, page, utc_now().date())
        return Response(body, media_type=JSON, headers={"cache-control": "no-cache"})

    async def api_trend(request: Request) -> Response:
        view = current()
        other = await stored.trend(request, view)
        return other if other is not None else send(request, view.trend_body, JSON)

    async def api_info(request: Request) -> Response:
        return send(request, info_body, JSON)

    async def healthz(request: Request) -> Response:
        status, body = health(state)
        return JSONResponse(body, status_code=status, headers={"cache-control": "no-store"})

    async def metrics(request: Request) -> Response:
        return Response(
            render_metrics(state), media_type=METRICS_TYPE, headers={"cache-control": "no-store"}
        )

    async def refresh(request: Request) -> Response:
        if on_refresh is not None:
            on_refresh()
        else:
            await run_in_threadpool(state.refresh)
        return JSONResponse({"status": "refresh requested"}, status_code=202)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return error(exc.status_code, exc.detail, **(exc.headers or {}))

    async def query_error(request: Request, exc: Exception) -> Response:
        return error(400, str(exc))

    stored = StoredRoutes(current, history)

    routes = [
        Route("/", index),
        Route("/static/{name}", static_file),
        Route("/redash", redash),
        Route("/redash/dynamic", redash_dynamic),
        Route("/muted.csv", muted_csv),
        Route("/api/snapshot", api_snapshot),
        Route("/api/muted", api_muted),
        Route("/api/dynamic", api_dynamic),
        Route("/api/trend", api_trend),
        Route("/api/targets", stored.targets),
        Route("/api/day", stored.day),
        Route("/api/compare", stored.compare),
        Route("/api/info", api_info),
        Route("/healthz", healthz),
        Route("/metrics", metrics),
        Route("/refresh", refresh, methods=["POST"]),
    ]
    handlers = {HTTPException: http_error, QueryError: query_error}
    app = Starlette(routes=routes, exception_handlers=handlers)
    return Guard(app, token, hosts)
