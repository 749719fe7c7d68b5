"""The morning digest (每日到期提醒): for each user, the cases to act on that are due within
DUE_SOON_DAYS working days or overdue, by the same clock rule as the queue and the ledger.

- 承办人 (handler): the open cases assigned to them: the reply deadline, and the deadlines of their
  open sub-procedures (补正, 征求意见, 收费, 说明理由, 协办) whose lapse they must act on;
- 负责人 (head): every open case of the agency whose reply deadline is due or overdue;
- 法律顾问 (legal): the cases waiting in legal review (法制审核中) that are due or overdue.

``for_user(user, today)`` computes it (the notifications of a later issue send it); the worker's
morning run (``run_all``) stores it, one row per user and day, and the 工作台 and GET /api/v1/digest
show the stored row (``today_for``)."""
from __future__ import annotations

import json
import logging
from datetime import date
from typing import NamedTuple

from sqlalchemy import or_

from ..domain.clock import clock_status
from ..domain.workflow import OPEN_STATES, STATES
from ..extensions import db
from ..models import Case, Digest, Step, User
from ..models.case import STEP_KINDS
from . import notify
from .clocks import clock_bounds, clock_condition
from .time import today as _today
from .time import utcnow
from .workdays import load_calendar

log = logging.getLogger(__name__)

DIGEST_ROLES = ("handler", "head", "legal")
# A head of a large agency may have hundreds of overdue cases: the panel and a message show the
# most urgent ones, and say how many there are in all.
MAX_ITEMS = 100
# The 工作台 panel shows the most urgent of them; the queue below it is in the same order.
PANEL_ITEMS = 20


class _Ref(NamedTuple):
    id: int
    number: str


def _reply_items(q, cal, today: date, why: str) -> list[dict]:
    bound = clock_bounds(today)
    q = q.where(or_(clock_condition("overdue", today, bound), clock_condition("due_soon", today, bound)))
    out = []
    # Only the columns the item shows (a head's digest may hold every open case of the agency).
    cols = q.with_only_columns(Case.id, Case.number, Case.state, Case.reply_due, Case.paused_until,
                               Case.due_provisional)
    for c in db.session.execute(cols.order_by(Case.reply_due, Case.id)):
        status, left = clock_status(cal, c.reply_due, c.paused_until, today)
        out.append(_item(c, "reply", STATES[c.state], "答复期限", c.reply_due, c.due_provisional, status, left, why))
    return out


def _item(case, kind: str, step: str, deadline: str, due: date, provisional: bool, status: str,
          left: int | None, why: str) -> dict:
    """case: anything with the case's id and number (a row or a Case)."""
    return {"case_id": case.id, "case_number": case.number, "kind": kind, "step": step, "deadline": deadline,
            "due": due.isoformat(), "provisional": bool(provisional), "status": status,
            "days_left": left, "overdue_days": -left if status == "overdue" and left is not None else None,
            "why": why}


def for_user(user: User, today: date) -> list[dict]:
    """The items of ``user``'s digest on ``today``, most urgent first (overdue, then by due date)."""
    if not user.active or not user.has_role(*DIGEST_ROLES):
        return []
    cal = load_calendar()
    bound = clock_bounds(today)
    agency_open = db.select(Case).where(Case.agency_id == user.agency_id, Case.state.in_(sorted(OPEN_STATES)),
                                        Case.needs_triage.is_(False))
    items: list[dict] = []
    if user.has_role("head"):
        items += _reply_items(agency_open, cal, today, "本机关案件")
    if user.has_role("legal"):
        items += _reply_items(agency_open.where(Case.state == "review"), cal, today, "待法制审核")
    if user.has_role("handler"):
        mine = agency_open.where(Case.handler_id == user.id)
        items += _reply_items(mine, cal, today, "本人承办")
        # Sub-procedure deadlines: when one lapses (补正 not received, fee not paid, no answer) the
        # handler decides what follows; due_on is the other side's last day.
        steps = db.session.execute(
            db.select(Step, Case.id, Case.number).join(Case, Case.id == Step.case_id)
            .where(Case.agency_id == user.agency_id, Case.handler_id == user.id,
                   Case.state.in_(sorted(OPEN_STATES)), Case.needs_triage.is_(False),
                   Step.answered_on.is_(None), Step.result == "", Step.due_on.is_not(None), Step.due_on < bound)
            .order_by(Step.due_on, Step.id))
        for step, *case in steps:
            case = _Ref(*case)
            status, left = clock_status(cal, step.due_on, None, today)
            label = STEP_KINDS.get(step.kind, step.kind)
            items.append(_item(case, "step", label, f"{label}期限", step.due_on, step.due_provisional, status, left,
                               "本人承办"))
    # One entry per case and deadline, even for a user holding several roles.
    seen, unique = set(), []
    for it in items:
        key = (it["case_id"], it["kind"], it["deadline"], it["due"])
        if key not in seen:
            seen.add(key)
            unique.append(it)
    unique.sort(key=lambda it: (it["status"] != "overdue", it["due"], it["case_number"]))
    return unique


def store(user: User, today: date) -> Digest:
    """Compute and keep ``user``'s digest for ``today``: run twice, the same row is updated."""
    items = for_user(user, today)
    row = db.session.scalar(db.select(Digest).where(Digest.user_id == user.id, Digest.day == today))
    if row is None:
        row = Digest(user_id=user.id, agency_id=user.agency_id, day=today)
        db.session.add(row)
    row.items_json = json.dumps(items[:MAX_ITEMS], ensure_ascii=False)
    row.total = len(items)
    row.generated_at = utcnow()
    return row


def run_all(today: date | None = None) -> dict:
    """The morning run: every active user of an agency role gets today's digest (also when empty,
    so that a day without a row means the run did not happen). Commits per agency."""
    today = today or _today()
    users = list(db.session.scalars(db.select(User).where(User.active.is_(True)).order_by(User.agency_id, User.id)))
    users = [u for u in users if u.has_role(*DIGEST_ROLES)]
    stored = items = 0
    agency = None
    for u in users:
        if agency is not None and u.agency_id != agency:
            db.session.commit()
        agency = u.agency_id
        first = stored_for(u, today) is None  # a rerun of the day's digest sends nothing again
        row = store(u, today)
        if first and row.total > 0:
            notify.to_staff_digest(u, row.total, row.items)
        stored += 1
        items += row.total
    db.session.commit()
    log.info("digest %s: %d users, %d items", today.isoformat(), stored, items)
    return {"day": today.isoformat(), "users": stored, "items": items}


def stored_for(user: User, day: date) -> Digest | None:
    return db.session.scalar(db.select(Digest).where(Digest.user_id == user.id, Digest.day == day))


def today_for(user: User, today: date | None = None) -> dict:
    """What the 工作台 and the API show: today's stored digest, or, before the morning run has made
    it (or where no worker runs), the same computation done now and not stored."""
    today = today or _today()
    row = stored_for(user, today)
    if row is not None:
        return {"day": today.isoformat(), "generated_at": row.generated_at, "stored": True, "total": row.total,
                "items": row.items}
    items = for_user(user, today)
    return {"day": today.isoformat(), "generated_at": None, "stored": False, "total": len(items),
            "items": items[:MAX_ITEMS]}

