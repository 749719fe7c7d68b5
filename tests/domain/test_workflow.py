"""The case workflow state machine and its legal guards (handbook §1, §8)."""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

import pytest

from app.domain.workflow import (
    ACTIONS,
    ROLES,
    STATES,
    CaseFacts,
    TransitionError,
    allowed,
    NOTICE_SEPARATION,
    available_actions,
    check,
    duty_conflict,
    separation,
)

D = date
TODAY = D(2026, 3, 10)

# The expected table, written out independently: action -> (roles, source states, target or None).
EXPECTED = {
    "assign": ({"clerk", "head"}, {"registered", "correction", "handling"}, None),
    "transfer": ({"clerk", "head"}, {"registered"}, None),
    "start": ({"handler"}, {"registered"}, "handling"),
    "request_correction": ({"handler"}, {"registered", "handling"}, "correction"),
    "receive_correction": ({"handler", "clerk"}, {"correction"}, "handling"),
    "correction_lapsed": ({"handler"}, {"correction"}, "closed"),
    "consult": ({"handler"}, {"registered", "handling"}, "handling"),
    "consultation_reply": ({"handler"}, {"handling"}, "handling"),
    "request_reasons": ({"handler"}, {"registered", "handling"}, "handling"),
    "reasons_reply": ({"handler"}, {"handling"}, "handling"),
    "fee_notice": ({"handler"}, {"handling"}, "handling"),
    "fee_paid": ({"handler", "clerk"}, {"handling"}, "handling"),
    "fee_lapsed": ({"handler"}, {"handling"}, "closed"),
    "cohandle": ({"handler"}, {"registered", "handling"}, "handling"),
    "cohandle_reply": ({"handler"}, {"handling"}, "handling"),
    "extend": ({"head"}, {"registered", "handling", "review", "signoff"}, None),
    "request_extension": ({"handler"}, {"registered", "handling", "review", "signoff"}, None),
    "decline_extension": ({"head"}, {"registered", "handling", "review", "signoff"}, None),
    "save_draft": ({"handler"}, {"registered", "handling"}, "handling"),
    "submit_draft": ({"handler"}, {"handling"}, "review"),
    "approve": ({"legal"}, {"review"}, "signoff"),
    "return_draft": ({"legal"}, {"review"}, "handling"),
    "sign_off": ({"head"}, {"signoff"}, "signed"),
    "reject_signoff": ({"head"}, {"signoff"}, "handling"),
    "issue": ({"handler"}, {"signed"}, "replied"),
    "deliver": ({"handler", "clerk"}, {"replied"}, "delivered"),
    "withdraw": ({"handler", "clerk"}, {"registered", "correction", "handling", "review", "signoff"}, "closed"),
    "archive": ({"archivist"}, {"delivered", "closed"}, "archived"),
    "reopen": ({"admin"}, {"archived"}, None),
}

# Facts and parameters under which each action's guard passes.
OK = {
    "request_correction": (dict(correction_notice_due=D(2026, 3, 11)), dict(period_end=D(2026, 3, 31))),
    "correction_lapsed": (dict(correction_period_end=D(2026, 3, 9)), {}),
    "consultation_reply": (dict(open_consultations=1), {}),
    "reasons_reply": (dict(reasons_pending=True), {}),
    "fee_paid": (dict(fee_pending=True), {}),
    "fee_lapsed": (dict(fee_pending=True, fee_due=D(2026, 3, 9)), {}),
    "cohandle_reply": (dict(open_cohandlings=1), {}),
    "extend": (dict(reply_due=D(2026, 3, 20)), dict(days=20)),
    "request_extension": (dict(reply_due=D(2026, 3, 20)), dict(days=20, reason="检索量大")),
    "decline_extension": (dict(extension_requested=True), dict(comments="请按期答复")),
    "submit_draft": (dict(has_draft=True, draft_hash="h1"), {}),
    "approve": (dict(has_draft=True, draft_hash="h1"), dict(secrecy_reviewed=True, draft_hash="h1")),
    "return_draft": ({}, dict(comments="第二段理由不充分")),
    "reject_signoff": ({}, dict(comments="请补充救济途径")),
    "sign_off": (dict(draft_hash="h1", approved_hash="h1"), {}),
    "issue": (dict(draft_hash="h1", approved_hash="h1", signed_hash="h1"), {}),
    "reopen": ({}, dict(reason="归档时遗漏送达回证")),
}


def facts(state: str, **kw) -> CaseFacts:
    return CaseFacts(state=state, today=TODAY, **kw)


