"""Working-day calendar (工作日历).

A working day is Monday–Friday, minus statutory holidays, plus the make-up working days
(调休上班) announced each year by the State Council General Office (handbook §6).

Years without a confirmed schedule are computed on weekends only and every result that
touches such a year is flagged provisional (handbook §8.2).
"""
from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Iterable, Mapping


@dataclass(frozen=True)
class YearSchedule:
    """One year's official schedule: days off on weekdays and weekend days worked."""

    year: int
    holidays: frozenset[date] = field(default_factory=frozenset)
    makeup_workdays: frozenset[date] = field(default_factory=frozenset)
    revision: int = 1

    def __post_init__(self) -> None:
        for d in self.holidays | self.makeup_workdays:
            if d.year != self.year:
                raise ValueError(f"{d.isoformat()} 不属于 {self.year} 年")
        both = self.holidays & self.makeup_workdays
        if both:
            raise ValueError(f"{min(both).isoformat()} 不能既是放假日又是调休上班日")

    @property
    def tag(self) -> str:
        return f"{self.year}r{self.revision}"


@dataclass(frozen=True)
class Deadline:
    """A computed due date and what it was computed with."""

    due: date
    provisional: bool
    calendar_version: str


_SPAN_FIRST = date(2000, 1, 1)
_SPAN_LAST = date(2100, 12, 31)


class WorkCalendar:
    def __init__(self, schedules: Iterable[YearSchedule] = ()) -> None:
        self._years: dict[int, YearSchedule] = {s.year: s for s in schedules}
        self._cum: list[int] | None = None  # running count of working days, built on first use

    def _counts(self) -> list[int]:
        """cum[i] = working days in [2000-01-01, 2000-01-01 + i]; makes plain spans O(log n)."""
        if self._cum is None:
            cum, total, d = [], 0, _SPAN_FIRST
            one = timedelta(days=1)
            while d <= _SPAN_LAST:
                total += self.is_workday(d)
                cum.append(total)
                d += one
            self._cum = cum
        return self._cum

    @property
    def years(self) -> Mapping[int, YearSchedule]:
        return self._years

    def is_confirmed(self, year: int) -> bool:
        return year in self._years

    def is_workday(self, d: date) -> bool:
        s = self._years.get(d.year)
        if s is not None:
            if d in s.makeup_workdays:
                return True
            if d in s.holidays:
                return False
        return d.weekday() < 5

    def version_for(self, first: date, last: date) -> tuple[str, bool]:
        """Calendar version string for the span of years first..last, and whether provisional."""
        tags, provisional = [], False
        for y in range(first.year, last.year + 1):
            s = self._years.get(y)
            if s is None:
                tags.append(f"{y}p")
                provisional = True
            else:
                tags.append(s.tag)
        return ",".join(tags), provisional

    def add_working_days(self, start: date, n: int, *, skip: "DaySet | None" = None) -> Deadline:
        """The n-th working day after start (start itself not counted, handbook §8.1).

        Days in ``skip`` (paused days) are not counted either.
        """
        if n < 0:
            raise ValueError("工作日数不能为负数")
        if not skip and _SPAN_FIRST <= start <= _SPAN_LAST:
            cum = self._counts()
            i = (start - _SPAN_FIRST).days
            j = bisect_left(cum, cum[i] + n, lo=i + 1) if n else i
            if j < len(cum):
                d = _SPAN_FIRST + timedelta(days=j)
                version, provisional = self.version_for(start, d)
                return Deadline(d, provisional, version)
        d, counted = start, 0
        while counted < n:
            d += timedelta(days=1)
            if self.is_workday(d) and not (skip and d in skip):
                counted += 1
        version, provisional = self.version_for(start, d)
        return Deadline(d, provisional, version)

    def working_days_between(self, start: date, end: date, *, skip: "DaySet | None" = None) -> int:
        """Working days in (start, end]; negative if end is before start."""
        if end < start:
            return -self.working_days_between(end, start, skip=skip)
        if not skip and _SPAN_FIRST <= start and end <= _SPAN_LAST:
            cum = self._counts()
            return cum[(end - _SPAN_FIRST).days] - cum[(start - _SPAN_FIRST).days]
        count, d = 0, start
        while d < end:
            d += timedelta(days=1)
            if self.is_workday(d) and not (skip and d in skip):
                count += 1
        return count

    def next_workday(self, d: date) -> date:
        """d itself if it is a working day, else the next working day."""
        while not self.is_workday(d):
            d += timedelta(days=1)
        return d


class DaySet:
    """A union of closed date intervals (paused spans); overlaps are merged naturally."""

    def __init__(self, spans: Iterable[tuple[date, date]] = ()) -> None:
        self.spans = [(a, b) for a, b in spans if a <= b]

    def __contains__(self, d: date) -> bool:
        return any(a <= d <= b for a, b in self.spans)

    def __bool__(self) -> bool:
        return bool(self.spans)


def schedule_from_chinese_calendar(year: int) -> YearSchedule:
    """Seed a year from the chinesecalendar package (covers 2004–2026 in 1.11.0)."""
    from chinese_calendar import constants  # imported lazily: only seeding needs it

    holidays = frozenset(d for d in constants.holidays if d.year == year and d.weekday() < 5)
    workdays = frozenset(d for d in constants.workdays if d.year == year)
    if not holidays and not workdays:
        raise LookupError(f"chinesecalendar 没有 {year} 年的数据")
    return YearSchedule(year, holidays, workdays, revision=1)
