"""Server-side sign-in sessions (GB/T 22239 身份鉴别: 登录连接超时自动退出).

The browser's signed cookie holds only a random session id; its SHA-256 is a ``user_session`` row.
A cookie opens a page only while its row exists, belongs to the user it names and is neither idle
(SESSION_IDLE_MINUTES, default 30) nor too old (SESSION_MAX_HOURS, default 12). Logout, expiry, a
password change or reset and deactivation delete rows, so a copied cookie stops working at once."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, or_
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import User, UserSession
from .audit import record_security
from .time import utcnow

IDLE_MINUTES = 30
MAX_HOURS = 12
# last_seen_at is written at most this often, not on every request; idle expiry is exact to it.
TOUCH_SECONDS = 60


def _hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def _limits() -> tuple[timedelta, timedelta]:
    cfg = current_app.config
    return (timedelta(minutes=int(cfg.get("SESSION_IDLE_MINUTES", IDLE_MINUTES))),
            timedelta(hours=float(cfg.get("SESSION_MAX_HOURS", MAX_HOURS))))


def expiry_reason(created_at: datetime, last_seen_at: datetime, now: datetime,
                  idle: timedelta, absolute: timedelta) -> str | None:
    """'absolute' past the session's whole lifetime, 'idle' after too long without a request."""
    if now - created_at >= absolute:
        return "absolute"
    if now - last_seen_at >= idle:
        return "idle"
    return None


def start(user: User) -> str:
    """A new session for a user who has just signed in; returns the id for the cookie."""
    now = utcnow()
    idle, absolute = _limits()
    # Sessions left to expire (a closed browser) are cleared here, so the table stays small.
    db.session.execute(delete(UserSession).where(
        UserSession.user_id == user.id,
        or_(UserSession.last_seen_at <= now - idle, UserSession.created_at <= now - absolute)))
    sid = secrets.token_urlsafe(32)
    db.session.add(UserSession(user_id=user.id, token_hash=_hash(sid), created_at=now, last_seen_at=now))
    db.session.commit()
    return sid


def resume(user_id: int, sid: str | None) -> tuple[User | None, str | None]:
    """The user a cookie stands for, or (None, why): 'idle' or 'absolute' when it just expired
    (audited once, the row is gone afterwards), None when it was never or is no longer valid."""
    if not sid:
        return None, None
    # One statement for the session, its user and the user's agency (every page shows its name):
    # this runs before every page and API call.
    found = db.session.execute(
        db.select(UserSession, User).join(User, User.id == UserSession.user_id)
        .where(UserSession.token_hash == _hash(sid)).options(joinedload(User.agency))).first()
    if found is None or found[0].user_id != user_id:
        return None, None
    row, user = found
    if not user.active:
        return None, None
    now = utcnow()
    reason = expiry_reason(row.created_at, row.last_seen_at, now, *_limits())
    if reason:
        db.session.delete(row)
        record_security(user.agency_id, user, "session_expired",
                        {"username": user.username, "reason": reason, "started_at": row.created_at,
                         "last_seen_at": row.last_seen_at})
        db.session.commit()
        return None, reason
    if now - row.last_seen_at >= timedelta(seconds=TOUCH_SECONDS):
        row.last_seen_at = now
        db.session.commit()
    return user, None


def end(user: User, sid: str | None, ip: str | None = None) -> None:
    """Logout: the session's row goes, so its cookie opens nothing even if it was copied."""
    if sid:
        db.session.execute(delete(UserSession).where(UserSession.token_hash == _hash(sid)))
    record_security(user.agency_id, user, "logout", {"username": user.username, "ip": ip})
    db.session.commit()


def end_all(user: User, keep_sid: str | None = None) -> int:
    """End every session of the user but ``keep_sid`` (in the caller's transaction)."""
    stmt = delete(UserSession).where(UserSession.user_id == user.id)
    if keep_sid:
        stmt = stmt.where(UserSession.token_hash != _hash(keep_sid))
    return db.session.execute(stmt).rowcount or 0


def active_count(user: User) -> int:
    idle, absolute = _limits()
    now = utcnow()
    return db.session.scalar(db.select(db.func.count(UserSession.id)).where(
        UserSession.user_id == user.id, UserSession.last_seen_at > now - idle,
        UserSession.created_at > now - absolute)) or 0
