"""Notifications by e-mail and SMS (issue 13). Each message is a ``Message`` row written in the
transaction of what caused it; the worker sends it after the commit, with retries.

Interface (callers add the rows; they commit with their own work):
- ``to_applicant(case, event, **facts)``: confirmed (facts: query_code), correction, extended, replied;
- ``to_online_applicant(req, event, **facts)``: received, rejected (facts: reason) — before a case exists;
- ``to_staff_new_online(req)``: the agency's clerks are told of a new online request;
- ``to_staff_digest(user, total, items)``: the morning digest (services.digest.run_all).

Sending: after the caller's commit each new message's id is handed to the queue's task
"send_message" (an ``after_commit`` hook); the worker claims the row with one conditional UPDATE
(queued → sending), so a message enqueued twice, or swept by two workers, goes out once. A failure
is retried after 1, 5, 15 and 60 minutes (the retry is enqueued with that delay; the worker's sweep,
at start and every few minutes, sends whatever is due and was never handed over), then the message
is "failed" and 重新发送 on the outbox page queues it again. A channel whose gateway is not
configured (SMTP_HOST, SMS_GATEWAY_URL) keeps its messages in the local outbox ("local").
Sends and final failures of a case's messages are events of the case's audit trail."""
from __future__ import annotations

import json
import logging
import smtplib
import ssl
import time
import urllib.error
import urllib.request
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app
from sqlalchemy import event as sa_event, or_
from sqlalchemy.orm import Session

from ..domain.intake import phone_key
from ..extensions import db
from ..models import Agency, Case, Message, OnlineRequest, User
from ..models.public import MESSAGE_CHANNELS, MESSAGE_STATUSES
from . import queue as task_queue
from .audit import record, record_security
from .errors import Forbidden, NotFound, ServiceError
from .time import utcnow

log = logging.getLogger(__name__)

TASK = "send_message"
MAX_ATTEMPTS = 5
BACKOFF_MINUTES = (1, 5, 15, 60)  # before the 2nd, 3rd, 4th and 5th attempt
# A message left "sending" this long lost its worker (killed mid-send): the sweep queues it again.
LEASE = timedelta(minutes=10)
SEND_TIMEOUT = 10  # seconds, per SMTP operation and per SMS gateway request
SWEEP_BATCH = 500
SWEEP_SECONDS = 60  # one sweep sends for at most this long; the next one goes on
PER_PAGE = 50
EVENT_LABELS = {"confirmed": "登记确认", "correction": "补正告知", "extended": "延期告知", "replied": "答复",
                "received": "网上申请已提交", "rejected": "网上申请退回", "new_online": "新的网上申请",
                "digest": "每日到期提醒"}
_PENDING = "notify_pending_ids"  # Session.info key: ids of messages added in this transaction


# ---------------------------------------------------------------- recipients and texts

def mobile(phone: str | None) -> str:
    """The mainland mobile number in ``phone`` (11 digits starting with 1), or ""."""
    key = phone_key(phone or "")
    return key if len(key) == 11 and key.startswith("1") else ""


def _email(addr: str | None) -> str:
    addr = (addr or "").strip()
    return addr if "@" in addr and " " not in addr else ""


def mask(recipient: str) -> str:
    """A recipient as shown on the case page and in audit events: 138****5678, a***@x.com."""
    r = recipient or ""
    if "@" in r:
        name, _, domain = r.partition("@")
        return f"{name[:1]}***@{domain}"
    return f"{r[:3]}****{r[-4:]}" if len(r) >= 8 else "****"


def status_link(agency: Agency) -> str:
    """The public status page (the worker has no request: built from OGI_PUBLIC_URL, or "")."""
    base = (current_app.config.get("OGI_PUBLIC_URL") or "").strip().rstrip("/")
    return f"{base}/gk/{agency.code}/query" if base else ""


def _gateway_configured(channel: str) -> bool:
    cfg = current_app.config
    return bool(cfg.get("SMTP_HOST") if channel == "email" else cfg.get("SMS_GATEWAY_URL"))


