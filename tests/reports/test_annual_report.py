"""Annual report tables 三 and 四: counting rules, identity checks, drill-down links and exports."""
from __future__ import annotations

import io
import shutil
import subprocess
from datetime import date

import pytest
from openpyxl import load_workbook

from app.domain.intake import APPLICANT_TYPES
from app.domain.outcomes import REPORT_ROWS
from app.extensions import db
from app.models.remedy import REMEDY_KINDS
from app.reports import annual
from app.reports.annual_export import table3_grid
from tests.conftest import set_today, user

from .support import cell_links, expected_table3, make_case, make_remedy, random_dataset, screen_cells

COLS = list(APPLICANT_TYPES) + ["total"]


def _build(specs):
    for s in specs:
        make_case(received=s["received"], closed=s["closed"], outcome=s["outcome"], atype=s["atype"],
                  channel=s["channel"], commit=False)
    db.session.commit()


def test_generated_dataset_reproduces_every_cell_and_passes_checks(app, client, auth):
    with app.app_context():
        specs = random_dataset(seed=7, n=400, first=date(2024, 6, 1), last=date(2026, 10, 31))
        _build(specs)
        agency = user("head").agency_id
        for year in (2024, 2025, 2026):
            rep = annual.compute(agency, year)
            assert rep.table3 == expected_table3(specs, year), year
            assert rep.failing == [], [c.name for c in rep.failing]
        expected_2025 = expected_table3(specs, 2025)
    assert auth.login("head").status_code == 302
    html = client.get("/annual-report?year=2025").get_data(as_text=True)
    cells = screen_cells(html)
    for row in REPORT_ROWS:
        for col in COLS:
            assert cells[f"{row.key}.{col}"] == expected_2025[row.key][col]
    assert 'id="checks-ok"' in html and 'id="failing-checks"' not in html


def test_small_dataset_literal_counts(app, client, auth):
    """Hand-counted: numbers written out, not recomputed."""
    with app.app_context():
        make_case(received="2025-12-20", closed="2026-01-08", outcome="disclose")  # carried over, closed in year
        make_case(received="2025-11-03")  # carried over, still open -> carried forward
        make_case(received="2025-06-01", closed="2025-12-31", outcome="disclose")  # closed last year: not in 2026
        make_case(received="2026-03-02", closed="2026-03-20", outcome="partial", atype="business")
        make_case(received="2026-04-02", closed="2026-04-20", outcome="not_ours", atype="legal_service")
        make_case(received="2026-05-06", closed="2026-05-08", outcome="not_exist", atype="legal_service")
        make_case(received="2026-07-01", closed="2026-07-10", outcome="withdrawn")
        make_case(received="2026-08-03", closed="2026-08-04", outcome="not_gov_info", atype="research")
        make_case(received="2026-10-09", atype="public_interest")  # open
        rep = annual.compute(user("head").agency_id, 2026)
    t = rep.table3
    assert t["一"]["total"] == 6 and t["一"]["natural"] == 1 and t["一"]["legal_service"] == 2
    assert t["二"]["total"] == 2 and t["二"]["natural"] == 2
    assert t["三(一)"]["natural"] == 1 and t["三(一)"]["total"] == 1
    assert t["三(二)"]["business"] == 1
    assert t["三(四)1"]["legal_service"] == 2  # not_exist and not_ours share the row
    assert t["三(六)3"]["total"] == 2 and t["三(六)3"]["research"] == 1  # withdrawn + not government information
    assert t["三(七)"]["total"] == 6
    assert t["四"]["total"] == 2 and t["四"]["natural"] == 1 and t["四"]["public_interest"] == 1
    assert not rep.failing


def test_year_boundary_december_request_closed_in_january(app, client, auth):
    set_today(app, "2027-02-15")
    with app.app_context():
        make_case(received="2026-12-28", closed="2027-01-12", outcome="refuse_process", atype="business")
        agency = user("head").agency_id
        r26, r27 = annual.compute(agency, 2026), annual.compute(agency, 2027)
    assert r26.table3["一"]["business"] == 1
    assert r26.table3["四"]["business"] == 1 and r26.table3["三(七)"]["total"] == 0
    assert r27.table3["二"]["business"] == 1
    assert r27.table3["三(三)6"]["business"] == 1 and r27.table3["三(七)"]["business"] == 1
    assert r27.table3["一"]["total"] == 0 and r27.table3["四"]["total"] == 0
    assert not r26.failing and not r27.failing
    auth.login("head")
    for year, cell in ((2026, "四.business"), (2027, "二.business"), (2027, "三(三)6.business")):
        html = client.get(f"/ledger?report_year={year}&report_cell={cell}").get_data(as_text=True)
        assert 'id="ledger-total">1<' in html, (year, cell)


