from __future__ import annotations

import json
from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

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
