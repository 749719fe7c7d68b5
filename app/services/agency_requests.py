"""Cross-agency 协办 and Art. 34 consultation (issue 16 item 2): a request from an asking case to
another agency on the platform, answered in that agency and returned to the asking step.

Isolation: the target agency reaches the request through ``get_request`` only; nothing here hands it
the asking case (the page shows the letter's content: matter, dates, the asking agency's name)."""
from __future__ import annotations

import hashlib
from datetime import date
from typing import Any, Mapping

from sqlalchemy import select
from sqlalchemy.orm.attributes import flag_modified

from ..extensions import db
from ..models import Agency, AgencyRequest, Case, Event, Letter, Step, User
from .audit import _json, record
from .base import commit_step
from .clocks import refresh_clock
from .errors import Conflict, NotFound, ServiceError
from .params import Params
from .time import today as _today

CONSULTATION_ANSWERS = {"agree": "同意公开", "object": "不同意公开"}
# Who acts in the target agency: its handler drafts, submits and issues; its legal adviser reviews.
ANSWER_ROLES = frozenset({"handler"})
REVIEW_ROLES = frozenset({"legal"})
VIEW_ROLES = frozenset({"clerk", "handler", "legal", "head", "archivist", "admin"})


def platform_agencies(actor: User) -> list[Agency]:
    """The other agencies a request may be sent to (the form's select)."""
    return list(db.session.scalars(select(Agency).where(Agency.id != actor.agency_id).order_by(Agency.code)))


def target_agency(actor: User, agency_id: int | None) -> Agency | None:
    if agency_id is None:
        return None
    a = db.session.get(Agency, agency_id)
    if a is None or a.id == actor.agency_id:
        raise ServiceError("协办/征求意见机关无效：须为平台上的其他机关", "to_agency_id")
    return a


def open_request(case: Case, step: Step, actor: User, to: Agency, kind: str) -> AgencyRequest:
    """Created when the asking step is recorded (in its transaction): the letter then is in the
    target's queue at once, its due date the step's (5 working days from sending for 协办, 15 from
    receipt for consultation)."""
    r = AgencyRequest(kind=kind, from_case_id=case.id, from_step_id=step.id, from_agency_id=case.agency_id,
                      to_agency_id=to.id, sent_on=step.started_on, due_on=step.due_on,
                      matter=step.details.get("matter", ""), state="open", result="", answer_text="",
                      answer_hash="", approved_hash="")
    db.session.add(r)
    db.session.flush()
    step.details = {**step.details, "agency_request_id": r.id}  # the case page links to it
    _event(r, actor, "agency_request_open", f"收到{r.kind_label}", None, "open", {"from_step_id": step.id})
    return r


def _event(r: AgencyRequest, actor: User, action: str, label: str, from_state: str | None, to_state: str | None,
           data: dict | None = None) -> None:
    """The request's own audit trail: in the target agency, with no case (its agency does not see it)."""
    db.session.add(Event(agency_id=r.to_agency_id, case_id=None, actor_id=actor.id, action=action, label=label,
                         from_state=from_state, to_state=to_state,
                         data_json=_json({"agency_request_id": r.id, **(data or {})})))


def request_events(r: AgencyRequest) -> list[Event]:
    rows = db.session.scalars(select(Event).where(Event.case_id.is_(None), Event.agency_id == r.to_agency_id,
                                                  Event.action.like("agency_request_%")).order_by(Event.id))
    return [e for e in rows if e.data.get("agency_request_id") == r.id]


def get_request(request_id: int, actor: User) -> AgencyRequest:
    """A request of the actor's agency, as target or as asker; any other agency: 404."""
    r = db.session.get(AgencyRequest, request_id)
    if r is None or actor.agency_id not in (r.to_agency_id, r.from_agency_id):
        raise NotFound("协办函/征求意见不存在")
    return r


def answer_hash(text: str, result: str) -> str:
    return hashlib.sha256(f"{result}\n{text}".encode()).hexdigest()


