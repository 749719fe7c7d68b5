"""分办 (issue 16 item 1): which agencies a request can be transferred to, and what the sending
agency keeps of a transferred request (the transfer record and the 分办告知书, nothing else).

The step itself is the workflow action "transfer" (services/cases.py): the case moves to the
answering agency; the annual report then counts it there, once (it counts by Case.agency_id)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Agency, Case, CaseTransfer, Letter, User
from .errors import NotFound, ServiceError

# Who can receive a transferred request: an agency with an active clerk or head (its 工作台 shows it).
RECEIVING_ROLES = ("clerk", "head")


def targets(actor: User) -> list[Agency]:
    """The other agencies on the platform that can receive a request, by name."""
    out = []
    for a in db.session.scalars(select(Agency).where(Agency.id != actor.agency_id).order_by(Agency.name, Agency.id)
                                .options(selectinload(Agency.users))):
        if any(u.active and u.has_role(*RECEIVING_ROLES) for u in a.users):
            out.append(a)
    return out


def target(actor: User, agency_id: int | None) -> Agency:
    if agency_id == actor.agency_id:
        raise ServiceError("不能分办给本机关", "agency_id")
    a = next((a for a in targets(actor) if a.id == agency_id), None)
    if a is None:
        raise ServiceError("答复机关无效：须为平台上另一个有在职登记员或负责人的机关", "agency_id")
    return a


def sent(actor: User, limit: int = 200) -> list[CaseTransfer]:
    """The requests the actor's agency transferred away, newest first (its ledger of 已分办)."""
    return list(db.session.scalars(
        select(CaseTransfer).where(CaseTransfer.from_agency_id == actor.agency_id)
        .order_by(CaseTransfer.at.desc(), CaseTransfer.id.desc()).limit(limit)
        .options(selectinload(CaseTransfer.to_agency), selectinload(CaseTransfer.by))))


def sent_matching(actor: User, q: str, limit: int = 20) -> list[CaseTransfer]:
    """The actor's agency's transfers whose case number (or answering agency) holds ``q``: the search
    page shows them as 已分办至X, since the case itself is no longer the agency's."""
    q = (q or "").strip()
    if not q:
        return []
    like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return list(db.session.scalars(
        select(CaseTransfer).join(Agency, Agency.id == CaseTransfer.to_agency_id)
        .where(CaseTransfer.from_agency_id == actor.agency_id,
               CaseTransfer.number.ilike(like, escape="\\") | Agency.name.ilike(like, escape="\\"))
        .order_by(CaseTransfer.at.desc(), CaseTransfer.id.desc()).limit(limit)))


def last_sent(actor: User, case_id: int) -> CaseTransfer:
    t = db.session.scalar(select(CaseTransfer).where(CaseTransfer.from_agency_id == actor.agency_id,
                                                     CaseTransfer.case_id == case_id)
                          .order_by(CaseTransfer.id.desc()).limit(1))
    if t is None:
        raise NotFound("分办记录不存在")
    return t


def sent_record(actor: User, transfer_id: int) -> CaseTransfer:
    """One transfer of the actor's agency; another agency's (or none) does not exist for them."""
    t = db.session.get(CaseTransfer, transfer_id)
    if t is None or t.from_agency_id != actor.agency_id:
        raise NotFound("分办记录不存在")
    return t


def sent_letter(actor: User, transfer_id: int) -> Letter:
    t = sent_record(actor, transfer_id)
    if t.letter is None:
        raise NotFound("分办告知书不存在")
    return t.letter


def received_unassigned(actor: User, limit: int) -> tuple[list[tuple[Case, CaseTransfer]], int]:
    """Requests transferred to the actor's agency that nobody there has been assigned yet."""
    q = (select(Case, CaseTransfer).join(CaseTransfer, CaseTransfer.case_id == Case.id)
         .where(Case.agency_id == actor.agency_id, CaseTransfer.to_agency_id == actor.agency_id,
                Case.handler_id.is_(None), Case.state == "registered")
         .order_by(Case.received_on, Case.id))
    total = db.session.scalar(select(db.func.count()).select_from(q.with_only_columns(Case.id).subquery())) or 0
    rows = [(c, t) for c, t in db.session.execute(q.limit(limit))] if total else []
    return rows, total
