"""Cross-agency 协办 and Art. 34 consultation (issue 16 items 2 and 3): the letter arrives in the
target agency's 工作台, is answered there under its legal review and returns to the asking case; the
target sees only the letter, a third agency nothing."""
from __future__ import annotations

from app.extensions import db
from app.models import AgencyRequest, Case, Event
from app.services import agency_requests as AR
from app.services.errors import Conflict, NotFound, ServiceError
from tests.conftest import set_today, user
from tests.factories import act, other_agency, register, reload
from tests.web.conftest import form_data

import pytest


def _rows(page, section: str, request_id: int) -> list:
    return [n for n in page.by_id(section).iter() if n.tag == "tr" and n.get("data-request-id") == str(request_id)]


def _asked(kind: str = "cohandle") -> dict:
    """DEMO's handled case asks DEP (an agency on the platform); THIRD is unrelated."""
    dep, dep_users = other_agency("DEP")
    third, third_users = other_agency("THIRD")
    case = register()
    act(case, "handler", "start")
    if kind == "cohandle":
        act(case, "handler", "cohandle", {"to_agency_id": dep.id, "matter": "请提供2026年拨付明细",
                                          "sent_on": "2026-11-16"})
    else:
        act(case, "handler", "consult", {"kind": "agency", "to_agency_id": dep.id, "matter": "拟公开贵局来文",
                                         "sent_on": "2026-11-16", "received_on": "2026-11-17"})
    r = db.session.scalar(db.select(AgencyRequest))
    return {"case": case.id, "request": r.id, "dep": dep.id, "third": third.id, "step": r.from_step_id,
            "users": {"DEMO": ["clerk", "handler", "handler2", "legal", "head", "archivist", "admin"],
                      "DEP": [u.username for u in dep_users.values()],
                      "THIRD": [u.username for u in third_users.values()]}}


def test_cohandle_goes_to_the_agency_and_its_answer_returns_to_the_case(web):
    s = web.run(_asked)

    def check_created():
        r = db.session.get(AgencyRequest, s["request"])
        assert (r.kind, r.state, r.sent_on.isoformat(), r.due_on.isoformat()) == \
            ("cohandle", "open", "2026-11-16", "2026-11-23")  # 5 working days from sending
        step = r.from_step
        assert step.party == "DEP 测试机关" and step.due_on == r.due_on and step.is_open
    web.run(check_created)

    # The department's handler sees it on the 工作台 and opens the letter only.
    web.as_user("dep_handler")
    home = web.get("/")
    rows = _rows(home, "handler-incoming-requests", s["request"])
    assert len(rows) == 1 and "DEP" not in rows[0].text  # listed by the asking agency's name
    page = web.get(f"/requests/{s['request']}")
    assert page.status == 200 and "请提供2026年拨付明细" in page.by_id("matter").text
    assert "张三" not in page.text  # nothing of the asking case: not the applicant
    # A rejected save keeps what was typed.
    data = form_data(page, "save-form")
    r = web.client.post(f"/requests/{s['request']}/save", data={**data, "answer_text": ""})
    assert r.status_code == 400 and "请填写协办意见" in r.get_data(as_text=True)
    data["answer_text"] = "经核，2026年拨付明细附后。"
    assert web.client.post(f"/requests/{s['request']}/save", data=data).status_code == 302
    page = web.get(f"/requests/{s['request']}")
    assert web.client.post(f"/requests/{s['request']}/submit", data=form_data(page, "submit-form")).status_code == 302
    # The handler cannot approve; the department's legal adviser approves the text seen.
    assert web.client.post(f"/requests/{s['request']}/approve",
                           data=form_data(web.get(f"/requests/{s['request']}"), "submit-form")
                           if False else {}).status_code in (400, 403)
    web.as_user("dep_legal")
    assert len(_rows(web.get("/"), "legal-requests", s["request"])) == 1
    page = web.get(f"/requests/{s['request']}")
    assert web.client.post(f"/requests/{s['request']}/approve", data=form_data(page, "approve-form")).status_code == 302
    web.as_user("dep_handler")
    page = web.get(f"/requests/{s['request']}")
    r = web.client.post(f"/requests/{s['request']}/issue", data={**form_data(page, "issue-form"),
                                                                 "issued_on": "2026-11-20"})
    assert r.status_code == 302

    def check_answered():
        r = db.session.get(AgencyRequest, s["request"])
        step = r.from_step
        assert (r.state, step.answered_on.isoformat(), step.result) == ("answered", "2026-11-20", "replied")
        assert step.details["note"] == "经核，2026年拨付明细附后。" and not step.details["late"]
        case_events = [e.action for e in db.session.get(Case, s["case"]).events] if hasattr(Case, "events") else \
            list(db.session.scalars(db.select(Event.action).where(Event.case_id == s["case"])))
        assert "cohandle_reply" in case_events
        assert [e.action for e in AR.request_events(r)] == [
            "agency_request_open", "agency_request_draft", "agency_request_submit", "agency_request_approve",
            "agency_request_issue"]
    web.run(check_answered)
    # The asking agency's case shows the answer and its date.
    web.as_user("handler")
    step = web.get(f"/cases/{s['case']}").by_id(f"step-{s['step']}")
    assert "经核，2026年拨付明细附后。" in step.text and "2026-11-20" in step.text


