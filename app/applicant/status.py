"""The applicant's status lookup: query codes, one-time SMS codes, what the status page shows,
and answers to a correction notice sent online."""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import unicodedata
from datetime import date, datetime, timedelta

from flask import current_app

from ..casefile import ocr, uploads
from ..casefile.attachments import clean_filename
from ..domain.clock import PAUSE_REASONS
from ..domain.intake import mask_id_number, phone_key
from ..domain.workflow import OPEN_STATES, STATES
from ..extensions import db
from ..models import Agency, Attachment, Case, CorrectionReply, Event, Letter, Release, SmsCode, Step, User
from ..models.case import DELIVERY_METHODS
from ..services import notify, storage
from ..services.audit import record
from ..services.cases import get_case, perform
from ..services.clocks import case_clock
from ..services.redaction import issued_release
from ..services.errors import Conflict, Forbidden, NotFound, ServiceError
from ..services.params import Params
from ..services.time import local, today, utcnow

# No 0/O, 1/I/L: read out over the phone and typed on a phone without mistakes.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
_ITERATIONS = 50_000  # a slow hash: a stolen table does not give the codes back quickly


def _hash(case_id: int, code: str) -> str:
    return hashlib.pbkdf2_hmac("sha256", code.encode(), f"ogidesk-query:{case_id}".encode(), _ITERATIONS).hex()


def normalise_code(code: str) -> str:
    """What the applicant typed, as issued: upper case, no spaces or dashes."""
    return "".join(c for c in (code or "").upper() if c.isalnum())[:32]


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def set_query_code(case: Case) -> str:
    """A fresh query code for the case: its hash is stored on the case (the caller commits), the
    code itself is returned once, to be told to the applicant, and never kept."""
    code = new_code()
    case.query_code_hash = _hash(case.id, code)
    return code


def code_matches(case: Case, code: str) -> bool:
    if not case.query_code_hash:
        return False
    return hmac.compare_digest(case.query_code_hash, _hash(case.id, normalise_code(code)))


def format_code(code: str) -> str:
    """Shown as two groups of four (K7MX-3QPA): easier to read out."""
    return f"{code[:4]}-{code[4:]}" if len(code) == 8 else code


# ---------------------------------------------------------------- finding a case

LOOKUP_FAILED = "登记编号或查询码不正确，请核对后重试。"
_DUMMY_ID = 0  # a hash is computed for an unknown number too: the answer takes as long either way


def normalise_number(number: str) -> str:
    """The 登记编号 as typed: full-width brackets and digits folded, spaces dropped."""
    n = unicodedata.normalize("NFKC", number or "").strip()
    n = n.replace("[", "〔").replace("]", "〕").replace("(", "〔").replace(")", "〕")
    return "".join(n.split())[:60]


def find_case(agency: Agency, number: str, code: str) -> Case | None:
    """The agency's case with this 登记编号 whose query code matches; None otherwise, with no hint
    whether the number exists."""
    number = normalise_number(number)
    case = db.session.scalar(db.select(Case).where(Case.agency_id == agency.id, Case.number == number)) \
        if number else None
    if case is None or not case.query_code_hash:
        _hash(_DUMMY_ID, normalise_code(code))
        return None
    return case if code_matches(case, code) else None


def public_agency(code: str) -> Agency:
    agency = db.session.scalar(db.select(Agency).where(Agency.code == code))
    if agency is None:
        raise NotFound("该机关不存在")
    return agency


def public_case(agency: Agency, case_id: int | None) -> Case:
    """A case the visitor has proven to be the applicant of (the id comes from their session)."""
    case = db.session.get(Case, case_id) if case_id else None
    if case is None or case.agency_id != agency.id:
        raise NotFound("请先查询")
    return case


# ---------------------------------------------------------------- one-time SMS codes