def ok(action: str, state: str) -> tuple[CaseFacts, dict]:
    f, p = OK.get(action, ({}, {}))
    return facts(state, **f), dict(p)


def raises(action: str, f: CaseFacts, roles=None, **params) -> TransitionError:
    roles = roles if roles is not None else EXPECTED[action][0]
    with pytest.raises(TransitionError) as exc:
        check(action, f, roles, **params)
    assert re.search(r"[\u4e00-\u9fff]", exc.value.message), "message must be in Chinese"
    return exc.value


ALL = [(a, s, r) for a in EXPECTED for s in STATES for r in ROLES]


# --------------------------------------------------------------------------- the table


def test_tables_name_exactly_the_expected_actions_states_and_roles():
    assert set(ACTIONS) == set(EXPECTED)
    assert set(STATES) == {"registered", "correction", "handling", "review", "signoff", "signed", "replied",
                           "delivered", "closed", "archived"}
    assert set(ROLES) == {"clerk", "handler", "legal", "head", "archivist", "admin", "supervisor", "sysadmin"}
    for a in ACTIONS.values():
        assert a.target is None or a.target in STATES
        assert a.sources <= set(STATES) and a.roles <= set(ROLES)


@pytest.mark.parametrize("action,state,role", ALL)
def test_allowed_matches_table(action, state, role):
    roles, sources, _ = EXPECTED[action]
    assert allowed(action, state, {role}) == (role in roles and state in sources)


@pytest.mark.parametrize("action,state,role", ALL)
def test_check_enforces_role_then_state(action, state, role):
    roles, sources, target = EXPECTED[action]
    label = ACTIONS[action].label
    f, params = ok(action, state)
    if role not in roles:
        err = raises(action, f, {role}, **params)
        assert f"“{label}”只能由" in err.message
        for r in roles:
            assert ROLES[r] in err.message
    elif state not in sources:
        err = raises(action, f, {role}, **params)
        assert err.message == f"案件当前状态为“{STATES[state]}”，不能{label}"
    else:
        assert check(action, f, {role}, **params) == (target or state)


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("role", ROLES)
def test_available_actions_lists_the_allowed_ones(state, role):
    expected = [a for a, (roles, sources, _) in EXPECTED.items() if role in roles and state in sources]
    assert [a.name for a in available_actions(state, {role})] == expected


def test_any_of_several_roles_suffices():
    assert allowed("approve", "review", {"admin", "legal"})
    assert not allowed("approve", "review", {"admin", "handler", "head"})
    assert not allowed("approve", "review", set())


def test_unknown_action_raises_transition_error():
    raises("teleport", facts("handling"), {"handler"})


def test_legal_roles_of_the_key_steps():
    assert ACTIONS["extend"].roles == {"head"}  # Art. 33: head of the OGI office consents
    assert ACTIONS["approve"].roles == ACTIONS["return_draft"].roles == {"legal"}
    assert ACTIONS["sign_off"].roles == {"head"}
    # An archived file is read-only: the only way out is an administrator's reopening.
    assert [a.name for a in available_actions("archived", set(ROLES))] == ["reopen"]
    assert ACTIONS["reopen"].roles == {"admin"}


# --------------------------------------------------------------------------- correction (Art. 30)


def test_correction_notice_only_once(cal):
    due = cal.add_working_days(D(2026, 2, 10), 7).due
    f = replace(facts("handling", correction_notice_due=due), today=D(2026, 2, 12))
    assert check("request_correction", f, {"handler"}) == "correction"
    err = raises("request_correction", replace(f, correction_notices=1))
    assert "一次" in err.message


def test_correction_notice_within_7_working_days_of_receipt(cal):
    due = cal.add_working_days(D(2026, 2, 10), 7).due
    assert due == D(2026, 2, 26)
    f = replace(facts("registered", correction_notice_due=due), today=D(2026, 2, 26))
    assert check("request_correction", f, {"handler"}) == "correction"
    assert check("request_correction", f, {"handler"}, notice_date=D(2026, 2, 26)) == "correction"
    err = raises("request_correction", f, notice_date=D(2026, 2, 27))
    assert err.field == "notice_date" and "7个工作日" in err.message
    err = raises("request_correction", replace(f, today=D(2026, 2, 27)))
    assert err.field == "notice_date"


