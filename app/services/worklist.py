"""What each role's 工作台 shows first: the work waiting for that role in particular.

The queue below it (services.cases.work_queue) lists every case of the role's stages by urgency;
these sections single out what only this role can move on: drafts and notices for the legal
adviser, 签发 and 延期申请 for the head, receipts for the clerk, notices ready to issue for the
handler, finished cases for the archivist.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Case, Letter, Step, User

SECTION_LIMIT = 20  # a section shows the first ones; its count says how many there are
STEP_NOTICE_NAMES = {"fee": "收费通知书", "consultation_third_party": "依申请公开告知书（第三方）"}


@dataclass
class Item:
    case: Case
    what: str  # what waits, in words
    since: date | None = None  # waiting since (the request, the draft, the decision)
    anchor: str = ""  # where on the case page the work is


@dataclass
class Section:
    key: str
    title: str
    hint: str
    items: list[Item] = field(default_factory=list)
    total: int = 0
    # Cross-agency requests (issue 16 item 2): listed by their letter, not by a case (an incoming
    # one's case belongs to another agency); "incoming" links to the request page, "outgoing" to the case.
    requests: list = field(default_factory=list)
    kind: str = "cases"  # cases | incoming | outgoing


def _agency(actor: User):
    return and_(Case.agency_id == actor.agency_id, Case.needs_triage.is_(False))


def _cases(q, limit: int) -> tuple[list[Case], int]:
    total = db.session.scalar(select(db.func.count()).select_from(q.with_only_columns(Case.id).subquery())) or 0
    rows = list(db.session.scalars(q.options(selectinload(Case.steps)).limit(limit))) if total else []
    return rows, total


def _mine(actor: User):
    """A handler alone sees the cases assigned to them (and unassigned ones), as in the queue."""
    if actor.roles <= {"handler"}:
        return or_(Case.handler_id == actor.id, Case.handler_id.is_(None))
    return True


def _notice_steps(actor: User, state: str, limit: int) -> tuple[list[Item], int]:
    q = (select(Step).join(Case, Step.case_id == Case.id)
         .where(_agency(actor), Step.notice_state == state, Case.state.not_in(("closed", "archived")),
                _mine(actor) if state == "approved" else True)
         .order_by(Step.started_on, Step.id))
    total = db.session.scalar(select(db.func.count()).select_from(q.with_only_columns(Step.id).subquery())) or 0
    steps = list(db.session.scalars(q.options(selectinload(Step.case)).limit(limit))) if total else []
    verb = "待法制审核" if state == "review" else "已审核，待出具"
    return [Item(s.case, f"《{STEP_NOTICE_NAMES.get(s.kind, s.kind_label)}》{verb}", s.started_on, "letters")
            for s in steps], total


def _legal(actor: User, limit: int) -> list[Section]:
    drafts, n = _cases(select(Case).where(_agency(actor), Case.state == "review")
                       .order_by(Case.reply_due.is_(None), Case.reply_due, Case.id), limit)
    notices, m = _notice_steps(actor, "review", limit)
    from . import agency_requests as AR
    answers, k = AR.incoming(actor, ("review",), limit)
    return [
        Section("legal-requests", "待审核的协办意见/征求意见答复", "审核通过的是提交的答复文本；文本修改后须重新审核。",
                requests=answers, total=k, kind="incoming"),
        Section("legal-drafts", "待法制审核的答复稿", "审核通过的是提交的那一版稿件；稿件修改后须重新审核。",
                [Item(c, "答复稿待审核", None, "actions") for c in drafts], n),
        Section("legal-notices", "待审核的文书", "收费通知书等须经法制审核的文书，审核通过后由承办人出具并生效。",
                notices, m),
    ]


def _head(actor: User, limit: int) -> list[Section]:
    signoff, n = _cases(select(Case).where(_agency(actor), Case.state == "signoff")
                        .order_by(Case.reply_due.is_(None), Case.reply_due, Case.id), limit)
    asked_q = (select(Step).join(Case, Step.case_id == Case.id)
               .where(_agency(actor), Step.kind == "extension_request", Step.answered_on.is_(None),
                      Step.result == "").order_by(Case.reply_due.is_(None), Case.reply_due, Step.id))
    m = db.session.scalar(select(db.func.count()).select_from(asked_q.with_only_columns(Step.id).subquery())) or 0
    asked = list(db.session.scalars(asked_q.options(selectinload(Step.case)).limit(limit))) if m else []
    return [
        Section("head-signoff", "待签发的答复", "经法制审核通过、等待您签发的答复稿。",
                [Item(c, "待签发", None, "actions") for c in signoff], n),
        Section("head-extensions", "延期申请", "承办人申请延长答复期限（第三十三条），须在答复期限届满前批准。",
                [Item(s.case, f"申请延长{s.details.get('days')}个工作日：{s.details.get('reason') or ''}",
                      s.started_on, "actions") for s in asked], m),
    ]


def _transferred(actor: User, limit: int) -> Section:
    """分办来的申请: requests another agency transferred here, until someone here is assigned."""
    from .transfer import received_unassigned
    rows, n = received_unassigned(actor, limit)
    return Section("transferred", "分办来的申请", "其他机关分办给本机关答复的申请，答复期限自原机关收到申请之日起计算；请分派承办人。",
                   [Item(c, f"由{t.from_agency.name}于{t.transferred_on.isoformat()}分办：{t.reason}", c.received_on,
                         "actions") for c, t in rows], n)


def _clerk(actor: User, limit: int) -> list[Section]:
    # A receipt (登记回执) not yet issued for a request still being handled.
    no_receipt = ~exists().where(Letter.case_id == Case.id, Letter.notice_ref == "receipt")
    rows, n = _cases(select(Case).where(_agency(actor), Case.state.in_(("registered", "correction", "handling")),
                                        no_receipt).order_by(Case.received_on, Case.id), limit)
    return [Section("clerk-receipts", "待出具登记回执", "已登记、尚未出具登记回执的申请。",
                    [Item(c, "登记回执未出具", c.received_on, "letters") for c in rows], n)]


def _transferred_section(actor: User, limit: int) -> list[Section]:
    sec = _transferred(actor, limit)
    return [sec] if sec.total else []  # most agencies never receive one: no empty section for them


def _handler(actor: User, limit: int) -> list[Section]:
    from . import agency_requests as AR

    notices, n = _notice_steps(actor, "approved", limit)
    incoming, m = AR.incoming(actor, ("open", "drafted", "review", "approved"), limit)
    outgoing, k = AR.outgoing_open(actor, limit)
    return [Section("handler-notices", "已审核待出具的文书", "法制审核已通过；出具之日起生效（收费通知书自出具之日起暂停计时）。",
                    notices, n),
            Section("handler-incoming-requests", "收到的协办函/征求意见",
                    "其他机关发来的协办函（5个工作日内报送协办意见）和征求意见书（15个工作日内答复）；答复须经本机关法制审核后出具。",
                    requests=incoming, total=m, kind="incoming"),
            Section("handler-outgoing-requests", "发出的协办函/征求意见（待对方答复）",
                    "本机关发给平台上其他机关、尚未答复的协办函和征求意见书；逾期的标为“已逾期”。",
                    requests=outgoing, total=k, kind="outgoing")]


def _archivist(actor: User, limit: int) -> list[Section]:
    rows, n = _cases(select(Case).where(_agency(actor), Case.state.in_(("delivered", "closed")))
                     .order_by(Case.closed_on.is_(None), Case.closed_on, Case.id), limit)
    return [Section("archivist-ready", "待归档的案件", "已送达或已办结、尚未归档的案件，按办结日期先后。",
                    [Item(c, "待归档", c.closed_on, "actions") for c in rows], n)]


ROLE_SECTIONS = {"legal": _legal, "head": _head, "clerk": _clerk, "handler": _handler, "archivist": _archivist}


def my_work(actor: User, limit: int = SECTION_LIMIT) -> list[Section]:
    """The sections of the actor's roles, in the order of ROLE_SECTIONS."""
    out: list[Section] = []
    if actor.has_role("clerk", "head"):  # either may assign the handler of a transferred request
        out.extend(_transferred_section(actor, limit))
    for role, build in ROLE_SECTIONS.items():
        if actor.has_role(role):
            out.extend(build(actor, limit))
    return out
