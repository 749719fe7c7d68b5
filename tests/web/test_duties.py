"""Separation of duties on one reply (drafter ≠ approver ≠ signer, relaxable per agency) and the
national work calendar owned by the system administrator, through the pages."""
from __future__ import annotations

import pytest

from app.cli import DEMO_PASSWORD, create_user
from app.extensions import db
from app.models import Agency, CalendarChangeRequest, CalendarYear, Case, Event
from app.services import letters as L
from app.services import views
from app.services.errors import ServiceError
from tests.conftest import user
from tests.factories import DISCLOSE_DRAFT, act, events, other_agency, register, to_handling
from tests.web.page import Page
from tests.web.test_admin import SCHEDULE_2027

DRAFTER_REFUSED = "起草人不能审核自己起草的稿件（职责分离）"
APPROVER_REFUSED = "审核人不能签发自己审核通过的稿件（职责分离）"


def url(case_id: int, name: str) -> str:
    return f"/cases/{case_id}/action/{name}"


def _all_hats() -> None:
    """One user of the demo agency holding handler, legal and head (a small office's reality)."""
    create_user(user("admin").agency, "allhats", "吴全能", DEMO_PASSWORD, ["handler", "legal", "head"])


def _in_review(drafter: str = "allhats") -> int:
    _all_hats()
    case = register()
    act(case, drafter, "start")
    act(case, drafter, "save_draft", DISCLOSE_DRAFT)
    return act(case, drafter, "submit_draft").id


def _state(web, case_id):
    def read():
        c = db.session.get(Case, case_id)
        d = c.current_draft
        return c.state, c.version, d.approved_by_id, d.signed_by_id
    return web.run(read)


def _approve_form(web, case_id, expect):
    return web.submit(url(case_id, "approve"), {"secrecy_reviewed": "y", "secrecy_note": "不涉密"},
                      form_id="action-form", expect=expect)


def test_drafter_is_refused_as_approver_on_the_web(web):
    case_id = web.run(_in_review)
    before = _state(web, case_id)
    web.as_user("allhats")
    # The case page lists the step with the reason instead of offering it.
    case_page = web.get(f"/cases/{case_id}")
    assert not case_page.has_id("action-approve")
    assert DRAFTER_REFUSED in case_page.by_id("action-approve-unavailable").text
    page, _ = _approve_form(web, case_id, 400)
    assert page.form_error() == DRAFTER_REFUSED
    assert page.value("secrecy_note") == "不涉密"  # the typed input is kept
    assert _state(web, case_id) == before  # nothing changed
    # Another legal adviser may approve it.
    web.as_user("legal")
    _approve_form(web, case_id, 302)
    assert _state(web, case_id)[0] == "signoff"


def test_approver_is_refused_as_signer(web):
    def setup():
        _all_hats()
        case = register()
        to_handling(case)
        act(case, "handler", "save_draft", DISCLOSE_DRAFT)
        act(case, "handler", "submit_draft")
        act(case, "allhats", "approve", {"secrecy_reviewed": "y"})  # drafted by someone else: fine
        return case.id
    case_id = web.run(setup)
    before = _state(web, case_id)
    web.as_user("allhats")
    page, _ = web.submit(url(case_id, "sign_off"), {"note": "同意"}, form_id="action-form", expect=400)
    assert page.form_error() == APPROVER_REFUSED and page.value("note") == "同意"
    assert _state(web, case_id) == before
    with pytest.raises(ServiceError, match="审核人不能签发"):
        web.run(lambda: act(db.session.get(Case, case_id), "allhats", "sign_off"))
    web.as_user("head")
    web.submit(url(case_id, "sign_off"), {"note": "同意"}, form_id="action-form", expect=302)
    assert _state(web, case_id)[0] == "signed"


