"""Online requests (issue 13): the agency's 政府信息公开指南, the public form's submission, and the
clerk's Art. 31(3) confirmation, which registers the case through the same path as staff intake
(services.cases.add_registration), or rejection of a spam/invalid submission."""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Mapping

from flask import current_app
from sqlalchemy import func, update

from ..casefile import ocr, uploads
from ..casefile.attachments import clean_filename
from ..domain.intake import mask_id_number, phone_key
from ..extensions import db
from ..models import Agency, Attachment, Case, OnlineFile, OnlineRequest, User
from ..models.attachment import ATTACHMENT_CATEGORIES
from ..services import notify, storage
from ..services.audit import record, record_security
from ..services.cases import APPLICANT_FIELDS, add_registration, check_applicant
from ..services.errors import Conflict, Forbidden, NotFound, ServiceError, conflict_is_409
from ..services.operations import REGISTRATION
from ..services.params import Params
from ..services.time import local, today, utcnow
from . import status

# ---------------------------------------------------------------- the guide (政府信息公开指南)

# (key, label, max length): kept in Agency.guide_json by the agency's administrator.
GUIDE_FIELDS = (
    ("office", "受理机构名称", 200), ("address", "地址", 300), ("postcode", "邮编", 20),
    ("hours", "办公时间", 200), ("phone", "咨询电话", 50), ("fax", "传真", 50), ("email", "电子邮箱", 200),
    ("website", "网站", 200), ("fees", "收费说明", 2000), ("other", "其他说明", 2000),
)
# Until the administrator fills the guide in, what the agency's settings already say.
_GUIDE_FALLBACK = {"office": "name", "address": "address", "phone": "phone"}


def guide(agency: Agency) -> dict[str, str]:
    stored = json.loads(agency.guide_json or "{}")
    out = {}
    for key, _, _ in GUIDE_FIELDS:
        value = stored.get(key) or ""
        if not value and key in _GUIDE_FALLBACK:
            value = getattr(agency, _GUIDE_FALLBACK[key]) or ""
        out[key] = value
    return out


def save_guide(actor: User, raw: Mapping[str, Any], online_enabled: bool) -> list[str]:
    """Save the guide and the online switch of the actor's agency, audited as an agency setting;
    returns the labels that changed."""
    if not actor.has_role("admin"):
        raise Forbidden("只有管理员可以修改公开指南")
    p = Params(raw)
    values = {key: p.text(key, label, max_len=n) for key, label, n in GUIDE_FIELDS}
    if values["email"] and "@" not in values["email"]:
        raise ServiceError("电子邮箱格式不正确", "email")
    agency = actor.agency
    stored = json.loads(agency.guide_json or "{}")
    changes = [{"field": "guide." + key, "label": "公开指南·" + label, "old": stored.get(key, ""), "new": values[key]}
               for key, label, _ in GUIDE_FIELDS if stored.get(key, "") != values[key]]
    if bool(online_enabled) != agency.online_enabled:
        changes.append({"field": "online_enabled", "label": "接受网上申请",
                        "old": agency.online_enabled, "new": bool(online_enabled)})
    if changes:
        agency.guide_json = json.dumps(values, ensure_ascii=False, sort_keys=True)
        agency.online_enabled = bool(online_enabled)
        record_security(agency.id, actor, "agency_settings_changed", {"changes": changes})
        db.session.commit()
    return [c["label"] for c in changes]


def online_agencies() -> list[Agency]:
    return list(db.session.scalars(db.select(Agency).where(Agency.online_enabled.is_(True)).order_by(Agency.name)))


# ---------------------------------------------------------------- submission

# The applicant's fields of the public form: those of intake without the agent's (an agent sends
# the 授权委托书 as a file) and without what only the office decides (channel, dates, handler).
ONLINE_FIELDS = ("applicant_type", "applicant_name", "id_type", "id_number", "contact_phone", "contact_email",
                 "contact_address", "description", "doc_number", "requested_form", "requested_route")
# File inputs of the form: attachment category -> what the applicant is asked for.
FILE_CATEGORIES = {"identity": "身份证明（如身份证复印件）", "other": "其他材料（如授权委托书）"}
MAX_FILES = 3
REFERENCE_ALPHABET = status.CODE_ALPHABET


