"""Working-day calendar (handbook §6, §8.1, §8.2) checked against real State Council schedules."""
from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
import pytest

from app.domain.calendar import (DaySet, WorkCalendar, YearSchedule, provisional_schedule, schedule_from_chinese_calendar,
                                 statutory_holidays)

from .support import build_calendar

D = date
ORACLE_LAST_DAY = D(2026, 12, 31)  # chinesecalendar 1.11.0 has no data for 2027


def days(first: date, last: date):
    d = first
    while d <= last:
        yield d
        d += timedelta(days=1)


def oracle_add(start: date, n: int) -> date | None:
    """Brute force with chinesecalendar's own is_workday; None if the answer would leave 2019–2026."""
    d, counted = start, 0
    while counted < n:
        d += timedelta(days=1)
        if d > ORACLE_LAST_DAY:
            return None
        if chinese_calendar.is_workday(d):
            counted += 1
    return d


def oracle_between(start: date, end: date) -> int:
    return sum(1 for d in days(start + timedelta(days=1), end) if chinese_calendar.is_workday(d))


# --------------------------------------------------------------------------- holidays and make-up days


def test_spring_festival_2025_days_off_and_makeup_days(cal):
    for d in days(D(2025, 1, 28), D(2025, 2, 4)):
        assert not cal.is_workday(d), d
    assert cal.is_workday(D(2025, 1, 26))  # Sunday worked
    assert cal.is_workday(D(2025, 2, 8))  # Saturday worked
    assert cal.is_workday(D(2025, 1, 27)) and cal.is_workday(D(2025, 2, 5))
    assert not cal.is_workday(D(2025, 1, 25)) and not cal.is_workday(D(2025, 2, 9))


def test_spring_festival_2026_days_off_and_makeup_days(cal):
    for d in days(D(2026, 2, 15), D(2026, 2, 23)):
        assert not cal.is_workday(d), d
    assert cal.is_workday(D(2026, 2, 14))  # Saturday worked
    assert cal.is_workday(D(2026, 2, 28))  # Saturday worked
    assert cal.is_workday(D(2026, 2, 13)) and cal.is_workday(D(2026, 2, 24))
    assert not cal.is_workday(D(2026, 3, 1))  # ordinary Sunday


def test_national_day_2025_days_off_and_makeup_days(cal):
    for d in days(D(2025, 10, 1), D(2025, 10, 8)):
        assert not cal.is_workday(d), d
    assert cal.is_workday(D(2025, 9, 28))  # Sunday worked
    assert cal.is_workday(D(2025, 10, 11))  # Saturday worked
    assert cal.is_workday(D(2025, 9, 30)) and cal.is_workday(D(2025, 10, 9))
    assert not cal.is_workday(D(2025, 10, 12))


def test_national_day_2026_with_makeup_saturday_10_october_counted(cal):
    for d in days(D(2026, 10, 1), D(2026, 10, 7)):
        assert not cal.is_workday(d), d
    assert not cal.is_workday(D(2026, 9, 25))  # Mid-Autumn, Friday
    assert cal.is_workday(D(2026, 10, 10))  # make-up Saturday
    assert not cal.is_workday(D(2026, 10, 11))  # the Sunday after is off
    # 9 Oct (Fri) + 1 working day = the make-up Saturday, not Monday 12 Oct.
    assert cal.add_working_days(D(2026, 10, 9), 1).due == D(2026, 10, 10)


@pytest.mark.parametrize("d", [D(2026, 1, 4), D(2026, 2, 14), D(2026, 2, 28), D(2026, 5, 9),
                               D(2026, 9, 20), D(2026, 10, 10)])
def test_2026_makeup_weekend_days_are_working_days(cal, d):
    assert d.weekday() >= 5, "each 2026 make-up day falls on a weekend"
    assert cal.is_workday(d)


def test_2026_makeup_days_are_exactly_those_of_the_state_council_notice(cal):
    worked_weekend_days = {d for d in days(D(2026, 1, 1), D(2026, 12, 31)) if d.weekday() >= 5 and cal.is_workday(d)}
    assert worked_weekend_days == {D(2026, 1, 4), D(2026, 2, 14), D(2026, 2, 28), D(2026, 5, 9),
                                   D(2026, 9, 20), D(2026, 10, 10)}


