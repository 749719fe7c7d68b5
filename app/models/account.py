"""Server-side sign-in sessions and the password history (services/sessions.py, services/accounts.py)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class UserSession(db.Model):
    """One browser sign-in. The signed cookie carries a random id whose SHA-256 is stored here; the
    row is deleted at logout, expiry, password change or reset and deactivation, and the cookie then
    opens nothing, whatever it says."""

    __tablename__ = "user_session"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]


class PasswordHistory(db.Model):
    """Hashes of a user's recent passwords (the current one included), so none is reused."""

    __tablename__ = "password_history"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime]
