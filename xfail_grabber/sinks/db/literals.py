"""SQL literals for the Redshift dialect, quoted by grabber rather than by the driver.

Redshift reads a backslash in an ordinary string literal as an escape and has no E'...'
syntax, while psycopg2 picks its quoting from what the server reports; so for Redshift every
value is written here: backslashes and quotes doubled, times and days as CASTs. The
connection makes sure the server reads literals that way (see `connection._open_raw`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

# A quoted name or string: a `?` inside one is not a placeholder.
QUOTED = re.compile(r"(\"(?:[^\"]|\"\")*\"|'(?:[^']|'')*')")


def literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if value is True:
        return "TRUE"
    if value is False:
        return "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime):
        return f"CAST('{value.isoformat(sep=' ')}' AS TIMESTAMPTZ)"
    if isinstance(value, date):
        return f"CAST('{value.isoformat()}' AS DATE)"
    text = str(value)
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


def inline(text: str, params: Sequence[Any]) -> str:
    """`text` with each `?` placeholder (outside quotes) replaced by its value's literal."""
    values = list(params)
    parts = QUOTED.split(text)
    used = 0
    for i in range(0, len(parts), 2):
        pieces = parts[i].split("?")
        if used + len(pieces) - 1 > len(values):
            raise ValueError("fewer parameters than placeholders")
        filled = [pieces[0]]
        for rest in pieces[1:]:
            filled.append(literal(values[used]) + rest)
            used += 1
        parts[i] = "".join(filled)
    if used != len(values):
        raise ValueError("more parameters than placeholders")
    return "".join(parts)
