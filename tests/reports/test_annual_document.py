"""The whole annual report (issue 15 item 4): table 二 entered or imported, the written sections
prefilled and edited, submission (报送) and withdrawal, and the PDF and .docx of all six sections."""
from __future__ import annotations

import io
import json
import re

import pypdfium2 as pdfium
import pytest
from docx import Document
from openpyxl import load_workbook

from app.extensions import db
from app.models import AnnualReportEntry, Event
from app.reports import annual_entry
from app.reports.annual_text import TO_FILL
from tests.conftest import set_today, user
from tests.factories import act, build_case
from tests.web.conftest import Web, form_data
from tests.web.page import Page

from .support import make_case, make_remedy

TABLE2 = {"t2_rules_issued": "2", "t2_rules_repealed": "1", "t2_rules_in_force": "17",
          "t2_normative_issued": "23", "t2_normative_repealed": "4", "t2_normative_in_force": "311",
          "t2_licensing_decisions": "4527", "t2_punishment_decisions": "968", "t2_enforcement_decisions": "35",
          "t2_fees_amount": "127.8315"}
STORED = {"rules": {"issued": 2, "repealed": 1, "in_force": 17},
          "normative": {"issued": 23, "repealed": 4, "in_force": 311}, "licensing": {"decisions": 4527},
          "punishment": {"decisions": 968}, "enforcement": {"decisions": 35}, "fees": {"amount": "127.8315"}}
HEADINGS = ["一、总体情况", "二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况",
            "四、政府信息公开行政复议、行政诉讼情况", "五、存在的主要问题及改进情况", "六、其他需要报告的事项"]
TEXT5 = "（一）存在的主要问题。答复文书说理不够充分。\n（二）改进情况。已组织答复文书专题培训。"


@pytest.fixture
def web(app, client):
    return Web(app, client)


def squash(text: str) -> str:
    return re.sub(r"[\s\u3000]+", "", text)


def pdf_text(data: bytes) -> str:
    pdf = pdfium.PdfDocument(data)
    return squash("".join(page.get_textpage().get_text_range() for page in pdf))


def _data(year: int = 2026) -> None:
    make_case(received=f"{year}-03-02", closed=f"{year}-03-20", outcome="partial", atype="business",
              reply_due=f"{year}-03-31")
    make_case(received=f"{year}-04-02", closed=f"{year}-05-20", outcome="disclose", reply_due=f"{year}-04-30")
    c = make_case(received=f"{year}-05-06", closed=f"{year}-05-08", outcome="not_exist", reply_due=f"{year}-05-29")
    make_case(received=f"{year}-10-09", atype="research")
    make_remedy(c, "reconsideration", f"{year}-06-01", "upheld", f"{year}-07-20")


def entry_form(web, year: int = 2026) -> tuple[Page, dict]:
    page = web.get(f"/annual-report?year={year}")
    assert page.status == 200
    assert page.has_id("entry-form"), "no entry form"
    return page, form_data(page, "entry-form")


def save(web, changes: dict, year: int = 2026, expect: int = 302):
    _, data = entry_form(web, year)
    data.update(changes)
    r = web.client.post("/annual-report/entry", data=data)
    assert r.status_code == expect, (r.status_code, Page(r).form_error())
    return Page(r), r


def stored(web, year: int = 2026) -> AnnualReportEntry | None:
    def get():
        e = annual_entry.get_entry(user("head").agency_id, year)
        if e is not None:
            db.session.expunge(e)
        return e
    return web.run(get)


def security_events(web, action: str) -> list[dict]:
    return web.run(lambda: [json.loads(e.data_json) for e in db.session.scalars(
        db.select(Event).where(Event.action == action).order_by(Event.id))])


# ---------------------------------------------------------------- entering table 二 and the texts

