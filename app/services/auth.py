"""Signing in, for the login page and the API's tokens alike, with a lock-out after repeated
failures (等级保护 asks for 登录失败处理: a limit on attempts, then a lock). Guessing passwords
therefore costs an attacker 15 minutes per 5 tries for each account.

Every password check first reserves an attempt in the database with one conditional UPDATE (the
row lock orders concurrent attempts), so however many guesses arrive at once, at most
LOGIN_MAX_FAILURES passwords are compared before the lock; the rest are refused unchecked."""
from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache

from flask import current_app
from sqlalchemy import and_, case, or_, update
from werkzeug.security import check_password_hash, generate_password_hash

from ..domain import passwords as P
from ..extensions import db
from ..models import User
from .audit import record_security
from .errors import NotFound, ServiceError
from .time import local, utcnow

WRONG = "用户名或密码不正确"


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return generate_password_hash("ogidesk-no-such-user")


class LoginRefused(ServiceError):
    status = 401


def _limits() -> tuple[int, int]:
    return (int(current_app.config["LOGIN_MAX_FAILURES"]),
            int(current_app.config["LOGIN_LOCK_MINUTES"]))


def _local_hm(dt: datetime) -> str:
    return f"{local(dt):%H:%M}"


def _reserve(user_id: int, now: datetime) -> int | None:
    """Count one more attempt unless the account is locked; the attempt that reaches the limit sets
    the lock itself. Returns the attempt's number, or None when locked (nothing may be checked)."""
    limit, minutes = _limits()
    lapsed = and_(User.locked_until.is_not(None), User.locked_until <= now)
    count = case((lapsed, 0), else_=User.failed_logins) + 1  # a lock that ran out starts a new count
    stmt = (update(User)
            .where(User.id == user_id, or_(User.locked_until.is_(None), User.locked_until <= now))
            .values(failed_logins=count,
                    locked_until=case((count >= limit, now + timedelta(minutes=minutes)), else_=None))
            .returning(User.failed_logins)
            .execution_options(synchronize_session=False))
    n = db.session.execute(stmt).scalar()
    db.session.commit()  # visible to every other attempt before this one's password is hashed
    return n


def _failed(user: User, reason: str, via: str, ip: str | None) -> None:
    record_security(user.agency_id, None, "login_failed",
                    {"username": user.username, "reason": reason, "via": via, "ip": ip})


def user_for_login(username: str, password: str, ip: str | None = None) -> User:
    """The user of this name; for an unknown name, the same hashing work as a wrong password and
    the same message, so the answer does not tell which names exist."""
    user = db.session.scalar(db.select(User).where(User.username == username.strip()))
    if user is None:
        check_password_hash(_dummy_hash(), password)
        # No agency to file a security event under: the server log keeps it.
        current_app.logger.info("login failed for unknown user %r from %s", username[:64], ip)
        raise LoginRefused(WRONG)
    return user


def refuse_inactive(user: User, via: str, ip: str | None) -> None:
    if not user.active:
        _failed(user, "inactive", via, ip)
        db.session.commit()
        raise LoginRefused("该账号已停用，请联系系统管理员")


def verify_password(user: User, password: str, *, via: str = "web", ip: str | None = None) -> None:
    """Check the user's password under the lock-out (sign-in and the current password on the change
    page alike); LoginRefused with the message to show when it is wrong or the account is locked."""
    limit, minutes = _limits()
    now = utcnow()
    n = _reserve(user.id, now)
    db.session.refresh(user)
    if n is None:
        _failed(user, "locked", via, ip)
        db.session.commit()
        until = f"至 {_local_hm(user.locked_until)}" if user.locked_until else ""
        raise LoginRefused(f"连续登录失败次数过多，账号已锁定{until}，请届时再试，或请系统管理员解锁")
    if not user.check_password(password):
        _failed(user, "wrong_password", via, ip)
        if n < limit:
            db.session.commit()
            raise LoginRefused(WRONG)
        record_security(user.agency_id, None, "login_locked",
                        {"username": user.username, "failures": limit,
                         "locked_until": user.locked_until.isoformat()})
        db.session.commit()
        raise LoginRefused(f"连续 {limit} 次登录失败，账号已锁定 {minutes} 分钟（至 {_local_hm(user.locked_until)}），"
                           "请届时再试，或请系统管理员解锁")
    # Right: the count starts again (and a lock set by this very attempt is lifted).
    user.failed_logins, user.locked_until = 0, None
    db.session.commit()


def max_age_days() -> int:
    return int(current_app.config["PASSWORD_MAX_AGE_DAYS"])


def password_change_reason(user: User) -> str | None:
    """'must_change' (reset or demo account), 'expired' (older than PASSWORD_MAX_AGE_DAYS) or None."""
    if user.must_change_password:
        return "must_change"
    if P.is_expired(user.password_changed_at or user.created_at, utcnow(), max_age_days()):
        return "expired"
    return None


def authenticate(username: str, password: str, *, via: str = "web", ip: str | None = None) -> User:
    """The user with this name and password, or LoginRefused with the message to show. A success is
    audited (login_ok), and so is a password found expired (the caller then asks for a new one)."""
    user = user_for_login(username, password, ip)
    verify_password(user, password, via=via, ip=ip)
    refuse_inactive(user, via, ip)
    record_security(user.agency_id, user, "login_ok", {"username": user.username, "via": via, "ip": ip})
    if password_change_reason(user) == "expired":
        record_security(user.agency_id, user, "password_expired",
                        {"username": user.username, "changed_at": user.password_changed_at})
    db.session.commit()
    return user


def is_locked(user: User) -> bool:
    return bool(user.locked_until and user.locked_until > utcnow())


def unlock(actor: User, user_id: int) -> User:
    """An administrator lifts a lock before it runs out (audited)."""
    if not actor.has_role("admin"):
        raise ServiceError("只有管理员可以解锁账号")
    user = db.session.get(User, user_id)
    if user is None or user.agency_id != actor.agency_id:
        raise NotFound("用户不存在")
    if not is_locked(user):
        raise ServiceError(f"账号 {user.username} 未被锁定")
    record_security(user.agency_id, actor, "unlock_user",
                    {"username": user.username, "locked_until": user.locked_until.isoformat()})
    user.failed_logins, user.locked_until = 0, None
    db.session.commit()
    return user
