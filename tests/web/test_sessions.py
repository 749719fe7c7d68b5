"""Sign-in sessions and what protects them: the secret key, server-side session ids that end at
logout and after idle or absolute time, cookie flags and security headers."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from app import SecretKeyMissing, create_app
from app.cli import DEMO_PASSWORD
from app.config import OLD_DEFAULT_SECRET_KEY, ROOT
from app.extensions import db
from app.models import Event, UserSession
from app.services import sessions
from tests.conftest import user


def login(client, username: str = "admin"):
    r = client.post("/login", data={"username": username, "password": DEMO_PASSWORD})
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    return r


def events(app, action: str) -> list[dict]:
    with app.app_context():
        return [e.data for e in db.session.scalars(db.select(Event).where(Event.action == action).order_by(Event.id))]


# ---------------------------------------------------------------- the secret key

def _production_app(app, **config):
    return create_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], "TESTING": False,
                       "SECRET_KEY": None, "OGI_TODAY": "2026-11-23", "WTF_CSRF_ENABLED": False, **config})


def _cookie(secret_key: str, data: dict) -> str:
    signer = Flask("forger")
    signer.secret_key = secret_key
    return SecureCookieSessionInterface().get_signing_serializer(signer).dumps(data)


def test_production_refuses_to_start_without_a_real_secret_key(app, tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    missing = tmp_path / "secret_key"
    with pytest.raises(SecretKeyMissing, match="SECRET_KEY 未设置.*拒绝启动"):
        _production_app(app, SECRET_KEY_FILE=str(missing))
    with pytest.raises(SecretKeyMissing, match="旧默认值"):
        _production_app(app, SECRET_KEY=OLD_DEFAULT_SECRET_KEY, SECRET_KEY_FILE=str(missing))
    with pytest.raises(SecretKeyMissing, match="过短"):
        _production_app(app, SECRET_KEY="short", SECRET_KEY_FILE=str(missing))
    # Development (FLASK_DEBUG) and tests run on a random key of their own.
    dev = _production_app(app, DEBUG=True, SECRET_KEY_FILE=str(missing))
    assert len(dev.config["SECRET_KEY"]) == 64 and dev.config["SECRET_KEY"] != OLD_DEFAULT_SECRET_KEY
    with dev.app_context():
        db.engine.dispose()


def test_a_cookie_forged_with_the_old_default_key_opens_nothing(app, tmp_path, monkeypatch):
    """`make run` writes the key into instance/secret_key; the app reads it from there."""
    monkeypatch.delenv("SECRET_KEY", raising=False)
    key_file = tmp_path / "secret_key"
    key_file.write_text("6f1d0c2b9a8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c\n")
    prod = _production_app(app, SECRET_KEY_FILE=str(key_file))
    try:
        assert prod.config["SECRET_KEY"] == key_file.read_text().strip()
        with prod.app_context():
            admin = user("admin")
            payload = {"_user_id": str(admin.id), "_fresh": True, "_sid": sessions.start(admin)}
            db.session.remove()
        c = prod.test_client()
        c.set_cookie("session", _cookie(OLD_DEFAULT_SECRET_KEY, payload), domain="localhost")
        r = c.get("/admin/users")
        assert r.status_code == 302 and r.location.startswith("/login")
        # The same session signed with the configured key is accepted: only the key kept the forgery out.
        c = prod.test_client()
        c.set_cookie("session", _cookie(prod.config["SECRET_KEY"], payload), domain="localhost")
        assert c.get("/admin/users").status_code == 200
    finally:
        with prod.app_context():
            db.engine.dispose()


def test_make_run_generates_the_key_once():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^run: .*instance/secret_key", makefile, re.M)
    assert "secrets.token_hex(32)" in makefile and "umask 077" in makefile


# ---------------------------------------------------------------- server-side sessions

def test_logout_ends_the_session_even_for_a_copied_cookie(app, client):
    login(client, "handler")
    captured = client.get_cookie("session").value
    assert client.get("/").status_code == 200
    client.post("/logout")
    assert client.get("/").status_code == 302
    client.set_cookie("session", captured, domain="localhost")  # replayed after the logout
    r = client.get("/")
    assert r.status_code == 302 and r.location.startswith("/login")
    assert [e["username"] for e in events(app, "logout")] == ["handler"]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(UserSession.id))) == 0


def test_a_cookie_without_its_server_session_is_anonymous(app, client):
    """Flask-Login's own cookie fields alone (the form before server-side sessions) open nothing."""
    with app.app_context():
        admin_id = user("admin").id
    with client.session_transaction() as s:
        s["_user_id"] = str(admin_id)
        s["_fresh"] = True
    assert client.get("/admin/users").status_code == 302
    with client.session_transaction() as s:
        s["_sid"] = "made-up"
    assert client.get("/admin/users").status_code == 302


def test_a_session_of_one_user_cannot_be_relabelled_as_another(app, client):
    login(client, "clerk")
    with app.app_context():
        admin_id = user("admin").id
    with client.session_transaction() as s:
        s["_user_id"] = str(admin_id)
    assert client.get("/admin/users").status_code == 302


