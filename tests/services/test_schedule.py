"""Scheduled work on the Huey queue: the schedules fire at Beijing time whatever Huey's UTC clock
says, each tick runs once however many workers fire it, and the nightly sweep and verification
record what they found (the verification also in each agency's security log)."""
from __future__ import annotations

import json
import re
from datetime import datetime

import pytest
from huey import crontab
from huey.api import PeriodicTask

from app.casefile import attachments as A
from app.extensions import db
from app.models import Case, Digest, Event, ScheduledRun
from app.services import queue, schedule, storage
from tests.casefile.conftest import png_bytes, stores, web  # noqa: F401  (fixtures: per-test file stores)
from tests.conftest import user
from tests.factories import build_case


@pytest.fixture(autouse=True)
def no_runs(app):
    """scheduled_run has no foreign key, so the PostgreSQL fixture's TRUNCATE … CASCADE misses it."""
    with app.app_context():
        db.session.execute(db.delete(ScheduledRun))
        db.session.commit()


@pytest.fixture
def sched_app(app):
    """The test app with its queue rebuilt from the schedule settings (restored afterwards)."""
    saved = {k: app.config[k] for k in ("DIGEST_AT", "NIGHTLY_AT", "OGI_NOW", "OGI_TODAY")}
    app.extensions.pop("huey", None)
    with app.app_context():
        yield app
        db.session.remove()
    app.extensions.pop("huey", None)
    app.config.update(saved)


def _tasks(app):
    queue.huey(app)
    return app.extensions["huey"]["tasks"]


