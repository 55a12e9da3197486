"""Database URLs: parsing, the legacy POSTGRES_* variables, and the default SQLite file.

    sqlite:///relative/path.db   sqlite:////absolute/path.db
    postgresql://user:password@host:5432/db?sslmode=prefer
    redshift://user:password@host:5439/db    (port 5439; sslmode=require unless PGSSLMODE)

Query parameters `schema` and `table_prefix` choose where the tables live; every other
parameter is handed to libpq (sslmode, connect_timeout, application_name...).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from .errors import InvalidDatabaseUrl

SCHEMES = {
    "sqlite": "sqlite",
    "postgresql": "postgresql",
    "postgres": "postgresql",
    "redshift": "redshift",
}
DEFAULT_PORTS = {"postgresql": 5432, "redshift": 5439}
NAME_PARAMS = ("schema", "table_prefix")
URL_ENV = "GRABBER_DATABASE_URL"
LEGACY_ENV = ("POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD")


@dataclass(frozen=True)
class DbUrl:
    kind: str  # sqlite, postgresql or redshift
    path: str | None = None  # sqlite only
    host: str | None = None
    port: int | None = None
    dbname: str | None = None
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    schema: str | None = None
    table_prefix: str = ""
    options: tuple[tuple[str, str], ...] = ()

    def display(self) -> str:
        """Where we connect, for messages: never the password."""
        if self.kind == "sqlite":
            return f"sqlite:///{self.path}"
        user = f"{self.user}@" if self.user else ""
        port = f":{self.port}" if self.port else ""
        return f"{self.kind}://{user}{self.host or 'localhost'}{port}/{self.dbname or ''}"

    def connect_kwargs(self) -> dict[str, object]:
        """Keyword arguments for psycopg2.connect (the password is never in a DSN string)."""
        kwargs: dict[str, object] = {
            "host": self.host,
            "port": self.port,
            "dbname": self.dbname,
            "user": self.user,
            "password": self.password,
        }
        kwargs = {k: v for k, v in kwargs.items() if v not in (None, "")}
        options = dict(self.options)
        options.setdefault("connect_timeout", "15")
        options.setdefault("application_name", "xfail-grabber")
        if self.kind == "redshift" and not os.environ.get("PGSSLMODE"):
            options.setdefault("sslmode", "require")
        kwargs.update(options)
        return kwargs


def parse_url(url: str) -> DbUrl:
    if "\x00" in url or "\x00" in unquote(url):
        # No driver, file system or server takes a NUL; each would fail with a traceback.
        raise InvalidDatabaseUrl("a database URL cannot hold a NUL character (%00)")
    scheme, sep, _ = url.partition("://")
    kind = SCHEMES.get(scheme.lower().split("+", 1)[0]) if sep else None
    if kind is None:
        shown = scheme if sep else "(none)"
        raise InvalidDatabaseUrl(
            f"unsupported database URL scheme {shown!r}: use sqlite:///PATH, "
            "postgresql://HOST/DB or redshift://HOST/DB"
        )
    userinfo, rest = _take_userinfo(url) if kind != "sqlite" else (None, url)
    parts = urlsplit(rest)
    params = parse_qsl(parts.query, keep_blank_values=True)
    names = {k: v for k, v in params if k in NAME_PARAMS}
    options = tuple((k, v) for k, v in params if k not in NAME_PARAMS)
    if kind == "sqlite":
        path = unquote(url.split("://", 1)[1].split("?", 1)[0])
        if not path.startswith("/") or path == "/":
            raise InvalidDatabaseUrl(
                "a SQLite URL is sqlite:///relative.db or sqlite:////absolute/path.db"
            )
        return DbUrl(kind, path=path[1:], table_prefix=names.get("table_prefix", ""))
    user, colon, password = (userinfo or "").partition(":")
    try:
        port = parts.port
    except ValueError:
        raise InvalidDatabaseUrl(f"bad port in database URL for host {parts.hostname}") from None
    return DbUrl(
        kind,
        host=unquote(parts.hostname) if parts.hostname else None,
        port=port or DEFAULT_PORTS[kind],
        dbname=unquote(parts.path.lstrip("/")) or None,
        user=unquote(user) if user else None,
        password=unquote(password) if colon else None,
        schema=names.get("schema") or None,
        table_prefix=names.get("table_prefix", ""),
        options=options,
    )


def _take_userinfo(url: str) -> tuple[str | None, str]:
    """(user:password, the URL without them). The user information is everything between
    `://` and the last `@` before the query, whatever it holds: a password with an unencoded
    `/`, `@` or `:` in it (`postgres:12345/S3CRET@host`) stays whole, so it is never taken for
    a host, port or database name and shown in a message. (An `@` in a database name must be
    written %40.)"""
    scheme, _, rest = url.partition("://")
    before_query = rest.split("?", 1)[0].split("#", 1)[0]
    at = before_query.rfind("@")
    if at < 0:
        return None, url
    return rest[:at], f"{scheme}://{rest[at + 1 :]}"


def with_names(url: str, schema: str | None = None, table_prefix: str | None = None) -> str:
    """The URL with `schema` / `table_prefix` query parameters set (None: left as is)."""
    if schema is None and table_prefix is None:
        return url
    # Not urlunsplit: it would turn sqlite:////abs into sqlite://abs.
    base, _, query = url.partition("?")
    params = dict(parse_qsl(query, keep_blank_values=True))
    if schema is not None:
        params["schema"] = schema
    if table_prefix is not None:
        params["table_prefix"] = table_prefix
    return base + "?" + urlencode(params)


def legacy_env_url(scheme: str = "redshift") -> str | None:
    """A URL from the original tool's POSTGRES_* variables (None when POSTGRES_HOST is unset).

    The URL holds the password: pass it on through the environment (GRABBER_DATABASE_URL),
    never on a command line.
    """
    host = os.environ.get("POSTGRES_HOST")
    if not host:
        return None
    user = os.environ.get("POSTGRES_USER", "")
    password = os.environ.get("POSTGRES_PASSWORD")
    auth = quote(user, safe="")
    if password:
        auth += ":" + quote(password, safe="")
    port = os.environ.get("POSTGRES_PORT", "").strip()
    netloc = (auth + "@" if auth else "") + (f"[{host}]" if ":" in host else host)
    netloc += f":{port}" if port else ""
    return f"{scheme}://{netloc}/{quote(os.environ.get('POSTGRES_DB', ''), safe='')}"


def default_sqlite_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("xfail-grabber", appauthor=False)) / "snapshots.db"


def resolve_url(option: str | None) -> str:
    """--db, else GRABBER_DATABASE_URL, else POSTGRES_* (postgresql), else the SQLite file."""
    if option:
        return option
    from_env = os.environ.get(URL_ENV)
    if from_env:
        return from_env
    legacy = legacy_env_url("postgresql")
    if legacy:
        return legacy
    path = default_sqlite_path()
    return "sqlite:///" + str(path.absolute())