def test_labour_day_2025_one_to_five_may_off_and_sunday_27_april_worked(cal):
    for d in days(D(2025, 5, 1), D(2025, 5, 5)):
        assert not cal.is_workday(d), d
    assert cal.is_workday(D(2025, 4, 27))
    assert cal.is_workday(D(2025, 4, 30)) and cal.is_workday(D(2025, 5, 6))
    assert cal.add_working_days(D(2025, 4, 30), 1).due == D(2025, 5, 6)
    assert cal.add_working_days(D(2025, 4, 25), 1).due == D(2025, 4, 27)


def test_is_workday_matches_chinesecalendar_every_day_2019_to_2026(cal):
    wrong = [d for d in days(D(2019, 1, 1), D(2026, 12, 31)) if cal.is_workday(d) != chinese_calendar.is_workday(d)]
    assert wrong == []


def test_unconfirmed_year_2027_counts_weekends_and_statutory_holidays(cal):
    # Issue 10 (was: weekends only): the 放假办法 fixes 元旦, so Fri 1 Jan 2027 is off even unentered.
    assert not cal.is_confirmed(2027) and cal.is_confirmed(2026)
    assert not cal.is_workday(D(2027, 1, 1))
    assert not cal.is_workday(D(2027, 1, 2)) and not cal.is_workday(D(2027, 1, 3))
    assert cal.is_workday(D(2027, 1, 4))
    assert not WorkCalendar(cal.years.values(), provisional_holidays=False).is_workday(D(2027, 1, 2))
    assert WorkCalendar(cal.years.values(), provisional_holidays=False).is_workday(D(2027, 1, 1))
    with pytest.raises(LookupError):
        schedule_from_chinese_calendar(2027)


# --------------------------------------------------------------------------- handbook worked examples


def test_handbook_example_reply_deadline_received_2026_09_24_ends_2026_10_29(cal):
    dl = cal.add_working_days(D(2026, 9, 24), 20)
    assert dl.due == D(2026, 10, 29)
    assert dl.provisional is False
    assert dl.calendar_version == "2026r1"


def test_handbook_example_correction_notice_received_2026_02_10_due_2026_02_26(cal):
    assert cal.add_working_days(D(2026, 2, 10), 7).due == D(2026, 2, 26)


def test_handbook_example_received_2026_12_10_deadline_in_2027_is_provisional(cal):
    dl = cal.add_working_days(D(2026, 12, 10), 20)
    # 2027 unentered: Fri 1 Jan 2027 (元旦) is off by law, so day 20 is Fri 8 Jan 2027.
    assert dl.due == D(2027, 1, 8)
    assert dl.provisional is True
    assert dl.calendar_version == "2026r1,2027p"


def test_day_of_receipt_is_not_counted(cal):
    # Received on a working day: day 1 is the next working day, never the day itself.
    assert cal.add_working_days(D(2026, 3, 2), 1).due == D(2026, 3, 3)
    # Received on a Friday: day 1 is Monday.
    assert cal.add_working_days(D(2026, 3, 6), 1).due == D(2026, 3, 9)
    assert cal.add_working_days(D(2026, 10, 3), 0).due == D(2026, 10, 3)
    with pytest.raises(ValueError):
        cal.add_working_days(D(2026, 3, 2), -1)


def test_deadline_spanning_two_confirmed_years_is_not_provisional(cal):
    dl = cal.add_working_days(D(2025, 12, 22), 20)
    assert dl.due == oracle_add(D(2025, 12, 22), 20)
    assert dl.due.year == 2026
    assert dl.provisional is False
    assert dl.calendar_version == "2025r1,2026r1"


# --------------------------------------------------------------------------- working_days_between, next_workday


