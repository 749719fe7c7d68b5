"""Security events written by the real actions, in the same transaction as the change: agency
settings, letter wording, API tokens, ledger and annual report exports."""
from __future__ import annotations

from app.extensions import db
from app.models import Agency, Event, LetterTemplateOverride
from tests.factories import build_case


def _events(action: str) -> list[dict]:
    rows = db.session.scalars(db.select(Event).where(Event.action == action).order_by(Event.id))
    return [{"agency_id": e.agency_id, "case_id": e.case_id, "actor": e.actor.username if e.actor else None,
             "label": e.label, "data": e.data} for e in rows]


def events(web, action: str) -> list[dict]:
    return web.run(_events, action)


def test_agency_settings_change_records_old_and_new(web):
    web.as_user("admin")
    old_phone = web.run(lambda: db.session.scalar(db.select(Agency.phone).where(Agency.code == "DEMO")))
    _page, r = web.submit("/admin/agency", {"phone": "010-88886666", "court": "示范市中级人民法院"}, expect=302)
    [ev] = events(web, "agency_settings_changed")
    assert ev["actor"] == "admin" and ev["case_id"] is None and ev["label"] == "修改机关设置"
    assert ev["data"]["changes"] == [
        {"field": "court", "label": "管辖人民法院", "old": "示范市示范区人民法院", "new": "示范市中级人民法院"},
        {"field": "phone", "label": "联系电话", "old": old_phone, "new": "010-88886666"},
    ]
    # Saved as recorded.
    assert web.run(lambda: db.session.scalar(db.select(Agency.phone).where(Agency.code == "DEMO"))) == "010-88886666"
    # Saving again without a change, or a refused form, records nothing.
    web.submit("/admin/agency", {}, expect=302)
    web.submit("/admin/agency", {"name": "", "phone": "x"}, expect=400)
    assert len(events(web, "agency_settings_changed")) == 1
    # On the log, in words.
    text = web.get("/admin/security-log?category=settings").text
    assert "联系电话：" in text and "→ 010-88886666" in text and "管辖人民法院：示范市示范区人民法院 → 示范市中级人民法院" in text


def test_template_wording_change_and_reset_are_recorded(web):
    web.as_user("admin")
    page = web.get("/admin/letter-templates/reply_disclose")
    source = page.value("source")
    lines = source.replace("可以公开。", "依法可以公开。").splitlines()
    changed = "\n".join(lines + ["{# 本机关补充 #}"]) + "\n"
    r = web.client.post("/admin/letter-templates/reply_disclose", data={"source": changed})
    assert r.status_code == 302
    # A refused template records nothing.
    assert web.client.post("/admin/letter-templates/reply_disclose", data={"source": "{% if %}"}).status_code == 400
    r = web.client.post("/admin/letter-templates/reply_disclose", data={"reset": "1"})
    assert r.status_code == 302
    evs = events(web, "template_changed")
    assert [e["data"]["change"] for e in evs] == ["created", "reset"]
    assert all(e["actor"] == "admin" and e["data"]["letter"] == "reply_disclose" for e in evs)
    assert evs[0]["data"]["letter_name"] == "《答复书（予以公开）》"
    assert evs[0]["data"]["summary"] == "增加 2 行，删除 1 行"
    assert evs[1]["data"]["summary"] == "增加 1 行，删除 2 行"
    assert web.run(lambda: db.session.scalar(db.select(db.func.count()).select_from(LetterTemplateOverride))) == 0
    text = web.get("/admin/security-log?category=templates").text
    assert "文书：《答复书（予以公开）》；操作：首次修改措辞；改动：增加 2 行，删除 1 行" in text
    assert "恢复系统默认措辞" in text


def test_token_from_the_account_page_is_recorded(web):
    web.as_user("legal")
    r = web.client.post("/account/token", data={})
    assert r.status_code == 200
    [ev] = events(web, "token_issued")
    assert ev["actor"] == "legal" and ev["data"] == {"username": "legal", "via": "web"}


def test_token_from_the_command_line_is_recorded_without_actor(app):
    r = app.test_cli_runner().invoke(args=["issue-token", "head"])
    assert r.exit_code == 0, r.output
    with app.app_context():
        [ev] = _events("token_issued")
        db.session.remove()
    assert ev["actor"] is None and ev["data"] == {"username": "head", "via": "cli"}


def test_ledger_export_is_recorded_with_its_filter_and_rows(web):
    web.run(lambda: build_case("handling"))
    web.as_user("head")
    r = web.client.get("/ledger/export.xlsx?state=open&q=征收")
    assert r.status_code == 200
    r.get_data()
    [ev] = events(web, "ledger_export")
    assert ev["actor"] == "head" and ev["data"]["rows"] == 1
    assert ev["data"]["filters"] == "状态：全部未办结；关键词：征收"


def test_annual_report_exports_are_recorded(web):
    web.run(lambda: build_case("delivered"))
    web.as_user("legal")
    assert web.client.get("/annual-report/export.xlsx?year=2026").status_code == 200
    assert web.client.get("/annual-report/export.pdf?year=2026").status_code == 200
    # No data: refused, and nothing recorded.
    assert web.client.get("/annual-report/export.xlsx?year=2019").status_code == 400
    evs = events(web, "annual_export")
    assert [(e["actor"], e["data"]) for e in evs] == [("legal", {"year": 2026, "format": "xlsx"}),
                                                     ("legal", {"year": 2026, "format": "pdf"})]
