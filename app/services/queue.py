"""The task queue (Huey): an embedded SQLite file by default, Redis for several hosts (QUEUE_URL).
Work is declared where it lives (``register("ocr", ocr.run_job)`` in app/casefile/ocr.py, above this
layer); each app builds its Huey on first use and binds every registered function as a task that
runs inside that app's context. ``flask worker`` (app/cli.py) consumes it in its own process.

Scheduled work (``periodic``) runs at the office's local time (OGI_TIMEZONE): Huey keeps UTC
(Huey(utc=True), its default, so that the host's time zone does not matter) and each schedule
converts Huey's UTC timestamp to local time before matching its crontab."""
from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable, Union
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import ScheduledRun

log = logging.getLogger(__name__)

_FUNCTIONS: dict[str, Callable] = {}  # task name -> plain function of JSON-able arguments
_STARTUP: list[Callable[[], None]] = []  # run by the worker at start and every SWEEP_MINUTES
SWEEP_MINUTES = 5

# A crontab field ("30", "*/5", "1-5") or a function of the app's config giving one (a setting).
CronField = Union[str, Callable[[dict], str]]
# Scheduled task name -> (function returning a JSON-able summary, minute, hour).
_PERIODIC: dict[str, tuple[Callable[[], dict | None], CronField, CronField]] = {}


def register(name: str, fn: Callable) -> None:
    _FUNCTIONS[name] = fn


def periodic(name: str, fn: Callable[[], dict | None], *, minute: CronField = "0", hour: CronField = "*") -> None:
    """Run ``fn()`` in the worker whenever the local time (OGI_TIMEZONE) matches the crontab
    fields. Each tick runs once however many worker hosts fire it (a ScheduledRun row claims it)
    and is recorded with ``fn``'s summary (a dict; ``"ok": False`` in it marks the run failed)."""
    _PERIODIC[name] = (fn, minute, hour)


def daily_at(setting: str) -> dict[str, Callable[[dict], str]]:
    """``minute=`` and ``hour=`` for ``periodic`` from a setting "HH:MM" (read when the app's
    queue is built, so a test or a deployment sets it in the config)."""
    return {"hour": lambda config: str(_hh_mm(config[setting], setting)[0]),
            "minute": lambda config: str(_hh_mm(config[setting], setting)[1])}


def _hh_mm(value: str, setting: str) -> tuple[int, int]:
    try:
        hh, mm = (int(x) for x in str(value).strip().split(":"))
    except ValueError:
        raise ValueError(f"{setting} must be a local time HH:MM, not {value!r}") from None
    if not (0 <= hh < 24 and 0 <= mm < 60):
        raise ValueError(f"{setting} must be a local time HH:MM, not {value!r}")
    return hh, mm


def local_schedule(app: Flask, minute: CronField, hour: CronField) -> Callable[[datetime], bool]:
    """Huey's validate_datetime for a crontab in local time: Huey hands it naive UTC."""
    from huey import crontab

    field = lambda f: f(app.config) if callable(f) else f  # noqa: E731
    cron = crontab(minute=field(minute), hour=field(hour), strict=True)
    zone = ZoneInfo(app.config["OGI_TIMEZONE"])

    def validate(utc: datetime) -> bool:
        return cron(to_local(utc, zone))
    return validate


def to_local(utc: datetime, zone: ZoneInfo) -> datetime:
    return utc.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone).replace(tzinfo=None, second=0, microsecond=0)


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
    for name, (fn, minute, hour) in _PERIODIC.items():
        if name not in tasks:
            validate = local_schedule(app, minute, hour)
            tasks[name] = state["huey"].periodic_task(validate, name=name)(
                _in_context(app, _scheduled(name, fn, validate)))
    return state["huey"]


def _scheduled(name: str, fn: Callable, validate: Callable[[datetime], bool]) -> Callable[[], None]:
    def run() -> None:
        from .time import utcnow

        run_scheduled(name, fn, tick(validate, utcnow()))
    run.__name__ = f"scheduled_{name}"
    return run


