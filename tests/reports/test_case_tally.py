"""The case tally (migration 0023) that the annual report and the dashboard read: the database's
triggers keep it equal to a recount of the cases through every kind of write, the migration's
backfill counts the same, `flask verify` notices a tally that drifted and `flask tally-rebuild`
repairs it, and the dashboard's figures from it equal those counted case by case."""
from __future__ import annotations

import importlib.util
from datetime import date
from pathlib import Path

import sqlalchemy as sa

from app.domain.outcomes import OUTCOME_BY_CODE
from app.extensions import db
from app.models import Case, CaseTally, Event
from app.reports import dashboard
from app.services import tally
from app.services.integrity import verify_all
from tests.conftest import set_today, user
from tests.factories import build_case, other_agency, register, withdraw

from .support import make_case

_MIGRATION = Path(__file__).resolve().parents[2] / "migrations" / "versions" / "0023_case_tally.py"


def _migration():
    spec = importlib.util.spec_from_file_location("m0023", _MIGRATION)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _drift() -> list:
    return [(k, want, have) for k, want, have in tally.compare() if want != have]


def _backfill_count() -> dict:
    pg = db.engine.dialect.name == "postgresql"
    rows = db.session.execute(sa.text(_migration().fill_sql(pg))).all()
    return {tuple(r[:5]): (int(r.n), int(r.measured), int(r.on_time)) for r in rows}


def test_the_tally_follows_every_kind_of_write(app):
    with app.app_context():
        agency = user("admin").agency_id
        # Through the services: a registration, a withdrawal, a delivered reply.
        register()
        withdraw(register())
        build_case("delivered")
        assert _drift() == [] and tally.stored()
        # Straight ORM rows across month and year bounds, open and closed, with and without due dates.
        a = make_case(received="2024-12-31", closed="2025-01-02", outcome="disclose", reply_due="2025-01-21")
        b = make_case(received="2025-03-31", closed="2025-04-30", outcome="partial", reply_due="2025-04-22",
                      atype="legal_service")
        c = make_case(received="2025-06-01")
        assert _drift() == []
        key_a = (agency, 202412, 202501, "natural", "disclose")
        assert tally.stored()[key_a] == (1, 1, 1)
        assert tally.stored()[(agency, 202503, 202504, "legal_service", "partial")] == (1, 1, 0)  # late
        # Each watched column changed on its own.
        a.received_on = date(2025, 1, 2)
        db.session.commit()
        assert key_a not in tally.stored() and _drift() == []
        b.reply_due = date(2025, 5, 6)  # a closed case's due date moves its on-time count
        db.session.commit()
        assert tally.stored()[(agency, 202503, 202504, "legal_service", "partial")] == (1, 1, 1)
        c.closed_on, c.outcome_code, c.state = date(2025, 7, 1), "not_exist", "delivered"
        db.session.commit()
        b.applicant_type = "research"
        db.session.commit()
        c.closed_on, c.outcome_code, c.state = None, None, "handling"  # reopened
        db.session.commit()
        assert _drift() == []
        # An open case's due date (the calendar recompute) leaves the tally alone.
        c.reply_due = date(2025, 6, 30)
        db.session.commit()
        assert _drift() == []
        # Another agency's cases are counted apart; a case moved between agencies follows.
        other, _ = other_agency()
        d = make_case(received="2025-02-03", closed="2025-02-20", outcome="disclose", agency_id=other.id)
        assert tally.stored()[(other.id, 202502, 202502, "natural", "disclose")] == (1, 0, 0)
        d.agency_id, d.seq = agency, 9999
        db.session.commit()
        assert (other.id, 202502, 202502, "natural", "disclose") not in tally.stored() and _drift() == []
        # A bulk Core insert (the ledger import's path) and a delete.
        cols = {k: getattr(a, k) for k in ("agency_id", "channel", "arrived_on", "receipt_basis", "applicant_name",
                                            "description", "clock_start")}
        db.session.execute(sa.insert(Case), [
            {**cols, "year": 2023, "seq": 900 + i, "number": f"B-{i}", "state": "delivered", "received_on": date(2023, 5, 4),
             "closed_on": date(2023, 5, 30), "outcome_code": "disclose", "applicant_type": "natural",
             "reply_due": date(2023, 6, 1)} for i in range(3)])
        db.session.commit()
        assert tally.stored()[(agency, 202305, 202305, "natural", "disclose")] == (3, 3, 3)
        db.session.delete(db.session.get(Case, c.id))
        db.session.commit()
        assert _drift() == []
        # The migration's backfill counts what the triggers kept.
        assert _backfill_count() == tally.stored() == tally.recount()


