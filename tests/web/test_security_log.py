"""The security log page and its export: own agency only, admins only, filters, plain Chinese, and
spreadsheet text that stays text."""
from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from app.extensions import db
from app.models import Event
from tests.factories import DEMO_USERNAMES
from tests.security_support import seed_log


def _row_actions(page) -> list[str]:
    return [n.get("data-action") for n in page.all("tr") if n.get("data-action")]


def test_admin_sees_own_agency_events_newest_first_in_chinese(web):
    web.run(seed_log)
    web.as_user("admin")
    page = web.get("/admin/security-log")
    assert page.status == 200
    assert _row_actions(page) == ["ledger_export", "agency_settings_changed", "roles_changed", "login_ok"]
    assert page.by_id("seclog-total").text == "4"
    text = page.text
    # Local time (UTC+8), category and label, who, subject and the data in words.
    assert "2026-11-21 01:30:00" in text and "角色权限" in text and "变更角色" in text
    assert "孙管理（admin）" in text and "李承办（handler）" in text and "原角色：登记员" in text and "新角色：法律顾问" in text
    assert "修改内容：联系电话：010-1 → 010-2" in text
    assert "old_roles" not in text and "changes" not in text and "other_admin" not in page.html
    assert page.has_id("nav-security-log")


def test_another_agencys_admin_sees_only_its_own(web):
    web.run(seed_log)
    web.as_user("other_admin")
    page = web.get("/admin/security-log")
    assert _row_actions(page) == ["login_ok"]
    assert "other_admin" in page.text and "handler" not in page.text


def test_the_system_administrator_sees_every_agencys_events(web):
    """The platform's system administrator reads the whole platform's log (both agencies)."""
    web.run(seed_log)
    web.as_user("sysadmin")
    text = web.get("/admin/security-log").text
    assert "孙管理（admin）" in text and "other_admin" in text


@pytest.mark.parametrize("username", [u for u in DEMO_USERNAMES if u not in ("admin", "sysadmin")])
def test_other_roles_are_refused(web, username):
    web.as_user(username)
    assert web.client.get("/admin/security-log").status_code == 403
    assert web.client.get("/admin/security-log/export.xlsx").status_code == 403
    assert not web.get("/").has_id("nav-security-log")


def test_events_without_agency_are_not_shown_to_an_agency_admin(web):
    """Platform events (no agency) are for a platform role, not for an agency's administrator."""
    from app.reports import security_log as seclog
    from tests.conftest import user

    def check():
        seed_log()
        admin = user("admin")
        f = seclog.parse_filters(admin, {})
        # The scope is the agency's own events only: no OR with agency_id IS NULL for an admin.
        sql = str(f.scope.compile(compile_kwargs={"literal_binds": True}))
        assert "IS NULL" not in sql and str(admin.agency_id) in sql
    web.run(check)


@pytest.mark.parametrize("query,expected", [
    ("category=signin", ["login_ok"]),
    ("category=roles", ["roles_changed"]),
    ("action=ledger_export", ["ledger_export"]),
    ("user=legal", ["roles_changed"]),  # the subject of the event
    ("user=head", ["ledger_export"]),  # the actor
    ("user=handle", []),  # a username, not a part of one
    ("date_from=2026-11-21&date_to=2026-11-21", ["roles_changed"]),  # a local day, not a UTC day
    ("date_to=2026-11-20", ["login_ok"]),
    ("date_from=2026-11-22", ["ledger_export", "agency_settings_changed"]),
    ("q=010-2", ["agency_settings_changed"]),
    ("category=signin&user=handler&date_from=2026-11-18&date_to=2026-11-18", ["login_ok"]),
])
def test_filters(web, query, expected):
    web.run(seed_log)
    web.as_user("admin")
    page = web.get("/admin/security-log?" + query)
    assert page.status == 200
    assert _row_actions(page) == expected


@pytest.mark.parametrize("query,message", [
    ("date_from=2026-11-22&date_to=2026-11-01", "不能早于"),
    ("category=nope", "类别"),
    ("category=signin&action=ledger_export", "不属于"),
    ("sort=at", "不支持"),
])
def test_bad_filters_are_refused_in_words_and_kept(web, query, message):
    web.run(seed_log)
    web.as_user("admin")
    page = web.get("/admin/security-log?" + query + "&user=legal")
    assert page.status == 400 and message in page.form_error()
    assert page.value("user") == "legal"  # what was typed is kept
    assert _row_actions(page) == []
    r = web.client.get("/admin/security-log/export.xlsx?" + query + "&user=legal")
    assert r.status_code == 400
    assert web.run(lambda: db.session.scalar(db.select(db.func.count()).select_from(Event).where(
        Event.action == "security_log_export"))) == 0


def test_paging_fifty_a_page(web):
    from tests.security_support import security_event

    def many():
        for i in range(55):
            security_event("admin", "ledger_export", {"filters": f"第{i}次", "rows": i}, f"2026-11-10 {i // 6:02d}:{i % 6}0")
    web.run(many)
    web.as_user("admin")
    first = web.get("/admin/security-log")
    assert len(_row_actions(first)) == 50 and "第54次" in first.text
    second = web.get("/admin/security-log?page=2")
    assert len(_row_actions(second)) == 5 and "第0次" in second.text and "第54次" not in second.text


def test_export_is_the_filtered_view_with_formula_text_kept_as_text_and_is_audited(web):
    web.run(seed_log)
    web.as_user("admin")
    r = web.client.get("/admin/security-log/export.xlsx?category=exports")
    assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet")
    ws = load_workbook(io.BytesIO(r.data)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("时间", "类别", "事件", "操作人", "对象", "详情")
    assert len(rows) == 2
    assert rows[1][1:3] == ("导出", "导出台账") and rows[1][3] == "张主任（head）"
    assert rows[1][5] == '筛选条件：=HYPERLINK("http://x","y")；行数：3'
    # A value that starts like a formula is a string cell, never a formula.
    ws2 = load_workbook(io.BytesIO(_xlsx_with_formula_text(web))).active
    cells = [c for row in ws2.iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("=")]
    assert cells and all(c.data_type == "s" for c in cells)
    # The export itself is on the log, with its filter and row count.
    page = web.get("/admin/security-log?action=security_log_export")
    assert _row_actions(page) == ["security_log_export", "security_log_export"]
    assert "筛选条件：类别：导出；行数：1" in page.text and "筛选条件：事件：签发 API 令牌；行数：1" in page.text


def _xlsx_with_formula_text(web) -> bytes:
    from tests.security_support import security_event
    web.run(lambda: security_event("admin", "token_issued", {"username": "=HYPERLINK(\"http://evil\",\"x\")",
                                                             "via": "web"}, "2026-11-22 05:00"))
    r = web.client.get("/admin/security-log/export.xlsx?action=token_issued")
    assert r.status_code == 200
    return r.data


def test_a_required_password_change_is_described_in_words():
    from app.reports.security_log import summarise

    subject, detail = summarise({"username": "clerk", "via": "web", "ip": "127.0.0.1", "required": "must_change"})
    assert subject == "clerk"
    assert detail == "途径：网页；IP 地址：127.0.0.1；修改原因：初始密码或一次性密码须修改"