def test_head_enters_table_two_and_the_texts_are_prefilled(web):
    web.run(_data)
    web.as_user("head")
    page, data = entry_form(web)
    assert page.text.count("本年新收政府信息公开申请4件") == 1  # section 一 prefilled from table 三
    assert "本年度未收取政府信息公开信息处理费" in data["text_六"]
    assert all(data[k] == "" for k in TABLE2)
    data.update(TABLE2, text_五=TEXT5)
    r = web.client.post("/annual-report/entry", data=data)
    assert r.status_code == 302
    e = stored(web)
    assert json.loads(e.section2_json) == STORED
    # Only the edited section is stored: 一 and 六 were left as prefilled and keep following the data.
    assert json.loads(e.texts_json) == {"五": TEXT5}
    assert (e.version, e.updated_by_id) == (1, web.run(lambda: user("head").id))
    ev = security_events(web, "annual_entry_saved")
    assert len(ev) == 1 and ev[0]["year"] == 2026 and ev[0]["table2"]["licensing"] == {"decisions": 4527}
    page = web.get("/annual-report?year=2026")
    assert page.value("t2_licensing_decisions") == "4527" and page.value("t2_fees_amount") == "127.8315"
    assert page.value("text_五") == TEXT5
    assert "本年制发规章2件、行政规范性文件23件" in page.value("text_一")  # the prefill now quotes table 二
    # A new case changes the prefilled section 一 but not the stored section 五.
    web.run(lambda: make_case(received="2026-11-02"))
    page = web.get("/annual-report?year=2026")
    assert "本年新收政府信息公开申请5件" in page.value("text_一") and page.value("text_五") == TEXT5


@pytest.mark.parametrize("field, typed, message", [
    ("t2_rules_issued", "-1", "规章“本年制发件数”应为不小于0的整数"),
    ("t2_normative_in_force", "3.5", "行政规范性文件“现行有效件数”应为不小于0的整数"),
    ("t2_licensing_decisions", "约100", "行政许可“本年处理决定数量”应为不小于0的整数"),
    ("t2_fees_amount", "1.23456", "最多保留4位小数"),
    ("t2_fees_amount", "-3", "应为不小于0的数字"),
    ("t2_punishment_decisions", "99999999", "超出合理范围"),
])
def test_bad_numbers_are_refused_beside_their_field_and_nothing_typed_is_lost(web, field, typed, message):
    web.run(_data)
    web.as_user("admin")
    page, r = save(web, {**TABLE2, field: typed, "text_六": "本年度未收取信息处理费。另有事项说明。"}, expect=400)
    assert message in page.error_for(field)
    assert "有 1 处填写有误" in page.form_error()
    assert page.value(field) == typed  # what was typed stays
    assert page.value("t2_licensing_decisions" if field != "t2_licensing_decisions" else "t2_rules_issued") == \
        TABLE2["t2_licensing_decisions" if field != "t2_licensing_decisions" else "t2_rules_issued"]
    assert page.value("text_六") == "本年度未收取信息处理费。另有事项说明。"
    assert stored(web) is None and security_events(web, "annual_entry_saved") == []


def test_full_width_digits_are_numbers_and_blank_cells_stay_blank(web):
    web.run(_data)
    web.as_user("head")
    save(web, {"t2_rules_issued": "１２", "t2_fees_amount": "０.５"})
    assert json.loads(stored(web).section2_json) == {"rules": {"issued": 12}, "fees": {"amount": "0.5"}}


def test_a_text_too_long_is_refused_and_kept(web):
    web.run(_data)
    web.as_user("head")
    long = "很长" * 2600
    page, _ = save(web, {"text_一": long}, expect=400)
    assert "一、总体情况不能超过5000字" in page.form_error()
    assert page.value("text_一") == long


def test_a_stale_page_gets_a_conflict_not_an_overwrite(web):
    web.run(_data)
    web.as_user("head")
    _, first = entry_form(web)
    _, second = entry_form(web)  # the same version, in another tab (or by the administrator)
    first.update(TABLE2)
    assert web.client.post("/annual-report/entry", data=first).status_code == 302
    second.update({**TABLE2, "t2_licensing_decisions": "1", "text_五": TEXT5})
    r = web.client.post("/annual-report/entry", data=second)
    assert r.status_code == 409
    page = Page(r)
    assert "已被他人修改" in page.form_error() and "您的输入尚未保存" in page.form_error()
    assert page.value("t2_licensing_decisions") == "1" and page.value("text_五") == TEXT5
    assert json.loads(stored(web).section2_json)["licensing"] == {"decisions": 4527}
    assert stored(web).version == 1


