"""Security events for the security log tests, written the way services write them, at chosen times."""
from __future__ import annotations

from datetime import datetime

from app.extensions import db
from app.models import Event
from app.services.audit import record_security
from tests.conftest import user
from tests.factories import other_agency


def security_event(username: str | None, action: str, data: dict, at: str, agency_id: int | None = None) -> int:
    """One event by username (None: no actor) at the naive UTC time at (YYYY-MM-DD HH:MM)."""
    actor = user(username) if username else None
    ev = record_security(agency_id if agency_id is not None else actor.agency_id, actor, action, data)
    ev.at = datetime.fromisoformat(at)
    db.session.commit()
    return ev.id


def seed_log() -> dict[str, int]:
    """A small log for the demo agency plus one event of another agency; returns event ids by name."""
    demo = user("admin").agency_id
    ids = {
        "login": security_event("handler", "login_ok", {"username": "handler"}, "2026-11-18 01:00"),
        # 2026-11-20 17:30 UTC is 2026-11-21 01:30 in Asia/Shanghai
        "roles": security_event("admin", "roles_changed", {"username": "legal", "old_roles": ["clerk"],
                                                           "new_roles": ["legal"]}, "2026-11-20 17:30"),
        "settings": security_event("admin", "agency_settings_changed", {"changes": [
            {"field": "phone", "label": "联系电话", "old": "010-1", "new": "010-2"}]}, "2026-11-22 02:00"),
        "export": security_event("head", "ledger_export", {"filters": "=HYPERLINK(\"http://x\",\"y\")", "rows": 3},
                                 "2026-11-22 03:00"),
    }
    # A case event is not a security event, whatever its action.
    case_ev = Event(agency_id=demo, case_id=None, actor_id=user("clerk").id, action="register", label="登记",
                    data_json="{}")
    db.session.add(case_ev)
    _agency, other = other_agency()
    ids["other"] = security_event(other["admin"].username, "login_ok", {"username": other["admin"].username},
                                  "2026-11-22 04:00")
    db.session.commit()
    return ids
