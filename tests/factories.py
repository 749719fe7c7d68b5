"""Build cases at any stage through the real services (register_case / perform), with real dates.

Every helper goes through app.services, so a case built here has exactly the steps, drafts and
audit events a real office would produce. The defaults use the shared fixtures' dates: the office's
today is 2026-11-23 (Mon) and the request is handed in on 2026-11-02 (Mon), so the reply is due
2026-11-30 and a correction notice is still possible on 2026-11-04 (deadline 2026-11-11).
"""
from __future__ import annotations

from datetime import date
from typing import Any

from app.cli import DEMO_PASSWORD, create_agency, create_user
from app.domain.workflow import ACTIONS
from app.extensions import db
from app.models import Agency, Case, Draft, Event, Step, User
from app.services import cases as S
from tests.conftest import INTAKE, user

STAGES = ("registered", "correction", "handling", "review", "signoff", "signed", "replied", "delivered",
          "closed", "archived")
DEMO_USERNAMES = ("clerk", "handler", "handler2", "legal", "head", "archivist", "admin", "sysadmin")

RECEIVED = "2026-11-02"
CORRECTION_NOTICE_ON = "2026-11-04"  # within 7 working days of 2026-11-02 (deadline 2026-11-11)

DISCLOSE_DRAFT = {"outcome": "disclose", "decision": "经审查，您申请的信息予以公开。",
                  "obtain": "随本答复书邮寄提供复印件"}


def d(iso: str) -> date:
    return date.fromisoformat(iso)


# ------------------------------------------------------------------ users and agencies

def demo_users() -> dict[str, User]:
    return {u: user(u) for u in DEMO_USERNAMES}


def users_with_role(*roles: str) -> list[User]:
    return [u for u in demo_users().values() if u.has_role(*roles)]


def users_lacking(action: str) -> list[User]:
    need = ACTIONS[action].roles
    return [u for u in demo_users().values() if not (u.roles & need)]


def actor_for(action: str) -> User:
    """A demo user holding one of the roles the action needs (handler before clerk: fewer queues)."""
    for name in ("handler", "clerk", "legal", "head", "archivist", "admin"):
        u = user(name)
        if u.roles & ACTIONS[action].roles:
            return u
    raise AssertionError(f"no demo user may take {action}")


def other_agency(code: str = "OTHER") -> tuple[Agency, dict[str, User]]:
    """A second agency with one user per role (usernames prefixed with the code in lower case)."""
    agency = create_agency(code, f"{code} 测试机关")
    prefix = code.lower()
    users = {}
    for role in ("clerk", "handler", "legal", "head", "archivist", "admin"):
        users[role] = create_user(agency, f"{prefix}_{role}", f"{code}{role}", DEMO_PASSWORD, [role])
    return agency, users


# ------------------------------------------------------------------ intake

def register(clerk: User | None = None, **over: Any) -> Case:
    """Register a request (in person by default: received on arrived_on)."""
    return S.register_case(clerk or user("clerk"), {**INTAKE, **over})


def act(case: Case, username_or_user: str | User, action: str, params: dict | None = None) -> Case:
    actor = user(username_or_user) if isinstance(username_or_user, str) else username_or_user
    return S.perform(case.id, actor, action, params or {})


# ------------------------------------------------------------------ stages

def to_correction(case: Case, notice_date: str = CORRECTION_NOTICE_ON, **over: Any) -> Case:
    return act(case, "handler", "request_correction",
               {"notice_date": notice_date, "items": "请明确所需信息的时间范围和具体项目",
                "guidance": "可参考本机关主动公开目录", **over})


def to_handling(case: Case) -> Case:
    return act(case, "handler", "start")


def issue_fee_notice(case: Case, on: str | date | None = None, handler: str = "handler") -> Case:
    """Review and issue the case's pending 收费通知书 (it takes effect on ``on``, default today)."""
    from app.services import letters as L
    from app.services.time import today
    step = next(s for s in case.steps_of("fee") if s.notice_state in ("review", "approved"))
    ref = f"step-{step.id}"
    if step.notice_state == "review":
        L.approve_notice(case.id, user("legal"), ref)
    when = d(on) if isinstance(on, str) else (on or today())
    L.issue_notice(case.id, user(handler), ref, when)
    return reload(case)


def fee_in_effect(case: Case, params: dict, on: str | date | None = None) -> Case:
    """Decide a fee (fee_notice) and put its notice in force on ``on``."""
    act(case, "handler", "fee_notice", params)
    return issue_fee_notice(reload(case), on)


