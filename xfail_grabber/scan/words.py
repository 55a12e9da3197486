"""The words that make a file, or a statement, worth parsing (no libcst import here: a warm
scan answered from the cache should not pay for loading the parser)."""

from __future__ import annotations

import functools
import re

# Whole words only: `skip_rows` or `xfail_count` in ordinary code does not make a file a suspect.
MUTE_WORDS = frozenset(
    {
        "skip",
        "skipif",
        "xfail",
        "flaky",
        "skipIf",
        "skipUnless",
        "expectedFailure",
        "skipTest",
        "SkipTest",
        "pytestmark",
        "importorskip",
        "add_marker",
        "applymarker",
        "todo",  # twisted trial: `todo = "reason"`
    }
)


def keyword_pattern(names: tuple[str, ...] | list[str], *, only: bool = False) -> re.Pattern[str]:
    """Words whose presence means a statement (or file) may hold a mute: the mute words and
    `names`, or `names` alone with `only`."""
    return _pattern(tuple(sorted(set(names) if only else set(names) | MUTE_WORDS)))


@functools.lru_cache(maxsize=256)
def _pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b")


def keyword_bytes_pattern(
    names: tuple[str, ...] | list[str], *, only: bool = False
) -> re.Pattern[bytes]:
    return re.compile(keyword_pattern(names, only=only).pattern.encode())
