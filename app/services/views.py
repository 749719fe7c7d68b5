"""Read-only queries for the web pages, plus user creation and the API token (the other account
operations are in accounts.py). Nothing here writes to a case or its audit trail."""
from __future__ import annotations

import re
from datetime import date
from typing import Any, Mapping

from ..domain.calendar import WorkCalendar
from ..domain.clock import CORRECTION_NOTICE_DAYS
from ..domain.workflow import PLATFORM_ROLES
from ..extensions import db
from ..models import CalendarYear, Case, User
from .audit import record_security
from .calendar import load_calendar
from .errors import ServiceError
from .params import Params

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{3,64}$")


# ---------------------------------------------------------------- users

def agency_users(actor: User) -> list[User]:
    """The agency's users; platform accounts (系统管理员) are not the agency's to manage."""
    return [u for u in db.session.scalars(
        db.select(User).where(User.agency_id == actor.agency_id).order_by(User.username))
        if not u.roles & PLATFORM_ROLES]


def agency_handlers(actor: User) -> list[User]:
    """Active users of the actor's agency who may be assigned a case (role 承办人)."""
    return [u for u in agency_users(actor) if u.active and u.has_role("handler")]


def create_user(actor: User, raw: Mapping[str, Any]) -> User:
    """Create a user of the actor's own agency (admin only). The administrator chose the password, so
    the user must change it at the first login."""
    if not actor.has_role("admin"):
        raise ServiceError("只有管理员可以创建用户")
    p = Params(raw)
    return new_user(actor.agency_id, p.text("username", "用户名", required=True, max_len=64),
                    p.text("name", "姓名", required=True, max_len=100), raw.get("password") or "",
                    raw.get("roles"), actor=actor)


def new_user(agency_id: int, username: str, name: str, password: str, roles, *, actor: User | None = None,
             seed: bool = False, must_change: bool = False) -> User:
    """Validate and store a user (the admin page, the API and the CLI all come here; audited).

    ``seed`` is for demo data and tests only: the published demo password skips the policy and the
    first-login change unless ``must_change`` (``flask seed-demo`` requires it, see app/cli.py), unaudited."""
    from .accounts import check_policy, clean_roles, store_password

    if not USERNAME_RE.match(username):
        raise ServiceError("用户名应为3至64位字母、数字、下划线、点或连字符", "username")
    if db.session.scalar(db.select(User.id).where(User.username == username)):
        raise ServiceError(f"用户名 {username} 已存在", "username")
    if not name:
        raise ServiceError("请填写姓名", "name")
    roles = clean_roles(roles, actor)
    if not seed:
        if not password:
            raise ServiceError("请填写初始密码", "password")
        check_policy(username, password)
    u = User(agency_id=agency_id, username=username, name=name, must_change_password=not seed or must_change)
    u.roles = roles
    db.session.add(u)
    store_password(u, password)
    if not seed:  # demo data is not an account anyone created (and keeps the tests' audit trail empty)
        record_security(agency_id, actor, "user_created", {"username": username, "roles": roles})
    db.session.commit()
    return u


def issue_api_token(user: User, via: str = "web") -> str:
    """A fresh API token for the user; the previous one stops working. Only its hash is kept.

    via: web (the account page), api (POST /tokens) or cli (flask issue-token: no actor)."""
    token = user.new_api_token()
    record_security(user.agency_id, None if via == "cli" else user, "token_issued",
                    {"username": user.username, "via": via})
    db.session.commit()
    return token


def revoke_api_token(user: User) -> None:
    """The user's API token stops working (DELETE /api/v1/tokens); audited."""
    user.token_hash = None
    record_security(user.agency_id, user, "token_revoked", {"username": user.username})
    db.session.commit()


# ---------------------------------------------------------------- calendar

def calendar_overview(today: date) -> tuple[list[dict], list[int]]:
    """Confirmed years for the admin page, and the years around today still unconfirmed."""
    rows = list(db.session.scalars(db.select(CalendarYear).order_by(CalendarYear.year)))
    names = {u.id: u.name for u in db.session.scalars(
        db.select(User).where(User.id.in_({r.updated_by_id for r in rows if r.updated_by_id})))}
    out = [{
        "year": r.year, "revision": r.revision, "holidays": len(r.holidays),
        "makeup": len(r.makeup_workdays), "source": r.source, "updated_at": r.updated_at,
        "updated_by": names.get(r.updated_by_id, ""),
    } for r in rows]
    confirmed = {r.year for r in rows}
    first = min(confirmed | {today.year})
    missing = [y for y in range(first, today.year + 2) if y not in confirmed]
    return out, missing


def year_text(year: int) -> dict[str, str] | None:
    """A confirmed year as the text the admin form takes (runs of days as ranges)."""
    row = db.session.get(CalendarYear, year)
    if row is None:
        return None
    makeup = set(row.makeup_workdays)
    return {"year": str(year), "holidays": _ranges(row.holidays, bridge_weekends=makeup),
            "makeup": _ranges(row.makeup_workdays), "source": row.source}


def _ranges(days: list[date], bridge_weekends: set[date] | None = None) -> str:
    """Dates as lines, consecutive runs as a~b. With bridge_weekends (the year's make-up days),
    a run also continues over a weekend that is not worked: the stored holidays are weekdays only,
    and the save drops weekend days again, so the text means the same set."""
    days = sorted(days)

    def joins(a: date, b: date) -> bool:
        gap = [date.fromordinal(o) for o in range(a.toordinal() + 1, b.toordinal())]
        if bridge_weekends is None:
            return not gap
        return all(d.weekday() >= 5 and d not in bridge_weekends for d in gap)

    out: list[str] = []
    i = 0
    while i < len(days):
        j = i
        while j + 1 < len(days) and joins(days[j], days[j + 1]):
            j += 1
        out.append(days[i].isoformat() if i == j else f"{days[i].isoformat()}~{days[j].isoformat()}")
        i = j + 1
    return "\n".join(out)


# ---------------------------------------------------------------- cases

def correction_notice_due(case: Case, cal: WorkCalendar | None = None):
    """Art. 30: the one correction notice must go out within 7 working days of receipt."""
    cal = cal or load_calendar()
    return cal.add_working_days(case.received_on, CORRECTION_NOTICE_DAYS)


def user_names(ids) -> dict[int, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return {u.id: u.name for u in db.session.scalars(db.select(User).where(User.id.in_(ids)))}
