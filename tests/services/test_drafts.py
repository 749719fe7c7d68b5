"""Drafts, legal review and sign-off: only the exact draft that was approved and signed can be issued."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from app.domain.outcomes import DRAFTABLE, OUTCOMES
from app.extensions import db
from app.models import Draft
from app.services import cases as S
from app.services.errors import ServiceError
from tests.conftest import user
from tests.factories import (DISCLOSE_DRAFT, act, approve, build_case, events, issue, reload, snapshot,
                             to_signed)


def _tamper(sql: str, **params) -> None:
    """Change a row behind the application's back (as a DBA or an attacker with SQL access could)."""
    db.session.execute(text(sql), params)
    db.session.commit()
    db.session.expire_all()


def test_new_revision_after_approval_needs_its_own_approval(app, ctx):
    case = build_case("signoff")
    rev1 = reload(case).current_draft
    assert rev1.approved_hash == rev1.content_hash and rev1.signed_hash is None

    before = snapshot(case.id)
    for comments in ("", "   "):
        with pytest.raises(ServiceError) as e:
            act(case, "head", "reject_signoff", {"comments": comments})
        assert e.value.field == "comments"
        assert snapshot(case.id) == before
    act(case, "head", "reject_signoff", {"comments": "附件清单不全"})
    assert reload(case).state == "handling"

    act(case, "handler", "save_draft", {**DISCLOSE_DRAFT, "attachments": "1. 征收补偿方案（复印件）"})
    case = reload(case)
    rev2 = case.current_draft
    assert (rev2.revision, rev2.approved_hash, rev2.signed_hash) == (2, None, None)
    assert rev2.content_hash != rev1.content_hash
    for action in ("sign_off", "issue"):
        before = snapshot(case.id)
        with pytest.raises(ServiceError):
            act(case, "head" if action == "sign_off" else "handler", action)
        assert snapshot(case.id) == before

    act(case, "handler", "submit_draft")
    before = snapshot(case.id)
    with pytest.raises(ServiceError) as e:  # the reviewer's page still showed revision 1
        act(case, "legal", "approve", {"secrecy_reviewed": "y", "draft_hash": rev1.content_hash})
    assert e.value.field == "draft_hash"
    assert snapshot(case.id) == before
    with pytest.raises(ServiceError) as e:
        act(case, "legal", "approve", {"draft_hash": rev2.content_hash})
    assert e.value.field == "secrecy_reviewed"
    assert snapshot(case.id) == before

    approve(case)
    to_signed(case)
    issue(case)
    case = reload(case)
    assert case.state == "replied"
    assert case.issued_draft_id == rev2.id
    assert events(case.id)[-1].data["content_hash"] == rev2.content_hash
    old = db.session.get(Draft, rev1.id)
    assert old.approved_hash == rev1.content_hash and old.signed_hash is None  # history kept


def test_return_draft_requires_comments_and_back_to_handling(app, ctx):
    case = build_case("review")
    before = snapshot(case.id)
    for params in ({}, {"comments": ""}, {"comments": " \n "}):
        with pytest.raises(ServiceError) as e:
            act(case, "legal", "return_draft", params)
        assert e.value.field == "comments"
        assert snapshot(case.id) == before
    act(case, "legal", "return_draft", {"comments": "请补充法律依据"})
    case = reload(case)
    assert case.state == "handling"
    assert events(case.id)[-1].data["comments"] == "请补充法律依据"


def test_signoff_refused_when_the_current_draft_was_never_approved(app, ctx):
    """A current-draft pointer moved to an unapproved revision behind the services' back."""
    case = build_case("signoff")
    rev1 = reload(case).current_draft
    rogue = Draft(case_id=case.id, revision=2, outcome_code="disclose",
                  content_hash=Draft.hash_content("disclose", {"obtain": "x"}), created_by_id=user("handler").id)
    rogue.fields_json = json.dumps({"obtain": "x"})
    db.session.add(rogue)
    db.session.commit()
    _tamper('UPDATE "case" SET current_draft_id = :d WHERE id = :c', d=rogue.id, c=case.id)
    before = snapshot(case.id)
    with pytest.raises(ServiceError, match="未经法制审核"):
        act(case, "head", "sign_off")
    assert snapshot(case.id) == before
    assert rev1.id != rogue.id


def test_issue_refused_when_the_current_draft_is_not_the_signed_one(app, ctx):
    case = build_case("signed")
    rogue = Draft(case_id=case.id, revision=2, outcome_code="not_exist",
                  content_hash=Draft.hash_content("not_exist", {"search": "未检索"}),
                  created_by_id=user("handler").id)
    rogue.fields_json = json.dumps({"search": "未检索"}, ensure_ascii=False)
    db.session.add(rogue)
    db.session.commit()
    _tamper('UPDATE "case" SET current_draft_id = :d WHERE id = :c', d=rogue.id, c=case.id)
    before = snapshot(case.id)
    with pytest.raises(ServiceError, match="同一稿件"):
        act(case, "handler", "issue")
    assert snapshot(case.id) == before


