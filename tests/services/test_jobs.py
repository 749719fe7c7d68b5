"""The background-job framework (app/services/jobs.py) on the real database and queue: a job is
recorded before it is queued and survives a queue that is down; one claim runs it once; the sweep
hands over lost jobs, reruns or fails the ones whose worker died, and deletes expired results."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from app.extensions import db
from app.models import Job
from app.services import jobs as background
from app.services import queue
from app.services.errors import ServiceError
from tests.conftest import IS_PG, user
from tests.web.conftest import Web

CALLS: list[tuple[int, int]] = []  # (job id, attempt) of every run of the test kinds


def _write(job: Job, progress) -> background.Result:
    CALLS.append((job.id, job.attempts))
    for i in range(1, job.total + 1):
        progress(i)
    path = background.result_path(job, ".txt")
    path.write_text("第%d次" % job.attempts, encoding="utf-8")
    return background.Result(path=path, name="结果.txt", note="一条警告" if job.params.get("warn") else "",
                             data={"n": job.total})


def _refuse(job: Job, progress) -> None:
    progress(1)
    raise ServiceError("第2行：收到申请日期无效", "file")


def _one_transaction(job: Job, progress) -> None:
    """Like an import: writes in one transaction, reporting progress without committing it."""
    from app.models import Agency

    agency = db.session.get(Agency, job.agency_id)
    agency.phone = "0000-1"  # the transaction now holds SQLite's one write lock
    db.session.flush()
    progress(1, 2, commit=False)
    progress(2, 2, commit=False)
    db.session.commit()


background.define("test_write", "测试任务", _write, describe=lambda j: f"{j.total} 步")
background.define("test_refuse", "测试失败", _refuse)
background.define("test_one_tx", "测试单一事务", _one_transaction)


@pytest.fixture
def fresh_queue(app, tmp_path):
    """The app with a fresh embedded queue and result directory."""
    saved = {k: app.config[k] for k in ("QUEUE_URL", "CASEFILE_JOB_DIR")}
    app.config.update(QUEUE_URL=f"sqlite:///{tmp_path / 'queue.sqlite3'}", CASEFILE_JOB_DIR=str(tmp_path / "results"))
    app.extensions.pop("huey", None)
    background._QUEUE_PROBLEM.clear()
    CALLS.clear()
    yield app
    app.extensions.pop("huey", None)
    app.config.update(saved)


@pytest.fixture
def jobs_app(fresh_queue):
    """Service tests: inside one application context."""
    with fresh_queue.app_context():
        yield fresh_queue
        db.session.remove()


@pytest.fixture
def web(fresh_queue, client):
    """Tests with pages: requests get their own context, service calls go through web.run."""
    return Web(fresh_queue, client)


def _get(job_id: int) -> Job:
    db.session.remove()
    return db.session.get(Job, job_id)


def _age(job_id: int, **values) -> None:
    db.session.execute(db.update(Job).where(Job.id == job_id).values(**values))
    db.session.commit()


def test_submit_records_commits_then_queues_and_the_worker_task_runs_it(jobs_app):
    job = background.submit("test_write", user("head"), {"warn": True}, 3)
    assert _get(job.id).status == "queued" and _get(job.id).heartbeat_at is not None  # handed over
    assert queue.huey().pending_count() == 1
    jobs_app.extensions["huey"]["tasks"]["job"].call_local(job.id)  # what the consumer calls
    j = _get(job.id)
    assert (j.status, j.done, j.attempts, j.error, j.result, j.result_name) == ("done", 3, 1, "一条警告", {"n": 3},
                                                                              "结果.txt")
    assert Path(j.result_path).read_text(encoding="utf-8") == "第1次" and len(j.result_sha256) == 64
    assert j.expires_at - j.finished_at == timedelta(days=jobs_app.config["JOB_RESULT_DAYS"])


def test_a_job_is_claimed_once_however_often_it_is_queued(jobs_app):
    job_id = background.submit("test_write", user("head"), {}, 2).id
    background.hand_over(job_id)  # a second queue entry (the sweep's, say)
    threads = [threading.Thread(target=_run_in_context, args=(jobs_app, job_id)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    background.run_job(job_id)
    assert CALLS == [(job_id, 1)] and _get(job_id).status == "done"


def _run_in_context(app, job_id):
    with app.app_context():
        try:
            background.run_job(job_id)
        finally:
            db.session.remove()


def test_a_failing_run_fails_the_job_with_its_message(jobs_app):
    job_id = background.submit("test_refuse", user("admin"), {}, 2).id
    assert background.run_pending() == 1
    j = _get(job_id)
    assert (j.status, j.done, j.result_path) == ("failed", 1, "")
    assert j.error == "任务失败：第2行：收到申请日期无效"


def test_progress_outside_the_runs_transaction_does_not_wait_for_it(jobs_app):
    job_id = background.submit("test_one_tx", user("admin"), {}, 0).id
    assert background.run_pending() == 1
    j = _get(job_id)
    assert (j.status, j.total if IS_PG else 2, j.done if IS_PG else 2) == ("done", 2, 2), j.error


def test_the_queue_down_at_submit_loses_nothing(web):
    app, client = web.app, web.client
    app.config["QUEUE_URL"] = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    app.extensions.pop("huey", None)
    job_id = web.run(lambda: background.submit("test_write", user("head"), {}, 1).id)  # no exception
    assert web.run(lambda: (_get(job_id).status, _get(job_id).heartbeat_at)) == ("queued", None)
    web.as_user("head")
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "正在等待任务队列" in page and "队列恢复后任务将自动开始" in page
    assert "任务队列无法访问（ConnectionError）" in page  # queue.problem(), while it lasts
    st = client.get(f"/jobs/{job_id}.json").get_json()
    assert st["queue_problem"].startswith("任务队列无法访问") and "等待任务队列" in st["waiting"]
    # The queue is back: the worker's sweep hands the job over, and it runs.
    app.config["QUEUE_URL"] = f"sqlite:///{Path(app.config['CASEFILE_JOB_DIR']).parent / 'q2.sqlite3'}"
    app.extensions.pop("huey", None)
    background._QUEUE_PROBLEM.clear()
    assert web.run(background.sweep)["handed"] == 1
    assert web.run(lambda: queue.huey().pending_count()) == 1
    assert web.run(lambda: _get(job_id).heartbeat_at) is not None
    assert web.run(background.sweep)["handed"] == 0  # handed over recently: not again
    assert web.run(background.run_pending) == 1 and web.run(lambda: _get(job_id).status) == "done"
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "等待任务队列" not in page and "任务队列无法访问" not in page and 'id="job-result"' in page


def test_the_sweep_reruns_a_job_whose_worker_died_then_gives_up(jobs_app):
    job_id = background.submit("test_write", user("head"), {}, 2).id
    stale = datetime.utcnow() - timedelta(seconds=jobs_app.config["JOB_STALE_SECONDS"] + 5)
    for attempt in range(1, background.MAX_ATTEMPTS + 1):
        _age(job_id, status="running", attempts=attempt, started_at=stale, heartbeat_at=stale)
        out = background.sweep()
        if attempt < background.MAX_ATTEMPTS:
            assert (out["requeued"], _get(job_id).status) == (1, "queued")
            assert out["handed"] == 1  # and handed to the queue at once
    j = _get(job_id)
    assert (out["failed"], j.status) == (1, "failed")
    assert "任务已中断" in j.error and f"已尝试 {background.MAX_ATTEMPTS} 次" in j.error and "重新提交" in j.error
    new = background.resubmit(j, user("head"))
    assert (new.kind, new.params, new.total, new.status) == ("test_write", {}, 2, "queued") and new.id != job_id
    _age(job_id, status="running", attempts=1, heartbeat_at=datetime.utcnow())  # a live heartbeat
    assert background.sweep()["requeued"] == 0


def test_a_run_overtaken_by_the_sweep_stops_and_keeps_no_result(jobs_app):
    job_id = background.submit("test_write", user("head"), {}, 3).id
    real = background._Progress.__call__

    def progress(self, done, total=None, **kw):
        if done == 2:  # meanwhile the sweep declared the job interrupted and queued it again
            _age(job_id, status="queued")
        return real(self, done, total, **kw)
    background._Progress.__call__ = progress
    try:
        background.run_job(job_id)
    finally:
        background._Progress.__call__ = real
    j = _get(job_id)
    assert (j.status, j.done, j.result_path) == ("queued", 1, "")
    assert background.run_pending() == 1  # the rerun from the start
    j = _get(job_id)
    assert (j.status, j.done, j.attempts) == ("done", 3, 2)
    assert Path(j.result_path).read_text(encoding="utf-8") == "第2次"


def test_expired_results_are_deleted_and_the_job_says_so(web):
    client = web.client
    job_id = web.run(lambda: background.submit("test_write", user("head"), {}, 1).id)
    web.run(background.run_pending)
    path = Path(web.run(lambda: _get(job_id).result_path))
    assert path.is_file() and web.run(background.sweep)["expired"] == 0
    web.run(lambda: _age(job_id, expires_at=datetime.utcnow() - timedelta(minutes=1)))
    assert web.run(background.sweep)["expired"] == 1
    assert not path.exists()
    assert web.run(lambda: (_get(job_id).expired, background.status_label(_get(job_id)))) == (True, "已过期")
    web.as_user("head")
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "结果文件已过期并删除" in page and 'id="job-resubmit"' in page and 'id="job-result"' not in page
    assert client.get(f"/jobs/{job_id}/result").status_code == 404
    assert "已过期" in client.get("/jobs").get_data(as_text=True)
    r = client.post(f"/jobs/{job_id}/resubmit")
    assert r.status_code == 302 and r.headers["Location"] == f"/jobs/{job_id + 1}"


def test_platform_jobs_are_for_the_system_administrator(web):
    client = web.client
    job_id = web.run(lambda: background.submit("test_write", None, {}, 1, agency_id=None).id)
    mine = web.run(lambda: background.submit("test_write", user("admin"), {}, 1).id)
    assert web.run(lambda: [j.id for j in background.my_jobs(user("sysadmin"))]) == [job_id]
    assert web.run(lambda: [j.id for j in background.my_jobs(user("admin"))]) == [mine]
    web.as_user("admin")
    assert client.get(f"/jobs/{job_id}").status_code == 404
    listing = client.get("/jobs").get_data(as_text=True)
    assert f'id="job-{mine}"' in listing and "测试任务" in listing and "1 步" in listing
    web.as_user("sysadmin")
    assert client.get(f"/jobs/{job_id}").status_code == 200
    assert client.get(f"/jobs/{mine}").status_code == 404


def test_flask_run_jobs_runs_the_queued_jobs_once(fresh_queue):
    with fresh_queue.app_context():
        ids = [background.submit("test_write", user("head"), {}, 1).id for _ in range(2)]
        db.session.remove()
    result = fresh_queue.test_cli_runner().invoke(args=["run-jobs"])
    assert result.exit_code == 0 and "已执行 2 个后台任务" in result.output, result.output
    with fresh_queue.app_context():
        assert [_get(i).status for i in ids] == ["done", "done"]
