"""A least-recently-used map bounded by the bytes of its values, not their number.

Per-file scan results vary from a few bytes (a file with no marker word) to megabytes (a
generated test module with thousands of cases): a count bound either wastes memory or holds
too little. The caller says what each value weighs.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

V = TypeVar("V")

# What a dict entry, its key string and the OrderedDict links cost besides the value.
ENTRY_OVERHEAD = 200


class ByteLRU(Generic[V]):
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self._items: OrderedDict[str, tuple[V, int]] = OrderedDict()

    def __getitem__(self, key: str) -> V:
        """The value (KeyError when absent); it becomes the most recently used."""
        value = self._items[key][0]
        self._items.move_to_end(key)
        return value

    def __contains__(self, key: str) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def put(self, key: str, value: V, weight: int) -> None:
        weight += ENTRY_OVERHEAD
        old = self._items.pop(key, None)
        if old is not None:
            self.size -= old[1]
        if weight > self.limit:
            return  # larger than the whole budget: not kept at all
        self._items[key] = (value, weight)
        self.size += weight
        while self.size > self.limit:
            _, (_, dropped) = self._items.popitem(last=False)
            self.size -= dropped

    def clear(self) -> None:
        self._items.clear()
        self.size = 0
