"""The token: where it comes from, which origin it is sent to, and how it is kept out of text.

The token (GITHUB_TOKEN or GRABBER_GIT_TOKEN, or a password in the URL) reaches git only as
an `http.<origin>/.extraHeader` in the environment of the git process (see command.py): never
in argv, a URL, a config file, a log or an error message. It is sent to the repository's own
scheme, host and port only: https, or plain http on a loopback host.
"""

from __future__ import annotations

import base64
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

log = logging.getLogger("xfail_grabber.git")

TOKEN_VARIABLES = ("GRABBER_GIT_TOKEN", "GITHUB_TOKEN")
TOKEN_USER = "x-access-token"  # noqa: S105 (a user name, not a secret)
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def token_from_env(environ: Mapping[str, str] | None = None) -> str | None:
    environ = os.environ if environ is None else environ
    for name in TOKEN_VARIABLES:
        value = environ.get(name, "").strip()
        if value:
            return value
    return None


@dataclass(frozen=True)
class Auth:
    """How git authenticates to one remote: a token sent as a header to that origin only."""

    token: str | None = None
    url_prefix: str | None = None  # scheme://host[:port]/ the header is restricted to

    def scrub(self, text: str) -> str:
        """Remove every form of the token from a text (stderr, exception messages)."""
        if not self.token:
            return text
        for secret in (self.token, basic(self.token)):
            text = text.replace(secret, "***")
        return text

    def header(self) -> str | None:
        """The `Authorization` header git sends, or None when nothing is sent."""
        if self.token and self.url_prefix:
            return f"Authorization: Basic {basic(self.token)}"
        return None


def basic(token: str) -> str:
    return base64.b64encode(f"{TOKEN_USER}:{token}".encode()).decode("ascii")


def is_loopback(host: str) -> bool:
    return host.lower().strip("[]") in LOOPBACK_HOSTS


def auth_for(url: str, token: str | None) -> Auth:
    """The Auth for a remote URL: the token is used for https (and plain http on loopback)."""
    if not token:
        return Auth()
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    if scheme == "https" or (scheme == "http" and is_loopback(host)):
        netloc = parts.netloc.rsplit("@", 1)[-1]
        return Auth(token=token, url_prefix=f"{scheme}://{netloc}/")
    if scheme == "http":
        log.warning("not sending the token over plain http to %s", host)
    return Auth(token=token)  # kept only to scrub messages