def test_broken_dataset_shows_failing_checks_prominently(app, client, auth):
    with app.app_context():
        make_case(received="2026-02-02", closed="2026-02-20", outcome="disclose")
        # Data a careless import could leave behind: an unknown applicant type, an unknown outcome,
        # a closing date before receipt.
        make_case(received="2026-03-02", closed="2026-03-10", outcome="disclose", atype="alien")
        make_case(received="2026-04-01", closed="2026-04-09", outcome="bogus", state="closed")
        make_case(received="2026-06-10", closed="2025-12-30", outcome="disclose")
        rep = annual.compute(user("head").agency_id, 2026)
    names = {c.name for c in rep.failing}
    assert "一：总计=前六列之和" in names  # the unknown type is only in the total column
    assert "总计：三(七)=三(一)至三(六)3之和" in names  # the unknown outcome is in no result row
    assert "自然人：一+二=三(七)+四" in names  # closed before it was received
    assert {p["why"] for p in rep.problems} == {"申请人类型无法识别", "已办结但办理结果缺失或无法识别",
                                                "办结日期早于收到申请日期"}
    auth.login("head")
    resp = client.get("/annual-report?year=2026")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert 'id="failing-checks"' in html and "勾稽关系校验未通过" in html
    assert 'class="num bad" data-cell="一.total"' in html
    assert 'id="checks-ok"' not in html
    # The exports carry the failure too.
    wb = load_workbook(io.BytesIO(client.get("/annual-report/export.xlsx?year=2026").data))
    assert "勾稽关系校验有" in wb["表三 申请情况"]["A3"].value
    assert any(r[1] == "未通过" for r in wb["校验"].iter_rows(min_row=2, values_only=True))


def test_every_nonzero_cell_links_to_exactly_its_cases(app, client, auth):
    with app.app_context():
        specs = random_dataset(seed=11, n=150, first=date(2025, 9, 1), last=date(2026, 9, 30))
        _build(specs)
        cases = db.session.scalars(db.select(annual.Case).order_by(annual.Case.id)).all()
        make_remedy(cases[0], "reconsideration", "2026-02-01", "upheld", "2026-03-01")
        make_remedy(cases[1], "reconsideration", "2026-05-01")
        make_remedy(cases[2], "direct_suit", "2026-06-01", "corrected", "2026-08-01")
    auth.login("head")
    html = client.get("/annual-report?year=2026").get_data(as_text=True)
    cells = screen_cells(html)
    nonzero = {k: v for k, v in cells.items() if v}
    assert len(nonzero) > 40
    links = cell_links(html)
    assert set(links) == set(nonzero)  # every non-zero cell has a link, and only those
    for key, n in nonzero.items():
        assert links[key] == {"report_year": ["2026"], "report_cell": [key]}
        page = client.get("/ledger", query_string={"report_year": 2026, "report_cell": key, "per_page": 200})
        assert page.status_code == 200
        assert f'id="ledger-total">{n}<' in page.get_data(as_text=True), key


def test_links_are_present_for_nonzero_cells_only(app, client, auth):
    with app.app_context():
        make_case(received="2026-03-02", closed="2026-03-20", outcome="partial", atype="business")
    auth.login("head")
    html = client.get("/annual-report?year=2026").get_data(as_text=True)
    assert 'data-cell="三(二).business"><a href="/ledger?report_year=2026&amp;report_cell=' in html
    assert 'data-cell="三(二).natural">0</td>' in html


def test_table4_counts_by_filing_date_and_result_at_year_end(app, client, auth):
    set_today(app, "2027-03-01")
    with app.app_context():
        c1 = make_case(received="2025-10-10", closed="2025-11-01", outcome="refuse_secret")
        c2 = make_case(received="2026-01-05", closed="2026-01-20", outcome="partial")
        c3 = make_case(received="2026-02-05", closed="2026-02-20", outcome="not_exist")
        make_remedy(c1, "reconsideration", "2025-12-20", "upheld", "2026-02-01")  # filed 2025: not in 2026
        make_remedy(c2, "reconsideration", "2026-02-10", "upheld", "2026-04-01")
        make_remedy(c2, "suit_after_reconsideration", "2026-04-20", "corrected", "2026-09-01")
        make_remedy(c3, "reconsideration", "2026-03-01", "corrected", "2026-05-01")
        make_remedy(c3, "direct_suit", "2026-03-15", "other", "2026-12-31")
        make_remedy(c3, "direct_suit", "2026-06-15", "upheld", "2027-01-10")  # decided after year end
        make_remedy(c3, "direct_suit", "2026-11-15")  # pending
        rep = annual.compute(user("head").agency_id, 2026)
    t4 = rep.table4
    assert t4["reconsideration"] == {"upheld": 1, "corrected": 1, "other": 0, "pending": 0, "total": 2}
    assert t4["direct_suit"] == {"upheld": 0, "corrected": 0, "other": 1, "pending": 2, "total": 3}
    assert t4["suit_after_reconsideration"] == {"upheld": 0, "corrected": 1, "other": 0, "pending": 0, "total": 1}
    assert not rep.failing
    auth.login("head")
    html = client.get("/annual-report?year=2026").get_data(as_text=True)
    cells = screen_cells(html)
    for kind in REMEDY_KINDS:
        for col, n in t4[kind].items():
            assert cells[f"{kind}.{col}"] == n
    page = client.get("/ledger?report_year=2026&report_cell=direct_suit.pending").get_data(as_text=True)
    assert 'id="ledger-total">1<' in page  # both pending suits belong to the same request case
    assert "行政复议申请日期或起诉日期在本年度内" in html  # the counting rule is printed under the table


