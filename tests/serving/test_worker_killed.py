"""Issue 12: the calendar recompute and the ledger import run in a real `flask worker` process,
on the embedded SQLite queue and on a real redis-server. A worker killed mid-way leaves nothing
half-done: the recompute keeps the chunks it committed (each case with its event) and the next
worker finishes it without logging a case twice; the import writes nothing until it commits."""
from __future__ import annotations

import os
import random
import secrets
import signal
import time
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import insert

from app.extensions import db
from app.models import Agency, Case, Event, Job, User
from app.services import calendar as CalS
from tests.serving.test_worker import _redis_url as redis_url, _start_worker, _stop

REDIS_DB = 12  # this suite's own Redis database (queue names are unique per test besides)



@pytest.fixture(params=["sqlite", "redis"])
def queue_app(request, app, tmp_path):
    url = f"sqlite:///{tmp_path / 'queue.sqlite3'}" if request.param == "sqlite" else redis_url(REDIS_DB)
    saved = {k: app.config[k] for k in ("QUEUE_URL", "QUEUE_NAME")}
    app.config.update(QUEUE_URL=url, QUEUE_NAME=f"ogidesk-test-{secrets.token_hex(4)}")
    app.extensions.pop("huey", None)
    with app.app_context():
        yield app
        db.session.remove()
        if request.param == "redis":
            app.extensions["huey"]["huey"].storage.flush_all()
    app.extensions.pop("huey", None)
    app.config.update(saved)


def _job(job_id: int) -> Job:
    db.session.remove()  # read what the worker committed
    return db.session.get(Job, job_id)


def _wait_for(proc, job_id: int, done, seconds: float = 240, step: float = 0.01) -> Job:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = _job(job_id)
        if done(job):
            return job
        assert proc.poll() is None, proc.log_path.read_text(errors="replace")
        time.sleep(step)
    raise AssertionError(f"job {job_id}: {job.status} {job.done}/{job.total}\n" + proc.log_path.read_text(errors="replace"))


def _kill(proc) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


def _as_if_long_ago(job_id: int) -> None:
    """Time passes beyond JOB_STALE_SECONDS without a heartbeat: the next worker's sweep takes it."""
    db.session.execute(db.update(Job).where(Job.id == job_id).values(
        heartbeat_at=datetime.utcnow() - timedelta(seconds=3600)))
    db.session.commit()


# ---------------------------------------------------------------- the calendar recompute

def _finished_by_the_next_worker(queue_app, tmp_path, job_id: int) -> Job:
    """The killed worker's job, as the stale sweep of a newly started worker leaves it."""
    _as_if_long_ago(job_id)
    proc = _start_worker(queue_app, tmp_path, "next")
    try:
        return _wait_for(proc, job_id, lambda j: j.status in ("done", "failed"), step=0.2)
    finally:
        assert _stop(proc) == 0, proc.log_path.read_text(errors="replace")


def _open_cases(n: int) -> None:
    """n open cases received in December 2026, their clocks as the domain computes them (2027 not
    entered: every one is provisional and will be recomputed), inserted in bulk."""
    from app.domain.clock import ClockInput, stored_clock
    from app.services.workdays import load_calendar

    agency = db.session.scalar(db.select(Agency.id).where(Agency.code == "DEMO"))
    clerk = db.session.scalar(db.select(User.id).where(User.username == "clerk"))
    cal = load_calendar()
    rnd = random.Random(12)
    days = [date(2026, 12, d) for d in range(7, 11)]  # Mon–Thu: 20 working days reach into 2027
    rows = []
    for i in range(n):
        received = rnd.choice(days)
        sc = stored_clock(cal, ClockInput(received))
        rows.append({"agency_id": agency, "year": 2026, "seq": 9000 + i, "number": f"K-2026-{i:05d}",
                     "state": "handling", "version": 1, "channel": "online", "arrived_on": received,
                     "confirmed_on": received, "received_on": received, "receipt_basis": "测试数据",
                     "applicant_type": "natural", "applicant_name": f"申请人{i}", "description": "某文件",
                     "created_by_id": clerk, "clock_start": received, "reply_due": sc.due,
                     "paused_until": sc.paused_until, "due_provisional": sc.provisional,
                     "calendar_version": sc.calendar_version})
    db.session.execute(insert(Case.__table__), rows)
    db.session.commit()


def _recompute_state() -> tuple[int, int, int]:
    db.session.remove()
    on_new = db.session.scalar(db.select(db.func.count(Case.id)).where(Case.calendar_version == "2026r1,2027r1"))
    events = db.session.scalar(db.select(db.func.count(Event.id)).where(Event.action == "calendar_recompute"))
    cases_with_events = db.session.scalar(db.select(db.func.count(db.distinct(Event.case_id)))
                                          .where(Event.action == "calendar_recompute"))
    return on_new, events, cases_with_events