def test_correction_period_end_must_be_after_notice_date():
    f = facts("handling", correction_notice_due=D(2026, 3, 11))
    assert check("request_correction", f, {"handler"}, period_end=D(2026, 3, 11)) == "correction"
    for end in (TODAY, D(2026, 3, 9)):
        err = raises("request_correction", f, period_end=end)
        assert err.field == "period_end"
    err = raises("request_correction", f, notice_date=D(2026, 3, 11), period_end=D(2026, 3, 11))
    assert err.field == "period_end"


def test_correction_lapsed_only_after_period_end():
    for end in (TODAY, D(2026, 3, 11)):
        err = raises("correction_lapsed", facts("correction", correction_period_end=end))
        assert "尚未届满" in err.message
    assert check("correction_lapsed", facts("correction", correction_period_end=D(2026, 3, 9)),
                 {"handler"}) == "closed"


# --------------------------------------------------------------------------- extension (Art. 33)


def test_extension_only_once():
    err = raises("extend", facts("handling", extension_days=10, reply_due=D(2026, 3, 20)), days=5)
    assert "一次" in err.message


@pytest.mark.parametrize("days", [0, -1, 21, 40, None, "10", 2.5])
def test_extension_between_1_and_20_working_days(days):
    err = raises("extend", facts("handling", reply_due=D(2026, 3, 20)), days=days)
    assert err.field == "days"


@pytest.mark.parametrize("days", [1, 20])
def test_extension_of_1_or_20_days_allowed(days):
    assert check("extend", facts("handling", reply_due=D(2026, 3, 20)), {"head"}, days=days) == "handling"


def test_extension_only_before_the_deadline_passes():
    assert check("extend", facts("review", reply_due=TODAY), {"head"}, days=20) == "review"
    err = raises("extend", facts("review", reply_due=D(2026, 3, 9)), days=20)
    assert "届满" in err.message


def test_extension_refused_while_clock_has_no_running_deadline():
    err = raises("extend", facts("handling", reply_due=None, clock_paused=True), days=20)
    assert "暂停" in err.message


def test_extension_refused_while_clock_paused():
    raises("extend", facts("handling", reply_due=D(2026, 3, 20), clock_paused=True), days=20)


# --------------------------------------------------------------------------- submission, review, sign-off, issue

READY = dict(has_draft=True, draft_hash="h1")


def test_submit_draft_allowed_when_ready():
    assert check("submit_draft", facts("handling", **READY), {"handler"}) == "review"


@pytest.mark.parametrize("blocker,words", [
    (dict(has_draft=False, draft_hash=None), "尚未起草"),
    (dict(open_consultations=1), "征求意见"),
    (dict(fee_pending=True), "缴费"),
    (dict(reasons_pending=True), "说明理由"),
])
def test_submit_draft_refused(blocker, words):
    err = raises("submit_draft", facts("handling", **{**READY, **blocker}))
    assert words in err.message


def test_approve_needs_secrecy_review():
    f = facts("review", **READY)
    for params in ({}, dict(secrecy_reviewed=False), dict(secrecy_reviewed=None, draft_hash="h1")):
        err = raises("approve", f, **params)
        assert err.field == "secrecy_reviewed" and "保密审查" in err.message
    assert check("approve", f, {"legal"}, secrecy_reviewed=True, draft_hash="h1") == "signoff"


def test_approve_refuses_a_changed_draft():
    err = raises("approve", facts("review", **READY), secrecy_reviewed=True, draft_hash="h0")
    assert err.field == "draft_hash"


@pytest.mark.parametrize("action,state", [("return_draft", "review"), ("reject_signoff", "signoff")])
@pytest.mark.parametrize("comments", [None, "", "   ", "\n\t"])
def test_return_needs_comments(action, state, comments):
    params = {} if comments is None else dict(comments=comments)
    err = raises(action, facts(state), **params)
    assert err.field == "comments"


@pytest.mark.parametrize("action,state", [("return_draft", "review"), ("reject_signoff", "signoff")])
def test_return_with_comments_goes_back_to_handler(action, state):
    assert check(action, facts(state), EXPECTED[action][0], comments="请修改") == "handling"


@pytest.mark.parametrize("approved", [None, "", "h0"])
def test_sign_off_needs_approved_hash_equal_to_draft_hash(approved):
    raises("sign_off", facts("signoff", draft_hash="h1", approved_hash=approved))


def test_sign_off_needs_a_draft():
    raises("sign_off", facts("signoff", draft_hash=None, approved_hash=None))


def test_sign_off_of_the_approved_draft():
    assert check("sign_off", facts("signoff", draft_hash="h1", approved_hash="h1"), {"head"}) == "signed"


