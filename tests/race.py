"""Real concurrency for the tests: N threads, each with its own app context (its own session and
database connection), held at their first write until all of them have got that far.

So every thread reads the same state (nothing issued yet, the same case version) and decides to
write before any of them has written: the race the database constraints must settle, made
certain instead of left to timing. Nothing is mocked; the threads run the real services or
requests against the real database (SQLite or PostgreSQL).
"""
from __future__ import annotations

import re
import threading
from typing import Any, Callable

from sqlalchemy import event

from app.extensions import db

WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.I)


class WriteGate:
    def __init__(self, n: int, timeout: float = 60) -> None:
        self.barrier = threading.Barrier(n, timeout=timeout)
        self.local = threading.local()

    def arm(self) -> None:
        self.local.armed = True

    def release(self) -> None:
        """A thread that finished without writing still counts as arrived."""
        if getattr(self.local, "armed", False):
            self.local.armed = False
            self.barrier.wait()

    def before_execute(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if getattr(self.local, "armed", False) and WRITE.match(statement):
            self.local.armed = False
            self.barrier.wait()


def race(app, n: int, fn: Callable[[int], Any], timeout: float = 120) -> list[Any]:
    """Run fn(i) in n threads at once; return what each returned or raised, in thread order."""
    gate = WriteGate(n)
    results: list[Any] = [None] * n
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", gate.before_execute)

    def run(i: int) -> None:
        try:
            with app.app_context():
                try:
                    gate.arm()
                    results[i] = fn(i)
                finally:
                    gate.release()
                    db.session.remove()
        except BaseException as e:  # noqa: BLE001 - handed back to the test
            results[i] = e
            gate.release()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout)
        assert not any(t.is_alive() for t in threads), "a racing thread hung"
    finally:
        event.remove(engine, "before_cursor_execute", gate.before_execute)
    return results
