"""The byte-bounded LRU that keeps decoded scan results in memory across commits."""

from __future__ import annotations

import pytest

from xfail_grabber.lru import ENTRY_OVERHEAD, ByteLRU


def test_evicts_least_recently_used_by_bytes() -> None:
    lru: ByteLRU[str] = ByteLRU(3 * (100 + ENTRY_OVERHEAD))
    for key in "abc":
        lru.put(key, key.upper(), 100)
    assert lru["a"] == "A"  # a is now the most recent: b goes first
    lru.put("d", "D", 100)
    assert ("b" in lru, "a" in lru, "c" in lru, "d" in lru) == (False, True, True, True)
    lru.put("e", "E", 250)  # needs the room of two entries
    assert sorted(k for k in "abcde" if k in lru) == ["d", "e"]
    assert lru.size == 350 + 2 * ENTRY_OVERHEAD <= lru.limit
    with pytest.raises(KeyError):
        lru["b"]


def test_replacing_a_key_and_oversized_values() -> None:
    lru: ByteLRU[int] = ByteLRU(1000)
    lru.put("a", 1, 500)
    lru.put("a", 2, 10)
    assert (lru["a"], len(lru), lru.size) == (2, 1, 10 + ENTRY_OVERHEAD)
    lru.put("huge", 3, 5000)  # larger than the whole budget: not kept, nothing evicted
    assert ("huge" in lru, "a" in lru) == (False, True)
    lru.clear()
    assert (len(lru), lru.size) == (0, 0)
