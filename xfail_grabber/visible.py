"""Text shown to people (markdown, CSV, stderr): characters that act instead of showing are
written out as escapes.

Repository content (test names, reasons, paths) is not trusted: an ANSI escape sequence
recolours or rewrites a terminal, a carriage return overwrites the line it is on, a
bidirectional override (U+202E) reorders what a reviewer reads. Each becomes `\\x1b`,
`\\r`, `\\u202e`: visible, and the same text for everyone.
"""

from __future__ import annotations

import functools
import re

# C0 and C1 controls and DEL; bidi marks, embeddings, overrides and isolates; zero-width
# characters; line and paragraph separators; the byte order mark.
HIDDEN = "\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2069\ufeff"
NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


@functools.lru_cache(maxsize=8)
def _pattern(keep: str) -> re.Pattern[str]:
    kept = "".join(re.escape(c) for c in keep)
    return re.compile(f"(?![{kept}])[{HIDDEN}]" if keep else f"[{HIDDEN}]")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in NAMED:
        return NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str, keep: str = "") -> str:
    """`text` with every control, bidi and invisible formatting character written as an
    escape, except those in `keep` (e.g. "\\n" for multi-line messages)."""
    return _pattern(keep).sub(_escape, text)
