"""Each role's own work on its 工作台 (issue 15 item 1), and the reviewed notices that take effect
only when issued: a 收费通知书 decided by the handler pauses nothing and takes no payment until the
legal adviser has approved it and it has been issued."""
from __future__ import annotations

import pytest

from app.services import letters as L
from app.services.clocks import case_clock
from app.services.errors import ServiceError
from app.services.worklist import my_work
from tests.conftest import set_today, user
from tests.factories import (act, build_case, d, events, issue_fee_notice, register, reload, snapshot,
                             to_review)

FEE = {"method": "per_volume", "pages": 50}


def section(username: str, key: str) -> dict[str, str]:
    """The case numbers listed in one section of the user's 工作台, with what waits."""
    sec = next(s for s in my_work(user(username)) if s.key == key)
    assert sec.total == len(sec.items)  # these tests stay under the section's limit
    return {it.case.number: it.what for it in sec.items}


def test_a_fee_notice_waits_for_review_and_takes_effect_when_issued(app, ctx):
    set_today(app, "2026-11-04")
    case = build_case("handling")
    due_before = case.reply_due
    act(case, "handler", "fee_notice", FEE)
    case = reload(case)
    fee = case.steps_of("fee")[-1]
    # Decided, not in force: no pause, no payment, the reply due date unchanged.
    assert (fee.notice_state, fee.due_on) == ("review", None)
    assert case.reply_due == due_before and case.paused_until is None
    assert case_clock(case).status != "paused"
    before = snapshot(case.id)
    with pytest.raises(ServiceError, match="尚未出具"):
        act(case, "clerk", "fee_paid", {"paid_on": "2026-11-04", "receipt_no": "R1"})
    with pytest.raises(ServiceError, match="尚未出具"):
        act(case, "handler", "fee_notice", FEE)
    assert snapshot(case.id) == before
    # The legal adviser sees it; the handler cannot issue it yet.
    assert section("legal", "legal-notices") == {case.number: "《收费通知书》待法制审核"}
    assert section("handler", "handler-notices") == {}
    with pytest.raises(ServiceError, match="法制审核"):
        L.issue_notice(case.id, user("handler"), f"step-{fee.id}", d("2026-11-04"))
    L.approve_notice(case.id, user("legal"), f"step-{fee.id}")
    assert section("legal", "legal-notices") == {}
    assert section("handler", "handler-notices") == {case.number: "《收费通知书》已审核，待出具"}
    assert reload(case).paused_until is None  # approved is not yet issued
    set_today(app, "2026-11-06")
    L.issue_notice(case.id, user("handler"), f"step-{fee.id}", d("2026-11-06"))
    case = reload(case)
    fee = case.steps_of("fee")[-1]
    # In force from the issue day: 20 working days to pay (6 Nov + 20 = 4 Dec), clock paused.
    assert (fee.notice_state, fee.started_on, fee.due_on) == ("issued", d("2026-11-06"), d("2026-12-04"))
    assert case_clock(case).status == "paused" and case.paused_until == d("2026-12-04")
    assert events(case.id)[-1].data["fee_due"] == "2026-12-04"
    assert section("handler", "handler-notices") == {}
    act(case, "clerk", "fee_paid", {"paid_on": "2026-11-06", "receipt_no": "R1"})
    assert reload(case).steps_of("fee")[-1].result == "paid"


def test_an_unissued_fee_notice_holds_the_draft_back(app, ctx):
    case = build_case("handling")
    act(case, "handler", "fee_notice", FEE)
    act(case, "handler", "save_draft", {"outcome": "disclose", "obtain": "邮寄"})
    before = snapshot(case.id)
    with pytest.raises(ServiceError, match="收费通知书尚未出具"):
        act(case, "handler", "submit_draft")
    assert snapshot(case.id) == before


def test_the_fee_notice_states_the_rule_not_a_date_it_cannot_know(app, ctx):
    case = build_case("handling")
    act(case, "handler", "fee_notice", FEE)
    case = reload(case)
    ref = f"step-{case.steps_of('fee')[-1].id}"
    n = L.find_notice(case, ref)
    h = L.notice_status(case, n)["hash"]
    issue_fee_notice(case, "2026-11-23")
    case = reload(case)
    st = L.notice_status(case, L.find_notice(case, ref))
    # The letter reads as it was approved: issuing changed nothing it says.
    assert st["hash"] == h and not st["changed"]
    assert n.build().get("fee.due") is None


def test_extension_request_goes_to_the_head(app, ctx):
    case = build_case("handling")
    act(case, "handler", "request_extension", {"days": 10, "reason": "需调取历史档案"})
    assert section("head", "head-extensions") == {case.number: "申请延长10个工作日：需调取历史档案"}
    before = snapshot(case.id)
    with pytest.raises(ServiceError, match="尚待负责人审批"):
        act(case, "handler", "request_extension", {"days": 5, "reason": "再次"})
    assert snapshot(case.id) == before
    act(case, "head", "extend", {"days": 10, "reason": "需调取历史档案"})
    case = reload(case)
    assert case.extension_days == 10 and case.steps_of("extension_request")[-1].result == "granted"
    assert section("head", "head-extensions") == {}
    with pytest.raises(ServiceError, match="只能延长一次"):
        act(case, "handler", "request_extension", {"days": 5, "reason": "再次"})


def test_a_declined_extension_request_leaves_the_due_date(app, ctx):
    case = build_case("handling")
    due = case.reply_due
    act(case, "handler", "request_extension", {"days": 10, "reason": "检索量大"})
    with pytest.raises(ServiceError) as e:
        act(case, "head", "decline_extension", {"comments": " "})
    assert e.value.field == "comments"
    act(case, "head", "decline_extension", {"comments": "检索量不大，请按期答复"})
    case = reload(case)
    assert (case.reply_due, case.extension_days) == (due, 0)
    assert case.steps_of("extension_request")[-1].result == "declined"
    assert section("head", "head-extensions") == {}
    with pytest.raises(ServiceError, match="没有待审批的延期申请"):
        act(case, "head", "decline_extension", {"comments": "x"})


def test_legal_head_clerk_and_archivist_see_their_own_work(app, ctx):
    review = to_review(build_case("handling"))
    signoff = build_case("signoff")
    fresh = register(applicant_name="李四")
    delivered = build_case("delivered")
    assert section("legal", "legal-drafts") == {review.number: "答复稿待审核"}
    assert section("head", "head-signoff") == {signoff.number: "待签发"}
    assert fresh.number in section("clerk", "clerk-receipts")
    L.issue_notice(fresh.id, user("clerk"), "receipt", d("2026-11-02"))
    assert fresh.number not in section("clerk", "clerk-receipts")
    assert delivered.number in section("archivist", "archivist-ready")
    assert review.number not in section("archivist", "archivist-ready")
    # A role sees only its own sections.
    assert {s.key for s in my_work(user("legal"))} == {"legal-drafts", "legal-notices", "legal-requests"}
    assert {s.key for s in my_work(user("head"))} == {"head-signoff", "head-extensions"}


def test_sections_stay_in_the_agency(app, ctx):
    from tests.factories import other_agency
    to_review(build_case("handling"))
    _, others = other_agency()
    assert all(not s.items and s.total == 0 for s in my_work(others["legal"]))