def test_working_days_between_counts_end_not_start_and_is_antisymmetric(cal):
    assert cal.working_days_between(D(2026, 9, 24), D(2026, 10, 29)) == 20
    assert cal.working_days_between(D(2026, 10, 29), D(2026, 9, 24)) == -20
    assert cal.working_days_between(D(2026, 10, 2), D(2026, 10, 10)) == 3  # 8, 9, 10 Oct
    assert cal.working_days_between(D(2026, 10, 10), D(2026, 10, 2)) == -3
    assert cal.working_days_between(D(2026, 10, 3), D(2026, 10, 3)) == 0
    assert cal.working_days_between(D(2026, 2, 14), D(2026, 2, 23)) == 0  # whole Spring Festival break


def test_working_days_between_matches_oracle_and_skip(cal):
    for a, b in [(D(2025, 1, 20), D(2025, 2, 20)), (D(2025, 9, 15), D(2025, 10, 20)),
                 (D(2025, 12, 25), D(2026, 1, 10)), (D(2026, 4, 28), D(2026, 5, 12))]:
        n = oracle_between(a, b)
        assert cal.working_days_between(a, b) == n
        assert cal.working_days_between(b, a) == -n
    skip = DaySet([(D(2026, 3, 5), D(2026, 3, 11))])  # 5 working days
    assert cal.working_days_between(D(2026, 3, 2), D(2026, 3, 13), skip=skip) == 4  # 3, 4, 12, 13


def test_next_workday(cal):
    assert cal.next_workday(D(2026, 10, 3)) == D(2026, 10, 8)
    assert cal.next_workday(D(2026, 10, 10)) == D(2026, 10, 10)  # make-up Saturday
    assert cal.next_workday(D(2026, 10, 11)) == D(2026, 10, 12)
    assert cal.next_workday(D(2026, 2, 15)) == D(2026, 2, 24)
    assert cal.next_workday(D(2025, 1, 28)) == D(2025, 2, 5)
    assert cal.next_workday(D(2026, 3, 4)) == D(2026, 3, 4)


# --------------------------------------------------------------------------- tables verified by an oracle

TRIPLES = [
    (D(2025, 1, 24), 5, D(2025, 2, 7)),  # Spring Festival 2025, Sun 26 Jan worked
    (D(2025, 1, 25), 1, D(2025, 1, 26)),
    (D(2025, 1, 27), 1, D(2025, 2, 5)),
    (D(2025, 2, 7), 1, D(2025, 2, 8)),  # make-up Saturday
    (D(2025, 4, 25), 1, D(2025, 4, 27)),  # make-up Sunday before Labour Day
    (D(2025, 4, 30), 1, D(2025, 5, 6)),
    (D(2025, 4, 30), 5, D(2025, 5, 12)),
    (D(2025, 5, 30), 1, D(2025, 6, 3)),  # Dragon Boat 2025
    (D(2025, 9, 26), 1, D(2025, 9, 28)),  # make-up Sunday before National Day
    (D(2025, 9, 30), 1, D(2025, 10, 9)),
    (D(2025, 9, 30), 3, D(2025, 10, 11)),  # make-up Saturday after National Day
    (D(2025, 9, 30), 20, D(2025, 11, 4)),
    (D(2025, 12, 31), 1, D(2026, 1, 4)),  # New Year 2026, Sun 4 Jan worked
    (D(2026, 1, 2), 1, D(2026, 1, 4)),
    (D(2026, 2, 10), 7, D(2026, 2, 26)),
    (D(2026, 2, 13), 1, D(2026, 2, 14)),
    (D(2026, 2, 14), 1, D(2026, 2, 24)),
    (D(2026, 2, 27), 1, D(2026, 2, 28)),
    (D(2026, 3, 2), 20, D(2026, 3, 30)),
    (D(2026, 4, 3), 1, D(2026, 4, 7)),  # Qingming 2026
    (D(2026, 4, 30), 1, D(2026, 5, 6)),  # Labour Day 2026
    (D(2026, 5, 8), 1, D(2026, 5, 9)),
    (D(2026, 6, 18), 1, D(2026, 6, 22)),  # Dragon Boat 2026
    (D(2026, 9, 18), 1, D(2026, 9, 20)),
    (D(2026, 9, 24), 1, D(2026, 9, 28)),  # Mid-Autumn 2026 on Fri 25 Sep
    (D(2026, 9, 24), 20, D(2026, 10, 29)),
    (D(2026, 9, 24), 40, D(2026, 11, 26)),
    (D(2026, 9, 30), 5, D(2026, 10, 13)),
    (D(2026, 10, 9), 1, D(2026, 10, 10)),
]


