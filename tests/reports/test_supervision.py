"""The supervising office's figures (issue 16 item 4): clock counts per supervised agency with real
dates, the drill-down lists, the annual report's submission state and the area's summed tables."""
from __future__ import annotations

import json
from datetime import date, datetime

import pytest

from app.cli import DEMO_PASSWORD, create_user
from app.extensions import db
from app.models import Agency, AnnualReportEntry, Event
from app.reports import annual, dashboard, supervision as SV
from app.services.agency import set_supervisor
from app.services.errors import Forbidden, NotFound, ServiceError
from app.services.time import today
from tests.conftest import set_today, user
from tests.factories import act, other_agency, register, to_correction, to_handling, withdraw

from .support import d, expected_table3, make_case, random_dataset


def area() -> dict:
    """SUP supervises DEMO and OTHER (and not itself); THIRD is unrelated and supervises itself."""
    sup, sup_users = other_agency("SUP")
    other, other_users = other_agency("OTHER")
    third, third_users = other_agency("THIRD")
    boss = create_user(sup, "sup_supervisor", "吴主管", DEMO_PASSWORD, ["supervisor"])
    third_boss = create_user(third, "third_supervisor", "钱主管", DEMO_PASSWORD, ["supervisor"])
    for code in ("DEMO", "OTHER"):
        set_supervisor(code, "SUP")
    set_supervisor("THIRD", "THIRD")
    return {"sup": sup, "other": other, "third": third, "boss": boss, "third_boss": third_boss,
            "other_users": other_users, "third_users": third_users}


def cohandle(case, sent: str, handler="handler"):
    return act(case, handler, "cohandle", {"party": "示范市财政局", "matter": "提供拨款明细", "sent_on": sent})


def by_code(rows) -> dict:
    return {r.agency.code: r for r in rows}


def test_counts_per_agency_with_real_dates(app):
    with app.app_context():
        a = area()
        # DEMO: due 2026-11-30 (running on 11-23: 5 working days left), due 2026-11-16 (overdue), one
        # waiting for correction (open, clock stopped), one withdrawn (not open).
        running = to_handling(register(arrived_on="2026-11-02"))
        overdue = to_handling(register(arrived_on="2026-10-19"))
        to_correction(register(arrived_on="2026-11-02"))
        withdraw(register(arrived_on="2026-11-02"))
        # 协办: one past its 5 working days, one answered, one not yet due.
        cohandle(running, "2026-11-10")  # due 2026-11-17
        answered = cohandle(overdue, "2026-11-10")
        step = [s for s in answered.steps if s.kind == "cohandle"][-1]
        act(answered, "handler", "cohandle_reply", {"step_id": step.id, "answered_on": "2026-11-16", "note": "已回复"})
        cohandle(running, "2026-11-20")  # due 2026-11-27
        # OTHER: one overdue case with a late 协办. THIRD (not supervised by SUP): the same.
        for key in ("other", "third"):
            users = a[f"{key}_users"]
            c = act(register(clerk=users["clerk"], arrived_on="2026-10-19"), users["handler"], "start")
            cohandle(c, "2026-11-02", users["handler"])

        rows, year = SV.overview(a["boss"], today())
        assert year == 2025
        got = by_code(rows)
        assert set(got) == {"DEMO", "OTHER"}  # not SUP itself (it does not supervise itself), not THIRD
        demo, other = got["DEMO"], got["OTHER"]
        assert (demo.open, demo.due_soon, demo.overdue, demo.late_cohandle) == (3, 0, 1, 1)
        assert (other.open, other.due_soon, other.overdue, other.late_cohandle) == (1, 0, 1, 1)
        # The dashboard of each agency says the same (one clock rule).
        for row in rows:
            s = dashboard.stats(row.agency.id, today())
            assert (s["open_total"], s["soon_total"], s["overdue_total"]) == (row.open, row.due_soon, row.overdue)

        # Two days later the running case is due soon (3 working days left: 11-26, 11-27, 11-30) and
        # the second 协办 is not late yet; on 11-30 it is (due 11-27), and the reply is due today.
        set_today(app, "2026-11-25")
        demo = by_code(SV.overview(a["boss"], today())[0])["DEMO"]
        assert (demo.due_soon, demo.overdue, demo.late_cohandle) == (1, 1, 1)
        set_today(app, "2026-11-30")
        demo = by_code(SV.overview(a["boss"], today())[0])["DEMO"]
        assert (demo.due_soon, demo.overdue, demo.late_cohandle) == (1, 1, 2)
        set_today(app, "2026-12-01")
        demo = by_code(SV.overview(a["boss"], today())[0])["DEMO"]
        assert (demo.due_soon, demo.overdue, demo.late_cohandle) == (0, 2, 2)

        # The THIRD agency's supervisor sees THIRD only.
        assert [r.agency.code for r in SV.overview(a["third_boss"], today())[0]] == ["THIRD"]


