"""Bearer tokens: issuing, refusing, revoking; the CLI issues tokens the API accepts."""
from app.extensions import db
from app.models import User
from tests.api.support import assert_error, in_app, user_without_roles


def test_token_issued_for_username_and_password(api):
    r = api.post("/tokens", {"username": "handler", "password": "ogidesk-demo"})
    assert r.status_code == 201
    body = r.get_json()
    assert body["token_type"] == "Bearer" and len(body["token"]) >= 32
    assert body["user"]["username"] == "handler" and body["user"]["roles"] == ["handler"]
    assert body["user"]["agency"]["code"] == "DEMO"
    assert r.headers["Cache-Control"] == "no-store"
    # Only the hash is stored.
    stored = in_app(api.app, lambda: db.session.scalar(db.select(User.token_hash).where(User.username == "handler")))
    assert stored == User.hash_token(body["token"]) and body["token"] not in stored
    ok = api.get("/cases", headers={"Authorization": "Bearer " + body["token"]})
    assert ok.status_code == 200


def test_wrong_password_unknown_user_and_bad_bodies(api):
    for body in ({"username": "handler", "password": "wrong-password"},
                 {"username": "nobody", "password": "ogidesk-demo"}):
        e = assert_error(api.post("/tokens", body), 401, None)
        assert e["message"] == "用户名或密码不正确"
    assert_error(api.post("/tokens", {"username": "handler"}), 400, "password")
    assert_error(api.post("/tokens", {"username": ["handler"], "password": "x"}), 400, "username")
    assert_error(api.post("/tokens", {"username": "handler", "password": "ogidesk-demo", "otp": "1"}), 400, "otp")
    assert_error(api.post("/tokens", raw=b"{not json"), 400, None)
    assert_error(api.post("/tokens"), 400, None)


def test_no_token_is_401_with_www_authenticate(api):
    r = api.get("/cases")
    e = assert_error(r, 401, None)
    assert "令牌" in e["message"]
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_bad_tokens_are_401(api):
    for header in ("Bearer not-a-real-token", "Basic Y2xlcms6b2dpZGVzay1kZW1v", "Bearer ", "token-without-scheme"):
        r = api.get("/cases", headers={"Authorization": header})
        assert_error(r, 401, None)
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
        assert 'error="invalid_token"' in r.headers["WWW-Authenticate"]


def test_new_token_replaces_the_old_one(api):
    first = api.token("clerk")
    api.tokens.clear()
    second = api.token("clerk")
    assert first != second
    assert_error(api.get("/cases", headers={"Authorization": "Bearer " + first}), 401, None)
    assert api.get("/cases", headers={"Authorization": "Bearer " + second}).status_code == 200


def test_revoked_token_stops_working(api):
    r = api.request("DELETE", "/tokens", "clerk")
    assert r.status_code == 204
    assert_error(api.get("/cases", "clerk"), 401, None)


def test_inactive_user_is_401_even_with_a_valid_token(api):
    api.token("handler")

    def deactivate():
        db.session.scalar(db.select(User).where(User.username == "handler")).active = False
    in_app(api.app, deactivate)
    e = assert_error(api.get("/cases", "handler"), 401, None)
    assert "停用" in e["message"]
    # And no new token for an inactive account.
    api.tokens.clear()
    assert_error(api.post("/tokens", {"username": "handler", "password": "ogidesk-demo"}), 401, None)


def test_cli_issue_token_gives_a_working_token(api):
    runner = api.app.test_cli_runner()
    result = runner.invoke(args=["issue-token", "legal"])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    r = api.get("/cases", headers={"Authorization": "Bearer " + token})
    assert r.status_code == 200


def test_user_without_roles_is_authenticated_but_forbidden(api):
    user_without_roles(api.app)
    r = api.get("/cases", "noroles")
    assert_error(r, 403, None)
    # Revoking one's own token needs no role.
    assert api.request("DELETE", "/tokens", "noroles").status_code == 204


def test_openapi_needs_no_token(api):
    r = api.get("/openapi.json")
    assert r.status_code == 200 and r.get_json()["openapi"].startswith("3.1")
