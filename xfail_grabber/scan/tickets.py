"""Tickets in plain sight: in a mark's reason, or in the comments next to the mark.

`find_ticket(text)` picks the ticket a person would follow: an issue or pull-request URL of a
known tracker first (GitHub, GitLab, Jira, Bugzilla; the scanned repository's own host first
when there are several), else the first of a Jira-style key (`DCOS_OSS-1007`), `gh-1234`,
`bpo-1234`, `#1234` or `issue 1234`. The ticket is kept as written; `ticket_url` turns it into
a link when one can be formed from the ticket and the repository alone. All pure functions
of text, so per-file results stay cacheable: the repository only matters in `ticket_url` and
`prefer_host`, applied once per snapshot.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from urllib.parse import urlsplit

from ..model import MutedTest

# Issue and pull/merge-request pages of the trackers we know; other URLs (docs, CI logs) are
# not tickets.
TRACKER_URL = re.compile(
    r"https?://[^\s'\"<>()\[\]]+?"
    r"(?:/-/(?:issues|merge_requests)/\d+"  # GitLab
    r"|/(?:issues|pull|pulls)/\d+"  # GitHub (and Gitea, GitHub Enterprise)
    r"|/browse/[A-Z][A-Z0-9_]*-\d+"  # Jira
    r"|/show_bug\.cgi\?id=\d+"  # Bugzilla
    r"|bugs\.python\.org/issue\d+)"
    r"(?![\w/])"
)
TICKET_KEY = re.compile(r"(?<![\w-])([A-Z][A-Z0-9_]{0,30}[A-Z0-9]-[1-9][0-9]{0,8})(?![\w-])")
SHORT = re.compile(
    r"(?<![\w&/#-])(?:(?P<gh>gh-\d+)|(?P<bpo>bpo-\d+)|(?P<hash>#\d+)|(?P<issue>issue #?\d+))"
    r"(?![\w-])",
    re.IGNORECASE,
)
# Things written like ticket keys that are not tickets.
NOT_TICKETS = frozenset(
    [
        "UTF",
        "ISO",
        "SHA",
        "MD",
        "PEP",
        "RFC",
        "TLS",
        "SSL",
        "HTTP",
        "AES",
        "RSA",
        "UCS",
        "CP",
        "ECMA",
        "IEEE",
        "ANSI",
        "X86",
        "WIN",
        "GPL",
        "LGPL",
        "CVE",
        "CWE",
        "COVID",
        "PY",
        "GH",
        "BPO",
    ]
)
MAX_TEXT = 10_000  # hostile reasons: look at the start only


def ticket_urls(text: str) -> list[str]:
    return [m.group(0) for m in TRACKER_URL.finditer(text[:MAX_TEXT])]


def find_ticket(text: str | None, prefer_host: str | None = None) -> str | None:
    """The ticket mentioned in `text`, as written, or None."""
    if not text:
        return None
    text = text[:MAX_TEXT]
    urls = ticket_urls(text)
    if urls:
        if prefer_host:
            for url in urls:
                if _host(url) == prefer_host:
                    return url
        return urls[0]
    found: list[tuple[int, str]] = []
    for match in TICKET_KEY.finditer(text):
        project = match.group(1).rsplit("-", 1)[0]
        if project not in NOT_TICKETS:
            found.append((match.start(), match.group(1)))
            break
    short = SHORT.search(text)
    if short:
        found.append((short.start(), short.group(0)))
    return min(found)[1] if found else None


def comment_of(line: str) -> str | None:
    """The `# comment` at the end of a source line, or None (a `#` inside a string is not)."""
    quote = ""
    index = 0
    while index < len(line):
        char = line[index]
        if quote:
            if char == "\\":
                index += 1
            elif line.startswith(quote, index):
                index += len(quote) - 1
                quote = ""
        elif char in "'\"":
            quote = line[index : index + 3] if line[index : index + 3] in ('"""', "'''") else char
            index += len(quote) - 1
        elif char == "#":
            return line[index:].strip()
        index += 1
    return None


def comment_ticket(lines: Sequence[str], line_numbers: Sequence[int], stack_top: int) -> str | None:
    """A ticket in a trailing comment of one of `line_numbers` (1-based), or in the comment
    lines directly above line `stack_top` (the first decorator)."""
    for number in line_numbers:
        if 0 < number <= len(lines):
            ticket = find_ticket(comment_of(lines[number - 1]))
            if ticket:
                return ticket
    number = stack_top - 1
    block: list[str] = []
    while 0 < number <= len(lines) and lines[number - 1].lstrip().startswith("#"):
        block.append(lines[number - 1].strip())
        number -= 1
    return find_ticket("\n".join(reversed(block))) if block else None


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def repo_web_url(repo: str) -> tuple[str, str] | None:
    """('github' | 'gitlab', https URL of the project) for a GitHub or GitLab REPOSITORY."""
    repo = repo.strip()
    scp = re.match(r"^[\w.-]+@([\w.-]+):(?!/)(.+)$", repo)
    if scp:
        host, path = scp.group(1).lower(), scp.group(2)
    else:
        parts = urlsplit(repo) if "://" in repo else None
        if parts is None or parts.scheme not in ("https", "http", "ssh", "git"):
            return None
        host, path = (parts.hostname or "").lower(), parts.path
    path = path.strip("/").removesuffix(".git").strip("/")
    if not host or path.count("/") < 1 or any(p in ("", ".", "..") for p in path.split("/")):
        return None
    if "github" in host:
        if path.count("/") != 1:
            return None
        return "github", f"https://{host}/{path}"
    if "gitlab" in host:
        return "gitlab", f"https://{host}/{path}"
    return None


def repo_host(repo: str) -> str | None:
    web = repo_web_url(repo)
    if web:
        return _host(web[1])
    if "://" not in repo:
        return None
    return _host(repo) or None


ISSUE_NUMBER = re.compile(r"^(?:gh-|#|issue #?)(\d+)$", re.IGNORECASE)


def ticket_url(ticket: str | None, repo: str) -> str | None:
    """A link for `ticket`: the URL itself, bugs.python.org for bpo-N, the repository's issue
    page for #N / gh-N / issue N when REPOSITORY is on GitHub or GitLab; else None."""
    if not ticket:
        return None
    ticket = ticket.strip()
    if TRACKER_URL.fullmatch(ticket) or re.fullmatch(r"https?://\S+", ticket):
        return ticket
    bpo = re.fullmatch(r"bpo-(\d+)", ticket, re.IGNORECASE)
    if bpo:
        return f"https://bugs.python.org/issue{bpo.group(1)}"
    number = ISSUE_NUMBER.match(ticket)
    web = repo_web_url(repo)
    if number and web:
        kind, base = web
        issues = "/-/issues/" if kind == "gitlab" else "/issues/"
        return f"{base}{issues}{number.group(1)}"
    return None


def link_tickets(records: Iterable[MutedTest], repo: str) -> tuple[MutedTest, ...]:
    """Records with `ticket_url` set, and the repository's own tracker URL preferred when a
    reason names several (both depend on REPOSITORY, so they are applied per snapshot)."""
    host = repo_host(repo)
    result = []
    for record in records:
        ticket = record.ticket
        urls = ticket_urls(record.reason) if host and ticket and record.reason else []
        if len(urls) > 1 and ticket in urls:
            ticket = find_ticket(record.reason, host)
        url = ticket_url(ticket, repo)
        if ticket != record.ticket or url != record.ticket_url:
            record = replace(record, ticket=ticket, ticket_url=url)
        result.append(record)
    return tuple(result)
