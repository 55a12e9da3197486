"""Connections: open, run one transaction with retries, translate driver errors.

Every statement goes through `Db.execute` (or `Db.copy`), so tests can collect exactly
what a dialect sends (`trace_statements`), and the `xfail_grabber.sql` logger, at INFO, logs
each one with its parameters (`GRABBER_SQL_ECHO=1` or `-vvv`), the password masked.
"""

from __future__ import annotations

import json
import logging
import random
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar

from .dialect import DIALECTS, Dialect, Names
from .errors import (
    AuthenticationFailed,
    DatabaseError,
    DatabaseUnreachable,
    PermissionDenied,
    one_line,
)
from .literals import QUOTED, inline, literal
from .url import DbUrl, parse_url

T = TypeVar("T")
Row = tuple[Any, ...]

_TRACERS: list[Callable[[str], None]] = []
_ECHO = logging.getLogger("xfail_grabber.sql")
ECHO_CHARS = 4000  # longer statements (Redshift's multi-row INSERTs) are cut in the log
# Serialization failures, deadlocks, and the catalogue races of two first-time CREATEs.
RETRY_SQLSTATES = {"40001", "40P01", "42P07", "42710", "23505"}
ATTEMPTS = 6


@contextmanager
def trace_statements() -> Iterator[list[str]]:
    """Collect the text of every statement sent while the block runs (for tests)."""
    statements: list[str] = []
    _TRACERS.append(statements.append)
    try:
        yield statements
    finally:
        _TRACERS.remove(statements.append)


def _trace(sql: str | bytes, secret: str | None = None, note: str = "") -> None:
    echo = _ECHO.isEnabledFor(logging.INFO)
    if not (_TRACERS or echo):
        return
    text = sql.decode("utf-8", "replace") if isinstance(sql, bytes) else sql
    for tracer in _TRACERS:
        tracer(text)
    if echo:
        _ECHO.info("sql: %s%s", masked(text, secret), note)


def masked(text: str, secret: str | None) -> str:
    """The statement for the log: the password masked, as written or escaped the ways a
    literal may hold it (quotes and/or backslashes doubled, JSON), and cut after ECHO_CHARS
    characters."""
    if secret:
        forms: set[str] = set()
        for base in (secret, json.dumps(secret)[1:-1]):
            doubled = base.replace("\\", "\\\\")
            forms |= {base, base.replace("'", "''"), doubled, doubled.replace("'", "''")}
        for form in sorted(forms, key=len, reverse=True):
            text = text.replace(form, "***")
    if len(text) > ECHO_CHARS:
        text = f"{text[:ECHO_CHARS]}... ({len(text) - ECHO_CHARS} more characters)"
    return text


