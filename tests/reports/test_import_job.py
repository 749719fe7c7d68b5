"""Issue 12: the confirmed ledger import is a job. It validates the file again when it runs (the
ledger or the agency may have changed since the preview): any row that fails then imports nothing
and fails the job with the row-level report; a row another import wrote meanwhile is refused.
The preview of a large ledger lists its first rows and counts them all."""
from __future__ import annotations

import os

from app.extensions import db
from app.models import Case, Event, Job, User
from app.reports import importer
from app.services import jobs as background
from tests.conftest import user
from tests.reports.test_import import GOOD, confirm_token, upload, xlsx


def _submit(app, data: bytes) -> tuple[int, str]:
    with app.test_request_context():
        admin = user("admin")
        job = importer.submit(admin, importer.stage(admin, data), "refuse")
        return job.id, importer._job_file(admin.id, job.params["token"])


def _run(app, job_id: int) -> Job:
    with app.app_context():
        background.run_pending()
        db.session.expire_all()
        job = db.session.get(Job, job_id)
        db.session.expunge(job)
        return job


def _written(app) -> tuple[int, int]:
    with app.app_context():
        return (db.session.scalar(db.select(db.func.count(Case.id))),
                db.session.scalar(db.select(db.func.count(Event.id)).where(Event.action == "import")))


def test_a_row_invalid_when_the_job_runs_fails_it_with_the_rows_and_writes_nothing(app):
    job_id, staged = _submit(app, xlsx(GOOD))
    with app.app_context():  # after the preview the handler named in rows 2 and 5 leaves the agency
        db.session.execute(db.update(User).where(User.username == "handler").values(name="李某某", username="h-old"))
        db.session.commit()
    job = _run(app, job_id)
    assert job.status == "failed"
    assert "校验未通过：共 4 行数据，其中 2 行有误，未导入任何数据" in job.error
    assert "第2行“承办人”：本机关没有用户“李承办”" in job.error and "第5行“承办人”" in job.error
    assert _written(app) == (0, 0)
    assert not os.path.exists(staged)  # the job ended: the personal data goes


def test_rows_another_import_wrote_meanwhile_are_refused_when_the_job_runs(app):
    job_id, _ = _submit(app, xlsx(GOOD))
    with app.test_request_context():
        importer.import_ledger(user("admin"), xlsx(GOOD[:1]))  # the first row, by another import
    job = _run(app, job_id)
    # Planned again when it runs: that row is refused, the other three are imported.
    assert job.status == "done" and job.result["created"] == 3 and job.result["refused"] == 1
    assert job.result["refused_rows"][0]["row"] == 2 and "已导入为案件" in job.result["refused_rows"][0]["reason"]
    assert _written(app) == (4, 4)


def test_a_confirmation_twice_submits_one_job(app, client, auth):
    auth.login("admin")
    html = upload(client, xlsx(GOOD)).get_data(as_text=True)
    token = confirm_token(html)
    assert client.post("/import/confirm", data={"token": token}).status_code == 302
    again = client.post("/import/confirm", data={"token": token})
    assert again.status_code == 400 and "预览已失效" in again.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Job.id)).where(Job.kind == "ledger_import")) == 1


def test_a_large_preview_lists_its_first_rows_and_counts_all(app, client, auth):
    auth.login("admin")
    rows = [["申请人%d" % i, "自然人", "互联网渠道", "2024-03-15", "某文件%d" % i, "", "2024-04-02", "予以公开", "", "",
             "L-%05d" % i] for i in range(700)]
    html = upload(client, xlsx(rows)).get_data(as_text=True)
    assert '<strong id="to-create">700</strong>' in html
    assert html.count('data-action="create"') == 500 and "另有 200 行未列出" in html


def test_statements_do_not_grow_with_the_rows(app):
    """Cases and events are written by batches: 12 rows or 60 cost the same statements (each row
    used to cost a numbering UPDATE, an INSERT and an event INSERT at least)."""
    from sqlalchemy import event

    def rows(n, tag):
        return [[f"申请人{i}", "自然人", "互联网渠道", "2024-03-15" if i % 2 else "2026-11-02", f"某文件{i}", "",
                 "2024-04-02" if i % 2 else None, "予以公开" if i % 2 else None, "", "", f"{tag}-{i:05d}"]
                for i in range(n)]

    def count(data):
        n = [0]

        def tick(*_a, **_k):
            n[0] += 1
        with app.test_request_context():
            event.listen(db.engine, "before_cursor_execute", tick)
            try:
                result = importer.import_ledger(user("admin"), data)
            finally:
                event.remove(db.engine, "before_cursor_execute", tick)
            assert result.ok and result.created == len(result.plan)
        return n[0]

    small, large = count(xlsx(rows(12, "S"))), count(xlsx(rows(60, "L")))
    assert large <= small <= 25, (small, large)  # the first also creates the years' number sequences
    assert _written(app) == (72, 72)
