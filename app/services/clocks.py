"""Adapters from stored cases to the domain clock."""
from __future__ import annotations

from datetime import date

from flask import current_app
from sqlalchemy import and_, case as sql_case, or_

from ..domain.clock import (DUE_SOON_DAYS, STEP_DAYS, ClockInput, ClockState, Pause, reply_clock, step_deadline,
                            stored_clock)
from ..domain.workflow import FINISHED_STATES, OPEN_STATES
from ..models import Case, Step
from .workdays import load_calendar
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
        for s in case.steps if s.kind in kinds and s.result not in ("withdrawn",) and s.in_effect
    )
    return ClockInput(case.clock_start, case.extension_days, pauses, case.override_due, stopped)


def case_clock(case: Case, today=None) -> ClockState:
    return reply_clock(load_calendar(), clock_input(case), today or _today())


def refresh_clock(case: Case, today=None) -> None:
    """Store the due date (independent of today) with the code the clock reads it with.

    ``today`` is accepted for older callers and ignored: what is stored never depends on it.
    """
    cal = load_calendar()
    for step in case.steps:
        classify_step(step, cal)
    if case.state in FINISHED_STATES:
        return  # keep the due date the reply was measured against
    sc = stored_clock(cal, clock_input(case))
    case.reply_due = sc.due
    case.paused_until = sc.paused_until
    case.due_provisional = sc.provisional
    case.calendar_version = sc.calendar_version


def classify_step(step: Step, cal) -> None:
    """Once, when a step is first stored: was its deadline the default period (a clock, recomputed
    with the calendar) or a date entered by hand (kept as entered)?"""
    if step.calendar_version or step.due_on is None or step.kind not in STEP_DAYS:
        return
    dl = step_deadline(cal, step.kind, step.started_on, step.received_on, STEP_DAYS[step.kind])
    if dl.due == step.due_on:
        step.due_days, step.due_provisional, step.calendar_version = STEP_DAYS[step.kind], dl.provisional, \
            dl.calendar_version
    else:
        step.due_days, step.due_provisional = None, False
        step.calendar_version = cal.version_for(step.started_on, max(step.started_on, step.due_on))[0]


def recompute_steps(case: Case) -> list[dict]:
    """Recompute the open steps' deadlines with the calendar as it is now (a year entered or
    corrected). A date already printed in an issued letter keeps its printed value."""
    cal = load_calendar()
    changes = []
    for step in case.steps:
        classify_step(step, cal)
        if not step.is_open or step.due_days is None:
            continue
        dl = step_deadline(cal, step.kind, step.started_on, step.received_on, step.due_days)
        if (dl.due, dl.provisional, dl.calendar_version) == (step.due_on, step.due_provisional,
                                                               step.calendar_version):
            continue
        letter = step.printed_letter
        if letter is not None and (dl.provisional, dl.calendar_version) == (step.due_provisional,
                                                                            step.calendar_version):
            continue  # already recomputed with this calendar: the printed date stays, nothing new to say
        change = {"step_id": step.id, "kind": step.kind_label, "party": step.party,
                  "old_due": step.due_on.isoformat(), "computed_due": dl.due.isoformat(),
                  "calendar_version": dl.calendar_version, "provisional": dl.provisional}
        if letter is not None:
            # The other side was told this date: it stays, and the event says so.
            change.update(new_due=step.due_on.isoformat(), printed_in=letter.number_text)
        else:
            step.due_on = dl.due
            change["new_due"] = dl.due.isoformat()
        step.due_provisional, step.calendar_version = dl.provisional, dl.calendar_version
        changes.append(change)
    return changes


# ---------------------------------------------------------------- the clock rule in SQL

def clock_bounds(today: date) -> date:
    """The first due date with more than DUE_SOON_DAYS working days left (domain clock rule).

    days_left(due) = working days in (today, due]; it is ≤ 3 exactly when due comes before the
    4th working day after today, so "due soon" is the SQL range today ≤ reply_due < bound.
    """
    return load_calendar().add_working_days(today, DUE_SOON_DAYS + 1).due


def not_paused(today: date):
    """A case is paused while today ≤ paused_until."""
    return or_(Case.paused_until.is_(None), Case.paused_until < today)


def counting_condition(today: date):
    """Open cases whose reply clock runs today: the domain rule (clock.clock_status) as ranges. A
    case is paused while today ≤ paused_until (or, with no due date at all, while it is not
    waiting for a correction); imported history awaiting triage has a clock nobody ran."""
    return and_(Case.state.in_(sorted(OPEN_STATES)), Case.needs_triage.is_(False), Case.state != "correction",
                not_paused(today))


def clock_condition(code: str, today: date, bound: date):
    # Imported history awaiting triage has a clock nobody ran: it counts as "待分拣", not overdue.
    open_ = and_(Case.state.in_(sorted(OPEN_STATES)), Case.needs_triage.is_(False))
    if code == "triage":
        return Case.needs_triage.is_(True)
    counting = counting_condition(today)
    if code == "overdue":
        return and_(counting, Case.reply_due < today)
    if code == "due_soon":
        return and_(counting, Case.reply_due >= today, Case.reply_due < bound)
    if code == "running":
        return and_(counting, Case.reply_due >= bound)
    if code == "paused":
        return and_(open_, Case.state != "correction",
                    or_(Case.reply_due.is_(None), Case.paused_until >= today))
    if code == "stopped":
        return and_(Case.state == "correction", Case.needs_triage.is_(False))
    raise ValueError(code)


URGENCY = {"overdue": 0, "due_soon": 1, "running": 2, "paused": 3, "stopped": 4}


def urgency_order(today: date, bound: date):
    """SQL sort key: the clock status's urgency (URGENCY), by the same conditions as the ledger."""
    return sql_case(*((clock_condition(code, today, bound), rank) for code, rank in URGENCY.items()
                      if code != "stopped"), else_=URGENCY["stopped"])


def queue_key(st: ClockState, case_id: int) -> tuple:
    """The queue's order for one case: most urgent status, then the earliest due date."""
    return (URGENCY[st.status], st.due or date.max, case_id)