class Db:
    """One open connection, in autocommit mode; transactions are explicit BEGIN/COMMIT."""

    def __init__(self, url: DbUrl, raw: Any, dialect: Dialect) -> None:
        self.url = url
        self.raw = raw
        self.dialect = dialect
        schema = url.schema or ("public" if url.kind != "sqlite" else None)
        prefix = url.table_prefix
        if url.kind == "redshift":
            # Redshift folds even quoted identifiers to lower case; so do we, so that the
            # catalogue lookups find the tables we created.
            schema, prefix = (schema or "").lower() or None, prefix.lower()
        self.names = Names(schema, prefix)

    def sql(self, text: str) -> str:
        """Our statements are written with `?`; psycopg2 wants `%s`, and `%` doubled, also
        inside quoted names (a table prefix may hold `?` or `%`)."""
        if self.dialect.param == "?":
            return text
        parts = QUOTED.split(text)
        for i, part in enumerate(parts):
            part = part.replace("%", "%%")
            parts[i] = part if i % 2 else part.replace("?", "%s")
        return "".join(parts)

    def execute(self, text: str, params: Sequence[Any] = ()) -> list[Row]:
        cursor = self.raw.cursor()
        try:
            if self.dialect.name == "sqlite":
                cursor.execute(text, tuple(params))
            elif self.dialect.name == "redshift":
                cursor.execute(inline(text, params) if params else text)
            else:
                if params:
                    cursor.execute(self.sql(text), tuple(params))
                else:  # no parameters: psycopg2 sends the text as it is
                    cursor.execute(text)
            if self.dialect.name != "sqlite":
                _trace(cursor.query, self.url.password)
            return list(cursor.fetchall()) if cursor.description else []
        finally:
            cursor.close()

    def executemany(self, text: str, rows: Sequence[Sequence[Any]]) -> None:
        if self.dialect.name == "sqlite":
            self.raw.executemany(text, rows)
            return
        for row in rows:
            self.execute(text, row)

    def insert_values(self, head: str, rows: Sequence[Sequence[Any]]) -> None:
        """Redshift: multi-row `head VALUES (...), (...)`, each statement under 16 MB."""
        limit = self.dialect.max_statement_bytes or 64 * 1024 * 1024
        head_bytes = head.encode("utf-8") + b" VALUES "
        batch: list[bytes] = []
        size = len(head_bytes)
        cursor = self.raw.cursor()
        try:
            for row in rows:
                values = ("(" + ",".join([literal(v) for v in row]) + ")").encode("utf-8")
                if batch and size + len(values) + 1 > limit:
                    self._run(cursor, head_bytes + b",".join(batch))
                    batch, size = [], len(head_bytes)
                batch.append(values)
                size += len(values) + 1
            if batch:
                self._run(cursor, head_bytes + b",".join(batch))
        finally:
            cursor.close()

    def _run(self, cursor: Any, statement: bytes) -> None:
        cursor.execute(statement)
        _trace(statement, self.url.password)

    def copy(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """PostgreSQL COPY FROM STDIN in text format."""
        from io import BytesIO

        field = _copy_field
        text = "".join(["\t".join([field(v) for v in row]) + "\n" for row in rows])
        # clean_text's rule on the whole text at once: NUL -> U+FFFD, lone surrogates -> ?
        if "\x00" in text:
            text = text.replace("\x00", "\ufffd")
        buffer = BytesIO(text.encode("utf-8", "replace"))
        statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        cursor = self.raw.cursor()
        try:
            cursor.copy_expert(statement, buffer, size=1 << 20)
            _trace(statement, self.url.password, f" -- {len(rows)} rows")
        finally:
            cursor.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.execute(self.dialect.begin)
        try:
            yield
        except BaseException:
            with suppress(Exception):  # the first error is the one to report
                self.execute("ROLLBACK")
            raise
        self.execute("COMMIT")

    def close(self) -> None:
        with suppress(Exception):  # closing a broken connection may fail; nothing to do
            self.raw.close()


def _copy_field(value: Any) -> str:
    # The hot loop of a push (one call per cell): cheap tests first.
    if value is None:
        return "\\N"
    if value.__class__ is str:
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            return (
                value.replace("\\", "\\\\")
                .replace("\t", "\\t")
                .replace("\n", "\\n")
                .replace("\r", "\\r")
            )
        return value
    if value is True:
        return "t"
    if value is False:
        return "f"
    return str(value)


def _open_raw(url: DbUrl) -> Any:
    if url.kind == "sqlite":
        assert url.path is not None
        path = Path(url.path)
        path.parent.mkdir(parents=True, exist_ok=True)
        raw = sqlite3.connect(path, timeout=60, isolation_level=None)
        if _TRACERS or _ECHO.isEnabledFor(logging.INFO):
            raw.set_trace_callback(_trace)
        # WAL lets readers (grabber serve) read while a push writes. Switching needs a moment
        # alone with the file; when another connection is busy, the next one switches.
        if raw.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            with suppress(sqlite3.OperationalError):
                raw.execute("PRAGMA journal_mode=WAL")
        return raw
    import psycopg2
    import psycopg2.extensions

    raw = psycopg2.connect(**url.connect_kwargs())
    raw.autocommit = True
    if url.kind == "redshift" and raw.get_parameter_status("standard_conforming_strings") == "on":
        # Not Redshift itself (it reads backslashes as escapes): a PostgreSQL server in
        # Redshift's place is asked to read our literals the way Redshift does.
        with raw.cursor() as cursor:
            for statement in (
                "SET standard_conforming_strings TO off",
                "SET escape_string_warning TO off",
            ):
                cursor.execute(statement)
                _ECHO.info("sql: %s", statement)  # the echo only: tracers see our own SQL
    if url.kind == "postgresql" and psycopg2.extensions.encodings.get(raw.encoding) != "utf_8":
        raw.set_client_encoding("UTF8")  # COPY sends UTF-8 bytes (Redshift is always UTF-8)
    return raw


def translate(url: DbUrl, exc: Exception) -> DatabaseError:
    """A driver error as a one-line DatabaseError naming the host, never the password."""
    where = url.display()
    if isinstance(exc, sqlite3.Error):
        return DatabaseError(f"{where}: {one_line(str(exc))}")
    line = one_line(str(exc), url.password)
    code = getattr(exc, "pgcode", None)
    if code == "42501":
        return PermissionDenied(f"{where}: {line}")
    if (
        code in ("28P01", "28000")
        or "authentication failed" in line
        or ("role" in line and "does not exist" in line)
    ):
        return AuthenticationFailed(f"cannot log in to {where}: {line}")
    if code is None and getattr(exc, "pgerror", None) is None and _is_connection_error(exc):
        return DatabaseUnreachable(f"cannot connect to {where}: {line}")
    return DatabaseError(f"{where}: {line}")


def _is_connection_error(exc: Exception) -> bool:
    try:
        import psycopg2
    except ImportError:  # pragma: no cover
        return False
    return isinstance(exc, psycopg2.OperationalError | psycopg2.InterfaceError)


def _driver_errors() -> tuple[type[Exception], ...]:
    try:
        import psycopg2
    except ImportError:  # pragma: no cover - only SQLite then
        return (sqlite3.Error,)
    return (sqlite3.Error, psycopg2.Error)


def is_retryable(exc: Exception) -> bool:
    if isinstance(exc, sqlite3.OperationalError):
        return "locked" in str(exc) or "busy" in str(exc)
    code = getattr(exc, "pgcode", None)
    if code in RETRY_SQLSTATES:
        return True
    # Redshift: SQLSTATE XX000, message "1023", detail "Serializable isolation violation on
    # table - 119371, transactions forming the cycle are: ...".
    text = str(exc)
    first = one_line(text)
    return "Serializable isolation violation" in text or (code == "XX000" and first == "1023")


@contextmanager
def connect(url: str) -> Iterator[Db]:
    parsed = parse_url(url)
    dialect = DIALECTS[parsed.kind]
    if parsed.kind != "sqlite":
        try:
            import psycopg2  # noqa: F401
        except ImportError:
            raise DatabaseError(
                f"{parsed.display()}: psycopg2 is not installed "
                "(pip install 'xfail-grabber[postgres]')"
            ) from None
    errors = _driver_errors()
    try:
        db = Db(parsed, _open_raw(parsed), dialect)
    except errors as exc:
        raise translate(parsed, exc) from None
    except OSError as exc:
        raise DatabaseError(f"{parsed.display()}: {exc.strerror}") from None
    try:
        yield db
    except errors as exc:
        raise translate(parsed, exc) from None
    finally:
        db.close()


def in_transaction(
    db: Db,
    work: Callable[[Db], T],
    *,
    attempts: int = ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run `work` in one transaction; retry serialization conflicts with backoff."""
    errors = _driver_errors()
    delay = 0.1
    for attempt in range(1, attempts + 1):
        try:
            with db.transaction():
                return work(db)
        except errors as exc:
            if attempt == attempts or not is_retryable(exc):
                raise
        sleep(delay * (1 + random.random()))  # noqa: S311 - jitter, not security
        delay = min(delay * 2, 5.0)
    raise AssertionError("unreachable")
