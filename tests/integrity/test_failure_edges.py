"""Failure edges: a database that is down or hangs gives a Chinese page (503) within the configured
timeouts, and the error pages render without the database."""
from __future__ import annotations

import logging
import socket
import threading

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db
from tests.conftest import DB_URL, IS_PG, user

pg_only = pytest.mark.skipif(not IS_PG, reason="PostgreSQL timeouts")
BASE = {"TESTING": True, "WTF_CSRF_ENABLED": False, "SERVER_NAME": "localhost", "OGI_TODAY": "2026-11-23"}


def _app(url: str, **config):
    return create_app({**BASE, "SQLALCHEMY_DATABASE_URI": url, **config})


def _signed_in(app, user_id: int = 1, sid: str = "x" * 43):
    """A client whose session says it is signed in (as after a login): the next page must load the
    user and the server-side session from the database, which is what fails here."""
    from app.web import SESSION_ID

    client = app.test_client()
    with client.session_transaction() as s:
        s["_user_id"], s["_fresh"], s[SESSION_ID] = str(user_id), True, sid
    return client


def _dispose(app) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _dead_pg_url() -> str:
    with socket.socket() as s:  # a port nobody listens on: connection refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"postgresql://postgres@127.0.0.1:{port}/ogidesk"


@pytest.fixture(params=["pg_down", "sqlite_broken"])
def dead_app(request, tmp_path):
    url = _dead_pg_url() if request.param == "pg_down" else f"sqlite:///{tmp_path / 'no-such-dir' / 'x.sqlite3'}"
    app = _app(url)
    yield app
    _dispose(app)


@pytest.mark.parametrize("testing", [True, False])
def test_pages_with_the_database_unreachable_are_chinese(dead_app, testing):
    dead_app.config["TESTING"] = testing  # also as in production, where errors are not propagated
    client = _signed_in(dead_app)
    r = client.get("/cases")
    body = r.get_data(as_text=True)
    assert r.status_code == 503 and "系统暂时无法访问" in body and "数据库暂时无法连接" in body
    assert "Internal Server Error" not in body and '<html lang="zh-CN">' in body

    # Signed in, every request first checks the server-side session, which needs the database; an
    # anonymous visitor's unknown page needs none.
    anonymous = dead_app.test_client()
    for c, url, status, title in [(anonymous, "/no-such-page", 404, "页面不存在"),
                                  (client, "/no-such-page", 503, "系统暂时无法访问"),
                                  (client, "/cases/1/casefile.pdf", 503, "系统暂时无法访问")]:
        r = c.get(url)
        assert (r.status_code, title in r.get_data(as_text=True)) == (status, True), url

    api = dead_app.test_client().get("/api/v1/cases", headers={"Authorization": "Bearer " + "x" * 40})
    assert api.status_code == 503 and "数据库暂时无法连接" in api.get_json()["error"]["message"]


def test_error_templates_render_without_a_user_or_database(dead_app):
    from flask import session

    from app.web.errors import TITLES, error_response

    for status in (403, 404, 500, 503):
        with dead_app.test_request_context("/cases/1"):
            session["_user_id"] = "1"  # signed in: anything that asked for current_user would hit the database
            body, code = error_response(status)
            assert code == status and TITLES[status] in body and "current-user" not in body


@pg_only
def test_a_lock_held_by_another_connection_gives_the_503_page_within_the_statement_timeout(app):
    """Another connection holds an ACCESS EXCLUSIVE lock on the table the work queue reads: the
    request is cancelled by the statement timeout and answered with the Chinese page."""
    slow = _app(DB_URL, DB_STATEMENT_TIMEOUT_MS=300)
    from app.services import sessions

    with app.app_context():
        handler = user("handler")
        uid, sid = handler.id, sessions.start(handler)
    client = _signed_in(slow, uid, sid)
    assert client.get("/cases").status_code == 200
    with app.app_context(), db.engine.connect() as holder:
        # If the request were not cancelled, the server ends this transaction after 20 s, the
        # lock goes and the page is served: the test then fails instead of hanging.
        holder.execute(text("SET idle_in_transaction_session_timeout = '20s'"))
        holder.execute(text('LOCK TABLE "case" IN ACCESS EXCLUSIVE MODE'))
        r = client.get("/cases")
        holder.rollback()
    _dispose(slow)
    body = r.get_data(as_text=True)
    assert r.status_code == 503 and "系统暂时无法访问" in body and "Internal Server Error" not in body


@pg_only
def test_a_database_that_accepts_and_never_answers_gives_the_503_page_after_the_connect_timeout(caplog):
    """A TCP socket that accepts connections and never says anything (a hung server or network)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    held, stop = [], threading.Event()

    def accept_and_hang():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue
        # Without a connect timeout the request would wait forever: end it after 20 s, with a
        # closed connection (not a timeout), so the test fails instead of hanging.
        for c in held:
            c.close()

    guard = threading.Thread(target=accept_and_hang, daemon=True)
    guard.start()
    threading.Timer(20, stop.set).start()
    url = make_url(DB_URL).set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
    hung = _app(url, DB_CONNECT_TIMEOUT=2)
    try:
        with caplog.at_level(logging.WARNING):
            r = _signed_in(hung).get("/cases")
    finally:
        stop.set()
        guard.join()
        listener.close()
        _dispose(hung)
    assert r.status_code == 503 and "系统暂时无法访问" in r.get_data(as_text=True)
    assert held, "the app did try to connect"
    assert any("timeout" in rec.getMessage() for rec in caplog.records), [rec.getMessage() for rec in caplog.records]


def test_sqlite_busy_timeout_gives_the_503_page(app, tmp_path):
    """Another connection holds SQLite's write lock: a page that writes waits the busy timeout,
    then gets the Chinese page."""
    import shutil
    import sqlite3

    if IS_PG:
        pytest.skip("SQLite busy timeout")
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
        src = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database
    path = tmp_path / "busy.sqlite3"
    shutil.copy(src, path)
    busy = _app(f"sqlite:///{path}", DB_BUSY_TIMEOUT_MS=200)
    locker = sqlite3.connect(path, isolation_level=None)
    try:
        locker.execute("BEGIN IMMEDIATE")
        r = busy.test_client().post("/login", data={"username": "clerk", "password": "wrong"})
    finally:
        locker.close()
        _dispose(busy)
    assert r.status_code == 503 and "系统暂时无法访问" in r.get_data(as_text=True)
