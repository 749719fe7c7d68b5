"""Agencies: creating one (flask create-agency, demo data, tests) and the agency's own settings
that are not letter wording: separation of duties."""
from __future__ import annotations

from ..extensions import db
from ..models import Agency, User
from .audit import record_security
from .errors import Forbidden, ServiceError


def create_agency(code: str, name: str, **details) -> Agency:
    """A new agency (an operator's command on the server: no actor, no agency to log it under)."""
    if db.session.scalar(db.select(Agency.id).where(Agency.code == code)):
        raise ServiceError(f"机关代码 {code} 已存在", "code")
    agency = Agency(code=code, name=name, **details)
    db.session.add(agency)
    db.session.commit()
    return agency


def settings(actor: User) -> dict:
    a = actor.agency
    return {"code": a.code, "name": a.name, "separation_relaxed": a.separation_relaxed}


def set_separation_relaxed(actor: User, relaxed: bool, *, commit: bool = True) -> bool:
    """Relax (or restore) separation of duties for the actor's agency; audited when it changes.
    Returns whether it changed. With commit=False the caller commits (one transaction with the
    rest of its form)."""
    if not actor.has_role("admin"):
        raise Forbidden("只有管理员可以修改机关设置")
    agency = actor.agency
    relaxed = bool(relaxed)
    if agency.separation_relaxed == relaxed:
        return False
    agency.separation_relaxed = relaxed
    record_security(agency.id, actor, "agency_settings_changed",
                    {"separation_relaxed": relaxed, "previous": not relaxed})
    if commit:
        db.session.commit()
    return True
