"""What the worker's scheduled work leaves behind: each user's daily digest of cases to act on,
and one row per run of a scheduled task (its claim, so that two worker hosts run it once)."""
from __future__ import annotations

import json
from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class Digest(db.Model):
    """One user's 今日提醒 for one day (services.digest): the cases due within 3 working days or
    overdue that the user should act on, as computed by the morning run."""

    __tablename__ = "digest"
    __table_args__ = (UniqueConstraint("user_id", "day", name="uq_digest_user_day"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    day: Mapped[date]
    items_json: Mapped[str] = mapped_column(Text, default="[]")
    total: Mapped[int] = mapped_column(default=0)  # items may be capped; this is the full count
    generated_at: Mapped[datetime] = mapped_column(default=datetime.utcnow)

    @property
    def items(self) -> list[dict]:
        return json.loads(self.items_json)


class ScheduledRun(db.Model):
    """One run of a scheduled task for one tick of its schedule (slot: local "YYYY-MM-DDTHH:MM").
    The unique (name, slot) is the claim: a second worker host firing the same tick skips it."""

    __tablename__ = "scheduled_run"
    __table_args__ = (UniqueConstraint("name", "slot", name="uq_scheduled_run_name_slot"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    slot: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(20), default="running")  # running/ok/failed
    started_at: Mapped[datetime] = mapped_column(default=datetime.utcnow)
    finished_at: Mapped[datetime | None]
    summary_json: Mapped[str] = mapped_column(Text, default="{}")

    @property
    def summary(self) -> dict:
        return json.loads(self.summary_json)
