"""Enrichment settings: `[tickets]` and `[enrich]` of grabber.toml, then the environment, then
the command line (`--blame`, `--tickets`).

    [enrich]
    blame = true                # push and dump blame by default
    tickets = false
    since_tolerance = "30d"     # since_mismatch when `since` is further than this from blame

    [tickets]
    jira_url = "https://jira.example.com"
    github_url = "https://github.com"          # GitHub Enterprise: its web host
    github_api = "https://api.github.com"      # GitHub Enterprise: https://HOST/api/v3
    gitlab_url = "https://gitlab.com"
    bugzilla_url = "https://bugzilla.example.com"
    ttl = "6h"                                 # how long answers are cached

Tokens are never read from the file: JIRA_TOKEN (with JIRA_USER for Jira Cloud),
GITHUB_TOKEN (or GRABBER_GITHUB_API_TOKEN), GITLAB_TOKEN, BUGZILLA_API_KEY.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..config import ConfigError
from ..keylines import find_line, key_lines
from .apply import Enrichment
from .tickets.refs import Trackers

URL_KEYS = ("jira_url", "github_url", "github_api", "gitlab_url", "bugzilla_url")
ENV = {
    "jira_url": "GRABBER_JIRA_URL",
    "github_url": "GRABBER_GITHUB_URL",
    "github_api": "GRABBER_GITHUB_API_URL",
    "gitlab_url": "GRABBER_GITLAB_URL",
    "bugzilla_url": "GRABBER_BUGZILLA_URL",
}
DURATION = re.compile(r"^(\d{1,6})([smhdw])$")
SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def _seconds(text: object) -> float | None:
    match = DURATION.match(text) if isinstance(text, str) else None
    return int(match[1]) * SECONDS[match[2]] if match else None


def load_enrichment(
    config_file: Path | None,
    *,
    blame: bool | None = None,
    tickets: bool | None = None,
    cache_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Enrichment:
    """The enrichment to run; a bad setting is a ConfigError naming the file, line and key."""
    env = os.environ if env is None else env
    doc: dict[str, Any] = {}
    text = ""
    if config_file is not None:
        try:
            text = config_file.read_text(encoding="utf-8")
            doc = tomllib.loads(text)
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read config file {config_file}: {exc}") from None
        doc = doc.get("grabber", doc)
    lines = key_lines(text)

    def bad(key: str, message: str) -> ConfigError:
        return ConfigError(f"{config_file}:{find_line(lines, key)}: {key}: {message}")

    section = doc.get("enrich", {})
    table = doc.get("tickets", {})
    for name, value, known in (
        ("enrich", section, ("blame", "tickets", "since_tolerance")),
        ("tickets", table, (*URL_KEYS, "ttl")),
    ):
        if not isinstance(value, dict):
            raise bad(name, "must be a table")
        for key in value:
            if key not in known:
                raise bad(f"{name}.{key}", f"unknown key (known: {', '.join(known)})")
    for key in ("blame", "tickets"):
        if key in section and not isinstance(section[key], bool):
            raise bad(f"enrich.{key}", "must be true or false")
    tolerance = _seconds(section.get("since_tolerance", "30d"))
    if tolerance is None:
        raise bad("enrich.since_tolerance", "expected a duration such as 30d")
    ttl = _seconds(table.get("ttl", "6h"))
    if ttl is None:
        raise bad("tickets.ttl", "expected a duration such as 6h or 1d")
    urls: dict[str, str] = {}
    for key in URL_KEYS:
        value = env.get(ENV[key]) or table.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or not value.startswith(("https://", "http://")):
            raise bad(f"tickets.{key}", "expected an http(s) URL")
        if "@" in value.split("//", 1)[1].split("/", 1)[0]:
            raise bad(f"tickets.{key}", "put credentials in the environment, not in the URL")
        urls[key] = value.rstrip("/")
    return Enrichment(
        blame=section.get("blame", False) if blame is None else blame,
        tickets=section.get("tickets", False) if tickets is None else tickets,
        since_tolerance_days=int(tolerance // 86400),
        trackers=Trackers(**urls),
        ticket_ttl=float(ttl),
        cache_dir=cache_dir,
        trackers_given=tuple(urls),
    )


NO_TRACKER = (
    "--tickets: no ticket tracker is configured, so only github.com and gitlab.com issues "
    "are looked up (Jira keys and Bugzilla links stay without ticket_status): set jira_url, "
    "bugzilla_url, github_api or gitlab_url under [tickets] in the grabber.toml given with "
    "--config, or GRABBER_JIRA_URL, GRABBER_BUGZILLA_URL, GRABBER_GITHUB_API_URL or "
    "GRABBER_GITLAB_URL in the environment"
)


def tracker_note(*enrichments: Enrichment) -> str | None:
    """One line for a run that looks tickets up with no tracker configured, else None."""
    if any(e.tickets and not e.trackers_given for e in enrichments):
        return NO_TRACKER
    return None
