"""The ledger: filters, clock status, search, sorting, paging, refusals and the streaming export."""
from __future__ import annotations

import io
import re
from datetime import date

import pytest
from openpyxl import load_workbook

from app.domain.clock import state_for_deadline
from app.domain.calendar import Deadline
from app.services.calendar import load_calendar
from tests.conftest import user
from tests.factories import other_agency, register

from .support import d, make_case

TOTAL = re.compile(r'id="ledger-total">(\d+)<')
NUMBERS = re.compile(r'<tr data-id="\d+">\s*<td[^>]*><a href="/cases/\d+">([^<]+)</a>')


def total(client, query) -> int:
    resp = client.get("/ledger", query_string=query)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:2000]
    return int(TOTAL.search(resp.get_data(as_text=True)).group(1))


def numbers(client, query) -> list[str]:
    return NUMBERS.findall(client.get("/ledger", query_string=query).get_data(as_text=True))


@pytest.fixture
def data(app):
    with app.app_context():
        cs = {
            "a": make_case(received="2026-01-05", closed="2026-01-20", outcome="disclose", handler="handler",
                           name="张三", description="2025年示范区旧城改造项目的征收补偿方案", channel="online"),
            "b": make_case(received="2026-03-10", closed="2026-04-02", outcome="partial", handler="handler2",
                           atype="business", name="示范建设有限公司", description="土地出让合同", channel="registered_post"),
            "c": make_case(received="2026-06-01", closed="2026-06-05", outcome="withdrawn", name="李四",
                           description="环境影响评价报告", atype="research"),
            "d": make_case(received="2026-10-26", reply_due="2026-11-20", handler="handler", name="王五",
                           description="旧城改造拆迁安置名单"),
            "e": make_case(received="2026-10-29", reply_due="2026-11-26", handler="handler2", name="赵六",
                           description="道路规划许可"),
            "f": make_case(received="2026-10-30", reply_due="2026-11-27", name="钱七", description="学校规划"),
            "g": make_case(received="2026-11-02", reply_due=None, handler="handler", name="孙八",
                           description="征求第三方意见中的申请"),
            "h": make_case(received="2026-11-10", state="correction", reply_due=None, name="周九",
                           description="待补正的申请", atype="other_org"),
        }
        return {k: (c.id, c.number) for k, c in cs.items()}


def test_clock_filters_follow_the_domain_clock(app, client, auth, data):
    auth.login("head")
    assert set(numbers(client, {"clock": "overdue"})) == {data["d"][1]}
    assert set(numbers(client, {"clock": "due_soon"})) == {data["e"][1]}
    assert set(numbers(client, {"clock": "running"})) == {data["f"][1]}
    assert set(numbers(client, {"clock": "paused"})) == {data["g"][1]}
    assert set(numbers(client, {"clock": "stopped"})) == {data["h"][1]}
    # The SQL ranges agree with the domain clock's own rule (≤ 3 working days left = due soon).
    with app.app_context():
        cal = load_calendar()
        today = date(2026, 11, 23)
        expect = {"2026-11-20": "overdue", "2026-11-26": "due_soon", "2026-11-27": "running", "2026-11-23": "due_soon"}
        for due, status in expect.items():
            assert state_for_deadline(cal, Deadline(d(due), False, ""), today, 20).status == status


def test_filters_combine(client, auth, data):
    auth.login("clerk")
    assert total(client, {}) == 8
    assert total(client, {"state": "open"}) == 5
    assert total(client, {"state": "finished"}) == 3
    assert total(client, {"state": "correction"}) == 1
    assert total(client, {"received_from": "2026-03-01", "received_to": "2026-06-30"}) == 2
    assert total(client, {"closed_from": "2026-01-01", "closed_to": "2026-03-31"}) == 1
    assert total(client, {"channel": "online"}) == 1
    assert total(client, {"applicant_type": "business"}) == 1
    assert total(client, {"outcome": "partial"}) == 1
    with client.application.app_context():
        h1, h2 = user("handler").id, user("handler2").id
    assert total(client, {"handler_id": h1}) == 3
    assert total(client, {"handler_id": h2, "state": "open"}) == 1
    assert total(client, {"handler_id": "none"}) == 3
    assert total(client, {"state": "open", "clock": "overdue", "handler_id": h1}) == 1


def test_search_finds_chinese_substrings(client, auth, data):
    auth.login("legal")
    assert set(numbers(client, {"q": "旧城改造"})) == {data["a"][1], data["d"][1]}
    assert numbers(client, {"q": "建设有限"}) == [data["b"][1]]  # applicant name
    assert total(client, {"q": "100%"}) == 0  # LIKE wildcards in the search text are literal
    assert total(client, {"q": "不存在的内容"}) == 0


def test_sorting_and_paging(client, auth, data):
    auth.login("head")
    asc = numbers(client, {"sort": "received_on", "dir": "asc", "per_page": 10})
    assert asc[0] == data["a"][1] and asc[-1] == data["h"][1]
    desc = numbers(client, {})
    assert desc == list(reversed(asc))
    by_due = numbers(client, {"sort": "reply_due", "dir": "asc", "state": "open"})
    assert by_due[:3] == [data["d"][1], data["e"][1], data["f"][1]]  # empty due dates come last
    page1 = numbers(client, {"per_page": 10, "sort": "received_on", "dir": "asc"})
    assert len(page1) == 8
    html = client.get("/ledger", query_string={"per_page": 10, "page": 2}).get_data(as_text=True)
    assert "本页没有数据" in html and 'id="ledger-total">8<' in html


