import json

from ..extensions import db
from ..models import Case, Event, User


def record(case: Case, actor: User | None, action: str, label: str, from_state: str | None,
           to_state: str | None, data: dict | None = None) -> Event:
    ev = Event(agency_id=case.agency_id, case_id=case.id, actor_id=actor.id if actor else None,
               action=action, label=label, from_state=from_state, to_state=to_state,
               data_json=json.dumps(data or {}, ensure_ascii=False, sort_keys=True, default=str))
    db.session.add(ev)
    return ev
