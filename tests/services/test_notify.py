"""Notifications (services.notify): texts and recipients, the real gateways (an SMTP server by
aiosmtpd and an HTTP SMS gateway, both started here), retries, the claim, the hooks of the letters
and the morning digest."""
from __future__ import annotations

import json
import socket
import threading
from contextlib import contextmanager
from datetime import timedelta
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from app.extensions import db
from app.models import Event, Message
from app.services import cases as S
from app.services import digest, notify
from app.services import letters as L
from app.services.time import today, utcnow
from tests.conftest import user
from tests.factories import build_case, register, reload, to_correction


# ---------------------------------------------------------------- real gateways

class _Inbox:
    def __init__(self) -> None:
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp(app):
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    with _config(app, SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port, MAIL_FROM="gk@example.gov.cn"):
        yield inbox
    controller.stop()


class _Gateway(BaseHTTPRequestHandler):
    posts: list = []
    status = 200

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).posts.append({"headers": dict(self.headers), "json": json.loads(body)})
        self.send_response(type(self).status)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def sms_gateway(app):
    handler = type("Gateway", (_Gateway,), {"posts": [], "status": 200})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/send"
    with _config(app, SMS_GATEWAY_URL=url, SMS_GATEWAY_TOKEN="tok-123"):
        yield handler
    server.shutdown()
    server.server_close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def _config(app, **values):
    old = {k: app.config.get(k) for k in values}
    app.config.update(values)
    try:
        yield
    finally:
        app.config.update(old)


def _messages(**where) -> list[Message]:
    db.session.expire_all()
    q = db.select(Message).filter_by(**where).order_by(Message.id)
    return list(db.session.scalars(q))


def _case_events(case_id: int, action: str) -> list[Event]:
    return list(db.session.scalars(db.select(Event).where(Event.case_id == case_id, Event.action == action)))


def _due_now(msg_id: int) -> None:
    """Time passes: the retry is due."""
    db.session.execute(db.update(Message).where(Message.id == msg_id).values(next_attempt_at=utcnow()))
    db.session.commit()


# ---------------------------------------------------------------- recipients and texts

def test_recipients_texts_and_no_personal_substance(app, ctx):
    case = register(contact_phone="+86 138 1234 5678", contact_email="zhang@example.com")
    with _config(app, OGI_PUBLIC_URL="https://gk.example.gov.cn/"):
        msgs = notify.to_applicant(case, "confirmed", query_code="K7QX-29MD")
        db.session.commit()
    sms, mail = sorted(msgs, key=lambda m: m.channel != "sms")
    assert (sms.channel, sms.recipient, mail.channel, mail.recipient) == (
        "sms", "13812345678", "email", "zhang@example.com")
    assert sms.body == (f"【示范市自然资源和规划局】您的政府信息公开申请已登记，登记编号{case.number}，查询码K7QX-29MD。"
                        "可在https://gk.example.gov.cn/gk/DEMO/query查询办理情况。")
    assert "K7QX-29MD" in mail.body and "https://gk.example.gov.cn/gk/DEMO/query" in mail.body
    for m in msgs:
        assert case.id_number not in m.body and case.description not in m.body and case.description not in m.subject
        assert m.status == "local" and m.case_id == case.id and m.agency_id == case.agency_id  # no gateway here
    # No public address: no link; a landline or an empty e-mail: nobody to tell.
    other = register(contact_phone="010-12345678", contact_email="")
    assert notify.to_applicant(other, "replied") == []
    [m] = notify.to_applicant(register(), "replied")
    assert "http" not in m.body and m.recipient == "13800000000"
    assert notify.mask("13812345678") == "138****5678" and notify.mask("zhang@example.com") == "z***@example.com"


def test_online_applicant_and_clerks(app, ctx):
    from app.models import OnlineRequest

    admin = user("admin")
    req = OnlineRequest(agency_id=admin.agency_id, reference="W20261123-0001", fields_json=json.dumps(
        {"applicant_name": "李四", "contact_phone": "13900001111", "contact_email": "li@example.com",
         "id_number": "110105194912310021", "description": "某某项目的审批文件"}, ensure_ascii=False))
    db.session.add(req)
    db.session.flush()
    received = notify.to_online_applicant(req, "received")
    assert {m.recipient for m in received} == {"13900001111", "li@example.com"}
    assert all("W20261123-0001" in m.body and "110105194912310021" not in m.body and "审批文件" not in m.body
               for m in received)
    [sms, _] = notify.to_online_applicant(req, "rejected", reason="申请内容不明确")
    assert "未予登记" in sms.body and "申请内容不明确" in sms.body
    # Clerks with a contact hear of it; the others are not asked.
    clerk = user("clerk")
    clerk.email, clerk.mobile = "clerk@example.gov.cn", ""
    staff = notify.to_staff_new_online(req)
    assert [(m.user_id, m.channel, m.recipient) for m in staff] == [(clerk.id, "email", "clerk@example.gov.cn")]
    db.session.commit()


