"""Agencies: creating one (flask create-agency, demo data, tests), the supervising office above one
(flask set-supervisor) and the agency's own settings that are not letter wording: separation of duties."""
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


def by_code(code: str) -> Agency:
    agency = db.session.scalar(db.select(Agency).where(Agency.code == code))
    if agency is None:
        raise ServiceError(f"机关 {code} 不存在", "code")
    return agency


def set_supervisor(code: str, supervisor_code: str | None) -> Agency:
    """Make the agency ``supervisor_code`` the supervising office of ``code`` (None: no supervisor).
    An operator's command (flask set-supervisor): no agency administrator may put its agency above
    another, since the supervisor's users then see the other's clock counts and reports. Audited
    under both agencies (each one's security log shows who oversees it, or whom it oversees)."""
    agency = by_code(code)
    supervisor = by_code(supervisor_code) if supervisor_code else None
    new_id = supervisor.id if supervisor else None
    if agency.supervisor_id == new_id:
        return agency
    old = db.session.get(Agency, agency.supervisor_id) if agency.supervisor_id else None
    agency.supervisor_id = new_id
    data = {"agency": agency.code, "supervisor": supervisor.code if supervisor else None,
            "previous": old.code if old else None}
    for agency_id in {a.id for a in (agency, supervisor, old) if a is not None}:
        record_security(agency_id, None, "agency_supervisor_changed", data)
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