SMS_CODE_MINUTES = 10
SMS_CODE_TRIES = 5
SMS_SENT = "如该手机号码在本机关有申请记录，验证码已通过短信发送，10分钟内有效。"
SMS_FAILED = "验证码不正确或已失效，请重新获取。"


def _sms_hash(phone: str, code: str) -> str:
    return hashlib.sha256(f"ogidesk-sms:{phone}:{code}".encode()).hexdigest()


def send_sms_code(agency: Agency, phone: str) -> None:
    """A six-digit code by SMS to a phone with cases at this agency. The answer is the same
    whether or not it has any (SMS_SENT): the page tells nothing about who applied."""
    key = notify.mobile(phone)
    if not key:
        raise ServiceError("请填写11位手机号码", "phone")
    has_cases = db.session.scalar(db.select(Case.id).where(Case.agency_id == agency.id, Case.phone_key == key,
                                                           Case.query_code_hash.is_not(None)).limit(1))
    if has_cases is None:
        return
    now = utcnow()
    code = "".join(secrets.choice("0123456789") for _ in range(6))
    db.session.add(SmsCode(phone_key=f"{agency.id}:{key}", code_hash=_sms_hash(key, code), created_at=now,
                           expires_at=now + timedelta(minutes=SMS_CODE_MINUTES), tries=0))
    notify.sms_code(agency, key, f"【{agency.name}】您查询政府信息公开申请办理情况的验证码为{code}，"
                                 f"{SMS_CODE_MINUTES}分钟内有效。如非本人操作，请忽略。")
    db.session.commit()


def verify_sms_code(agency: Agency, phone: str, code: str) -> list[int]:
    """The ids of the phone's cases at this agency (those with a query code: the applicant was
    told of the case), if ``code`` is the phone's latest unexpired, unused code; a code is used
    once and refused after SMS_CODE_TRIES wrong tries."""
    key = phone_key(phone)
    now = utcnow()
    row = db.session.scalar(db.select(SmsCode).where(SmsCode.phone_key == f"{agency.id}:{key}")
                            .order_by(SmsCode.created_at.desc(), SmsCode.id.desc()).limit(1).with_for_update())
    code = "".join(c for c in (code or "") if c.isdigit())
    if row is None or row.used_at is not None or row.expires_at < now or row.tries >= SMS_CODE_TRIES:
        db.session.rollback()
        raise ServiceError(SMS_FAILED, "code")
    if not hmac.compare_digest(row.code_hash, _sms_hash(key, code)):
        row.tries += 1
        db.session.commit()
        raise ServiceError(SMS_FAILED, "code")
    row.used_at = now
    db.session.commit()
    return list(db.session.scalars(db.select(Case.id).where(
        Case.agency_id == agency.id, Case.phone_key == key, Case.query_code_hash.is_not(None))
        .order_by(Case.received_on.desc(), Case.id.desc()).limit(50)))


def cases_by_ids(agency: Agency, ids: list[int]) -> list[Case]:
    if not ids:
        return []
    return list(db.session.scalars(db.select(Case).where(Case.agency_id == agency.id, Case.id.in_(ids))
                                   .order_by(Case.received_on.desc(), Case.id.desc())))


# ---------------------------------------------------------------- what the applicant sees

# Letters addressed to someone else: the third party, another agency, a co-handling unit; the
# 送达回证 is the agency's own record of service (shown as the delivery record instead).
NOT_FOR_APPLICANT = frozenset({"consult_third_party", "consult_agency", "cohandle",
                               "disclosure_notice_third_party", "service_record"})

PUBLIC_STAGES = {
    "registered": "已受理，正在办理",
    "correction": "需要补正：请按《补正告知书》的要求补正申请内容",
    "handling": "正在办理",
    "review": "正在办理",
    "signoff": "正在办理",
    "signed": "已作出答复决定，正在出具答复",
    "replied": "已作出答复，正在送达",
    "delivered": "已答复并送达",
    "closed": "已终止办理",
    "archived": "已办结",
}