def test_readers_see_the_report_without_a_form_and_cannot_post(web):
    web.run(_data)
    web.as_user("head")
    save(web, {**TABLE2, "text_五": TEXT5})
    for role in ("clerk", "handler", "legal", "archivist"):
        web.as_user(role)
        page = web.get("/annual-report?year=2026")
        assert page.status == 200 and not page.has_id("entry-form") and not page.has_id("submit-form")
        assert page.by_id("table2").text.count("4527") == 1
        assert "已组织答复文书专题培训" in page.by_id("text-五").text
        r = web.client.post("/annual-report/entry", data={"year": "2026", "version": "1", **TABLE2})
        assert r.status_code == 403


# ---------------------------------------------------------------- import and copy

def test_table_two_round_trips_through_the_exported_workbook(web):
    web.run(_data)
    web.as_user("head")
    save(web, {"t2_rules_in_force": "17"})
    wb = load_workbook(io.BytesIO(web.client.get("/annual-report/export.xlsx?year=2026").data))
    assert wb.sheetnames[0] == "表二 主动公开" and "表三 申请情况" in wb.sheetnames
    ws = wb["表二 主动公开"]
    rows = {r[0]: r[1:] for r in ws.iter_rows(values_only=True) if r and r[0]}
    assert rows["规章"][:3] == (None, None, 17)
    # Fill it in as an office would, in Excel.
    for row in ws.iter_rows():
        label = row[0].value
        if label == "规章":
            row[1].value, row[2].value, row[3].value = 2, 1, 17
        elif label == "行政规范性文件":
            row[1].value, row[2].value, row[3].value = 23, 4, 311
        elif label in ("行政许可", "行政处罚", "行政强制"):
            row[1].value = {"行政许可": 4527, "行政处罚": 968, "行政强制": 35}[label]
        elif label == "行政事业性收费":
            row[1].value = 127.8315
    buf = io.BytesIO()
    wb.save(buf)
    r = web.client.post("/annual-report/import", data={"year": "2026", "version": "1",
                                                        "file": (io.BytesIO(buf.getvalue()), "表二.xlsx")})
    assert r.status_code == 302, Page(r).form_error()
    e = stored(web)
    assert json.loads(e.section2_json) == STORED
    assert e.version == 2
    assert security_events(web, "annual_entry_imported")[0]["before_table2"] == {"rules": {"in_force": 17}}


def _workbook(rows: list[list]) -> bytes:
    from openpyxl import Workbook
    wb = Workbook()
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.mark.parametrize("name, data, status, message", [
    ("表二.xls", b"\xd0\xcf\x11\xe0old excel", 422, "只接受 Excel .xlsx 文件"),
    ("表二.xlsx", b"not a zip at all", 422, "文件不是 Excel .xlsx 格式"),
    ("表二.xlsx", b"PK\x03\x04" + b"\0" * 3_000_000, 422, "不能超过 2 MB"),
    ("表二.xlsx", _workbook([["规章", 1, 2, 3]]), 422, "找不到表二的以下行：行政规范性文件、行政许可"),
])
def test_bad_uploads_are_refused_with_a_reason(web, name, data, status, message):
    web.run(_data)
    web.as_user("head")
    r = web.client.post("/annual-report/import", data={"year": "2026", "version": "0",
                                                        "file": (io.BytesIO(data), name)})
    assert r.status_code == status
    assert message in Page(r).form_error()
    assert stored(web) is None


def test_a_bad_value_in_the_file_is_shown_in_the_form(web):
    web.run(_data)
    web.as_user("head")
    rows = [["规章", 1, 2, 3], ["行政规范性文件", 1, 2, "三"], ["行政许可", 5], ["行政处罚", 0], ["行政强制", 0],
            ["行政事业性收费", 0]]
    r = web.client.post("/annual-report/import", data={"year": "2026", "version": "0",
                                                        "file": (io.BytesIO(_workbook(rows)), "t.xlsx")})
    assert r.status_code == 400
    page = Page(r)
    assert "行政规范性文件“现行有效件数”应为不小于0的整数" in page.error_for("t2_normative_in_force")
    assert page.value("t2_normative_in_force") == "三" and page.value("t2_licensing_decisions") == "5"
    assert stored(web) is None


