"""Every workflow action through its form: the right role in the right stage performs it, the
service's refusals come back at the field, and a stale form is a conflict that keeps the input."""
from __future__ import annotations

from datetime import date

from app.extensions import db
from app.models import Case
from app.services import cases as S
from tests.conftest import set_today, user
from tests.factories import build_case, events, issue_fee_notice, register, reload, to_review
from tests.web.page import Page


def url(case_id: int, name: str) -> str:
    return f"/cases/{case_id}/action/{name}"


def do(web, case_id, name, changes=None, expect=302, **kw) -> Page:
    page, r = web.submit(url(case_id, name), changes, expect=expect, form_id="action-form", **kw)
    if expect == 302:
        assert r.location == f"/cases/{case_id}"
    return page


def stored(web, case_id):
    def read():
        db.session.expire_all()
        c = db.session.get(Case, case_id)
        return {"state": c.state, "version": c.version, "reply_due": c.reply_due, "clock_start": c.clock_start,
                "extension_days": c.extension_days, "override_due": c.override_due, "handler": c.handler_id,
                "outcome": c.outcome_code, "archive_number": c.archive_number,
                "steps": [(s.kind, s.result) for s in c.steps], "drafts": len(c.drafts)}
    return web.run(read)


def actions_logged(web, case_id):
    return web.run(lambda: [e.action for e in events(case_id)])


def test_reply_path_from_start_to_delivery_archive_and_reopen(web):
    case_id = web.run(lambda: register().id)

    web.as_user("clerk")
    assert web.client.post(url(case_id, "start"), data={"version": "1"}).status_code == 403  # not a clerk's step

    web.as_user("handler")
    do(web, case_id, "start")
    assert stored(web, case_id)["state"] == "handling"
    page = web.get(f"/cases/{case_id}")
    assert page.has_id("action-consult") and page.has_id("action-save_draft")
    # Nothing to record a reply to yet: listed with the reason, not offered as a link.
    assert not page.has_id("action-consultation_reply")
    assert "没有尚未答复的征求意见" in page.by_id("action-consultation_reply-unavailable").text

    page = web.get(url(case_id, "consult"))
    assert page.value("sent_on") == "2026-11-23" and page.field("sent_on").get("type") == "date"
    assert page.value("version") == str(stored(web, case_id)["version"])
    do(web, case_id, "consult", {"kind": "third_party", "party": "某建设有限公司",
                                 "matter": "补偿方案含该公司商业信息", "sent_on": "2026-11-20"})
    case_page = web.get(f"/cases/{case_id}")
    assert "暂停计时" in case_page.by_id("clock").text and "征求第三方意见" in case_page.by_id("pause-reasons").text
    assert "某建设有限公司" in case_page.by_id("steps").text
    # The one open consultation is preselected.
    assert web.get(url(case_id, "consultation_reply")).value("step_id") != ""
    do(web, case_id, "consultation_reply", {"result": "agree", "answered_on": "2026-11-23", "opinion": "同意公开"})
    assert stored(web, case_id)["steps"] == [("consultation_third_party", "agree")]

    do(web, case_id, "save_draft", {"outcome": "disclose", "decision": "经审查，您申请的信息予以公开。",
                                    "obtain": "随本答复书邮寄提供复印件"})
    do(web, case_id, "submit_draft")
    assert stored(web, case_id)["state"] == "review"

    web.as_user("legal")
    page = web.get(url(case_id, "approve"))
    assert "经审查，您申请的信息予以公开。" in page.by_id("action-approve-form").text
    assert "第三十六条第（二）项" in page.text  # the outcome's legal basis
    content_hash = web.run(lambda: db.session.get(Case, case_id).current_draft.content_hash)
    assert page.field("draft_hash").get("type") == "hidden" and page.value("draft_hash") == content_hash
    refused = do(web, case_id, "approve", {"secrecy_note": "不涉密"}, expect=400)
    assert "保密审查" in refused.error_for("secrecy_reviewed")
    assert refused.value("secrecy_note") == "不涉密"
    do(web, case_id, "approve", {"secrecy_reviewed": "y", "secrecy_note": "不涉密"})

    web.as_user("head")
    do(web, case_id, "sign_off", {"note": "同意"})
    web.as_user("handler")
    do(web, case_id, "issue")
    web.as_user("clerk")
    page = web.get(url(case_id, "deliver"))
    assert page.value("recipient") == "张三" and page.value("method") == "post"
    do(web, case_id, "deliver", {"proof": "EMS1234567890CN"})
    web.as_user("archivist")
    do(web, case_id, "archive", {"archive_number": "2026-OGI-0001", "retention": "30y"})
    assert stored(web, case_id)["state"] == "archived"
    web.as_user("admin")
    refused = do(web, case_id, "reopen", {"reason": ""}, expect=400)
    assert refused.error_for("reason") == "撤销归档须说明理由"
    do(web, case_id, "reopen", {"reason": "补充送达回证"})
    assert stored(web, case_id)["state"] == "delivered"

    assert actions_logged(web, case_id) == [
        "register", "start", "consult", "consultation_reply", "save_draft", "submit_draft", "approve",
        "sign_off", "issue", "deliver", "archive", "reopen"]
    page = web.get(f"/cases/{case_id}")
    timeline = page.by_id("timeline").text
    for text in ("登记申请", "征求意见", "审核通过", "签发", "出具答复", "登记送达", "归档", "撤销归档",
                 "法制审核中 → 待签发", "EMS1234567890CN"):
        assert text in timeline, text
    assert "已出具" in page.by_id("drafts").text and "予以公开" in page.by_id("outcome").text