def test_consultation_answer_ends_the_pause_and_approval_is_bound_to_the_text(web):
    s = web.run(_asked, "consultation")

    def flow():
        dep_handler, dep_legal = user("dep_handler"), user("dep_legal")
        case = db.session.get(Case, s["case"])
        assert case.paused_until is not None or case.reply_due is not None
        due_paused = case.reply_due
        with pytest.raises(ServiceError):  # the answer needs 同意/不同意
            AR.save_answer(dep_handler, s["request"], {"answer_text": "同意"})
        AR.save_answer(dep_handler, s["request"], {"result": "agree", "answer_text": "同意公开。"})
        AR.submit_answer(dep_handler, s["request"])
        with pytest.raises(ServiceError):  # the drafter's own agency handler cannot approve
            AR.approve_answer(dep_handler, s["request"], {})
        stale = AR.approve_answer(dep_legal, s["request"], {
            "answer_hash": db.session.get(AgencyRequest, s["request"]).answer_hash}).approved_hash
        # A changed text loses the approval: issuing is refused until it is approved again.
        AR.save_answer(dep_handler, s["request"], {"result": "object", "answer_text": "不同意公开：涉及在办事项。"})
        with pytest.raises(ServiceError, match="法制审核"):
            AR.issue_answer(dep_handler, s["request"], {})
        AR.submit_answer(dep_handler, s["request"])
        with pytest.raises(Conflict):
            AR.approve_answer(dep_legal, s["request"], {"answer_hash": stale})
        AR.approve_answer(dep_legal, s["request"], {"answer_hash": db.session.get(AgencyRequest, s["request"]).answer_hash})
        AR.issue_answer(dep_handler, s["request"], {"issued_on": "2026-11-19"})
        case = reload(case)
        step = next(x for x in case.steps if x.id == s["step"])
        assert (step.result, step.answered_on.isoformat()) == ("object", "2026-11-19")
        assert case.paused_until is None
        return due_paused, case.reply_due
    before, after = web.run(flow)
    assert after is not None


def test_overdue_shows_in_both_queues(web):
    s = web.run(_asked)
    set_today(web.app, "2026-11-25")  # after the due date 2026-11-23, unanswered
    web.as_user("dep_handler")
    row = _rows(web.get("/"), "handler-incoming-requests", s["request"])[0]
    assert "已逾期" in row.text
    web.as_user("handler")
    row = _rows(web.get("/"), "handler-outgoing-requests", s["request"])[0]
    assert "已逾期" in row.text
    assert "已届满" in web.get(f"/cases/{s['case']}").by_id(f"step-{s['step']}").text


def test_free_text_party_stays_for_others(web):
    def go():
        case = register()
        act(case, "handler", "start")
        act(case, "handler", "cohandle", {"party": "示范市财政局", "matter": "明细"})
        with pytest.raises(ServiceError, match="协办单位"):
            act(case, "handler", "cohandle", {"matter": "明细"})
        with pytest.raises(ServiceError, match="平台上的其他机关"):
            act(case, "handler", "cohandle", {"to_agency_id": user("clerk").agency_id, "matter": "明细"})
        return db.session.scalar(db.select(db.func.count(AgencyRequest.id)))
    assert web.run(go) == 0


