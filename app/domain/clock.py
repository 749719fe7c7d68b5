"""The reply clock (答复期限) of a case (Arts. 30, 32–35; handbook §1.5, §8.1–8.6).

Stage is stored on the case; urgency (due soon / overdue) is derived here when read.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from .calendar import DaySet, Deadline, WorkCalendar

REPLY_DAYS = 20  # Art. 33 ¶2
MAX_EXTENSION_DAYS = 20  # Art. 33 ¶2
CORRECTION_NOTICE_DAYS = 7  # Art. 30
DEFAULT_CORRECTION_PERIOD_DAYS = 15  # handbook §8.4, editable per notice
CONSULTATION_DAYS = 15  # Arts. 32, 34
FEE_PAYMENT_DAYS = 20  # 109号
COHANDLING_DAYS = 5  # local practice
REASONS_ANSWER_DAYS = 15  # Art. 35: a reasonable period; default, editable
DUE_SOON_DAYS = 3

PAUSE_REASONS = {
    "consultation_third_party": "征求第三方意见",
    "consultation_agency": "征求其他机关意见",
    "fee": "等待缴纳信息处理费",
    "reasons": "等待申请人说明理由（第三十五条）",
}
STATUS_LABELS = {
    "running": "正常",
    "due_soon": "即将到期",
    "overdue": "已超期",
    "paused": "暂停计时",
    "stopped": "停止计时",
}


@dataclass(frozen=True)
class Pause:
    """A span during which the reply clock does not run (Art. 33 ¶3).

    The day the letter is sent and the day the answer arrives are both excluded. An open
    pause ends by itself on ``limit`` (the day the other side's period lapses).
    """

    reason: str
    start: date
    end: date | None = None
    limit: date | None = None

    def effective_end(self, today: date) -> date | None:
        if self.end is not None:
            # A late answer cannot stretch the pause past the day the period lapsed.
            return min(self.end, self.limit) if self.limit is not None else self.end
        if self.limit is not None and self.limit < today:
            return self.limit
        return None


@dataclass(frozen=True)
class ClockInput:
    start: date  # receipt date, or the day the corrected request was received
    extension_days: int = 0
    pauses: tuple[Pause, ...] = ()
    override_due: date | None = None  # Art. 35: a reasonable delayed reply period
    stopped_reason: str | None = None  # e.g. "等待补正": the clock is not running at all


@dataclass(frozen=True)
class ClockState:
    status: str
    due: date | None
    days_left: int | None
    total_days: int
    provisional: bool
    calendar_version: str
    paused_reasons: tuple[str, ...] = field(default_factory=tuple)
    stopped_reason: str | None = None

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    def as_dict(self) -> dict:
        return {
            "status": self.status,
            "status_label": self.status_label,
            "due": self.due.isoformat() if self.due else None,
            "working_days_left": self.days_left,
            "total_working_days": self.total_days,
            "provisional": self.provisional,
            "calendar_version": self.calendar_version,
            "paused_reasons": [PAUSE_REASONS.get(r, r) for r in self.paused_reasons],
            "stopped_reason": self.stopped_reason,
        }


def reply_clock(cal: WorkCalendar, inp: ClockInput, today: date) -> ClockState:
    total = REPLY_DAYS + inp.extension_days
    if inp.stopped_reason:
        version, prov = cal.version_for(inp.start, max(inp.start, today))
        return ClockState("stopped", None, None, total, prov, version, stopped_reason=inp.stopped_reason)

    closed, open_reasons, open_spans = [], [], []
    for p in inp.pauses:
        end = p.effective_end(today)
        if end is None:
            open_reasons.append(p.reason)
            open_spans.append((p.start, date.max))
        else:
            closed.append((p.start, end))

    if open_reasons:
        skip = DaySet(closed + open_spans)
        used = cal.working_days_between(inp.start, today, skip=skip)
        version, prov = cal.version_for(inp.start, max(inp.start, today))
        return ClockState("paused", None, total - used, total, prov, version,
                          paused_reasons=tuple(dict.fromkeys(open_reasons)))

    if inp.override_due is not None:
        version, prov = cal.version_for(inp.start, inp.override_due)
        deadline = Deadline(inp.override_due, prov, version)
    else:
        deadline = cal.add_working_days(inp.start, total, skip=DaySet(closed))
    return state_for_deadline(cal, deadline, today, total)


def state_for_deadline(cal: WorkCalendar, deadline: Deadline, today: date, total: int) -> ClockState:
    left = cal.working_days_between(today, deadline.due)
    if today > deadline.due:
        status = "overdue"
    elif left <= DUE_SOON_DAYS:
        status = "due_soon"
    else:
        status = "running"
    return ClockState(status, deadline.due, left, total, deadline.provisional, deadline.calendar_version)


def format_cn_date(d: date) -> str:
    """GB/T 9704 date form: 2026年11月22日 (no leading zeros)."""
    return f"{d.year}年{d.month}月{d.day}日"