def test_a_relaxed_agency_lets_one_person_approve_and_sign_and_the_history_says_so(web):
    case_id = web.run(_in_review)
    # The agency administrator relaxes the rule on the settings page (audited).
    web.as_user("admin")
    page, _ = web.submit("/admin/agency", {"separation_relaxed": "1"}, expect=302)
    assert "放宽职责分离" in web.get("/admin/agency").flashes()[0]
    assert web.get("/admin/agency").field("separation_relaxed").get("checked") is not None
    sec = web.run(lambda: [(e.action, e.data, e.actor_id == user("admin").id) for e in db.session.scalars(
        db.select(Event).where(Event.case_id.is_(None), Event.action == "agency_settings_changed"))])
    assert sec == [("agency_settings_changed", {"separation_relaxed": True, "previous": False}, True)]

    web.as_user("allhats")
    _approve_form(web, case_id, 302)
    web.submit(url(case_id, "sign_off"), {"note": "同意"}, form_id="action-form", expect=302)
    assert _state(web, case_id)[0] == "signed"
    relaxed = web.run(lambda: {e.action: e.data.get("separation_relaxed") for e in events(case_id)
                               if e.action in ("save_draft", "approve", "sign_off")})
    assert relaxed == {"save_draft": None,
                       "approve": "起草人与审核人为同一人（本机关已放宽职责分离）",
                       "sign_off": "审核人与签发人为同一人（本机关已放宽职责分离）"}
    timeline = web.get(f"/cases/{case_id}").by_id("timeline").text
    assert "职责分离：起草人与审核人为同一人（本机关已放宽职责分离）" in timeline
    assert "职责分离：审核人与签发人为同一人（本机关已放宽职责分离）" in timeline


def test_relaxing_is_only_for_the_agency_admin_and_a_rejected_form_keeps_the_box(web):
    web.as_user("admin")
    page, r = web.submit("/admin/agency", {"separation_relaxed": "1", "name": ""}, expect=400)
    assert page.field("separation_relaxed").get("checked") is not None  # as typed
    assert web.run(lambda: db.session.scalar(db.select(Agency.separation_relaxed).where(Agency.code == "DEMO"))) is False
    web.as_user("head")
    assert web.client.post("/admin/agency", data={"separation_relaxed": "1"}).status_code == 403


def test_who_recorded_a_fee_notice_does_not_approve_it(web, app):
    def setup():
        _all_hats()
        case = register()
        act(case, "allhats", "start")
        act(case, "allhats", "fee_notice", {"method": "per_request", "nth_in_month": 11})
        return case.id, case.steps[-1].id
    case_id, step_id = web.run(setup)
    ref = f"step-{step_id}"

    def approvals():
        return [e.actor_id for e in events(case_id) if e.action == "approve_notice"]
    web.as_user("allhats")
    web.client.post(f"/cases/{case_id}/notices/{ref}/approve")
    assert "制作该文书的人不能审核该文书（职责分离）" in web.get(f"/cases/{case_id}").flashes()[0]
    assert web.run(approvals) == []
    web.as_user("legal")
    web.client.post(f"/cases/{case_id}/notices/{ref}/approve")
    assert web.run(approvals) == [web.run(lambda: user("legal").id)]
    assert web.run(lambda: L.notice_preparers(db.session.get(Case, case_id), ref)) == {
        web.run(lambda: user("allhats").id)}


# ---------------------------------------------------------------- the national calendar