def applicant_letters(case: Case) -> list[Letter]:
    """The issued letters addressed to the applicant, the latest issue of each (a re-issued
    letter replaces the one before it)."""
    replaced = {lt.supersedes_id for lt in case.letters if lt.supersedes_id}
    return [lt for lt in case.letters if lt.key not in NOT_FOR_APPLICANT and lt.id not in replaced]


def applicant_letter(case: Case, letter_id: int) -> Letter:
    for lt in applicant_letters(case):
        if lt.id == letter_id:
            return lt
    raise NotFound("文书不存在")


def applicant_release(case: Case, release_id: int) -> Release:
    """The released copy (删除处理版) that went out with the issued reply."""
    rel = issued_release(case)
    if rel is None or rel.id != release_id:
        raise NotFound("文件不存在")
    return rel


def open_correction(case: Case) -> Step | None:
    """The correction step the applicant may answer online: the case waits for correction and
    its 补正告知书 has been issued."""
    if case.state != "correction":
        return None
    step = next((s for s in reversed(case.steps_of("correction")) if s.is_open), None)
    if step is None or not any(lt.key == "correction_notice" for lt in case.letters):
        return None
    return step


def replies_of(case: Case) -> list[CorrectionReply]:
    return list(db.session.scalars(db.select(CorrectionReply).where(CorrectionReply.case_id == case.id)
                                   .order_by(CorrectionReply.id)))


def public_view(case: Case, today) -> dict:
    """The status page: the stage in plain words, the reply deadline (paused or extended, and
    why), the letters and the service record. Nothing about third parties, internal notes,
    drafts or staff."""
    st = case_clock(case, today)
    open_state = case.state in OPEN_STATES
    extension = None
    if case.extension_days:
        ev = db.session.scalar(db.select(Event).where(Event.case_id == case.id, Event.action == "extend")
                               .order_by(Event.id.desc()).limit(1))
        extension = {"days": case.extension_days, "reason": (ev.data.get("reason") if ev else "") or ""}
    step = open_correction(case)
    return {
        "case": case,
        "stage": PUBLIC_STAGES.get(case.state, STATES.get(case.state, "")),
        "open": open_state,
        "due": case.reply_due if open_state else None,
        "provisional": case.due_provisional,
        "paused": [PAUSE_REASONS.get(r, r) for r in st.paused_reasons] if open_state else [],
        "paused_until": st.paused_until if open_state else None,
        "extension": extension,
        "correction": step,
        "correction_due": step.due_on if step else None,
        "replies": replies_of(case),
        "letters": applicant_letters(case),
        "release": issued_release(case),
        "deliveries": [{"method": DELIVERY_METHODS.get(d.method, d.method), "on": d.delivered_on}
                       for d in case.deliveries],
        "masked_id": mask_id_number(case.id_number),
        "received_on": case.received_on,
        "closed_on": case.closed_on,
    }


# ---------------------------------------------------------------- correction answered online

MAX_REPLY_FILES = 3
MAX_REPLIES = 5
REPLY_MAX_LEN = 1500  # the note of the workflow step carries it (2,000 at most)


