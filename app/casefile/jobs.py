"""Printing many case files at once (year-end filing) in a background thread.

The request that asks for it only creates a CaseFileJob row and starts a thread; the thread has
its own application context and database session, builds one case file at a time, and commits
its progress after each, so the progress page can show it and nobody waits for the batch.
The result is a ZIP of PDFs (one per case) or one merged PDF, kept under CASEFILE_JOB_DIR.
"""
from __future__ import annotations

import io
import json
import logging
import os
import threading
import zipfile
from datetime import datetime, timedelta

from flask import Flask, current_app
from pypdf import PdfWriter

from ..extensions import db
from ..models import Case, CaseFileJob, User
from ..services.audit import record_security
from ..services.errors import NotFound, ServiceError
from ..services.integrity import sha256_file
from ..services.storage import job_dir
from .assemble import build_casefile

log = logging.getLogger(__name__)

FORMATS = {"zip": "ZIP 压缩包（每案一个 PDF）", "pdf": "合并为一个 PDF"}
SCOPES = {"ready": "待归档（已送达、已终止）", "archived": "已归档", "finished": "待归档和已归档"}
SCOPE_STATES = {"ready": ("delivered", "closed"), "archived": ("archived",),
                "finished": ("delivered", "closed", "archived")}
STATUS_LABELS = {"queued": "排队中", "running": "正在生成", "done": "已完成", "failed": "失败"}
MAX_CASES = 2000

_threads: dict[int, threading.Thread] = {}


def cases_for_year(actor: User, year: int, scope: str) -> list[int]:
    q = (db.select(Case.id).where(Case.agency_id == actor.agency_id, Case.year == year,
                                  Case.state.in_(SCOPE_STATES[scope])).order_by(Case.seq))
    return list(db.session.scalars(q))


def create_job(actor: User, case_ids: list[int], fmt: str = "zip", order: str | None = None) -> CaseFileJob:
    if fmt not in FORMATS:
        raise ServiceError("请选择输出格式", "format")
    ids = list(dict.fromkeys(case_ids))
    if not ids:
        raise ServiceError("没有符合条件的案件", "case_ids")
    if len(ids) > MAX_CASES:
        raise ServiceError(f"一次最多打印 {MAX_CASES} 件案卷", "case_ids")
    found = set(db.session.scalars(db.select(Case.id).where(Case.id.in_(ids), Case.agency_id == actor.agency_id)))
    unknown = [i for i in ids if i not in found]
    if unknown:
        raise ServiceError(f"案件不存在：{'、'.join(map(str, unknown[:10]))}", "case_ids")
    job = CaseFileJob(agency_id=actor.agency_id, requested_by_id=actor.id, status="queued", total=len(ids), done=0,
                      case_ids_json=json.dumps({"ids": ids, "format": fmt, "order": order}))
    db.session.add(job)
    db.session.flush()
    record_security(actor.agency_id, actor, "casefile_print", {"job": job.id, "count": len(ids), "format": fmt})
    db.session.commit()
    return job


def start(job: CaseFileJob) -> threading.Thread:
    app = current_app._get_current_object()
    t = threading.Thread(target=run_job, args=(app, job.id), name=f"casefile-job-{job.id}", daemon=True)
    _threads[job.id] = t
    t.start()
    return t


def wait(job_id: int, timeout: float | None = None) -> bool:
    """Join the job's thread (tests, CLI); True when it has finished."""
    t = _threads.get(job_id)
    if t is None:
        return True
    t.join(timeout)
    return not t.is_alive()


def get_job(job_id: int, actor: User) -> CaseFileJob:
    job = db.session.get(CaseFileJob, job_id)
    if job is None or job.agency_id != actor.agency_id:
        raise NotFound("任务不存在")
    mark_interrupted([job])
    return job


def recent_jobs(actor: User, limit: int = 20) -> list[CaseFileJob]:
    jobs = list(db.session.scalars(db.select(CaseFileJob).where(CaseFileJob.agency_id == actor.agency_id)
                                   .order_by(CaseFileJob.id.desc()).limit(limit)))
    mark_interrupted(jobs)
    return jobs