def test_only_the_system_administrator_changes_the_calendar(web):
    web.run(lambda: other_agency("OTHER"))
    for username in ("other_admin", "admin"):
        web.as_user(username)
        page = web.get("/admin/calendar")
        assert page.status == 200 and not page.has_id("calendar-form")  # they see it, without the form
        assert page.has_id("calendar-request-form")
        assert web.client.post("/admin/calendar", data=SCHEDULE_2027).status_code == 403
    assert web.run(lambda: db.session.get(CalendarYear, 2027)) is None
    web.as_user("sysadmin")
    assert web.client.get("/").location == "/admin/calendar"
    assert web.get("/admin/calendar").has_id("calendar-form")
    assert web.client.post("/admin/calendar", data=SCHEDULE_2027).status_code == 302
    assert web.run(lambda: db.session.get(CalendarYear, 2027).updated_by_id) == web.run(lambda: user("sysadmin").id)
    changed = web.run(lambda: [(e.action, e.data["year"], e.data["revision"]) for e in db.session.scalars(
        db.select(Event).where(Event.action == "calendar_changed"))])
    assert changed == [("calendar_changed", 2027, 1)]
    # The system administrator sees no agency's cases.
    case_id = web.run(lambda: register().id)
    assert web.client.get(f"/cases/{case_id}").status_code == 403


def test_an_agency_admins_change_request_reaches_the_system_administrator(web):
    web.run(lambda: other_agency("OTHER"))
    web.as_user("other_admin")
    r = web.client.post("/admin/calendar/requests", data={"year": "2027", "dates": "", "note": "x"})
    page = Page(r)
    assert r.status_code == 400 and page.error_for("dates") == "请写明涉及的日期及问题"
    assert page.value("note") == "x"
    r = web.client.post("/admin/calendar/requests", data={"year": "2027", "dates": "2027-10-08 应为调休上班日",
                                                          "note": "国办发明电〔2026〕×号"})
    assert r.status_code == 302
    asked = web.run(lambda: [(e.action, e.data["year"], e.agency_id) for e in db.session.scalars(
        db.select(Event).where(Event.action == "calendar_change_requested"))])
    other_id = web.run(lambda: db.session.scalar(db.select(Agency.id).where(Agency.code == "OTHER")))
    assert asked == [("calendar_change_requested", 2027, other_id)]
    # The demo agency's administrator does not see another agency's request.
    web.as_user("admin")
    assert web.get("/admin/calendar").has_id("no-calendar-requests")
    # The system administrator does, and marks it done.
    web.as_user("sysadmin")
    page = web.get("/admin/calendar")
    rows = [n for n in page.all(cls="calendar-request")]
    assert len(rows) == 1 and "2027-10-08 应为调休上班日" in rows[0].text and "OTHER 测试机关" in rows[0].text
    req_id = int(rows[0].get("data-id"))
    r = web.client.post(f"/admin/calendar/requests/{req_id}/declined", data={"note": ""})
    assert "不予修改的，请说明理由" in web.get("/admin/calendar").flashes()[0]
    web.client.post(f"/admin/calendar/requests/{req_id}/done", data={"note": "已录入第2版"})
    assert web.run(lambda: db.session.get(CalendarChangeRequest, req_id).status) == "done"
    # Only the system administrator decides; an agency admin cannot.
    web.as_user("other_admin")
    assert web.client.post(f"/admin/calendar/requests/{req_id}/declined", data={"note": "x"}).status_code == 403
    assert "已修改" in web.get("/admin/calendar").by_id("calendar-requests").text
    web.as_user("sysadmin")
    assert web.client.post("/admin/calendar/requests", data={"year": "2027", "dates": "x"}).status_code == 403


def test_an_agency_admin_cannot_grant_the_system_administrator_role(web):
    web.as_user("admin")
    page = web.get("/admin/users")
    assert "sysadmin" not in [n.get("value") for n in page.all("input") if n.get("name") == "roles"]
    assert "sysadmin" not in [n.get("data-username") for n in page.by_id("users").iter()]
    r = web.client.post("/admin/users", data={"username": "root2", "name": "甲", "password": "long-enough",
                                              "roles": ["sysadmin"]})
    assert r.status_code == 400 and "不能授予“系统管理员”角色" in Page(r).error_for("roles")
    with pytest.raises(ServiceError):
        web.run(lambda: views.create_user(user("admin"), {"username": "root3", "name": "乙",
                                                          "password": "long-enough", "roles": ["sysadmin"]}))
