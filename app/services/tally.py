"""The case tally (models.CaseTally) checked against the cases, and rebuilt from them.

Triggers keep the tally in the transaction of every write to a case (migration 0023). This is the
independent count, in Python over every case, that ``flask verify`` compares the tally with every
night, and that ``flask tally-rebuild`` writes back if they ever differ (a restore of one table,
a write with the triggers switched off)."""
from __future__ import annotations

from collections import Counter
from datetime import date

from ..extensions import db
from ..models import Agency, Case, CaseTally

Key = tuple[int, int, int, str, str]  # agency, received yyyymm, closed yyyymm (0 open), type, outcome


def _ym(d: date | None) -> int:
    return d.year * 100 + d.month if d else 0


def recount() -> dict[Key, tuple[int, int, int]]:
    """(n, measured, on_time) per tally key, from every case (streamed)."""
    n: Counter = Counter()
    measured: Counter = Counter()
    on_time: Counter = Counter()
    q = db.select(Case.agency_id, Case.received_on, Case.closed_on, Case.applicant_type, Case.outcome_code,
                  Case.reply_due)
    for agency_id, received, closed, atype, code, due in db.session.execute(q.execution_options(yield_per=5000)):
        key = (agency_id, _ym(received), _ym(closed), atype, code or "")
        n[key] += 1
        if due is not None and closed is not None and closed >= received:
            measured[key] += 1
            on_time[key] += closed <= due
    return {k: (n[k], measured[k], on_time[k]) for k in n}


def stored() -> dict[Key, tuple[int, int, int]]:
    q = db.select(CaseTally.agency_id, CaseTally.received_ym, CaseTally.closed_ym, CaseTally.applicant_type,
                  CaseTally.outcome_code, CaseTally.n, CaseTally.measured, CaseTally.on_time)
    # Rows counted down to zero stay behind (harmless): they compare as absent.
    return {tuple(r[:5]): tuple(r[5:]) for r in db.session.execute(q) if any(r[5:])}


def compare() -> list[tuple[Key, tuple[int, int, int], tuple[int, int, int]]]:
    """(key, counted from the cases, stored in the tally) for every key either has."""
    want, have = recount(), stored()
    zero = (0, 0, 0)
    return [(k, want.get(k, zero), have.get(k, zero)) for k in sorted(want.keys() | have.keys())]


def rebuild() -> int:
    """Replace the tally with the recount and commit; returns the number of rows. PostgreSQL: case
    writes wait until the commit, so none slips between the count and the write."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(db.text('LOCK TABLE "case" IN SHARE MODE'))
    rows = recount()
    db.session.execute(db.delete(CaseTally))
    if rows:
        db.session.execute(db.insert(CaseTally), [
            {"agency_id": k[0], "received_ym": k[1], "closed_ym": k[2], "applicant_type": k[3],
             "outcome_code": k[4], "n": v[0], "measured": v[1], "on_time": v[2]} for k, v in rows.items()])
    from .audit import record_security
    per_agency = Counter(k[0] for k in rows)
    for agency_id in db.session.scalars(db.select(Agency.id).order_by(Agency.id)):
        record_security(agency_id, None, "tally_rebuild", {"rows": per_agency.get(agency_id, 0)})
    db.session.commit()
    return len(rows)