def test_drill_down_lists_numbers_and_dates_only(app):
    with app.app_context():
        a = area()
        overdue = to_handling(register(arrived_on="2026-10-19"))
        running = to_handling(register(arrived_on="2026-11-02"))
        cohandle(running, "2026-11-10")
        demo_id = user("clerk").agency_id
        agency, rows, total = SV.agency_cases(a["boss"], demo_id, "overdue", today())
        assert agency.code == "DEMO" and total == 1
        r = rows[0]
        assert (r.number, r.received_on, r.reply_due, r.stage, r.clock) == (
            overdue.number, d("2026-10-19"), overdue.reply_due, "办理中", "已超期")
        assert r.days_overdue == 5  # 11-17 … 11-23: five working days past 2026-11-16
        assert not hasattr(r, "applicant_name") and not hasattr(r, "description")
        _, rows, total = SV.agency_cases(a["boss"], demo_id, "open", today())
        assert total == 2 and [x.number for x in rows] == [overdue.number, running.number]
        _, rows, total = SV.agency_cases(a["boss"], demo_id, "late_cohandle", today())
        assert total == 1 and rows[0].number == running.number
        assert rows[0].cohandle_due == d("2026-11-17") and rows[0].days_overdue == 4
        # An agency the user's agency does not supervise does not exist for it; nor for another role.
        for agency_id in (a["third"].id, a["sup"].id, 99999):
            with pytest.raises(NotFound):
                SV.agency_cases(a["boss"], agency_id, "open", today())
        with pytest.raises(NotFound):
            SV.agency_cases(a["third_boss"], demo_id, "open", today())
        with pytest.raises(Forbidden):
            SV.agency_cases(user("head"), demo_id, "open", today())
        with pytest.raises(ServiceError):
            SV.agency_cases(a["boss"], demo_id, "everything", today())


def entry(agency_id: int, year: int, submitted: str | None = None) -> None:
    db.session.add(AnnualReportEntry(agency_id=agency_id, year=year, submitted_at=(
        datetime.fromisoformat(submitted) if submitted else None)))
    db.session.commit()


def test_annual_report_state_follows_the_31_january_deadline(app):
    with app.app_context():
        a = area()
        demo_id = user("clerk").agency_id
        set_today(app, "2026-01-15")
        states = {r.agency.code: r.report.label for r in SV.overview(a["boss"], today())[0]}
        assert states == {"DEMO": "未填报", "OTHER": "未填报"}
        entry(demo_id, 2025)
        states = {r.agency.code: r.report.label for r in SV.overview(a["boss"], today())[0]}
        assert states == {"DEMO": "填报中（未报送）", "OTHER": "未填报"}
        # Submitted at 2026-01-20 10:00 Beijing time (stored in UTC).
        row = db.session.scalar(db.select(AnnualReportEntry).where(AnnualReportEntry.agency_id == demo_id))
        row.submitted_at = datetime(2026, 1, 20, 2, 0)
        db.session.commit()
        set_today(app, "2026-02-01")
        states = {r.agency.code: r.report for r in SV.overview(a["boss"], today())[0]}
        assert states["DEMO"].label == "已报送（2026-01-20）"
        assert states["OTHER"].code == "overdue" and states["OTHER"].label == "逾期未报送"
        entry(a["other"].id, 2025, "2026-02-03T01:00:00")
        states = {r.agency.code: r.report.label for r in SV.overview(a["boss"], today())[0]}
        assert states["OTHER"] == "逾期报送（2026-02-03）"
        # The state is per year: the 2026 report is not due until 31 January 2027.
        set_today(app, "2027-01-31")
        assert {r.report.code for r in SV.overview(a["boss"], today())[0]} == {"not_started"}
        set_today(app, "2027-02-01")
        assert {r.report.code for r in SV.overview(a["boss"], today())[0]} == {"overdue"}