def _target(actor: User, request_id: int, version: int | None, roles: frozenset[str], who: str) -> AgencyRequest:
    r = get_request(request_id, actor)
    if r.to_agency_id != actor.agency_id:
        raise ServiceError("只有收到协办函/征求意见书的机关可以办理")
    if not actor.has_role(*roles):
        raise ServiceError(f"该操作只能由{who}办理")
    if version is not None and version != r.version:
        raise Conflict("该协办函/征求意见已被他人修改，请刷新页面后重试；您的输入未被保存。")
    return r


def _commit() -> None:
    commit_step()


def _run(fn):
    try:
        return fn()
    except ServiceError:
        db.session.rollback()
        raise


def save_answer(actor: User, request_id: int, raw: Mapping[str, Any], version: int | None = None) -> AgencyRequest:
    """The handler's draft of the 协办意见 / consultation answer (a changed text loses its approval)."""
    def go():
        r = _target(actor, request_id, version, ANSWER_ROLES, "承办人")
        if r.state not in ("open", "drafted", "approved"):
            raise ServiceError("答复已提交审核或已出具，不能修改")
        p = Params(raw)
        result = ""
        if r.kind == "consultation":
            result = p.choice("result", "意见", CONSULTATION_ANSWERS)
        text = p.text("answer_text", "协办意见" if r.kind == "cohandle" else "意见内容", required=True, max_len=4000)
        before = r.state
        r.answer_text, r.result, r.answer_hash = text, result, answer_hash(text, result)
        r.drafted_by_id, r.state = actor.id, "drafted"
        if r.approved_hash != r.answer_hash:
            r.approved_hash, r.approved_by_id = "", None
        _event(r, actor, "agency_request_draft", "起草答复", before, r.state, {"answer_hash": r.answer_hash})
        _commit()
        return r
    return _run(go)


def submit_answer(actor: User, request_id: int, version: int | None = None) -> AgencyRequest:
    def go():
        r = _target(actor, request_id, version, ANSWER_ROLES, "承办人")
        if r.state != "drafted":
            raise ServiceError("请先起草答复")
        r.state = "review"
        _event(r, actor, "agency_request_submit", "提交法制审核", "drafted", "review", {"answer_hash": r.answer_hash})
        _commit()
        return r
    return _run(go)


def approve_answer(actor: User, request_id: int, raw: Mapping[str, Any], version: int | None = None) -> AgencyRequest:
    """Legal approval of exactly the text seen (its hash); a text changed since is refused."""
    def go():
        r = _target(actor, request_id, version, REVIEW_ROLES, "法律顾问")
        if r.state != "review":
            raise ServiceError("该答复不在待审核状态")
        seen = Params(raw).text("answer_hash", "答复版本", max_len=64)
        if seen and seen != r.answer_hash:
            raise Conflict("答复已被修改，请刷新后审核最新版本")
        if r.drafted_by_id == actor.id:
            raise ServiceError("起草人不能审核自己起草的答复")
        r.approved_hash, r.approved_by_id, r.state = r.answer_hash, actor.id, "approved"
        _event(r, actor, "agency_request_approve", "法制审核通过", "review", "approved", {"answer_hash": r.answer_hash})
        _commit()
        return r
    return _run(go)


def return_answer(actor: User, request_id: int, raw: Mapping[str, Any], version: int | None = None) -> AgencyRequest:
    def go():
        r = _target(actor, request_id, version, REVIEW_ROLES, "法律顾问")
        if r.state != "review":
            raise ServiceError("该答复不在待审核状态")
        comments = Params(raw).text("comments", "退回意见", required=True, max_len=2000)
        r.state = "drafted"
        _event(r, actor, "agency_request_return", "退回修改", "review", "drafted", {"comments": comments})
        _commit()
        return r
    return _run(go)


