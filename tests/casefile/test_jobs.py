"""Printing many case files: a background job with progress, nobody waits for it. The jobs run
in this process through ``run_pending`` (the worker's own process: tests/serving/test_jobs_worker.py)."""
from __future__ import annotations

import io
import threading
import time
import zipfile

import pytest
from pypdf import PdfReader

from app.casefile import jobs as J
from app.services import storage
from app.extensions import db
from app.models import Job as CaseFileJob
from app.services import jobs as background
from tests.casefile.conftest import ensure_reply_letter
from tests.factories import build_case, other_agency


def _cases():
    a = build_case("delivered")
    ensure_reply_letter(a)
    b = build_case("closed")
    c = build_case("handling")
    return a.id, b.id, c.id, a.number, b.number


def _job_id(location: str) -> int:
    return int(location.rstrip("/").rsplit("/", 1)[-1])


def _run_pending(web) -> int:
    """What the worker does: run the queued jobs (here, in this process)."""
    return web.run(background.run_pending)


def _status(web, job_id):
    r = web.client.get(f"/casefiles/jobs/{job_id}.json")
    assert r.status_code == 200
    return r.get_json()


def _wait_for(web, job_id, pred, limit=120.0):
    """Poll the status the way the progress page does (the limit only stops a hung test)."""
    deadline = time.monotonic() + limit
    while True:
        st = _status(web, job_id)
        if pred(st):
            return st
        assert time.monotonic() < deadline, st
        time.sleep(0.05)


def test_batch_of_chosen_cases_gives_a_zip(web):
    a, b, _c, num_a, num_b = web.run(_cases)
    web.as_user("archivist")
    r = web.client.post("/casefiles/batch", data={"case_ids": f"{num_a}, {num_b}", "format": "zip"})
    assert r.status_code == 302
    job_id = _job_id(r.headers["Location"])
    assert _status(web, job_id)["status"] == "queued"  # the request only recorded it
    assert _run_pending(web) == 1
    st = _status(web, job_id)
    assert (st["status"], st["done"], st["total"], st["error"]) == ("done", 2, 2, None)
    page = web.client.get(f"/casefiles/jobs/{job_id}").get_data(as_text=True)
    assert "已完成" in page and 'id="job-result"' in page and "http-equiv" not in page
    res = web.client.get(st["result_url"])
    assert res.status_code == 200 and res.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(res.data)) as zf:
        assert sorted(zf.namelist()) == sorted([f"{num_a}.pdf", f"{num_b}.pdf"])
        for name in zf.namelist():
            assert PdfReader(io.BytesIO(zf.read(name))).pages[0].extract_text().count("办理案卷") == 1


def test_all_ready_cases_of_a_year_in_one_pdf(web):
    a, b, _c, _na, _nb = web.run(_cases)
    web.as_user("archivist")
    r = web.client.post("/casefiles/batch", data={"year": "2026", "scope": "ready", "format": "pdf"})
    job_id = _job_id(r.headers["Location"])
    assert _run_pending(web) == 1
    job = web.run(lambda: db.session.get(CaseFileJob, job_id))
    assert (job.status, job.total, job.done) == ("done", 2, 2)  # the case still being handled is not ready
    assert web.run(lambda: J.job_params(db.session.get(CaseFileJob, job_id))["ids"]) == [a, b]
    res = web.client.get(f"/casefiles/jobs/{job_id}/result")
    assert res.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(res.data))
    covers = [p for p in reader.pages if "办理案卷" in p.extract_text()]
    assert len(covers) == 2


def test_progress_is_reported_and_other_users_are_not_blocked(web, monkeypatch):
    """The job builds one case file at a time; while it runs, the page reports its progress and
    other requests are served."""
    a, b, _c, num_a, num_b = web.run(_cases)
    gates = [threading.Event(), threading.Event()]
    started = []
    real_build = J.build_casefile

    def gated_build(case, actor, **kw):
        started.append(case.id)
        assert gates[len(started) - 1].wait(120)
        return real_build(case, actor, **kw)
    monkeypatch.setattr(J, "build_casefile", gated_build)
    web.as_user("archivist")
    r = web.client.post("/casefiles/batch", data={"case_ids": f"{num_a}\n{num_b}"})
    assert r.status_code == 302  # answered before any case file was built
    job_id = _job_id(r.headers["Location"])
    worker = threading.Thread(target=_run_pending, args=(web,))  # as the worker process would
    worker.start()
    try:
        st = _wait_for(web, job_id, lambda s: s["status"] == "running")
        assert (st["done"], st["total"], st["result_url"]) == (0, 2, None)
        page = web.client.get(f"/casefiles/jobs/{job_id}").get_data(as_text=True)
        assert "正在生成" in page and "js/jobs.js" in page and "0 / 2" in page
        assert "<script>" not in page  # the refresh is a static file (CSP)
        web.as_user("head")  # somebody else uses the system meanwhile
        assert web.client.get("/archive").status_code == 200
        web.as_user("archivist")
        gates[0].set()
        st = _wait_for(web, job_id, lambda s: s["done"] >= 1)
        assert st["done"] == 1 and st["status"] == "running"
        gates[1].set()
    finally:
        for g in gates:
            g.set()
        worker.join(120)
    st = _status(web, job_id)
    assert (st["status"], st["done"], st["total"]) == ("done", 2, 2)
    assert started == [a, b]


