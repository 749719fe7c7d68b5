"""Number sequences per agency, kind and year: never duplicated, never skipped."""
from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Sequence


def next_number(agency_id: int, kind: str, year: int) -> int:
    """Allocate the next number inside the caller's transaction, under a row lock."""
    q = db.select(Sequence).where(Sequence.agency_id == agency_id, Sequence.kind == kind,
                                  Sequence.year == year).with_for_update()
    seq = db.session.scalars(q).first()
    if seq is None:
        try:
            with db.session.begin_nested():
                db.session.add(Sequence(agency_id=agency_id, kind=kind, year=year, last=0))
        except IntegrityError:
            pass  # another worker created it first; lock theirs
        seq = db.session.scalars(q).one()
    seq.last += 1
    db.session.flush()
    return seq.last
