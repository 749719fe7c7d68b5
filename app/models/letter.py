from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db


class Letter(db.Model):
    """An issued letter: numbered once, rendered once, its bytes and SHA-256 kept forever.

    The database refuses UPDATE (of any column listed in migration 0010), DELETE and TRUNCATE.
    """

    __tablename__ = "letter"
    __table_args__ = (
        UniqueConstraint("agency_id", "number"),
        CheckConstraint("length(sha256) = 64", name="sha256_len"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    draft_id: Mapped[int | None] = mapped_column(ForeignKey("draft.id"))
    key: Mapped[str] = mapped_column(String(60))  # letter type in the catalogue
    title: Mapped[str] = mapped_column(String(200))
    number: Mapped[str] = mapped_column(String(100))
    year: Mapped[int]
    seq: Mapped[int]
    content_hash: Mapped[str] = mapped_column(String(64))  # the approved content it carries
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    pages: Mapped[int] = mapped_column(default=1)
    issued_at: Mapped[datetime] = mapped_column(default=datetime.utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("letter.id"))  # a correction refers to the old

    case = relationship("Case", back_populates="letters")
    issued_by = relationship("User")


class LetterTemplateOverride(db.Model):
    """An agency's own wording for a letter type, validated before it is saved."""

    __tablename__ = "letter_template_override"
    __table_args__ = (UniqueConstraint("agency_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    key: Mapped[str] = mapped_column(String(60))
    source: Mapped[str] = mapped_column(Text)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    updated_at: Mapped[datetime] = mapped_column(default=datetime.utcnow)
