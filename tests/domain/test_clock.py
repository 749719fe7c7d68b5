"""The reply clock (Arts. 30, 32–35; handbook §1.5, §8.1–8.6) on real 2026 dates."""
from __future__ import annotations

from datetime import date

import pytest

from app.domain.clock import (
    ClockInput,
    Pause,
    format_cn_date,
    reply_clock,
)

D = date
START = D(2026, 3, 2)  # Monday; plain 20-working-day deadline is Mon 30 Mar 2026
START_DUE = D(2026, 3, 30)


def test_plain_reply_deadline_is_20_working_days_after_receipt(cal):
    st = reply_clock(cal, ClockInput(start=D(2026, 9, 24)), today=D(2026, 9, 24))
    assert st.due == D(2026, 10, 29)
    assert st.total_days == 20
    assert st.days_left == 20
    assert st.status == "running"
    assert st.provisional is False and st.calendar_version == "2026r1"


@pytest.mark.parametrize("today,status,left", [
    (D(2026, 9, 24), "running", 20),
    (D(2026, 10, 9), "running", 15),  # 10, 12–16, 19–23, 26–29 Oct
    (D(2026, 10, 23), "running", 4),  # 26, 27, 28, 29 Oct
    (D(2026, 10, 26), "due_soon", 3),  # 27, 28, 29 Oct
    (D(2026, 10, 28), "due_soon", 1),
    (D(2026, 10, 29), "due_soon", 0),  # the due day itself
    (D(2026, 10, 30), "overdue", -1),
    (D(2026, 11, 2), "overdue", -2),
])
def test_status_running_due_soon_overdue_with_days_left(cal, today, status, left):
    st = reply_clock(cal, ClockInput(start=D(2026, 9, 24)), today=today)
    assert st.due == D(2026, 10, 29)
    assert (st.status, st.days_left) == (status, left)


def test_third_party_consultation_pause_excludes_sent_and_answered_days(cal):
    # Letter sent Thu 5 Mar, answer arrived Wed 11 Mar: 5, 6, 9, 10, 11 Mar = 5 working days paused.
    pause = Pause("consultation_third_party", D(2026, 3, 5), D(2026, 3, 11))
    st = reply_clock(cal, ClockInput(start=START, pauses=(pause,)), today=D(2026, 3, 12))
    assert st.due == D(2026, 4, 7)  # Apr 6 is Qingming
    paused_days = cal.working_days_between(D(2026, 3, 4), D(2026, 3, 11))
    assert paused_days == 5
    assert st.due == cal.add_working_days(START_DUE, paused_days).due  # moved by exactly the paused days
    assert st.status == "running"
    assert st.days_left == cal.working_days_between(D(2026, 3, 12), D(2026, 4, 7))


def test_one_day_consultation_pause_moves_deadline_by_one_working_day(cal):
    pause = Pause("consultation_agency", D(2026, 3, 5), D(2026, 3, 5))  # sent and answered the same day
    st = reply_clock(cal, ClockInput(start=START, pauses=(pause,)), today=D(2026, 3, 6))
    assert st.due == D(2026, 3, 31)


def test_two_overlapping_consultations_pause_for_their_union_not_double(cal):
    a = Pause("consultation_third_party", D(2026, 3, 5), D(2026, 3, 11))
    b = Pause("consultation_agency", D(2026, 3, 9), D(2026, 3, 13))
    # Union 5–13 Mar = 7 working days (sum of both would be 10).
    st = reply_clock(cal, ClockInput(start=START, pauses=(a, b)), today=D(2026, 3, 16))
    assert st.due == D(2026, 4, 9)
    assert st.due == cal.add_working_days(START_DUE, 7).due
    assert st.due != cal.add_working_days(START_DUE, 10).due


def test_open_consultation_pauses_clock_with_due_date_assuming_the_full_period(cal):
    # Issue 10: the due date no longer depends on today. While the consultation is open it is the
    # date that holds if the third party uses its whole period (the pause runs to 26 Mar).
    pause = Pause("consultation_third_party", D(2026, 3, 5), limit=D(2026, 3, 26))
    st = reply_clock(cal, ClockInput(start=START, pauses=(pause,)), today=D(2026, 3, 12))
    assert st.status == "paused"
    assert st.status_label == "暂停计时"
    assert st.due == D(2026, 4, 22)
    assert st.paused_until == D(2026, 3, 26)
    lapsed = reply_clock(cal, ClockInput(start=START, pauses=(pause,)), today=D(2026, 3, 27))
    assert (lapsed.status, lapsed.due, lapsed.paused_until) == ("running", D(2026, 4, 22), None)
    assert st.days_left == 18  # only 3 and 4 Mar used
    assert st.paused_reasons == ("consultation_third_party",)
    assert st.as_dict()["paused_reasons"] == ["征求第三方意见"]


