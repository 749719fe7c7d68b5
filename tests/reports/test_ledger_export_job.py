"""A large ledger export is a background job on both doors: the web asks for a confirmation, then
shows the job's page with the rows written and the file when done; the API answers 202 with the
job. A small export still downloads at once. (Jobs run here through run_pending; the worker
process: tests/serving/test_jobs_worker.py.)"""
from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from app.extensions import db
from app.models import Event, Job
from app.reports import ledger
from app.services import jobs as background
from tests.api.support import Api
from tests.reports.test_ledger import data  # noqa: F401  (fixture: 8 cases, 5 open)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def small_threshold(app, monkeypatch):
    """A direct export holds at most 3 rows here (2,000 in production) and progress is recorded
    every 2 rows, so 8 cases make a job with several steps of progress."""
    monkeypatch.setitem(app.config, "LEDGER_EXPORT_DIRECT_ROWS", 3)
    monkeypatch.setattr(ledger, "EXPORT_CHUNK", 2)


def _run_pending(app) -> int:
    with app.app_context():
        try:
            return background.run_pending()
        finally:
            db.session.remove()


def _rows(body: bytes) -> list[tuple]:
    return list(load_workbook(io.BytesIO(body)).active.iter_rows(min_row=2, values_only=True))


def _events(app) -> list[dict]:
    import json

    with app.app_context():
        return [json.loads(e.data_json) for e in db.session.scalars(
            db.select(Event).where(Event.action == "ledger_export").order_by(Event.id))]


def test_a_small_export_still_downloads_at_once(app, client, auth, data, small_threshold):  # noqa: F811
    auth.login("head")
    r = client.get("/ledger/export.xlsx", query_string={"received_to": "2026-06-01"})  # 3 cases
    assert r.status_code == 200 and r.mimetype == XLSX
    assert len(_rows(b"".join(r.response))) == 3
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Job)) == 0


def test_a_large_export_is_confirmed_then_runs_as_a_job_with_progress(app, client, auth, data,  # noqa: F811
                                                                     small_threshold):
    auth.login("head")
    r = client.get("/ledger/export.xlsx", query_string={"sort": "received_on", "dir": "asc"})
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and r.mimetype == "text/html" and 'id="export-start"' in page
    assert "共 <strong id=\"export-rows\">8</strong> 件" in page
    with app.app_context():  # a link starts nothing by itself
        assert db.session.scalar(db.select(db.func.count()).select_from(Job)) == 0
    r = client.post("/ledger/export", data={"sort": "received_on", "dir": "asc"})
    assert r.status_code == 302
    job_url = r.headers["Location"]
    job_id = int(job_url.rsplit("/", 1)[-1])
    page = client.get(job_url).get_data(as_text=True)
    assert "导出台账 任务" in page and "排队中" in page and "js/jobs.js" in page and "0 / 8" in page
    seen = []
    real = background._Progress.__call__

    def spy(self, done, total=None, **kw):  # what the job page reads at each step, while the rows stream
        real(self, done, total, **kw)
        with db.engine.connect() as other:
            seen.append(other.execute(db.select(Job.done).where(Job.id == job_id)).scalar())
    background._Progress.__call__ = spy
    try:
        assert _run_pending(app) == 1
    finally:
        background._Progress.__call__ = real
    assert seen == [0, 2, 4, 6, 8, 8]
    st = client.get(f"/jobs/{job_id}.json").get_json()
    assert (st["status"], st["done"], st["total"], st["result"]) == ("done", 8, 8, {"rows": 8})
    assert st["result_name"].startswith("政府信息公开申请台账_") and st["result_url"] == f"/jobs/{job_id}/result"
    r = client.get(st["result_url"])
    assert r.status_code == 200 and r.mimetype == XLSX
    assert "filename*=UTF-8''" in r.headers["Content-Disposition"]
    rows = _rows(r.data)
    assert [x[0] for x in rows] == [data[k][1] for k in "abcdefgh"]  # the order asked for
    r.close()
    assert _events(app) == [{"filters": "全部", "job": job_id, "rows": 8}]  # recorded once, at the request
    listing = client.get("/jobs").get_data(as_text=True)
    assert f'id="job-{job_id}"' in listing and "导出台账" in listing and "下载" in listing


def test_a_refused_filter_or_limit_creates_no_job(app, client, auth, data, small_threshold,  # noqa: F811
                                                  monkeypatch):
    auth.login("head")
    r = client.post("/ledger/export", data={"received_from": "2026-05-01", "received_to": "2026-04-01"})
    assert r.status_code == 400 and "不能早于" in r.get_data(as_text=True)
    monkeypatch.setattr(ledger, "MAX_EXPORT_ROWS", 5)
    r = client.post("/ledger/export", data={})
    assert r.status_code == 400 and "超过单次导出上限 5 件" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Job)) == 0


def test_the_api_answers_202_with_the_job_then_the_file(app, client, data):  # noqa: F811
    api = Api(app, client)
    r = api.post("/ledger/exports", as_="head", query={"state": "open", "sort": "received_on", "dir": "asc"})
    assert r.status_code == 202, r.get_data(as_text=True)
    job = r.get_json()
    assert r.headers["Location"] == job["url"] == f"/api/v1/jobs/{job['id']}"
    assert (job["kind"], job["status"], job["total"], job["result_url"]) == ("ledger_export", "queued", 5, None)
    assert api.get(f"/jobs/{job['id']}/result", as_="head").status_code == 404  # not done yet
    assert _run_pending(app) == 1
    st = api.get(job["url"].removeprefix("/api/v1"), as_="head").get_json()
    assert (st["status"], st["done"], st["total"]) == ("done", 5, 5)
    r = api.get(st["result_url"].removeprefix("/api/v1"), as_="head")
    assert r.status_code == 200 and r.mimetype == XLSX
    assert [x[0] for x in _rows(b"".join(r.response))] == [data[k][1] for k in "defgh"]
    assert [j["id"] for j in api.get("/jobs", as_="head").get_json()["items"]] == [job["id"]]
    # Same agency may look (the ledger is theirs too); another agency may not; bad filters are refused.
    assert api.get(f"/jobs/{job['id']}", as_="clerk").status_code == 200
    assert api.get("/jobs", as_="clerk").get_json()["items"] == []  # "mine" only
    r = api.post("/ledger/exports", as_="head", query={"state": "nope"})
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "state"
    r = api.post("/jobs/%d/resubmit" % job["id"], as_="head")
    assert r.status_code == 400 and "只有失败" in r.get_json()["error"]["message"]


def test_other_agencies_and_the_platform_cannot_see_a_job(app, client, data):  # noqa: F811
    from tests.factories import other_agency

    api = Api(app, client)
    job = api.post("/ledger/exports", as_="head").get_json()
    with app.app_context():
        other_agency()
        db.session.remove()
    for who in ("other_archivist", "sysadmin"):
        assert api.get(f"/jobs/{job['id']}", as_=who).status_code == 404
        assert api.get(f"/jobs/{job['id']}/result", as_=who).status_code == 404
    assert api.get("/jobs/99999999999", as_="head").status_code == 404