def test_copy_last_years_in_force_counts(web):
    web.run(_data)
    web.as_user("head")
    web.run(lambda: _data(2025))
    save(web, {"t2_rules_in_force": "16", "t2_normative_in_force": "300"}, year=2025)
    save(web, {"t2_normative_in_force": "305"}, year=2026)
    r = web.client.post("/annual-report/copy-in-force", data={"year": "2026", "version": "1"})
    assert r.status_code == 302
    assert json.loads(stored(web).section2_json) == {"rules": {"in_force": 16}, "normative": {"in_force": 305}}
    r = web.client.post("/annual-report/copy-in-force", data={"year": "2026", "version": "2"})
    assert r.status_code == 400 and "没有可沿用" in Page(r).form_error()


# ---------------------------------------------------------------- submission

def _ready(web) -> None:
    web.run(_data)
    web.as_user("head")
    save(web, {**TABLE2, "text_五": TEXT5})


def test_submission_waits_for_the_year_to_end_and_for_a_complete_report(web, app):
    web.run(_data)
    web.as_user("head")
    save(web, {"t2_rules_issued": "2"})
    page = web.get("/annual-report?year=2026")
    assert "报送期限：2027年1月31日" in page.by_id("not-submitted").text
    assert "disabled" in page.by_id("submit-report").attrs  # 23 November 2026: the year is not over
    r = web.client.post("/annual-report/submit", data={"year": "2026", "version": "1"})
    assert r.status_code == 400 and "2026年尚未结束" in Page(r).form_error()
    set_today(app, "2027-01-12")
    r = web.client.post("/annual-report/submit", data={"year": "2026", "version": "1"})
    assert r.status_code == 400 and "表二（主动公开政府信息情况）尚未填写完整" in Page(r).form_error()
    save(web, TABLE2)
    r = web.client.post("/annual-report/submit", data={"year": "2026", "version": "2"})
    assert r.status_code == 400 and f"五、存在的主要问题及改进情况中还有“{TO_FILL}”" in Page(r).form_error()
    assert stored(web).submitted_at is None and security_events(web, "annual_submitted") == []


def test_submit_freezes_the_report_until_the_head_withdraws_it(web, app):
    _ready(web)
    set_today(app, "2027-01-20")
    web.as_user("admin")
    r = web.client.post("/annual-report/submit", data={"year": "2026", "version": "1"})
    assert r.status_code == 302, Page(r).form_error()
    page = web.get("/annual-report?year=2026")
    assert "已于2027年1月20日报送" in page.by_id("submitted").text and not page.has_id("late")
    assert not page.has_id("entry-form") and not page.has_id("import-form")
    assert not page.has_id("reopen-form")  # the administrator cannot withdraw it
    ev = security_events(web, "annual_submitted")
    assert ev[0]["submitted_on"] == "2027-01-20" and ev[0]["late"] is False
    # Read-only: a write from an old page, or at the current version, is refused.
    r = web.client.post("/annual-report/entry", data={"year": "2026", "version": "1", **TABLE2})
    assert r.status_code == 409
    r = web.client.post("/annual-report/entry", data={"year": "2026", "version": "2", **TABLE2})
    assert r.status_code == 400 and "已于" in Page(r).form_error() and "撤回" in Page(r).form_error()
    r = web.client.post("/annual-report/reopen", data={"year": "2026", "version": "2", "reason": "x"})
    assert r.status_code == 403
    # The submitted tables stay as submitted when the year's data change afterwards.
    web.run(lambda: make_case(received="2026-12-30", closed="2027-01-05", outcome="disclose"))
    doc = web.run(lambda: annual_entry.document(user("head").agency_id, 2026))
    assert doc["submitted"] and doc["table3"]["一"]["total"] == 4 and doc["changed_since_submission"]
    web.as_user("head")
    assert web.get("/annual-report?year=2026").has_id("changed-since")
    r = web.client.post("/annual-report/reopen", data={"year": "2026", "version": "2", "reason": ""})
    assert r.status_code == 400 and "请填写撤回原因" in Page(r).form_error()
    r = web.client.post("/annual-report/reopen", data={"year": "2026", "version": "2", "reason": "漏报12月30日的申请"})
    assert r.status_code == 302
    assert security_events(web, "annual_reopened")[0]["reason"] == "漏报12月30日的申请"
    page = web.get("/annual-report?year=2026")
    assert page.has_id("entry-form") and page.has_id("not-submitted")
    assert "本年新收政府信息公开申请5件" in page.value("text_一")  # live figures again
    e = stored(web)
    assert e.submitted_at is None and e.submitted_json == ""


