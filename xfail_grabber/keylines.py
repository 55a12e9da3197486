"""Where keys are in a TOML file's text: tomllib gives no positions, so the one-line errors
about grabber.toml (policy, enrichment, fleet) find a key's line here.

Keys are dotted paths as the document nests them: `policy.max-age`, `repos[2].url` (the third
`[[repos]]`), `tickets.jira_url`; quoted keys are unquoted (`"url" = ...` is `url`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_KEY = r'(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|\'[^\']*\')'
_DOTTED = rf"{_KEY}(?:\s*\.\s*{_KEY})*"
_HEADER = re.compile(rf"^\s*(\[\[?)\s*({_DOTTED})\s*\]\]?")
_ASSIGN = re.compile(rf"^\s*({_DOTTED})\s*=")
_PART = re.compile(_KEY)


def _parts(dotted: str) -> list[str]:
    return [p.strip("\"'") for p in _PART.findall(dotted)]


def key_lines(text: str) -> dict[str, int]:
    """'policy.paths[1].max-age' -> its 1-based line, for every table header and key."""
    found: dict[str, int] = {}
    arrays: dict[str, int] = {}
    table = ""
    for number, line in enumerate(text.splitlines(), 1):
        header = _HEADER.match(line)
        if header:
            name = ".".join(_parts(header[2]))
            if header[1] == "[[":
                arrays[name] = arrays.get(name, -1) + 1
                table = f"{name}[{arrays[name]}]"
            else:
                table = name
            found.setdefault(table, number)
            continue
        assign = _ASSIGN.match(line)
        if assign:
            key = ".".join(_parts(assign[1]))
            found.setdefault(f"{table}.{key}" if table else key, number)
    return found


def find_line(lines: Mapping[str, int], key: str) -> int:
    """The line of `key`, or of the nearest enclosing key that is written down (1 if none)."""
    parts = key.split(".")
    while parts:
        line = lines.get(".".join(parts))
        if line:
            return line
        parts.pop()
    return 1