@pytest.mark.parametrize("draft,approved,signed", [
    ("h1", "h1", None),
    ("h1", "h1", "h0"),
    ("h1", "h0", "h1"),
    ("h2", "h1", "h1"),
    (None, None, None),
    ("", "", ""),
])
def test_issue_needs_draft_approved_and_signed_to_be_the_same(draft, approved, signed):
    err = raises("issue", facts("signed", draft_hash=draft, approved_hash=approved, signed_hash=signed))
    assert "同一稿件" in err.message


def test_issue_of_the_signed_draft():
    assert check("issue", facts("signed", draft_hash="h1", approved_hash="h1", signed_hash="h1"),
                 {"handler"}) == "replied"


# --------------------------------------------------------------------------- the other guards


def test_pending_item_guards():
    raises("consultation_reply", facts("handling"))
    raises("reasons_reply", facts("handling"))
    raises("request_reasons", facts("handling", reasons_pending=True))
    raises("fee_notice", facts("handling", fee_pending=True))
    raises("fee_paid", facts("handling"))
    raises("cohandle_reply", facts("handling"))
    assert check("fee_notice", facts("handling"), {"handler"}) == "handling"
    assert check("request_reasons", facts("registered"), {"handler"}) == "handling"


def test_fee_lapsed_only_after_payment_period_with_a_pending_fee():
    raises("fee_lapsed", facts("handling", fee_due=D(2026, 3, 9)))  # nothing pending
    err = raises("fee_lapsed", facts("handling", fee_pending=True, fee_due=TODAY))
    assert "尚未届满" in err.message
    assert check("fee_lapsed", facts("handling", fee_pending=True, fee_due=D(2026, 3, 9)), {"handler"}) == "closed"


@pytest.mark.parametrize("reason", [None, "", "  "])
def test_reopen_of_archived_file_needs_a_reason(reason):
    params = {} if reason is None else dict(reason=reason)
    err = raises("reopen", facts("archived"), **params)
    assert err.field == "reason"
    assert check("reopen", facts("archived"), {"admin"}, reason="补充送达回证") == "archived"


def test_guards_can_be_skipped_but_role_and_state_still_apply():
    bare = facts("signoff")  # no approved draft: the sign-off guard would refuse
    raises("sign_off", bare)
    assert check("sign_off", bare, {"head"}, guards=False) == "signed"
    raises("sign_off", bare, {"handler"}, guards=False)
    raises("sign_off", facts("review"), {"head"}, guards=False)


# --------------------------------------------------------------------------- separation of duties


def test_the_drafter_may_not_approve_and_the_approver_may_not_sign():
    f = facts("review", has_draft=True, draft_hash="h1", drafted_by=7)
    e = raises("approve", f, actor_id=7, secrecy_reviewed=True)
    assert e.message == "起草人不能审核自己起草的稿件（职责分离）"
    assert check("approve", f, {"legal"}, actor_id=8, secrecy_reviewed=True) == "signoff"
    f = facts("signoff", draft_hash="h1", approved_hash="h1", drafted_by=7, approved_by=8)
    assert raises("sign_off", f, actor_id=8).message == "审核人不能签发自己审核通过的稿件（职责分离）"
    # Only the two named conflicts: the drafter may sign a draft someone else approved.
    assert check("sign_off", f, {"head"}, actor_id=7) == "signed"
    assert duty_conflict("sign_off", f, 7) is None


def test_a_relaxed_agency_allows_it_and_gets_the_note_to_record():
    f = facts("review", has_draft=True, draft_hash="h1", drafted_by=7, separation_relaxed=True)
    assert check("approve", f, {"legal"}, actor_id=7, secrecy_reviewed=True) == "signoff"
    assert duty_conflict("approve", f, 7) == "起草人与审核人为同一人（本机关已放宽职责分离）"
    assert duty_conflict("approve", f, 8) is None
    f = facts("signoff", draft_hash="h1", approved_hash="h1", approved_by=7, separation_relaxed=True)
    assert duty_conflict("sign_off", f, 7) == "审核人与签发人为同一人（本机关已放宽职责分离）"


def test_notice_separation():
    with pytest.raises(TransitionError, match="制作该文书的人不能审核该文书"):
        separation("approve_notice", NOTICE_SEPARATION, 3, {3}, False)
    assert separation("approve_notice", NOTICE_SEPARATION, 3, {3}, True).startswith("文书制作人与审核人为同一人")
    assert separation("approve_notice", NOTICE_SEPARATION, 4, {3}, False) is None
