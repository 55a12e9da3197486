"""`owners` from the repository's CODEOWNERS.

Matching uses the maintained `codeowners` package (GitHub's rules: gitignore-style patterns,
the last matching line wins, a line without owners un-owns). GitLab's sections are handled
here: each section is matched on its own, the owners of every section that matches are
combined, and a line without owners in a section takes the section's default owners.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from codeowners import CodeOwners

# Where GitHub looks, first found wins (GitLab also reads .gitlab/CODEOWNERS).
LOCATIONS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS", ".gitlab/CODEOWNERS")
MAX_BYTES = 3 * 1024 * 1024  # GitHub ignores a CODEOWNERS file over 3 MB
SECTION = re.compile(r"^\^?\[([^\]]+)\](?:\[\d+\])?(.*)$")


@dataclass(frozen=True)
class Section:
    name: str | None
    defaults: tuple[str, ...]
    rules: CodeOwners


@dataclass(frozen=True)
class Owners:
    """A parsed CODEOWNERS file; `of(path)` is the owners of one repository path."""

    source: str | None  # the file it came from, None when the repository has none
    sections: tuple[Section, ...]

    def of(self, path: str) -> list[str]:
        found: list[str] = []
        for section in self.sections:
            owners, line, _, _ = section.rules.matching_line(path)
            if line is None:
                continue
            names = [name for _, name in owners] or list(section.defaults)
            found.extend(n for n in names if n not in found)
        return found


def parse(text: str, source: str | None = None) -> Owners:
    """Split GitLab sections apart (the package would mix their rules), then parse each."""
    chunks: list[tuple[str | None, tuple[str, ...], list[str]]] = [(None, (), [])]
    for line in text.splitlines():
        stripped = line.strip()
        header = SECTION.match(stripped) if stripped.startswith(("[", "^[")) else None
        if header:
            defaults = tuple(o for o in header.group(2).split() if not o.startswith("#"))
            chunks.append((header.group(1), defaults, []))
        else:
            chunks[-1][2].append(line)
    sections = []
    for name, defaults, lines in chunks:
        body = "\n".join(_with_defaults(lines, defaults))
        sections.append(Section(name, defaults, CodeOwners(body)))
    return Owners(source, tuple(sections))


def _with_defaults(lines: list[str], defaults: tuple[str, ...]) -> Iterable[str]:
    for line in lines:
        stripped = line.strip()
        if defaults and stripped and not stripped.startswith("#") and len(stripped.split()) == 1:
            yield stripped + " " + " ".join(defaults)
        else:
            yield line


def load(read: Callable[[str], bytes | None]) -> Owners:
    """The repository's CODEOWNERS, read with `read(path)`; empty when there is none."""
    for location in LOCATIONS:
        data = read(location)
        if data is None:
            continue
        if len(data) > MAX_BYTES:
            return Owners(location, ())
        return parse(data.decode("utf-8", "replace"), location)
    return Owners(None, ())
