"""Reply clocks through the services with real dates (2026 official calendar, OGI_TODAY pinned).

Expected dates are written out and were checked by hand against the 2026 schedule:
Mid-Autumn Fri 25 Sep, National Day 1–7 Oct, make-up working Saturday 10 Oct.
"""
from __future__ import annotations

from datetime import date

import pytest

from app.domain.outcomes import OUTCOME_BY_CODE
from app.extensions import db
from app.models import Event
from app.services import calendar as CalS
from app.services.calendar import load_calendar
from app.services.clocks import case_clock
from app.services.errors import ServiceError
from tests.conftest import set_today, user
from tests.factories import (act, build_case, d, events, fee_in_effect, register, reload, snapshot, to_correction,
                             save_year, to_handling, withdraw)


def _wd(a: str | date, b: str | date) -> int:
    a = d(a) if isinstance(a, str) else a
    b = d(b) if isinstance(b, str) else b
    return load_calendar().working_days_between(a, b)


# ------------------------------------------------------------------ the basic reply period

def test_reply_due_is_20_working_days_after_receipt_skipping_the_golden_week(app, ctx):
    set_today(app, "2026-09-28")
    case = register(arrived_on="2026-09-24")
    case = reload(case)
    assert case.received_on == d("2026-09-24")
    assert case.reply_due == d("2026-10-29")  # handbook §6 worked example
    assert _wd("2026-09-24", "2026-10-29") == 20
    assert (case.calendar_version, case.due_provisional) == ("2026r1", False)
    st = case_clock(case)
    assert (st.status, st.due, st.total_days) == ("running", d("2026-10-29"), 20)
    assert st.days_left == _wd("2026-09-28", "2026-10-29")
    assert events(case.id)[0].data["reply_due"] == "2026-10-29"


def test_reply_due_default_intake(app, ctx):
    case = register()  # handed in Mon 2026-11-02
    assert reload(case).reply_due == d("2026-11-30")


# ------------------------------------------------------------------ correction (Art. 30)

def test_correction_notice_must_go_out_within_7_working_days(app, ctx):
    # 7 working days from Thu 24 Sep: 28, 29, 30 Sep, 8, 9, 10 (make-up Sat), 12 Oct.
    set_today(app, "2026-10-13")
    case = register(arrived_on="2026-09-24")
    before = snapshot(case.id)
    with pytest.raises(ServiceError) as e:
        to_correction(case, notice_date="2026-10-13")
    assert e.value.field == "notice_date" and "2026-10-12" in e.value.message
    assert snapshot(case.id) == before
    with pytest.raises(ServiceError) as e:  # the default date is today, also too late
        act(case, "handler", "request_correction", {"items": "请明确信息名称"})
    assert e.value.field == "notice_date"
    assert snapshot(case.id) == before
    to_correction(case, notice_date="2026-10-12")
    case = reload(case)
    assert case.state == "correction"
    assert case.steps[-1].started_on == d("2026-10-12")


def test_correction_notice_only_once(app, ctx):
    case = register()
    to_correction(case)
    act(case, "handler", "receive_correction", {"received_on": "2026-11-10"})
    before = snapshot(case.id)
    with pytest.raises(ServiceError, match="一次"):
        to_correction(case, notice_date="2026-11-05")
    assert snapshot(case.id) == before


def test_correction_stops_the_clock_and_the_corrected_request_restarts_it(app, ctx):
    case = register()
    to_correction(case)  # notice 2026-11-04, default period 15 working days → 2026-11-25
    case = reload(case)
    assert case.steps[-1].due_on == d("2026-11-25")
    assert case.reply_due is None
    st = case_clock(case)
    assert st.status == "stopped" and st.due is None
    act(case, "clerk", "receive_correction", {"received_on": "2026-11-20", "note": "补充了文件名称"})
    case = reload(case)
    assert case.state == "handling"
    assert case.clock_start == d("2026-11-20")
    assert case.reply_due == d("2026-12-18")  # a fresh 20 working days from the corrected request
    assert _wd("2026-11-20", "2026-12-18") == 20
    assert events(case.id)[-1].data["clock_restarts"] == "2026-11-20"


