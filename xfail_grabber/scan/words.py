"""The words that make a file, or a statement, worth parsing (no libcst import here: a warm
scan answered from the cache should not pay for loading the parser)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

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


# Bytes that are not ASCII word characters (what `\w` is in a bytes regex) become spaces:
# `data.translate(_SPACES).split()` lists a text's whole words.
_NOT_WORD = bytes(c for c in range(256) if not (chr(c).isascii() and (chr(c).isalnum() or c == 95)))
_SPACES = bytes.maketrans(_NOT_WORD, b" " * len(_NOT_WORD))
MANY_WORDS = 8


class WordSearch:
    """Whole-word search in a file's bytes, as the regex `\b(?:word|...)\b` answers it.

    Few words (the prefilter's): a plain substring test per word, at memory speed, and the
    regex only on a file that holds one of them: 0.15 s -> 0.09 s over the benchmark tree's
    15.8 MB. Many words (pass 2 looks for every class, alias and helper name other files
    define, hundreds of them): the file's words as a set, checked against the names: 0.1 s
    for any number of names, where the regex took 6 s for 400.
    """

    def __init__(self, words: tuple[str, ...]) -> None:
        self.regex = re.compile(_pattern(words).pattern.encode())
        encoded = [w.encode() for w in words]
        # A word holding another (`skipif` holds `skip`) needs no test of its own.
        needles: list[bytes] = []
        for needle in sorted(encoded, key=len):
            if not any(shorter in needle for shorter in needles):
                needles.append(needle)
        self.needles = tuple(needles)
        ascii_words = all(w.isascii() and w.translate(_SPACES) == w for w in encoded)
        self.words = frozenset(encoded) if len(needles) > MANY_WORDS and ascii_words else None

    def search(self, data: bytes) -> bool:
        """Does `data` hold one of the words as a whole word?"""
        if self.words is not None:
            return not self.words.isdisjoint(data.translate(_SPACES).split())
        for needle in self.needles:
            if needle in data:
                return self.regex.search(data) is not None
        return False


# A class as pass 2 looks for it: its name and the word an import of its module holds.
KEY_SEPARATOR = "\0"


def class_key(name: str, module_word: str) -> str:
    return f"{name}{KEY_SEPARATOR}{module_word}"


# `import` / `from` / `class` statements, a parenthesised list spanning lines included. A line
# break first, not `^` with re.M: a literal start is what lets the regex skip ahead quickly.
_IMPORT_OR_CLASS = re.compile(rb"\n[ \t]*(?:from|import|class)\b[^\n(]*(?:\([^)]*\))?[^\n]*")


def import_words(data: bytes) -> frozenset[bytes]:
    """The words of a file's import and class statements: where a file that uses a class of
    another module names it and its module (0.04 s over the benchmark tree's 15.8 MB, about
    11 words a file; 0.11 s with `^` and re.M)."""
    found = _IMPORT_OR_CLASS.findall(b"\n" + data)
    return frozenset(b" ".join(found).translate(_SPACES).split())


class NameSearch:
    """Pass 2's question to a file without marker words: does it name an exported alias or
    helper (a whole word anywhere), or, in its import and class statements, a class together
    with its module's word (`class_key`)?"""

    def __init__(self, keys: set[str] | frozenset[str]) -> None:
        plain: set[str] = set()
        self.classes: dict[bytes, set[bytes]] = {}
        for key in keys:
            name, _, word = key.partition(KEY_SEPARATOR)
            if not word or not (name + word).isascii():
                plain.add(name)  # a non-ASCII class name: the name alone decides
            else:
                self.classes.setdefault(name.encode(), set()).add(word.encode())
        self.plain = WordSearch(tuple(sorted(plain))) if plain else None

    def search(self, data: bytes, words: Callable[[], frozenset[bytes]]) -> bool:
        """`words()`: the file's `import_words` (computed once by the caller, if asked)."""
        if self.plain is not None and self.plain.search(data):
            return True
        if not self.classes:
            return False
        found = words()
        return any(not self.classes[name].isdisjoint(found) for name in found & self.classes.keys())


def keyword_bytes_pattern(names: tuple[str, ...] | list[str], *, only: bool = False) -> WordSearch:
    return WordSearch(tuple(sorted(set(names) if only else set(names) | MUTE_WORDS)))