@pytest.mark.parametrize("start,n,expected", TRIPLES, ids=[f"{s}+{n}" for s, n, _ in TRIPLES])
def test_add_working_days_table_verified_by_oracle(cal, start, n, expected):
    assert oracle_add(start, n) == expected, "the table itself disagrees with chinesecalendar"
    dl = cal.add_working_days(start, n)
    assert dl.due == expected
    assert dl.provisional is False


@pytest.mark.parametrize("year", [2025, 2026])
@pytest.mark.parametrize("n", [5, 7, 15, 20, 40])
def test_add_working_days_every_start_in_year_matches_oracle(cal, year, n):
    checked, mismatches = 0, []
    for start in days(D(year, 1, 1), D(year, 12, 31)):
        expected = oracle_add(start, n)
        if expected is None:  # would cross into 2027: no oracle data
            continue
        checked += 1
        dl = cal.add_working_days(start, n)
        if dl.due != expected or dl.provisional:
            mismatches.append((start, dl.due, expected))
        elif cal.working_days_between(start, dl.due) != n or cal.working_days_between(dl.due, start) != -n:
            mismatches.append((start, "between", n))
    assert mismatches == []
    assert checked >= 300


# The statutory holidays of 2027 on weekdays: 元旦 Fri 1 Jan; 春节 除夕 Fri 5 Feb and 初三 Mon 8 Feb
# (初一 is Sat 6 Feb); 清明 Mon 5 Apr; 端午 Wed 9 Jun; 中秋 Wed 15 Sep; 国庆 Fri 1 Oct. 劳动节 1–2 May
# and 2–3 Oct fall on a weekend.
HOLIDAYS_2027 = {D(2027, 1, 1), D(2027, 2, 5), D(2027, 2, 8), D(2027, 4, 5), D(2027, 6, 9), D(2027, 9, 15),
                 D(2027, 10, 1)}


@pytest.mark.parametrize("n", [5, 7, 15, 20, 40])
def test_deadlines_crossing_into_2027_are_provisional_and_skip_statutory_holidays(cal, n):
    def hybrid(start):
        d, counted = start, 0
        while counted < n:
            d += timedelta(days=1)
            work = chinese_calendar.is_workday(d) if d.year <= 2026 else d.weekday() < 5 and d not in HOLIDAYS_2027
            counted += work
        return d

    crossed = 0
    for start in days(D(2026, 11, 1), D(2026, 12, 31)):
        dl = cal.add_working_days(start, n)
        assert dl.due == hybrid(start), start
        if dl.due.year == 2027:
            crossed += 1
            assert dl.provisional is True and dl.calendar_version == "2026r1,2027p", start
        else:
            assert dl.provisional is False and dl.calendar_version == "2026r1", start
    assert crossed > 0


# --------------------------------------------------------------------------- YearSchedule


def test_year_schedule_rejects_holiday_outside_its_year():
    with pytest.raises(ValueError):
        YearSchedule(2026, holidays=frozenset({D(2025, 12, 31)}))


def test_year_schedule_rejects_makeup_day_outside_its_year():
    with pytest.raises(ValueError):
        YearSchedule(2026, makeup_workdays=frozenset({D(2027, 1, 2)}))


def test_year_schedule_rejects_day_both_holiday_and_makeup():
    with pytest.raises(ValueError, match="2026-10-10"):
        YearSchedule(2026, holidays=frozenset({D(2026, 10, 10)}), makeup_workdays=frozenset({D(2026, 10, 10)}))


def test_year_entered_with_new_revision_changes_version_tag():
    base = schedule_from_chinese_calendar(2026)
    assert base.tag == "2026r1"
    # A one-off extra day off (like 4 Sep 2015) announced after the schedule: revision 2.
    revised = YearSchedule(2026, base.holidays | {D(2026, 10, 29)}, base.makeup_workdays, revision=2)
    assert revised.tag == "2026r2"
    years = [schedule_from_chinese_calendar(y) for y in range(2019, 2026)] + [revised]
    dl = WorkCalendar(years).add_working_days(D(2026, 9, 24), 20)
    assert dl.due == D(2026, 10, 30)
    assert dl.calendar_version == "2026r2"


