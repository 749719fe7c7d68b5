"""Signing in, for the login page and the API's tokens alike, with a lock-out after repeated
failures (等级保护 asks for 登录失败处理: a limit on attempts, then a lock). Guessing passwords
therefore costs an attacker 15 minutes per 5 tries for each account."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from functools import lru_cache

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import Event, User
from .errors import NotFound, ServiceError
from .time import local

MAX_FAILURES = 5
LOCK_MINUTES = 15
WRONG = "用户名或密码不正确"


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return generate_password_hash("ogidesk-no-such-user")


class LoginRefused(ServiceError):
    status = 401


def _now() -> datetime:
    return datetime.utcnow()


def _event(user: User, actor: User | None, action: str, label: str, data: dict) -> None:
    db.session.add(Event(agency_id=user.agency_id, case_id=None, actor_id=actor.id if actor else None,
                         action=action, label=label,
                         data_json=json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)))


def _local_hm(dt: datetime) -> str:
    return f"{local(dt):%H:%M}"


def authenticate(username: str, password: str) -> User:
    """The user with this name and password, or LoginRefused with the message to show."""
    user = db.session.scalar(db.select(User).where(User.username == username.strip()))
    if user is None:
        check_password_hash(_dummy_hash(), password)  # the same work whether or not the name exists
        raise LoginRefused(WRONG)
    now = _now()
    if user.locked_until and user.locked_until > now:
        # Checked before the password: while locked, no guess is ever confirmed.
        raise LoginRefused(f"连续登录失败次数过多，账号已锁定至 {_local_hm(user.locked_until)}，"
                           "请届时再试，或请系统管理员解锁")
    if not user.check_password(password):
        _failed(user, now)
    if not user.active:
        raise LoginRefused("该账号已停用，请联系系统管理员")
    if user.failed_logins or user.locked_until:
        user.failed_logins, user.locked_until = 0, None
        db.session.commit()
    return user


def _failed(user: User, now: datetime) -> None:
    limit = int(current_app.config.get("LOGIN_MAX_FAILURES", MAX_FAILURES))
    minutes = int(current_app.config.get("LOGIN_LOCK_MINUTES", LOCK_MINUTES))
    # Counted in the database, so failures arriving at once are all counted.
    db.session.execute(db.update(User).where(User.id == user.id)
                       .values(failed_logins=User.failed_logins + 1))
    db.session.refresh(user, ["failed_logins"])
    if user.failed_logins < limit:
        db.session.commit()
        raise LoginRefused(WRONG)
    user.failed_logins, user.locked_until = 0, now + timedelta(minutes=minutes)
    _event(user, None, "login_locked", "连续登录失败，账号锁定",
           {"username": user.username, "failures": limit, "locked_until": user.locked_until.isoformat()})
    db.session.commit()
    raise LoginRefused(f"连续 {limit} 次登录失败，账号已锁定 {minutes} 分钟（至 {_local_hm(user.locked_until)}），"
                       "请届时再试，或请系统管理员解锁")


def is_locked(user: User) -> bool:
    return bool(user.locked_until and user.locked_until > _now())


def unlock(actor: User, user_id: int) -> User:
    """An administrator lifts a lock before it runs out (audited)."""
    if not actor.has_role("admin"):
        raise ServiceError("只有管理员可以解锁账号")
    user = db.session.get(User, user_id)
    if user is None or user.agency_id != actor.agency_id:
        raise NotFound("用户不存在")
    if not is_locked(user):
        raise ServiceError(f"账号 {user.username} 未被锁定")
    _event(user, actor, "unlock_user", "管理员解锁账号",
           {"username": user.username, "locked_until": user.locked_until.isoformat()})
    user.failed_logins, user.locked_until = 0, None
    db.session.commit()
    return user