def test_correction_notice_then_corrected_request_restarts_the_clock(web):
    case_id = web.run(lambda: register().id)
    web.as_user("handler")
    page = web.get(f"/cases/{case_id}")
    assert "2026-11-11" in page.by_id("correction-due").text  # 7 working days after 2 Nov
    late = do(web, case_id, "request_correction", {"items": "请明确所需信息的年份"}, expect=400)
    assert "7个工作日" in late.error_for("notice_date")
    assert late.value("items") == "请明确所需信息的年份"
    do(web, case_id, "request_correction", {"notice_date": "2026-11-04", "items": "请明确所需信息的年份"})
    page = web.get(f"/cases/{case_id}")
    assert page.by_id("case-state").text == "待补正"
    assert "停止计时" in page.by_id("clock").text and not page.has_id("correction-due")
    web.as_user("clerk")
    do(web, case_id, "receive_correction", {"received_on": "2026-11-23", "note": "已明确为2025年"})
    s = stored(web, case_id)
    assert s["state"] == "handling" and s["clock_start"] == date(2026, 11, 23)
    assert s["reply_due"] == date(2026, 12, 21)  # 20 working days afresh (Art. 30)


def test_correction_and_fee_lapse_end_the_request(web, app):
    lapsing = web.run(lambda: register().id)
    unpaid = web.run(lambda: build_case("handling").id)
    web.as_user("handler")
    do(web, lapsing, "request_correction", {"notice_date": "2026-11-04", "items": "请明确年份",
                                            "period_end": "2026-11-20"})
    do(web, unpaid, "fee_notice", {"method": "per_volume", "pages": "150"})
    web.run(lambda: issue_fee_notice(reload(unpaid), "2026-11-02"))
    assert stored(web, unpaid)["steps"] == [("fee", "")]
    set_today(app, "2026-12-01")
    do(web, lapsing, "correction_lapsed")
    do(web, unpaid, "fee_lapsed")
    assert (stored(web, lapsing)["state"], stored(web, lapsing)["outcome"]) == ("closed", "correction_lapsed")
    assert (stored(web, unpaid)["state"], stored(web, unpaid)["outcome"]) == ("closed", "fee_unpaid")


def test_extension_reasons_fee_and_cohandling(web):
    case_id = web.run(lambda: build_case("handling").id)
    web.as_user("head")
    refused = do(web, case_id, "extend", {"days": "25", "reason": "需调取档案"}, expect=400)
    assert "1至20" in refused.error_for("days") and refused.value("reason") == "需调取档案"
    do(web, case_id, "extend", {"days": "10", "reason": "需调取档案"})
    assert stored(web, case_id)["extension_days"] == 10
    assert stored(web, case_id)["reply_due"] == date(2026, 12, 14)

    web.as_user("handler")
    do(web, case_id, "request_reasons", {"matter": "请说明申请大量信息的理由"})
    assert "等待申请人说明理由" in web.get(f"/cases/{case_id}").by_id("pause-reasons").text
    do(web, case_id, "reasons_reply", {"result": "reasonable", "note": "理由合理", "new_due": "2027-01-15"})
    assert stored(web, case_id)["override_due"] == date(2027, 1, 15)

    do(web, case_id, "fee_notice", {"method": "per_request", "nth_in_month": "12"})
    web.run(lambda: issue_fee_notice(reload(case_id)))
    web.as_user("clerk")
    do(web, case_id, "fee_paid", {"receipt_no": "PJ-0001"})

    web.as_user("handler")
    do(web, case_id, "cohandle", {"party": "示范市档案馆", "matter": "协助调取1998年规划档案"})
    do(web, case_id, "cohandle_reply", {"note": "已提供档案复印件"})
    assert stored(web, case_id)["steps"] == [("reasons", "reasonable"), ("fee", "paid"), ("cohandle", "replied")]
    steps = web.get(f"/cases/{case_id}").by_id("steps").text
    assert "100" in steps and "PJ-0001" in steps and "示范市档案馆" in steps


