"""No exported spreadsheet turns typed text into a formula (formula injection).

Strings starting with = + - @ TAB or CR are written as text cells with Excel's quote prefix; the
value is kept exactly as typed (see app/reports/xlsxsafe.py)."""
from __future__ import annotations

import io
import zipfile

from openpyxl import load_workbook

from app.extensions import db
from tests.conftest import user

from .support import make_case

PROBE = '=HYPERLINK("http://x","y")'


def _no_formulas(body: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(body)) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in z.read(name) and b"<f " not in z.read(name), name


def _text(cell, value) -> None:
    assert cell.value == value and cell.data_type == "s" and cell.quotePrefix


def test_ledger_export_writes_formula_like_names_as_text(app, client, auth):
    with app.app_context():
        make_case(received="2026-03-02", name=PROBE, doc_number="+1-2", description="@SUM(A1)")
        make_case(received="2026-03-03", name="-5", doc_number="\tcmd", description="普通的申请内容")
        make_case(received="2026-03-04", name="张三", doc_number="示政发〔2025〕3号")
    auth.login("head")
    resp = client.get("/ledger/export.xlsx", query_string={"sort": "received_on", "dir": "asc"})
    assert resp.status_code == 200
    body = b"".join(resp.response) if resp.is_streamed else resp.data
    _no_formulas(body)
    ws = load_workbook(io.BytesIO(body)).active
    header = [c.value for c in ws[1]]
    name, doc, desc = (header.index(h) + 1 for h in ("申请人姓名/名称", "所需信息文号", "申请内容"))
    _text(ws.cell(row=2, column=name), PROBE)
    _text(ws.cell(row=2, column=doc), "+1-2")
    _text(ws.cell(row=2, column=desc), "@SUM(A1)")
    _text(ws.cell(row=3, column=name), "-5")
    _text(ws.cell(row=3, column=doc), "\tcmd")
    plain = ws.cell(row=4, column=name)
    assert plain.value == "张三" and not plain.quotePrefix  # ordinary text is left alone


def test_annual_report_and_import_template_write_names_as_text(app, client, auth):
    with app.app_context():
        make_case(received="2026-03-02", closed="2026-03-20", outcome="disclose")
        admin = user("admin")
        admin.agency.name = "=1+1"
        user("handler").name = PROBE
        db.session.commit()
    auth.login("head")
    resp = client.get("/annual-report/export.xlsx?year=2026")
    assert resp.status_code == 200, resp.get_data(as_text=True)[:3000]
    _no_formulas(resp.data)
    _text(load_workbook(io.BytesIO(resp.data))["表三 申请情况"]["A1"], "=1+12026年政府信息公开工作年度报告")
    auth.logout()
    auth.login("admin")
    resp = client.get("/import/template.xlsx")
    assert resp.status_code == 200
    _no_formulas(resp.data)
    opts = load_workbook(io.BytesIO(resp.data))["选项"]
    cells = [c for row in opts.iter_rows(min_row=2) for c in row if c.value == PROBE]
    assert len(cells) == 1
    _text(cells[0], PROBE)