def issue_answer(actor: User, request_id: int, raw: Mapping[str, Any], version: int | None = None) -> AgencyRequest:
    """出具: the approved answer goes back to the asking case: its step is answered on the issue date
    (ending the consultation's pause), with an event on the case and on the request."""
    def go():
        r = _target(actor, request_id, version, ANSWER_ROLES, "承办人")
        if r.state != "approved" or r.approved_hash != r.answer_hash:
            raise ServiceError("答复须经法制审核通过后才能出具")
        today = _today()
        on = Params(raw).date("issued_on", "出具日期", default=today)
        if on > today:
            raise ServiceError("出具日期不能晚于今天", "issued_on")
        if on < r.sent_on:
            raise ServiceError(f"出具日期不能早于来函日期（{r.sent_on.isoformat()}）", "issued_on")
        s, case = r.from_step, r.from_case
        if not s.is_open:
            raise ServiceError("来函机关已登记了该环节的结果，无需再出具")
        r.state, r.answered_on, r.answered_by_id = "answered", on, actor.id
        s.answered_on = on
        late = on > r.due_on
        if r.kind == "cohandle":
            s.result = "replied"
            s.details = {**s.details, "note": r.answer_text, "agency_request_id": r.id, "late": late}
        else:
            s.result = r.result
            s.details = {**s.details, "opinion": r.answer_text, "effect": "", "agency_request_id": r.id,
                         "late": late}
        flag_case = case.state
        flag_modified(case, "state")  # bumps the case's version: a form open on it is stale now
        refresh_clock(case, today)
        action = "cohandle_reply" if r.kind == "cohandle" else "consultation_reply"
        label = f"{r.to_agency.name}出具{'协办意见' if r.kind == 'cohandle' else '征求意见答复'}"
        record(case, actor, action, label, flag_case, case.state, {
            "step_id": s.id, "answered_on": on, "result": s.result, "agency_request_id": r.id,
            "from_agency": r.to_agency.name, "late": late, "reply_due": case.reply_due})
        _event(r, actor, "agency_request_issue", "出具答复", "approved", "answered",
               {"answered_on": on.isoformat(), "answer_hash": r.answer_hash, "late": late})
        _commit()
        return r
    return _run(go)


def _step_open():
    """The asking step still waits: the asking agency may also have recorded its result by hand (an
    answer on paper, a consultation lapsed and deemed consent); such a request leaves both queues."""
    return AgencyRequest.from_step_id.in_(select(Step.id).where(Step.answered_on.is_(None), Step.result == ""))


def incoming(actor: User, states: tuple[str, ...], limit: int) -> tuple[list[AgencyRequest], int]:
    q = (select(AgencyRequest).where(AgencyRequest.to_agency_id == actor.agency_id,
                                     AgencyRequest.state.in_(states), _step_open())
         .order_by(AgencyRequest.due_on, AgencyRequest.id))
    total = db.session.scalar(select(db.func.count()).select_from(q.with_only_columns(AgencyRequest.id).subquery()))
    return list(db.session.scalars(q.limit(limit))), total or 0


def outgoing_open(actor: User, limit: int) -> tuple[list[AgencyRequest], int]:
    q = (select(AgencyRequest).where(AgencyRequest.from_agency_id == actor.agency_id,
                                     AgencyRequest.state != "answered", _step_open())
         .order_by(AgencyRequest.due_on, AgencyRequest.id))
    total = db.session.scalar(select(db.func.count()).select_from(q.with_only_columns(AgencyRequest.id).subquery()))
    return list(db.session.scalars(q.limit(limit))), total or 0


def for_step(step_id: int) -> AgencyRequest | None:
    return db.session.scalar(select(AgencyRequest).where(AgencyRequest.from_step_id == step_id))


def is_late(r: AgencyRequest, today: date | None = None) -> bool:
    return r.overdue(today or _today())


def request_letter(r: AgencyRequest) -> Letter | None:
    """The asking agency's 协办函/征求意见书 of this request as issued (the latest reissue), if it was:
    the one document of the asking case the target may open."""
    return db.session.scalar(select(Letter).where(Letter.case_id == r.from_case_id,
                                                  Letter.notice_ref == f"step-{r.from_step_id}")
                             .order_by(Letter.reissue_no.desc()).limit(1))
