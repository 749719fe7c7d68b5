"""What every service step needs: the actor's case, and one commit per step (a conflict with a
concurrent step answers 409). Below cases.py and letters.py, so neither imports the other back."""
from __future__ import annotations

from ..extensions import db
from ..models import Case, User
from .errors import NotFound, conflict_is_409


def get_case(case_id: int, actor: User) -> Case:
    """A case of the actor's own agency; other agencies' cases do not exist for them."""
    case = db.session.get(Case, case_id)
    if case is None or case.agency_id != actor.agency_id:
        raise NotFound("案件不存在")
    return case


@conflict_is_409()
def commit_step() -> None:
    db.session.commit()
