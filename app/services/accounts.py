"""Accounts (GB/T 22239 身份鉴别): password policy, own password change, an administrator's reset
(a one-time password to be changed at the next login), deactivation and reactivation, roles, and
password age. Views, the API and the CLI are thin adapters over these functions; every change is
a security event in the same transaction.

``actor`` is the administrator doing it, or None for the server's operator at the ``flask`` CLI
(who may act on any agency's users)."""
from __future__ import annotations

import re
from typing import Iterable

from werkzeug.security import check_password_hash

from ..domain import passwords as P
from ..domain.workflow import PLATFORM_ROLES, ROLES
from ..extensions import db
from ..models import PasswordHistory, User
from . import sessions
from .audit import record_security
# password_change_reason lives with sign-in (auth asks it at every login); re-exported for callers here.
from .auth import max_age_days, password_change_reason, refuse_inactive, user_for_login, verify_password  # noqa: F401
from .errors import Forbidden, NotFound, ServiceError
from .time import utcnow


REASON_TEXT = {
    "must_change": "您的密码是初始密码或管理员重置的一次性密码，请先设置新密码",
    "expired": "您的密码已超过有效期，请先设置新密码",
}


# ---------------------------------------------------------------- the password itself

def check_policy(user_or_name: User | str, password: str, field: str = "password") -> None:
    """The rules a new password must meet, the history included for an existing user."""
    username = user_or_name if isinstance(user_or_name, str) else user_or_name.username
    problem = P.policy_problem(password, username)
    if problem:
        raise ServiceError(problem, field)
    if isinstance(user_or_name, User) and _recently_used(user_or_name, password):
        raise ServiceError(f"新密码不能与最近{P.HISTORY}次使用的密码相同", field)


def _recent_hashes(user: User) -> list[str]:
    rows = db.session.scalars(db.select(PasswordHistory.password_hash)
                              .where(PasswordHistory.user_id == user.id)
                              .order_by(PasswordHistory.id.desc()).limit(P.HISTORY))
    return list(rows)


def _recently_used(user: User, password: str) -> bool:
    hashes = _recent_hashes(user)
    if user.password_hash and user.password_hash not in hashes:
        hashes.append(user.password_hash)  # accounts from before the history was kept
    return any(check_password_hash(h, password) for h in hashes)


def store_password(user: User, password: str) -> None:
    """Hash and keep the password (and the last few in the history); no policy check here."""
    user.set_password(password)
    user.password_changed_at = utcnow()
    if user.id is None:
        db.session.flush()
    db.session.add(PasswordHistory(user_id=user.id, password_hash=user.password_hash,
                                   created_at=user.password_changed_at))
    db.session.flush()
    keep = db.select(PasswordHistory.id).where(PasswordHistory.user_id == user.id) \
        .order_by(PasswordHistory.id.desc()).limit(P.HISTORY)
    db.session.execute(db.delete(PasswordHistory).where(PasswordHistory.user_id == user.id,
                                                        PasswordHistory.id.not_in(keep.scalar_subquery())),
                       execution_options={"synchronize_session": False})


def _end_access(user: User, keep_sid: str | None = None) -> None:
    """Other sessions and the API token end with a new password or a deactivation."""
    sessions.end_all(user, keep_sid)
    user.token_hash = None


# ---------------------------------------------------------------- the user's own password

def change_password(user: User, current: str, new: str, confirm: str | None = None, *,
                    keep_sid: str | None = None, via: str = "web", ip: str | None = None) -> User:
    """The user sets a new password, proving the current one (counted like a login, so a left-open
    session cannot be used to guess it: a wrong one is LoginRefused). Other sessions and the API
    token end."""
    if not current:
        raise ServiceError("请输入当前密码", "current_password")
    if not new:
        raise ServiceError("请输入新密码", "new_password")
    if confirm is not None and confirm != new:
        raise ServiceError("两次输入的新密码不一致", "confirm_password")
    verify_password(user, current, via=via, ip=ip)
    refuse_inactive(user, via, ip)
    if new == current:
        raise ServiceError("新密码不能与当前密码相同", "new_password")
    check_policy(user, new, "new_password")
    reason = password_change_reason(user)
    store_password(user, new)
    user.must_change_password = False
    _end_access(user, keep_sid)
    record_security(user.agency_id, user, "password_changed",
                    {"username": user.username, "via": via, "ip": ip, "required": reason})
    db.session.commit()
    return user


def change_password_by_name(username: str, current: str, new: str, *, via: str = "api",
                            ip: str | None = None) -> User:
    """The same, for a caller who is not signed in (the API; an expired or one-time password)."""
    return change_password(user_for_login(username, current, ip), current, new, via=via, ip=ip)


# ---------------------------------------------------------------- administration

def managed_user(actor: User | None, user_id: int) -> User:
    if actor is not None and not actor.has_role("admin"):
        raise Forbidden("只有管理员可以管理用户")
    user = db.session.get(User, user_id)
    if user is None or (actor is not None and user.agency_id != actor.agency_id):
        raise NotFound("用户不存在")
    if actor is not None and user.roles & PLATFORM_ROLES:
        raise Forbidden("系统管理员账号只能由部署方用 flask 命令管理")
    return user