def test_a_rolled_back_write_leaves_the_tally_as_it_was(app):
    with app.app_context():
        make_case(received="2025-03-03", closed="2025-03-20", outcome="disclose")
        before = tally.stored()
        make_case(received="2025-03-04", commit=False)
        db.session.rollback()
        assert tally.stored() == before and _drift() == []


def test_verify_reports_a_drifted_tally_and_rebuild_repairs_it(app):
    with app.app_context():
        agency = user("admin").agency_id
        make_case(received="2025-03-03", closed="2025-03-20", outcome="disclose")
        make_case(received="2025-03-05")
        assert verify_all().ok
        # A restore of the table alone, or a write with the triggers off: the tally no longer agrees.
        db.session.execute(sa.update(CaseTally).where(CaseTally.closed_ym == 0).values(n=CaseTally.n + 4))
        db.session.commit()
        report = verify_all()
        assert not report.ok and report.checked["case_tally"] == 2
        [problem] = report.problems
        assert problem.describe() == (
            "统计汇总：2025年3月收到、未办结、申请人类型 natural、办理结果 无：汇总为 5 件（有期限 0，按期 0），"
            "按申请重算为 1 件（有期限 0，按期 0）；请运行 flask tally-rebuild 重建")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["tally-rebuild"])
    assert result.exit_code == 0, result.output
    assert "统计汇总已按申请重建：2 项" in result.output
    with app.app_context():
        assert _drift() == [] and verify_all().ok
        ev = db.session.scalar(db.select(Event).where(Event.action == "tally_rebuild", Event.agency_id == agency))
        assert ev is not None and ev.actor_id is None


def test_dashboard_figures_from_the_tally_equal_a_count_of_the_cases(app):
    with app.app_context():
        set_today(app, "2026-11-23")
        agency = user("admin").agency_id
        specs = [  # (received, closed, outcome, due)
            ("2025-11-28", "2025-12-01", "disclose", "2025-12-26"),  # closed just inside the window
            ("2025-11-03", "2025-11-28", "partial", "2025-12-01"),  # closed before the window
            ("2026-01-05", "2026-02-11", "disclose", "2026-02-03"),  # late
            ("2026-03-02", "2026-03-10", "not_exist", "2026-03-30"),
            ("2026-06-01", "2026-06-01", "withdrawn", "2026-06-29"),  # not a reply
            ("2026-10-09", "2026-11-02", "disclose", None),  # imported: no due date
            ("2026-11-02", "2026-11-20", "partial", "2026-11-30"),
            ("2026-11-10", "2026-11-27", "disclose", "2026-12-08"),  # closed later this month than today
            ("2026-11-16", None, None, "2026-12-14"),
        ]
        for rec, clo, oc, due in specs:
            make_case(received=rec, closed=clo, outcome=oc, reply_due=due)
        s = dashboard.stats(agency, date(2026, 11, 23))
        window, today = date(2025, 12, 1), date(2026, 11, 23)
        closed = [(date.fromisoformat(r), date.fromisoformat(c), o, due and date.fromisoformat(due))
                  for r, c, o, due in specs if c and window <= date.fromisoformat(c) <= today]
        want = {}
        for _r, _c, o, _d in closed:
            want[o] = want.get(o, 0) + 1
        assert {o["code"]: o["count"] for o in s["outcomes"]} == want
        assert s["closed_total"] == len(closed) == 6
        replies = [(r, c, due) for r, c, o, due in closed if OUTCOME_BY_CODE[o].drafted]
        measured = [(r, c, due) for r, c, due in replies if due is not None and c >= r]
        assert (s["times"].measured, s["times"].on_time) == (len(measured), sum(c <= due for _r, c, due in measured))
        assert (s["times"].measured, s["times"].on_time) == (4, 3)
        months = {(m["year"], m["month"]): m["count"] for m in s["months"]}
        assert (2025, 11) not in months and months[(2025, 12)] == 0 and months[(2026, 1)] == 1 and months[(2026, 11)] == 3
        assert sum(months.values()) == sum(1 for r, *_ in specs if date.fromisoformat(r) >= window)
        assert s["times"].count == len(replies)
