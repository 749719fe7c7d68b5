"""`flask worker` runs the queued work in its own process: a real Huey consumer on the embedded
SQLite queue and on a real redis-server; the upload only enqueues; a worker killed mid-job leaves
the job to the next worker; a queue that is down never fails the upload."""
from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from huey.api import PeriodicTask

from app.casefile import attachments as A
from app.extensions import db
from app.models import OcrJob
from app.pdf.ocr import available
from app.services import storage
from tests.casefile.test_casefile_pdf import build_plain_case
from tests.casefile.test_ocr import scan_image
from tests.conftest import _SQLITE, DB_URL, user

ROOT = Path(__file__).resolve().parents[2]
FLASK = Path(sys.executable).parent / "flask"
REDIS_DB = 13  # the tests' own Redis database; each test's queue name is unique besides

pytestmark = pytest.mark.skipif(not available("chi_sim"), reason="tesseract-ocr-chi-sim is a system dependency")


def _redis_url(db_number: int = REDIS_DB) -> str:
    import redis

    url = f"redis://127.0.0.1:6379/{db_number}"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as e:
        pytest.skip(f"redis-server is not reachable at 127.0.0.1:6379 ({e}); .ci/run starts it")
    return url


@contextmanager
def queue_on(app, backend: str, tmp_path, redis_db: int = REDIS_DB, **config):
    """The test app on a fresh queue of the given backend (sqlite or redis), in an app context."""
    url = f"sqlite:///{tmp_path / 'queue.sqlite3'}" if backend == "sqlite" else _redis_url(redis_db)
    saved = {k: app.config[k] for k in ("QUEUE_URL", "QUEUE_NAME", *config)}
    app.config.update(QUEUE_URL=url, QUEUE_NAME=f"ogidesk-test-{secrets.token_hex(4)}", **config)
    app.extensions.pop("huey", None)
    try:
        with app.app_context():
            yield app
            db.session.remove()
            if backend == "redis":
                app.extensions["huey"]["huey"].storage.flush_all()
    finally:
        app.extensions.pop("huey", None)
        app.config.update(saved)


@pytest.fixture(params=["sqlite", "redis"])
def queue_app(request, app, tmp_path):
    """The test app on a fresh queue of the given backend, enqueueing after each upload."""
    with queue_on(app, request.param, tmp_path, OCR_AUTOSTART=True) as a:
        yield a


def _start_worker(app, tmp_path, name="worker", **extra_env):
    env = {**os.environ, "SECRET_KEY": secrets.token_hex(32), "DATABASE_URL": DB_URL or f"sqlite:///{_SQLITE}",
           "QUEUE_URL": app.config["QUEUE_URL"], "QUEUE_NAME": app.config["QUEUE_NAME"],
           "ATTACHMENT_DIR": str(storage.root()), "WORKER_THREADS": "2", "FLASK_APP": "wsgi", **extra_env}
    log = open(tmp_path / f"{name}.log", "wb")
    proc = subprocess.Popen([str(FLASK), "worker"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    proc.log_path = tmp_path / f"{name}.log"
    return proc


def _status(job_id: int, model=OcrJob):
    db.session.remove()  # read what the worker committed
    return db.session.get(model, job_id)


def _wait(proc, job_id: int, statuses: tuple[str, ...], seconds: float = 180, step: float = 0.2, model=OcrJob,
          until=None):
    """The job once its status is one of ``statuses`` (and ``until(job)`` holds, if given)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = _status(job_id, model)
        if job.status in statuses and (until is None or until(job)):
            return job
        assert proc.poll() is None, proc.log_path.read_text(errors="replace")
        time.sleep(step)
    raise AssertionError(f"job {job_id} is {job.status}; worker log:\n" + proc.log_path.read_text(errors="replace"))


def _upload() -> int:
    att = A.add_attachment(build_plain_case().id, user("clerk"), scan_image(), "申请表.png", "application_form", "申请表")
    return db.session.scalar(db.select(OcrJob.id).where(OcrJob.attachment_id == att.id))


def _stop(proc) -> int:
    proc.send_signal(signal.SIGINT)
    return proc.wait(timeout=60)


def test_the_worker_process_runs_the_ocr_the_upload_enqueued(queue_app, tmp_path):
    from app.services import queue

    job_id = _upload()
    assert _status(job_id).status == "queued"  # the upload only enqueued it
    assert queue.huey().pending_count() == 1
    proc = _start_worker(queue_app, tmp_path)
    try:
        job = _wait(proc, job_id, ("done", "failed"))
        assert job.status == "done" and job.chars > 10, job.error
        assert queue.huey().pending_count() == 0
    finally:
        code = _stop(proc)
    assert code == 0, proc.log_path.read_text(errors="replace")


def test_a_worker_killed_mid_job_leaves_it_to_the_next_worker(queue_app, tmp_path):
    job_id = _upload()
    proc = _start_worker(queue_app, tmp_path, "killed")
    try:
        job = _wait(proc, job_id, ("running", "done", "failed"), step=0.02)
    finally:
        proc.kill()
        proc.wait(timeout=30)
    # Seen running, but it may have finished between that look and the kill: read it again.
    if job.status != "running" or _status(job_id).status != "running":
        pytest.skip("the recognition finished before the worker could be killed")
    # A second queue entry for the job may remain (the upload and the start-up sweep both hand it
    # over; the claim lets one run): it cannot run a job that is "running", only the sweep can.
    # Time passes beyond OCR_JOB_STALE_SECONDS: the next worker's sweep queues it again and runs it.
    db.session.execute(db.update(OcrJob).where(OcrJob.id == job_id)
                       .values(started_at=datetime.utcnow() - timedelta(seconds=queue_app.config["OCR_JOB_STALE_SECONDS"] + 60)))
    db.session.commit()
    proc = _start_worker(queue_app, tmp_path, "next")
    try:
        job = _wait(proc, job_id, ("done", "failed"))
        assert job.status == "done" and job.chars > 10, job.error
    finally:
        assert _stop(proc) == 0, proc.log_path.read_text(errors="replace")


def test_an_unreachable_queue_never_fails_the_upload(app, caplog):
    from app.services import queue

    saved = {k: app.config[k] for k in ("QUEUE_URL", "OCR_AUTOSTART")}
    app.config.update(QUEUE_URL="redis://127.0.0.1:1/0", OCR_AUTOSTART=True)  # nothing listens on port 1
    app.extensions.pop("huey", None)
    try:
        with app.app_context():
            job_id = _upload()
            assert _status(job_id).status == "queued"  # kept for the worker's sweep
            assert not queue.reachable()
            db.session.remove()
    finally:
        app.extensions.pop("huey", None)
        app.config.update(saved)
    assert "worker's sweep will pick it up" in caplog.text


def test_the_periodic_sweep_hands_over_jobs_whose_enqueue_was_lost(queue_app):
    from app.services import queue

    queue_app.config["OCR_AUTOSTART"] = False  # as if the queue had been down during the upload
    job_id = _upload()
    h = queue.huey()
    assert h.pending_count() == 0
    sweep = queue_app.extensions["huey"]["tasks"]["sweep"]
    assert issubclass(sweep.task_class, PeriodicTask)  # run by the worker's scheduler
    sweep.call_local()
    assert h.pending_count() == 1 and _status(job_id).status == "queued"
