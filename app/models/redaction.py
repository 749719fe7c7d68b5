"""Redaction for partial disclosure (Art. 37): the source documents of a case, the boxes marked on
their pages with the provision each rests on, and the released copies (删除处理版) made from them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db


class SourceDocument(db.Model):
    """A document the request asks for, as the agency holds it: a PDF, or an image placed on a PDF
    page at upload. Both files live in the content-addressed store; the PDF is what is marked."""

    __tablename__ = "source_document"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    position: Mapped[int] = mapped_column(default=1)  # order in the released package
    title: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(50))  # of the upload, detected from the bytes
    size: Mapped[int]
    original_sha256: Mapped[str] = mapped_column(String(64))  # the upload as received
    pdf_sha256: Mapped[str] = mapped_column(String(64))  # the PDF marked and released (= original for a PDF)
    pages: Mapped[int] = mapped_column(default=1)
    # Per page "w×h" in points, as displayed (rotation applied): the page view's aspect ratio.
    page_sizes: Mapped[str] = mapped_column(Text, default="")
    text_pages: Mapped[int] = mapped_column(default=0)  # pages with a text layer (searchable)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=datetime.utcnow)

    case = relationship("Case")
    uploaded_by = relationship("User")
    boxes = relationship("Redaction", back_populates="document", cascade="all, delete-orphan",
                         order_by="(Redaction.page, Redaction.y0, Redaction.x0, Redaction.id)")

    def size_of(self, page: int) -> tuple[float, float]:
        w, h = self.page_sizes.split(";")[page].split("x")
        return float(w), float(h)


class Redaction(db.Model):
    """One box on one page. Coordinates are fractions (0–1) of the page as displayed, from its top
    left corner, so they hold at any rendering size."""

    __tablename__ = "redaction"
    __table_args__ = (
        CheckConstraint("x0 >= 0 AND y0 >= 0 AND x1 <= 1 AND y1 <= 1 AND x0 < x1 AND y0 < y1", name="box_inside"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("source_document.id"), index=True)
    page: Mapped[int]  # 0-based
    x0: Mapped[float] = mapped_column(Float)
    y0: Mapped[float] = mapped_column(Float)
    x1: Mapped[float] = mapped_column(Float)
    y1: Mapped[float] = mapped_column(Float)
    basis: Mapped[str] = mapped_column(String(40))  # WithholdingBasis.articles, e.g. 第十五条
    note: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(20), default="manual")  # manual | search | id_number | mobile …
    matched: Mapped[str] = mapped_column(String(500), default="")  # the text found under it (search, suggestion)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=datetime.utcnow)

    document = relationship("SourceDocument", back_populates="boxes")


class Release(db.Model):
    """A released copy: every source document in order, covered areas rasterised with the boxes
    burnt in, made in the background for one approved draft and one redaction set."""

    __tablename__ = "redaction_release"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("draft.id"))
    redaction_hash: Mapped[str] = mapped_column(String(64))
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id"))
    status: Mapped[str] = mapped_column(String(20), default="queued")  # queued | running | done | failed
    sha256: Mapped[str] = mapped_column(String(64), default="")
    pages: Mapped[int] = mapped_column(default=0)
    redacted_pages: Mapped[int] = mapped_column(default=0)
    size: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=datetime.utcnow)
    finished_at: Mapped[datetime | None]

    case = relationship("Case")
    draft = relationship("Draft")
    job = relationship("Job")
    created_by = relationship("User")
