"""The working-day calendar as stored, and its administration."""
from __future__ import annotations

from datetime import date, datetime

from flask import g, has_app_context

from ..domain.calendar import WorkCalendar, YearSchedule, schedule_from_chinese_calendar
from ..extensions import db
from ..models import CalendarYear, Case, Event, User
from ..domain.workflow import FINISHED_STATES
from .errors import ServiceError

SEED_YEARS = range(2019, 2027)
_CALENDARS: dict[tuple, WorkCalendar] = {}


def load_calendar() -> WorkCalendar:
    """The calendar for this request (one query per request)."""
    if has_app_context() and "work_calendar" in g:
        return g.work_calendar
    rows = list(db.session.scalars(db.select(CalendarYear)))
    # Calendars are immutable: one instance (and its day index) per distinct content, across requests.
    key = tuple((r.year, r.revision, r.holidays_json, r.makeup_json) for r in sorted(rows, key=lambda r: r.year))
    cal = _CALENDARS.get(key)
    if cal is None:
        cal = WorkCalendar(row.to_schedule() for row in rows)
        if len(_CALENDARS) > 16:
            _CALENDARS.clear()
        _CALENDARS[key] = cal
    if has_app_context():
        g.work_calendar = cal
    return cal


def forget_calendar() -> None:
    if has_app_context():
        g.pop("work_calendar", None)


def seed_calendar() -> list[int]:
    """Seed 2019–2026 from chinesecalendar where the database has no entry yet."""
    added = []
    for year in SEED_YEARS:
        if db.session.get(CalendarYear, year) is None:
            s = schedule_from_chinese_calendar(year)
            row = CalendarYear(year=year, revision=1, source="chinesecalendar 1.11.0（国务院办公厅节假日安排通知）")
            row.set_days(s.holidays, s.makeup_workdays)
            db.session.add(row)
            added.append(year)
    db.session.commit()
    forget_calendar()
    return added


def parse_days(text: str, year: int, label: str, field: str) -> set[date]:
    """Dates one per line or separated by commas; ranges as 2027-02-05~2027-02-11."""
    days: set[date] = set()
    for token in text.replace("，", ",").replace("\n", ",").split(","):
        token = token.strip()
        if not token:
            continue
        try:
            if "~" in token:
                a, b = (date.fromisoformat(t.strip()) for t in token.split("~", 1))
                if b < a:
                    raise ValueError
                days.update(date.fromordinal(o) for o in range(a.toordinal(), b.toordinal() + 1))
            else:
                days.add(date.fromisoformat(token))
        except ValueError:
            raise ServiceError(f"{label}中“{token}”不是有效日期（格式 YYYY-MM-DD，区间用 ~ 连接）", field) from None
    wrong = sorted(d for d in days if d.year != year)
    if wrong:
        raise ServiceError(f"{label}中 {wrong[0].isoformat()} 不属于 {year} 年", field)
    return days


def save_year(actor: User, year: int, holidays_text: str, makeup_text: str, source: str) -> tuple[CalendarYear, int]:
    """Enter or correct one year; every open case is recomputed and the change logged on it."""
    if not actor.has_role("admin"):
        raise ServiceError("只有管理员可以维护工作日历")
    if not 2000 <= year <= 2100:
        raise ServiceError("年份无效", "year")
    holidays = {d for d in parse_days(holidays_text, year, "放假日期", "holidays") if d.weekday() < 5}
    makeup = parse_days(makeup_text, year, "调休上班日期", "makeup")
    weekday_makeup = sorted(d for d in makeup if d.weekday() < 5)
    if weekday_makeup:
        raise ServiceError(f"调休上班日应为周六或周日，{weekday_makeup[0].isoformat()} 是工作日", "makeup")
    try:
        schedule = YearSchedule(year, frozenset(holidays), frozenset(makeup))
    except ValueError as e:
        raise ServiceError(str(e), "makeup") from None
    row = db.session.get(CalendarYear, year)
    if row is None:
        row = CalendarYear(year=year, revision=1)
        db.session.add(row)
    else:
        row.revision += 1
    row.set_days(schedule.holidays, schedule.makeup_workdays)
    row.source = source.strip()[:300]
    row.updated_by_id = actor.id
    row.updated_at = datetime.utcnow()
    db.session.flush()
    forget_calendar()
    changed = recompute_open_cases(actor, f"{year}年工作日历已更新（第{row.revision}版）")
    db.session.commit()
    return row, changed


def recompute_open_cases(actor: User | None, why: str) -> int:
    from .clocks import refresh_clock
    from .audit import record

    changed = 0
    q = db.select(Case).where(Case.state.not_in(FINISHED_STATES))
    for case in db.session.scalars(q):
        before = (case.reply_due, case.due_provisional, case.calendar_version)
        refresh_clock(case)
        after = (case.reply_due, case.due_provisional, case.calendar_version)
        if before != after:
            changed += 1
            record(case, actor, "calendar_recompute", "日历变更，重新计算期限", case.state, case.state, {
                "reason": why,
                "old_due": before[0].isoformat() if before[0] else None,
                "new_due": after[0].isoformat() if after[0] else None,
                "old_calendar_version": before[2], "new_calendar_version": after[2],
                "provisional": after[1],
            })
    return changed


def year_rows() -> list[CalendarYear]:
    return list(db.session.scalars(db.select(CalendarYear).order_by(CalendarYear.year)))