def test_returned_draft_is_prefilled_for_the_next_revision_and_signoff_can_be_refused(web):
    case_id = web.run(lambda: to_review(build_case("handling"), decision="初稿内容").id)
    web.as_user("legal")
    refused = do(web, case_id, "return_draft", {"comments": ""}, expect=400)
    assert refused.error_for("comments") == "退回须填写意见"
    do(web, case_id, "return_draft", {"comments": "请补充获取方式"})
    web.as_user("handler")
    page = web.get(url(case_id, "save_draft"))
    assert page.value("outcome") == "disclose" and page.value("decision") == "初稿内容"
    do(web, case_id, "save_draft", {"decision": "修改稿内容"})
    do(web, case_id, "submit_draft")
    web.as_user("legal")
    do(web, case_id, "approve", {"secrecy_reviewed": "y"})
    web.as_user("head")
    do(web, case_id, "reject_signoff", {"comments": "答复依据需再核"})
    s = stored(web, case_id)
    assert s["state"] == "handling" and s["drafts"] == 2
    page = web.get(f"/cases/{case_id}")
    assert "第 2 稿" in page.by_id("drafts").text and "修改稿内容" in page.by_id("drafts").text


def test_assign_and_withdraw(web):
    case_id = web.run(lambda: register().id)
    handler2 = web.run(lambda: user("handler2").id)
    web.as_user("clerk")
    page = web.get(url(case_id, "assign"))
    assert [label for v, label in page.options("handler_id") if v] == ["李承办（handler）", "赵承办（handler2）"]
    do(web, case_id, "assign", {"handler_id": str(handler2)})
    assert stored(web, case_id)["handler"] == handler2
    refused = do(web, case_id, "withdraw", {"note": ""}, expect=400)
    assert refused.error_for("note") == "请填写撤回方式及说明"
    do(web, case_id, "withdraw", {"note": "申请人书面撤回"})
    assert stored(web, case_id)["outcome"] == "withdrawn"


def test_service_refusal_keeps_the_input_and_marks_the_field(web):
    case_id = web.run(lambda: build_case("handling").id)
    web.as_user("handler")
    page = do(web, case_id, "consult", {"kind": "third_party", "party": "", "matter": "涉及商业秘密"}, expect=400)
    assert page.error_for("party") == "请填写征求意见对象"
    assert page.form_error() == "提交未成功，请检查标出的内容。"
    assert page.value("matter") == "涉及商业秘密" and page.value("kind") == "third_party"
    assert stored(web, case_id)["steps"] == []


def test_stale_form_is_a_conflict_that_keeps_the_typed_input(web):
    case_id = web.run(lambda: build_case("handling").id)
    web.as_user("handler")
    page = web.get(url(case_id, "consult"))
    old_version = page.value("version")
    # Meanwhile the head extends the deadline: the case changes under the open form.
    web.run(lambda: S.perform(case_id, user("head"), "extend", {"days": 5, "reason": "需协调"}))
    typed = {"kind": "agency", "party": "示范市住建局", "matter": "共同制作的信息", "sent_on": "2026-11-23",
             "received_on": "", "version": old_version, "csrf_token": ""}
    r = web.client.post(url(case_id, "consult"), data=typed)
    assert r.status_code == 409
    page = Page(r)
    assert page.form_error() == "该案件已被他人修改，请刷新页面后重试；您的输入未被保存到案件中。"
    for name in ("kind", "party", "matter", "sent_on"):
        assert page.value(name) == typed[name], name
    assert stored(web, case_id)["steps"] == []
    # The page now shows the case as it is (extended); submitting again is a deliberate choice.
    assert page.value("version") == str(stored(web, case_id)["version"]) != old_version
    assert "含延长 5 个工作日" in page.by_id("clock").text
    r = web.client.post(url(case_id, "consult"), data={**typed, "version": page.value("version")})
    assert r.status_code == 302
    assert stored(web, case_id)["steps"] == [("consultation_agency", "")]


def test_wrong_stage_sends_back_to_the_case_with_the_reason(web):
    case_id = web.run(lambda: register().id)
    web.as_user("handler")
    r = web.client.get(url(case_id, "issue"))
    assert r.status_code == 302
    assert web.get(r.location).flashes() == ["案件当前状态为“已登记”，不能出具答复"]
    # Posting anyway is refused by the service and changes nothing.
    before = stored(web, case_id)
    r = web.client.post(url(case_id, "issue"), data={"version": str(before["version"]), "issued_on": "2026-11-23"})
    assert r.status_code == 400 and "不能出具答复" in Page(r).form_error()
    assert stored(web, case_id) == before


def test_letter_choices_on_the_draft_form_read_as_words(web):
    """A clerk picks 申请人说明理由的情况 by what it means, never by an internal code."""
    case_id = web.run(lambda: build_case("handling").id)
    web.as_user("handler")
    options = dict(web.get(url(case_id, "save_draft")).options("reasons_result"))
    assert options.get("unreasonable") == "已说明理由，但理由不合理"
    assert options.get("no_answer") == "逾期未说明理由"