def test_corrected_request_before_the_notice_is_refused(app, ctx):
    case = register()
    to_correction(case)
    before = snapshot(case.id)
    with pytest.raises(ServiceError) as e:
        act(case, "handler", "receive_correction", {"received_on": "2026-11-03"})
    assert e.value.field == "received_on"
    assert snapshot(case.id) == before


def test_correction_lapsed_only_after_the_period_end(app, ctx):
    case = register()
    to_correction(case)  # period ends 2026-11-25
    for today in ("2026-11-23", "2026-11-25"):
        set_today(app, today)
        before = snapshot(case.id)
        with pytest.raises(ServiceError, match="2026-11-25"):
            act(case, "handler", "correction_lapsed")
        assert snapshot(case.id) == before
    set_today(app, "2026-11-26")
    act(case, "handler", "correction_lapsed")
    case = reload(case)
    assert (case.state, case.outcome_code, case.closed_on) == ("closed", "correction_lapsed", d("2026-11-26"))
    assert OUTCOME_BY_CODE[case.outcome_code].row == "三(六)1"
    assert case.steps[-1].result == "lapsed"


def test_correction_period_chosen_in_the_notice_is_used(app, ctx):
    case = register()
    to_correction(case, period_end="2026-11-18")
    set_today(app, "2026-11-19")
    act(case, "handler", "correction_lapsed")
    assert reload(case).outcome_code == "correction_lapsed"


def test_correction_period_must_end_after_the_notice(app, ctx):
    case = register()
    before = snapshot(case.id)
    with pytest.raises(ServiceError) as e:
        to_correction(case, period_end="2026-11-04")
    assert e.value.field == "period_end"
    assert snapshot(case.id) == before


# ------------------------------------------------------------------ consultations (Arts. 32–34)

def _consult(case, kind: str, sent: str, party: str = "某建设公司"):
    act(case, "handler", "consult", {"kind": kind, "party": party, "matter": "拟公开信息涉及其权益",
                                     "sent_on": sent})
    return reload(case).steps[-1]


def _reply(case, step_id: int, result: str, on: str | None = None, **extra):
    params = {"step_id": step_id, "result": result, **extra}
    if on:
        params["answered_on"] = on
    return act(case, "handler", "consultation_reply", params)


def test_overlapping_consultations_pause_the_clock_once(app, ctx):
    set_today(app, "2026-11-10")
    case = register()
    to_handling(case)
    third = _consult(case, "third_party", "2026-11-03", "某建设公司")
    agency = _consult(case, "agency", "2026-11-05", "示范市住房和城乡建设局")
    assert (third.due_on, agency.due_on) == (d("2026-11-24"), d("2026-11-26"))
    # Issue 10: the stored due date assumes both run their full period (paused 3–26 Nov).
    case = reload(case)
    assert (case.reply_due, case.paused_until) == (d("2026-12-24"), d("2026-11-26"))
    _reply(case, agency.id, "agree", "2026-11-06")
    case = reload(case)
    # The third party is still being consulted: paused 3–24 Nov (16 working days) if it uses its period.
    assert (case.reply_due, case.paused_until) == (d("2026-12-22"), d("2026-11-24"))
    st = case_clock(case)
    assert st.status == "paused" and "consultation_third_party" in st.paused_reasons
    _reply(case, third.id, "agree", "2026-11-09")
    case = reload(case)
    # Paused 3–9 Nov (union of 3–9 and 5–6): 5 working days, not 5 + 2.
    assert _wd("2026-11-02", "2026-11-09") == 5
    assert case.reply_due == d("2026-12-07")
    assert _wd("2026-11-30", "2026-12-07") == 5
    assert case_clock(case).status == "running"


def test_consultation_no_answer_is_refused_before_the_period_ends(app, ctx):
    set_today(app, "2026-11-03")
    case = register()
    to_handling(case)
    step = _consult(case, "third_party", "2026-11-03")
    assert step.due_on == d("2026-11-24")  # 15 working days from receipt of the letter
    set_today(app, "2026-11-24")
    before = snapshot(case.id)
    with pytest.raises(ServiceError) as e:
        _reply(case, step.id, "no_answer")
    assert e.value.field == "result" and "2026-11-24" in e.value.message
    assert snapshot(case.id) == before


