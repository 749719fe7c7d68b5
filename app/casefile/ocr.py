"""OCR of uploaded scans, in the background: one OcrJob row per scan, queued by the upload (in
its transaction) and handed to the worker's task queue (app/services/queue.py, `flask worker`)
after the upload's commit. ``run_job`` is a plain, idempotent function of a job id: the row, not the
queue, is the record of the work, so a lost enqueue or a killed worker is picked up by ``sweep``. The result (a PDF of invisible text, app.pdf.ocr) is stored by SHA-256 beside the
scans; the case file lays it over the scan and notes in the catalogue that the text was recognised.
"""
from __future__ import annotations

import io
import logging
import threading
import warnings
from datetime import datetime, timedelta

from flask import current_app

from ..extensions import db
from ..models import Attachment, OcrJob
from ..pdf.ocr import text_layer
from ..services import queue as task_queue
from ..services import storage

log = logging.getLogger(__name__)

_lock = threading.Lock()  # one recognition at a time per process: Tesseract is CPU-bound


def queue(att: Attachment) -> OcrJob:
    """Record the OCR job of a new scan (the caller commits)."""
    job = OcrJob(attachment_id=att.id, status="queued", languages=current_app.config["OCR_LANGUAGES"],
                 result_sha256="", pages="", chars=0, error="")
    db.session.add(job)
    return job


def enqueue(job: OcrJob) -> bool:
    """Hand a committed job to the worker; if the queue is down the job stays queued for the sweep."""
    return task_queue.enqueue("ocr", job.id)


def sweep() -> int:
    """Queue again the jobs whose worker died mid-way ("running" past OCR_JOB_STALE_SECONDS) and
    hand every queued job to the worker (run by `flask worker` at start); the number handed."""
    stale = datetime.utcnow() - timedelta(seconds=current_app.config["OCR_JOB_STALE_SECONDS"])
    db.session.execute(db.update(OcrJob).where(OcrJob.status == "running", OcrJob.started_at < stale)
                       .values(status="queued"))
    db.session.commit()
    ids = db.session.scalars(db.select(OcrJob.id).where(OcrJob.status == "queued").order_by(OcrJob.id)).all()
    return sum(task_queue.enqueue("ocr", i) for i in ids)


def run_queued() -> int:
    """Run every queued job, oldest first; the number run."""
    n = 0
    while True:
        job_id = db.session.scalar(db.select(OcrJob.id).where(OcrJob.status == "queued").order_by(OcrJob.id).limit(1))
        if job_id is None:
            return n
        run_job(job_id)
        n += 1


def run_job(job_id: int) -> OcrJob | None:
    """Recognise one scan and record the result (or the failure) on its job."""
    with _lock:
        # Claimed by one conditional update: two workers (or a task enqueued twice) never both run it.
        claimed = db.session.execute(db.update(OcrJob).where(OcrJob.id == job_id,
                                                             OcrJob.status.in_(("queued", "failed")))
                                     .values(status="running", started_at=datetime.utcnow())).rowcount
        db.session.commit()
        job = db.session.get(OcrJob, job_id)
        if not claimed:
            return job
        att = db.session.get(Attachment, job.attachment_id)
        try:
            data = storage.read(att.sha256)
            layer = text_layer(data, att.content_type, job.languages)
            job.result_sha256 = storage.store(layer.pdf)
            job.pages = "".join("1" if r else "-" if r is None else "0" for r in layer.recognised)[:4000]
            job.chars, job.status, job.error = layer.chars, "done", ""
        except Exception as e:  # recorded on the job; the scan prints without a text layer
            log.exception("OCR of attachment %s failed", job.attachment_id)
            db.session.rollback()
            job = db.session.get(OcrJob, job_id)
            job.status, job.error = "failed", f"{type(e).__name__}: {e}"[:2000]
        job.finished_at = datetime.utcnow()
        db.session.commit()
        return job


def status_labels(attachments: list[Attachment]) -> dict[int, str]:
    """What the attachments page says of each scan's text recognition (its latest job)."""
    ids = [a.id for a in attachments]
    if not ids:
        return {}
    latest = {job.attachment_id: job for job in db.session.scalars(
        db.select(OcrJob).where(OcrJob.attachment_id.in_(ids)).order_by(OcrJob.id))}
    out = {}
    for att_id, job in latest.items():
        if job.status == "done":
            if "1" in job.pages:
                out[att_id] = f"已识别（{job.chars} 字）"
            else:
                out[att_id] = "已含文字，无需识别" if job.pages and set(job.pages) == {"-"} else "未识别出文字"
        else:
            out[att_id] = {"queued": "排队等待识别", "running": "正在识别", "failed": "识别失败"}.get(job.status, "")
    return out


class Layer:
    """A scan's recognised text pages, by page index of the scan."""

    def __init__(self, pdf: bytes, recognised: str) -> None:
        from pypdf import PdfReader

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self._pages = PdfReader(io.BytesIO(pdf)).pages
        self._recognised = recognised

    def page(self, index: int):
        if index < len(self._recognised) and self._recognised[index] == "1" and index < len(self._pages):
            return self._pages[index]
        return None


def text_layers(attachments: list[Attachment]) -> dict[int, Layer]:
    """The latest finished text layer of each scan that has one with recognised text."""
    ids = [a.id for a in attachments if a is not None]
    if not ids:
        return {}
    rows = db.session.scalars(db.select(OcrJob).where(OcrJob.attachment_id.in_(ids), OcrJob.status == "done")
                              .order_by(OcrJob.id))
    latest = {job.attachment_id: job for job in rows}
    out = {}
    for att_id, job in latest.items():
        if "1" not in job.pages or not job.result_sha256:
            continue
        try:
            out[att_id] = Layer(storage.read(job.result_sha256), job.pages)
        except (FileNotFoundError, ValueError):
            log.warning("OCR result of attachment %s missing from the store", att_id)
    return out


task_queue.register("ocr", run_job)
task_queue.on_worker_start(sweep)
