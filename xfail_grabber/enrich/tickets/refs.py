"""Which tracker a ticket belongs to, and the API URL that tells its status.

Follows the documented REST APIs: Jira REST v2 (`/rest/api/2/issue/{key}`, Jira Server/Data
Center 8-10 and Jira Cloud), GitHub REST (`/repos/{owner}/{repo}/issues/{n}`, API version
2022-11-28; pull requests answer there too), GitLab REST v4
(`/api/v4/projects/{id}/issues/{iid}`, merge requests under `/merge_requests/`), and Bugzilla
5 REST (`/rest/bug/{id}`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

JIRA_KEY = re.compile(r"^[A-Z][A-Z0-9_]*-\d+$")
SHORT_NUMBER = re.compile(r"^(?:#|gh-|GH-|issue\s+)(\d+)$", re.IGNORECASE)
GITHUB_URL = re.compile(r"^/([^/]+)/([^/]+)/(?:issues|pull)/(\d+)/?$")
GITLAB_URL = re.compile(r"^/(.+?)/-/(issues|merge_requests)/(\d+)/?$")
JIRA_URL = re.compile(r"^(.*)/browse/([A-Z][A-Z0-9_]*-\d+)/?$")
BUGZILLA_ID = re.compile(r"(?:^|[?&])id=(\d+)(?:&|$)")


@dataclass(frozen=True)
class Trackers:
    """Where the trackers live (from grabber.toml `[tickets]` or the environment)."""

    jira_url: str | None = None  # e.g. https://jira.example.com
    github_url: str = "https://github.com"  # where issue URLs point (GitHub Enterprise: its host)
    github_api: str = "https://api.github.com"  # GitHub Enterprise: https://HOST/api/v3
    gitlab_url: str = "https://gitlab.com"
    bugzilla_url: str | None = None

    def github_netlocs(self) -> tuple[str, ...]:
        return (urlsplit(self.github_url).netloc,)

    def gitlab_netlocs(self) -> tuple[str, ...]:
        return (urlsplit(self.gitlab_url).netloc,)


@dataclass(frozen=True)
class TicketRef:
    """One ticket to look up: the tracker kind, a stable key and the API URL."""

    tracker: str  # jira, github, gitlab, bugzilla
    key: str  # as the cache and the ticket_status table know it
    api_url: str

    @property
    def origin(self) -> str:
        parts = urlsplit(self.api_url)
        return f"{parts.scheme}://{parts.netloc}"


def _github_repo(repo: str, trackers: Trackers) -> tuple[str, str] | None:
    parts = urlsplit(repo)
    if parts.netloc not in trackers.github_netlocs():
        return None
    match = re.match(r"^/([^/]+)/([^/]+?)(?:\.git)?/?$", parts.path)
    return (match[1], match[2]) if match else None


def resolve(
    ticket: str | None, ticket_url: str | None, repo: str, trackers: Trackers
) -> TicketRef | None:
    """The ticket's tracker and API URL, or None when it names no tracker grabber knows."""
    for text in (ticket_url, ticket):
        if not text:
            continue
        text = text.strip()
        if text.startswith(("https://", "http://")):
            found = _from_url(text, trackers)
            if found:
                return found
            continue
        # gh-12 / GH-12 / #12 name the scanned GitHub repository's issues, even though
        # GH-12 looks like a Jira key too.
        number = SHORT_NUMBER.match(text)
        owner_repo = _github_repo(repo, trackers)
        if number and owner_repo:
            owner, name = owner_repo
            return _github(owner, name, number[1], trackers)
        if JIRA_KEY.match(text) and trackers.jira_url:
            base = trackers.jira_url.rstrip("/")
            return TicketRef("jira", f"{base}/browse/{text}", _jira_api(base, text))
    return None


def _jira_api(base: str, key: str) -> str:
    return f"{base}/rest/api/2/issue/{quote(key)}?fields=status,resolution,summary"


def _github(owner: str, name: str, number: str, trackers: Trackers) -> TicketRef:
    api = trackers.github_api.rstrip("/")
    path = f"/repos/{quote(owner, safe='')}/{quote(name, safe='')}/issues/{number}"
    return TicketRef("github", f"github:{owner}/{name}#{number}", api + path)


def _from_url(url: str, trackers: Trackers) -> TicketRef | None:
    parts = urlsplit(url)
    host = parts.netloc
    match = GITHUB_URL.match(parts.path) if host in trackers.github_netlocs() else None
    if match:
        return _github(match[1], match[2], match[3], trackers)
    match = GITLAB_URL.match(parts.path) if host in trackers.gitlab_netlocs() else None
    if match:
        project = quote(match[1], safe="")
        api = f"{parts.scheme}://{parts.netloc}/api/v4/projects/{project}/{match[2]}/{match[3]}"
        return TicketRef("gitlab", f"gitlab:{parts.netloc}/{match[1]}/{match[2]}/{match[3]}", api)
    # Ticket URLs come from the scanned code: only configured trackers are ever asked, so a
    # crafted URL cannot make grabber request an internal address.
    jira = JIRA_URL.match(url.split("?")[0])
    if jira and _under(url, trackers.jira_url):
        return TicketRef("jira", url.split("?")[0], _jira_api(jira[1], jira[2]))
    bug = BUGZILLA_ID.search(parts.query)
    if bug and parts.path.endswith("show_bug.cgi") and _under(url, trackers.bugzilla_url):
        base = f"{parts.scheme}://{parts.netloc}{parts.path[: -len('show_bug.cgi')]}".rstrip("/")
        api = f"{base}/rest/bug/{bug[1]}?include_fields=id,status,resolution,summary,is_open"
        return TicketRef("bugzilla", f"bugzilla:{parts.netloc}#{bug[1]}", api)
    return None


def _under(url: str, base: str | None) -> bool:
    return bool(base) and url.startswith(str(base).rstrip("/") + "/")