def submit_correction(case: Case, text: str, files: list[tuple[bytes, str]]) -> CorrectionReply:
    """补正 sent from the status page: the text and the files (checked by content as staff uploads
    are) are kept on the case for a clerk to record as received. Nothing is kept if anything is
    refused."""
    step = open_correction(case)
    if step is None:
        raise ServiceError("本申请当前无需补正，或补正告知书尚未发出。", "text")
    text = Params({"text": (text or "").strip()}).text("text", "补正内容", max_len=REPLY_MAX_LEN).strip()
    if not text and not files:
        raise ServiceError("请填写补正内容或上传补正材料", "text")
    if len(files) > MAX_REPLY_FILES:
        raise ServiceError(f"最多上传{MAX_REPLY_FILES}个文件", "files")
    if len(replies_of(case)) >= MAX_REPLIES:
        raise ServiceError("补正材料已提交多次，请等待工作人员处理或电话联系本机关。", "text")
    checked = []
    for data, filename in files:
        name = clean_filename(filename)
        try:
            detected = uploads.check(data, filename)
        except ServiceError as e:
            raise ServiceError(f"文件“{name}”未被接受：{e.message}", "files") from None
        checked.append((data, name, detected))
    ids, jobs = [], []
    for data, name, detected in checked:
        att = Attachment(case_id=case.id, category="correction_material", title="网上提交的补正材料",
                         filename=name, content_type=detected.content_type, size=len(data),
                         sha256=storage.store(data), pages=detected.pages, uploaded_by_id=None)
        db.session.add(att)
        db.session.flush()
        ids.append(att.id)
        jobs.append(ocr.queue(att))  # searchable in the 案卷 like every scan
    reply = CorrectionReply(case_id=case.id, step_id=step.id, submitted_at=utcnow(), text=text,
                            attachment_ids_json=json.dumps(ids), status="pending")
    db.session.add(reply)
    db.session.flush()
    record(case, None, "correction_online", "申请人网上提交补正材料", case.state, case.state,
           {"reply_id": reply.id, "attachments": ids, "chars": len(text)})
    db.session.commit()
    if jobs and current_app.config["OCR_AUTOSTART"]:
        for job in jobs:
            ocr.enqueue(job)
    return reply


def submitted_on(at: datetime) -> date:
    """The office's date of a submission time (never after the office's today, which a demo or
    a test may pin with OGI_TODAY)."""
    return min(local(at).date(), today())


def reply_of_case(actor: User, case_id: int, reply_id: int) -> CorrectionReply:
    case = get_case(case_id, actor)
    reply = db.session.get(CorrectionReply, reply_id)
    if reply is None or reply.case_id != case.id:
        raise NotFound("补正材料不存在")
    return reply


def record_correction(actor: User, reply_id: int, received_on: date | None, expected_version: int | None = None) -> Case:
    """登记补正材料 from an online answer: the workflow's receive_correction with the answer's text,
    the reply clock restarting from the day it was received (Art. 30)."""
    reply = db.session.get(CorrectionReply, reply_id)
    if reply is None:
        raise NotFound("补正材料不存在")
    case = get_case(reply.case_id, actor)
    if reply.status != "pending":
        raise Conflict("该补正材料已登记，请刷新页面。")
    sent_on = submitted_on(reply.submitted_at)
    received_on = received_on or sent_on
    if received_on < sent_on:
        raise ServiceError("收到补正材料日期不能早于申请人网上提交的日期", "received_on")
    note = "申请人网上提交补正材料" + (f"：{reply.text}" if reply.text else "") \
        + (f"（附件{len(reply.attachment_ids)}份）" if reply.attachment_ids else "")
    try:
        # Marked in the same transaction as the workflow step, which commits both or neither.
        reply.status, reply.recorded_at, reply.recorded_by_id = "recorded", utcnow(), actor.id
        return perform(case.id, actor, "receive_correction", {"received_on": received_on.isoformat(),
                                                               "note": note}, expected_version=expected_version)
    except Exception:
        db.session.rollback()
        raise


def issue_query_code(actor: User, case_id: int) -> str:
    """A new query code for a case (the one before stops working), e.g. for a request made in
    person: shown once to the clerk, who tells the applicant."""
    case = get_case(case_id, actor)
    if not actor.has_role(*QUERY_CODE_ROLES):
        raise Forbidden("只有登记员或承办人可以生成查询码")
    replaced = bool(case.query_code_hash)
    code = set_query_code(case)
    record(case, actor, "query_code", "生成查询码", case.state, case.state, {"replaced": replaced})
    db.session.commit()
    return code


QUERY_CODE_ROLES = ("clerk", "handler")