def test_xlsx_export_matches_screen(app, client, auth):
    with app.app_context():
        _build(random_dataset(seed=3, n=120, first=date(2025, 10, 1), last=date(2026, 9, 30)))
        c = db.session.scalars(db.select(annual.Case).limit(1)).first()
        make_remedy(c, "reconsideration", "2026-03-01", "upheld", "2026-05-01")
    auth.login("archivist")
    cells = screen_cells(client.get("/annual-report?year=2026").get_data(as_text=True))
    resp = client.get("/annual-report/export.xlsx?year=2026")
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    wb = load_workbook(io.BytesIO(resp.data))
    ws = wb["表三 申请情况"]
    first = 7  # three header rows start at row 4
    assert ws.cell(row=4, column=4).value == "申请人情况"
    for key, boxes in table3_grid():
        r = first + boxes[0][0]
        labels = [ws.cell(row=first + i, column=col).value for i, col, *_ in boxes]
        assert dict((rr.key, rr.label) for rr in REPORT_ROWS)[key] in labels
        for j, col in enumerate(COLS):
            assert ws.cell(row=r, column=4 + j).value == cells[f"{key}.{col}"], (key, col)
    ws4 = wb["表四 复议诉讼"]
    for g, kind in enumerate(REMEDY_KINDS):
        for j, col in enumerate(annual.REMEDY_COLUMNS):
            assert ws4.cell(row=6, column=1 + g * 5 + j).value == cells[f"{kind}.{col}"]
    assert ws4.cell(row=6, column=1).value == 1
    assert all(r[1] == "通过" for r in wb["校验"].iter_rows(min_row=2, values_only=True))


def test_pdf_export_in_official_layout(app, client, auth):
    with app.app_context():
        make_case(received="2026-03-02", closed="2026-03-20", outcome="partial", atype="business")
        make_case(received="2026-03-03", closed="2026-03-21", outcome="partial", atype="business")
        make_case(received="2026-05-06", atype="research")
    auth.login("head")
    resp = client.get("/annual-report/export.pdf?year=2026")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert resp.data.startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=resp.data, capture_output=True,
                              check=True).stdout.decode()
        assert "收到和处理政府信息公开申请情况" in text
        assert "部分公开" in text and "结转下年度继续办理" in text
        assert "行政复议" in text and "复议后起诉" in text
    if shutil.which("pdffonts"):
        fonts = subprocess.run(["pdffonts", "-"], input=resp.data, capture_output=True, check=True).stdout.decode()
        assert "Noto-Serif-CJK-SC" in fonts  # the configured CJK font, embedded


def test_year_without_data_says_so(app, client, auth):
    with app.app_context():
        make_case(received="2026-03-02")
    auth.login("head")
    html = client.get("/annual-report?year=2019").get_data(as_text=True)
    assert 'id="no-data"' in html and "2019 年没有任何政府信息公开申请数据" in html
    assert 'id="table3"' not in html
    resp = client.get("/annual-report/export.xlsx?year=2019")
    assert resp.status_code == 400 and "2019年没有任何" in resp.get_data(as_text=True)
    assert client.get("/annual-report/export.pdf?year=2019").status_code == 400


@pytest.mark.parametrize("query", ["year=abc", "year=1900", "year=2026&foo=1"])
def test_bad_year_parameters_are_refused(client, auth, query):
    auth.login("head")
    resp = client.get(f"/annual-report?{query}")
    assert resp.status_code == 400
    text = resp.get_data(as_text=True)
    assert "年度" in text or "不支持的参数" in text


def test_report_counts_only_own_agency(app, client, auth):
    from tests.factories import other_agency
    with app.app_context():
        agency, _ = other_agency()
        make_case(received="2026-03-02", agency_id=agency.id)
        make_case(received="2026-03-02")
    auth.login("head")
    cells = screen_cells(client.get("/annual-report?year=2026").get_data(as_text=True))
    assert cells["一.total"] == 1


@pytest.mark.parametrize("today, year", [("2027-01-15", 2026), ("2027-01-31", 2026), ("2027-02-01", 2027),
                                         ("2026-11-23", 2026)])
def test_the_page_opens_on_the_year_that_is_due(app, client, auth, today, year):
    """Issue 15 item 4: January opens on the report due by 31 January (last year), later months on this year's
    figures (it used to open on last year all year: "no data" for most of it)."""
    from tests.conftest import set_today

    with app.app_context():
        make_case(received="2026-03-02")
    set_today(app, today)
    auth.login("head")
    html = client.get("/annual-report").get_data(as_text=True)
    assert f"<h1>{year}年政府信息公开工作年度报告</h1>" in html
