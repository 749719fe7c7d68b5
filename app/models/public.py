"""The applicant's side (issue 13): requests submitted on the agency's public pages, the files
sent with them, answers to a correction notice sent online, one-time SMS codes for the status
lookup, and every notification sent by e-mail or SMS (the outbox)."""
from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db

ONLINE_STATUSES = {"pending": "待确认", "confirmed": "已确认登记", "rejected": "已退回"}


class OnlineRequest(db.Model):
    """网上申请: not a case until a clerk confirms it (Art. 31(3): the day both sides confirm is
    the day of receipt). The applicant's fields are those of the intake form."""

    __tablename__ = "online_request"
    __table_args__ = (Index("ix_online_request_queue", "agency_id", "status", "submitted_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    # Shown to the applicant at submission (the 登记编号 comes only with the confirmation).
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    submitted_at: Mapped[datetime] = mapped_column(default=datetime.utcnow)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    ip: Mapped[str] = mapped_column(String(64), default="")
    fields_json: Mapped[str] = mapped_column(Text, default="{}")
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    reject_reason: Mapped[str] = mapped_column(Text, default="")
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)

    agency = relationship("Agency")
    decided_by = relationship("User")
    case = relationship("Case")
    files: Mapped[list[OnlineFile]] = relationship(back_populates="request", order_by="OnlineFile.id")

    @property
    def fields(self) -> dict:
        return json.loads(self.fields_json or "{}")

    @property
    def status_label(self) -> str:
        return ONLINE_STATUSES.get(self.status, self.status)


class OnlineFile(db.Model):
    """A file the applicant sent with an online request, checked by content as staff uploads are
    and stored by SHA-256; it becomes the case's attachment on confirmation."""

    __tablename__ = "online_file"
    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("online_request.id"), index=True)
    category: Mapped[str] = mapped_column(String(40))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(50))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    pages: Mapped[int] = mapped_column(default=1)

    request: Mapped[OnlineRequest] = relationship(back_populates="files")


class CorrectionReply(db.Model):
    """The applicant's answer to a 补正告知书 sent from the status page; a clerk records it as
    received (the Art. 30 restart) without retyping. Its files are case attachments."""

    __tablename__ = "correction_reply"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("step.id"))
    submitted_at: Mapped[datetime] = mapped_column(default=datetime.utcnow)
    text: Mapped[str] = mapped_column(Text, default="")
    attachment_ids_json: Mapped[str] = mapped_column(Text, default="[]")
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending / recorded
    recorded_at: Mapped[datetime | None]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    @property
    def attachment_ids(self) -> list[int]:
        return json.loads(self.attachment_ids_json or "[]")


class SmsCode(db.Model):
    """A one-time code sent to a phone for the status lookup; only its hash is kept."""

    __tablename__ = "sms_code"
    __table_args__ = (Index("ix_sms_code_phone", "phone_key", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    phone_key: Mapped[str] = mapped_column(String(50))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=datetime.utcnow)
    expires_at: Mapped[datetime]
    tries: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[datetime | None]


# "local": the channel has no gateway configured (development), the outbox page is where it is read.
MESSAGE_STATUSES = {"queued": "待发送", "sending": "正在发送", "sent": "已发送", "failed": "发送失败",
                    "local": "仅存本地发件箱（未配置网关）"}
MESSAGE_CHANNELS = {"email": "电子邮件", "sms": "短信"}


class Message(db.Model):
    """One notification by e-mail or SMS (services.notify): written in the transaction of what
    caused it and sent by the worker with retries; the local outbox page lists them."""

    __tablename__ = "message"
    __table_args__ = (Index("ix_message_status", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))  # a staff recipient
    event: Mapped[str] = mapped_column(String(40))  # what it tells: confirmed, correction, replied...
    channel: Mapped[str] = mapped_column(String(10))  # email / sms
    recipient: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=datetime.utcnow)
    next_attempt_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]

    @property
    def status_label(self) -> str:
        return MESSAGE_STATUSES.get(self.status, self.status)

    @property
    def channel_label(self) -> str:
        return MESSAGE_CHANNELS.get(self.channel, self.channel)