def _utc(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


def test_the_schedules_fire_at_beijing_time(sched_app):
    # Huey keeps UTC: a plain crontab(hour=7, minute=30) would fire at 07:30 UTC, 15:30 in Beijing.
    assert crontab(minute="30", hour="7")(_utc("2026-12-02T07:30"))
    tasks = _tasks(sched_app)
    assert sched_app.extensions["huey"]["huey"].utc is True
    for name in ("digest", "nightly_sweep", "nightly_verify", "nightly_statistics"):
        assert issubclass(tasks[name].task_class, PeriodicTask)
    digest = tasks["digest"].task_class()
    nightly = tasks["nightly_verify"].task_class()
    sweep = tasks["nightly_sweep"].task_class()
    # 07:30 in Beijing is 23:30 UTC of the day before; 02:30 is 18:30 UTC.
    assert digest.validate_datetime(_utc("2026-12-01T23:30"))
    assert digest.validate_datetime(_utc("2026-12-01T23:30:59"))
    for other in ("2026-12-02T07:30", "2026-12-01T23:31", "2026-12-01T23:29", "2026-12-02T15:30"):
        assert not digest.validate_datetime(_utc(other)), other
    assert nightly.validate_datetime(_utc("2026-12-01T18:30")) and sweep.validate_datetime(_utc("2026-12-01T18:30"))
    assert not nightly.validate_datetime(_utc("2026-12-02T02:30"))
    # Exactly once a day: the minutes of a whole UTC day that match.
    day = [_utc("2026-12-01T00:00").replace(hour=h, minute=m) for h in range(24) for m in range(60)]
    assert [t for t in day if digest.validate_datetime(t)] == [_utc("2026-12-01T23:30")]
    assert [t for t in day if nightly.validate_datetime(t)] == [_utc("2026-12-01T18:30")]


def test_the_times_come_from_the_settings(sched_app):
    sched_app.config.update(DIGEST_AT="08:05", NIGHTLY_AT="0:00")
    tasks = _tasks(sched_app)
    assert tasks["digest"].task_class().validate_datetime(_utc("2026-12-02T00:05"))
    assert tasks["nightly_verify"].task_class().validate_datetime(_utc("2026-12-01T16:00"))
    sched_app.extensions.pop("huey")
    sched_app.config["DIGEST_AT"] = "7.30"
    with pytest.raises(ValueError, match="DIGEST_AT must be a local time HH:MM"):
        queue.huey(sched_app)


def test_a_tick_runs_once_however_many_workers_fire_it(sched_app):
    validate = _tasks(sched_app)["digest"].task_class().validate_datetime
    # The tick a run belongs to, in local time: also when the queue ran it late.
    assert queue.tick(validate, _utc("2026-12-01T23:30:40")) == "2026-12-02T07:30"
    assert queue.tick(validate, _utc("2026-12-01T23:47:00")) == "2026-12-02T07:30"
    assert queue.tick(validate, _utc("2026-12-01T23:29:00")) == "2026-12-01T07:30"
    calls = []

    def work():
        calls.append(1)
        return {"done": len(calls)}

    first = queue.run_scheduled("probe", work, "2026-12-02T07:30")
    assert first.status == "ok" and first.summary["done"] == 1 and "seconds" in first.summary
    assert queue.run_scheduled("probe", work, "2026-12-02T07:30") is None  # a second worker host
    assert calls == [1]
    assert queue.run_scheduled("probe", work, "2026-12-03T07:30").summary["done"] == 2

    def broken():
        raise RuntimeError("disk full")

    failed = queue.run_scheduled("probe", broken, "2026-12-04T07:30")
    assert failed.status == "failed" and "RuntimeError: disk full" in failed.summary["error"]
    assert queue.last_run("probe").id == failed.id


def test_the_digest_task_stores_todays_digest_once(sched_app):
    build_case("handling", arrived_on="2026-09-03")  # due 2026-10-08, 3 working days after 9-28
    # 07:30 on 28 September in Beijing.
    sched_app.config.update(OGI_NOW="2026-09-27T23:30:05", OGI_TODAY="2026-09-28")
    task = _tasks(sched_app)["digest"]
    task.call_local()
    task.call_local()  # fired twice (two worker hosts): one run
    runs = list(db.session.scalars(db.select(ScheduledRun).where(ScheduledRun.name == "digest")))
    assert [(r.slot, r.status) for r in runs] == [("2026-09-28T07:30", "ok")]
    assert runs[0].summary["users"] == 4 and runs[0].summary["items"] == 2
    row = db.session.scalar(db.select(Digest).where(Digest.user_id == user("handler").id))
    assert row.day.isoformat() == "2026-09-28" and row.items[0]["days_left"] == 3


def test_the_nightly_sweep_runs_every_sweep_hook_and_reports_failures(sched_app, caplog):
    import app.casefile.ocr  # noqa: F401  (registers its sweep, as `flask worker` does)

    summary = schedule.nightly_sweep()
    assert summary["ok"] and summary["failed"] == [] and "sweep" in summary["hooks"]

    def broken_sweep():
        raise RuntimeError("storage away")

    queue.on_worker_start(broken_sweep)
    try:
        sched_app.config["OGI_NOW"] = "2026-12-01T18:30:00"
        _tasks(sched_app)["nightly_sweep"].call_local()
    finally:
        queue._STARTUP.remove(broken_sweep)
    run = queue.last_run("nightly_sweep")
    assert run.slot == "2026-12-02T02:30" and run.status == "failed"
    assert run.summary["failed"] == ["broken_sweep"] and "sweep" in run.summary["hooks"]
    assert "storage away" in caplog.text


def _verify_events() -> list[dict]:
    return [json.loads(e.data_json) for e in db.session.scalars(
        db.select(Event).where(Event.action == "verify_run").order_by(Event.id))]


def test_the_nightly_verification_logs_mismatches_and_its_result(sched_app, web):  # noqa: F811
    case = build_case("delivered")
    att = A.add_attachment(case.id, user("clerk"), png_bytes(), "回证.png", "proof_of_service", "")
    sha = att.sha256
    task = _tasks(sched_app)["nightly_verify"]
    sched_app.config["OGI_NOW"] = "2026-12-01T18:30:00"
    task.call_local()
    clean = queue.last_run("nightly_verify")
    assert clean.status == "ok" and clean.summary["problems"] == 0
    assert clean.summary["checked"]["attachment"] == 1 and clean.summary["checked"]["letter"] >= 1
    assert clean.summary["checked_total"] == sum(clean.summary["checked"].values())

    path = storage.path_for(sha)
    path.chmod(0o600)
    path.write_bytes(b"not the scan")  # changed on disk, outside the application
    sched_app.config["OGI_NOW"] = "2026-12-02T18:30:00"
    task.call_local()
    bad = queue.last_run("nightly_verify")
    assert bad.slot == "2026-12-03T02:30" and bad.status == "failed" and bad.summary["problems"] == 1
    events = _verify_events()
    assert [(e["ok"], e["trigger"]) for e in events] == [(True, "nightly"), (False, "nightly")]
    assert events[1]["problem_count"] == 1 and f"附件 #{att.id}：校验不符" in events[1]["problems"][0]
    assert all(isinstance(e["seconds"], float) for e in events)

    # The administrator sees the last nightly run on the security log page, and the event in it.
    web.as_user("admin")
    page = web.client.get("/admin/security-log").get_data(as_text=True)
    box = page.split('id="verify-status"')[1].split("</section>")[0]
    assert re.search(r"最近一次夜间定时校验：\d{4}-\d\d-\d\d \d\d:\d\d（夜间定时校验），校验 \d+ 份", box)
    assert "1 处不符或缺失" in box and "全部一致" not in box
    assert f"附件 #{att.id}：校验不符" in box
    assert "夜间定时校验" in page.split('id="security-log"')[1]  # the event's detail names the trigger


def test_the_nightly_statistics_keep_sqlite_planning_searches_by_the_index(sched_app):
    from sqlalchemy import text
    from tests.reports.support import make_case

    for i in range(30):
        make_case(received="2026-03-02", name=f"申请人{i}", commit=False)
    db.session.commit()
    sqlite = db.engine.dialect.name == "sqlite"
    if sqlite:
        db.session.execute(text("DELETE FROM sqlite_stat1"))  # as after years without statistics
        db.session.commit()
    sched_app.config["OGI_NOW"] = "2026-12-01T18:30:00"
    _tasks(sched_app)["nightly_statistics"].call_local()
    run = queue.last_run("nightly_statistics")
    assert run.slot == "2026-12-02T02:30" and run.status == "ok"
    assert run.summary["analyzed"] is sqlite
    if sqlite:
        counted = db.session.execute(text(
            "SELECT stat FROM sqlite_stat1 WHERE tbl = 'case' AND idx = 'ix_case_received'")).scalar()
        assert counted is not None and int(counted.split()[0]) == db.session.scalar(
            db.select(db.func.count()).select_from(Case))
