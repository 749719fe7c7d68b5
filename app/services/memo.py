"""A small thread-safe least-recently-used memo, per process, for results that are pure functions
of a content hash (draft letters and their page images): a reviewer's page and the next reload
cost a lookup instead of a render."""
from __future__ import annotations

from collections import OrderedDict
from threading import Lock
from typing import Callable, Generic, TypeVar

T = TypeVar("T")


class Memo(Generic[T]):
    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[str, T] = OrderedDict()
        self._lock = Lock()
        self.hits = self.misses = 0

    def get(self, key: str, make: Callable[[], T]) -> T:
        """The value for ``key``, made (outside the lock: renders run in parallel) on a miss."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return self._items[key]
            self.misses += 1
        value = make()
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