def test_a_recompute_killed_mid_way_is_finished_by_the_next_worker(queue_app, tmp_path, monkeypatch):
    n = 1200
    _open_cases(n)
    sysadmin = db.session.scalar(db.select(User).where(User.username == "sysadmin"))
    row, pending, job = CalS.save_year(sysadmin, 2027, "2027-01-01,2027-01-04", "", "测试数据")
    assert pending == n and job.status == "queued" and job.agency_id is None
    assert _recompute_state() == (0, 0, 0)  # the request only saved the calendar and the job
    monkeypatch.setenv("CALENDAR_RECOMPUTE_CHUNK", "20")
    proc = _start_worker(queue_app, tmp_path, "killed")
    try:
        seen = _wait_for(proc, job.id, lambda j: j.status != "queued" and (j.done > 0 or j.status != "running"))
    finally:
        _kill(proc)
    killed = _job(job.id)
    if seen.status != "running" or killed.status != "running" or killed.done >= n:
        pytest.skip("the recompute finished before the worker could be killed")
    # What the dead worker committed is whole: every case it moved carries its one event, and the
    # job's progress was committed with them.
    on_new, events, cases = _recompute_state()
    assert 0 < on_new < n and on_new == events == cases == killed.done
    finished = _finished_by_the_next_worker(queue_app, tmp_path, job.id)
    assert finished.status == "done", finished.error
    assert finished.attempts == 2 and (finished.done, finished.total) == (n, n), (killed.done, finished.result)
    assert finished.result["done_before"] == killed.done and finished.result["recomputed"] == n - killed.done
    assert _recompute_state() == (n, n, n)  # every case once, none twice


# ---------------------------------------------------------------- the ledger import

def _ledger(n: int) -> bytes:
    from tests.reports.test_import import xlsx

    first = date(2020, 1, 6)
    return xlsx([[f"申请人{i}", "自然人", "互联网渠道", first + timedelta(days=i % 2000), f"某项目批准文件{i}", "李承办",
                  first + timedelta(days=i % 2000 + 20), "予以公开", "", "", f"旧-{i:06d}"] for i in range(n)])


def _imported() -> tuple[int, int, int]:
    from app.models import Sequence

    db.session.remove()
    cases = db.session.scalar(db.select(db.func.count(Case.id)).where(Case.imported.is_(True)))
    events = db.session.scalar(db.select(db.func.count(Event.id)).where(Event.action == "import"))
    numbers = db.session.scalar(db.select(db.func.coalesce(db.func.sum(Sequence.last), 0)).where(Sequence.kind == "case"))
    return cases, events, numbers


def test_an_import_killed_mid_way_writes_nothing_and_the_next_worker_imports_it_all(queue_app, tmp_path,
                                                                                     monkeypatch):
    from app.reports import importer

    monkeypatch.setenv("IMPORT_STAGING_DIR", queue_app.config["IMPORT_STAGING_DIR"])  # the worker's too

    n = 3000
    admin = db.session.scalar(db.select(User).where(User.username == "admin"))
    data = _ledger(n)
    with queue_app.test_request_context():
        preview = importer.import_ledger(admin, data, dry_run=True)
        assert preview.ok and preview.count("create") == n
        job = importer.submit(admin, importer.stage(admin, data), "refuse")
        staged = importer._job_file(admin.id, job.params["token"])
    assert job.total == 2 * n and os.path.exists(staged)
    proc = _start_worker(queue_app, tmp_path, "killed")
    try:
        # Rows checked are reported before any row is written: then the writing runs.
        seen = _wait_for(proc, job.id, lambda j: j.status != "queued" and (j.done >= n or j.status != "running"))
    finally:
        _kill(proc)
    if seen.status != "running" or _job(job.id).status != "running":
        pytest.skip(f"the import finished before the worker could be killed: {seen.status} {seen.done} {seen.error}")
    assert _imported() == (0, 0, 0)  # all or nothing: nothing of it was committed
    assert os.path.exists(staged)  # kept for the rerun until the job ends
    finished = _finished_by_the_next_worker(queue_app, tmp_path, job.id)
    assert finished.status == "done", finished.error
    assert finished.attempts == 2 and (finished.done, finished.total) == (2 * n, 2 * n)
    assert finished.result["created"] == n
    assert _imported() == (n, n, n)  # every row once, numbered without a gap
    assert not os.path.exists(staged)
