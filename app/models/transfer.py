from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db


class CaseTransfer(db.Model):
    """分办: a registered request handed by the agency that received it to the agency that answers it.

    The case itself moves (Case.agency_id becomes the answering agency, its receipt date, clock,
    number and history unchanged); this row is what the sending agency keeps: when, why, by whom,
    to whom, and the 分办告知书 it issued to the applicant (``letter_id``)."""

    __tablename__ = "case_transfer"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    from_agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    to_agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    transferred_on: Mapped[date]
    at: Mapped[datetime] = mapped_column(default=datetime.utcnow)
    reason: Mapped[str] = mapped_column(Text)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    letter_id: Mapped[int | None] = mapped_column(ForeignKey("letter.id"))
    number: Mapped[str] = mapped_column(String(64))  # the case number, as the sending agency knew it

    case = relationship("Case")
    from_agency = relationship("Agency", foreign_keys=[from_agency_id])
    to_agency = relationship("Agency", foreign_keys=[to_agency_id])
    by = relationship("User")
    letter = relationship("Letter")
