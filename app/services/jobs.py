"""Background jobs of every kind on the task queue (app/services/queue.py, ``flask worker``).

A kind is declared where its work lives: ``define("casefile_print", "打印案卷", run)``. ``submit``
records a Job row and commits, then hands its id to the queue's one task, "job"; if the queue is
down the row stays queued and the worker's ``sweep`` hands it over later (a request never waits on,
nor fails because of, the queue). The worker claims the row with one conditional UPDATE (queued →
running), so a job enqueued twice runs once, and calls ``run(job, progress)``:

* ``progress(done, total=None)`` records progress and the heartbeat (and commits the session) and
  raises ``Interrupted`` when the job was meanwhile declared interrupted (the sweep gave it to another
  worker, or failed it): the run stops and its result is dropped.
* ``run`` returns a ``Result`` (a file it wrote under ``result_dir()``, its download name, a note of
  warnings, a JSON summary) or None. An exception fails the job with its message.

A worker killed mid-job leaves the row "running" with a heartbeat that stops; the sweep (at worker
start, every few minutes, and nightly by the scheduler) queues it again (every kind is safe to rerun
from the start) up to MAX_ATTEMPTS runs, then fails it with a message and a 重新提交 button. The sweep
also deletes results past ``expires_at`` (JOB_RESULT_DAYS) and marks those jobs 已过期.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable

from flask import current_app

from ..extensions import db
from ..models import Job, User
from . import queue as task_queue
from .audit import record_security
from .errors import NotFound, ServiceError

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
STATUS_LABELS = {"queued": "排队中", "running": "正在进行", "done": "已完成", "failed": "失败"}
EXPIRED_LABEL = "已过期"
TASK = "job"


class Interrupted(Exception):
    """Raised by progress() when the job is no longer this run's to finish."""


@dataclass
class Result:
    path: str | os.PathLike | None = None  # a file the run wrote (under result_dir()); hashed and kept
    name: str = ""  # the download name shown to the user
    note: str = ""  # warnings kept on a finished job (shown, e.g. "案件 12 不存在")
    data: Any = None  # JSON-able summary (Job.result)


@dataclass
class Kind:
    name: str
    label: str
    run: Callable[[Job, Callable], Result | None]
    roles: tuple[str, ...] | None = None  # who (besides the requester) may see the job and its result
    audit: str | None = None  # security action recorded at submit (app.services.audit.SECURITY_ACTIONS)
    resubmit: Callable[[Job, User], Job] | None = None  # default: the same params again
    describe: Callable[[Job], str] | None = None  # one line of what the job does (job lists)
    page: str | None = None  # web endpoint (taking job_id) of the kind's own job page, if any
    extra: dict = field(default_factory=dict)  # status_labels, result_endpoint (web)


_KINDS: dict[str, Kind] = {}


def define(kind: str, label: str, run: Callable[[Job, Callable], Result | None], **options) -> Kind:
    """Declare a kind of job (at import of the module doing the work). ``options``: the fields of
    Kind (roles, audit, resubmit, describe, page, mimetype)."""
    k = Kind(kind, label, run, **options)
    _KINDS[kind] = k
    return k


def kind_of(job: Job) -> Kind | None:
    return _KINDS.get(job.kind)


def kinds() -> dict[str, Kind]:
    return dict(_KINDS)


def result_dir() -> Path:
    """Where result files live (CASEFILE_JOB_DIR, kept for every kind: backups already cover it)."""
    from .storage import job_dir

    d = job_dir()
    d.mkdir(parents=True, exist_ok=True)
    return d


def result_path(job: Job, suffix: str) -> Path:
    """The result file of a job: rewritten (not appended) by a rerun."""
    return result_dir() / f"job-{job.id}{suffix}"


# ---------------------------------------------------------------- submitting

def submit(kind: str, actor: User | None, params: dict, total: int = 0, *, agency_id: int | None = ...,
           audit_data: dict | None = None) -> Job:
    """Record a job, commit, then hand it to the queue. ``agency_id`` defaults to the actor's;
    pass None for platform-wide work. Never raises because the queue is down."""
    k = _KINDS.get(kind)
    if k is None:
        raise KeyError(f"unknown job kind {kind!r}: define() it first")
    if agency_id is ...:
        agency_id = actor.agency_id if actor is not None else None
    job = Job(kind=kind, agency_id=agency_id, requested_by_id=actor.id if actor else None, status="queued",
              total=int(total or 0), done=0, params=params or {}, attempts=0, error="", result_path="",
              result_name="", result_sha256="")
    db.session.add(job)
    db.session.flush()
    if k.audit and agency_id is not None:  # platform work is audited by the service that submits it
        record_security(agency_id, actor, k.audit, {"job": job.id, **(audit_data or {})})
    db.session.commit()
    hand_over(job.id)
    return job