def test_fields_changed_in_the_database_after_approval_cannot_be_issued(app, ctx):
    case = build_case("signed")
    d = reload(case).current_draft
    fields = d.fields
    fields["decision"] = "经审查，您申请的信息不予公开。"
    _tamper("UPDATE draft SET fields_json = :f WHERE id = :d",
            f=json.dumps(fields, ensure_ascii=False, sort_keys=True), d=d.id)
    before = snapshot(case.id)
    with pytest.raises(ServiceError, match="稿件内容与审核时的版本不一致"):
        issue(case)
    assert snapshot(case.id) == before
    assert before["state"] == "signed" and before["issued_draft_id"] is None


def test_outcome_changed_in_the_database_after_signoff_cannot_be_issued(app, ctx):
    case = build_case("signed")
    _tamper("UPDATE draft SET outcome_code = 'refuse_secret' WHERE id = :d", d=reload(case).current_draft_id)
    before = snapshot(case.id)
    with pytest.raises(ServiceError, match="不一致"):
        issue(case)
    assert snapshot(case.id) == before


def test_fields_and_hash_both_rewritten_still_cannot_be_issued(app, ctx):
    """Recomputing content_hash to match the forged fields does not forge the approval."""
    case = build_case("signed")
    d = reload(case).current_draft
    forged = {"decision": "不予公开", "reasons": "伪造"}
    _tamper("UPDATE draft SET fields_json = :f, content_hash = :h WHERE id = :d",
            f=json.dumps(forged, ensure_ascii=False, sort_keys=True),
            h=Draft.hash_content(d.outcome_code, forged), d=d.id)
    before = snapshot(case.id)
    with pytest.raises(ServiceError, match="同一稿件"):
        issue(case)
    assert snapshot(case.id) == before


def test_signoff_refused_when_fields_changed_after_approval(app, ctx):
    case = build_case("signoff")
    d = reload(case).current_draft
    _tamper("UPDATE draft SET fields_json = :f WHERE id = :d",
            f=json.dumps({"decision": "不予公开", "obtain": "无"}, ensure_ascii=False), d=d.id)
    before = snapshot(case.id)
    with pytest.raises(ServiceError, match="不一致"):
        act(case, "head", "sign_off")
    assert snapshot(case.id) == before


def test_draft_revisions_are_numbered_and_hashed(app, ctx):
    case = build_case("handling")
    act(case, "handler", "save_draft", DISCLOSE_DRAFT)
    act(case, "handler", "save_draft", {"outcome": "not_exist", "decision": "经检索，本机关未制作该信息",
                                        "search": "检索了2020—2025年发文目录"})
    case = reload(case)
    assert [x.revision for x in case.drafts] == [1, 2]
    assert case.current_draft.revision == 2
    for x in case.drafts:
        assert x.content_hash == Draft.hash_content(x.outcome_code, x.fields) == x.recomputed_hash()
    assert case.drafts[0].fields == {k: v for k, v in DISCLOSE_DRAFT.items() if k != "outcome"}


NEEDS_REASONS = [o.code for o in DRAFTABLE if o.needs_reasons and not o.reasons_per_part]
# What each outcome's reply letter needs beyond the rule under test (the catalogue says so).
LETTER_EXTRAS = {
    "partial": {"disclosed": "2025年度项目清单", "obtain": "随本答复书邮寄提供",
                "withheld": "个人身份信息｜涉及个人隐私｜《中华人民共和国政府信息公开条例》第十五条、第三十七条"},
    "unreasonable": {"reasons_notice__date": "2026-11-05"},
    "repeat": {"earlier__replied_on": "2026-10-09"},
}


@pytest.mark.parametrize("code", NEEDS_REASONS)
def test_outcome_needing_reasons_is_refused_without_them(app, ctx, code):
    case = build_case("handling")
    before = snapshot(case.id)
    for reasons in (None, "", "   "):
        params = {"outcome": code, "decision": "答复内容"}
        if reasons is not None:
            params["reasons"] = reasons
        with pytest.raises(ServiceError) as e:
            act(case, "handler", "save_draft", params)
        assert e.value.field == "reasons"
        assert snapshot(case.id) == before
    act(case, "handler", "save_draft", {"outcome": code, "decision": "答复内容", "reasons": "依据第十四条……",
                                        **LETTER_EXTRAS.get(code, {})})
    assert reload(case).current_draft.outcome_code == code