def test_consultation_no_answer_ends_the_pause_on_the_due_date(app, ctx):
    set_today(app, "2026-11-03")
    case = register()
    to_handling(case)
    step = _consult(case, "third_party", "2026-11-03")
    set_today(app, "2026-11-27")
    # The pause ends by itself when the period lapses, even before anyone records it.
    assert case_clock(reload(case)).due == d("2026-12-22")
    _reply(case, step.id, "no_answer", "2026-11-27")
    case = reload(case)
    s = case.steps[-1]
    assert (s.result, s.answered_on) == ("no_answer", d("2026-11-24"))
    # Paused 3–24 Nov = 16 working days: 30 Nov + 16 working days.
    assert _wd("2026-11-02", "2026-11-24") == 16
    assert case.reply_due == d("2026-12-22")
    assert _wd("2026-11-30", "2026-12-22") == 16
    assert "第三十二条" in s.details["effect"]


def test_agency_silence_is_deemed_consent(app, ctx):
    set_today(app, "2026-11-03")
    case = register()
    to_handling(case)
    step = _consult(case, "agency", "2026-11-03", "示范市发展和改革委员会")
    set_today(app, "2026-11-25")
    _reply(case, step.id, "no_answer")
    case = reload(case)
    s = case.steps[-1]
    assert s.details["effect"] == "视为同意公开（第三十四条）"
    assert events(case.id)[-1].data["effect"] == "视为同意公开（第三十四条）"


def test_consultation_reply_on_a_closed_step_is_refused(app, ctx):
    set_today(app, "2026-11-10")
    case = register()
    to_handling(case)
    step = _consult(case, "agency", "2026-11-03", "示范市发展和改革委员会")
    _reply(case, step.id, "agree", "2026-11-05")
    # Another consultation keeps the guard satisfied; the closed step itself must still be refused.
    _consult(case, "third_party", "2026-11-06")
    before = snapshot(case.id)
    with pytest.raises(ServiceError) as e:
        _reply(case, step.id, "object", "2026-11-09")
    assert e.value.field == "step_id"
    assert snapshot(case.id) == before


def test_public_interest_override_rules(app, ctx):
    set_today(app, "2026-11-10")
    case = register()
    to_handling(case)
    agency = _consult(case, "agency", "2026-11-03", "示范市发展和改革委员会")
    third = _consult(case, "third_party", "2026-11-03", "某建设公司")
    before = snapshot(case.id)
    # Only a third party's objection can be overridden.
    for step_id, result in ((agency.id, "object"), (third.id, "agree")):
        with pytest.raises(ServiceError) as e:
            _reply(case, step_id, result, "2026-11-05", public_interest_override="y", override_reason="重大公共利益")
        assert e.value.field == "public_interest_override"
        assert snapshot(case.id) == before
    with pytest.raises(ServiceError) as e:
        _reply(case, third.id, "object", "2026-11-05", public_interest_override="y")
    assert e.value.field == "override_reason"
    assert snapshot(case.id) == before
    _reply(case, third.id, "object", "2026-11-05", opinion="涉及商业秘密", public_interest_override="y",
           override_reason="涉及公共安全，不公开可能对公共利益造成重大影响")
    s = next(x for x in reload(case).steps if x.id == third.id)
    assert s.result == "object"
    assert s.details["public_interest_override"] is True
    assert "公共利益" in s.details["override_reason"]
    assert events(case.id)[-1].data["public_interest_override"] is True


# ------------------------------------------------------------------ fees (109号)

@pytest.mark.parametrize("params,amount", [
    ({"method": "per_request", "nth_in_month": 11}, 100),
    ({"method": "per_request", "nth_in_month": 31}, 200),
    ({"method": "per_volume", "pages": 31}, 10),
    ({"method": "per_volume", "pages": 101}, 720),
])
def test_fee_notice_amount(app, ctx, params, amount):
    case = build_case("handling")
    act(case, "handler", "fee_notice", params)
    s = reload(case).steps[-1]
    assert (s.kind, s.details["amount"]) == ("fee", amount)
    assert events(case.id)[-1].data["amount"] == amount