def hand_over(job_id: int) -> bool:
    """Give a committed queued job to the queue; note when (the sweep hands over the ones never given)."""
    ok = task_queue.enqueue(TASK, job_id)
    if ok:
        db.session.execute(db.update(Job).where(Job.id == job_id, Job.status == "queued")
                           .values(heartbeat_at=datetime.utcnow()))
        db.session.commit()
    return ok


def resubmit(job: Job, actor: User) -> Job:
    """A failed or expired job again, as a new job (the old one stays on record)."""
    if not (job.status == "failed" or job.expired):
        raise ServiceError("只有失败、中断或已过期的任务可以重新提交", "job")
    k = _KINDS.get(job.kind)
    if k is None:
        raise ServiceError("该类任务已不再支持", "job")
    if k.resubmit is not None:
        return k.resubmit(job, actor)
    return submit(job.kind, actor, dict(job.params or {}), job.total, agency_id=job.agency_id)


# ---------------------------------------------------------------- reading

def can_see(job: Job, actor: User) -> bool:
    if job.agency_id is None:
        return actor.has_role("sysadmin")
    if job.agency_id != actor.agency_id:
        return False
    k = _KINDS.get(job.kind)
    return job.requested_by_id == actor.id or k is None or k.roles is None or any(actor.has_role(r) for r in k.roles)


def get_job(job_id: int, actor: User, kind: str | None = None) -> Job:
    job = db.session.get(Job, job_id) if 0 < job_id < 2**31 else None
    if job is None or (kind is not None and job.kind != kind) or not can_see(job, actor):
        raise NotFound("任务不存在")
    return job


def my_jobs(actor: User, limit: int = 50, kind: str | None = None) -> list[Job]:
    """The actor's own jobs, newest first (and the platform's, for a system administrator)."""
    cond = Job.requested_by_id == actor.id
    if actor.has_role("sysadmin"):
        cond = db.or_(cond, Job.agency_id.is_(None))
    q = db.select(Job).where(cond)
    if kind:
        q = q.where(Job.kind == kind)
    return list(db.session.scalars(q.order_by(Job.id.desc()).limit(limit)))


def agency_jobs(actor: User, kind: str, limit: int = 20) -> list[Job]:
    """The agency's jobs of one kind (e.g. the batch printing page), newest first, that the actor may see."""
    q = db.select(Job).where(Job.kind == kind, Job.agency_id == actor.agency_id).order_by(Job.id.desc()).limit(limit)
    return [j for j in db.session.scalars(q) if can_see(j, actor)]


def status_label(job: Job) -> str:
    if job.expired:
        return EXPIRED_LABEL
    k = _KINDS.get(job.kind)
    return (k.extra.get("status_labels", {}) if k else {}).get(job.status) or STATUS_LABELS.get(job.status, job.status)


_QUEUE_PROBLEM: dict[tuple, tuple[float, str | None]] = {}
QUEUE_CHECK_SECONDS = 10


def queue_problem() -> str | None:
    """Why the task queue cannot be reached, in Chinese, or None; asked at most every few seconds per
    process (job pages refresh every two seconds and must not each wait on an unreachable Redis)."""
    import time

    key = (id(current_app._get_current_object()), current_app.config["QUEUE_URL"], current_app.config["QUEUE_NAME"])
    now = time.monotonic()
    at, problem = _QUEUE_PROBLEM.get(key, (-QUEUE_CHECK_SECONDS - 1.0, None))
    if now - at > QUEUE_CHECK_SECONDS:
        problem = task_queue.problem()
        _QUEUE_PROBLEM[key] = (now, problem)
    return problem


def stale_seconds() -> int:
    return int(current_app.config["JOB_STALE_SECONDS"])


def waiting_message(job: Job) -> str | None:
    """What an active job is waiting for, in Chinese (the job page), or None when it is progressing."""
    now = datetime.utcnow()
    if job.status == "queued":
        if job.heartbeat_at is None:
            return "任务已记录，正在等待任务队列：提交时任务队列暂时无法访问，队列恢复后任务将自动开始，无需重新提交。"
        return None
    if job.status == "running":
        last = job.heartbeat_at or job.started_at or job.created_at
        if last < now - timedelta(seconds=stale_seconds()):
            return (f"任务已超过 {stale_seconds() // 60} 分钟没有进展：执行任务的后台进程可能已停止。"
                    "后台进程重新运行后会自动从头继续，无需重新提交。")
    return None