def test_partial_disclosure_gives_its_reasons_part_by_part(app, ctx):
    """部分公开 states a reason and basis for each withheld part (Art. 37); the letter prints those,
    so a separate 理由 field would be asked for and never printed."""
    case = build_case("handling")
    before = snapshot(case.id)
    extras = dict(LETTER_EXTRAS["partial"])
    with pytest.raises(ServiceError) as e:
        act(case, "handler", "save_draft", {"outcome": "partial", "decision": "答复内容",
                                            **{k: v for k, v in extras.items() if k != "withheld"}})
    assert e.value.field == "withheld"
    assert snapshot(case.id) == before
    with pytest.raises(ServiceError) as e:  # a part without its reason
        act(case, "handler", "save_draft", {"outcome": "partial", "decision": "答复内容", **extras,
                                            "withheld": "个人身份信息｜｜《中华人民共和国政府信息公开条例》第十五条、第三十七条"})
    assert e.value.field == "withheld"
    assert snapshot(case.id) == before
    act(case, "handler", "save_draft", {"outcome": "partial", "decision": "答复内容", **extras})
    assert reload(case).current_draft.outcome_code == "partial"


def test_refusals_all_need_reasons():
    """Every refusal (复议前置) outcome demands written reasons: the letter must state them."""
    assert NEEDS_REASONS
    assert all(o.needs_reasons for o in OUTCOMES if o.refusal)


@pytest.mark.parametrize("code,field", [("not_exist", "search"), ("disclose", "obtain"),
                                        ("repeat", "earlier_reply")])
def test_outcome_specific_required_fields(app, ctx, code, field):
    case = build_case("handling")
    before = snapshot(case.id)
    with pytest.raises(ServiceError) as e:
        act(case, "handler", "save_draft", {"outcome": code, "decision": "答复内容"})
    assert e.value.field == field
    assert snapshot(case.id) == before
    act(case, "handler", "save_draft", {"outcome": code, "decision": "答复内容", field: "已写明",
                                        **LETTER_EXTRAS.get(code, {})})
    assert reload(case).current_draft.outcome_code == code


@pytest.mark.parametrize("code", ["correction_lapsed", "fee_unpaid", "withdrawn", "no_such_outcome"])
def test_outcomes_reached_without_a_reply_cannot_be_drafted(app, ctx, code):
    case = build_case("handling")
    before = snapshot(case.id)
    with pytest.raises(ServiceError) as e:
        act(case, "handler", "save_draft", {"outcome": code, "decision": "x", "reasons": "x"})
    assert e.value.field == "outcome"
    assert snapshot(case.id) == before


def test_submit_without_a_draft_is_refused(app, ctx):
    case = build_case("handling")
    before = snapshot(case.id)
    with pytest.raises(ServiceError, match="尚未起草"):
        act(case, "handler", "submit_draft")
    assert snapshot(case.id) == before


def test_submit_refused_while_a_consultation_is_open(app, ctx):
    case = build_case("handling")
    act(case, "handler", "consult", {"kind": "third_party", "party": "某公司", "matter": "商业秘密"})
    act(case, "handler", "save_draft", DISCLOSE_DRAFT)
    before = snapshot(case.id)
    with pytest.raises(ServiceError, match="征求意见"):
        act(case, "handler", "submit_draft")
    assert snapshot(case.id) == before


def test_approval_records_the_secrecy_review(app, ctx):
    case = build_case("review")
    d = reload(case).current_draft
    act(case, "legal", "approve", {"secrecy_reviewed": "y", "secrecy_note": "经保密审查，不涉密",
                                   "draft_hash": d.content_hash})
    case = reload(case)
    d = case.current_draft
    assert d.approved_by_id == user("legal").id and d.approved_at is not None
    assert d.approved_hash == d.content_hash and d.secrecy_note == "经保密审查，不涉密"
    assert events(case.id)[-1].data["secrecy_reviewed"] is True


def test_sign_off_records_the_signer_and_the_hash(app, ctx):
    case = build_case("signed")
    d = reload(case).current_draft
    assert d.signed_by_id == user("head").id and d.signed_at is not None
    assert d.signed_hash == d.approved_hash == d.content_hash


def test_issue_closes_with_the_draft_outcome_and_the_on_time_flag(app, ctx):
    case = build_case("signed")
    S.perform(case.id, user("handler"), "issue", {"issued_on": "2026-11-23"})
    case = reload(case)
    assert (case.state, case.outcome_code, case.closed_on) == ("replied", "disclose", case.closed_on)
    assert case.closed_on.isoformat() == "2026-11-23"
    data = events(case.id)[-1].data
    assert data["on_time"] is True and data["reply_due"] == "2026-11-30"
    before = snapshot(case.id)
    with pytest.raises(ServiceError):
        S.perform(case.id, user("handler"), "issue", {"issued_on": "2026-11-24"})
    assert snapshot(case.id) == before


def test_issue_date_cannot_be_in_the_future(app, ctx):
    case = build_case("signed")
    before = snapshot(case.id)
    with pytest.raises(ServiceError) as e:
        S.perform(case.id, user("handler"), "issue", {"issued_on": "2026-11-24"})
    assert e.value.field == "issued_on"
    assert snapshot(case.id) == before
