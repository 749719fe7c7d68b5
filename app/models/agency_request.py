from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db

REQUEST_KINDS = {"cohandle": "协办函", "consultation": "征求意见书"}
REQUEST_STATES = {"open": "待办理", "drafted": "已起草", "review": "待法制审核", "approved": "已审核，待出具",
                  "answered": "已答复"}


class AgencyRequest(db.Model):
    """A 协办函 or Art. 34 征求意见书 from one agency's case to another agency on the platform (issue 16
    item 2). Created when the asking step is recorded; the target agency sees this row only, never the
    case. The answer is approved by the target's legal adviser bound to its text's hash, and issuing it
    answers the asking step."""

    __tablename__ = "agency_request"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # cohandle | consultation
    from_case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    from_step_id: Mapped[int] = mapped_column(ForeignKey("step.id"), unique=True)
    from_agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    to_agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    sent_on: Mapped[date]
    due_on: Mapped[date]
    matter: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(20), default="open", index=True)
    result: Mapped[str] = mapped_column(String(20), default="")  # consultation: agree | object
    answer_text: Mapped[str] = mapped_column(Text, default="")
    answer_hash: Mapped[str] = mapped_column(String(64), default="")
    approved_hash: Mapped[str] = mapped_column(String(64), default="")
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    drafted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    answered_on: Mapped[date | None]
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=datetime.utcnow)
    version: Mapped[int] = mapped_column(default=1)

    from_case = relationship("Case")
    from_step = relationship("Step")
    from_agency = relationship("Agency", foreign_keys=[from_agency_id])
    to_agency = relationship("Agency", foreign_keys=[to_agency_id])
    drafted_by = relationship("User", foreign_keys=[drafted_by_id])
    approved_by = relationship("User", foreign_keys=[approved_by_id])
    answered_by = relationship("User", foreign_keys=[answered_by_id])

    __mapper_args__ = {"version_id_col": version}

    @property
    def kind_label(self) -> str:
        return REQUEST_KINDS[self.kind]

    @property
    def state_label(self) -> str:
        return REQUEST_STATES[self.state]

    def overdue(self, today: date) -> bool:
        return self.state != "answered" and today > self.due_on
