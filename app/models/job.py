from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class Job(db.Model):
    """One piece of background work of any kind (app/services/jobs.py): batch case-file printing,
    large ledger exports, imports... The row, not the task queue, is the record of the work: the
    worker claims it, writes its progress and heartbeat, and stores its result file here."""

    __tablename__ = "job"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    # None: platform-wide work (e.g. the calendar recompute), visible to system administrators.
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="queued", index=True)  # queued/running/done/failed
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    params: Mapped[Any] = mapped_column(JSON, default=dict)
    # What the work produced besides a file (counts, rejected rows): JSON for the job page and the API.
    result: Mapped[Any | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=datetime.utcnow)
    # Running: written with every step of progress; a job whose heartbeat stops lost its worker.
    # Queued: when it was last handed to the task queue (None: the hand-over failed).
    heartbeat_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(Text, default="")  # failed: why; done: warnings (e.g. cases skipped)
    result_path: Mapped[str] = mapped_column(String(300), default="")
    result_name: Mapped[str] = mapped_column(String(200), default="")
    # Checked on every download of the result (app.services.integrity).
    result_sha256: Mapped[str] = mapped_column(String(64), default="")
    expires_at: Mapped[datetime | None]

    @property
    def active(self) -> bool:
        return self.status in ("queued", "running")

    @property
    def expired(self) -> bool:
        """A finished job whose result file was deleted by the sweep (JOB_RESULT_DAYS)."""
        return self.status == "done" and not self.result_path and self.expires_at is not None \
            and self.expires_at <= datetime.utcnow()
