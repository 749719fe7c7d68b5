from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db


class Event(db.Model):
    """Append-only audit trail: who did what to which case, when, from which stage to which.

    Updates and deletes are refused here and by database triggers (see the migration).
    """

    __tablename__ = "event"
    # The security log: events without a case, per agency, newest first (reports/security_log.py).
    __table_args__ = (Index("ix_event_security", "case_id", "agency_id", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(default=datetime.utcnow)
    action: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(100), default="")
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str | None] = mapped_column(String(20))
    data_json: Mapped[str] = mapped_column(Text, default="{}")

    actor = relationship("User")

    @property
    def data(self) -> dict:
        return json.loads(self.data_json)

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "at": self.at.isoformat(timespec="seconds"),
            "actor": self.actor.name if self.actor else None,
            "action": self.action,
            "label": self.label,
            "from_state": self.from_state,
            "to_state": self.to_state,
            "data": self.data,
        }


class AuditImmutable(Exception):
    pass


@event.listens_for(Event, "before_update")
def _no_update(mapper, connection, target):
    raise AuditImmutable("审计记录不可修改")


@event.listens_for(Event, "before_delete")
def _no_delete(mapper, connection, target):
    raise AuditImmutable("审计记录不可删除")