def test_idle_sessions_expire(app, client, monkeypatch):
    t0 = datetime.utcnow()
    monkeypatch.setitem(app.config, "OGI_NOW", t0.isoformat())
    login(client)
    monkeypatch.setitem(app.config, "OGI_NOW", (t0 + timedelta(minutes=29)).isoformat())
    assert client.get("/").status_code == 200  # active: the idle time starts again
    monkeypatch.setitem(app.config, "OGI_NOW", (t0 + timedelta(minutes=58)).isoformat())
    assert client.get("/").status_code == 200
    monkeypatch.setitem(app.config, "OGI_NOW", (t0 + timedelta(minutes=88, seconds=1)).isoformat())
    r = client.get("/admin/users")
    assert r.status_code == 302 and r.location.startswith("/login")
    assert "长时间未操作，会话已失效" in client.get("/login").get_data(as_text=True)
    expired = events(app, "session_expired")
    assert [(e["username"], e["reason"]) for e in expired] == [("admin", "idle")]
    assert client.get("/").status_code == 302  # and it stays ended
    assert len(events(app, "session_expired")) == 1


def test_idle_time_is_a_setting(app, client, monkeypatch):
    t0 = datetime.utcnow()
    monkeypatch.setitem(app.config, "OGI_NOW", t0.isoformat())
    monkeypatch.setitem(app.config, "SESSION_IDLE_MINUTES", 5)
    login(client)
    monkeypatch.setitem(app.config, "OGI_NOW", (t0 + timedelta(minutes=5)).isoformat())
    assert client.get("/").status_code == 302


def test_sessions_end_after_the_absolute_limit_however_active(app, client, monkeypatch):
    t0 = datetime.utcnow()
    monkeypatch.setitem(app.config, "OGI_NOW", t0.isoformat())
    monkeypatch.setitem(app.config, "SESSION_MAX_HOURS", 1)
    login(client)
    for minutes in (20, 40, 59):
        monkeypatch.setitem(app.config, "OGI_NOW", (t0 + timedelta(minutes=minutes)).isoformat())
        assert client.get("/").status_code == 200, minutes
    monkeypatch.setitem(app.config, "OGI_NOW", (t0 + timedelta(minutes=60)).isoformat())
    assert client.get("/").status_code == 302
    assert "登录已超过最长时限" in client.get("/login").get_data(as_text=True)
    assert [e["reason"] for e in events(app, "session_expired")] == ["absolute"]
    login(client)  # a new login is a new session
    assert client.get("/").status_code == 200


def test_login_and_failures_are_audited(app, client):
    client.post("/login", data={"username": "clerk", "password": "wrong-password"})
    login(client, "clerk")
    assert [(e["username"], e["reason"], e["via"]) for e in events(app, "login_failed")] == \
        [("clerk", "wrong_password", "web")]
    assert [(e["username"], e["via"]) for e in events(app, "login_ok")] == [("clerk", "web")]


# ---------------------------------------------------------------- cookies and headers

def test_session_cookie_flags_and_secure_over_https(app):
    c = app.test_client()
    r = c.post("/login", data={"username": "clerk", "password": DEMO_PASSWORD})
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert "Strict-Transport-Security" not in r.headers
    c = app.test_client()
    r = c.post("/login", data={"username": "clerk", "password": DEMO_PASSWORD}, base_url="https://localhost")
    cookie = r.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert r.headers["Strict-Transport-Security"].startswith("max-age=")


def test_pages_and_api_answers_carry_the_security_headers(web):
    web.as_user("handler")
    for url in ("/", "/cases", "/account/password", "/login"):
        r = web.client.get(url)
        h = r.headers
        assert h["Cache-Control"] == "no-store", url
        assert "script-src 'self'" in h["Content-Security-Policy"] and "'unsafe-inline'" not in h[
            "Content-Security-Policy"], url
        assert h["X-Frame-Options"] == "SAMEORIGIN" and h["Referrer-Policy"] == "same-origin", url
        assert h["X-Content-Type-Options"] == "nosniff", url
    r = web.client.get("/api/v1/cases")
    assert r.status_code == 401 and r.headers["Cache-Control"] == "no-store"
    r = web.client.get("/static/css/app.css")
    assert r.status_code == 200 and "no-store" not in r.headers.get("Cache-Control", "")


# The print templates are rendered to PDF on the server, never served as pages.
PDF_ONLY = {"casefile/print/casefile.html", "reports/annual_report_pdf.html"}


def test_templates_have_no_inline_script_style_or_handlers():
    """What the Content-Security-Policy (script-src/style-src 'self') would block in a browser."""
    bad = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        name = path.relative_to(ROOT / "templates").as_posix()
        if name in PDF_ONLY:
            continue
        text = path.read_text(encoding="utf-8")
        for pattern in (r"<script(?![^>]*\bsrc=)[^>]*>", r"<style\b", r"\sstyle=", r"\son[a-z]+=\s*[\"']",
                        r"javascript:"):
            bad += [f"{name}: {m.group(0)}" for m in re.finditer(pattern, text)]
    assert bad == []