def tick(validate: Callable[[datetime], bool], utc: datetime) -> str:
    """The schedule's latest tick at or before ``utc``, as a local "YYYY-MM-DDTHH:MM": the same
    for every worker host that fires it, even one whose queue ran it a few minutes late."""
    zone = ZoneInfo(current_app.config["OGI_TIMEZONE"])
    t = utc.replace(second=0, microsecond=0)
    for _ in range(8 * 24 * 60):
        if validate(t):
            break
        t -= timedelta(minutes=1)
    else:
        t = utc.replace(second=0, microsecond=0)
    return to_local(t, zone).strftime("%Y-%m-%dT%H:%M")


def run_scheduled(name: str, fn: Callable[[], dict | None], slot: str) -> ScheduledRun | None:
    """Claim the tick ``slot`` of scheduled task ``name``, run ``fn`` and record how it went
    (None: another worker host had already claimed it)."""
    from .time import utcnow

    claim = ScheduledRun(name=name, slot=slot, status="running", summary_json="{}", started_at=utcnow())
    db.session.add(claim)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        log.info("scheduled %s %s: already run by another worker, skipped", name, slot)
        return None
    run_id, started = claim.id, time.monotonic()
    try:
        summary = dict(fn() or {})
        status = "ok" if summary.get("ok", True) else "failed"
    except Exception as exc:  # recorded and logged; the next tick runs again
        db.session.rollback()
        log.exception("scheduled %s %s failed", name, slot)
        summary, status = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:500]}, "failed"
    summary["seconds"] = round(time.monotonic() - started, 3)
    run = db.session.get(ScheduledRun, run_id)
    run.status, run.finished_at = status, utcnow()
    run.summary_json = json.dumps(summary, ensure_ascii=False, sort_keys=True, default=str)
    db.session.commit()
    log.info("scheduled %s %s: %s %s", name, slot, status, run.summary_json)
    return run


def last_run(name: str) -> ScheduledRun | None:
    return db.session.scalar(db.select(ScheduledRun).where(ScheduledRun.name == name)
                             .order_by(ScheduledRun.started_at.desc(), ScheduledRun.id.desc()).limit(1))


def _build(app: Flask):
    url = app.config["QUEUE_URL"]
    name = app.config["QUEUE_NAME"]
    if url.startswith(("redis://", "rediss://", "unix://")):
        import redis
        from huey import RedisHuey

        # Bounded: an unreachable Redis costs an upload (or /readyz) two seconds at most, never a hang.
        # The socket timeout stays above the consumer's blocking read (1 s).
        pool = redis.ConnectionPool.from_url(url, socket_connect_timeout=2, socket_timeout=10)
        return RedisHuey(name, connection_pool=pool, results=False, utc=True)
    from huey import SqliteHuey

    path = url.removeprefix("sqlite:///") if url else str(Path(app.instance_path) / "queue.sqlite3")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(name, filename=path, results=False, utc=True)


def _in_context(app: Flask, fn: Callable) -> Callable:
    def run(*args):
        with app.app_context():
            try:
                return fn(*args)
            finally:
                db.session.remove()
    run.__name__ = fn.__name__
    return run


def enqueue(name: str, *args, delay: int = 0) -> bool:
    """Hand ``name(*args)`` to the worker (``delay``: not before that many seconds); False (and a
    logged message) when the queue cannot be reached: the caller's own record of the work stays,
    and the worker's sweep picks it up."""
    try:
        huey()
        task = current_app.extensions["huey"]["tasks"][name]
        if delay > 0:
            task.schedule(args=args, delay=delay)
        else:
            task(*args)
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


def run_startup() -> list[str]:
    """Run every sweep hook; the names of those that failed (each is logged)."""
    failed = []
    for fn in _STARTUP:
        try:
            fn()
        except Exception:
            db.session.rollback()
            failed.append(fn.__name__)
            log.exception("worker start-up sweep %s failed", fn.__name__)
    return failed


def startup_hooks() -> list[str]:
    return [fn.__name__ for fn in _STARTUP]
