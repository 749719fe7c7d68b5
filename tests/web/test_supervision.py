"""The supervising office's pages (issue 16 item 4): the overview, the drill-down without personal
data, the area's annual report and its Excel file, one agency's read-only tables."""
from __future__ import annotations

import io

from openpyxl import load_workbook

from app.cli import DEMO_PASSWORD, create_user
from app.extensions import db
from app.models import Agency, Event
from app.services.agency import set_supervisor
from tests.conftest import user
from tests.factories import act, other_agency, register, to_handling
from tests.reports.support import make_case


def setup_area() -> dict:
    sup, _ = other_agency("SUP")
    third, third_users = other_agency("THIRD")
    create_user(sup, "sup_supervisor", "吴主管", DEMO_PASSWORD, ["supervisor"])
    set_supervisor("DEMO", "SUP")
    overdue = to_handling(register(arrived_on="2026-10-19", applicant_name="欧阳明月",
                                   description="某某路段拆迁补偿明细表"))
    late = to_handling(register(arrived_on="2026-11-02", applicant_name="司马青山"))
    act(late, "handler", "cohandle", {"party": "示范市财政局", "matter": "提供拨款明细", "sent_on": "2026-11-10"})
    register(clerk=third_users["clerk"], arrived_on="2026-10-19")
    return {"demo": user("clerk").agency_id, "third": third.id, "overdue": overdue.number, "late": late.number,
            "overdue_id": overdue.id}


def test_overview_counts_link_to_the_case_numbers_without_personal_data(web):
    s = web.run(setup_area)
    web.as_user("sup_supervisor")
    page = web.get("/supervision")
    assert page.status == 200 and page.has_id("nav-supervision") and not page.has_id("nav-queue")
    rows = page.all("tr", **{"data-agency": "DEMO"})
    assert len(rows) == 1 and not page.all("tr", **{"data-agency": "THIRD"})
    cells = {n.get("data-measure"): n.text for n in rows[0].iter() if n.get("data-measure")}
    assert cells == {"open": "2", "due_soon": "0", "overdue": "1", "late_cohandle": "1", "report": "逾期未报送"}
    links = [n.get("href") for n in rows[0].iter() if n.tag == "a"]
    assert f"/supervision/agencies/{s['demo']}/cases?status=overdue" in links
    assert f"/supervision/agencies/{s['demo']}/annual-report?year=2025" in links

    page = web.get(f"/supervision/agencies/{s['demo']}/cases?status=overdue")
    assert page.status == 200
    cells = [n.text for n in page.by_id("cases").iter() if n.tag == "td"]
    assert cells == [s["overdue"], "2026-10-19", "2026-11-16", "办理中", "已超期", "5"]
    page = web.get(f"/supervision/agencies/{s['demo']}/cases?status=open")
    # No name, no description, no way into the case: only numbers and dates.
    assert s["overdue"] in page.text and s["late"] in page.text
    for secret in ("欧阳明月", "司马青山", "拆迁补偿", "11010519491231002X", "13800000000"):
        assert secret not in page.html, secret
    assert not [a for a in page.all("a") if "/cases/" in (a.get("href") or "").replace("/agencies/", "")]
    page = web.get(f"/supervision/agencies/{s['demo']}/cases?status=late_cohandle")
    cells = [n.text for n in page.by_id("cases").iter() if n.tag == "td"]
    assert cells[0] == s["late"] and "2026-11-17" in cells and cells[-1] == "4"

    # Another agency, an unknown list, an unknown parameter.
    assert web.client.get(f"/supervision/agencies/{s['third']}/cases?status=open").status_code == 404
    assert web.client.get(f"/supervision/agencies/{s['demo']}/cases?status=all").status_code == 400
    assert web.client.get("/supervision?agency=THIRD").status_code == 400
    # The supervised agency's case itself stays closed to the supervisor.
    assert web.client.get(f"/cases/{s['overdue_id']}").status_code == 403


def test_area_annual_report_sums_the_agencies_and_exports_xlsx(web):
    def setup():
        s = setup_area()
        sup_id = db.session.scalar(db.select(Agency.id).where(Agency.code == "SUP"))
        set_supervisor("SUP", "SUP")
        for agency_id, n in ((s["demo"], 3), (sup_id, 2), (s["third"], 7)):
            for i in range(n):
                make_case(received="2025-03-02", closed="2025-03-20", outcome="disclose", agency_id=agency_id)
        return s
    s = web.run(setup)
    web.as_user("sup_supervisor")
    page = web.get("/supervision/annual-report?year=2025")
    assert page.status == 200 and page.has_id("checks-ok")
    assert [n.get("data-agency") for n in page.by_id("agency-reports").iter() if n.get("data-agency")] == ["DEMO", "SUP"]
    cell = [n for n in page.by_id("table3").iter() if n.get("data-cell") == "一.total"][0]
    assert cell.text == "5"  # 3 + 2, not THIRD's 7
    assert not [a for a in page.by_id("table3").iter() if a.tag == "a"]  # no ledger links: not its cases
    r = web.client.get("/supervision/annual-report/export.xlsx?year=2025")
    assert r.status_code == 200 and "area-annual-report-2025.xlsx" in r.headers["Content-Disposition"]
    ws = load_workbook(io.BytesIO(r.data))["表三 申请情况"]
    assert "所辖2个机关汇总" in ws["A1"].value
    values = [c.value for row in ws.iter_rows() for c in row]
    assert 5 in values and 7 not in values and 10 not in values
    assert web.run(lambda: db.session.scalar(db.select(db.func.count()).select_from(Event).where(
        Event.action == "annual_export"))) == 1
    assert web.client.get("/supervision/annual-report/export.xlsx?year=2020").status_code == 400

    page = web.get(f"/supervision/agencies/{s['demo']}/annual-report?year=2025")
    assert page.status == 200 and page.by_id("report-state").text == "逾期未报送"
    cell = [n for n in page.by_id("table3").iter() if n.get("data-cell") == "一.total"][0]
    assert cell.text == "3" and not page.all("a", href="/ledger")
    assert web.client.get(f"/supervision/agencies/{s['third']}/annual-report?year=2025").status_code == 404


def test_a_supervisor_of_nothing_sees_an_empty_overview(web):
    web.run(lambda: create_user(other_agency("LONE")[0], "lone_supervisor", "孤主管", DEMO_PASSWORD,
                                ["supervisor"]))
    web.as_user("lone_supervisor")
    page = web.get("/supervision")
    assert page.status == 200 and page.has_id("no-agencies")
    assert web.get("/supervision/annual-report").status == 200
