"""Helpers shared by the domain tests."""
from __future__ import annotations

from app.domain.calendar import WorkCalendar, schedule_from_chinese_calendar

CONFIRMED_YEARS = range(2019, 2027)  # 2027 deliberately has no confirmed schedule


def build_calendar() -> WorkCalendar:
    return WorkCalendar([schedule_from_chinese_calendar(y) for y in CONFIRMED_YEARS])