def test_a_failing_case_is_reported_and_the_others_are_printed(web, monkeypatch):
    a, b, _c, num_a, num_b = web.run(_cases)
    real_build = J.build_casefile

    def build(case, actor, **kw):
        if case.id == a:
            raise RuntimeError("字体文件损坏")
        return real_build(case, actor, **kw)
    monkeypatch.setattr(J, "build_casefile", build)
    web.as_user("admin")
    job_id = _job_id(web.client.post("/casefiles/batch", data={"case_ids": f"{num_a}\n{num_b}"}).headers["Location"])
    assert _run_pending(web) == 1
    st = _status(web, job_id)
    assert st["status"] == "done" and st["done"] == 2 and num_a in st["error"] and "字体文件损坏" in st["error"]
    with zipfile.ZipFile(io.BytesIO(web.client.get(st["result_url"]).data)) as zf:
        assert zf.namelist() == [f"{num_b}.pdf"]


def test_batch_input_is_checked(web):
    _a, _b, _c, _na, _nb = web.run(_cases)
    web.as_user("archivist")
    r = web.client.post("/casefiles/batch", data={"year": ""})
    assert r.status_code == 400 and "请填写年度" in r.get_data(as_text=True)
    r = web.client.post("/casefiles/batch", data={"year": "2019", "scope": "ready"})
    assert r.status_code == 400 and "2019年没有" in r.get_data(as_text=True)
    r = web.client.post("/casefiles/batch", data={"case_ids": f"{_na}、DEMO-2026-9999"})
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "没有以下登记编号的案件：DEMO-2026-9999" in html
    assert f"{_na}、DEMO-2026-9999</textarea>" in html  # what was typed is kept
    r = web.client.post("/casefiles/batch", data={"case_ids": "1"})  # an internal id is not a case number
    assert r.status_code == 400 and "没有以下登记编号的案件：1" in r.get_data(as_text=True)
    r = web.client.post("/casefiles/batch", data={"case_ids": _na, "format": "tar"})
    assert r.status_code == 400 and "输出格式" in r.get_data(as_text=True)
    assert web.run(lambda: db.session.scalar(db.select(db.func.count()).select_from(CaseFileJob))) == 0


@pytest.mark.parametrize("username,allowed", [("clerk", False), ("handler", False), ("legal", False),
                                              ("head", True), ("archivist", True), ("admin", True)])
def test_batch_routes_roles(web, username, allowed):
    a, _b, _c, num_a, _nb = web.run(_cases)
    job_id = web.run(lambda: _finished_job(a))
    web.as_user(username)
    expect = 200 if allowed else 403
    assert web.client.get("/casefiles").status_code == expect
    assert web.client.get(f"/casefiles/jobs/{job_id}").status_code == expect
    assert web.client.get(f"/casefiles/jobs/{job_id}.json").status_code == expect
    assert web.client.get(f"/casefiles/jobs/{job_id}/result").status_code == expect
    r = web.client.post("/casefiles/batch", data={"case_ids": num_a})
    assert r.status_code == (302 if allowed else 403)
    if allowed:
        assert _run_pending(web) == 1
    r = web.client.post(f"/casefiles/jobs/{job_id}/resubmit")  # a finished job: refused, but only after the role
    assert r.status_code == (302 if allowed else 403)


def _finished_job(case_id: int) -> int:
    from tests.conftest import user

    job = J.create_job(user("archivist"), [case_id])
    background.run_job(job.id)  # in this thread: a finished job to look at
    return job.id


def test_batch_routes_need_login_and_same_agency(web):
    a, _b, _c, num_a, _nb = web.run(_cases)
    job_id = web.run(lambda: _finished_job(a))
    for url in ("/casefiles", f"/casefiles/jobs/{job_id}", f"/casefiles/jobs/{job_id}.json",
                f"/casefiles/jobs/{job_id}/result"):
        assert web.client.get(url).status_code == 302
    assert web.client.post("/casefiles/batch", data={"case_ids": num_a}).status_code == 302
    assert web.client.post(f"/casefiles/jobs/{job_id}/resubmit").status_code == 302
    web.run(other_agency)
    web.as_user("other_archivist")
    for url in (f"/casefiles/jobs/{job_id}", f"/casefiles/jobs/{job_id}.json", f"/casefiles/jobs/{job_id}/result"):
        assert web.client.get(url).status_code == 404
    assert web.client.post(f"/casefiles/jobs/{job_id}/resubmit").status_code == 404
    r = web.client.post("/casefiles/batch", data={"case_ids": num_a})  # another agency's number
    assert r.status_code == 400 and f"没有以下登记编号的案件：{num_a}" in r.get_data(as_text=True)
    html = web.client.get("/casefiles").get_data(as_text=True)
    assert f"#{job_id}" not in html  # another agency's jobs are not listed