def test_open_pause_still_paused_on_its_limit_day(cal):
    pause = Pause("consultation_third_party", D(2026, 3, 5), limit=D(2026, 3, 26))
    st = reply_clock(cal, ClockInput(start=START, pauses=(pause,)), today=D(2026, 3, 26))
    assert st.status == "paused"
    assert st.days_left == 18


def test_open_pause_whose_limit_lapsed_ends_on_its_limit(cal):
    # Third party silent: the 15-day period ended Thu 26 Mar, so the pause covers 5–26 Mar (16 working days).
    pause = Pause("consultation_third_party", D(2026, 3, 5), limit=D(2026, 3, 26))
    st = reply_clock(cal, ClockInput(start=START, pauses=(pause,)), today=D(2026, 4, 1))
    assert st.status == "running"
    assert st.due == D(2026, 4, 22)
    assert st.due == cal.add_working_days(START_DUE, 16).due
    closed = Pause("consultation_third_party", D(2026, 3, 5), D(2026, 3, 26))
    assert reply_clock(cal, ClockInput(start=START, pauses=(closed,)), today=D(2026, 4, 1)).due == st.due


def test_correction_restarts_clock_with_fresh_20_days_from_corrected_receipt(cal):
    original = reply_clock(cal, ClockInput(start=D(2026, 2, 10)), today=D(2026, 2, 12))
    assert original.due == D(2026, 3, 16)
    # Corrected request received Mon 2 Mar: a full 20 working days again, nothing carried over.
    restarted = reply_clock(cal, ClockInput(start=D(2026, 3, 2)), today=D(2026, 3, 2))
    assert restarted.due == D(2026, 3, 30)
    assert restarted.days_left == 20


def test_correction_pending_stops_clock(cal):
    st = reply_clock(cal, ClockInput(start=D(2026, 2, 10), stopped_reason="等待补正"), today=D(2026, 2, 26))
    assert st.status == "stopped"
    assert st.status_label == "停止计时"
    assert st.due is None and st.days_left is None
    assert st.stopped_reason == "等待补正"


def test_extension_adds_20_working_days(cal):
    st = reply_clock(cal, ClockInput(start=D(2026, 9, 24), extension_days=20), today=D(2026, 10, 30))
    assert st.due == D(2026, 11, 26)
    assert st.total_days == 40
    assert st.status == "running"
    assert st.days_left == 19


def test_override_due_sets_reasonable_delayed_reply_period(cal):
    # Art. 35: a reasonable delayed reply period replaces the 20-day deadline.
    st = reply_clock(cal, ClockInput(start=START, override_due=D(2026, 6, 30)), today=D(2026, 6, 18))
    assert st.due == D(2026, 6, 30)
    assert st.status == "running"
    assert st.days_left == 7  # 19 Jun is Dragon Boat: 22–26, 29, 30 Jun
    assert st.calendar_version == "2026r1" and st.provisional is False
    late = reply_clock(cal, ClockInput(start=START, override_due=D(2026, 6, 30)), today=D(2026, 7, 1))
    assert late.status == "overdue" and late.days_left == -1


def test_deadline_crossing_into_2027_is_flagged_provisional(cal):
    st = reply_clock(cal, ClockInput(start=D(2026, 12, 10)), today=D(2026, 12, 10))
    assert st.due == D(2027, 1, 8)  # issue 10: 元旦 counts as a holiday in the unentered year
    assert st.provisional is True
    assert st.calendar_version == "2026r1,2027p"
    d = st.as_dict()
    assert d["provisional"] is True and d["due"] == "2027-01-08" and d["calendar_version"] == "2026r1,2027p"
    inside = reply_clock(cal, ClockInput(start=D(2026, 11, 2)), today=D(2026, 11, 2))
    assert inside.due == D(2026, 11, 30) and inside.provisional is False


def test_format_cn_date_has_no_leading_zeros():
    assert format_cn_date(D(2026, 1, 4)) == "2026年1月4日"
    assert format_cn_date(D(2026, 11, 22)) == "2026年11月22日"


def test_late_answer_does_not_extend_pause_beyond_its_lapsed_limit(cal):
    # Handbook §8.5: the pause runs from the day the letter is sent to the day the answer arrives
    # *or its period lapses*. The third party's 15 days ended 26 Mar; its answer came on 2 Apr.
    lapsed = Pause("consultation_third_party", D(2026, 3, 5), limit=D(2026, 3, 26))
    before = reply_clock(cal, ClockInput(start=START, pauses=(lapsed,)), today=D(2026, 4, 2))
    assert before.due == D(2026, 4, 22)
    answered_late = Pause("consultation_third_party", D(2026, 3, 5), D(2026, 4, 2), limit=D(2026, 3, 26))
    after = reply_clock(cal, ClockInput(start=START, pauses=(answered_late,)), today=D(2026, 4, 2))
    assert after.due == before.due
