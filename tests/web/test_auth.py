"""Login, logout, login required everywhere, CSRF, and error pages (HTML for the web, JSON for /api/)."""
from __future__ import annotations

import re

from flask import Flask

from app import create_app
from app.extensions import db
from tests.web.page import Page

# Rules that only fail on an anonymous visit for the wrong reasons (they are the way in).
PUBLIC_ENDPOINTS = {"static", "auth.login", "health.healthz", "health.readyz", "health.favicon",
                    # The applicant's public pages (issue 13): no login by design; tests/web/test_status_lookup.py
                    # and tests/web/test_public_apply.py visit them as anonymous.
                    "public.index", "public.guide", "public.apply", "public.done",
                    "status.lookup", "status.sms_send", "status.sms_verify", "status.mine", "status.case",
                    "status.letter", "status.released", "status.correction", "status.end"}
SAMPLE_VALUES = {"case_id": 1, "name": "start", "year": 2026, "letter_id": 1, "attachment_id": 1,
                 "remedy_id": 1, "job_id": 1, "token": "x", "filename": "x", "kind": "x", "fmt": "xlsx"}


def test_login_page_and_wrong_password(client):
    page = Page(client.get("/login"))
    assert page.status == 200
    assert page.field("username") is not None and page.field("password") is not None
    assert page.has_id("submit")
    page = Page(client.post("/login", data={"username": "clerk", "password": "wrong-password"}))
    assert page.form_error() == "用户名或密码不正确"
    assert page.value("username") == "clerk"
    assert client.get("/").status_code == 302  # still anonymous


def test_login_then_logout(client):
    r = client.post("/login", data={"username": "handler", "password": "ogidesk-demo"})
    assert r.status_code == 302 and r.location == "/"
    page = Page(client.get("/"))
    assert page.by_id("current-user").text == "李承办"
    assert "承办人" in page.text
    assert client.get("/logout").status_code == 405  # logging out changes state: POST only
    r = client.post("/logout")
    assert r.status_code == 302 and r.location.startswith("/login")
    assert client.get("/").status_code == 302


def test_login_returns_to_the_page_asked_for_but_never_off_site(client):
    r = client.get("/cases/new")
    assert r.status_code == 302 and r.location.startswith("/login?next=")
    r = client.post("/login?next=/cases/new", data={"username": "clerk", "password": "ogidesk-demo"})
    assert r.location == "/cases/new"
    client.post("/logout")
    r = client.post("/login?next=//evil.example/x", data={"username": "clerk", "password": "ogidesk-demo"})
    assert r.location == "/"


def test_inactive_user_cannot_log_in(app, client):
    from tests.conftest import user
    with app.app_context():
        user("handler2").active = False
        db.session.commit()
    page = Page(client.post("/login", data={"username": "handler2", "password": "ogidesk-demo"}))
    assert "已停用" in page.form_error()
    assert client.get("/").status_code == 302


def _rules(app: Flask):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS or rule.rule.startswith("/api/"):
            continue
        url = re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: str(SAMPLE_VALUES.get(m.group(1), 1)), rule.rule)
        for method in sorted(rule.methods - {"OPTIONS", "HEAD"}):
            yield rule, url, method


def test_every_page_requires_login(app, client):
    checked = 0
    for rule, url, method in _rules(app):
        r = client.open(url, method=method)
        ok = (r.status_code == 302 and r.location.startswith("/login")) or r.status_code in (401, 403)
        assert ok, f"{method} {rule.rule} → {r.status_code} {r.location}"
        checked += 1
    assert checked >= 10  # the UI's own routes at least


def test_csrf_token_is_required_when_enabled(app):
    """The suite runs without CSRF; this app has it on, as in production."""
    csrf_app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                           "OGI_TODAY": "2026-11-23", "WTF_CSRF_ENABLED": True})
    try:
        c = csrf_app.test_client()
        r = c.post("/login", data={"username": "clerk", "password": "ogidesk-demo"})
        assert r.status_code == 400
        assert "CSRF" in Page(r).text and "刷新" in Page(r).text
        token = Page(c.get("/login")).value("csrf_token")
        assert token
        r = c.post("/login", data={"username": "clerk", "password": "ogidesk-demo", "csrf_token": token})
        assert r.status_code == 302
        # Logged in, a state change without the token is still refused.
        r = c.post("/cases/new", data={"channel": "in_person"})
        assert r.status_code == 400
        r = c.post("/logout")
        assert r.status_code == 400 and c.get("/").status_code == 200
    finally:
        with csrf_app.app_context():
            db.engine.dispose()


def test_not_found_is_a_chinese_page_but_json_under_api(web):
    web.login("clerk")
    page = web.get("/no-such-page")
    assert page.status == 404 and "页面不存在" in page.text
    r = web.client.get("/api/v1/no-such-thing")
    assert r.status_code == 404 and r.is_json
    assert set(r.get_json()["error"]) >= {"message", "field"}