def by_username(username: str) -> User:
    user = db.session.scalar(db.select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"用户 {username} 不存在", "username")
    return user


def reset_password(actor: User | None, user_id: int) -> tuple[User, str]:
    """A one-time password for a user who forgot theirs: shown once to the administrator, to be
    changed at the next login. Sessions and the API token end; a lock-out is lifted."""
    user = managed_user(actor, user_id)
    if actor is not None and user.id == actor.id:
        raise ServiceError("不能重置自己的密码，请在“修改密码”页面修改")
    while True:
        otp = P.one_time_password()
        if P.policy_problem(otp, user.username) is None and not _recently_used(user, otp):
            break
    store_password(user, otp)
    user.must_change_password = True
    user.failed_logins, user.locked_until = 0, None
    _end_access(user)
    record_security(user.agency_id, actor, "password_reset", {"username": user.username})
    db.session.commit()
    return user, otp


def deactivate(actor: User | None, user_id: int) -> User:
    """The account stops working at once: sessions and the API token end."""
    user = managed_user(actor, user_id)
    if actor is not None and user.id == actor.id:
        raise ServiceError("不能停用自己的账号")
    if not user.active:
        raise ServiceError(f"账号 {user.username} 已是停用状态")
    user.active = False
    _end_access(user)
    record_security(user.agency_id, actor, "user_deactivated", {"username": user.username})
    db.session.commit()
    return user


def reactivate(actor: User | None, user_id: int) -> User:
    user = managed_user(actor, user_id)
    if user.active:
        raise ServiceError(f"账号 {user.username} 未被停用")
    user.active = True
    record_security(user.agency_id, actor, "user_reactivated", {"username": user.username})
    db.session.commit()
    return user


def clean_roles(roles: Iterable[str] | str | None, actor: User | None = None) -> list[str]:
    """The roles as given by a form, JSON or the CLI, checked: at least one, each known, and no
    platform role given by an agency's administrator (``actor``; None is the deployment's CLI)."""
    if isinstance(roles, str):
        roles = [roles]
    roles = sorted({r for r in (roles or []) if r})
    if not roles:
        raise ServiceError("请至少选择一个角色", "roles")
    bad = [r for r in roles if r not in ROLES]
    if bad:
        raise ServiceError(f"未知角色：{bad[0]}", "roles")
    platform = [r for r in roles if r in PLATFORM_ROLES]
    if platform and actor is not None:
        # A platform role is granted at deployment (flask create-user / set-roles), never by an agency.
        raise ServiceError(f"机关管理员不能授予“{ROLES[platform[0]]}”角色", "roles")
    return roles


def set_roles(actor: User | None, user_id: int, roles: Iterable[str] | str | None) -> User:
    """Replace a user's roles; an administrator cannot take away their own administrator role."""
    user = managed_user(actor, user_id)
    new = clean_roles(roles, actor)
    if actor is not None and user.id == actor.id and "admin" not in new:
        raise ServiceError("不能取消自己的管理员角色", "roles")
    old = sorted(user.roles)
    if old == new:
        raise ServiceError("角色没有变化", "roles")
    user.roles = new
    record_security(user.agency_id, actor, "roles_changed",
                    {"username": user.username, "old": old, "new": new})
    db.session.commit()
    return user


# ---------------------------------------------------------------- contacts (services.notify)

_EMAIL = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+$")


def clean_contacts(email: str | None, mobile: str | None) -> tuple[str, str]:
    """The e-mail address and mainland mobile number where a user's notifications go (each may be
    empty), checked; the mobile kept as its 11 digits."""
    email, mobile = (email or "").strip(), (mobile or "").strip()
    if email and (len(email) > 200 or not _EMAIL.match(email)):
        raise ServiceError("电子邮箱格式不正确，例如 zhangsan@example.gov.cn", "email")
    if mobile:
        from .notify import mobile as mainland_mobile

        digits = mainland_mobile(mobile)
        if not digits:
            raise ServiceError("手机号码应为11位中国大陆手机号码，例如 13800000000", "mobile")
        mobile = digits
    return email, mobile


def set_contacts(actor: User | None, user_id: int, email: str | None, mobile: str | None) -> User:
    """Set where a user's notifications (new online requests, the morning digest) go."""
    user = managed_user(actor, user_id)
    email, mobile = clean_contacts(email, mobile)
    changes = [{"label": label, "old": old, "new": new} for label, old, new in
               (("电子邮箱", user.email or "", email), ("手机号码", user.mobile or "", mobile)) if old != new]
    if not changes:
        raise ServiceError("联系方式没有变化", "email")
    user.email, user.mobile = email, mobile
    record_security(user.agency_id, actor, "contacts_changed", {"username": user.username, "changes": changes})
    db.session.commit()
    return user