def test_area_annual_report_is_the_sum_of_the_agencies_tables(app):
    with app.app_context():
        a = area()
        demo_id = user("clerk").agency_id
        specs = {demo_id: random_dataset(11, 60, date(2024, 6, 1), date(2025, 12, 31)),
                 a["other"].id: random_dataset(12, 40, date(2024, 6, 1), date(2025, 12, 31)),
                 a["third"].id: random_dataset(13, 30, date(2024, 6, 1), date(2025, 12, 31))}
        for agency_id, rows in specs.items():
            for s in rows:
                make_case(received=s["received"], closed=s["closed"], outcome=s["outcome"], atype=s["atype"],
                          channel=s["channel"], agency_id=agency_id, commit=False)
        db.session.commit()
        rep, parts = SV.area_report(a["boss"], 2025, today())
        assert [p.agency.code for p in parts] == ["DEMO", "OTHER"]
        want = {k: {c: 0 for c in annual.COLUMNS} for k in annual.ROW_KEYS}
        for agency_id in (demo_id, a["other"].id):  # not THIRD's cases
            for row, cells in expected_table3(specs[agency_id], 2025).items():
                for col, n in cells.items():
                    want[row][col] += n
        assert rep.table3 == want
        assert rep.has_data and not rep.failing and len(rep.checks) > 20
        for p in parts:
            assert p.report.table3 == expected_table3(specs[p.agency.id], 2025)
            assert p.state.code == "overdue"  # nobody submitted the 2025 report by 2026-01-31
        # Once OTHER has submitted its report, its submitted tables count, not a case edited later.
        submitted = parts[1].report
        db.session.add(AnnualReportEntry(agency_id=a["other"].id, year=2025, submitted_at=datetime(2026, 1, 20, 2),
                                         submitted_json=json.dumps({"submitted_on": "2026-01-20",
                                                                    "table3": submitted.table3,
                                                                    "table4": submitted.table4})))
        make_case(received="2025-05-06", closed="2025-05-20", outcome="disclose", agency_id=a["other"].id)
        rep2, parts2 = SV.area_report(a["boss"], 2025, today())
        assert rep2.table3 == want and parts2[1].state.label == "已报送（2026-01-20）"
        assert parts2[1].report.table3 == submitted.table3 != annual.compute(a["other"].id, 2025).table3
        # One agency's table, read-only: its problem list (links to cases) is not passed on.
        agency, one, state = SV.agency_report(a["boss"], a["other"].id, 2025, today())
        assert agency.code == "OTHER" and one.table3 == expected_table3(specs[a["other"].id], 2025)
        assert state.code == "submitted"
        assert one.problems == []
        with pytest.raises(NotFound):
            SV.agency_report(a["boss"], a["third"].id, 2025, today())


def test_set_supervisor_is_audited_under_both_agencies(app):
    with app.app_context():
        sup, _ = other_agency("SUP")
        set_supervisor("DEMO", "SUP")
        demo = db.session.scalar(db.select(Agency).where(Agency.code == "DEMO"))
        assert demo.supervisor_id == sup.id
        evs = list(db.session.scalars(db.select(Event).where(Event.action == "agency_supervisor_changed")))
        assert sorted(e.agency_id for e in evs) == sorted([demo.id, sup.id])
        assert evs[0].data == {"agency": "DEMO", "supervisor": "SUP", "previous": None}
        set_supervisor("DEMO", "SUP")  # no change, no event
        assert db.session.scalar(db.select(db.func.count()).select_from(Event)
                                 .where(Event.action == "agency_supervisor_changed")) == 2
        set_supervisor("DEMO", None)
        assert db.session.get(Agency, demo.id).supervisor_id is None
        with pytest.raises(ServiceError):
            set_supervisor("DEMO", "NOSUCH")


def test_cli_set_supervisor(app):
    with app.app_context():
        other_agency("SUP")
    runner = app.test_cli_runner()
    r = runner.invoke(args=["set-supervisor", "DEMO", "SUP"])
    assert r.exit_code == 0 and "公开主管部门：SUP" in r.output, r.output
    r = runner.invoke(args=["set-supervisor", "DEMO", "NOPE"])
    assert r.exit_code != 0 and "机关 NOPE 不存在" in r.output
    r = runner.invoke(args=["set-supervisor", "DEMO"])
    assert r.exit_code == 0 and "没有公开主管部门" in r.output
