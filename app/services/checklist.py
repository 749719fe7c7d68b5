"""The archiving checklist (handbook §7): what the file must hold and what is missing.

``archive_blockers(case)`` lists the mandatory items still missing; the archive action refuses
while it is not empty. Mandatory, for a case that ended with a reply that was served: the issued
reply letter and proof of service. Everything else on the checklist is a warning: the archivist
sees it, the 备考表 records it, but filing is not held up by it.

It is the guard of the archive step (services.cases.archive), so it lives with the services; the
printed case file (app/casefile) files letters under the same groups.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..domain import archive_number as AN
from ..extensions import db
from ..models import Case, Draft, Letter, User
from ..models.case import CONSULTATION_RESULTS

READY_STATES = ("delivered", "closed")

# Letter types by key (letters catalogue) or, failing that, by words of the title.
LETTER_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("correction", ("correction", "补正")),
    ("extension", ("extension", "extend", "延期")),
    ("consultation", ("consult", "third_party", "征求意见", "第三方")),
    ("fee", ("fee", "收费", "缴费")),
    ("reasons", ("reasons", "说明理由")),
    ("cohandle", ("cohandle", "协办")),
    ("service", ("service", "送达")),
    ("register", ("receipt", "acknowledg", "回执", "登记")),
)


def letter_group(letter: Letter, case: Case) -> str:
    """The group a letter files under; the issued reply (from the signed draft) is the reply."""
    key, title = (letter.key or "").lower(), letter.title or ""
    if (letter.draft_id is not None and letter.draft_id == case.issued_draft_id) or key.startswith("reply") \
            or "答复书" in title or "不再处理" in title:
        return "reply"
    for group, words in LETTER_KEYWORDS:
        if any(w in key for w in words if w.isascii()) or any(w in title for w in words if not w.isascii()):
            return group
    return "reply"  # an unknown letter type is an outgoing reply of some kind: keep it in front


def approved_draft(case: Case) -> Draft | None:
    """The draft the reply was issued from, if it was approved and signed (the approval record)."""
    d = case.issued_draft or case.current_draft
    if d is None or not d.approved_hash or not d.signed_hash:
        return None
    return d


@dataclass(frozen=True)
class Check:
    label: str
    ok: bool
    mandatory: bool = False
    detail: str = ""

    @property
    def status(self) -> str:
        return "ok" if self.ok else ("missing" if self.mandatory else "warning")


def _replied(case: Case) -> bool:
    """The request ended with a reply that went out (the delivered path), not a withdrawal or lapse."""
    return bool(case.deliveries) or case.state == "delivered" or case.issued_draft_id is not None


def _letter_heads(case: Case) -> list:
    """The case's letters without their PDF bytes (the checklist needs only what they are)."""
    rows = db.session.execute(db.select(Letter.id, Letter.key, Letter.title, Letter.number, Letter.draft_id)
                              .where(Letter.case_id == case.id).order_by(Letter.id))
    return list(rows)


