from __future__ import annotations

from datetime import date

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db

REMEDY_KINDS = {
    "reconsideration": "行政复议",
    "direct_suit": "行政诉讼（未经复议直接起诉）",
    "suit_after_reconsideration": "行政诉讼（复议后起诉）",
}
REMEDY_RESULTS = {"upheld": "结果维持", "corrected": "结果纠正", "other": "其他结果", "pending": "尚未审结"}


class Remedy(db.Model):
    """A reconsideration or lawsuit arising from a case (feeds annual report table 四)."""

    __tablename__ = "remedy"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    filed_on: Mapped[date]
    body: Mapped[str] = mapped_column(String(200), default="")  # 复议机关 / 人民法院
    result: Mapped[str] = mapped_column(String(20), default="pending")
    decided_on: Mapped[date | None]
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    case = relationship("Case", back_populates="remedies")

    @property
    def kind_label(self) -> str:
        return REMEDY_KINDS.get(self.kind, self.kind)

    @property
    def result_label(self) -> str:
        return REMEDY_RESULTS.get(self.result, self.result)