@pytest.mark.parametrize("params", [{"method": "per_request", "nth_in_month": 10},
                                    {"method": "per_volume", "pages": 30}])
def test_free_request_gets_no_fee_notice(app, ctx, params):
    case = build_case("handling")
    before = snapshot(case.id)
    with pytest.raises(ServiceError) as e:
        act(case, "handler", "fee_notice", params)
    assert e.value.field == "method" and "免费" in e.value.message
    assert snapshot(case.id) == before


def test_fee_lapsed_only_after_20_working_days_from_service(app, ctx):
    case = build_case("handling")
    fee_in_effect(case, {"method": "per_request", "nth_in_month": 15}, on="2026-11-04")
    s = reload(case).steps[-1]
    assert s.due_on == d("2026-12-02") and _wd("2026-11-04", "2026-12-02") == 20
    for today in ("2026-11-23", "2026-12-02"):
        set_today(app, today)
        before = snapshot(case.id)
        with pytest.raises(ServiceError, match="2026-12-02"):
            act(case, "handler", "fee_lapsed")
        assert snapshot(case.id) == before
    set_today(app, "2026-12-03")
    act(case, "handler", "fee_lapsed")
    case = reload(case)
    assert (case.state, case.outcome_code, case.closed_on) == ("closed", "fee_unpaid", d("2026-12-03"))
    assert OUTCOME_BY_CODE["fee_unpaid"].row == "三(六)2"
    assert case.steps[-1].result == "lapsed"


def test_fee_lapsed_without_a_notice_is_refused(app, ctx):
    case = build_case("handling")
    before = snapshot(case.id)
    with pytest.raises(ServiceError, match="收费通知"):
        act(case, "handler", "fee_lapsed")
    assert snapshot(case.id) == before


def test_fee_pauses_the_clock_and_payment_resumes_it(app, ctx):
    case = build_case("handling")
    case = fee_in_effect(case, {"method": "per_volume", "pages": 50}, on="2026-11-04")
    # Issue 10: stored as if the applicant pays on the last day (paused 4 Nov – 2 Dec, the notice
    # issued and served on 4 Nov).
    assert (case.reply_due, case.paused_until) == (d("2026-12-29"), d("2026-12-02"))
    st = case_clock(case)
    assert st.status == "paused" and st.paused_reasons == ("fee",) and st.due == case.reply_due
    act(case, "handler", "save_draft", {"outcome": "disclose", "obtain": "邮寄"})
    before = snapshot(case.id)
    with pytest.raises(ServiceError, match="缴费"):  # the draft cannot go to review while unpaid
        act(case, "handler", "submit_draft")
    assert snapshot(case.id) == before
    act(case, "clerk", "fee_paid", {"paid_on": "2026-11-10", "receipt_no": "非税收入票据0001"})
    case = reload(case)
    # Paused 4–10 Nov = 5 working days.
    assert case.reply_due == d("2026-12-07")
    assert _wd("2026-11-30", "2026-12-07") == 5
    assert case_clock(case).status == "running"


def test_fee_paid_before_the_notice_is_refused(app, ctx):
    case = build_case("handling")
    fee_in_effect(case, {"method": "per_volume", "pages": 50}, on="2026-11-04")
    before = snapshot(case.id)
    with pytest.raises(ServiceError) as e:
        act(case, "clerk", "fee_paid", {"paid_on": "2026-11-03", "receipt_no": "X1"})
    assert e.value.field == "paid_on"
    assert snapshot(case.id) == before


# ------------------------------------------------------------------ Art. 35 reasons

def test_reasons_request_pauses_and_reasonable_reply_sets_the_new_due(app, ctx):
    case = build_case("handling")
    act(case, "handler", "request_reasons", {"matter": "一个月内提出40件申请，请说明理由", "sent_on": "2026-11-05"})
    case = reload(case)
    assert case.steps[-1].due_on == d("2026-11-26")  # default 15 working days
    assert case.reply_due == d("2026-12-22") and case_clock(case).status == "paused"  # issue 10: stored
    before = snapshot(case.id)
    with pytest.raises(ServiceError) as e:
        act(case, "handler", "reasons_reply", {"result": "unreasonable", "new_due": "2026-12-31"})
    assert e.value.field == "new_due"
    assert snapshot(case.id) == before
    act(case, "handler", "reasons_reply", {"result": "reasonable", "answered_on": "2026-11-20",
                                           "new_due": "2026-12-31", "note": "系课题研究需要"})
    case = reload(case)
    assert case.override_due == d("2026-12-31")
    assert case.reply_due == d("2026-12-31")
    assert case_clock(case).due == d("2026-12-31")