# ---------------------------------------------------------------- the real gateways

def test_email_through_a_real_smtp_server(app, ctx, smtp):
    case = register(contact_email="zhang@example.com", contact_phone="")
    [msg] = notify.to_applicant(case, "correction")
    db.session.commit()
    assert msg.status == "queued"
    assert notify.send_message(msg.id) == "sent"
    [env] = smtp.envelopes
    assert env.mail_from == "gk@example.gov.cn" and env.rcpt_tos == ["zhang@example.com"]
    mail = message_from_bytes(env.content, policy=policy.default)
    assert mail["Subject"] == f"政府信息公开申请补正告知（{case.number}）"
    assert "已出具补正告知书" in mail.get_content() and mail.get_content_charset() == "utf-8"
    [m] = _messages(id=msg.id)
    assert (m.status, m.attempts, m.sent_at is not None) == ("sent", 1, True)
    [ev] = _case_events(case.id, "notify_sent")
    assert ev.actor_id is None and ev.data["to"] == "z***@example.com" and ev.data["message_id"] == msg.id
    # Sent is sent: enqueued again, it is not this call's to send.
    assert notify.send_message(msg.id) == "skipped" and len(smtp.envelopes) == 1


def test_sms_through_a_real_http_gateway(app, ctx, sms_gateway):
    case = register()
    [msg] = notify.to_applicant(case, "replied")
    db.session.commit()
    assert notify.send_message(msg.id) == "sent"
    [post] = sms_gateway.posts
    assert post["headers"]["Authorization"] == "Bearer tok-123"
    assert post["json"] == {"phone": "13800000000", "text": msg.body}
    assert "已作出答复" in post["json"]["text"]


def test_a_failing_gateway_is_retried_then_failed(app, ctx, sms_gateway):
    sms_gateway.status = 500
    case = register()
    [msg] = notify.to_applicant(case, "extended")
    db.session.commit()
    waits = []
    for attempt in range(1, notify.MAX_ATTEMPTS):
        before = utcnow()
        assert notify.send_message(msg.id) == "retry"
        [m] = _messages(id=msg.id)
        assert (m.status, m.attempts, m.last_error) == ("queued", attempt, "短信网关返回 HTTP 500")
        waits.append(round((m.next_attempt_at - before).total_seconds() / 60))
        assert notify.send_message(msg.id) == "skipped"  # not due yet
        _due_now(msg.id)
    assert waits == [1, 5, 15, 60]
    assert not _case_events(case.id, "notify_failed")
    assert notify.send_message(msg.id) == "failed"
    [m] = _messages(id=msg.id)
    assert (m.status, m.attempts, m.next_attempt_at) == ("failed", 5, None)
    [ev] = _case_events(case.id, "notify_failed")
    assert ev.data["error"] == "短信网关返回 HTTP 500" and ev.data["to"] == "138****0000"
    assert len(sms_gateway.posts) == 5
    assert notify.send_message(msg.id) == "skipped"


def test_a_refused_smtp_port_counts_as_an_attempt_and_the_retry_is_scheduled(app, ctx):
    from app.services import queue

    h = queue.huey(app)
    h.storage.flush_queue()
    h.storage.flush_schedule()
    with _config(app, SMTP_HOST="127.0.0.1", SMTP_PORT=_free_port()):
        [msg] = notify.to_applicant(register(contact_email="a@example.com", contact_phone=""), "replied")
        db.session.commit()
        assert notify.send_message(msg.id) == "retry"
    [m] = _messages(id=msg.id)
    assert m.attempts == 1 and "ConnectionRefusedError" in m.last_error
    # The hand-over at the commit, then the retry (the consumer keeps it in its schedule until its eta).
    first, retry = h.pending()
    assert first.eta is None and first.args == (msg.id,)
    assert retry.name == notify.TASK and retry.args == (msg.id,)
    assert retry.eta >= m.next_attempt_at - timedelta(seconds=5)  # not before the retry is due
    h.storage.flush_queue()
    h.storage.flush_schedule()


def test_the_claim_sends_a_message_once(app, ctx, sms_gateway):
    """Four workers handed the same id, all reaching the claim at once: the conditional UPDATE
    gives it to one of them."""
    from tests.race import race

    [msg] = notify.to_applicant(register(), "replied")
    db.session.commit()
    mid = msg.id  # read here: the threads never touch this session's objects
    outcomes = race(app, 4, lambda i: notify.send_message(mid))
    assert sorted(map(str, outcomes)) == ["sent", "skipped", "skipped", "skipped"]
    assert len(sms_gateway.posts) == 1


