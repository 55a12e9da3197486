"""The original command form: `xfailflake_grabber.py <action> <repository> <branch> [port]`.

Actions as the original tool had them: `dump`, `serve <port>`, `redshift`, `help`. Like the
original, `dump` and `serve` report the `xfailflake` marker only (`redshift` stores every
kind; the compatibility view shows the xfailflake rows); unlike it, stdout carries clean JSON and
the database password never reaches a command line.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

USAGE = """\
usage: xfailflake_grabber.py <action> <repository> <branch> [args]

actions:
  dump <repository> <branch>          print the xfailflake-marked tests as JSON
  serve <repository> <branch> <port>  serve them over HTTP (Redash data source at /redash) on
                                      every interface (GRABBER_HOST=127.0.0.1 to narrow it)
  redshift <repository> <branch>      push a snapshot to the database named by POSTGRES_HOST,
                                      POSTGRES_PORT, POSTGRES_DB, POSTGRES_USER, POSTGRES_PASSWORD
  help                                show this message

This is the original command form; `grabber --help` shows everything the tool can do.
"""

LEGACY_MARKER = ["--only", "xfailflake"]


def main(argv: Sequence[str] | None = None) -> int:
    from .cli import main as grabber_main

    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("help", "-h", "--help"):
        sys.stdout.write(USAGE)
        return 0
    if not args:
        sys.stderr.write(USAGE)
        return 2
    action, rest = args[0], args[1:]
    if action == "dump" and len(rest) == 2:
        return grabber_main(["dump", *rest, *LEGACY_MARKER])
    if action == "serve" and len(rest) == 3:
        repository, branch, port = rest
        # The original served on every interface (it ran in a container); GRABBER_HOST narrows it.
        host = os.environ.get("GRABBER_HOST", "0.0.0.0")  # noqa: S104
        args = ["serve", repository, branch, "--host", host, "--port", port, *LEGACY_MARKER]
        return grabber_main(args)
    if action == "redshift" and len(rest) == 2:
        from .sinks.db.url import legacy_env_url

        url = legacy_env_url("redshift")
        if url is None:
            sys.stderr.write(
                "xfailflake_grabber.py: error: set POSTGRES_HOST (and POSTGRES_PORT, "
                "POSTGRES_DB, POSTGRES_USER, POSTGRES_PASSWORD) for redshift\n"
            )
            return 1
        # The URL holds the password: it travels in the environment, not in argv, and only
        # for the length of this call.
        saved = os.environ.get("GRABBER_DATABASE_URL")
        os.environ["GRABBER_DATABASE_URL"] = url
        try:
            # Every kind, not only xfailflake: the same day's snapshot is shared with the
            # daily `grabber push`, and a narrower push would replace it with less. The
            # xfailflake_history_v1 view still shows the original's xfailflake rows only.
            return grabber_main(["push", *rest])
        finally:
            if saved is None:
                del os.environ["GRABBER_DATABASE_URL"]
            else:
                os.environ["GRABBER_DATABASE_URL"] = saved
    sys.stderr.write(USAGE)
    if action in ("dump", "serve", "redshift"):
        sys.stderr.write(f"xfailflake_grabber.py: error: wrong number of arguments for {action}\n")
    else:
        sys.stderr.write(f"xfailflake_grabber.py: error: unknown action {action!r}\n")
    return 2
