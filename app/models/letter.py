from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db


class Letter(db.Model):
    """An issued letter: numbered once (if its type carries a 文号), rendered once, its bytes and
    SHA-256 kept forever.

    It belongs to one thing the case produces (``notice_ref``: "receipt", "step-12",
    "delivery-3", "reply" …). The first issue has ``reissue_no`` 0; an explicit re-issue is a new row
    with the next ``reissue_no``, pointing at the letter it replaces (``supersedes_id``). The unique
    key makes a second issue of the same notice impossible however many requests race for it.

    The database refuses UPDATE (of any column listed in migration 0011), DELETE and TRUNCATE.
    """

    __tablename__ = "letter"
    __table_args__ = (
        UniqueConstraint("agency_id", "number"),
        UniqueConstraint("case_id", "notice_ref", "reissue_no", name="uq_letter_notice"),
        CheckConstraint("length(sha256) = 64", name="sha256_len"),
        CheckConstraint("(number IS NULL) = (seq IS NULL)", name="number_seq"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    draft_id: Mapped[int | None] = mapped_column(ForeignKey("draft.id"))
    key: Mapped[str] = mapped_column(String(60))  # letter type in the catalogue
    title: Mapped[str] = mapped_column(String(200))
    notice_ref: Mapped[str] = mapped_column(String(60))  # what of the case it is the letter of
    reissue_no: Mapped[int] = mapped_column(default=0)
    number: Mapped[str | None] = mapped_column(String(100))  # None: the type carries no 文号
    year: Mapped[int]
    seq: Mapped[int | None]
    content_hash: Mapped[str] = mapped_column(String(64))  # the approved content it carries
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    pages: Mapped[int] = mapped_column(default=1)
    issued_at: Mapped[datetime] = mapped_column(default=datetime.utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("letter.id"))  # a re-issue refers to the old
    reissue_reason: Mapped[str | None] = mapped_column(Text)

    case = relationship("Case", back_populates="letters")
    issued_by = relationship("User")
    supersedes = relationship("Letter", remote_side=[id], foreign_keys=[supersedes_id])

    @property
    def number_text(self) -> str:
        return self.number or "不编号"

    @property
    def replaced_by(self) -> Letter | None:
        """The re-issue that replaced this letter (已重新出具), derived: the old row is never changed."""
        return next((o for o in self.case.letters
                     if o.notice_ref == self.notice_ref and o.reissue_no == self.reissue_no + 1), None)


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


class LetterTemplateVersion(db.Model):
    """Every wording an agency has given a letter type, in order: saved text, a return to the
    system wording (``source`` is None) or a rollback to an earlier version (``rolled_back_to``).
    The override row holds the wording in use; these rows are its history (diff and rollback)."""

    __tablename__ = "letter_template_version"
    __table_args__ = (UniqueConstraint("agency_id", "key", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    key: Mapped[str] = mapped_column(String(60))
    version: Mapped[int]
    source: Mapped[str | None] = mapped_column(Text)  # None: the system wording
    change: Mapped[str] = mapped_column(String(20))  # created | saved | reset | rollback
    rolled_back_to: Mapped[int | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=datetime.utcnow)
    created_by = relationship("User")
