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

# The period each sub-procedure's deadline is computed with, by default (handbook §8.2: every
# deadline is provisional like the reply deadline when it touches an unentered year).
STEP_DAYS = {
    "correction": DEFAULT_CORRECTION_PERIOD_DAYS,
    "consultation_third_party": CONSULTATION_DAYS,
    "consultation_agency": CONSULTATION_DAYS,
    "fee": FEE_PAYMENT_DAYS,
    "reasons": REASONS_ANSWER_DAYS,
    "cohandle": COHANDLING_DAYS,
}


def step_base(kind: str, started_on: date, received_on: date | None) -> date:
    """The day a step's period runs from: the other side's receipt for a consultation (Arts. 32, 34)
    and a fee notice (109号), the day the notice is sent otherwise."""
    if kind in ("consultation_third_party", "consultation_agency", "fee") and received_on is not None:
        return received_on
    return started_on


def step_deadline(cal: WorkCalendar, kind: str, started_on: date, received_on: date | None,
                  days: int) -> Deadline:
    return cal.add_working_days(step_base(kind, started_on, received_on), days)

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

    @property
    def is_open(self) -> bool:
        return self.end is None

    def assumed_end(self) -> date | None:
        """The last paused day, not depending on today: an open pause is assumed to run to its
        limit (None: no limit, so the end is unknown)."""
        if self.end is not None:
            # A late answer cannot stretch the pause past the day the period lapsed.
            return min(self.end, self.limit) if self.limit is not None else self.end
        return self.limit


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
    paused_until: date | None = None  # last day of the open pauses (their limit); see clock_status

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
            "paused_until": self.paused_until.isoformat() if self.paused_until else None,
        }


@dataclass(frozen=True)
class StoredClock:
    """What a service stores on the case: nothing here depends on the day it is read."""

    due: date | None
    paused_until: date | None
    provisional: bool
    calendar_version: str
    stopped: bool = False


def stored_clock(cal: WorkCalendar, inp: ClockInput) -> StoredClock:
    """The due date assuming every open pause runs to its limit (handbook §8.5).

    ``paused_until`` is the last day of the open pauses: until then the clock shows "paused";
    an answer that arrives earlier closes the pause and moves the due date earlier.
    """
    if inp.stopped_reason:
        version, prov = cal.version_for(inp.start, inp.start)
        return StoredClock(None, None, prov, version, stopped=True)
    spans, until, unknown = [], None, False
    for p in inp.pauses:
        end = p.assumed_end()
        if end is None:
            unknown = True  # an open pause with no limit: the due date cannot be known
            continue
        spans.append((p.start, end))
        if p.is_open:
            until = end if until is None else max(until, end)
    if unknown:
        version, prov = cal.version_for(inp.start, inp.start)
        return StoredClock(None, None, prov, version)
    if inp.override_due is not None:
        version, prov = cal.version_for(inp.start, max(inp.start, inp.override_due))
        return StoredClock(inp.override_due, until, prov, version)
    deadline = cal.add_working_days(inp.start, REPLY_DAYS + inp.extension_days, skip=DaySet(spans))
    return StoredClock(deadline.due, until, deadline.provisional, deadline.calendar_version)


def clock_status(cal: WorkCalendar, due: date | None, paused_until: date | None, today: date,
                 stopped: bool = False) -> tuple[str, int | None]:
    """Status and working days left on ``today``, from the stored due date alone.

    Ledger, dashboard, queue and case page all derive the status through this rule (the ledger's
    SQL conditions are the same rule written as ranges).
    """
    if stopped:
        return "stopped", None
    if due is None:
        return "paused", None  # an open pause without a limit
    if paused_until is not None and today <= paused_until:
        # Working days that will remain once the open pauses lapse.
        return "paused", cal.working_days_between(paused_until, due)
    left = cal.working_days_between(today, due)
    if today > due:
        return "overdue", left
    if left <= DUE_SOON_DAYS:
        return "due_soon", left
    return "running", left


def reply_clock(cal: WorkCalendar, inp: ClockInput, today: date) -> ClockState:
    total = REPLY_DAYS + inp.extension_days
    sc = stored_clock(cal, inp)
    status, left = clock_status(cal, sc.due, sc.paused_until, today, sc.stopped)
    reasons = ()
    if status == "paused":
        reasons = tuple(dict.fromkeys(p.reason for p in inp.pauses if p.is_open and (
            p.limit is None or p.limit >= today)))
    return ClockState(status, sc.due, left, total, sc.provisional, sc.calendar_version,
                      paused_reasons=reasons, stopped_reason=inp.stopped_reason,
                      paused_until=sc.paused_until if status == "paused" else None)


def state_for_deadline(cal: WorkCalendar, deadline: Deadline, today: date, total: int) -> ClockState:
    status, left = clock_status(cal, deadline.due, None, today)
    return ClockState(status, deadline.due, left, total, deadline.provisional, deadline.calendar_version)


def format_cn_date(d: date) -> str:
    """GB/T 9704 date form: 2026年11月22日 (no leading zeros)."""
    return f"{d.year}年{d.month}月{d.day}日"
