from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db

ATTACHMENT_CATEGORIES = {
    "application_form": "申请表",
    "identity": "身份证明",
    "envelope": "信封",
    "postal_receipt": "邮寄凭证",
    "third_party_reply": "第三方意见",
    "proof_of_service": "送达凭证",
    "correction_material": "补正材料",
    "information_provided": "提供的信息",
    "other": "其他",
}


class Attachment(db.Model):
    """A scan attached to a case; the bytes live outside the web root, named by their SHA-256."""

    __tablename__ = "attachment"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    category: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200), default="")
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(50))  # detected from the bytes
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    pages: Mapped[int] = mapped_column(default=1)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=datetime.utcnow)

    case = relationship("Case", back_populates="attachments")
    uploaded_by = relationship("User")

    @property
    def category_label(self) -> str:
        return ATTACHMENT_CATEGORIES.get(self.category, self.category)


class OcrJob(db.Model):
    """Text recognition of one uploaded scan, run in the background (app.casefile.ocr). The result
    is a PDF of invisible text, one page per page of the scan, stored by SHA-256 like the scans;
    the case file lays it over the scan so the 案卷 can be searched."""

    __tablename__ = "ocr_job"
    id: Mapped[int] = mapped_column(primary_key=True)
    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachment.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="queued")  # queued/running/done/failed
    created_at: Mapped[datetime] = mapped_column(default=datetime.utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    languages: Mapped[str] = mapped_column(String(50), default="chi_sim")
    result_sha256: Mapped[str] = mapped_column(String(64), default="")
    # Per page of the scan: 1 text recognised, 0 nothing found, - left alone (it already had text).
    pages: Mapped[str] = mapped_column(String(4000), default="")
    chars: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(Text, default="")