def test_sweep_sends_due_and_requeues_a_killed_send(app, ctx, sms_gateway):
    a, b = notify.to_applicant(register(), "replied") + notify.to_applicant(register(), "replied")
    db.session.commit()
    # b was claimed by a worker that died mid-send long ago.
    db.session.execute(db.update(Message).where(Message.id == b.id).values(
        status="sending", attempts=1, next_attempt_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    assert notify.send_due() == {"requeued": 1, "sent": 2}
    assert [m.status for m in _messages()] == ["sent", "sent"]
    assert notify.send_due() == {"requeued": 0}


def test_without_a_gateway_messages_stay_local(app, ctx):
    [msg] = notify.to_applicant(register(), "replied")
    db.session.commit()
    assert msg.status == "local" and msg.status_label == "仅存本地发件箱（未配置网关）"
    assert notify.send_message(msg.id) == "skipped"


def test_commit_hands_the_message_to_the_queue_and_rollback_does_not(app, ctx, sms_gateway):
    from app.services import queue

    h = queue.huey(app)
    h.storage.flush_queue()
    notify.to_applicant(register(), "replied")
    db.session.rollback()
    assert h.pending_count() == 0
    [msg] = notify.to_applicant(register(), "replied")
    db.session.commit()
    [task] = h.pending()
    assert task.name == notify.TASK and task.args == (msg.id,)
    h.storage.flush_queue()


def test_resend_a_failed_message(app, ctx, sms_gateway):
    sms_gateway.status = 503
    case = register()
    [msg] = notify.to_applicant(case, "replied")
    db.session.commit()
    db.session.execute(db.update(Message).where(Message.id == msg.id).values(attempts=4))
    db.session.commit()
    assert notify.send_message(msg.id) == "failed"
    sms_gateway.status = 200
    with pytest.raises(Exception, match="管理员"):
        notify.resend(user("clerk"), msg.id)
    notify.resend(user("admin"), msg.id)
    [ev] = _case_events(case.id, "notify_resend")
    assert ev.actor_id == user("admin").id
    assert notify.send_message(msg.id) == "sent"
    with pytest.raises(Exception, match="只有发送失败"):
        notify.resend(user("admin"), msg.id)


# ---------------------------------------------------------------- hooks

def test_correction_notice_notifies_once(app, ctx):
    case = to_correction(register(contact_email="zhang@example.com"))
    step = reload(case.id).steps_of("correction")[0]
    ref = f"step-{step.id}"
    L.issue_notice(case.id, user("handler"), ref, today())
    msgs = _messages(case_id=case.id)
    assert sorted((m.event, m.channel) for m in msgs) == [("correction", "email"), ("correction", "sms")]
    L.reissue_notice(case.id, user("handler"), ref, today(), "更正补正事项")
    assert len(_messages(case_id=case.id)) == 2  # a re-issue tells nobody again


def test_extension_notice_notifies_with_the_new_due_date(app, ctx):
    case = build_case("handling")
    S.perform(case.id, user("head"), "extend", {"days": 10, "reason": "需调取历史档案"})
    assert not _messages(case_id=case.id)  # the decision alone tells nobody: the notice does
    L.issue_notice(case.id, user("handler"), "extension", today())
    [m] = _messages(case_id=case.id)
    due = reload(case.id).reply_due
    assert m.event == "extended" and f"延长后的答复期限为{due:%Y年%m月%d日}" in m.body


def test_issuing_the_reply_notifies(app, ctx):
    case = build_case("replied")
    [m] = _messages(case_id=case.id)
    assert (m.event, m.channel, m.recipient) == ("replied", "sms", "13800000000")
    build_case("closed")  # a withdrawal has no reply letter and tells nobody
    assert len(_messages()) == 1


def test_digest_messages_per_user(app, ctx):
    h = user("handler")
    h.email, h.mobile = "handler@example.gov.cn", "13700000000"
    user("head").mobile = "13600000000"
    db.session.commit()
    app.config["OGI_TODAY"] = "2026-11-27"
    case = build_case("handling")  # reply due 2026-11-30: within 3 working days
    digest.run_all()
    mine = _messages(user_id=h.id, event="digest")
    assert sorted(m.channel for m in mine) == ["email", "sms"]
    mail = next(m for m in mine if m.channel == "email")
    assert case.number in mail.body and "2026-11-30" in mail.body
    sms = next(m for m in mine if m.channel == "sms")
    assert "您有1件案件3个工作日内到期或已超期" in sms.body
    assert [m.recipient for m in _messages(user_id=user("head").id)] == ["13600000000"]
    assert not _messages(user_id=user("legal").id)  # nothing due for them, and no contact
    digest.run_all()  # a rerun of the day sends nothing again
    assert len(_messages(event="digest")) == 3
