"""Options and helpers the `grabber` commands share: scan options as one `ScanArgs` value,
database options, -o, logging on stderr, and library errors as one-line click errors."""

from __future__ import annotations

import functools
import logging
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, overload

import click

from ..config import ConfigError, Settings, build_settings
from ..model import Snapshot
from ..source import SourceError
from ..visible import visible
from .process import write_stdout


class VisibleFormatter(logging.Formatter):
    """Log lines name repository content (paths, notes): a control or bidi character in it is
    written as an escape, never sent to the terminal (tracebacks keep their line breaks)."""

    def format(self, record: logging.LogRecord) -> str:
        return visible(super().format(record), keep="\n")


if TYPE_CHECKING:
    from ..enrich.apply import Enrichment


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is at the time (tests swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)
        self.setFormatter(VisibleFormatter("grabber: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr  # no flush of the old one: it may be closed
        super().emit(record)


def configure_logging(verbose: int) -> None:
    """-v: info, -vv: debug and phase timings, -vvv: every SQL statement too (as does
    GRABBER_SQL_ECHO=1); on stderr, the package logger only, never stdout."""
    logger = logging.getLogger("xfail_grabber")
    logger.setLevel(logging.WARNING - 10 * min(verbose, 2))
    echo = verbose >= 3 or os.environ.get("GRABBER_SQL_ECHO", "").strip() not in ("", "0")
    logging.getLogger("xfail_grabber.sql").setLevel(logging.INFO if echo else logging.WARNING)
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        logger.addHandler(_StderrHandler())


def timings_wanted() -> bool:
    """-vv or more: print where the run's time went at its end."""
    return logging.getLogger("xfail_grabber").isEnabledFor(logging.DEBUG)


F = TypeVar("F", bound=Callable[..., Any])


def _verbose(ctx: click.Context, param: click.Parameter, value: int) -> None:
    if value:
        configure_logging(value)


def _git_timeout(ctx: click.Context, param: click.Parameter, value: float | None) -> None:
    from ..source.command import set_default_timeout

    if value is not None:
        set_default_timeout(value)


@dataclass(frozen=True)
class ScanArgs:
    """The shared scan options of a command, as one value (see `scan_options`)."""

    ref: str | None
    markers: tuple[str, ...]
    only: tuple[str, ...]
    config_file: Path | None
    workers: int | None
    cache_dir: Path | None
    blame: bool | None = None  # None: as grabber.toml's [enrich] says
    tickets: bool | None = None

    def settings(self) -> Settings:
        return settings_from(self.markers, self.only, self.config_file)

    def enrichment(self) -> Enrichment:
        """--blame / --tickets over grabber.toml's [enrich] and [tickets] (worked out once
        per command: serve asks on every refresh, the note about trackers is said once)."""
        return self._enrichment

    @functools.cached_property
    def _enrichment(self) -> Enrichment:
        from ..enrich.settings import load_enrichment, tracker_note
        from ..source.clones import default_cache_dir

        try:
            found = load_enrichment(
                self.config_file,
                blame=self.blame,
                tickets=self.tickets,
                cache_dir=self.cache_dir or default_cache_dir(),
            )
        except ConfigError as exc:
            raise click.UsageError(str(exc)) from None
        note = tracker_note(found)
        if note is not None:
            say(note)
        return found

    def snapshot(
        self, repository: str, branch: str | None, *, progress: bool | None = None
    ) -> Snapshot:
        """Scan REPOSITORY at BRANCH (or --ref) with these options (progress: on a tty)."""
        from ..core import take_snapshot

        return take_snapshot(
            repository,
            branch,
            self.settings(),
            ref=self.ref,
            workers=self.workers,
            cache_dir=self.cache_dir,
            progress=stderr_is_tty() if progress is None else progress,
            enrichment=self.enrichment(),
        )


def not_empty(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """An argument given as "" is a usage error (an empty REPOSITORY scanned the current
    directory): one line, exit 2."""
    if value is not None and not value.strip():
        raise usage_error(f"Invalid value for {param.get_error_hint(ctx)}: must not be empty")
    return value


def ref_name(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """BRANCH, BASE, HEAD, --ref, --baseline: "", or what git would take for an option or a
    refspec (`-x`, `a:b`), is a usage error (one line, exit 2) rather than a failed scan."""
    if value is not None:
        what = "branch" if param.name == "branch" else "ref"
        check_ref(value, param.get_error_hint(ctx), what)
    return value


def check_ref(value: str, hint: str, what: str = "ref") -> None:
    """`ref_name` for a value click does not parse on its own (check's REPOSITORY [BRANCH])."""
    from ..source.open import check_name

    if not value.strip():
        raise usage_error(f"Invalid value for {hint}: must not be empty")
    try:
        check_name(value, what)
    except SourceError as exc:
        raise usage_error(f"Invalid value for {hint}: {exc}") from None


def stderr_is_tty() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def _scan_option_list(with_ref: bool) -> list[Callable[[F], F]]:
    options: list[Callable[[F], F]] = [
        click.option(
            "--ref",
            metavar="COMMITISH",
            callback=ref_name,
            help="Scan this commit, tag or branch; BRANCH stays the label.",
        ),
        click.option(
            "--marker",
            "markers",
            multiple=True,
            metavar="NAME",
            help="Also report this custom pytest marker (repeatable).",
        ),
        click.option(
            "--only",
            "only",
            multiple=True,
            metavar="KIND",
            help="Report only these kinds, e.g. --only xfailflake (repeatable).",
        ),
        click.option(
            "--config",
            "config_file",
            type=click.Path(dir_okay=False, path_type=Path),
            help="A grabber.toml with `markers = [...]` and `only = [...]`.",
        ),
        click.option(
            "--workers",
            type=click.IntRange(min=1),
            metavar="N",
            help="Parser processes (default: one per core).",
        ),
        click.option(
            "--cache-dir",
            type=click.Path(file_okay=False, path_type=Path),
            envvar="GRABBER_CACHE_DIR",
            help="Where clones and the scan cache live (default: user cache dir).",
        ),
        click.option(
            "--blame/--no-blame",
            default=None,
            help="Add first_seen and age_days from git blame of each mark's line "
            "(default: [enrich] blame in grabber.toml, else off).",
        ),
        click.option(
            "--tickets/--no-tickets",
            default=None,
            help="Look each ticket up in its tracker (Jira, GitHub, GitLab, Bugzilla): "
            "ticket_status, ticket_title, stale. Trackers from [tickets] in grabber.toml; "
            "tokens from the environment.",
        ),
        click.option(
            "--git-timeout",
            type=click.FloatRange(min=0, min_open=True, max=7 * 24 * 3600),
            metavar="SECONDS",
            expose_value=False,
            callback=_git_timeout,
            help="Give up a clone or fetch after this long (env GRABBER_GIT_TIMEOUT; default 600).",
        ),
        click.option(
            "-v",
            "--verbose",
            count=True,
            expose_value=False,
            callback=_verbose,
            help="More detail on stderr (-vv: timings, -vvv: SQL); also before the command.",
        ),
    ]
    return options if with_ref else options[1:]


@overload
def scan_options(func: F) -> F: ...


@overload
def scan_options(*, with_ref: bool = True) -> Callable[[F], F]: ...


def scan_options(func: F | None = None, *, with_ref: bool = True) -> Any:
    """Options every command that scans a repository shares, handed over as `scan: ScanArgs`.

    `@scan_options`, or `@scan_options(with_ref=False)` for commands whose arguments name
    the commits (diff, history).
    """

    def decorate(command: F) -> F:
        @functools.wraps(command)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            scan = ScanArgs(
                ref=kwargs.pop("ref", None),
                markers=tuple(kwargs.pop("markers")),
                only=tuple(kwargs.pop("only")),
                config_file=kwargs.pop("config_file"),
                workers=kwargs.pop("workers"),
                cache_dir=kwargs.pop("cache_dir"),
                blame=kwargs.pop("blame"),
                tickets=kwargs.pop("tickets"),
            )
            return command(*args, scan=scan, **kwargs)

        decorated: Any = wrapper
        for option in reversed(_scan_option_list(with_ref)):
            decorated = option(decorated)
        return decorated  # type: ignore[no-any-return]

    return decorate(func) if func is not None else decorate


output_option = click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of stdout.",
)


def settings_from(
    markers: Sequence[str], only: Sequence[str], config_file: Path | None
) -> Settings:
    try:
        return build_settings(tuple(markers), tuple(only), config_file)
    except ConfigError as exc:
        raise usage_error(str(exc)) from None


class _UsageError(click.ClickException):
    exit_code = 2


def usage_error(message: str) -> click.ClickException:
    """A one-line error with exit code 2 (click's UsageError would add the usage text)."""
    return _UsageError(message)


def user_errors(func: F) -> F:
    """Turn library errors into one-line messages and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (SourceError, ConfigError) as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper  # type: ignore[return-value]


def write_output(text: str, output: Path | None) -> None:
    """Write to stdout, or atomically to a file (a half-written file is never left)."""
    if output is None:
        write_stdout(text)
        return
    if output.exists() and not output.is_file():
        # /dev/null, a FIFO, /dev/stdout: write into it; renaming over it would replace it.
        try:
            with output.open("w", encoding="utf-8", newline="") as handle:
                handle.write(text)
        except OSError as exc:
            raise click.ClickException(f"cannot write {output}: {exc.strerror}") from None
        return
    directory = output.parent if str(output.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{output.name}.", suffix=".tmp")
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        # mkstemp makes the file private; give it the mode a plain open() would have.
        try:
            mode = output.stat().st_mode & 0o777
        except FileNotFoundError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        os.replace(tmp, output)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise click.ClickException(f"cannot write {output}: {exc.strerror}") from None
    except BaseException:  # Ctrl-C or SIGTERM while writing: no temporary file left behind
        Path(tmp).unlink(missing_ok=True)
        raise


def db_options(func: F) -> F:
    """Where snapshots go: --db (or GRABBER_DATABASE_URL), schema and table prefix."""
    options = [
        click.option(
            "--db",
            "db_url",
            metavar="URL",
            help="sqlite:///FILE, postgresql://HOST/DB or redshift://HOST/DB. Put "
            "passwords in GRABBER_DATABASE_URL instead (default: that, else the "
            "POSTGRES_* variables, else a SQLite file in the user data dir).",
        ),
        click.option(
            "--db-schema",
            "schema",
            metavar="NAME",
            envvar="GRABBER_DB_SCHEMA",
            help="PostgreSQL/Redshift schema for the tables (default: public).",
        ),
        click.option(
            "--table-prefix",
            metavar="PREFIX",
            envvar="GRABBER_DB_TABLE_PREFIX",
            help="Prefix for every table and view name.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def database_errors(func: F) -> F:
    """DatabaseError -> one line on stderr, exit 1."""
    from ..sinks.db.errors import DatabaseError

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except DatabaseError as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper  # type: ignore[return-value]


def target_url(db_url: str | None, schema: str | None, table_prefix: str | None) -> str:
    """The database URL a db command works on (--db, else the environment's defaults)."""
    from ..sinks.db.url import parse_url, resolve_url, with_names

    if db_url is not None and not db_url.strip():
        # An unset variable in a CI script (--db "$URL"): storing into the default SQLite
        # file instead would "succeed" while storing nowhere anyone looks.
        raise usage_error("--db is empty; give a database URL, or leave --db out")
    if db_url and "://" in db_url and parse_url(db_url).password:
        say(
            "warning: a password in --db is visible to every user of this machine (ps); "
            "put the URL in GRABBER_DATABASE_URL instead"
        )
    return with_names(resolve_url(db_url), schema, table_prefix)


def say(message: str) -> None:
    click.echo(f"grabber: {visible(message, keep=chr(10))}", err=True)
