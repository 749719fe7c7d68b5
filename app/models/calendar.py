from __future__ import annotations

import json
from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..domain.calendar import YearSchedule
from ..extensions import db


class CalendarYear(db.Model):
    """One confirmed year of the working-day calendar (国务院办公厅节假日安排通知)."""

    __tablename__ = "calendar_year"
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    holidays_json: Mapped[str] = mapped_column(Text, default="[]")
    makeup_json: Mapped[str] = mapped_column(Text, default="[]")
    revision: Mapped[int] = mapped_column(default=1)
    source: Mapped[str] = mapped_column(String(300), default="")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    updated_at: Mapped[datetime] = mapped_column(default=datetime.utcnow)

    @property
    def holidays(self) -> list[date]:
        return [date.fromisoformat(s) for s in json.loads(self.holidays_json)]

    @property
    def makeup_workdays(self) -> list[date]:
        return [date.fromisoformat(s) for s in json.loads(self.makeup_json)]

    def to_schedule(self) -> YearSchedule:
        return YearSchedule(self.year, frozenset(self.holidays), frozenset(self.makeup_workdays), self.revision)

    def set_days(self, holidays, makeup) -> None:
        self.holidays_json = json.dumps(sorted(d.isoformat() for d in holidays))
        self.makeup_json = json.dumps(sorted(d.isoformat() for d in makeup))


class CalendarRevision(db.Model):
    """Every revision of every year ever entered, kept so that a case's ``calendar_version``
    (e.g. "2026r1,2027r2") can be rebuilt. ``calendar_year`` holds the one in force."""

    __tablename__ = "calendar_revision"
    __table_args__ = (UniqueConstraint("year", "revision", name="uq_calendar_revision"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]
    revision: Mapped[int]
    holidays_json: Mapped[str] = mapped_column(Text, default="[]")
    makeup_json: Mapped[str] = mapped_column(Text, default="[]")
    source: Mapped[str] = mapped_column(String(300), default="")
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    entered_at: Mapped[datetime] = mapped_column(default=datetime.utcnow)

    def to_schedule(self) -> YearSchedule:
        return YearSchedule(self.year, frozenset(date.fromisoformat(s) for s in json.loads(self.holidays_json)),
                            frozenset(date.fromisoformat(s) for s in json.loads(self.makeup_json)), self.revision)


CHANGE_REQUEST_STATUSES = {"open": "待处理", "done": "已修改", "declined": "不予修改"}


class CalendarChangeRequest(db.Model):
    """An agency administrator's request that the system administrator correct the national calendar."""

    __tablename__ = "calendar_change_request"
    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    requested_at: Mapped[datetime] = mapped_column(default=datetime.utcnow)
    year: Mapped[int]
    dates: Mapped[str] = mapped_column(Text)  # the dates concerned and what is wrong with them
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str] = mapped_column(Text, default="")

    agency = relationship("Agency")
    requested_by = relationship("User", foreign_keys=[requested_by_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])

    @property
    def status_label(self) -> str:
        return CHANGE_REQUEST_STATUSES.get(self.status, self.status)
