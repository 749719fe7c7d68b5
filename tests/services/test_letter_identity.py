"""Letters have an identity: a notice is issued once for its step and stays issued, a second issue
is impossible under any concurrency, re-issue is explicit (with a reason) and only numbered letter
types draw a 文号, with no gap in the register."""
from __future__ import annotations

import pytest

from app.extensions import db
from app.models import Event, Letter, Sequence
from app.services import cases as S
from app.services import letters as L
from app.services.errors import Conflict, ServiceError
from tests.conftest import INTAKE, set_today, user
from tests.factories import build_case, reload
from tests.race import race
from tests.test_letters_cases import pdf_text


def _letters(case_id: int) -> list[Letter]:
    db.session.expire_all()
    return list(db.session.scalars(db.select(Letter).where(Letter.case_id == case_id).order_by(Letter.id)))


def _status(case_id: int, ref: str) -> dict:
    case = reload(case_id)
    return L.notice_status(case, L.find_notice(case, ref))


def _events(case_id: int, action: str) -> list[Event]:
    return list(db.session.scalars(db.select(Event).where(Event.case_id == case_id, Event.action == action)))


def test_receipt_stays_issued_after_a_consultation_moves_the_due_date(app, ctx):
    set_today(app, "2026-11-04")
    case = S.register_case(user("clerk"), dict(INTAKE))
    receipt = L.issue_notice(case.id, user("clerk"), "receipt", S._today())
    due_at_issue = reload(case.id).reply_due
    h = user("handler")
    S.perform(case.id, h, "start")
    S.perform(case.id, h, "consult", {"kind": "third_party", "party": "某建设有限公司", "matter": "涉及商业信息"})
    step = reload(case.id).steps_of("consultation_third_party")[0]
    set_today(app, "2026-11-13")
    S.perform(case.id, h, "consultation_reply", {"step_id": step.id, "result": "agree"})
    assert reload(case.id).reply_due > due_at_issue  # the pause moved the date the receipt printed

    st = _status(case.id, "receipt")
    assert st["issued"].id == receipt.id and st["changed"]
    with pytest.raises(Conflict, match="已出具") as e:
        L.issue_notice(case.id, user("clerk"), "receipt", S._today())
    assert e.value.status == 409 and "不编号" in e.value.message  # names the letter in force
    assert [l.id for l in _letters(case.id)] == [receipt.id]
    assert len(_events(case.id, "issue_notice")) == 1


def test_a_step_notice_stays_issued_when_the_handler_changes(app, ctx):
    case = build_case("handling")
    S.perform(case.id, user("handler"), "cohandle", {"party": "档案室", "matter": "查找档案"})
    ref = f"step-{reload(case.id).steps_of('cohandle')[0].id}"
    first = L.issue_notice(case.id, user("handler"), ref, S._today())
    S.perform(case.id, user("head"), "assign", {"handler_id": user("handler2").id})  # contact on the letter
    assert _status(case.id, ref)["issued"].id == first.id
    with pytest.raises(Conflict):
        L.issue_notice(case.id, user("handler2"), ref, S._today())
    assert len(_letters(case.id)) == 1


def _ref_for(case_id: int, key: str) -> str:
    case = reload(case_id)
    if key == "receipt":
        return "receipt"
    S.perform(case_id, user("handler"), "cohandle", {"party": "档案室", "matter": "查找档案"})
    return f"step-{reload(case_id).steps_of('cohandle')[0].id}"


@pytest.mark.parametrize("key", ["receipt", "cohandle"])
def test_parallel_issues_of_one_notice_make_one_letter_and_at_most_one_number(app, ctx, key):
    n = 6
    case_id = build_case("handling").id
    ref = _ref_for(case_id, key)
    db.session.remove()

    results = race(app, n, lambda i: L.issue_notice(case_id, user("handler"), ref, S._today()).id)

    issued = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if not isinstance(r, int)]
    assert len(issued) == 1, results
    assert all(isinstance(r, Conflict) and r.status == 409 for r in refused), results
    letters = _letters(case_id)
    assert [l.id for l in letters] == issued
    seq = db.session.scalar(db.select(Sequence.last).where(Sequence.kind == "letter"))
    if key == "receipt":  # 登记回执 carries no 文号
        assert letters[0].number is None and seq is None
    else:
        assert letters[0].number == "示自然资规公开〔2026〕1号" and seq == 1  # losers gave theirs back
    assert len(_events(case_id, "issue_notice")) == 1


