"""Issue 10 item 4: every deadline is a clock. Step deadlines that touch an unentered year are
provisional like the reply deadline and recomputed, with a case event, when the year is entered;
a date already printed in an issued letter keeps its printed value. Every calendar revision is kept."""
from __future__ import annotations

import pytest

from app.domain.calendar import WorkCalendar
from app.models import CalendarRevision
from app.services import calendar as CalS
from app.services import letters as L
from app.services.errors import NotFound
from app.web.display import event_items
from tests.conftest import set_today, user
from tests.factories import act, d, events, register, reload, save_year

# Test data for a 2027 notice: 元旦 and, as its 调休, Mon 4 Jan off too (an unentered year cannot know).
HOLIDAYS_2027 = "2027-01-01,2027-01-04"


def _consulted_in_december():
    case = register(arrived_on="2026-12-10")
    act(case, "handler", "start")
    act(case, "handler", "consult", {"kind": "third_party", "party": "某建设公司", "matter": "拟公开的信息",
                                     "sent_on": "2026-12-11"})
    return reload(case)


@pytest.fixture
def december(app, ctx):
    set_today(app, "2026-12-11")
    return _consulted_in_december()


def test_a_step_deadline_into_an_unentered_year_is_provisional(december):
    step = december.steps[-1]
    # 15 working days from Fri 11 Dec: 14–18, 21–25, 28–31 Dec, then Mon 4 Jan (元旦 is a holiday by law).
    assert step.due_on == d("2027-01-04")
    assert (step.due_days, step.due_provisional, step.calendar_version) == (15, True, "2026r1,2027p")
    assert december.paused_until == step.due_on


def test_entering_the_year_recomputes_the_step_and_the_reply_due_date_follows(december):
    before_reply = december.reply_due
    save_year(user("sysadmin"), 2027, HOLIDAYS_2027, "", "国务院办公厅通知（测试数据）")
    case = reload(december)
    step = case.steps[-1]
    assert step.due_on == d("2027-01-05")  # 4 Jan is off too
    assert (step.due_provisional, step.calendar_version) == (False, "2026r1,2027r1")
    assert case.paused_until == d("2027-01-05")
    assert case.reply_due > before_reply and not case.due_provisional
    ev = [e for e in events(case.id) if e.action == "calendar_recompute"][-1]
    [change] = ev.data["steps"]
    assert (change["old_due"], change["new_due"], change["provisional"]) == ("2027-01-04", "2027-01-05", False)
    assert "printed_in" not in change
    assert ("环节期限", "征求第三方意见（某建设公司）：2027-01-04 → 2027-01-05") in event_items(ev)


def test_a_date_printed_in_an_issued_letter_keeps_its_value(december):
    step = december.steps[-1]
    letter = L.issue_notice(december.id, user("handler"), f"step-{step.id}", d("2026-12-11"))
    save_year(user("sysadmin"), 2027, HOLIDAYS_2027, "", "国务院办公厅通知（测试数据）")
    case = reload(december)
    step = case.steps[-1]
    assert step.due_on == d("2027-01-04")  # the third party was told 4 Jan
    assert step.printed_letter.id == letter.id
    ev = [e for e in events(case.id) if e.action == "calendar_recompute"][-1]
    [change] = ev.data["steps"]
    assert (change["old_due"], change["new_due"], change["computed_due"]) == ("2027-01-04", "2027-01-04",
                                                                            "2027-01-05")
    assert change["printed_in"] == letter.number_text
    assert ("环节期限", f"征求第三方意见（某建设公司）：保持2027-01-04（已载于文书 {letter.number_text}；"
                        "按新日历为2027-01-05）") in event_items(ev)


def test_a_date_entered_by_hand_is_not_recomputed(app, ctx):
    set_today(app, "2026-12-11")
    case = register(arrived_on="2026-12-10")
    act(case, "handler", "start")
    act(case, "handler", "request_reasons", {"matter": "请说明理由", "sent_on": "2026-12-11", "due_on": "2027-01-08"})
    step = reload(case).steps[-1]
    assert (step.due_days, step.due_provisional) == (None, False)
    save_year(user("sysadmin"), 2027, HOLIDAYS_2027, "", "测试")
    assert reload(case).steps[-1].due_on == d("2027-01-08")


def test_every_calendar_revision_is_kept_and_a_version_can_be_rebuilt(app, ctx):
    save_year(user("sysadmin"), 2027, "2027-01-01", "", "第一版")
    save_year(user("sysadmin"), 2027, HOLIDAYS_2027, "", "第二版")
    revs = [(r.year, r.revision) for r in CalS.db.session.scalars(
        CalS.db.select(CalendarRevision).where(CalendarRevision.year == 2027).order_by(CalendarRevision.revision))]
    assert revs == [(2027, 1), (2027, 2)]
    first = CalS.calendar_for_version("2026r1,2027r1")
    second = CalS.calendar_for_version("2026r1,2027r2")
    assert first.is_workday(d("2027-01-04")) and not second.is_workday(d("2027-01-04"))
    assert isinstance(CalS.calendar_for_version("2026r1,2027p"), WorkCalendar)
    with pytest.raises(NotFound):
        CalS.calendar_for_version("2027r9")
