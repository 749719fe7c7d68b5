"""Accounts in the UI (GB/T 22239 身份鉴别): own password, an administrator's reset, deactivation and
reactivation, roles, password age, and the first login of `flask seed-demo`'s accounts. Every
change is a security event; a password change, reset or deactivation ends the user's other
sessions and API token at once."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from app.cli import DEMO_PASSWORD
from app.extensions import db
from app.models import Agency, Event, PasswordHistory, User, UserSession
from tests.conftest import user
from tests.factories import DEMO_USERNAMES, other_agency
from tests.web.page import Page

NEW = "Neues-Passwort-7"


def security_events(web, action: str) -> list[dict]:
    def read():
        rows = db.session.scalars(db.select(Event).where(Event.action == action, Event.case_id.is_(None))
                                  .order_by(Event.id))
        return [{"actor": e.actor.username if e.actor else None, **e.data} for e in rows]
    return web.run(read)


def login(client, username: str, password: str = DEMO_PASSWORD):
    return client.post("/login", data={"username": username, "password": password})


def change(client, current: str, new: str, confirm: str | None = None):
    return client.post("/account/password", data={"current_password": current, "new_password": new,
                                                  "confirm_password": new if confirm is None else confirm})


def uid(web, username: str) -> int:
    return web.run(lambda: user(username).id)


def api_token(client, username: str, password: str = DEMO_PASSWORD) -> str:
    r = client.post("/api/v1/tokens", json={"username": username, "password": password})
    assert r.status_code == 201, r.get_json()
    return r.get_json()["token"]


def test_own_password_change_ends_other_sessions_and_the_token(web, app):
    other = app.test_client()  # the same user in another browser
    assert login(other, "handler").status_code == 302
    token = api_token(app.test_client(), "handler")
    assert login(web.client, "handler").status_code == 302
    page = web.get("/account/password")
    assert page.status == 200 and page.has_id("password-form") and not page.has_id("password-required")
    assert web.get("/").has_id("nav-password")

    r = change(web.client, DEMO_PASSWORD, NEW)
    assert r.status_code == 302 and r.location == "/"
    assert "密码已修改" in web.get("/").flashes()[0]
    assert web.client.get("/").status_code == 200  # this session goes on
    r = other.get("/")
    assert r.status_code == 302 and r.location.startswith("/login")  # the other one ended
    assert web.client.get("/api/v1/cases", headers={"Authorization": "Bearer " + token}).status_code == 401
    assert security_events(web, "password_changed") == [
        {"actor": "handler", "username": "handler", "via": "web", "ip": "127.0.0.1", "required": None}]
    web.client.post("/logout")
    assert "用户名或密码不正确" in Page(login(web.client, "handler")).form_error()
    assert login(web.client, "handler", NEW).status_code == 302


@pytest.mark.parametrize("current,new,confirm,field,message", [
    ("wrong-password", NEW, None, "current_password", "当前密码不正确"),
    (DEMO_PASSWORD, "Kurz-1", None, "new_password", "密码至少10位"),
    (DEMO_PASSWORD, "lowercase-only", None, "new_password", "至少3类"),
    (DEMO_PASSWORD, "Legal-Adviser-1", None, "new_password", "不能包含用户名"),
    (DEMO_PASSWORD, "Lagel-1234x", None, "new_password", "不能包含用户名"),  # "legal" backwards
    (DEMO_PASSWORD, NEW, "Something-else-1", "confirm_password", "两次输入的新密码不一致"),
    ("", NEW, None, "current_password", "请输入当前密码"),
])
def test_refused_changes_say_why_and_change_nothing(web, current, new, confirm, field, message):
    web.login("legal")
    before = web.run(lambda: user("legal").password_hash)
    r = change(web.client, current, new, confirm)
    page = Page(r)
    assert r.status_code == 400 and message in (page.error_for(field) or ""), (page.error_for(field), page.text[:300])
    assert web.run(lambda: user("legal").password_hash) == before
    assert security_events(web, "password_changed") == []


def test_the_last_five_passwords_cannot_be_reused(web):
    web.login("clerk")
    passwords = [DEMO_PASSWORD] + [f"Rotation-{n}-pass" for n in range(1, 7)]
    for old, new in zip(passwords, passwords[1:]):
        assert change(web.client, old, new).status_code == 302
    # Current: Rotation-6; the last five are Rotation-2 … 6.
    for reused in passwords[2:]:
        page = Page(change(web.client, passwords[-1], reused))
        assert "不能与" in (page.error_for("new_password") or ""), reused
    assert web.run(lambda: db.session.scalar(db.select(db.func.count(PasswordHistory.id))
                                             .where(PasswordHistory.user_id == user("clerk").id))) == 5
    # Rotation-1 is six back now: allowed again.
    assert change(web.client, passwords[-1], passwords[1]).status_code == 302


def test_a_wrong_current_password_counts_towards_the_lock(web, app):
    web.login("head")
    for _ in range(4):
        assert Page(change(web.client, "wrong-password", NEW)).error_for("current_password") == "当前密码不正确"
    msg = Page(change(web.client, "wrong-password", NEW)).error_for("current_password")
    assert msg.startswith("连续 5 次登录失败，账号已锁定")
    msg = Page(change(web.client, DEMO_PASSWORD, NEW)).error_for("current_password")
    assert msg.startswith("连续登录失败次数过多")
    assert web.run(lambda: user("head").check_password(DEMO_PASSWORD))


def test_admin_resets_a_password_once_and_the_user_must_change_it(web, app):
    victim = app.test_client()
    assert login(victim, "legal").status_code == 302
    token = api_token(app.test_client(), "legal")
    for _ in range(5):
        login(app.test_client(), "legal", "wrong-password")  # locked meanwhile
    web.as_user("admin")
    legal = uid(web, "legal")
    page = web.get(f"/admin/users/{legal}")
    assert page.has_id("reset-password") and page.has_id("deactivate")
    r = web.client.post(f"/admin/users/{legal}/reset-password")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    otp = Page(r).by_id("otp").text
    assert len(otp) == 14 and otp not in web.get(f"/admin/users/{legal}").html  # shown this once
    assert "待本人设置新密码" in web.get(f"/admin/users/{legal}").by_id("password-state").text
    assert security_events(web, "password_reset") == [{"actor": "admin", "username": "legal"}]
    # The user's session and token ended; the lock was lifted with the reset.
    assert victim.get("/").status_code == 302
    assert victim.get("/api/v1/cases", headers={"Authorization": "Bearer " + token}).status_code == 401
    assert "用户名或密码不正确" in Page(login(victim, "legal")).form_error()
    r = login(victim, "legal", otp)
    assert r.status_code == 302 and r.location == "/account/password"
    # Nothing else opens until the one-time password is replaced.
    for url in ("/", "/cases", "/account/token"):
        assert victim.get(url).location == "/account/password", url
    page = Page(victim.get("/account/password"))
    assert "一次性密码" in page.by_id("password-required").text
    assert change(victim, otp, otp + "x").status_code == 302
    assert victim.get("/").status_code == 200
    assert not web.run(lambda: user("legal").must_change_password)


def test_admin_cannot_reset_or_deactivate_themselves(web):
    web.as_user("admin")
    me = uid(web, "admin")
    page = web.get(f"/admin/users/{me}")
    assert not page.has_id("reset-password") and not page.has_id("deactivate")
    web.client.post(f"/admin/users/{me}/reset-password")
    assert "不能重置自己的密码" in web.get(f"/admin/users/{me}").flashes()[0]
    web.client.post(f"/admin/users/{me}/deactivate")
    assert "不能停用自己的账号" in web.get(f"/admin/users/{me}").flashes()[0]
    assert web.run(lambda: user("admin").active)
    assert security_events(web, "user_deactivated") == security_events(web, "password_reset") == []


def test_deactivation_ends_sessions_and_token_at_once_and_reactivation_restores_login(web, app):
    victim = app.test_client()
    assert login(victim, "handler2").status_code == 302
    token = api_token(app.test_client(), "handler2")
    web.as_user("admin")
    target = uid(web, "handler2")
    r = web.client.post(f"/admin/users/{target}/deactivate")
    assert r.status_code == 302
    assert "已停用账号 handler2" in web.get(f"/admin/users/{target}").flashes()[0]
    assert victim.get("/").status_code == 302
    r = victim.get("/api/v1/cases", headers={"Authorization": "Bearer " + token})
    assert r.status_code == 401
    assert "已停用" in Page(login(victim, "handler2")).form_error()
    assert web.run(lambda: db.session.scalar(db.select(db.func.count(UserSession.id))
                                             .where(UserSession.user_id == target))) == 0
    assert "停用" in web.get("/admin/users").by_id("users").text
    web.client.post(f"/admin/users/{target}/deactivate")
    assert "已是停用状态" in web.get(f"/admin/users/{target}").flashes()[0]

    assert web.get(f"/admin/users/{target}").has_id("reactivate")
    web.client.post(f"/admin/users/{target}/reactivate")
    assert "已启用账号 handler2" in web.get(f"/admin/users/{target}").flashes()[0]
    assert login(victim, "handler2").status_code == 302
    assert security_events(web, "user_deactivated") == [{"actor": "admin", "username": "handler2"}]
    assert security_events(web, "user_reactivated") == [{"actor": "admin", "username": "handler2"}]


def test_admin_edits_roles_but_not_their_own_admin_role(web):
    web.as_user("admin")
    clerk = uid(web, "clerk")
    page = web.get(f"/admin/users/{clerk}")
    assert page.value("roles") == "clerk"
    r = web.client.post(f"/admin/users/{clerk}", data={"roles": ["clerk", "archivist"]})
    assert r.status_code == 302
    assert "已将 clerk 的角色改为：档案员、登记员" in web.get(f"/admin/users/{clerk}").flashes()[0]
    assert web.run(lambda: set(user("clerk").roles)) == {"clerk", "archivist"}
    r = web.client.post(f"/admin/users/{clerk}", data={})
    assert r.status_code == 400 and Page(r).error_for("roles") == "请至少选择一个角色"
    me = uid(web, "admin")
    r = web.client.post(f"/admin/users/{me}", data={"roles": ["head"]})
    assert r.status_code == 400 and Page(r).error_for("roles") == "不能取消自己的管理员角色"
    assert web.run(lambda: set(user("admin").roles)) == {"admin"}
    assert security_events(web, "roles_changed") == [
        {"actor": "admin", "username": "clerk", "old": ["clerk"], "new": ["archivist", "clerk"]}]
    # The new role takes effect on the user's next request.
    web.as_user("clerk")
    assert web.get("/").has_id("nav-archive")


def test_user_administration_needs_an_admin_of_the_same_agency(web):
    def setup():
        other_agency()
        return user("legal").id
    legal = web.run(setup)
    before = web.run(lambda: (user("legal").password_hash, user("legal").active, user("legal").roles_csv))
    posts = [f"/admin/users/{legal}/reset-password", f"/admin/users/{legal}/deactivate",
             f"/admin/users/{legal}/reactivate", f"/admin/users/{legal}"]
    for name in [u for u in DEMO_USERNAMES if u != "admin"] + ["other_admin"]:
        web.as_user(name)
        expected = 404 if name == "other_admin" else 403
        assert web.client.get(f"/admin/users/{legal}").status_code == expected, name
        for url in posts:
            assert web.client.post(url, data={"roles": ["admin"]}).status_code == expected, (name, url)
    assert web.run(lambda: (user("legal").password_hash, user("legal").active, user("legal").roles_csv)) == before
    web.as_user("admin")
    assert web.client.get("/admin/users/999999").status_code == 404


def test_an_expired_password_must_be_changed_at_login(web, app, monkeypatch):
    later = datetime.utcnow() + timedelta(days=91)
    monkeypatch.setitem(app.config, "OGI_NOW", later.isoformat())
    r = login(web.client, "archivist")
    assert r.status_code == 302 and r.location == "/account/password"
    page = web.get("/account/password")
    assert "已超过有效期" in page.by_id("password-required").text
    assert web.client.get("/cases").location == "/account/password"
    assert security_events(web, "password_expired")[0]["username"] == "archivist"
    assert [e["username"] for e in security_events(web, "login_ok")] == ["archivist"]
    # The API refuses a token meanwhile, pointing to the password endpoint.
    r = app.test_client().post("/api/v1/tokens", json={"username": "archivist", "password": DEMO_PASSWORD})
    assert r.status_code == 403 and "/api/v1/password" in r.get_json()["error"]["message"]
    assert change(web.client, DEMO_PASSWORD, NEW).status_code == 302
    assert web.client.get("/cases").status_code == 200
    assert security_events(web, "password_changed")[0]["required"] == "expired"
    # A shorter setting expires it sooner; 0 turns expiry off.
    web.client.post("/logout")
    monkeypatch.setitem(app.config, "OGI_NOW", (later + timedelta(days=10)).isoformat())
    monkeypatch.setitem(app.config, "PASSWORD_MAX_AGE_DAYS", 10)
    assert login(web.client, "archivist", NEW).location == "/account/password"
    monkeypatch.setitem(app.config, "PASSWORD_MAX_AGE_DAYS", 0)
    assert web.client.get("/cases").status_code == 200


def test_seed_demo_accounts_must_change_the_published_password_at_first_login(app, client):
    def empty_database():
        for model in (PasswordHistory, UserSession, User, Agency):
            db.session.execute(db.delete(model))
        db.session.commit()
    with app.app_context():
        empty_database()
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "首次登录须设置新密码" in result.output
    with app.app_context():
        assert all(u.must_change_password for u in db.session.scalars(db.select(User)))
    r = login(client, "clerk")
    assert r.status_code == 302 and r.location == "/account/password"
    # The page says once why a new password is needed (not a flash message and the page's own notice).
    assert client.get("/account/password").get_data(as_text=True).count("请先设置新密码") == 1
    assert client.get("/").location == "/account/password"
    r = client.post("/api/v1/tokens", json={"username": "clerk", "password": DEMO_PASSWORD})
    assert r.status_code == 403
    r = change(client, DEMO_PASSWORD, DEMO_PASSWORD)
    assert r.status_code == 400 and "不能与当前密码相同" in Page(r).error_for("new_password")
    assert change(client, DEMO_PASSWORD, NEW).status_code == 302
    assert client.get("/").status_code == 200
    # A second run on the same database creates nothing and shows no password.
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0 and DEMO_PASSWORD not in result.output