def as_dict(job: Job) -> dict:
    """The job for the status JSON (web page refresh and the API)."""
    k = _KINDS.get(job.kind)
    return {"id": job.id, "kind": job.kind, "kind_label": k.label if k else job.kind, "status": job.status,
            "status_label": status_label(job), "expired": job.expired, "total": job.total, "done": job.done,
            "attempts": job.attempts, "error": job.error or None, "waiting": waiting_message(job),
            "created_at": job.created_at, "started_at": job.started_at, "finished_at": job.finished_at,
            "expires_at": job.expires_at, "result_name": job.result_name or None,
            "has_result": job.status == "done" and bool(job.result_path), "result": job.result}


def open_result(job: Job, actor: User):
    """The result file, opened and checked against its SHA-256 (app.services.integrity)."""
    from . import integrity

    if job.status != "done" or not job.result_path:
        raise NotFound("任务结果已过期并删除，请重新提交" if job.expired else "任务尚无结果")
    return integrity.job_result(job, actor)


def download_name(job: Job) -> str:
    return job.result_name or Path(job.result_path).name


# ---------------------------------------------------------------- running (the worker)

def run_job(job_id: int) -> Job | None:
    """The queue task: claim the job (one conditional UPDATE, so it runs once) and run it."""
    now = datetime.utcnow()
    claimed = db.session.execute(
        db.update(Job).where(Job.id == job_id, Job.status == "queued")
        .values(status="running", started_at=now, heartbeat_at=now, done=0, attempts=Job.attempts + 1,
                error="")).rowcount
    db.session.commit()
    job = db.session.get(Job, job_id)
    if not claimed:
        return job
    attempt = job.attempts
    k = _KINDS.get(job.kind)
    if k is None:
        return _fail(job_id, attempt, f"未知的任务类型：{job.kind}")
    progress = _Progress(job_id, attempt)
    try:
        res = k.run(job, progress)
    except Interrupted:
        log.info("job %s (attempt %s) was interrupted; its result is dropped", job_id, attempt)
        db.session.rollback()
        return db.session.get(Job, job_id)
    except Exception as e:  # recorded on the job: a failed run never dies silently
        log.exception("job %s (%s) failed", job_id, job.kind)
        db.session.rollback()
        msg = e.message if isinstance(e, ServiceError) else f"{type(e).__name__}: {e}"
        return _fail(job_id, attempt, f"任务失败：{msg}")
    return _finish(job_id, attempt, res or Result())


class _Progress:
    """progress(done, total=None): commit the session with the job's progress and heartbeat.
    progress(done, total, commit=False): the same on a connection of its own, leaving the caller's
    transaction (and any open cursor: an export streaming its rows) alone. On SQLite, when that
    transaction is the one writer (an import), the write cannot wait for it: only the interruption
    is checked then, and the heartbeat is written at the next commit."""

    def __init__(self, job_id: int, attempt: int) -> None:
        self.job_id, self.attempt = job_id, attempt

    def __call__(self, done: int, total: int | None = None, *, commit: bool = True) -> None:
        values = {"done": int(done), "heartbeat_at": datetime.utcnow()}
        if total is not None:
            values["total"] = int(total)
        mine = (Job.id == self.job_id, Job.status == "running", Job.attempts == self.attempt)
        if commit:
            n = db.session.execute(db.update(Job).where(*mine).values(**values)).rowcount
            db.session.commit()
        else:
            n = self._aside(mine, values)
        if not n:
            raise Interrupted(self.job_id)

    @staticmethod
    def _aside(mine, values) -> int:
        from sqlalchemy.exc import OperationalError

        sqlite = db.engine.dialect.name == "sqlite"
        with db.engine.connect() as conn:
            if sqlite:
                conn.exec_driver_sql("PRAGMA busy_timeout = 0")
            try:
                n = conn.execute(db.update(Job).where(*mine).values(**values)).rowcount
                conn.commit()
            except OperationalError:  # SQLite: "database is locked" by the caller's own transaction
                if not sqlite:
                    raise
                conn.rollback()
                n = conn.execute(db.select(db.func.count()).select_from(Job).where(*mine)).scalar()
            finally:
                if sqlite:
                    conn.exec_driver_sql(f"PRAGMA busy_timeout = {int(current_app.config['DB_BUSY_TIMEOUT_MS'])}")
            return n


