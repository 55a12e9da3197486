"""The prefilter's word search answers exactly as the whole-word regex does: with few words
(a substring test first) and with many (the file's words as a set)."""

from __future__ import annotations

import random
import re

import pytest

from xfail_grabber.scan.words import (
    MANY_WORDS,
    MUTE_WORDS,
    NameSearch,
    WordSearch,
    class_key,
    import_words,
    keyword_bytes_pattern,
    keyword_pattern,
)

SAMPLES = [
    b"",
    b"import os\n",
    b"def test_a():\n    pytest.skip('no')\n",
    b"skip_rows = 3  # not a word on its own\n",
    b"noskip = xfailing = 1\n",
    b"@pytest.mark.skipif(True, reason='x')\n",
    b"class T(unittest.TestCase):\n    @unittest.expectedFailure\n    def test_a(self): ...\n",
    b"requires_network = pytest.mark.network\n@requires_network\ndef test_n(): ...\n",
    b"# todo: later\n",
    b"TODO = 1\n",
    b"x = 'flaky'\n",
    b"SkipTestCase = 1\n",
    b"unicode \xc3\xa9skip \xe2\x80\xa8 end\n",
    b"class TestA(Base0):\n    pass\n",
    b"x = Base0x + _Base1 + Base2\xc3\xa9\n",
]
MANY = tuple(f"Base{i}" for i in range(3 * MANY_WORDS))


@pytest.mark.parametrize("only", [False, True])
@pytest.mark.parametrize(
    "names", [(), ("xfailflake", "quarantined"), ("requires_network",), MANY, ("café", *MANY)]
)
def test_word_search_answers_as_the_regex_does(names: tuple[str, ...], only: bool) -> None:
    if only and not names:
        # No word at all: the regex would match the empty word at any boundary; no word
        # means nothing to find.
        assert not keyword_bytes_pattern(names, only=True).search(b"skip it")
        return
    search = keyword_bytes_pattern(names, only=only)
    plain = re.compile(keyword_pattern(names, only=only).pattern.encode())
    rng = random.Random(7)
    words = sorted(MUTE_WORDS | set(names))
    texts = list(SAMPLES)
    pieces = [*words, "a", "_", "1", " ", "\n", ".", "(", "sk", "ip", "é", "\u2028", "\x00"]
    for _ in range(500):  # words glued to letters, digits, underscores, or standing alone
        texts.append("".join(rng.choice(pieces) for _ in range(6)).encode())
    for text in texts:
        assert search.search(text) == (plain.search(text) is not None), text


def test_many_words_are_looked_up_as_a_set_few_by_substring() -> None:
    assert WordSearch(MANY).words is not None
    assert WordSearch(("skip", "skipif", "skipTest", "xfail", "xfailflake")).words is None
    assert WordSearch(("café", *MANY)).words is None  # not ASCII: the regex decides
    search = WordSearch(("skip", "skipif", "skipTest", "xfail", "xfailflake"))
    assert search.needles == (b"skip", b"xfail")  # a word inside another needs no test


def test_a_class_is_named_with_its_module_in_import_and_class_statements() -> None:
    """Pass 2 takes a file for a class of another module when its import and class
    statements name both (a parenthesised list over several lines too); a class of the same
    name without its module, or the name only in code, is not enough."""
    search = NameSearch({class_key("Base", "bases"), class_key("Middle", "middle"), "needs_gpu"})

    def asks(text: str) -> bool:
        data = text.encode()
        return search.search(data, lambda: import_words(data))

    assert asks("from tests.bases import Base\n\nclass TestA(Base):\n    pass\n")
    assert asks("from tests.bases import (\n    Other,\n    Base,\n)\n")
    assert asks("from tests import middle\n\nclass TestB(\n    middle.Middle,\n):\n    pass\n")
    assert asks("x = 1\n@needs_gpu\ndef test_gpu(): ...\n")  # an alias: the word anywhere
    assert not asks("class Base:\n    pass\n\nclass TestC(Base):\n    pass\n")
    assert not asks("import bases\n\ndef f():\n    return Base\n")  # not in a statement
    assert import_words(b"import os\nclass A(B, C): pass\nx = y\n") == {
        b"import",
        b"os",
        b"class",
        b"A",
        b"B",
        b"C",
        b"pass",
    }