def checklist(case: Case) -> list[Check]:
    letters: dict[str, list] = {}
    for letter in _letter_heads(case):
        letters.setdefault(letter_group(letter, case), []).append(letter)
    atts: dict[str, list] = {}
    for a in case.attachments:
        atts.setdefault(a.category, []).append(a)
    out: list[Check] = []
    replied = _replied(case)
    mandatory = replied and not case.imported

    if replied:
        reply = letters.get("reply", [])
        out.append(Check("答复书（已出具的答复文书）", bool(reply), mandatory,
                         "、".join(f"{x.title}（{x.number}）" for x in reply) if reply
                         else "尚未出具答复文书（文书由系统出具后自动归入案卷）"))
        d = approved_draft(case)
        approved = d is not None and d.approved_hash == d.signed_hash == d.content_hash
        out.append(Check("审批记录（法制审核通过并经负责人签发的稿件）", approved, False,
                         f"第 {d.revision} 稿，{d.approved_by.name if d.approved_by else ''}审核，"
                         f"{d.signed_by.name if d.signed_by else ''}签发" if approved else "未找到审核并签发的稿件"))
        proofs = [dv for dv in case.deliveries if (dv.proof or "").strip()]
        scans = atts.get("proof_of_service", [])
        detail = "；".join(f"{dv.method_label} {dv.delivered_on.isoformat()}，凭证：{dv.proof}" for dv in proofs)
        if scans:
            detail = (detail + "；" if detail else "") + f"已上传送达凭证扫描件 {len(scans)} 份"
        out.append(Check("送达凭证（送达回证、邮寄回执或平台记录）", bool(proofs or scans), mandatory,
                         detail or "没有送达记录，也没有上传送达凭证"))
        if proofs and not scans:
            out.append(Check("送达凭证扫描件", False, False, "已登记凭证号，建议上传送达回证或回执的扫描件"))

    out.append(Check("申请材料（申请表或申请书）", bool(atts.get("application_form")), False,
                     _count(atts.get("application_form")) or "未上传申请表扫描件"))
    out.append(Check("身份证明", bool(atts.get("identity")), False,
                     _count(atts.get("identity")) or "未上传申请人身份证明扫描件"))
    if case.channel in ("registered_post", "ordinary_post"):
        env = atts.get("envelope", []) + atts.get("postal_receipt", [])
        out.append(Check("信封或邮寄凭证（第三十一条：邮戳、签收日期）", bool(env), False,
                         _count(env) or "邮寄提交的申请，请上传信封或签收凭证"))

    consultations = [s for s in case.steps if s.kind.startswith("consultation")]
    if consultations:
        # The letters sent to the consulted party (not the notice to the applicant, not the reply form).
        sent = [x for x in letters.get("consultation", []) if "征求意见书" in (x.title or "")]
        replies = list(atts.get("third_party_reply", []))
        for k, s in enumerate(consultations):
            out.append(Check(f"征求意见书（{s.party}）", len(sent) > k, False,
                             f"{sent[k].title}（{sent[k].number}）" if len(sent) > k else "未找到已出具的征求意见书"))
            if s.is_open:
                out.append(Check(f"{s.party}的意见", False, False, "征求意见尚未结束"))
                continue
            if s.result == "no_answer":
                out.append(Check(f"{s.party}的意见", True, False, "逾期未答复，无书面意见"))
                continue
            match = next((a for a in replies if s.party and s.party in (a.title or "")), None) \
                or (replies[0] if replies else None)
            if match is not None:
                replies.remove(match)
            out.append(Check(f"{s.party}的意见（{CONSULTATION_RESULTS.get(s.result, s.result)}）", match is not None,
                             False, match.title if match is not None else "未上传对方的书面意见（确认函）"))

    for s in case.steps_of("correction"):
        notice = letters.get("correction", [])
        out.append(Check("补正告知书", bool(notice), False,
                         _letters(notice) or "未找到已出具的补正告知书"))
        if s.result == "received":
            corrected = atts.get("corrected_application", []) + [
                a for a in atts.get("application_form", []) if "补正" in (a.title or "")]
            if not corrected and len(atts.get("application_form", [])) >= 2:
                corrected = atts["application_form"][1:]
            out.append(Check("补正后的申请材料", bool(corrected), False,
                             _count(corrected) or "请上传申请人提交的补正材料（标题中注明“补正”）"))

    for s in case.steps_of("fee"):
        notice = letters.get("fee", [])
        out.append(Check("收费通知书", bool(notice), False, _letters(notice) or "未找到已出具的收费通知书"))
        if s.result == "paid":
            receipt = s.details.get("receipt_no", "")
            out.append(Check("缴费凭证", bool(receipt), False, f"票据号码 {receipt}" if receipt else "未登记票据号码"))

    if case.extension_days:
        notice = letters.get("extension", [])
        out.append(Check(f"延期答复告知书（延长 {case.extension_days} 个工作日）", bool(notice), False,
                         _letters(notice) or "未找到已出具的延期答复告知书"))

    for _s in case.steps_of("reasons"):
        notice = letters.get("reasons", [])
        out.append(Check("说明理由告知书（第三十五条）", bool(notice), False,
                         _letters(notice) or "未找到已出具的说明理由告知书"))
    return out


def _count(items) -> str:
    return f"已上传 {len(items)} 份" if items else ""


def _letters(items) -> str:
    return "、".join(f"{x.title}（{x.number}）" for x in items)


def archive_blockers(case: Case) -> list[str]:
    """Mandatory items still missing: the archive action must refuse while this is not empty."""
    return [f"缺少{c.label}：{c.detail}" for c in checklist(case) if c.mandatory and not c.ok]


def ready_cases(actor: User) -> list[Case]:
    """The agency's cases ready to file: served replies and requests that ended without one."""
    from sqlalchemy.orm import selectinload

    q = (db.select(Case).where(Case.agency_id == actor.agency_id, Case.state.in_(READY_STATES))
         .options(selectinload(Case.steps), selectinload(Case.deliveries), selectinload(Case.attachments))
         .order_by(Case.closed_on.is_(None), Case.closed_on, Case.id))
    return list(db.session.scalars(q))


# 档号 (DA/T 13: 全宗号-年度-保管期限-件号) by the agency's rule (app/domain/archive_number.py); the
# period codes are the usual 永久 Y, 定期30年 D30, 定期10年 D10.
RETENTION_CODES = AN.PERIOD_CODES


def fonds_of(agency) -> str:
    """The agency's 全宗号; its code when none was set."""
    return (agency.fonds_code or "").strip() or agency.code


def archive_year(case: Case) -> int:
    """The filing year: the year the case ended (received, for a case without a closing date)."""
    return case.closed_on.year if case.closed_on else case.received_on.year


def suggest_archive_number(case: Case, retention: str = "10y", year: int | None = None) -> str:
    """The next free 档号 of the agency's rule for the filing year and period (one past the highest
    件号 already given under the same 全宗号, year and period)."""
    agency = case.agency
    pattern, fonds, year = agency.archive_pattern or AN.DEFAULT_PATTERN, fonds_of(agency), year or archive_year(case)
    if AN.check_pattern(pattern):  # a rule stored before the check: the default rather than an error page
        pattern = AN.DEFAULT_PATTERN
    retention = retention if retention in AN.PERIOD_CODES else "10y"
    prefix = AN.fixed_prefix(pattern, fonds, year, AN.period_code(retention))
    escaped = prefix.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
    used = db.session.scalars(db.select(Case.archive_number).where(
        Case.agency_id == case.agency_id, Case.archive_number.like(escaped + "%", escape="\\"))).all()
    return AN.next_number(pattern, fonds, year, retention, list(used))
