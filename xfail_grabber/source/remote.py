"""A repository URL: which transports are allowed, what users see, where the token goes.

`parse_remote` splits the credentials off a URL (a password or a bare token user becomes the
token), refuses transports other than https, ssh, file (and http to a loopback host) and the
`<helper>::<address>` form (`ext::` runs a command), and gives the token-free label users see.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from git import Git
from git.exc import UnsafeProtocolError

from . import SourceError
from .auth import Auth, auth_for, is_loopback, token_from_env
from .command import GitFailed, Network, default_timeout

SCHEMES = ("https", "http", "ssh", "file")

AUTH_ERRORS = re.compile(
    r"authentication failed|could not read (username|password)|returned error: 40[13]|"
    r"\b401\b|\b403\b|terminal prompts disabled",
    re.IGNORECASE,
)
_REDIRECT = re.compile(r"returned error: 30[12378]|redirect", re.IGNORECASE)
NETWORK_ERRORS = re.compile(
    r"could not resolve host|connection refused|unable to access|timed out|"
    r"does not appear to be a git repository|could not read from remote|not found|"
    r"no such file or directory|not a git repository|unable to connect|network is unreachable|"
    r"transport .* not allowed|operation too slow|gave no answer",
    re.IGNORECASE,
)


def is_url(repository: str) -> bool:
    """https://, ssh://, file:// URLs, scp-like `git@host:org/repo` and `helper::address`."""
    if "://" in repository or Git.re_unsafe_protocol.match(repository):
        return True
    head = repository.split("/", 1)[0]
    return ":" in head and "@" in head and not os.path.exists(repository)


@dataclass(frozen=True)
class Remote:
    url: str  # what git is given: no password, no token
    label: str  # what users see: no credentials at all
    network: Network

    @property
    def auth(self) -> Auth:
        return self.network.auth


def parse_remote(
    repository: str, token: str | None = None, *, timeout: float | None = None
) -> Remote:
    """Split credentials off a URL and check its transport; SourceError when refused."""
    token = token if token is not None else token_from_env()
    timeout = timeout if timeout is not None else default_timeout()
    try:
        Git.check_unsafe_protocols(repository)  # GitPython's check: `ext::`, `x::`, `ext://`
    except UnsafeProtocolError:
        transport = repository.split("::", 1)[0].split("://", 1)[0][:20]
        raise SourceError(f"unsupported transport: {transport}::") from None
    if repository.startswith("-"):
        raise SourceError(f"not a valid repository: {repository!r}")
    if "://" not in repository:  # scp-like user@host:path, which git reaches over ssh
        network = Network(auth=auth_for(repository, token), timeout=timeout)
        return Remote(url=repository, label=repository, network=network)
    parts = urlsplit(repository)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise SourceError(f"unsupported URL scheme: {scheme}")
    try:
        port = parts.port
    except ValueError:
        raise SourceError(f"not a valid URL: {redact(repository)}") from None
    host = parts.hostname or ""
    if scheme == "http" and not is_loopback(host):
        raise SourceError(f"plain http is allowed to a loopback host only; use https: {host}")
    if ":" in host:  # IPv6
        host = f"[{host}]"
    if port:
        host = f"{host}:{port}"
    user = parts.username
    password = parts.password
    if scheme in ("https", "http") and (user or password):
        # https://TOKEN@host/... and https://user:TOKEN@host/... both carry a secret.
        token = password or user
        user = None
    netloc_url = f"{user}@{host}" if user and scheme == "ssh" else host
    url = urlunsplit((parts.scheme, netloc_url, parts.path, parts.query, ""))
    label = urlunsplit((parts.scheme, host, parts.path, "", ""))
    network = Network(auth=auth_for(url, token), allow_http=scheme == "http", timeout=timeout)
    return Remote(url=url, label=label, network=network)


def redact(url: str) -> str:
    """A URL with any user information replaced, for error messages."""
    head, sep, rest = url.partition("://")
    if sep and "@" in rest.split("/", 1)[0]:
        return f"{head}://***@{rest.split('@', 1)[1]}"
    return url


def remote_error(remote: Remote, error: GitFailed, action: str = "clone") -> SourceError:
    """A one-line, token-free error for a failed clone or fetch."""
    text = remote.network.scrub(error.stderr or str(error))
    if error.timed_out:
        return SourceError(f"cannot {action} {remote.label}: {error}")
    if AUTH_ERRORS.search(text):
        if remote.auth.token:
            return SourceError(f"authentication failed for {remote.label}")
        return SourceError(
            f"authentication required for {remote.label}: set GITHUB_TOKEN or GRABBER_GIT_TOKEN"
        )
    if remote.auth.header() is not None and _REDIRECT.search(text):
        return SourceError(
            f"cannot {action} {remote.label}: the server redirects elsewhere, and the token is"
            " sent to the repository's own origin only: give the URL it redirects to"
        )
    detail = remote.network.scrub(str(error)).replace(remote.url, remote.label)
    return SourceError(f"cannot {action} {remote.label}: {detail}")