def test_reissue_needs_a_reason_and_makes_a_new_letter_linked_to_the_old(app, ctx):
    case = build_case("handling")
    S.perform(case.id, user("handler"), "cohandle", {"party": "档案室", "matter": "查找档案"})
    ref = f"step-{reload(case.id).steps_of('cohandle')[0].id}"
    old = L.issue_notice(case.id, user("handler"), ref, S._today())
    old_id, old_sha = old.id, old.sha256

    for reason in (None, "", "   "):
        with pytest.raises(ServiceError, match="理由") as e:
            L.reissue_notice(case.id, user("handler"), ref, S._today(), reason)
        assert e.value.field == "reason"
    with pytest.raises(ServiceError, match="承办人或登记员"):
        L.reissue_notice(case.id, user("legal"), ref, S._today(), "更正协办事项")
    assert len(_letters(case.id)) == 1 and not _events(case.id, "reissue_notice")

    new = L.reissue_notice(case.id, user("handler"), ref, S._today(), "协办事项表述有误，予以更正",
                           replaces_id=old_id)
    letters = _letters(case.id)
    assert [l.id for l in letters] == [old_id, new.id]
    old, new = letters
    assert (new.supersedes_id, new.reissue_no, new.notice_ref) == (old_id, 1, ref)
    assert new.reissue_reason == "协办事项表述有误，予以更正"
    assert new.number == "示自然资规公开〔2026〕2号" and old.number == "示自然资规公开〔2026〕1号"
    assert old.sha256 == old_sha and old.replaced_by.id == new.id and new.replaced_by is None
    assert _status(case.id, ref)["issued"].id == new.id
    [ev] = _events(case.id, "reissue_notice")
    assert ev.data["replaces"] == old_id and ev.data["reason"] == "协办事项表述有误，予以更正"
    assert ev.actor_id == user("handler").id

    # A second re-issue from a page that still shows the old letter is a conflict, not a third letter.
    with pytest.raises(Conflict):
        L.reissue_notice(case.id, user("handler"), ref, S._today(), "再次更正", replaces_id=old_id)
    assert len(_letters(case.id)) == 2


def test_reissue_of_a_notice_not_yet_issued_is_refused(app, ctx):
    case = build_case("registered")
    with pytest.raises(ServiceError, match="尚未出具"):
        L.reissue_notice(case.id, user("clerk"), "receipt", S._today(), "更正")
    assert _letters(case.id) == []


def test_parallel_reissues_make_one_new_letter(app, ctx):
    case_id = build_case("registered").id
    old_id = L.issue_notice(case_id, user("clerk"), "receipt", S._today()).id
    db.session.remove()
    results = race(app, 4, lambda i: L.reissue_notice(case_id, user("clerk"), "receipt", S._today(),
                                                       f"更正{i}", replaces_id=old_id).id)
    made = [r for r in results if isinstance(r, int)]
    assert len(made) == 1 and all(isinstance(r, Conflict) for r in results if not isinstance(r, int)), results
    assert [l.id for l in _letters(case_id)] == [old_id, *made]


def test_unnumbered_letters_draw_no_number_and_leave_no_gap(app, ctx):
    set_today(app, "2026-11-04")
    case = S.register_case(user("clerk"), dict(INTAKE))
    h = user("handler")
    receipt = L.issue_notice(case.id, user("clerk"), "receipt", S._today())
    S.perform(case.id, h, "start")
    S.perform(case.id, h, "cohandle", {"party": "档案室", "matter": "查找档案"})
    S.perform(case.id, h, "consult", {"kind": "third_party", "party": "某建设有限公司", "matter": "涉及商业信息"})
    case = reload(case.id)
    cohandle, third = case.steps_of("cohandle")[0], case.steps_of("consultation_third_party")[0]
    a = L.issue_notice(case.id, h, f"step-{cohandle.id}", S._today())
    confirmation = L.issue_notice(case.id, h, f"step-{third.id}-confirmation", S._today())  # 确认函
    b = L.issue_notice(case.id, h, f"step-{third.id}", S._today())

    assert (receipt.number, receipt.seq, confirmation.number, confirmation.seq) == (None, None, None, None)
    assert [a.seq, b.seq] == [1, 2]
    assert db.session.scalar(db.select(Sequence.last).where(Sequence.kind == "letter")) == 2
    numbered = db.session.scalars(db.select(Letter.seq).where(Letter.number.is_not(None)).order_by(Letter.seq))
    assert list(numbered) == [1, 2]  # the register: consecutive from 1
    text = pdf_text(receipt.pdf)
    assert "〔2026〕" not in text and "None" not in text