def test_entering_2027_removes_provisional_flag_and_recomputes():
    cal = build_calendar()
    before = cal.add_working_days(D(2026, 12, 10), 20)
    assert before.provisional and before.due == D(2027, 1, 8)
    # Entered with a (test) 调休: Mon 4 Jan off as well.
    cal2027 = WorkCalendar(list(cal.years.values()) + [YearSchedule(2027, frozenset({D(2027, 1, 1), D(2027, 1, 4)}))])
    after = cal2027.add_working_days(D(2026, 12, 10), 20)
    assert after.due == D(2027, 1, 11)
    assert after.provisional is False
    assert after.calendar_version == "2026r1,2027r1"


# --------------------------------------------------------------------------- provisional years (issue 10)


def test_statutory_holidays_of_2027_from_the_lunar_tables():
    got = statutory_holidays(2027)
    assert [d for d, n in got.items() if n == "春节"] == [D(2027, 2, 5), D(2027, 2, 6), D(2027, 2, 7), D(2027, 2, 8)]
    assert {n: d for d, n in got.items() if n in ("清明节", "端午节", "中秋节")} == {
        "清明节": D(2027, 4, 5), "端午节": D(2027, 6, 9), "中秋节": D(2027, 9, 15)}
    assert [d for d, n in got.items() if n in ("元旦", "劳动节", "国庆节")] == [
        D(2027, 1, 1), D(2027, 5, 1), D(2027, 5, 2), D(2027, 10, 1), D(2027, 10, 2), D(2027, 10, 3)]
    assert len(got) == 13
    schedule = provisional_schedule(2027)
    assert schedule.holidays == HOLIDAYS_2027 and schedule.makeup_workdays == frozenset()


def test_statutory_holidays_agree_with_the_official_2025_and_2026_schedules():
    # Under the amended 放假办法 (from 2025) every statutory day on a weekday was a day off.
    for year in (2025, 2026):
        official = schedule_from_chinese_calendar(year).holidays
        assert provisional_schedule(year).holidays <= official, year
    assert D(2026, 2, 16) in statutory_holidays(2026)  # 除夕 2026


def test_statutory_holidays_match_cnlunar_lunar_dates_2001_to_2099():
    import cnlunar
    from datetime import datetime

    def lunar(d):
        x = cnlunar.Lunar(datetime(d.year, d.month, d.day), godType="8char")
        return x.lunarMonth, x.lunarDay, x.isLunarLeapMonth, x.todaySolarTerms

    wrong = []
    for year in range(2001, 2100, 7):
        got = statutory_holidays(year)
        spring = [d for d, n in got.items() if "春节" in n]
        checks = [(spring[1], (1, 1, False)), (spring[0] + timedelta(days=1), (1, 1, False))]
        checks += [(d, (5, 5, False)) for d, n in got.items() if "端午" in n]
        checks += [(d, (8, 15, False)) for d, n in got.items() if "中秋" in n]
        wrong += [(d, want) for d, want in checks if lunar(d)[:3] != want]
        wrong += [(d, "清明") for d, n in got.items() if "清明" in n and lunar(d)[3] != "清明"]
        if lunar(spring[0])[:2] not in ((12, 29), (12, 30)):  # 除夕: the last day of the 12th month
            wrong.append((spring[0], "除夕"))
    assert wrong == []


def test_years_outside_the_lunar_tables_count_weekends_only():
    assert provisional_schedule(2100).holidays == frozenset()
    with pytest.raises(LookupError):
        statutory_holidays(2100)


@pytest.mark.no_db
@pytest.mark.parametrize("version, words", [
    ("2026r1", "2026年正式"),
    ("2026r1,2027p", "2026年正式，2027年暂定"),
    ("2026r3,2027r1", "2026年正式（第3版），2027年正式"),
    ("2028p", "2028年暂定"),
    ("", ""),
    ("weird", "weird"),
])
def test_calendar_version_in_words(version, words):
    from app.domain.calendar import version_words

    assert version_words(version) == words