def _alive_here(job_id: int) -> bool:
    t = _threads.get(job_id)
    return t is not None and t.is_alive()


def mark_interrupted(jobs: list[CaseFileJob]) -> None:
    """A queued or running job whose heartbeat stopped was cut off by a restart of the process
    that ran it: report it as failed, with what to do, instead of showing it running forever."""
    stale = int(current_app.config["CASEFILE_JOB_STALE_SECONDS"])
    limit = datetime.utcnow() - timedelta(seconds=stale)
    changed = False
    for job in jobs:
        last = job.heartbeat_at or job.created_at
        if job.status in ("queued", "running") and last < limit and not _alive_here(job.id):
            job.status, job.finished_at = "failed", datetime.utcnow()
            job.error = (f"任务已中断：超过 {stale // 60} 分钟没有进展（服务可能已重启），"
                         f"已完成 {job.done} / {job.total} 件，结果未保存。请点击“重新提交”再次打印。")
            changed = True
    if changed:
        db.session.commit()


def resubmit(job: CaseFileJob, actor: User) -> CaseFileJob:
    """The same cases, format and order again, as a new job (the old one stays on record)."""
    if job.status != "failed":
        raise ServiceError("只有失败或中断的任务可以重新提交", "job")
    params = job_params(job)
    return create_job(actor, params["ids"], params.get("format", "zip"), params.get("order"))


def job_params(job: CaseFileJob) -> dict:
    raw = json.loads(job.case_ids_json or "{}")
    if isinstance(raw, list):
        return {"ids": raw, "format": "zip", "order": None}
    return raw


def run_job(app: Flask, job_id: int) -> None:
    with app.app_context():
        try:
            _run(job_id)
        except Exception as e:  # the thread must record its failure, never die silently
            log.exception("case file job %s failed", job_id)
            db.session.rollback()
            job = db.session.get(CaseFileJob, job_id)
            if job is not None:
                job.status, job.error = "failed", f"生成失败：{type(e).__name__}: {e}"[:2000]
                job.finished_at = datetime.utcnow()
                db.session.commit()
        finally:
            db.session.remove()


def _run(job_id: int) -> None:
    job = db.session.get(CaseFileJob, job_id)
    params = job_params(job)
    actor = db.session.get(User, job.requested_by_id) if job.requested_by_id else None
    job.status, job.done, job.heartbeat_at = "running", 0, datetime.utcnow()
    db.session.commit()
    out_dir = job_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    fmt = params.get("format", "zip")
    final = out_dir / f"job-{job.id}.{fmt}"
    tmp = out_dir / f".job-{job.id}.{fmt}.part"
    errors = []
    merged = PdfWriter() if fmt == "pdf" else None
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) if fmt == "zip" else _null() as zf:
        for case_id in params["ids"]:
            case = db.session.get(Case, case_id)
            if case is None or case.agency_id != job.agency_id:
                errors.append(f"案件 {case_id} 不存在")
            else:
                try:
                    cf = build_casefile(case, actor, order=params.get("order"))
                except Exception as e:  # one broken case must not sink the batch
                    log.exception("case file %s failed", case_id)
                    errors.append(f"{case.number}：{type(e).__name__}: {e}")
                else:
                    if zf is not None:
                        zf.writestr(f"{case.number}.pdf", cf.pdf)
                    else:
                        merged.append(io.BytesIO(cf.pdf))
            db.session.rollback()  # drop what the build loaded; keep the session small
            job = db.session.get(CaseFileJob, job_id)
            if job.status != "running":  # declared interrupted meanwhile: its result is no longer awaited
                break
            job.done += 1
            job.heartbeat_at = datetime.utcnow()
            db.session.commit()
    if job.status != "running":
        tmp.unlink(missing_ok=True)
        return
    if merged is not None:
        with open(tmp, "wb") as fh:
            merged.write(fh)
    with open(tmp, "rb") as fh:
        digest = sha256_file(fh)
    os.replace(tmp, final)
    job = db.session.get(CaseFileJob, job_id)
    job.result_path = str(final)
    job.result_sha256 = digest
    job.error = "\n".join(errors)
    job.status = "done"
    job.finished_at = datetime.utcnow()
    db.session.commit()


class _null:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False