def save_draft(case: Case, **fields: Any) -> Case:
    return act(case, "handler", "save_draft", {**DISCLOSE_DRAFT, **fields})


def to_review(case: Case, **draft: Any) -> Case:
    save_draft(case, **draft)
    return act(case, "handler", "submit_draft")


def approve(case: Case) -> Case:
    return act(case, "legal", "approve", {"secrecy_reviewed": "y", "secrecy_note": "不涉及国家秘密",
                                          "draft_hash": case.current_draft.content_hash})


def to_signed(case: Case) -> Case:
    return act(case, "head", "sign_off", {"note": "同意"})


def issue(case: Case) -> Case:
    return act(case, "handler", "issue")


def deliver(case: Case) -> Case:
    return act(case, "clerk", "deliver", {"method": "post", "proof": "EMS1100000000"})


def withdraw(case: Case) -> Case:
    return act(case, "clerk", "withdraw", {"note": "申请人书面撤回"})


def archive(case: Case) -> Case:
    return act(case, "archivist", "archive", {"archive_number": f"OGI-{case.number}", "retention": "10y"})


def build_case(stage: str, *, via: str = "delivered", **intake: Any) -> Case:
    """A case in ``stage``, walked there through the services from a fresh registration.

    ``closed`` is reached by the applicant's withdrawal; the reply path goes registered → handling →
    review → signoff → signed → replied → delivered → archived. ``via="closed"`` archives a
    withdrawn request instead of a delivered reply.
    """
    if stage not in STAGES:
        raise ValueError(stage)
    case = register(**intake)
    if stage == "registered":
        return case
    if stage == "correction":
        return to_correction(case)
    if stage == "closed" or (stage == "archived" and via == "closed"):
        withdraw(case)
        return case if stage == "closed" else archive(case)
    to_handling(case)
    if stage == "handling":
        return case
    to_review(case)
    if stage == "review":
        return case
    approve(case)
    if stage == "signoff":
        return case
    to_signed(case)
    if stage == "signed":
        return case
    issue(case)
    if stage == "replied":
        return case
    deliver(case)
    if stage == "delivered":
        return case
    return archive(case)


# ------------------------------------------------------------------ reading back from the database

def reload(case_or_id: Case | int) -> Case:
    """The case as stored: drop everything the session remembers and read it again."""
    cid = case_or_id if isinstance(case_or_id, int) else case_or_id.id
    db.session.expire_all()
    return db.session.get(Case, cid)


def events(case_id: int) -> list[Event]:
    return list(db.session.scalars(db.select(Event).where(Event.case_id == case_id).order_by(Event.id)))


def snapshot(case_id: int) -> dict:
    """Everything a refused step must leave untouched, read fresh from the database."""
    db.session.expire_all()
    c = db.session.get(Case, case_id)

    def count(model) -> int:
        return db.session.scalar(db.select(db.func.count()).select_from(model).where(model.case_id == case_id))

    return {
        "state": c.state, "version": c.version, "handler_id": c.handler_id, "reply_due": c.reply_due,
        "extension_days": c.extension_days, "override_due": c.override_due, "clock_start": c.clock_start,
        "outcome_code": c.outcome_code, "closed_on": c.closed_on, "archived_on": c.archived_on,
        "archive_number": c.archive_number, "retention": c.retention,
        "current_draft_id": c.current_draft_id, "issued_draft_id": c.issued_draft_id,
        "events": count(Event), "steps": count(Step), "drafts": count(Draft),
        "open_steps": sum(1 for s in c.steps if s.is_open),
        "approved": [(x.approved_hash, x.signed_hash) for x in c.drafts],
    }


def count_of(app, model, case_id: int) -> int:
    """How many rows of ``model`` the case has, read in an app context of its own."""
    with app.app_context():
        try:
            return db.session.scalar(db.select(db.func.count()).select_from(model).where(model.case_id == case_id))
        finally:
            db.session.remove()


# ------------------------------------------------------------------ calendar

def save_year(actor: User, year: int, holidays: str, makeup: str, source: str):
    """Enter a calendar year as the system administrator does, then run the recompute job it
    submitted here (the worker's part, in process). Returns the row and the cases recomputed."""
    from app.services import calendar as CalS
    from app.services import jobs as background

    row, pending, job = CalS.save_year(actor, year, holidays, makeup, source)
    if job is not None:
        background.run_pending()
        db.session.expire_all()
        assert db.session.get(type(job), job.id).status == "done", job.error
    return row, pending
