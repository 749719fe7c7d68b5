"""Separation of duties and the national calendar's owner through the API."""
from app.cli import DEMO_PASSWORD, create_user
from app.extensions import db
from app.models import Agency, Event
from tests.api.support import assert_error, in_app, response_schema, validate
from tests.conftest import user
from tests.factories import DISCLOSE_DRAFT, other_agency

APPROVAL = {"secrecy_reviewed": True, "secrecy_note": "不涉密"}


def _all_hats(app):
    in_app(app, lambda: create_user(user("admin").agency, "allhats", "吴全能", DEMO_PASSWORD,
                                    ["handler", "legal", "head"]))


def _drafted_by(api, username):
    case = api.register()
    api.act(case["id"], "start", username)
    api.act(case["id"], "save_draft", username, **DISCLOSE_DRAFT)
    return api.act(case["id"], "submit_draft", username)


def test_drafter_refused_as_approver_and_approver_as_signer(api):
    _all_hats(api.app)
    case = _drafted_by(api, "allhats")
    e = assert_error(api.post(f"/cases/{case['id']}/actions/approve", APPROVAL, "allhats"), 400, None)
    assert e["message"] == "起草人不能审核自己起草的稿件（职责分离）"
    assert api.get(f"/cases/{case['id']}", "head").get_json()["version"] == case["version"]

    other = _drafted_by(api, "handler")
    approved = api.act(other["id"], "approve", "allhats", **APPROVAL)
    e = assert_error(api.post(f"/cases/{other['id']}/actions/sign_off", {}, "allhats"), 400, None)
    assert e["message"] == "审核人不能签发自己审核通过的稿件（职责分离）"
    assert api.get(f"/cases/{other['id']}", "head").get_json()["version"] == approved["version"]
    assert api.act(other["id"], "sign_off", "head")["state"] == "signed"


def test_agency_setting_relaxes_the_rule_and_the_events_say_so(api, openapi_doc):
    _all_hats(api.app)
    r = api.get("/agency/settings", "admin")
    validate(openapi_doc, response_schema(openapi_doc, "/agency/settings", "get", 200), r.get_json())
    assert r.get_json()["separation_relaxed"] is False
    assert_error(api.request("PATCH", "/agency/settings", "admin", {"separation_relaxed": "yes"}), 400,
                 "separation_relaxed")
    assert_error(api.request("PATCH", "/agency/settings", "head", {"separation_relaxed": True}), 403, None)
    r = api.request("PATCH", "/agency/settings", "admin", {"separation_relaxed": True})
    assert r.status_code == 200 and r.get_json()["separation_relaxed"] is True
    logged = in_app(api.app, lambda: [e.data for e in db.session.scalars(
        db.select(Event).where(Event.action == "agency_settings_changed"))])
    assert logged == [{"separation_relaxed": True, "previous": False}]

    case = _drafted_by(api, "allhats")
    api.act(case["id"], "approve", "allhats", **APPROVAL)
    signed = api.act(case["id"], "sign_off", "allhats")
    assert signed["state"] == "signed"
    by_action = {e["action"]: e["data"].get("separation_relaxed") for e in signed["events"]}
    assert by_action["approve"] == "起草人与审核人为同一人（本机关已放宽职责分离）"
    assert by_action["sign_off"] == "审核人与签发人为同一人（本机关已放宽职责分离）"


def test_only_the_system_administrator_puts_the_calendar(api):
    in_app(api.app, lambda: other_agency("OTHER"))
    body = {"holidays": ["2027-01-01"], "makeup": []}
    for username in ("other_admin", "admin"):
        e = assert_error(api.put("/calendar/2027", body, username), 403, None)
        assert "系统管理员" in e["message"]
    assert 2027 not in [y["year"] for y in api.get("/calendar", "admin").get_json()["years"]]
    r = api.put("/calendar/2027", body, "sysadmin")
    assert r.status_code == 200 and r.get_json()["year"]["updated_by"]["username"] == "sysadmin"
    # The system administrator reads the calendar but no agency's cases.
    assert api.get("/calendar", "sysadmin").status_code == 200
    assert_error(api.get("/cases", "sysadmin"), 403, None)


def test_change_request_reaches_the_system_administrator(api, openapi_doc):
    in_app(api.app, lambda: other_agency("OTHER"))
    assert_error(api.post("/calendar/change-requests", {"year": 2027}, "other_admin"), 400, "dates")
    assert_error(api.post("/calendar/change-requests", {"year": 2027, "dates": "x"}, "sysadmin"), 403, None)
    r = api.post("/calendar/change-requests", {"year": 2027, "dates": "2027-10-08 应为调休上班日",
                                               "note": "国办发明电〔2026〕×号"}, "other_admin")
    assert r.status_code == 201, r.get_data(as_text=True)
    created = r.get_json()
    validate(openapi_doc, response_schema(openapi_doc, "/calendar/change-requests", "post", 201), created)
    assert created["status"] == "open" and created["agency"]["code"] == "OTHER"

    listed = api.get("/calendar/change-requests", "sysadmin").get_json()
    validate(openapi_doc, response_schema(openapi_doc, "/calendar/change-requests", "get", 200), listed)
    assert [q["id"] for q in listed["items"]] == [created["id"]]
    assert api.get("/calendar/change-requests", "admin").get_json()["items"] == []  # another agency's
    path = f"/calendar/change-requests/{created['id']}"
    assert_error(api.request("PATCH", path, "other_admin", {"status": "done"}), 403, None)
    assert_error(api.request("PATCH", path, "sysadmin", {"status": "declined"}), 400, "note")
    r = api.request("PATCH", path, "sysadmin", {"status": "declined", "note": "与国务院通知一致，无误"})
    assert r.status_code == 200 and r.get_json()["status"] == "declined"
    assert r.get_json()["decided_by"]["username"] == "sysadmin"
    assert_error(api.request("PATCH", path, "sysadmin", {"status": "done"}), 400, "status")  # once only
    assert_error(api.request("PATCH", "/calendar/change-requests/999999", "sysadmin", {"status": "done"}), 404, None)
    other_id = in_app(api.app, lambda: db.session.scalar(db.select(Agency.id).where(Agency.code == "OTHER")))
    logged = in_app(api.app, lambda: sorted((e.action, e.agency_id) for e in db.session.scalars(
        db.select(Event).where(Event.action.in_(("calendar_change_requested", "calendar_change_decided"))))))
    assert logged == [("calendar_change_decided", other_id), ("calendar_change_requested", other_id)]