def test_request_routes_for_every_role_of_three_agencies(web):
    """The target agency opens the request page (not the asking case); the asking agency opens both;
    a third agency: 404 on the page and on every action, whatever its role."""
    s = web.run(_asked)
    page_ok = {"DEMO": 200, "DEP": 200, "THIRD": 404}
    checked = 0
    for home, usernames in s["users"].items():
        for username in usernames:
            roles = web.run(lambda: set(user(username).roles))
            web.as_user(username)
            view = roles & set(AR.VIEW_ROLES)
            expected = page_ok[home] if view else 403
            assert web.client.get(f"/requests/{s['request']}").status_code == expected, (username,)
            # The asking case: its own agency only.
            case_expected = 200 if home == "DEMO" else 404
            if home != "DEMO" or view:
                assert web.client.get(f"/cases/{s['case']}").status_code == (case_expected if view else 403), \
                    (username,)
            for url in (f"/cases/{s['case']}/redaction", f"/cases/{s['case']}/action/start",
                        f"/cases/{s['case']}/casefile.pdf"):
                if home != "DEMO":
                    assert web.client.get(url).status_code in (403, 404), (username, url)
            for op in ("save", "submit", "approve", "return", "issue"):
                r = web.client.post(f"/requests/{s['request']}/{op}", data={"answer_text": "x", "comments": "x"})
                acts = roles & (AR.ANSWER_ROLES | AR.REVIEW_ROLES)
                if not acts:
                    assert r.status_code == 403, (username, op)
                elif home == "THIRD":
                    assert r.status_code == 404, (username, op)
                elif home == "DEMO":  # the asking agency cannot answer its own letter
                    assert r.status_code == 400, (username, op, r.status_code)
                else:  # the target: done, or refused when it is not this role's turn
                    assert r.status_code in (302, 400), (username, op, r.status_code)
                checked += 1
    actors = web.run(lambda: {e.actor.username for e in AR.request_events(db.session.get(AgencyRequest, s["request"]))
                              if e.action != "agency_request_open"})
    assert actors and actors <= set(s["users"]["DEP"])  # only the target agency's users changed it
    assert checked >= 90


def test_service_isolation(web):
    s = web.run(_asked)

    def go():
        with pytest.raises(NotFound):
            AR.get_request(s["request"], user("third_handler"))
        with pytest.raises(ServiceError, match="收到"):  # the asking agency cannot answer its own letter
            AR.save_answer(user("handler"), s["request"], {"answer_text": "x"})
    web.run(go)


def test_a_step_answered_by_hand_leaves_both_queues(web):
    """The asking agency records the 协办 reply itself (received on paper): the letter no longer waits."""
    s = web.run(_asked)
    web.run(lambda: act(db.session.get(Case, s["case"]), "handler", "cohandle_reply",
                        {"step_id": s["step"], "note": "书面回复已收到", "answered_on": "2026-11-20"}))
    for username, section in (("dep_handler", "handler-incoming-requests"), ("handler", "handler-outgoing-requests")):
        web.as_user(username)
        assert not _rows(web.get("/"), section, s["request"])

    def issue_refused():
        AR.save_answer(user("dep_handler"), s["request"], {"answer_text": "意见"})
        AR.submit_answer(user("dep_handler"), s["request"])
        AR.approve_answer(user("dep_legal"), s["request"], {})
        with pytest.raises(ServiceError, match="无需再出具"):
            AR.issue_answer(user("dep_handler"), s["request"], {})
    web.run(issue_refused)


def _pdf_text(data: bytes) -> str:
    import pypdfium2 as pdfium
    doc = pdfium.PdfDocument(data)
    return "".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))


def test_the_issued_letter_opens_for_the_target_only(web):
    """Before the asking agency issues its 协办函 the page shows its content; after, the PDF itself."""
    s = web.run(_asked)
    web.as_user("dep_handler")
    assert web.client.get(f"/requests/{s['request']}/letter.pdf").status_code == 404
    assert "尚未在平台上出具" in web.get(f"/requests/{s['request']}").by_id("request-letter-pdf").text

    def issue():
        from app.services import letters as L
        L.issue_notice(s["case"], user("handler"), f"step-{s['step']}", AR._today())
    web.run(issue)
    for username, expected in (("dep_handler", 200), ("dep_legal", 200), ("handler", 200),
                               ("third_handler", 404), ("third_clerk", 404)):
        web.as_user(username)
        r = web.client.get(f"/requests/{s['request']}/letter.pdf")
        assert r.status_code == expected, (username, r.status_code)
        if expected == 200:
            assert r.mimetype == "application/pdf"
            text = _pdf_text(r.data)
            assert "协办" in text and "请提供2026年拨付明细" in text.replace("\r", "").replace("\n", "")
