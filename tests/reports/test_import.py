"""Historical ledger import: template, validation of every row, all or nothing, audit events."""
from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime

import pytest
from openpyxl import Workbook, load_workbook

from app.extensions import db
from app.models import Case, Event
from app.reports import annual
from app.reports.importer import COLUMNS, MAX_BYTES, import_ledger
from app.services.errors import ServiceError
from tests.conftest import user

HEADERS = [c.header for c in COLUMNS]


def xlsx(rows, headers=HEADERS) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


GOOD = [
    ["张三", "自然人", "当面提交", date(2024, 3, 15), "2023年城市更新规划", "李承办", date(2024, 4, 2), "予以公开",
     "示自然资规公开〔2024〕5号", "示政发〔2023〕8号"],
    ["示范建设有限公司", "法人或其他组织—商业企业", "互联网渠道", datetime(2024, 12, 20), "土地出让合同", "",
     "2025-01-10", "三(二)", "", ""],
    ["李四", "科研机构", "邮寄（需签收）", "2025/06/03", "环境影响评价报告", "handler2", "2025年6月20日",
     "申请人撤回申请", "", ""],
    ["王五", "自然人", "平常信函", "2026-11-02", "旧城改造拆迁安置名单", "李承办", None, None, "", ""],
]


def test_template_has_headers_and_dropdowns(client, auth):
    auth.login("admin")
    resp = client.get("/import/template.xlsx")
    assert resp.status_code == 200
    wb = load_workbook(io.BytesIO(resp.data))
    ws = wb["台账"]
    assert [c.value for c in ws[1]] == HEADERS
    assert ws.freeze_panes == "A2"
    dvs = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    assert dvs["B2:B2001"].type == "list" and "选项" in dvs["B2:B2001"].formula1
    assert dvs["C2:C2001"].type == "list" and dvs["H2:H2001"].type == "list"
    assert dvs["D2:D2001"].type == "date"
    options = wb["选项"]
    assert options.sheet_state == "hidden"
    outcome_values = [r[2] for r in options.iter_rows(min_row=2, values_only=True) if r[2]]
    assert "予以公开" in outcome_values and "不予公开（属于国家秘密）" in outcome_values
    handler_values = [r[3] for r in options.iter_rows(min_row=2, values_only=True) if r[3]]
    assert handler_values == ["李承办", "赵承办"]


def upload(client, data: bytes, name: str = "台账.xlsx", **form):
    return client.post("/import", data={"file": (io.BytesIO(data), name), **form}, content_type="multipart/form-data")


def confirm_token(html: str) -> str:
    m = re.search(r'name="token" value="([0-9a-f]{64})"', html)
    assert m, html
    return m.group(1)


def confirm(app, client, html: str, **form) -> str:
    """Step 2: confirm the preview; the import is a job (run here as the worker would): its page."""
    from app.services import jobs as background

    resp = client.post("/import/confirm", data={"token": confirm_token(html), **form})
    assert resp.status_code == 302 and resp.location.startswith("/jobs/"), resp.get_data(as_text=True)
    with app.app_context():
        background.run_pending()
    page = client.get(resp.location)
    assert page.status_code == 200
    return page.get_data(as_text=True)


def test_good_file_imports_every_row_with_audit_events(app, client, auth):
    auth.login("admin")
    # Step 1 previews (nothing written yet); step 2 imports the previewed file.
    resp = upload(client, xlsx(GOOD))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200, html
    assert "预览（尚未导入）" in html and '<strong id="to-create">4</strong>' in html
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Case.id))) == 0
    html = confirm(app, client, html, on_existing="refuse")
    assert "已导入 4 件历史申请" in html and "8 / 8" in html
    with app.app_context():
        cases = db.session.scalars(db.select(Case).order_by(Case.received_on)).all()
        assert len(cases) == 4 and all(c.imported for c in cases)
        a, b, c, d = cases
        assert (a.number, a.state, a.outcome_code, a.closed_on) == ("DEMO-2024-0001", "delivered", "disclose",
                                                                     date(2024, 4, 2))
        assert a.handler_id == user("handler").id and a.doc_number == "示政发〔2023〕8号"
        assert a.reply_due is None  # history does not tell how the clock ran
        assert (b.number, b.applicant_type, b.channel, b.outcome_code) == ("DEMO-2024-0002", "business", "online",
                                                                           "partial")
        assert (c.state, c.outcome_code, c.handler_id) == ("closed", "withdrawn", user("handler2").id)
        assert (d.number, d.state, d.closed_on) == ("DEMO-2026-0001", "handling", None)
        assert d.reply_due == date(2026, 11, 30) and d.calendar_version  # open: clock computed from receipt
        assert d.needs_triage and not any(x.needs_triage for x in (a, b, c))  # open history waits for triage
        events = db.session.scalars(db.select(Event).where(Event.action == "import")).all()
        assert sorted(e.case_id for e in events) == sorted(x.id for x in cases)
        ev = next(e for e in events if e.case_id == a.id)
        assert ev.data["imported"] is True and ev.data["reply_number"] == "示自然资规公开〔2024〕5号"
        assert ev.actor_id == user("admin").id and ev.to_state == "delivered"
        # Imported history feeds the annual report like any other case.
        rep = annual.compute(user("admin").agency_id, 2024)
        assert rep.table3["一"]["total"] == 2 and rep.table3["四"]["business"] == 1 and not rep.failing
    assert "DEMO-2024-0001" in client.get("/ledger?imported=1").get_data(as_text=True)