class SubmissionRefused(ServiceError):
    """Every field to fix at once: ``errors`` maps a field to its message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("提交未成功，请按提示修改标出的内容。")
        self.errors = errors


@dataclass(frozen=True)
class Upload:
    category: str  # identity | other (the form input it came from)
    filename: str
    data: bytes


def new_reference(on: date) -> str:
    """提交编号: WS + the submission's date + four random characters (WS20261202-7K3M)."""
    for _ in range(20):
        ref = f"WS{on:%Y%m%d}-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(4))
        if not db.session.scalar(db.select(OnlineRequest.id).where(OnlineRequest.reference == ref)):
            return ref
    ref = f"WS{on:%Y%m%d}-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return ref


def check_submission(raw: Mapping[str, Any], files: list[Upload]) -> tuple[dict, list[tuple[Upload, Any]]]:
    """The form's values by the intake rules (services.cases.check_applicant) plus the online form's
    own: a phone to confirm by, at most MAX_FILES files, each checked by content as staff uploads
    are. Raises SubmissionRefused naming every field to fix."""
    errors: dict[str, str] = {}
    phone = str(raw.get("contact_phone") or "").strip()
    if not phone:
        errors["contact_phone"] = "请填写联系电话，以便与您确认申请（第三十一条）"
    elif not phone_key(phone):
        errors["contact_phone"] = "联系电话应至少包含7位数字"
    found: list[ServiceError] = []
    values = check_applicant({k: raw.get(k) for k in ONLINE_FIELDS}, found)
    for e in found:
        errors.setdefault(e.field or "form", e.message)
    checked = []
    if len(files) > MAX_FILES:
        errors.setdefault("files", f"最多上传 {MAX_FILES} 个文件，您选择了 {len(files)} 个")
    else:
        for f in files:
            field = f"{f.category}_files"
            try:
                checked.append((f, uploads.check(f.data, f.filename)))
            except ServiceError as e:
                msg = f"“{clean_filename(f.filename)}”未能接收：{e.message}"
                errors[field] = errors[field] + "；" + msg if field in errors else msg
    if errors:
        raise SubmissionRefused(errors)
    return {k: values.get(k, "") for k in ONLINE_FIELDS}, checked


def submit(agency: Agency, raw: Mapping[str, Any], files: list[Upload], ip: str) -> OnlineRequest:
    """A request from the public form: the OnlineRequest (pending) with its files, in one
    transaction; the applicant and the agency's clerks are told. Nothing is kept if anything fails."""
    if not agency.online_enabled:
        raise ServiceError("本机关暂未开通网上申请，请通过其他方式提交")
    values, checked = check_submission(raw, files)
    now = utcnow()
    try:
        req = OnlineRequest(agency_id=agency.id, reference=new_reference(local(now).date()), submitted_at=now,
                            status="pending", ip=(ip or "")[:64],
                            fields_json=json.dumps(values, ensure_ascii=False, sort_keys=True))
        db.session.add(req)
        for f, detected in checked:
            # Stored by content before the row commits: a file whose row does not commit is harmless.
            digest = storage.store(f.data)
            db.session.add(OnlineFile(request=req, category=f.category, filename=clean_filename(f.filename),
                                      content_type=detected.content_type, size=len(f.data), sha256=digest,
                                      pages=detected.pages))
        db.session.flush()
        notify.to_online_applicant(req, "received")
        notify.to_staff_new_online(req)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return req


# ---------------------------------------------------------------- the clerk's side

def _clerk(actor: User) -> None:
    if not REGISTRATION.allowed(actor):
        raise Forbidden("只有登记员可以确认或退回网上申请")


def pending_count(agency_id: int) -> int:
    return db.session.scalar(db.select(func.count(OnlineRequest.id)).where(
        OnlineRequest.agency_id == agency_id, OnlineRequest.status == "pending")) or 0


def pending(actor: User) -> list[OnlineRequest]:
    """网上申请待确认, oldest first."""
    _clerk(actor)
    return list(db.session.scalars(db.select(OnlineRequest).where(
        OnlineRequest.agency_id == actor.agency_id, OnlineRequest.status == "pending")
        .order_by(OnlineRequest.submitted_at, OnlineRequest.id)))


def recent_decided(actor: User, limit: int = 20) -> list[OnlineRequest]:
    _clerk(actor)
    return list(db.session.scalars(db.select(OnlineRequest).where(
        OnlineRequest.agency_id == actor.agency_id, OnlineRequest.status != "pending")
        .order_by(OnlineRequest.decided_at.desc(), OnlineRequest.id.desc()).limit(limit)))


def get_request(actor: User, request_id: int) -> OnlineRequest:
    _clerk(actor)
    req = db.session.get(OnlineRequest, request_id)
    if req is None or req.agency_id != actor.agency_id:
        raise NotFound("该网上申请不存在")
    return req


