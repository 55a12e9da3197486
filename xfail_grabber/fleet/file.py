"""The fleet file: `[defaults]` and `[[repos]]` in a grabber.toml (`--config`).

    [defaults]
    markers = ["xfailflake", "quarantined"]
    branches = ["main", "master", "release/*"]   # globs over the remote's branches
    active_within = "30d"                        # tip committed within 30 days
    blame = true                                 # --blame for every repository

    [[repos]]
    url = "https://github.com/org/service-ee"
    branches = ["master", "1.*"]
    only = ["xfailflake"]
    tickets = true                               # --tickets for this one

    [tickets]                                    # trackers, as in any grabber.toml
    jira_url = "https://jira.example.com"

Validation is strict: an unknown key, a value of the wrong type, a repository listed twice or
a credential written into a URL is a one-line `FleetFileError` naming the file, the line and the
key. tomllib gives no positions for keys: keylines.py finds the line in the file's text.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..config import (
    BUILTIN_KINDS,
    DEFAULT_CUSTOM_MARKERS,
    FLEET_KEYS,
    OTHER_KINDS,
    ConfigError,
    Settings,
    load_grabber_toml,
)
from ..enrich.apply import Enrichment
from ..enrich.settings import load_enrichment
from ..keylines import find_line, key_lines

# Top-level keys of a grabber.toml other parts of grabber read (FLEET_KEYS are ours):
# [enrich] and [tickets] are validated by enrich.settings, the others by config and policy.
OTHER_TOP_KEYS = ("markers", "only", "grabber", "policy", "enrich", "tickets")
REPO_KEYS = ("url", "branches", "active_within", "markers", "only", "blame", "tickets")
DEFAULT_KEYS = ("branches", "active_within", "markers", "only", "blame", "tickets")
FLAG_KEYS = ("blame", "tickets")
MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_SHARDS = 10_000
_DURATION = re.compile(r"^\s*(\d{1,6})\s*([hdw])\s*$")
_URL_SCHEMES = ("https", "http", "ssh", "git", "file")


class FleetFileError(ConfigError):
    """A fleet file that cannot be used; the message is `FILE:LINE: key ...: why`."""


@dataclass(frozen=True)
class RepoSpec:
    """One `[[repos]]` entry with the `[defaults]` applied."""

    url: str  # as written (never holds a credential: that is refused)
    identity: str  # the same repository however written: duplicates, shard hashing
    branches: tuple[str, ...]  # globs; () = the remote's default branch
    active_within: timedelta | None
    markers: tuple[str, ...] | None  # custom markers (None: the file's or grabber's default)
    only: tuple[str, ...] | None
    line: int  # where the entry starts in the file
    blame: bool | None = None  # None: as [enrich] says
    tickets: bool | None = None


@dataclass(frozen=True)
class Fleet:
    path: Path
    repos: tuple[RepoSpec, ...]
    shards: int | None  # how many shards the job runs as, when the file says so
    markers: tuple[str, ...] | None  # top-level `markers` / `only` (plain grabber.toml keys)
    only: tuple[str, ...] | None
    enrichment: Enrichment = field(default_factory=Enrichment)  # [enrich] and [tickets]

    def settings_for(
        self, repo: RepoSpec, base: Settings, markers: tuple[str, ...], only: tuple[str, ...]
    ) -> Settings:
        """A repository's settings: its own markers/only (or [defaults]'), else the file's top
        level, else grabber's; `--marker` (markers) adds to them, `--only` (only) overrides.

        `base` comes from build_settings (command line and this file): whatever else it
        carries is kept.
        """
        own = repo.markers if repo.markers is not None else self.markers
        custom = DEFAULT_CUSTOM_MARKERS if own is None else own
        restrict = only or (repo.only if repo.only is not None else self.only) or ()
        return replace(base, custom_markers=tuple(dict.fromkeys(custom + markers)), only=restrict)

    def enrichment_for(
        self,
        repo: RepoSpec,
        blame: bool | None = None,
        tickets: bool | None = None,
        cache_dir: Path | None = None,
    ) -> Enrichment:
        """A repository's blame and tickets: `--blame`/`--tickets` (blame, tickets), else its
        own keys (or [defaults]'), else [enrich]; trackers from [tickets] and the environment.
        """
        chosen = self.enrichment
        return replace(
            chosen,
            blame=_first(blame, repo.blame, chosen.blame),
            tickets=_first(tickets, repo.tickets, chosen.tickets),
            cache_dir=cache_dir if cache_dir is not None else chosen.cache_dir,
        )


def _first(*values: bool | None) -> bool:
    return next((v for v in values if v is not None), False)


def is_fleet_file(path: Path) -> bool:
    """Whether a grabber.toml lists repositories (a quick look: errors come from load_fleet)."""
    try:
        text = path.read_text(encoding="utf-8")
        return "repos" in tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False


def load_fleet(path: Path) -> Fleet:
    """Read and validate a fleet file; FleetFileError on anything wrong."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise FleetFileError(f"{path}: larger than {MAX_FILE_BYTES // 1024 // 1024} MB")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FleetFileError(f"config file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FleetFileError(f"cannot read config file {path}: {exc}") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FleetFileError(_syntax_error(path, str(exc))) from None
    return _Validator(path, text).fleet(doc)


def _syntax_error(path: Path, message: str) -> str:
    match = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
    if match is None:
        return f"{path}: {message}"
    return f"{path}:{match.group(1)}: {message[: match.start()]} (column {match.group(2)})"


def parse_within(text: str) -> timedelta:
    """`30d`, `4w` or `12h`."""
    match = _DURATION.match(text.lower())
    if match is None:
        raise ValueError("must be a duration such as 30d, 4w or 12h")
    number, unit = int(match.group(1)), match.group(2)
    return (
        timedelta(hours=number)
        if unit == "h"
        else timedelta(days=number * (7 if unit == "w" else 1))
    )


def repo_identity(url: str) -> str:
    """The repository a URL or path names, spelled one way: scheme and host lower-cased,
    no trailing `/` or `.git`; a local path made absolute."""
    if "://" in url:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        port = f":{parts.port}" if parts.port else ""
        user = f"{parts.username}@" if parts.scheme.lower() == "ssh" and parts.username else ""
        path = parts.path.rstrip("/").removesuffix(".git")
        return f"{parts.scheme.lower()}://{user}{host}{port}{path}"
    head, sep, rest = url.partition(":")
    if sep and "@" in head and "/" not in head:  # scp-like git@host:org/repo
        user, _, host = head.rpartition("@")
        return f"ssh://{user}@{host.lower()}/{rest.strip('/').removesuffix('.git')}"
    return str(Path(url).expanduser().resolve()).rstrip("/").removesuffix(".git")


def key_of(table: tuple[str, int] | None, key: str | None) -> str:
    """The dotted key of `key` in `table` (("repos", n) is the n-th [[repos]], 0-based; None
    the top level), as keylines.key_lines names it."""
    if table is None:
        name = ""
    elif table[0] == "repos":
        name = f"repos[{table[1]}]"
    else:
        name = table[0]
    return ".".join(part for part in (name, key) if part)


class _Validator:
    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = key_lines(text)

    def line(self, table: tuple[str, int] | None, key: str | None) -> int:
        """The line of `key` in `table`, or of the table's header when the key is not there."""
        return find_line(self.lines, key_of(table, key))

    def fail(self, table: tuple[str, int] | None, key: str | None, why: str) -> FleetFileError:
        where = f"{self.path}:{self.line(table, key)}"
        if table is None:
            what = f"key '{key}'" if key else "file"
        elif table[0] == "repos":
            entry = f"[[repos]] #{table[1] + 1}"
            what = f"key '{key}' in {entry}" if key else entry
        else:
            what = f"key '{key}' in [{table[0]}]" if key else f"[{table[0]}]"
        return FleetFileError(f"{where}: {what}: {why}")

    def fleet(self, doc: dict[str, Any]) -> Fleet:
        known = FLEET_KEYS + OTHER_TOP_KEYS
        for key in doc:
            if key not in known:
                raise self.fail(None, key, f"unknown key (known: {', '.join(known)})")
        try:
            top = load_grabber_toml(self.path)
        except ConfigError as exc:
            message = str(exc).removeprefix(f"{self.path}: ")
            bad = next((k for k in ("markers", "only") if f"'{k}'" in message), None)
            raise self.fail(None, bad, message) from None
        try:
            enrichment = load_enrichment(self.path)
        except ConfigError as exc:
            raise FleetFileError(str(exc)) from None
        defaults = doc.get("defaults", {})
        if not isinstance(defaults, dict):
            raise self.fail(None, "defaults", "must be a table: [defaults]")
        base = self.entry(("defaults", 0), defaults, DEFAULT_KEYS)
        repos = doc.get("repos", [])
        if not isinstance(repos, list) or not all(isinstance(r, dict) for r in repos):
            raise self.fail(None, "repos", "must be an array of tables: [[repos]]")
        specs: list[RepoSpec] = []
        seen: dict[str, int] = {}
        for index, entry in enumerate(repos):
            table = ("repos", index)
            values = self.entry(table, entry, REPO_KEYS)
            if "url" not in values:
                raise self.fail(table, None, "no 'url'")
            merged = {**base, **values}
            url = merged["url"]
            identity = repo_identity(url)
            if identity in seen:
                raise self.fail(
                    table, "url", f"repository listed twice (also [[repos]] #{seen[identity] + 1})"
                )
            seen[identity] = index
            custom = merged.get("markers")
            only = merged.get("only")
            self.check_kinds(table, custom, only, top.get("markers"))
            specs.append(
                RepoSpec(
                    url=url,
                    identity=identity,
                    branches=merged.get("branches", ()),
                    active_within=merged.get("active_within"),
                    markers=custom,
                    only=only,
                    line=self.line(table, None),
                    blame=merged.get("blame"),
                    tickets=merged.get("tickets"),
                )
            )
        shards = doc.get("shards")
        if shards is not None and (
            isinstance(shards, bool) or not isinstance(shards, int) or not 1 <= shards <= MAX_SHARDS
        ):
            raise self.fail(None, "shards", f"must be a whole number from 1 to {MAX_SHARDS}")
        return Fleet(
            self.path, tuple(specs), shards, top.get("markers"), top.get("only"), enrichment
        )

    def entry(
        self, table: tuple[str, int], entry: dict[str, Any], keys: tuple[str, ...]
    ) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for key, value in entry.items():
            if key not in keys:
                raise self.fail(table, key, f"unknown key (known: {', '.join(keys)})")
            if key == "url":
                values[key] = self.url(table, value)
            elif key in FLAG_KEYS:
                if not isinstance(value, bool):
                    raise self.fail(table, key, "must be true or false")
                values[key] = value
            elif key == "active_within":
                if not isinstance(value, str):
                    raise self.fail(table, key, 'must be a string such as "30d"')
                try:
                    values[key] = parse_within(value)
                except ValueError as exc:
                    raise self.fail(table, key, str(exc)) from None
            else:
                if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                    raise self.fail(table, key, "must be a list of non-empty strings")
                if key == "branches" and not value:
                    raise self.fail(table, key, "must name at least one branch or glob")
                if key == "branches" and any(v.startswith("-") or "\n" in v for v in value):
                    raise self.fail(table, key, "not a branch name or glob")
                if key in ("markers", "only"):
                    for name in value:
                        if not name.replace("_", "a").replace("-", "a").isalnum():
                            raise self.fail(table, key, f"not a marker name: {name!r}")
                values[key] = tuple(dict.fromkeys(value))
        return values

    def url(self, table: tuple[str, int], value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(table, "url", "must be a non-empty string")
        if value != value.strip() or any(ch in value for ch in "\n\r\t\0"):
            raise self.fail(table, "url", "must not hold spaces or control characters")
        if "://" in value:
            try:
                parts = urlsplit(value)
                parts.port  # noqa: B018 (raises on a bad port)
            except ValueError:
                raise self.fail(table, "url", "not a valid URL") from None
            scheme = parts.scheme.lower()
            if scheme not in _URL_SCHEMES:
                raise self.fail(table, "url", f"unsupported URL scheme: {scheme}")
            if parts.password or (parts.username and scheme in ("https", "http")):
                # Never echo the URL: it holds the secret.
                raise self.fail(
                    table,
                    "url",
                    "a token or password in the URL; give the token in GITHUB_TOKEN "
                    "(or GRABBER_GIT_TOKEN) instead",
                )
            if not parts.hostname and scheme != "file":
                raise self.fail(table, "url", "no host in the URL")
        elif value.startswith("-"):
            raise self.fail(table, "url", "not a URL or path")
        return value

    def check_kinds(
        self,
        table: tuple[str, int],
        custom: tuple[str, ...] | None,
        only: tuple[str, ...] | None,
        top_markers: tuple[str, ...] | None,
    ) -> None:
        if not only:
            return
        markers = custom if custom is not None else top_markers
        known = (
            BUILTIN_KINDS + (DEFAULT_CUSTOM_MARKERS if markers is None else markers) + OTHER_KINDS
        )
        for name in only:
            if name not in known:
                raise self.fail(table, "only", f"unknown kind {name!r} (add it to 'markers' first)")