def test_one_bad_row_imports_nothing_and_names_the_row(app, client, auth):
    rows = [list(r) for r in GOOD]
    rows[2][6] = "2025-05-01"  # closed before it was received (row 4 of the sheet)
    auth.login("admin")
    resp = client.post("/import", data={"file": (io.BytesIO(xlsx(rows)), "ledger.xlsx")},
                       content_type="multipart/form-data")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "未导入任何数据" in html
    assert '<tr data-row="4"><td>第4行</td><td>办结日期</td><td>办结日期 2025-05-01 早于收到申请日期 2025-06-03</td>' in html
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Case.id))) == 0
        assert db.session.scalar(db.select(db.func.count(Event.id)).where(Event.action == "import")) == 0


@pytest.mark.parametrize("change, column, message", [
    ((1, "外星人"), "申请人类型", "未知的申请人类型“外星人”"),
    ((2, "飞鸽传书"), "申请方式", "未知的申请方式“飞鸽传书”"),
    ((3, "2024-02-30"), "收到申请日期", "“2024-02-30”不是有效日期"),
    ((3, "上个月"), "收到申请日期", "日期格式无法识别"),
    ((3, "2027-01-01"), "收到申请日期", "晚于今天"),
    ((5, "不存在的人"), "承办人", "本机关没有用户“不存在的人”"),
    ((7, "随便处理"), "办理结果", "未知的办理结果“随便处理”"),
    ((7, None), "办理结果", "填写了办结日期的，必须填写办理结果"),
    ((6, None), "办结日期", "填写了办理结果的，必须填写办结日期"),
    ((0, ""), "申请人姓名/名称", "不能为空"),
    ((4, ""), "申请内容", "不能为空"),
])
def test_row_errors(app, change, column, message):
    idx, value = change
    rows = [list(r) for r in GOOD]
    rows[0][idx] = value
    with app.test_request_context():
        result = import_ledger(user("admin"), xlsx(rows))
        assert not result.ok and result.created == 0
        assert [(e.row, e.column) for e in result.errors] == [(2, column)]
        assert message in result.errors[0].message
        assert db.session.scalar(db.select(db.func.count(Case.id))) == 0


def test_every_bad_row_is_listed(app):
    rows = [list(r) for r in GOOD]
    rows[0][1] = "外星人"
    rows[3][3] = None
    with app.test_request_context():
        result = import_ledger(user("admin"), xlsx(rows))
    assert sorted({e.row for e in result.errors}) == [2, 5]
    assert str(result.errors[0]).startswith("第2行“申请人类型”")


def test_handler_of_another_agency_is_refused(app):
    from tests.factories import other_agency
    rows = [list(GOOD[0])]
    with app.test_request_context():
        other_agency()
        rows[0][5] = "other_handler"
        result = import_ledger(user("admin"), xlsx(rows))
    assert [e.message for e in result.errors] == ["本机关没有用户“other_handler”"]


@pytest.mark.parametrize("name, data, message", [
    ("ledger.xlsx", b"not a spreadsheet at all", "不是 Excel .xlsx 格式"),
    ("ledger.xls", b"\xd0\xcf\x11\xe0 old excel", "只接受 Excel .xlsx 文件"),
    ("ledger.xlsx", b"PK\x03\x04broken zip", "无法读取该 .xlsx 文件"),
])
def test_files_that_are_not_xlsx_are_refused(client, auth, name, data, message):
    auth.login("admin")
    resp = client.post("/import", data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")
    # 422 since the malformed-file work (was 400): the request is well-formed, its file is not.
    assert resp.status_code == 422 and message in resp.get_data(as_text=True)


def test_zip_that_is_not_a_workbook_and_oversized_files(app):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hello.txt", "hi")
    with app.test_request_context():
        with pytest.raises(ServiceError, match="不是有效的 Excel .xlsx 工作簿"):
            import_ledger(user("admin"), buf.getvalue())
        with pytest.raises(ServiceError, match="文件过大"):
            import_ledger(user("admin"), b"PK\x03\x04" + b"0" * MAX_BYTES)
        with pytest.raises(ServiceError, match="表头缺少以下列：申请人类型"):
            import_ledger(user("admin"), xlsx([["张三"]], headers=["申请人姓名/名称"]))
        with pytest.raises(ServiceError, match="没有可导入的数据行"):
            import_ledger(user("admin"), xlsx([]))


def test_only_admin_may_import(app, client, auth):
    with app.test_request_context():
        with pytest.raises(ServiceError) as e:
            import_ledger(user("head"), xlsx(GOOD))
        assert e.value.status == 403
    auth.login("head")
    assert client.get("/import").status_code == 403
    assert client.get("/import/template.xlsx").status_code == 403
    assert client.post("/import", data={"file": (io.BytesIO(xlsx(GOOD)), "a.xlsx")},
                       content_type="multipart/form-data").status_code == 403
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Case.id))) == 0