def _fail(job_id: int, attempt: int, message: str) -> Job | None:
    db.session.execute(db.update(Job).where(Job.id == job_id, Job.status == "running", Job.attempts == attempt)
                       .values(status="failed", error=message[:4000], finished_at=datetime.utcnow()))
    db.session.commit()
    return db.session.get(Job, job_id)


def _finish(job_id: int, attempt: int, res: Result) -> Job | None:
    from .integrity import sha256_path

    values = {"status": "done", "finished_at": datetime.utcnow(), "error": (res.note or "")[:20000],
              "result": res.data}
    if res.path:
        path = Path(res.path)
        values.update(result_path=str(path), result_name=res.name or path.name, result_sha256=sha256_path(path),
                      expires_at=datetime.utcnow() + timedelta(days=int(current_app.config["JOB_RESULT_DAYS"])))
    n = db.session.execute(db.update(Job).where(Job.id == job_id, Job.status == "running", Job.attempts == attempt)
                           .values(**values)).rowcount
    db.session.commit()
    job = db.session.get(Job, job_id)
    if not n and res.path and job is not None and job.result_path != str(res.path):
        Path(res.path).unlink(missing_ok=True)  # declared interrupted at the last moment: not awaited
    return job


def run_pending(limit: int | None = None) -> int:
    """Run the queued jobs in this process, oldest first (tests, CLI); the number run."""
    n = 0
    while limit is None or n < limit:
        job_id = db.session.scalar(db.select(Job.id).where(Job.status == "queued").order_by(Job.id).limit(1))
        if job_id is None:
            break
        run_job(job_id)
        n += 1
    return n


# ---------------------------------------------------------------- the sweep

def interrupted_message(job: Job) -> str:
    return (f"任务已中断：执行任务的后台进程停止了（已尝试 {job.attempts} 次，超过 {stale_seconds() // 60} 分钟"
            f"没有进展），已完成 {job.done} / {job.total}，结果未保存。请点击“重新提交”再次执行。")


def sweep() -> dict[str, int]:
    """Interrupted, lost and expired jobs (at worker start, every few minutes, nightly):
    running jobs whose heartbeat went stale are queued again (or failed after MAX_ATTEMPTS runs);
    queued jobs never handed to the queue, or handed over longer ago than JOB_STALE_SECONDS (the
    queue was flushed or lost), are handed over (again: the claim runs each once); results past
    their expiry are deleted. Returns counts by what was done."""
    now = datetime.utcnow()
    limit = now - timedelta(seconds=stale_seconds())
    out = {"requeued": 0, "failed": 0, "handed": 0, "expired": 0}
    stale = db.session.scalars(db.select(Job).where(Job.status == "running", db.func.coalesce(
        Job.heartbeat_at, Job.started_at, Job.created_at) < limit)).all()
    for job in stale:
        mine = db.update(Job).where(Job.id == job.id, Job.status == "running", Job.attempts == job.attempts)
        if job.attempts < MAX_ATTEMPTS:
            out["requeued"] += db.session.execute(mine.values(status="queued", heartbeat_at=None)).rowcount
        else:
            out["failed"] += db.session.execute(mine.values(status="failed", finished_at=now,
                                                            error=interrupted_message(job))).rowcount
    db.session.commit()
    ids = db.session.scalars(db.select(Job.id).where(Job.status == "queued", db.or_(
        Job.heartbeat_at.is_(None), Job.heartbeat_at < limit)).order_by(Job.id)).all()
    for job_id in ids:
        out["handed"] += hand_over(job_id)
    out["expired"] = delete_expired(now)
    if any(out.values()):
        log.info("job sweep: %s", out)
    return out


def delete_expired(now: datetime | None = None) -> int:
    now = now or datetime.utcnow()
    n = 0
    for job in db.session.scalars(db.select(Job).where(Job.status == "done", Job.result_path != "",
                                                       Job.expires_at.is_not(None), Job.expires_at <= now)).all():
        path = Path(job.result_path)
        try:
            if path.resolve().parent == result_dir().resolve():  # never delete outside the results
                path.unlink(missing_ok=True)
        except OSError:
            log.warning("could not delete the expired result %s", path, exc_info=True)
            continue
        job.result_path = ""
        n += 1
    db.session.commit()
    return n


task_queue.register(TASK, run_job)
task_queue.on_worker_start(sweep)
