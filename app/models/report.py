from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db


class AnnualReportEntry(db.Model):
    """What an agency writes into its annual report (国办公开办函〔2021〕30号) beside the computed tables
    三 and 四: the figures of table 二 (主动公开) and the text of the written sections, one row per
    year; submitted_at is set when the agency submits the report (Art. 49, by 31 January)."""

    __tablename__ = "annual_report_entry"
    __table_args__ = (UniqueConstraint("agency_id", "year", name="uq_annual_report_entry_year"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    year: Mapped[int]
    # JSON: {"rules": {"issued": n, "repealed": n, "in_force": n}, "licensing": {"decisions": n}, …}
    section2_json: Mapped[str] = mapped_column(Text, default="{}", server_default="{}")
    # JSON: {"一": text, "五": text, "六": text, …}; a section missing here is prefilled from the data
    texts_json: Mapped[str] = mapped_column(Text, default="{}", server_default="{}")
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    updated_at: Mapped[datetime | None]
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    submitted_at: Mapped[datetime | None]
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # JSON: the document as submitted (tables 三/四 and the texts as printed then), so a submitted report
    # does not change when cases of that year are edited later; empty while not submitted.
    submitted_json: Mapped[str] = mapped_column(Text, default="", server_default="")

    agency = relationship("Agency")
    updated_by = relationship("User", foreign_keys=[updated_by_id])
    submitted_by = relationship("User", foreign_keys=[submitted_by_id])

    __mapper_args__ = {"version_id_col": version}