def _add(event: str, channel: str, recipient: str, subject: str, body: str, *, agency_id: int | None,
         case_id: int | None = None, user_id: int | None = None) -> Message:
    now = utcnow()
    local = not _gateway_configured(channel)
    msg = Message(agency_id=agency_id, case_id=case_id, user_id=user_id, event=event, channel=channel,
                  recipient=recipient, subject=subject[:200], body=body, attempts=0, last_error="",
                  status="local" if local else "queued", created_at=now, next_attempt_at=None if local else now)
    db.session.add(msg)
    if not local:
        db.session.flush()  # its id, handed to the worker after the caller's commit
        db.session.info.setdefault(_PENDING, []).append(msg.id)
    return msg


def _both(event: str, phone: str, email: str, sms_text: str, subject: str, body: str, **ids) -> list[Message]:
    out = []
    if mobile(phone):
        out.append(_add(event, "sms", mobile(phone), "", sms_text, **ids))
    if _email(email):
        out.append(_add(event, "email", _email(email), subject, body, **ids))
    return out


def _mail_body(greeting: str, lines: list[str], agency: Agency, link: str) -> str:
    parts = [f"{greeting}：", "", *lines]
    if link:
        parts += ["", f"办理情况可在以下网址查询：{link}"]
    parts += ["", agency.name, "（本邮件由系统自动发送，请勿直接回复。）"]
    return "\n".join(parts)


def _see(link: str) -> str:
    return f"可在{link}查询办理情况。" if link else ""


def to_applicant(case: Case, event: str, **facts) -> list[Message]:
    """Tell the applicant of a case by SMS (a mainland mobile) and e-mail (if given). Never the ID
    number or the description: a wrong number or a shared mailbox must learn nothing of substance."""
    agency, link, no = case.agency, status_link(case.agency), case.number
    if event == "confirmed":
        code = facts.get("query_code") or ""
        sms = f"【{agency.name}】您的政府信息公开申请已登记，登记编号{no}" + (f"，查询码{code}" if code else "") \
            + "。" + _see(link)
        subject = f"政府信息公开申请已登记（{no}）"
        lines = [f"您向{agency.name}提出的政府信息公开申请已于{case.received_on:%Y年%m月%d日}登记，登记编号{no}。"]
        if code:
            lines.append(f"查询码：{code}（查询办理情况时使用，请妥善保管）")
    elif event == "correction":
        sms = f"【{agency.name}】您的政府信息公开申请（{no}）需要补正，本机关已出具补正告知书，请按告知书要求在期限内补正。" \
            + _see(link)
        subject = f"政府信息公开申请补正告知（{no}）"
        lines = [f"您的政府信息公开申请（登记编号{no}）需要补正，本机关已出具补正告知书。",
                 "请按告知书所列事项和期限补正；逾期未补正的，视为放弃申请。"]
    elif event == "extended":
        due = f"，延长后的答复期限为{case.reply_due:%Y年%m月%d日}" if case.reply_due else ""
        sms = f"【{agency.name}】您的政府信息公开申请（{no}）答复期限已依法延长{due}。" + _see(link)
        subject = f"政府信息公开申请延期答复告知（{no}）"
        lines = [f"您的政府信息公开申请（登记编号{no}）需要延长答复期限，本机关已出具延期答复告知书{due}。"]
    elif event == "replied":
        sms = f"【{agency.name}】您的政府信息公开申请（{no}）已作出答复，答复书将按您选择的方式送达。" + _see(link)
        subject = f"政府信息公开申请已答复（{no}）"
        lines = [f"本机关已对您的政府信息公开申请（登记编号{no}）作出答复，答复书将按您选择的方式送达。"]
    else:
        raise ValueError(f"unknown applicant event {event!r}")
    body = _mail_body(f"{case.applicant_name or '申请人'}", lines, agency, link)
    return _both(event, case.contact_phone, case.contact_email, sms, subject, body,
                 agency_id=case.agency_id, case_id=case.id)