@pytest.mark.parametrize("query, message", [
    ({"colour": "red"}, "不支持的筛选条件：colour"),
    ({"received_from": "2026-05-01", "received_to": "2026-04-01"}, "收到申请日期止（2026-04-01）不能早于收到申请日期起（2026-05-01）"),
    ({"closed_from": "2026-05-01", "closed_to": "2026-04-01"}, "办结日期止（2026-04-01）不能早于办结日期起"),
    ({"received_from": "2026-05-01", "closed_to": "2026-04-01"}, "案件不可能在收到之前办结"),
    ({"received_from": "2026-13-01"}, "收到申请日期起格式应为 YYYY-MM-DD"),
    ({"state": "lost"}, "状态的取值无效"),
    ({"clock": "late"}, "计时状态的取值无效"),
    ({"handler_id": "99999"}, "承办人不存在"),
    ({"sort": "colour"}, "排序字段的取值无效"),
    ({"report_year": "2026"}, "报表穿透查询须同时指定报告年度和单元格"),
    ({"report_year": "2026", "report_cell": "五.natural"}, "报表单元格无效"),
])
def test_bad_filters_are_refused_with_a_message(client, auth, data, query, message):
    auth.login("head")
    resp = client.get("/ledger", query_string=query)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert message in html
    assert "查询条件有误" in html and 'id="ledger"' not in html


def test_export_refuses_bad_filters_too(client, auth, data):
    auth.login("head")
    resp = client.get("/ledger/export.xlsx", query_string={"received_from": "2026-05-01", "received_to": "2026-04-01"})
    assert resp.status_code == 400 and "不能早于" in resp.get_data(as_text=True)


def test_other_agencies_cases_are_invisible(app, client, auth, data):
    with app.app_context():
        agency, _ = other_agency()
        make_case(received="2026-05-05", agency_id=agency.id, description="旧城改造其他机关")
    auth.login("head")
    assert total(client, {}) == 8
    assert total(client, {"q": "其他机关"}) == 0


def test_export_current_view(app, client, auth, data):
    auth.login("archivist")
    resp = client.get("/ledger/export.xlsx", query_string={"state": "open", "sort": "received_on", "dir": "asc",
                                                            "page": 1})
    assert resp.status_code == 200
    assert resp.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "filename*=UTF-8''" in resp.headers["Content-Disposition"]
    body = b"".join(resp.response) if resp.is_streamed else resp.data
    wb = load_workbook(io.BytesIO(body))
    ws = wb.active
    assert ws.freeze_panes == "A2"
    header = [c.value for c in ws[1]]
    assert header[:3] == ["编号", "收到申请日期", "申请人姓名/名称"] and "办理结果" in header
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in rows] == [data[k][1] for k in "defgh"]
    due_col = header.index("答复期限") + 1
    cell = ws.cell(row=2, column=2)
    assert cell.is_date and cell.value.date() == date(2026, 10, 26) and cell.number_format == "yyyy-mm-dd"
    assert ws.cell(row=2, column=due_col).is_date
    assert ws.column_dimensions["F"].width >= 40  # request text gets room
    assert rows[0][header.index("计时状态")] == "已超期"


def test_export_matches_report_drill_down(client, auth, data):
    auth.login("head")
    resp = client.get("/ledger/export.xlsx", query_string={"report_year": 2026, "report_cell": "一.natural"})
    rows = list(load_workbook(io.BytesIO(resp.data)).active.iter_rows(min_row=2, values_only=True))
    assert len(rows) == total(client, {"report_year": 2026, "report_cell": "一.natural"}) == 5


def test_registered_case_appears_with_its_clock(app, client, auth):
    with app.app_context():
        c = register()
        number = c.number
    auth.login("head")
    html = client.get("/ledger").get_data(as_text=True)
    assert number in html and "2026-11-30" in html and "剩余5个工作日" in html


def test_export_refuses_more_rows_than_the_limit(client, auth, data, monkeypatch):
    from app.reports import ledger
    monkeypatch.setattr(ledger, "MAX_EXPORT_ROWS", 5)
    auth.login("head")
    resp = client.get("/ledger/export.xlsx")
    assert resp.status_code == 400 and "超过单次导出上限 5 件" in resp.get_data(as_text=True)
    assert client.get("/ledger/export.xlsx?state=open").status_code == 200  # exactly 5 rows


def test_large_results_are_counted_up_to_a_cap_unless_exact(client, auth, data, monkeypatch):
    from app.reports import ledger
    monkeypatch.setattr(ledger, "COUNT_CAP", 3)
    auth.login("head")
    html = client.get("/ledger?per_page=10").get_data(as_text=True)
    assert 'id="ledger-total">3+<' in html and "统计精确总数" in html
    assert len(NUMBERS.findall(html)) == 8  # the page itself is complete
    assert total(client, {"exact": "1"}) == 8
    assert total(client, {"state": "finished"}) == 3  # within the cap: exact
    assert total(client, {"report_year": 2026, "report_cell": "一.total"}) == 8  # drill-downs are always exact
