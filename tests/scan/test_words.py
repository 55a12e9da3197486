"""The prefilter's word search (a substring test first, then the whole-word regex) answers
exactly as the regex alone does."""

from __future__ import annotations

import random
import re

import pytest

from xfail_grabber.scan.words import MUTE_WORDS, WordSearch, keyword_bytes_pattern, keyword_pattern

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
    b"unicode \xc3\xa9 skip \xe2\x80\xa8 end\n",
]


@pytest.mark.parametrize("only", [False, True])
@pytest.mark.parametrize("names", [(), ("xfailflake", "quarantined"), ("requires_network",)])
def test_word_search_answers_as_the_regex_does(names: tuple[str, ...], only: bool) -> None:
    if only and not names:
        # No word at all: the regex would match the empty word at any boundary; no word
        # means nothing to find.
        assert keyword_bytes_pattern(names, only=True).search(b"skip it") is None
        return
    search = keyword_bytes_pattern(names, only=only)
    plain = re.compile(keyword_pattern(names, only=only).pattern.encode())
    rng = random.Random(7)
    words = sorted(MUTE_WORDS | set(names))
    texts = list(SAMPLES)
    for _ in range(300):  # words glued to letters, digits, underscores, or standing alone
        parts = [rng.choice([*words, "a", "_", "1", " ", "\n", ".", "sk", "ip"]) for _ in range(6)]
        texts.append("".join(parts).encode())
    for text in texts:
        found, expected = search.search(text), plain.search(text)
        assert (found is None) == (expected is None), text
        if found is not None and expected is not None:
            assert found.span() == expected.span(), text


def test_a_word_inside_another_needs_no_test_of_its_own() -> None:
    search = WordSearch(("skip", "skipif", "skipTest", "xfail", "xfailflake"))
    assert search.needles == (b"skip", b"xfail")