def to_online_applicant(req: OnlineRequest, event: str, **facts) -> list[Message]:
    """Tell the sender of an online request (no case yet) that it arrived or was not accepted."""
    f, agency = req.fields, req.agency or db.session.get(Agency, req.agency_id)
    if event == "received":
        sms = f"【{agency.name}】您的政府信息公开网上申请已提交，提交编号{req.reference}。本机关确认登记后将另行告知登记编号。"
        subject = f"政府信息公开网上申请已提交（{req.reference}）"
        lines = [f"您向{agency.name}提交的政府信息公开网上申请已收到，提交编号{req.reference}。",
                 "本机关确认登记后，将另行告知登记编号和查询码；答复期限自确认登记之日起计算。"]
    elif event == "rejected":
        reason = (facts.get("reason") or req.reject_reason or "").strip()
        short = reason if len(reason) <= 60 else reason[:60] + "…"
        sms = f"【{agency.name}】您的政府信息公开网上申请（{req.reference}）未予登记" + (f"，原因：{short}" if short else "") + "。"
        subject = f"政府信息公开网上申请未予登记（{req.reference}）"
        lines = [f"您提交的政府信息公开网上申请（提交编号{req.reference}）未予登记。"]
        if reason:
            lines.append(f"原因：{reason}")
    else:
        raise ValueError(f"unknown online applicant event {event!r}")
    body = _mail_body(f.get("applicant_name") or "申请人", lines, agency, "")
    return _both(event, f.get("contact_phone", ""), f.get("contact_email", ""), sms, subject, body,
                 agency_id=req.agency_id)


def to_staff_new_online(req: OnlineRequest) -> list[Message]:
    """Every active clerk of the agency with an e-mail address or mobile hears of a new online request."""
    agency = req.agency or db.session.get(Agency, req.agency_id)
    clerks = [u for u in db.session.scalars(db.select(User).where(User.agency_id == req.agency_id,
                                                                  User.active.is_(True)).order_by(User.id))
              if u.has_role("clerk")]
    sms = f"【{agency.name}】收到新的政府信息公开网上申请，提交编号{req.reference}，请登录系统确认登记。"
    subject = f"新的网上申请待确认登记（{req.reference}）"
    out = []
    for u in clerks:
        body = _mail_body(u.name, [f"{agency.name}收到新的政府信息公开网上申请，提交编号{req.reference}。",
                                   "请登录依申请公开办理系统，在“网上申请”中核对后确认登记或退回。"], agency, "")
        out += _both("new_online", u.mobile, u.email, sms, subject, body, agency_id=req.agency_id, user_id=u.id)
    return out


def sms_code(agency: Agency, phone: str, text: str) -> Message:
    """The one-time code of the status lookup (app.applicant.status), sent like every SMS."""
    return _add("sms_code", "sms", phone, "", text, agency_id=agency.id)


def to_staff_digest(user: User, total: int, items: list[dict]) -> list[Message]:
    """The morning digest: one e-mail listing the cases and one SMS summary, to whoever has them."""
    if total <= 0:
        return []
    agency = user.agency
    sms = f"【{agency.name}】您有{total}件案件3个工作日内到期或已超期，请登录系统查看今日提醒。"
    lines = [f"您有{total}件案件3个工作日内到期或已超期：", ""]
    for it in items:
        when = f"已超期{it['overdue_days']}个工作日" if it.get("overdue_days") else "即将到期"
        lines.append(f"- {it['case_number']}　{it['deadline']}　{it['due']}（{when}）")
    if total > len(items):
        lines.append(f"……另有{total - len(items)}件，请登录系统查看。")
    body = _mail_body(user.name, lines, agency, "")
    return _both("digest", user.mobile, user.email, sms, f"今日提醒：{total}件案件到期或已超期", body,
                 agency_id=user.agency_id, user_id=user.id)


# ---------------------------------------------------------------- handing over after the commit

@sa_event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    ids = session.info.pop(_PENDING, None)
    for mid in ids or ():
        task_queue.enqueue(TASK, mid)  # never raises; the sweep sends what was not handed over


@sa_event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


# ---------------------------------------------------------------- gateways

class GatewayError(Exception):
    pass


