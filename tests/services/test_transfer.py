"""分办 (issue 16 item 1): a registered request handed to the agency that answers it keeps its
receipt date, clock, number and history, is told to the applicant in a letter issued by the
sending agency, and is counted once in the annual report, where it is answered."""
from __future__ import annotations

import io

import pypdfium2 as pdfium
import pytest

from app.extensions import db
from app.models import CaseTransfer, Event
from app.reports import annual
from app.services import transfer as T
from app.services.errors import NotFound, ServiceError
from app.services.worklist import my_work
from tests.conftest import user
from tests.factories import act, build_case, other_agency, register, reload, snapshot

REASON = "申请公开的信息由该局制作并保存"


def pdf_text(data: bytes) -> str:
    doc = pdfium.PdfDocument(io.BytesIO(data))
    return "".join(doc[i].get_textpage().get_text_range() for i in range(len(doc))).replace("\r", "").replace("\n", "").replace(" ", "")


def _transfer(case, to, by="clerk", **over):
    return act(case, by, "transfer", {"agency_id": to.id, "reason": REASON, "transferred_on": "2026-11-04", **over})


def test_transfer_moves_the_case_and_keeps_receipt_clock_number_and_history(app, ctx):
    to, to_users = other_agency("JY")
    case = register()
    act(case, "clerk", "assign", {"handler_id": user("handler").id})
    before = reload(case)
    received, start, due, number = before.received_on, before.clock_start, before.reply_due, before.number
    n_events = len(before.events)
    _transfer(case, to)
    case = reload(case)
    assert case.agency_id == to.id and case.state == "registered" and case.handler_id is None
    assert (case.received_on, case.clock_start, case.reply_due, case.number) == (received, start, due, number)
    events = db.session.scalars(db.select(Event).where(Event.case_id == case.id).order_by(Event.id)).all()
    assert len(events) == n_events + 1 and [e.action for e in events][:2] == ["register", "assign"]
    assert events[-1].action == "transfer" and events[-1].data["from_agency"] == user("clerk").agency.name
    t = db.session.scalar(db.select(CaseTransfer).where(CaseTransfer.case_id == case.id))
    assert (t.from_agency_id, t.to_agency_id, t.reason, t.number) == (user("clerk").agency_id, to.id, REASON, number)
    # The letter is the sending agency's, numbered by it, and tells the applicant who answers.
    letter = t.letter
    assert letter.agency_id == user("clerk").agency_id and letter.key == "transfer_notice" and letter.number
    text = pdf_text(letter.pdf)
    for words in ("分办告知书", "JY测试机关负责答复", "2026年11月4日", "答复期限自本机关收到申请之日起计算",
                  user("clerk").agency.name, number):
        assert words in text, words
    # The sending agency no longer opens the case; the answering agency does, and can work on it.
    with pytest.raises(NotFound):
        act(case, "clerk", "assign", {"handler_id": user("handler").id})
    act(case, to_users["clerk"], "assign", {"handler_id": to_users["handler"].id})
    assert reload(case).handler_id == to_users["handler"].id


def test_who_may_transfer_what_and_to_whom(app, ctx):
    to, _ = other_agency("JY")
    case = register()
    for who, message in (("handler", "只能由登记员、负责人办理"), ("legal", "只能由登记员、负责人办理")):
        with pytest.raises(ServiceError, match=message):
            _transfer(case, to, by=who)
    before = snapshot(case.id)
    with pytest.raises(ServiceError, match="不能分办给本机关"):
        act(case, "clerk", "transfer", {"agency_id": user("clerk").agency_id, "reason": REASON})
    with pytest.raises(ServiceError, match="答复机关无效"):
        act(case, "clerk", "transfer", {"agency_id": 999999, "reason": REASON})
    with pytest.raises(ServiceError, match="分办理由"):
        act(case, "clerk", "transfer", {"agency_id": to.id, "reason": " "})
    with pytest.raises(ServiceError, match="分办日期不能早于收到申请日期"):
        _transfer(case, to, transferred_on="2026-10-01")
    assert snapshot(case.id) == before
    assert db.session.scalar(db.select(db.func.count(CaseTransfer.id))) == 0
    # Once handling has started the receiving agency answers itself (or asks for 协办).
    handling = build_case("handling")
    with pytest.raises(ServiceError, match="不能分派|不能分办"):
        _transfer(handling, to, by="head")
    assert [a.id for a in T.targets(user("clerk"))] == [to.id]


def test_answering_agency_sees_it_until_assigned_and_sender_keeps_a_record(app, ctx):
    to, to_users = other_agency("JY")
    case = _transfer(register(), to, by="head")
    sec = next(s for s in my_work(to_users["clerk"]) if s.key == "transferred")
    assert [it.case.number for it in sec.items] == [case.number] and sec.total == 1
    assert [s for s in my_work(user("clerk")) if s.key == "transferred"] == []
    [t] = T.sent(user("clerk"))
    assert t.case_id == case.id and t.to_agency.name == "JY 测试机关"
    assert T.sent(to_users["clerk"]) == []
    with pytest.raises(NotFound):
        T.sent_record(to_users["clerk"], t.id)
    act(case, to_users["head"], "assign", {"handler_id": to_users["handler"].id})
    assert [s for s in my_work(to_users["clerk"]) if s.key == "transferred"] == []


def test_annual_report_counts_a_transferred_request_once_where_it_is_answered(app, ctx):
    to, to_users = other_agency("JY")
    home = user("clerk").agency_id
    register()
    case = register()
    assert annual.compute(home, 2026).table3["一"]["total"] == 2
    assert annual.compute(to.id, 2026).table3["一"]["total"] == 0
    _transfer(case, to)
    assert annual.compute(home, 2026).table3["一"]["total"] == 1
    assert annual.compute(to.id, 2026).table3["一"]["total"] == 1
