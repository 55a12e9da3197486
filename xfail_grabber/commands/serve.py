"""`grabber serve`: wire a snapshot source (a scan, or the database) into the HTTP server."""

from __future__ import annotations

import importlib
import ipaddress
import logging
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from ..model import Snapshot
from ..sinks.serve.state import SnapshotProvider, TrendProvider
from ..sinks.serve.stored import DbHistory
from ..source.remote import is_url
from .common import ScanArgs, VisibleFormatter, not_empty, ref_name, scan_options, user_errors

log = logging.getLogger("xfail_grabber.serve")

DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_REFRESH_SECONDS = 365 * 86400


def parse_duration(text: str) -> float:
    """ "90", "90s", "15m", "1h", "1d" -> seconds; 0 turns the periodic refresh off."""
    match = DURATION.match(text.lower())
    if not match:
        raise click.BadParameter(
            f"{text!r} is not a duration like 30s, 15m, 1h or 1d", param_hint="--refresh"
        )
    seconds = float(match.group(1)) * UNITS[match.group(2)]
    if seconds > MAX_REFRESH_SECONDS:
        # A wait this long overflows the refresh thread's timer (it died after one scan).
        raise click.BadParameter(f"{text!r} is longer than 365 days", param_hint="--refresh")
    return seconds


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _db_function(name: str) -> Any:
    try:
        module = importlib.import_module("xfail_grabber.sinks.db")
        return getattr(module, name)
    except (ImportError, AttributeError):
        raise click.ClickException(
            f"--db needs the database sink (xfail_grabber.sinks.db.{name}), not installed here"
        ) from None


def db_providers(
    url: str, repo: str | None, branch: str | None, read_snapshot: bool
) -> tuple[SnapshotProvider | None, TrendProvider]:
    latest = _db_function("latest_snapshot")
    trend = _db_function("trend")

    def stored() -> Snapshot | None:
        result: Snapshot | None = latest(url, repo=repo, branch=branch)
        return result

    def days(snapshot: Snapshot) -> Sequence[Mapping[str, Any]]:
        result: Sequence[Mapping[str, Any]] = trend(url, repo=snapshot.repo, branch=snapshot.branch)
        return result

    return (stored if read_snapshot else None), days


@click.command()
@click.argument("repository", required=False, callback=not_empty)
@click.argument("branch", required=False, callback=ref_name)
@scan_options
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (0.0.0.0 for every interface).",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8080,
    show_default=True,
    help="Port to listen on (0: any free port, printed on stderr).",
)
@click.option(
    "--refresh",
    "refresh_text",
    default="1h",
    show_default=True,
    metavar="DURATION",
    help="Scan again this often (30s, 15m, 1h, 1d; 0: only on POST /refresh).",
)
@click.option(
    "--db",
    "db_url",
    envvar="GRABBER_DATABASE_URL",
    metavar="URL",
    help="Read the trend (and with --from-db the snapshot) from this database "
    "[env GRABBER_DATABASE_URL].",
)
@click.option(
    "--from-db",
    is_flag=True,
    help="Serve the latest stored snapshot of REPOSITORY/BRANCH instead of scanning.",
)
@click.option(
    "--auth-token",
    envvar="GRABBER_AUTH_TOKEN",
    metavar="TOKEN",
    help="Require this token on every route (bearer, or basic-auth password). "
    "Prefer the env GRABBER_AUTH_TOKEN: argv is visible to other users.",
)
@click.option(
    "--ticket-url",
    metavar="TEMPLATE",
    help="Link tickets on the page, e.g. https://jira.example.com/browse/{ticket}.",
)
@click.option(
    "--allowed-host",
    "allowed_host",
    multiple=True,
    metavar="NAME",
    help="Also answer requests for this Host name (repeatable; `*`: any). By default only "
    "the --host address (and localhost on loopback) is answered, against DNS rebinding.",
)
@click.option("--access-log", is_flag=True, help="Log every request on stderr.")
@user_errors
def serve(
    repository: str | None,
    branch: str | None,
    scan: ScanArgs,
    host: str,
    port: int,
    refresh_text: str,
    db_url: str | None,
    from_db: bool,
    auth_token: str | None,
    ticket_url: str | None,
    allowed_host: tuple[str, ...],
    access_log: bool,
) -> None:
    """Serve the muted tests of REPOSITORY at BRANCH over HTTP.

    Routes: / (dashboard), /redash (Redash and Grafana Infinity), /api/snapshot, /api/muted,
    /api/trend, /muted.csv, /healthz, /metrics, POST /refresh. The first scan runs in the
    background; until it lands, data routes answer 503.

    \b
    Examples:
      grabber serve https://github.com/org/repo main --port 8080
      GRABBER_AUTH_TOKEN=s3cret grabber serve . --host 0.0.0.0
      grabber serve --db sqlite:///grabber.db          # the latest stored snapshot
    """
    from ..sinks.serve.app import create_app
    from ..sinks.serve.guard import allowed_hosts
    from ..sinks.serve.runner import bind, serve_forever
    from ..sinks.serve.state import DataState, Refresher

    interval = parse_duration(refresh_text)
    if ticket_url is not None and (
        "{ticket}" not in ticket_url or not ticket_url.startswith(("http://", "https://"))
    ):
        raise click.BadParameter(
            "expected an http(s) URL with {ticket} in it", param_hint="--ticket-url"
        )
    if repository is None and not db_url:
        raise click.UsageError("give a REPOSITORY to scan, or --db URL to read stored snapshots")
    if from_db and not db_url:
        raise click.UsageError("--from-db needs --db URL (or GRABBER_DATABASE_URL)")
    scan.settings()  # usage errors before anything starts
    source = click.get_current_context().get_parameter_source("auth_token")
    if auth_token and source == click.core.ParameterSource.COMMANDLINE:
        log.warning(
            "--auth-token on the command line is visible to every user of this machine (ps); "
            "put it in GRABBER_AUTH_TOKEN instead"
        )

    provider: SnapshotProvider | None = None
    trend: TrendProvider | None = None
    if db_url:
        provider, trend = db_providers(
            db_url, repository, branch, read_snapshot=from_db or repository is None
        )
    if provider is None:
        assert repository is not None
        if not is_url(repository) and not Path(repository).is_dir():
            # A typo would otherwise serve 503s forever; a clone failing later is retried.
            raise click.ClickException(f"no such directory: {repository}")

        def scan_now() -> Snapshot:
            assert repository is not None
            return scan.snapshot(repository, branch, progress=False)

        provider = scan_now

    try:
        sock = bind(host, port)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    state = DataState(provider, trend)
    refresher = Refresher(state, interval)
    app = create_app(
        state,
        token=auth_token or None,
        on_refresh=refresher.wake,
        info={"ticket_url": ticket_url},
        history=DbHistory(db_url) if db_url else None,
        hosts=allowed_hosts(host, allowed_host),
    )
    if not auth_token and not _loopback(host):
        log.warning("serving on %s without --auth-token: anyone who can reach it can read it", host)
    shown = f"[{host}]" if ":" in host else host
    print(
        f"grabber: serving on http://{shown}:{sock.getsockname()[1]}/", file=sys.stderr, flush=True
    )
    if access_log:
        # uvicorn runs without its own logging config; give its access logger a stderr line.
        access = logging.getLogger("uvicorn.access")
        access.setLevel(logging.INFO)
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(VisibleFormatter("grabber: %(message)s"))
        access.addHandler(handler)
        access.propagate = False
    refresher.start()
    try:
        serve_forever(app, sock, access_log=access_log)
    finally:
        refresher.stop(timeout=1.0)
        sock.close()