def _send_email(msg: Message) -> None:
    cfg = current_app.config
    em = EmailMessage()
    em["Subject"] = msg.subject
    em["From"] = cfg["MAIL_FROM"]
    em["To"] = msg.recipient
    em["Date"] = formatdate(localtime=False)
    em["Message-ID"] = make_msgid(idstring=f"ogidesk.{msg.id}")
    em.set_content(msg.body, charset="utf-8")
    with smtplib.SMTP(cfg["SMTP_HOST"], int(cfg["SMTP_PORT"]), timeout=SEND_TIMEOUT) as smtp:
        if cfg.get("SMTP_STARTTLS"):
            smtp.starttls(context=ssl.create_default_context())
        if cfg.get("SMTP_USER"):
            smtp.login(cfg["SMTP_USER"], cfg.get("SMTP_PASSWORD") or "")
        smtp.send_message(em)


def _send_sms(msg: Message) -> None:
    cfg = current_app.config
    data = json.dumps({"phone": msg.recipient, "text": msg.body}, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if cfg.get("SMS_GATEWAY_TOKEN"):
        headers["Authorization"] = f"Bearer {cfg['SMS_GATEWAY_TOKEN']}"
    req = urllib.request.Request(cfg["SMS_GATEWAY_URL"], data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=SEND_TIMEOUT) as resp:
            if not 200 <= resp.status < 300:
                raise GatewayError(f"短信网关返回 HTTP {resp.status}")
    except urllib.error.HTTPError as e:
        raise GatewayError(f"短信网关返回 HTTP {e.code}") from None


_GATEWAYS = {"email": _send_email, "sms": _send_sms}


# ---------------------------------------------------------------- sending (the worker)

def _audit(msg: Message, action: str, label: str, extra: dict) -> None:
    if msg.case_id is None:
        return
    case = db.session.get(Case, msg.case_id)
    record(case, None, action, label, case.state, case.state,
           {"message_id": msg.id, "notice": EVENT_LABELS.get(msg.event, msg.event),
            "via": MESSAGE_CHANNELS.get(msg.channel, msg.channel), "to": mask(msg.recipient),
            "attempts": msg.attempts, **extra})


def send_message(message_id: int) -> str:
    """Send one message if it is due and nobody else is sending it; what happened ("sent",
    "retry", "failed", "local", or "skipped" when it was not this call's to send)."""
    now = utcnow()
    claimed = db.session.execute(
        db.update(Message).where(Message.id == message_id, Message.status == "queued",
                                 or_(Message.next_attempt_at.is_(None), Message.next_attempt_at <= now))
        .values(status="sending", attempts=Message.attempts + 1, next_attempt_at=now + LEASE)
        .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    if not claimed:
        return "skipped"
    msg = db.session.get(Message, message_id)
    if not _gateway_configured(msg.channel):
        msg.status, msg.next_attempt_at = "local", None
        db.session.commit()
        return "local"
    db.session.commit()  # no transaction stays open while the gateway answers
    try:
        _GATEWAYS[msg.channel](msg)
        error = None
    except Exception as exc:  # any failure of the gateway counts as an attempt
        error = (f"{type(exc).__name__}: {exc}" if not isinstance(exc, GatewayError) else str(exc))[:500]
    done = utcnow()
    via = MESSAGE_CHANNELS.get(msg.channel, msg.channel)
    if error is None:
        msg.status, msg.sent_at, msg.next_attempt_at = "sent", done, None
        _audit(msg, "notify_sent", f"已发送{via}通知（{EVENT_LABELS.get(msg.event, msg.event)}）", {})
        outcome = "sent"
    elif msg.attempts >= MAX_ATTEMPTS:
        msg.status, msg.last_error, msg.next_attempt_at = "failed", error, None
        _audit(msg, "notify_failed", f"{via}通知发送失败（{EVENT_LABELS.get(msg.event, msg.event)}）",
               {"error": error})
        outcome = "failed"
    else:
        wait = timedelta(minutes=BACKOFF_MINUTES[min(msg.attempts, len(BACKOFF_MINUTES)) - 1])
        msg.status, msg.last_error, msg.next_attempt_at = "queued", error, done + wait
        outcome = "retry"
    db.session.commit()
    if outcome == "retry":
        log.warning("message %s: attempt %d failed (%s), retry in %s", message_id, msg.attempts, error, wait)
        task_queue.enqueue(TASK, message_id, delay=int(wait.total_seconds()) + 2)
    elif outcome == "failed":
        log.error("message %s: failed after %d attempts: %s", message_id, msg.attempts, error)
    return outcome


def send_due(limit: int = SWEEP_BATCH) -> dict:
    """The sweep: queue again what a killed worker left "sending", then send every message due
    now (never handed over, or whose retry the queue lost). Safe beside running workers."""
    now = utcnow()
    stale = db.session.execute(
        db.update(Message).where(Message.status == "sending", Message.next_attempt_at < now)
        .values(status="queued", next_attempt_at=now).execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    ids = list(db.session.scalars(
        db.select(Message.id).where(Message.status == "queued",
                                    or_(Message.next_attempt_at.is_(None), Message.next_attempt_at <= now))
        .order_by(Message.next_attempt_at, Message.id).limit(limit)))
    db.session.commit()
    counts: dict[str, int] = {}
    deadline = time.monotonic() + SWEEP_SECONDS
    for mid in ids:
        if time.monotonic() > deadline:  # a gateway timing out must not hold the other sweep hooks
            counts["left"] = counts.get("left", 0) + 1
            continue
        outcome = send_message(mid)
        counts[outcome] = counts.get(outcome, 0) + 1
    if ids or stale:
        log.info("message sweep: %d requeued, %s", stale, counts)
    return {"requeued": stale, **counts}


task_queue.register(TASK, send_message)
task_queue.on_worker_start(send_due)  # at worker start, every few minutes and nightly


# ---------------------------------------------------------------- the outbox (staff pages)

OUTBOX_ROLES = ("admin",)


def outbox(actor: User, status: str = "", channel: str = "", page: int = 1) -> tuple[list[Message], int]:
    """The agency's messages, newest first, one page, and how many match."""
    if not actor.has_role(*OUTBOX_ROLES):
        raise Forbidden("只有管理员可以查看消息发件箱")
    q = db.select(Message).where(Message.agency_id == actor.agency_id)
    if status:
        if status not in MESSAGE_STATUSES:
            raise ServiceError("未知的发送状态", "status")
        q = q.where(Message.status == status)
    if channel:
        if channel not in MESSAGE_CHANNELS:
            raise ServiceError("未知的发送方式", "channel")
        q = q.where(Message.channel == channel)
    total = db.session.scalar(q.with_only_columns(db.func.count(Message.id)).order_by(None))
    rows = list(db.session.scalars(q.order_by(Message.created_at.desc(), Message.id.desc())
                                   .limit(PER_PAGE).offset((max(1, page) - 1) * PER_PAGE)))
    return rows, total or 0


def case_messages(case: Case) -> list[Message]:
    return list(db.session.scalars(db.select(Message).where(Message.case_id == case.id)
                                   .order_by(Message.created_at, Message.id)))


def resend(actor: User, message_id: int) -> Message:
    """重新发送 a failed message: queued again with a fresh round of attempts (the earlier ones and
    their last error stay in the audit trail)."""
    if not actor.has_role(*OUTBOX_ROLES):
        raise Forbidden("只有管理员可以重新发送通知")
    msg = db.session.get(Message, message_id)
    if msg is None or msg.agency_id != actor.agency_id:
        raise NotFound("消息不存在")
    if msg.status != "failed":
        raise ServiceError("只有发送失败的消息可以重新发送")
    now = utcnow()
    data = {"message_id": msg.id, "notice": EVENT_LABELS.get(msg.event, msg.event),
            "via": MESSAGE_CHANNELS.get(msg.channel, msg.channel), "to": mask(msg.recipient),
            "attempts": msg.attempts, "error": msg.last_error}
    msg.status, msg.attempts, msg.next_attempt_at = "queued", 0, now
    if msg.case_id is not None:
        case = db.session.get(Case, msg.case_id)
        record(case, actor, "notify_resend", "重新发送通知", case.state, case.state, data)
    else:
        record_security(msg.agency_id, actor, "message_resent", data)
    db.session.info.setdefault(_PENDING, []).append(msg.id)
    db.session.commit()
    return msg
