"""What goes into a case file (案卷) and in which order (handbook §7).

The default order follows DA/T 22-2015 as most offices apply it to one-case-one-file folders:
the reply first, the application last (复文在前、来文在后). ``chronological`` files everything
by date instead (application first, reply last). The order is a setting (CASEFILE_ORDER) and
can be chosen per print.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from flask import current_app

from ..models import Attachment, Case, Letter
from ..services.checklist import approved_draft, letter_group
from ..services import redaction as R
from ..services.time import local
from ..models.attachment import ATTACHMENT_CATEGORIES

ORDERS = {"dat22": "按DA/T 22排列（复文在前、来文在后）", "chronological": "按时间顺序排列"}

# Groups in DA/T 22 order (handbook §7, items 2–13).
GROUPS = ("reply", "approval", "information", "service", "fee", "extension", "consultation", "correction",
          "reasons", "cohandle", "register", "application", "other", "appendix")
GROUP_LABELS = {
    "reply": "答复书", "approval": "审批记录", "information": "提供的信息", "service": "送达凭证",
    "fee": "收费材料", "extension": "延期答复材料", "consultation": "征求意见材料", "correction": "补正材料",
    "reasons": "说明理由材料", "cohandle": "协办材料", "register": "登记材料", "application": "申请材料",
    "other": "其他材料", "appendix": "附录",
}

ATTACHMENT_GROUPS = {
    "information_provided": "information",
    "proof_of_service": "service",
    "third_party_reply": "consultation",
    "corrected_application": "correction",
    "application_form": "application",
    "identity": "application",
    "envelope": "application",
    "postal_receipt": "application",
    "other": "other",
}
# Within the application group: the request itself, then who made it, then how it arrived.
APPLICATION_ORDER = {"application_form": 0, "identity": 1, "envelope": 2, "postal_receipt": 3}
RECEIVED_WITH_REQUEST = frozenset(APPLICATION_ORDER)

# Scans the applicant made or sent (DA/T 22: the 责任者 of incoming material is its author).
FROM_APPLICANT = frozenset(RECEIVED_WITH_REQUEST | {"corrected_application"})


def responsible(case: Case, att: Attachment) -> str:
    """责任者 of a scan: the applicant for what the applicant sent, the consulted party for its
    reply, the agency for what it made itself (proof of service, information provided); blank for
    "other", where the system cannot know."""
    if att.category in FROM_APPLICANT:
        return case.applicant_name or ""
    if att.category == "third_party_reply":
        parties = [s.party for s in case.steps_of("consultation_third_party", "consultation_agency") if s.party]
        return "、".join(dict.fromkeys(parties))
    if att.category in ("proof_of_service", "information_provided"):
        return case.agency.name
    return ""


def local_date(dt: datetime | None) -> date | None:
    d = local(dt)
    return d.date() if d else None


@dataclass
class Item:
    """One item (件) of the file: a letter, a scan, or a page the system writes (generated)."""

    kind: str  # letter | attachment | release | generated
    group: str
    title: str
    number: str = ""
    on: date | None = None
    letter: Letter | None = None
    attachment: Attachment | None = None
    release: object | None = None  # the released copy (删除处理版) of a partial disclosure
    section: str = ""  # generated: approval | service | redaction | timeline
    note: str = ""
    responsible: str = ""  # 责任者 (DA/T 22): who made the document
    order: tuple = ()
    pages: int = 0
    first_page: int = 0  # set when the file is laid out
    meta: dict = field(default_factory=dict)

    @property
    def last_page(self) -> int:
        return self.first_page + self.pages - 1

    @property
    def page_range(self) -> str:
        if not self.pages:
            return ""
        return str(self.first_page) if self.pages == 1 else f"{self.first_page}-{self.last_page}"


def collect_items(case: Case, order: str = "dat22") -> list[Item]:
    """Every item of the case file, ordered; page counts of imported items filled in by the caller."""
    if order not in ORDERS:
        raise ValueError(order)
    items: list[Item] = []
    for n, letter in enumerate(case.letters):
        g = letter_group(letter, case)
        items.append(Item("letter", g, letter.title, letter.number or "", local_date(letter.issued_at), letter=letter,
                          pages=letter.pages, responsible=case.agency.name, order=(local(letter.issued_at) or datetime.min, 0, n)))
    d = approved_draft(case)
    if d is not None:
        on = local(d.signed_at)
        items.append(Item("generated", "approval", "政府信息公开申请答复审批单", "", on.date() if on else None,
                          section="approval", responsible=case.agency.name, order=(on or datetime.min, 1, 0)))
    if case.deliveries:
        first = case.deliveries[0].delivered_on
        items.append(Item("generated", "service", "送达记录", "", first, section="service",
                          responsible=case.agency.name, order=(datetime.combine(first, datetime.min.time()), 2, 0)))
    rel = R.issued_release(case)
    if rel is not None:
        # Handbook §7 item 4: the information provided and the record of what was withheld and why.
        when = local(rel.finished_at) or datetime.min
        items.append(Item("release", "information", "提供的信息（删除处理版）", "", when.date() if rel.finished_at else None,
                          release=rel, pages=rel.pages, note="删除处理版", responsible=case.agency.name,
                          order=(when, 3, 0)))
        items.append(Item("generated", "information", "删除处理记录", "", when.date() if rel.finished_at else None,
                          section="redaction", responsible=case.agency.name, order=(when, 3, 1),
                          meta={"release": rel, "documents": R.documents(case), "boxes": R.boxes(case)}))
    for n, att in enumerate(case.attachments):
        g = ATTACHMENT_GROUPS.get(att.category, "other")
        if att.category in RECEIVED_WITH_REQUEST:
            on = case.received_on  # it came with the request, whenever it was scanned
            when = datetime.combine(on, datetime.min.time())
            sub = APPLICATION_ORDER[att.category]
        else:
            when = local(att.uploaded_at) or datetime.min
            on, sub = when.date(), 5
        items.append(Item("attachment", g, att.title or att.category_label, "", on, attachment=att,
                          pages=att.pages, note=ATTACHMENT_CATEGORIES.get(att.category, ""),
                          responsible=responsible(case, att),
                          order=(when, 3 + sub, n)))
    if order == "dat22":
        rank = {g: i for i, g in enumerate(GROUPS)}
        items.sort(key=lambda it: (rank[it.group], it.order))
    else:
        items.sort(key=lambda it: it.order)
    items.append(Item("generated", "appendix", "办理过程记录", "", None, section="timeline", note="附录",
                       responsible=case.agency.name))
    return items


def order_setting(requested: str | None = None) -> str:
    o = requested or current_app.config["CASEFILE_ORDER"]
    return o if o in ORDERS else "dat22"