def test_a_late_submission_is_marked_late(web, app):
    _ready(web)
    set_today(app, "2027-02-03")
    page = web.get("/annual-report?year=2026")
    assert page.has_id("late") and "已逾期" in page.by_id("late").text
    assert web.client.post("/annual-report/submit", data={"year": "2026", "version": "1"}).status_code == 302
    page = web.get("/annual-report?year=2026")
    assert "已于2027年2月3日报送" in page.by_id("submitted").text and page.by_id("late").text == "逾期"


def test_failing_checks_block_submission(web, app):
    _ready(web)
    web.run(lambda: make_case(received="2026-03-02", closed="2026-03-10", outcome="disclose", atype="alien"))
    set_today(app, "2027-01-20")
    r = web.client.post("/annual-report/submit", data={"year": "2026", "version": "1"})
    assert r.status_code == 400 and "勾稽关系校验未通过" in Page(r).form_error()


def test_document_holds_everything_for_a_compiling_office(web, app):
    _ready(web)
    set_today(app, "2027-01-20")
    web.client.post("/annual-report/submit", data={"year": "2026", "version": "1"})
    doc = web.run(lambda: annual_entry.document(user("head").agency_id, 2026))
    assert doc["title"] == web.run(lambda: user("head").agency.name) + "政府信息公开工作年度报告（2026年）"
    assert [s["title"] for s in doc["sections"]] == HEADINGS
    assert doc["table2"]["licensing"] == {"decisions": 4527} and doc["table2_complete"]
    assert doc["table3"]["三(二)"]["business"] == 1 and doc["table4"]["reconsideration"]["upheld"] == 1
    assert set(doc["texts"]) == {"一", "五", "六"} and doc["texts"]["五"] == TEXT5
    assert doc["submitted"] and str(doc["submitted_on"]) == "2027-01-20" and doc["late"] is False
    assert doc["submitted_by"] == "张主任" and str(doc["deadline"]) == "2027-01-31"


# ---------------------------------------------------------------- fees in section 六

def test_fees_paid_in_the_year_are_reported_in_section_six(web):
    def fees():
        for params in ({"method": "per_request", "nth_in_month": 11}, {"method": "per_volume", "pages": 101}):
            case = build_case("handling")
            act(case, "handler", "fee_notice", {**params, "sent_on": "2026-11-04", "served_on": "2026-11-05"})
            act(case, "clerk", "fee_paid", {"paid_on": "2026-11-10", "receipt_no": "非税收入票据0001"})
        unpaid = build_case("handling")
        act(unpaid, "handler", "fee_notice", {"method": "per_request", "nth_in_month": 40, "sent_on": "2026-11-04"})
        return annual_entry.fees_collected(user("head").agency_id, 2026), annual_entry.fees_collected(
            user("head").agency_id, 2025)
    assert web.run(fees) == ((2, 820), (0, 0))  # 100 + 720 yuan; the unpaid notice is not collected
    web.as_user("head")
    assert web.get("/annual-report?year=2026").value("text_六").startswith(
        "本年度依据《政府信息公开信息处理费管理办法》收取信息处理费2件，共计820元。")


# ---------------------------------------------------------------- exports

def test_pdf_holds_all_six_sections_and_the_three_tables(web):
    _ready(web)
    r = web.client.get("/annual-report/export.pdf?year=2026")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    text = pdf_text(r.data)
    title = web.run(lambda: user("head").agency.name) + "政府信息公开工作年度报告（2026年）"
    assert text.startswith(title)
    positions = [text.find(h) for h in HEADINGS]
    assert all(p > 0 for p in positions) and positions == sorted(positions), positions
    # Table 二 with its figures, in the block order of the national format.
    t2 = text[positions[1]:positions[2]]
    assert re.search(r"第二十条第（一）项信息内容本年制发件数本年废止件数现行有效件数规章2117行政规范性文件234311", t2), t2
    assert "第二十条第（五）项信息内容本年处理决定数量行政许可4527" in t2
    assert "行政处罚968行政强制35" in t2 and "本年收费金额（单位：万元）行政事业性收费127.8315" in t2
    assert "本年新收政府信息公开申请4件" in text[positions[0]:positions[1]]
    assert "部分公开" in text[positions[2]:positions[3]] and "复议后起诉" in text[positions[3]:positions[4]]
    assert "已组织答复文书专题培训" in text[positions[4]:positions[5]]
    assert "本年度未收取政府信息公开信息处理费" in text[positions[5]:]
    ev = security_events(web, "annual_export")
    assert ev[-1] == {"year": 2026, "format": "pdf"}


