"""Accounts through the API: own password (POST /password, also for one-time and expired passwords),
and the administrator's users endpoints; responses match the OpenAPI schemas; every change audited."""
from __future__ import annotations

from datetime import datetime, timedelta

from app.cli import DEMO_PASSWORD
from app.extensions import db
from app.models import Event, User
from tests.api.support import assert_error, in_app, second_agency, user_id, validate

NEW = "Api-Password-9"


def schema(doc, name):
    return doc["components"]["schemas"][name]


def security(app, action):
    def read():
        return [(e.actor.username if e.actor else None, e.data) for e in db.session.scalars(
            db.select(Event).where(Event.action == action).order_by(Event.id))]
    return in_app(app, read)


def test_change_own_password_returns_a_new_token_and_ends_the_old_one(api, openapi_doc):
    old = api.token("handler")
    r = api.post("/password", {"username": "handler", "password": DEMO_PASSWORD, "new_password": NEW})
    assert r.status_code == 200, r.get_json()
    validate(openapi_doc, schema(openapi_doc, "TokenResponse"), r.get_json())
    new = r.get_json()["token"]
    assert_error(api.get("/cases", headers={"Authorization": "Bearer " + old}), 401, None)
    assert api.get("/cases", headers={"Authorization": "Bearer " + new}).status_code == 200
    [(actor, data)] = security(api.app, "password_changed")
    assert actor == "handler" and data["via"] == "api"
    assert_error(api.post("/tokens", {"username": "handler", "password": DEMO_PASSWORD}), 401, None)
    assert api.post("/tokens", {"username": "handler", "password": NEW}).status_code == 201


def test_password_refusals(api):
    body = {"username": "handler", "password": DEMO_PASSWORD}
    e = assert_error(api.post("/password", {**body, "new_password": "lowercase-only"}), 400, "new_password")
    assert "至少3类" in e["message"]
    e = assert_error(api.post("/password", {**body, "new_password": "Handler-12345"}), 400, "new_password")
    assert "用户名" in e["message"]
    assert_error(api.post("/password", body), 400, "new_password")
    assert_error(api.post("/password", {**body, "new_password": ["x"]}), 400, "new_password")
    e = assert_error(api.post("/password", {**body, "password": "wrong-password", "new_password": NEW}), 401, None)
    assert e["message"] == "用户名或密码不正确"
    e = assert_error(api.post("/password", {"username": "nobody", "password": "x", "new_password": NEW}), 401, None)
    assert e["message"] == "用户名或密码不正确"
    assert security(api.app, "password_changed") == []
    # The wrong password counted towards the lock, like a login.
    assert in_app(api.app, lambda: db.session.scalar(
        db.select(User.failed_logins).where(User.username == "handler"))) == 1


