"""/healthz and /readyz: open without a login, and /readyz names what is not ready."""
from __future__ import annotations

from pathlib import Path

import pytest

from app import create_app


def test_healthz_and_readyz_answer_without_a_login(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.get_json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200, r.get_json()
    assert r.get_json() == {"status": "ok", "checks": {"database": "ok", "storage": "ok", "jobs": "ok",
                                                        "queue": "ok"}}
    assert r.headers["Cache-Control"] == "no-store"


def test_readyz_is_503_when_the_file_store_is_not_a_directory(app, client, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    old = app.config["ATTACHMENT_DIR"]
    app.config["ATTACHMENT_DIR"] = str(blocker / "attachments")
    try:
        r = client.get("/readyz")
    finally:
        app.config["ATTACHMENT_DIR"] = old
    body = r.get_json()
    assert r.status_code == 503 and body["status"] == "unavailable"
    assert body["checks"]["storage"].startswith("附件存储目录不是目录")
    assert body["checks"]["database"] == "ok"


def test_readyz_is_503_when_the_task_queue_cannot_be_reached(app, client):
    old = app.config["QUEUE_URL"]
    app.config["QUEUE_URL"] = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    app.extensions.pop("huey", None)
    try:
        r = client.get("/readyz")
    finally:
        app.config["QUEUE_URL"] = old
        app.extensions.pop("huey", None)
    body = r.get_json()
    assert r.status_code == 503 and body["checks"]["queue"].startswith("任务队列无法访问")
    assert body["checks"]["database"] == "ok"


@pytest.mark.no_db
def test_readyz_is_503_when_the_database_cannot_be_reached(tmp_path):
    missing = tmp_path / "no-such-dir" / "db.sqlite3"
    broken = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{missing}",
                         "SERVER_NAME": "localhost", "ATTACHMENT_DIR": str(tmp_path / "a"),
                         "CASEFILE_JOB_DIR": str(tmp_path / "j"),
                         "QUEUE_URL": f"sqlite:///{tmp_path / 'q.sqlite3'}"})
    r = broken.test_client().get("/readyz")
    body = r.get_json()
    assert r.status_code == 503
    assert body["checks"]["database"].startswith("数据库无法访问")
    assert body["checks"]["storage"] == "ok"
    assert not Path(missing).exists()


def test_every_page_names_its_icon_and_favicon_ico_finds_it(client):
    """Issue 15 item 6: no favicon 404 in any page's log."""
    for url in ("/login", "/gk/"):
        html = client.get(url).get_data(as_text=True)
        assert '<link rel="icon" type="image/svg+xml" href="/static/favicon.svg?v=' in html, url
    r = client.get("/favicon.ico")
    assert r.status_code == 301 and "/static/favicon.svg" in r.location
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml" and b"<svg" in icon.data