def test_reasons_reply_without_new_due_resumes_with_the_pause_excluded(app, ctx):
    case = build_case("handling")
    act(case, "handler", "request_reasons", {"matter": "请说明理由", "sent_on": "2026-11-05"})
    act(case, "handler", "reasons_reply", {"result": "unreasonable", "answered_on": "2026-11-06"})
    case = reload(case)
    assert case.override_due is None
    assert case.reply_due == d("2026-12-02")  # paused 5–6 Nov: 2 working days
    assert _wd("2026-11-30", "2026-12-02") == 2


# ------------------------------------------------------------------ extension (Art. 33)

def test_extension_rules(app, ctx):
    case = build_case("handling")
    assert reload(case).reply_due == d("2026-11-30")
    before = snapshot(case.id)
    with pytest.raises(ServiceError, match="负责人"):
        act(case, "handler", "extend", {"days": 5, "reason": "检索量大"})
    assert snapshot(case.id) == before
    for bad in (0, 21, -1):
        with pytest.raises(ServiceError) as e:
            act(case, "head", "extend", {"days": bad, "reason": "检索量大"})
        assert e.value.field == "days", bad
        assert snapshot(case.id) == before
    with pytest.raises(ServiceError) as e:
        act(case, "head", "extend", {"days": 5})
    assert e.value.field == "reason"
    act(case, "head", "extend", {"days": 5, "reason": "需调取档案"})
    case = reload(case)
    assert case.extension_days == 5
    assert case.reply_due == d("2026-12-07") and _wd("2026-11-30", "2026-12-07") == 5
    ev = events(case.id)[-1]
    assert ev.data["old_due"] == "2026-11-30" and ev.data["reply_due"] == "2026-12-07"
    before = snapshot(case.id)
    with pytest.raises(ServiceError, match="一次"):
        act(case, "head", "extend", {"days": 3, "reason": "再延"})
    assert snapshot(case.id) == before


@pytest.mark.parametrize("days", [1, 20])
def test_extension_bounds_are_inclusive(app, ctx, days):
    case = build_case("handling")
    act(case, "head", "extend", {"days": days, "reason": "需调取档案"})
    case = reload(case)
    assert case.extension_days == days
    assert _wd("2026-11-30", case.reply_due) == days


def test_extension_refused_after_the_due_date(app, ctx):
    case = build_case("handling")
    set_today(app, "2026-11-30")
    act(case, "head", "extend", {"days": 1, "reason": "最后一天批准"})  # on the due date itself: allowed
    other = build_case("handling")
    set_today(app, "2026-12-01")
    before = snapshot(other.id)
    with pytest.raises(ServiceError, match="2026-11-30"):
        act(other, "head", "extend", {"days": 5, "reason": "检索量大"})
    assert snapshot(other.id) == before


def test_extension_refused_while_paused(app, ctx):
    case = build_case("handling")
    _consult(case, "third_party", "2026-11-20")
    before = snapshot(case.id)
    with pytest.raises(ServiceError, match="暂停"):
        act(case, "head", "extend", {"days": 5, "reason": "检索量大"})
    assert snapshot(case.id) == before


def test_extension_after_a_pause_adds_to_the_moved_due(app, ctx):
    case = build_case("handling")
    fee_in_effect(case, {"method": "per_volume", "pages": 50}, on="2026-11-04")
    act(case, "clerk", "fee_paid", {"paid_on": "2026-11-10", "receipt_no": "R1"})
    assert reload(case).reply_due == d("2026-12-07")
    act(case, "head", "extend", {"days": 10, "reason": "需调取档案"})
    case = reload(case)
    assert _wd("2026-12-07", case.reply_due) == 10
    assert case.reply_due == d("2026-12-21")