def test_admin_manages_users_through_the_api(api, openapi_doc):
    r = api.get("/users", "admin")
    assert r.status_code == 200
    validate(openapi_doc, schema(openapi_doc, "UserList"), r.get_json())
    assert [u["username"] for u in r.get_json()["items"]] == [
        "admin", "archivist", "clerk", "handler", "handler2", "head", "legal"]

    r = api.post("/users", {"username": "intern", "name": "实习生", "password": "Trainee-pass1", "roles": ["clerk"]},
                 "admin")
    assert r.status_code == 201, r.get_json()
    validate(openapi_doc, schema(openapi_doc, "UserAccount"), r.get_json())
    assert r.get_json()["must_change_password"] is True and r.get_json()["roles"] == ["clerk"]
    intern = r.get_json()["id"]
    e = assert_error(api.post("/users", {"username": "intern2", "name": "乙", "password": "weak", "roles": ["clerk"]},
                              "admin"), 400, "password")
    assert "至少10位" in e["message"]
    assert_error(api.post("/users", {"username": "intern2", "name": "乙", "password": "Trainee-pass1",
                                     "roles": ["nope"]}, "admin"), 400, "roles")
    assert_error(api.post("/users", {"username": "intern2", "name": "乙", "password": "Trainee-pass1"}, "admin"),
                 400, "roles")

    r = api.put(f"/users/{intern}/roles", {"roles": ["clerk", "archivist"]}, "admin")
    assert r.status_code == 200 and r.get_json()["roles"] == ["archivist", "clerk"]
    validate(openapi_doc, schema(openapi_doc, "UserAccount"), r.get_json())
    admin = user_id(api.app, "admin")
    e = assert_error(api.put(f"/users/{admin}/roles", {"roles": ["head"]}, "admin"), 400, "roles")
    assert "管理员角色" in e["message"]
    assert_error(api.put(f"/users/{intern}/roles", {"roles": "clerk"}, "admin"), 400, "roles")

    # A one-time password: the intern signs in with it only to replace it.
    r = api.post(f"/users/{intern}/reset-password", None, "admin")
    assert r.status_code == 200
    validate(openapi_doc, schema(openapi_doc, "PasswordReset"), r.get_json())
    otp = r.get_json()["one_time_password"]
    e = assert_error(api.post("/tokens", {"username": "intern", "password": otp}), 403, "new_password")
    assert "/api/v1/password" in e["message"]
    r = api.post("/password", {"username": "intern", "password": otp, "new_password": "Trainee-pass2"})
    assert r.status_code == 200
    token = r.get_json()["token"]
    assert api.get("/cases", headers={"Authorization": "Bearer " + token}).status_code == 200

    r = api.post(f"/users/{intern}/deactivate", None, "admin")
    assert r.status_code == 200 and r.get_json()["active"] is False and r.get_json()["has_token"] is False
    assert_error(api.get("/cases", headers={"Authorization": "Bearer " + token}), 401, None)
    assert_error(api.post(f"/users/{intern}/deactivate", None, "admin"), 400, None)
    assert_error(api.post(f"/users/{admin}/deactivate", None, "admin"), 400, None)
    assert_error(api.post(f"/users/{admin}/reset-password", None, "admin"), 400, None)
    r = api.post(f"/users/{intern}/reactivate", None, "admin")
    assert r.status_code == 200 and r.get_json()["active"] is True

    assert [d["username"] for _, d in security(api.app, "user_created")] == ["intern"]
    for action in ("roles_changed", "password_reset", "user_deactivated", "user_reactivated"):
        assert [(a, d["username"]) for a, d in security(api.app, action)] == [("admin", "intern")], action
    assert [(a, d["required"]) for a, d in security(api.app, "password_changed")] == [("intern", "must_change")]


def test_users_endpoints_are_for_admins_of_the_same_agency(api):
    second_agency(api.app)
    other = user_id(api.app, "other_clerk")
    legal = user_id(api.app, "legal")
    for path, method, body in (("/users", "GET", None), ("/users", "POST", {}),
                               (f"/users/{legal}/roles", "PUT", {"roles": ["clerk"]}),
                               (f"/users/{legal}/reset-password", "POST", None),
                               (f"/users/{legal}/deactivate", "POST", None),
                               (f"/users/{legal}/reactivate", "POST", None)):
        assert_error(api.request(method, path, "clerk", body), 403, None)
        assert_error(api.request(method, path, None, body), 401, None)
    for path, method, body in ((f"/users/{other}/roles", "PUT", {"roles": ["clerk"]}),
                               (f"/users/{other}/reset-password", "POST", None),
                               (f"/users/{other}/deactivate", "POST", None),
                               (f"/users/{2 ** 40}/deactivate", "POST", None)):
        assert_error(api.request(method, path, "admin", body), 404, None)
    assert in_app(api.app, lambda: db.session.get(User, other).active)


def test_an_expired_password_closes_the_api_until_changed(api, app, monkeypatch):
    token = api.token("legal")
    monkeypatch.setitem(app.config, "OGI_NOW", (datetime.utcnow() + timedelta(days=90)).isoformat())
    e = assert_error(api.get("/cases", "legal"), 403, None)
    assert "已超过有效期" in e["message"]
    api.tokens.clear()
    assert_error(api.post("/tokens", {"username": "legal", "password": DEMO_PASSWORD}), 403, "new_password")
    r = api.post("/password", {"username": "legal", "password": DEMO_PASSWORD, "new_password": NEW})
    assert r.status_code == 200
    assert api.get("/cases", headers={"Authorization": "Bearer " + r.get_json()["token"]}).status_code == 200
    assert_error(api.get("/cases", headers={"Authorization": "Bearer " + token}), 401, None)
