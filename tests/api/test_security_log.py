"""GET /api/v1/security-log: the same log, filters and scope as the page, as JSON."""
from __future__ import annotations

import pytest

from app.extensions import db
from app.models import Event
from tests.api.support import assert_error, in_app, response_schema, validate
from tests.security_support import seed_log

SEEDED = ("ledger_export", "agency_settings_changed", "roles_changed", "login_ok")


def _seeded_actions(r) -> list[str]:
    # Getting a token signs in and issues the token (login_ok and token_issued, via api): leave those out.
    return [i["action"] for i in r.get_json()["items"] if (i["data"] or {}).get("via") != "api"]


def test_admin_gets_own_agency_events(api, openapi_doc):
    in_app(api.app, seed_log)
    r = api.get("/security-log", "admin")
    assert r.status_code == 200
    validate(openapi_doc, response_schema(openapi_doc, "/security-log", "get", 200), r.get_json())
    body = r.get_json()
    assert _seeded_actions(r) == list(SEEDED)
    assert body["total"] == len(SEEDED) + 2 and body["page"] == 1 and body["per_page"] == 50
    roles = next(i for i in body["items"] if i["action"] == "roles_changed")
    assert roles["at"] == "2026-11-21T01:30:00+08:00"
    assert (roles["category"], roles["category_label"], roles["label"]) == ("roles", "角色权限", "变更角色")
    assert (roles["actor"], roles["actor_username"], roles["subject"]) == ("孙管理（admin）", "admin", "legal")
    assert roles["detail"] == "原角色：登记员；新角色：法律顾问"
    assert roles["data"] == {"username": "legal", "old_roles": ["clerk"], "new_roles": ["legal"]}


def test_another_agencys_admin_sees_only_its_own(api):
    in_app(api.app, seed_log)
    r = api.get("/security-log", "other_admin")
    assert r.status_code == 200
    assert _seeded_actions(r) == ["login_ok"]
    assert {i["actor_username"] for i in r.get_json()["items"]} == {"other_admin"}


@pytest.mark.parametrize("username", ["clerk", "handler", "legal", "head", "archivist"])
def test_other_roles_are_refused(api, username):
    e = assert_error(api.get("/security-log", username), 403, None)
    assert "管理员" in e["message"]


@pytest.mark.parametrize("query,expected", [
    ({"category": "signin"}, ["login_ok"]),
    ({"user": "legal"}, ["roles_changed"]),
    ({"user": "head"}, ["ledger_export"]),
    ({"date_from": "2026-11-21", "date_to": "2026-11-21"}, ["roles_changed"]),
    ({"q": "HYPERLINK"}, ["ledger_export"]),
])
def test_filters(api, query, expected):
    in_app(api.app, seed_log)
    assert _seeded_actions(api.get("/security-log", "admin", query=query)) == expected


@pytest.mark.parametrize("query,field", [
    ({"category": "x"}, "category"), ({"date_from": "2026-13-01"}, "date_from"), ({"sort": "at"}, "sort"),
    ({"page": "0"}, "page"), ({"date_from": "2026-11-22", "date_to": "2026-11-21"}, "date_to"),
])
def test_bad_filters_are_400(api, query, field):
    assert_error(api.get("/security-log", "admin", query=query), 400, field)


def test_token_from_the_api_is_recorded(api):
    api.token("archivist")
    rows = in_app(api.app, lambda: [(e.actor.username, e.data) for e in db.session.scalars(
        db.select(Event).where(Event.action == "token_issued"))])
    assert rows == [("archivist", {"username": "archivist", "via": "api"})]


def test_revoking_a_token_is_recorded(api):
    token = api.token("archivist")
    assert api.request("DELETE", "/tokens", "archivist").status_code == 204
    rows = in_app(api.app, lambda: [(e.actor.username, e.data) for e in db.session.scalars(
        db.select(Event).where(Event.action == "token_revoked"))])
    assert rows == [("archivist", {"username": "archivist"})]
    r = api.client.get(api.prefix + "/cases", headers={"Authorization": "Bearer " + token})
    assert r.status_code == 401