def test_server_error_page_in_chinese_and_json_under_api(app):
    crash_app = create_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                            "TESTING": False, "PROPAGATE_EXCEPTIONS": False,
                            "SECRET_KEY": "a-production-key-for-this-test-only"})

    def boom():
        raise RuntimeError("boom")

    crash_app.add_url_rule("/boom-test", "boom_test", boom)
    crash_app.add_url_rule("/api/v1/boom-test", "api_boom_test", boom)
    try:
        c = crash_app.test_client()
        r = c.get("/boom-test")
        assert r.status_code == 500 and "系统内部错误" in r.get_data(as_text=True)
        assert "boom" not in r.get_data(as_text=True)
        r = c.get("/api/v1/boom-test")
        assert r.status_code == 500 and r.is_json
        assert r.get_json() == {"error": {"message": r.get_json()["error"]["message"], "field": None}}
        assert "boom" not in r.get_json()["error"]["message"]
    finally:
        with crash_app.app_context():
            db.engine.dispose()


def _login(client, username, password="wrong-password"):
    return Page(client.post("/login", data={"username": username, "password": password}))


def test_five_failures_lock_the_account_until_it_runs_out_or_an_admin_unlocks_it(app, client):
    from datetime import datetime, timedelta

    from app.models import Event
    from tests.conftest import user

    for n in range(4):
        assert _login(client, "legal").form_error() == "用户名或密码不正确"
    msg = _login(client, "legal").form_error()
    assert msg.startswith("连续 5 次登录失败，账号已锁定 15 分钟")
    # While locked even the right password is refused, and nothing tells whether it was right.
    msg = _login(client, "legal", "ogidesk-demo").form_error()
    assert msg.startswith("连续登录失败次数过多，账号已锁定至") and "请系统管理员解锁" in msg
    assert client.get("/").status_code == 302
    with app.app_context():
        u = user("legal")
        assert u.locked_until > datetime.utcnow() + timedelta(minutes=14)
        ev = db.session.scalar(db.select(Event).where(Event.action == "login_locked"))
        assert ev.case_id is None and ev.data["username"] == "legal"
    # Other accounts are not affected.
    assert client.post("/login", data={"username": "clerk", "password": "ogidesk-demo"}).status_code == 302
    client.post("/logout")

    # The administrator sees the lock and lifts it (audited).
    client.post("/login", data={"username": "admin", "password": "ogidesk-demo"})
    page = Page(client.get("/admin/users"))
    assert page.has_id("locked-legal") and page.has_id("unlock-legal") and not page.has_id("unlock-clerk")
    with app.app_context():
        legal_id = user("legal").id
    r = client.post(f"/admin/users/{legal_id}/unlock")
    assert r.status_code == 302
    page = Page(client.get("/admin/users"))
    assert "已解锁账号 legal" in page.text and not page.has_id("locked-legal")
    with app.app_context():
        ev = db.session.scalar(db.select(Event).where(Event.action == "unlock_user"))
        assert ev.actor.username == "admin" and ev.data["username"] == "legal"
    r = client.post(f"/admin/users/{legal_id}/unlock")  # nothing left to unlock
    assert "未被锁定" in Page(client.get("/admin/users")).text
    client.post("/logout")
    assert client.post("/login", data={"username": "legal", "password": "ogidesk-demo"}).status_code == 302


def test_a_lock_runs_out_and_a_success_resets_the_count(app, client):
    from datetime import datetime, timedelta

    from tests.conftest import user

    for _ in range(4):
        _login(client, "head")
    assert client.post("/login", data={"username": "head", "password": "ogidesk-demo"}).status_code == 302
    client.post("/logout")
    with app.app_context():
        assert user("head").failed_logins == 0
    for _ in range(4):  # the count started again: four more failures do not lock
        _login(client, "head")
    assert client.post("/login", data={"username": "head", "password": "ogidesk-demo"}).status_code == 302
    client.post("/logout")
    for _ in range(5):
        _login(client, "head")
    with app.app_context():
        u = user("head")
        u.locked_until = datetime.utcnow() - timedelta(seconds=1)  # fifteen minutes later
        db.session.commit()
    assert client.post("/login", data={"username": "head", "password": "ogidesk-demo"}).status_code == 302
    with app.app_context():
        assert (user("head").failed_logins, user("head").locked_until) == (0, None)


def test_the_api_token_shares_the_lock(app, client):
    for n in range(5):
        r = client.post("/api/v1/tokens", json={"username": "clerk", "password": "wrong-password"})
        assert r.status_code == 401
    assert "账号已锁定 15 分钟" in r.get_json()["error"]["message"]
    r = client.post("/api/v1/tokens", json={"username": "clerk", "password": "ogidesk-demo"})
    assert r.status_code == 401 and "账号已锁定至" in r.get_json()["error"]["message"]
    assert "账号已锁定至" in _login(client, "clerk", "ogidesk-demo").form_error()


def test_unlocking_needs_an_admin_of_the_same_agency(app, client):
    from tests.conftest import user
    from tests.factories import DEMO_USERNAMES, other_agency

    with app.app_context():
        legal_id = user("legal").id
        other_agency()
    for name in [u for u in DEMO_USERNAMES if u != "admin"] + ["other_admin"]:
        client.post("/login", data={"username": name, "password": "ogidesk-demo"})
        assert client.post(f"/admin/users/{legal_id}/unlock").status_code == (404 if name == "other_admin" else 403)
        client.post("/logout")