def test_docx_holds_all_six_sections_and_the_three_tables(web):
    _ready(web)
    r = web.client.get("/annual-report/export.docx?year=2026")
    assert r.status_code == 200 and r.mimetype.endswith("wordprocessingml.document")
    assert "filename*=UTF-8''" in r.headers["Content-Disposition"]
    d = Document(io.BytesIO(r.data))
    paras = [p.text for p in d.paragraphs if p.text.strip()]
    assert paras[0].endswith("政府信息公开工作年度报告（2026年）")
    heads = [p for p in paras if p in HEADINGS]
    assert heads == HEADINGS
    assert any("本年新收政府信息公开申请4件" in p for p in paras)
    assert "（二）改进情况。已组织答复文书专题培训。" in paras
    assert len(d.tables) == 3
    t2, t3, t4 = d.tables

    def row(table, i):
        out = []
        for c in table.rows[i].cells:  # a merged cell repeats: keep one of each
            if not out or c._tc is not out[-1][0]:
                out.append((c._tc, c.text))
        return [t for _, t in out]
    assert row(t2, 0) == ["第二十条第（一）项"]
    assert row(t2, 2) == ["规章", "2", "1", "17"] and row(t2, 3) == ["行政规范性文件", "23", "4", "311"]
    assert row(t2, 6) == ["行政许可", "4527"]
    assert row(t2, 9) == ["行政处罚", "968"] and row(t2, 10) == ["行政强制", "35"]
    assert row(t2, 13) == ["行政事业性收费", "127.8315"]
    assert row(t3, 3) == ["一、本年新收政府信息公开申请数量", "2", "1", "1", "0", "0", "0", "4"]
    assert row(t3, 5)[-8:] == ["（一）予以公开", "1", "0", "0", "0", "0", "0", "1"]
    assert row(t3, 3 + 24) == ["四、结转下年度继续办理", "0", "0", "1", "0", "0", "0", "1"]
    assert row(t4, 3)[:5] == ["1", "0", "0", "0", "1"]


def test_exports_of_a_submitted_report_are_the_submitted_one(web, app):
    _ready(web)
    set_today(app, "2027-01-20")
    web.client.post("/annual-report/submit", data={"year": "2026", "version": "1"})
    web.run(lambda: make_case(received="2026-12-30", closed="2027-01-05", outcome="disclose"))
    d = Document(io.BytesIO(web.client.get("/annual-report/export.docx?year=2026").data))
    assert d.tables[1].rows[3].cells[-1].text == "4"  # not 5: the report as submitted
    text = pdf_text(web.client.get("/annual-report/export.pdf?year=2026").data)
    assert "本年新收政府信息公开申请4件" in text


def test_a_year_without_requests_can_still_be_reported(web):
    """An office that received no request still publishes its report (tables 三 and 四 all 0)."""
    web.as_user("clerk")
    page = web.get("/annual-report?year=2026")
    assert page.has_id("no-data") and not page.has_id("start-empty")
    web.as_user("head")
    page = web.get("/annual-report?year=2026")
    assert page.has_id("no-data") and page.by_id("start-empty").get("href") == "/annual-report?year=2026&start=1"
    assert web.client.get("/annual-report/export.pdf?year=2026").status_code == 400
    page, data = entry_form(web, "2026&start=1")
    assert "本年新收政府信息公开申请0件" in data["text_一"]
    data.update(TABLE2, text_五=TEXT5)
    assert web.client.post("/annual-report/entry", data=data).status_code == 302
    page = web.get("/annual-report?year=2026")
    assert not page.has_id("no-data") and page.has_id("entry-form")
    text = pdf_text(web.client.get("/annual-report/export.pdf?year=2026").data)
    assert "行政许可4527" in text and "本年新收政府信息公开申请0件" in text
