"""Number sequences per agency, kind and year: never duplicated, never skipped."""
from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Sequence


def next_number(agency_id: int, kind: str, year: int) -> int:
    """Allocate the next number inside the caller's transaction.

    One atomic UPDATE … RETURNING: the row stays locked until the caller commits or rolls back
    (so a failed step gives its number back), and unlike read-then-write it cannot lose an
    increment on SQLite, which ignores FOR UPDATE."""
    bump = (db.update(Sequence)
            .where(Sequence.agency_id == agency_id, Sequence.kind == kind, Sequence.year == year)
            .values(last=Sequence.last + 1).returning(Sequence.last)
            .execution_options(synchronize_session=False))
    n = db.session.execute(bump).scalar()
    if n is None:
        try:
            with db.session.begin_nested():
                db.session.add(Sequence(agency_id=agency_id, kind=kind, year=year, last=0))
        except IntegrityError:
            pass  # another worker created it first; bump theirs
        n = db.session.execute(bump).scalar_one()
    return n


def next_numbers(agency_id: int, kind: str, year: int, count: int) -> int:
    """Allocate ``count`` consecutive numbers at once (a ledger import); returns the first. The
    same atomic UPDATE as ``next_number``, by ``count`` instead of one."""
    first = next_number(agency_id, kind, year)
    if count > 1:
        db.session.execute(db.update(Sequence).where(Sequence.agency_id == agency_id, Sequence.kind == kind,
                                                     Sequence.year == year)
                           .values(last=Sequence.last + (count - 1)).execution_options(synchronize_session=False))
    return first