def _stuck_job(case_id: int, minutes_ago: float, status: str = "running", attempts: int = 1) -> int:
    """A job row as a worker killed mid-batch leaves it: running, last heartbeat long ago."""
    from datetime import datetime, timedelta

    from tests.conftest import user

    job = J.create_job(user("archivist"), [case_id], "zip")
    job.status, job.done, job.attempts = status, 0, attempts
    job.heartbeat_at = datetime.utcnow() - timedelta(minutes=minutes_ago)
    job.created_at = datetime.utcnow() - timedelta(minutes=minutes_ago)
    db.session.commit()
    return job.id


def test_a_job_whose_worker_died_is_shown_waiting_and_rerun_by_the_sweep(web):
    a, _b, _c, num_a, _nb = web.run(_cases)
    job_id = web.run(lambda: _stuck_job(a, 6))
    web.as_user("archivist")
    st = _status(web, job_id)
    assert st["status"] == "running" and "没有进展" in st["waiting"] and "自动" in st["waiting"]
    page = web.client.get(f"/casefiles/jobs/{job_id}").get_data(as_text=True)
    assert "后台进程可能已停止" in page and 'id="job-resubmit"' not in page
    assert web.run(background.sweep)["requeued"] == 1  # what the next worker does at its start
    assert _status(web, job_id)["status"] == "queued"
    assert _run_pending(web) == 1
    st = _status(web, job_id)
    assert (st["status"], st["done"], st["attempts"], st["error"]) == ("done", 1, 2, None)
    with zipfile.ZipFile(io.BytesIO(web.client.get(st["result_url"]).data)) as zf:
        assert zf.namelist() == [f"{num_a}.pdf"]


def test_a_job_interrupted_three_times_fails_and_can_be_resubmitted(web):
    a, _b, _c, num_a, _nb = web.run(_cases)
    job_id = web.run(lambda: _stuck_job(a, 6, attempts=background.MAX_ATTEMPTS))
    assert web.run(background.sweep)["failed"] == 1
    web.as_user("archivist")
    st = _status(web, job_id)
    assert st["status"] == "failed" and "任务已中断" in st["error"] and "0 / 1" in st["error"]
    assert "重新提交" in st["error"]
    page = web.client.get(f"/casefiles/jobs/{job_id}").get_data(as_text=True)
    assert "失败" in page and 'id="job-resubmit"' in page and "js/jobs.js" not in page
    assert "失败" in web.client.get("/casefiles").get_data(as_text=True)
    r = web.client.post(f"/casefiles/jobs/{job_id}/resubmit")
    assert r.status_code == 302
    new_id = _job_id(r.headers["Location"])
    assert new_id != job_id
    assert _run_pending(web) == 1
    st = _status(web, new_id)
    assert (st["status"], st["done"], st["total"], st["error"]) == ("done", 1, 1, None)
    with zipfile.ZipFile(io.BytesIO(web.client.get(st["result_url"]).data)) as zf:
        assert zf.namelist() == [f"{num_a}.pdf"]
    assert _status(web, job_id)["status"] == "failed"  # the interrupted one stays on record


def test_a_job_with_a_recent_heartbeat_is_still_running(web):
    a, _b, _c, _na, _nb = web.run(_cases)
    job_id = web.run(lambda: _stuck_job(a, 1))
    assert web.run(background.sweep) == {"requeued": 0, "failed": 0, "handed": 0, "expired": 0}
    web.as_user("archivist")
    st = _status(web, job_id)
    assert (st["status"], st["error"], st["waiting"]) == ("running", None, None)
    r = web.client.post(f"/casefiles/jobs/{job_id}/resubmit")  # only a failed job can be resubmitted
    assert r.status_code == 302 and _job_id(r.headers["Location"]) == job_id
    assert "只有失败、中断或已过期的任务可以重新提交" in web.client.get(f"/casefiles/jobs/{job_id}").get_data(as_text=True)
    assert web.run(lambda: db.session.scalar(db.select(db.func.count()).select_from(CaseFileJob))) == 1


def test_a_run_stops_when_its_job_was_declared_interrupted(web, monkeypatch):
    """A run that outlived its heartbeat (the sweep gave the job to another worker) stops at its next
    progress and leaves no result."""
    from tests.conftest import user

    a, b, _c, _na, _nb = web.run(_cases)
    real_build = J.build_casefile

    def build(case, actor, **kw):
        out = real_build(case, actor, **kw)
        db.session.execute(db.update(CaseFileJob).values(status="queued"))  # what the sweep writes
        db.session.commit()
        return out
    monkeypatch.setattr(J, "build_casefile", build)

    def run():
        job = J.create_job(user("archivist"), [a, b], "zip")
        background.run_job(job.id)
        return job.id
    job_id = web.run(run)
    job = web.run(lambda: db.session.get(CaseFileJob, job_id))
    assert (job.status, job.done, job.result_path) == ("queued", 0, "")
    assert web.run(lambda: sorted(p.name for p in storage.job_dir().glob(f"*job-{job_id}.*"))) == []