# ------------------------------------------------------------------ calendar years (handbook §8.2)

def test_deadline_into_an_unconfirmed_year_is_provisional_and_entering_the_year_recomputes(app, ctx):
    set_today(app, "2026-12-11")
    open_case = register(arrived_on="2026-12-10")
    closed_case = register(arrived_on="2026-12-10", applicant_name="李四")
    withdraw(closed_case)
    untouched = register(arrived_on="2026-11-02", applicant_name="王五")
    open_case, closed_case = reload(open_case), reload(closed_case)
    # Issue 10: an unentered 2027 still counts 元旦 (1 Jan) as a holiday; only 调休 is unknown:
    # 11, 14–18, 21–25, 28–31 Dec, 4–8 Jan.
    assert open_case.reply_due == d("2027-01-08")
    assert (open_case.due_provisional, open_case.calendar_version) == (True, "2026r1,2027p")
    st = case_clock(open_case)
    assert st.provisional and st.as_dict()["provisional"] is True
    assert events(open_case.id)[0].data["provisional"] is True
    closed_before = snapshot(closed_case.id)
    untouched_before = snapshot(untouched.id)

    with pytest.raises(ServiceError):
        CalS.save_year(user("clerk"), 2027, "2027-01-01", "", "国务院办公厅通知")
    # Test data: a notice that also gives Mon 4 Jan off (a 调休 the provisional year cannot know).
    row, changed = save_year(user("sysadmin"), 2027, "2027-01-01,2027-01-04", "",
                                  "国务院办公厅关于2027年部分节假日安排的通知（测试数据）")
    assert changed == 1
    open_case = reload(open_case)
    assert open_case.reply_due == d("2027-01-11")  # 4 Jan is no longer counted
    assert (open_case.due_provisional, open_case.calendar_version) == (False, "2026r1,2027r1")
    ev = [e for e in events(open_case.id) if e.action == "calendar_recompute"]
    assert len(ev) == 1
    assert ev[0].from_state == ev[0].to_state == "registered"
    assert ev[0].actor_id == user("sysadmin").id
    assert (ev[0].data["old_due"], ev[0].data["new_due"]) == ("2027-01-08", "2027-01-11")
    assert (ev[0].data["old_calendar_version"], ev[0].data["new_calendar_version"]) == ("2026r1,2027p",
                                                                                       "2026r1,2027r1")
    assert ev[0].data["provisional"] is False
    assert snapshot(closed_case.id) == closed_before
    assert not [e for e in events(closed_case.id) if e.action == "calendar_recompute"]
    assert snapshot(untouched.id) == untouched_before  # its deadline does not touch 2027
    assert db.session.scalar(db.select(db.func.count()).select_from(Event)
                             .where(Event.action == "calendar_recompute")) == 1


def test_recompute_keeps_a_paused_case_paused(app, ctx):
    set_today(app, "2026-12-11")
    case = register(arrived_on="2026-12-10")
    to_handling(case)
    _consult(case, "agency", "2026-12-11", "示范市财政局")
    before = snapshot(case.id)
    # Issue 10: stored, assuming the full 15 days (to Mon 4 Jan: 元旦 is a holiday even unentered).
    assert before["reply_due"] == d("2027-02-01")
    save_year(user("sysadmin"), 2027, "2027-01-01", "", "测试")
    case = reload(case)
    assert case.state == "handling" and case.reply_due == d("2027-02-01") and not case.due_provisional
    st = case_clock(case)
    assert st.status == "paused" and st.provisional is False


def test_late_consultation_answer_does_not_stretch_the_pause(app, ctx):
    set_today(app, "2026-11-03")
    case = register()
    to_handling(case)
    step = _consult(case, "third_party", "2026-11-03")
    set_today(app, "2026-11-27")
    _reply(case, step.id, "object", "2026-11-26", opinion="迟到的意见")
    case = reload(case)
    assert case.steps[-1].answered_on == d("2026-11-26")
    # The pause ends when the 15-day period lapsed (24 Nov), as if no answer had come.
    assert case.reply_due == d("2026-12-22")
