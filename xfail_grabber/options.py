"""Options and helpers every `grabber` command shares (kept apart from cli.py so that command
modules can import them without an import cycle)."""

from __future__ import annotations

import functools
import logging
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from .config import ConfigError, Settings, build_settings
from .source import SourceError


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is at the time (tests swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)
        self.setFormatter(logging.Formatter("grabber: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr  # no flush of the old one: it may be closed
        super().emit(record)


def configure_logging(verbose: int) -> None:
    """-v: info, -vv: debug, on stderr; the package logger only, never stdout."""
    logger = logging.getLogger("xfail_grabber")
    logger.setLevel(logging.WARNING - 10 * min(verbose, 2))
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        logger.addHandler(_StderrHandler())


F = TypeVar("F", bound=Callable[..., Any])


def _verbose(ctx: click.Context, param: click.Parameter, value: int) -> None:
    if value:
        configure_logging(value)


def scan_options(func: F) -> F:
    """Options every command that scans a repository shares."""
    options = [
        click.option(
            "--ref",
            metavar="COMMITISH",
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
            "-v",
            "--verbose",
            count=True,
            expose_value=False,
            callback=_verbose,
            help="More detail on stderr (-vv for debug); also accepted before the command.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def settings_from(
    markers: Sequence[str], only: Sequence[str], config_file: Path | None
) -> Settings:
    try:
        return build_settings(tuple(markers), tuple(only), config_file)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None


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
        sys.stdout.write(text)
        sys.stdout.flush()
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
