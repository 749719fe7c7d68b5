"""Working-day calendar (工作日历).

A working day is Monday–Friday, minus statutory holidays, plus the make-up working days
(调休上班) announced each year by the State Council General Office (handbook §6).

Years without a confirmed schedule count weekends and the holidays the 放假办法 fixes by date
(元旦, 春节 除夕–初三, 清明, 劳动节 1–2 May, 端午, 中秋, 国庆 1–3 Oct); only the 调休 arrangement is
unknown, and every result that touches such a year is flagged provisional (handbook §6, §8.2).
"""
from __future__ import annotations

from bisect import bisect_left
from functools import lru_cache
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


def version_words(version: str) -> str:
    """A calendar version as a reader says it: "2026r1,2027p" → "2026年正式，2027年暂定"
    (a later revision of a year is named: "2026年正式（第2版）"). Unknown parts are kept as written."""
    out = []
    for tag in filter(None, (version or "").split(",")):
        year, sep, rest = tag.partition("r")
        if sep and year.isdigit() and rest.isdigit():
            out.append(f"{year}年正式" + (f"（第{rest}版）" if int(rest) > 1 else ""))
        elif tag.endswith("p") and tag[:-1].isdigit():
            out.append(f"{tag[:-1]}年暂定")
        else:
            out.append(tag)
    return "，".join(out)


@dataclass(frozen=True)
class Deadline:
    """A computed due date and what it was computed with."""

    due: date
    provisional: bool
    calendar_version: str


_SPAN_FIRST = date(2000, 1, 1)
_SPAN_LAST = date(2100, 12, 31)


# 全国年节及纪念日放假办法 (in force 2025-01-01), Art. 2: the holidays for everyone.
FIXED_HOLIDAY_NAMES = ("元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节")


@lru_cache(maxsize=None)
def statutory_holidays(year: int) -> dict[date, str]:
    """The 13 days the 放假办法 fixes for a year (weekends included), with their festival.

    Lunar dates and the 清明 solar term come from the cnlunar package's tables (1901–2100).
    Under the rules before 2025 (春节 初一–初三, 劳动节 1 May) the official schedules are entered
    anyway; this is only used for years nobody has entered yet.
    """
    from cnlunar.config import START_YEAR, lunarMonthData, lunarNewYearList  # lazily: provisional years only
    from cnlunar.solar24 import getTheYearAllSolarTermsList

    if not START_YEAR <= year < START_YEAR + min(len(lunarMonthData), len(lunarNewYearList)):
        raise LookupError(f"cnlunar 没有 {year} 年的农历数据")

    code = lunarNewYearList[year - START_YEAR]
    new_year = date(year, (code >> 5) & 0x3, code & 0x1F)  # 正月初一
    months = lunarMonthData[year - START_YEAR]
    leap = (months >> 13) & 0xF  # the leap month follows month ``leap`` (0: none)

    def lunar(month: int, day: int) -> date:
        """Solar date of a (non-leap) lunar month/day of the lunar year starting on new_year."""
        days = 0
        for m in range(1, month):
            days += 30 if months & (1 << (m - 1)) else 29
            if m == leap:
                days += 30 if months & (1 << 12) else 29
        return new_year + timedelta(days=days + day - 1)

    qingming = date(year, 4, getTheYearAllSolarTermsList(year)[6])  # the 7th solar term, in April
    out: dict[date, str] = {}
    for d, name in ([(date(year, 1, 1), "元旦")] + [(new_year + timedelta(days=i), "春节") for i in range(-1, 3)]
                    + [(qingming, "清明节"), (date(year, 5, 1), "劳动节"), (date(year, 5, 2), "劳动节"),
                       (lunar(5, 5), "端午节"), (lunar(8, 15), "中秋节")]
                    + [(date(year, 10, d), "国庆节") for d in (1, 2, 3)]):
        out[d] = out[d] + "、" + name if d in out else name  # 中秋 may fall within 国庆 (2028-10-03)
    return dict(sorted(out.items()))


def provisional_schedule(year: int) -> YearSchedule:
    """A year nobody has entered: its statutory holidays that fall on weekdays, no make-up days.

    Holidays on a weekend are made up (补假) on a weekday the State Council picks: unknown, like 调休.
    """
    try:
        fixed = statutory_holidays(year)
    except LookupError:
        return YearSchedule(year, revision=0)  # outside the lunar tables: weekends only
    days = frozenset(d for d in fixed if d.weekday() < 5)
    return YearSchedule(year, days, frozenset(), revision=0)


class WorkCalendar:
    def __init__(self, schedules: Iterable[YearSchedule] = (), *, provisional_holidays: bool = True) -> None:
        self._years: dict[int, YearSchedule] = {s.year: s for s in schedules}
        self._cum: list[int] | None = None  # running count of working days, built on first use
        # Unentered years: the statutory holidays by the 放假办法 (False: weekends only).
        self._provisional_holidays = provisional_holidays
        self._guessed: dict[int, frozenset[date]] = {}

    def provisional_days_off(self, year: int) -> frozenset[date]:
        if not self._provisional_holidays or year in self._years:
            return frozenset()
        days = self._guessed.get(year)
        if days is None:
            days = self._guessed[year] = provisional_schedule(year).holidays
        return days

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
        elif d in self.provisional_days_off(d.year):
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
