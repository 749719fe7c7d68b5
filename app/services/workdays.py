"""The working-day calendar as the clocks read it: one instance per request, and the calendar of
a past version. Kept apart from services.calendar (which changes the calendar and then recomputes
the clocks), so that clocks can read the calendar without importing what recomputes them."""
from __future__ import annotations

from flask import g, has_app_context

from ..domain.calendar import WorkCalendar
from ..extensions import db
from ..models import CalendarRevision, CalendarYear
from .errors import NotFound

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


def calendar_for_version(version: str) -> WorkCalendar:
    """The calendar a deadline was computed with, from its version string ("2026r1,2027p"):
    the years it names at their revision, unentered ("p") years as provisional."""
    schedules = []
    for tag in filter(None, (version or "").split(",")):
        year, _, rev = tag.partition("r")
        if not rev:
            continue  # "2027p": provisional, nothing entered
        row = db.session.scalar(db.select(CalendarRevision).where(
            CalendarRevision.year == int(year), CalendarRevision.revision == int(rev)))
        if row is None:
            raise NotFound(f"工作日历 {tag} 未保存")
        schedules.append(row.to_schedule())
    return WorkCalendar(schedules)
