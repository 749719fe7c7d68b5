"""Adapters from stored cases to the domain clock."""
from __future__ import annotations

from flask import current_app

from ..domain.clock import ClockInput, ClockState, Pause, reply_clock
from ..domain.workflow import FINISHED_STATES
from ..models import Case
from .calendar import load_calendar
from .time import today as _today

PAUSING_KINDS = ("consultation_third_party", "consultation_agency", "fee", "reasons")


def clock_input(case: Case) -> ClockInput:
    stopped = None
    if case.state == "correction":
        stopped = "等待申请人补正（补正后重新计算20个工作日）"
    elif case.state in FINISHED_STATES:
        stopped = "已办结"
    kinds = PAUSING_KINDS if current_app.config["REASONS_PAUSES_CLOCK"] else PAUSING_KINDS[:3]
    pauses = tuple(
        Pause(s.kind, s.started_on, s.answered_on, s.due_on)
        for s in case.steps if s.kind in kinds and s.result not in ("withdrawn",)
    )
    return ClockInput(case.clock_start, case.extension_days, pauses, case.override_due, stopped)


def case_clock(case: Case, today=None) -> ClockState:
    return reply_clock(load_calendar(), clock_input(case), today or _today())


def refresh_clock(case: Case, today=None) -> ClockState:
    """Recompute the cached due date and the calendar version it used."""
    st = case_clock(case, today)
    if case.state in FINISHED_STATES:
        return st  # keep the due date the reply was measured against
    case.reply_due = st.due
    case.due_provisional = st.provisional
    case.calendar_version = st.calendar_version
    return st
