"""The task queue (Huey): an embedded SQLite file by default, Redis for several hosts (QUEUE_URL).
Work is declared where it lives (``register("ocr", ocr.run_job)`` in app/casefile/ocr.py, above this
layer); each app builds its Huey on first use and binds every registered function as a task that
runs inside that app's context. ``flask worker`` (app/cli.py) consumes it in its own process."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable

from flask import Flask, current_app

from ..extensions import db

log = logging.getLogger(__name__)

_FUNCTIONS: dict[str, Callable] = {}  # task name -> plain function of JSON-able arguments
_STARTUP: list[Callable[[], None]] = []  # run by the worker at start and every SWEEP_MINUTES
SWEEP_MINUTES = 5


def register(name: str, fn: Callable) -> None:
    _FUNCTIONS[name] = fn


def on_worker_start(fn: Callable[[], None]) -> Callable[[], None]:
    _STARTUP.append(fn)
    return fn


def huey(app: Flask | None = None):
    """This app's Huey, with a task for each registered function (built once per app)."""
    app = app or current_app._get_current_object()
    state = app.extensions.get("huey")
    if state is None:
        state = app.extensions["huey"] = {"huey": _build(app), "tasks": {}}
    tasks = state["tasks"]
    for name, fn in _FUNCTIONS.items():
        if name not in tasks:
            tasks[name] = state["huey"].task(name=name)(_in_context(app, fn))
    if "sweep" not in tasks:
        from huey import crontab

        # Work whose enqueue failed (Redis down during an upload) waits at most this long.
        tasks["sweep"] = state["huey"].periodic_task(crontab(minute=f"*/{SWEEP_MINUTES}"), name="sweep")(
            _in_context(app, run_startup))
    return state["huey"]


def _build(app: Flask):
    url = app.config["QUEUE_URL"]
    name = app.config["QUEUE_NAME"]
    if url.startswith(("redis://", "rediss://", "unix://")):
        import redis
        from huey import RedisHuey

        # Bounded: an unreachable Redis costs an upload (or /readyz) two seconds at most, never a hang.
        # The socket timeout stays above the consumer's blocking read (1 s).
        pool = redis.ConnectionPool.from_url(url, socket_connect_timeout=2, socket_timeout=10)
        return RedisHuey(name, connection_pool=pool, results=False)
    from huey import SqliteHuey

    path = url.removeprefix("sqlite:///") if url else str(Path(app.instance_path) / "queue.sqlite3")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(name, filename=path, results=False)


def _in_context(app: Flask, fn: Callable) -> Callable:
    def run(*args):
        with app.app_context():
            try:
                return fn(*args)
            finally:
                db.session.remove()
    run.__name__ = fn.__name__
    return run


def enqueue(name: str, *args) -> bool:
    """Hand ``name(*args)`` to the worker; False (and a logged message) when the queue cannot be
    reached: the caller's own record of the work stays, and the worker's sweep picks it up."""
    try:
        huey()
        current_app.extensions["huey"]["tasks"][name](*args)
        return True
    except Exception:  # a request never fails, nor waits, because the queue is down
        log.exception("could not enqueue %s%r; the worker's sweep will pick it up", name, args)
        return False


def problem() -> str | None:
    """Why the queue cannot take work (for /readyz), in Chinese, or None."""
    try:
        huey().storage.queue_size()
        return None
    except Exception as exc:  # any storage error means "not ready"; its class says which
        return f"任务队列无法访问（{type(exc).__name__}）"


def reachable() -> bool:
    return problem() is None


def run_startup() -> None:
    for fn in _STARTUP:
        try:
            fn()
        except Exception:
            log.exception("worker start-up sweep %s failed", fn.__name__)
