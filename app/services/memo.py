"""A small thread-safe least-recently-used memo, per process, for results that are pure functions
of a content hash (draft letters and their page images): a reviewer's page and the next reload
cost a lookup instead of a render."""
from __future__ import annotations

import fcntl
import os
from collections import OrderedDict
from pathlib import Path
from threading import Lock, get_ident
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


class FileMemo:
    """The same for bytes shared by every process of one host (gunicorn's workers each have their
    own Memo): one file per key in a directory, written atomically. A key another process is
    making is waited for (a lock file per key), not made twice; the oldest files beyond
    ``max_files`` are removed as new ones are written."""

    def __init__(self, directory: Callable[[], Path], max_files: int) -> None:
        self.directory = directory
        self.max_files = max_files
        self._lock = Lock()
        self.hits = self.misses = 0

    def _count(self, hit: bool) -> None:
        with self._lock:
            if hit:
                self.hits += 1
            else:
                self.misses += 1

    def get(self, key: str, make: Callable[[], bytes]) -> bytes:
        if not key or any(c not in "0123456789abcdef" for c in key):
            raise ValueError("a FileMemo key is a hex digest")
        folder = self.directory()
        path = folder / f"{key}.bin"
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            pass
        else:
            self._count(True)
            return data
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        with open(folder / f"{key}.lock", "ab") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # per open file: also between threads of one process
            try:
                try:
                    data = path.read_bytes()  # made by another process while this one waited
                except FileNotFoundError:
                    pass
                else:
                    self._count(True)
                    return data
                self._count(False)
                data = make()
                tmp = folder / f"{key}.{os.getpid()}.{get_ident()}.tmp"
                tmp.write_bytes(data)
                os.replace(tmp, path)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
        self._prune(folder)
        return data

    def _prune(self, folder: Path) -> None:
        files = list(folder.glob("*.bin"))
        if len(files) <= self.max_files:
            return
        def mtime(p: Path) -> float:
            try:
                return p.stat().st_mtime
            except FileNotFoundError:
                return 0.0
        for old in sorted(files, key=mtime)[:len(files) - self.max_files]:
            old.unlink(missing_ok=True)
            old.with_suffix(".lock").unlink(missing_ok=True)

    def clear(self) -> None:
        folder = self.directory()
        if folder.is_dir():
            for p in list(folder.glob("*.bin")) + list(folder.glob("*.lock")):
                p.unlink(missing_ok=True)
