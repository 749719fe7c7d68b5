"""Background jobs in the real `flask worker` process, on the embedded SQLite queue and on Redis
(db 11): batch printing and a large ledger export run there, never in the web process; a worker
killed with SIGKILL mid-job leaves the job to the next worker's sweep, which prints it again from
the start; a job recorded while the queue was down starts once a worker can reach it."""
from __future__ import annotations

import io
import signal
import zipfile
from datetime import datetime, timedelta

import pytest

from app.casefile import jobs as J
from app.extensions import db
from app.models import Job
from app.reports import ledger_export
from app.services import jobs as background
from app.services import queue
from app.services.integrity import sha256_path
from tests.casefile.conftest import ensure_reply_letter
from tests.conftest import user
from tests.factories import build_case
from tests.serving.test_worker import _start_worker, _status, _stop, _wait, queue_on

REDIS_DB = 11  # this suite's own Redis database (test_worker.py uses 13)


@pytest.fixture(params=["sqlite", "redis"])
def jobs_queue(request, app, tmp_path):
    with queue_on(app, request.param, tmp_path, REDIS_DB, CASEFILE_JOB_DIR=str(tmp_path / "results")) as a:
        yield a


def _worker(app, tmp_path, name):
    return _start_worker(app, tmp_path, name, CASEFILE_JOB_DIR=app.config["CASEFILE_JOB_DIR"])


def _printable_cases(n: int) -> list[int]:
    ids = []
    for _ in range(n):
        case = build_case("delivered")
        ensure_reply_letter(case)
        ids.append(case.id)
    return ids


def test_a_worker_killed_mid_print_leaves_the_job_to_the_next_worker(jobs_queue, tmp_path):
    ids = _printable_cases(6)
    job_id = J.create_job(user("archivist"), ids, "zip").id
    assert _status(job_id, Job).status == "queued" and queue.huey().pending_count() == 1  # the request only queued it
    proc = _worker(jobs_queue, tmp_path, "killed")
    try:
        job = _wait(proc, job_id, ("running", "done"), step=0.02, model=Job, until=lambda j: j.done >= 1)
    finally:
        proc.send_signal(signal.SIGKILL)  # no clean-up, as when the machine or the OOM killer stops it
        proc.wait(timeout=30)
    job = _status(job_id, Job)
    if job.status != "running":
        pytest.skip("the batch finished before the worker could be killed")
    assert 1 <= job.done < 6 and job.attempts == 1 and not job.result_path
    # Beyond JOB_STALE_SECONDS without a heartbeat, the next worker's start-up sweep queues it again.
    stale = datetime.utcnow() - timedelta(seconds=jobs_queue.config["JOB_STALE_SECONDS"] + 60)
    db.session.execute(db.update(Job).where(Job.id == job_id).values(heartbeat_at=stale))
    db.session.commit()
    proc = _worker(jobs_queue, tmp_path, "next")
    try:
        job = _wait(proc, job_id, ("done", "failed"), model=Job)
    finally:
        assert _stop(proc) == 0, proc.log_path.read_text(errors="replace")
    assert (job.status, job.done, job.total, job.attempts, job.error) == ("done", 6, 6, 2, ""), job.error
    assert sha256_path(job.result_path) == job.result_sha256
    with zipfile.ZipFile(job.result_path) as zf:
        assert len(zf.namelist()) == 6
    assert [p.name for p in (tmp_path / "results").iterdir()] == [f"job-{job_id}.zip"]  # no partial file left


def test_an_export_recorded_while_the_queue_was_down_runs_when_a_worker_can_reach_it(jobs_queue, tmp_path):
    from tests.reports.support import make_case

    for i in range(5):
        make_case(received=f"2026-0{i + 1}-05", name=f"申请人{i}")
    reachable = {k: jobs_queue.config[k] for k in ("QUEUE_URL", "QUEUE_NAME")}
    jobs_queue.config["QUEUE_URL"] = "redis://127.0.0.1:1/0"  # down: nothing listens on port 1
    jobs_queue.extensions.pop("huey", None)
    out = ledger_export.export(user("head"), {"sort": "received_on", "dir": "asc"}, background_only=True)
    job_id = out.job.id
    job = _status(job_id, Job)
    assert (job.status, job.heartbeat_at) == ("queued", None)
    assert "等待任务队列" in background.waiting_message(job)
    jobs_queue.config.update(reachable)  # the queue is back
    jobs_queue.extensions.pop("huey", None)
    assert queue.huey().pending_count() == 0  # nothing was ever queued for it
    proc = _worker(jobs_queue, tmp_path, "worker")
    try:
        job = _wait(proc, job_id, ("done", "failed"), model=Job)
    finally:
        assert _stop(proc) == 0, proc.log_path.read_text(errors="replace")
    assert (job.status, job.done, job.total, job.result) == ("done", 5, 5, {"rows": 5}), job.error
    from openpyxl import load_workbook

    with open(job.result_path, "rb") as fh:
        rows = list(load_workbook(io.BytesIO(fh.read())).active.iter_rows(min_row=2, values_only=True))
    assert [r[2] for r in rows] == [f"申请人{i}" for i in range(5)]