def get_file(actor: User, file_id: int) -> tuple[OnlineFile, bytes]:
    f = db.session.get(OnlineFile, file_id)
    if f is None:
        raise NotFound("文件不存在")
    get_request(actor, f.request_id)
    try:
        data = storage.read(f.sha256)
    except FileNotFoundError:
        raise NotFound("文件缺失，请联系管理员") from None
    return f, data


def submitted_on(req: OnlineRequest) -> date:
    """The day the request arrived, in the office's time zone (never after the office's today,
    which a demo or a test may pin)."""
    return status.submitted_on(req.submitted_at)


def _claim(actor: User, req: OnlineRequest, status_to: str, **values) -> None:
    """pending -> confirmed/rejected by a conditional UPDATE: of two clerks deciding at once, one
    changes the row and the other finds it decided (PostgreSQL: the second waits for the first)."""
    done = db.session.execute(
        update(OnlineRequest).where(OnlineRequest.id == req.id, OnlineRequest.status == "pending")
        .values(status=status_to, decided_by_id=actor.id, decided_at=datetime.utcnow(), **values)
        .execution_options(synchronize_session=False)).rowcount
    if done != 1:
        db.session.rollback()
        raise Conflict("该网上申请已由他人确认或退回，请刷新页面查看。", None)
    db.session.refresh(req)


def _already_decided(req: OnlineRequest) -> None:
    if req.status != "pending":
        raise Conflict(f"该网上申请已{req.status_label}，不能再次处理。", None)


@conflict_is_409("与同时进行的登记冲突，请重试；该网上申请未被确认。")
def confirm(actor: User, request_id: int, raw: Mapping[str, Any]) -> tuple[Case, str]:
    """确认 (Art. 31(3)): the day both sides confirmed is the day of receipt. The case is registered
    as staff intake registers it (channel online, arrived the day submitted), the files become its
    attachments, a query code is issued and sent; one transaction. Returns the case and the code."""
    req = get_request(actor, request_id)
    _already_decided(req)
    confirmed = Params(raw).date("confirmed_on", "确认日期", required=True)
    arrived = submitted_on(req)
    if confirmed < arrived:
        raise ServiceError(f"确认日期不能早于提交日期（{arrived.isoformat()}）", "confirmed_on")
    if confirmed > today():
        raise ServiceError("确认日期不能晚于今天", "confirmed_on")
    jobs = []
    try:
        _claim(actor, req, "confirmed")
        case = add_registration(actor, {**{k: req.fields.get(k, "") for k in APPLICANT_FIELDS if k in req.fields},
                                        "channel": "online", "arrived_on": arrived, "confirmed_on": confirmed},
                                {"online_reference": req.reference, "online_request_id": req.id})
        for f in req.files:
            att = Attachment(case_id=case.id, category=f.category if f.category in ATTACHMENT_CATEGORIES else "other",
                             title=ATTACHMENT_CATEGORIES.get(f.category, "其他"), filename=f.filename,
                             content_type=f.content_type, size=f.size, sha256=f.sha256, pages=f.pages,
                             uploaded_by_id=None)
            db.session.add(att)
            db.session.flush()
            record(case, actor, "attach", "上传附件", case.state, case.state, {
                "attachment_id": att.id, "category": att.category, "category_label": att.category_label,
                "title": att.title, "filename": att.filename, "content_type": att.content_type, "size": att.size,
                "pages": att.pages, "sha256": att.sha256, "online_reference": req.reference})
            jobs.append(ocr.queue(att))
        req.case_id = case.id
        code = status.set_query_code(case)
        notify.to_applicant(case, "confirmed", query_code=code)
        db.session.commit()
    except ServiceError:
        db.session.rollback()
        raise
    if current_app.config["OCR_AUTOSTART"]:
        for job in jobs:
            ocr.enqueue(job)
    return case, code


def reject(actor: User, request_id: int, raw: Mapping[str, Any]) -> OnlineRequest:
    """退回 a spam or invalid submission with its reason; the applicant is told. No case is made."""
    req = get_request(actor, request_id)
    _already_decided(req)
    reason = Params(raw).text("reason", "退回理由", required=True, max_len=500)
    _claim(actor, req, "rejected", reject_reason=reason)
    record_security(req.agency_id, actor, "online_rejected",
                    {"online_request_id": req.id, "reference": req.reference, "reason": reason})
    notify.to_online_applicant(req, "rejected", reason=reason)
    db.session.commit()
    return req
