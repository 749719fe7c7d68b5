"""The public pages (issue 13): agency list, 公开指南, the online application form and its
submission (validation, uploads checked by content, honeypot, rate limit)."""
from __future__ import annotations

import io
import json

import pytest

from app.extensions import db
from app.models import Agency, Event, OnlineFile, OnlineRequest
from tests.casefile.conftest import jpeg_bytes, png_bytes
from tests.conftest import user
from tests.web.page import Page

APPLY = "/gk/DEMO/apply"
VALID = {
    "applicant_type": "natural", "applicant_name": "张三", "id_type": "resident_id",
    "id_number": "11010519491231002X", "contact_phone": "13800000000", "contact_email": "zs@example.cn",
    "contact_address": "示范市幸福路8号", "description": "2025年示范区旧城改造项目的征收补偿方案",
    "doc_number": "示政发〔2025〕3号", "requested_form": "electronic", "requested_route": "email",
}


@pytest.fixture
def online(app, monkeypatch, tmp_path):
    """Submissions at 2026-11-20 09:30 Beijing time (a Friday); files stored under tmp_path."""
    monkeypatch.setitem(app.config, "ATTACHMENT_DIR", str(tmp_path / "attachments"))
    monkeypatch.setitem(app.config, "OGI_NOW", "2026-11-20T01:30:00")
    return app


def rows(web, model=OnlineRequest) -> int:
    return web.run(lambda: db.session.scalar(db.select(db.func.count()).select_from(model)))


def post(web, data=None, files=None, url=APPLY):
    body = {**VALID, **(data or {})}
    for name, items in (files or {}).items():
        body[name] = [(io.BytesIO(b), fn) for fn, b in items]
    return web.client.post(url, data=body, content_type="multipart/form-data")


def test_agency_list_guide_and_form_open_without_login(web, online):
    page = web.get("/gk/")
    assert page.status == 200 and "示范市自然资源和规划局" in page.text
    page = web.get("/gk/DEMO/")
    assert page.status == 200
    assert "20个工作日" in page.text and "第三十一条" in page.text and "补正" in page.text
    assert page.by_id("guide-address").text == "示范市人民路1号"  # the agency's settings until the guide is filled in
    page = web.get(APPLY)
    assert page.status == 200
    for name in ("applicant_type", "applicant_name", "id_type", "id_number", "contact_phone", "contact_email",
                 "contact_address", "description", "doc_number", "requested_form", "requested_route",
                 "identity_files", "other_files", "website"):
        assert page.field(name) is not None, name
    assert "hp-field" in page.field("website").parent.classes
    assert web.get("/gk/NOPE/").status == 404 and web.get("/gk/NOPE/apply").status == 404


def test_valid_submission_makes_a_pending_request_with_its_files(web, online):
    r = post(web, files={"identity_files": [("身份证.png", png_bytes())], "other_files": [("委托书.jpg", jpeg_bytes())]})
    assert r.status_code == 302 and r.location.endswith("/gk/DEMO/apply/done")
    page = web.get("/gk/DEMO/apply/done")

    def check():
        req = db.session.scalar(db.select(OnlineRequest))
        assert req.status == "pending" and req.reference.startswith("WS20261120-") and len(req.reference) == 15
        assert req.fields["applicant_name"] == "张三" and req.fields["id_number"] == "11010519491231002X"
        assert req.fields["requested_route"] == "email" and req.ip
        assert req.submitted_at.isoformat() == "2026-11-20T01:30:00"
        files = {f.category: f for f in req.files}
        assert files["identity"].filename == "身份证.png" and files["identity"].content_type == "image/png"
        assert files["other"].content_type == "image/jpeg"
        from app.services import storage
        assert storage.read(files["identity"].sha256) == png_bytes()
        return req.reference
    ref = web.run(check)
    assert page.by_id("reference").text == ref
    assert page.by_id("submitted-at").text == "2026-11-20 09:30"
    assert page.by_id("done-id").text == "1101**********002X" and "19491231" not in page.html
    assert "双方确认之日为收到申请之日" in page.text and "查询码" in page.text


def test_every_field_to_fix_is_named_and_what_was_typed_is_kept(web, online, monkeypatch):
    monkeypatch.setitem(online.config, "PUBLIC_SUBMIT_LIMIT", "100 per hour")
    r = post(web, {"applicant_name": "", "id_number": "110105194912310021", "contact_phone": "",
                   "contact_email": "not-an-email", "description": "", "doc_number": "示政发〔2025〕3号"},
             files={"identity_files": [("id.png", png_bytes())]})
    page = Page(r)
    assert page.status == 400
    assert page.error_for("applicant_name") == "请填写申请人姓名或名称"
    assert "校验位" in page.error_for("id_number")
    assert "联系电话" in page.error_for("contact_phone")
    assert page.error_for("contact_email") == "电子邮箱格式不正确"
    assert "请填写" in page.error_for("description")
    assert "重新选择" in page.form_error()  # files are not kept: said so
    assert page.value("id_number") == "110105194912310021"
    assert page.value("contact_email") == "not-an-email"
    assert page.value("doc_number") == "示政发〔2025〕3号"
    assert page.value("requested_route") == "email"
    assert rows(web) == 0 and rows(web, OnlineFile) == 0
    # One field at a time, each named by itself.
    for field, value, message in (("applicant_type", "alien", "申请人类型的取值无效"),
                                  ("contact_phone", "12", "联系电话应至少包含7位数字"),
                                  ("requested_form", "pigeon", "获取信息的形式的取值无效")):
        page = Page(post(web, {field: value}))
        assert page.status == 400 and page.error_for(field) == message, (field, page.error_for(field))
        assert page.value("applicant_name") == "张三"
    assert rows(web) == 0


def test_wrong_type_and_oversize_files_are_refused_by_name(web, online, monkeypatch):
    monkeypatch.setitem(online.config, "ATTACHMENT_MAX_BYTES", 2000)
    page = Page(post(web, files={"identity_files": [("身份证.pdf", b"MZ\x90\x00 not a scan at all")],
                                 "other_files": [("委托书.png", png_bytes((600, 600), color=None) + b"\0" * 3000)]}))
    assert page.status == 400
    assert "身份证.pdf" in page.error_for("identity_files") and "文件类型不支持" in page.error_for("identity_files")
    assert "委托书.png" in page.error_for("other_files") and "文件过大" in page.error_for("other_files")
    assert page.value("applicant_name") == "张三"
    page = Page(post(web, files={"identity_files": [("a.png", png_bytes()), ("b.png", png_bytes())],
                                 "other_files": [("c.png", png_bytes()), ("d.png", png_bytes())]}))
    assert page.status == 400 and "最多上传 3 个文件" in page.form_error()
    assert rows(web) == 0 and rows(web, OnlineFile) == 0
    assert not (online.config["ATTACHMENT_DIR"] and __import__("os").path.exists(online.config["ATTACHMENT_DIR"]))


def test_honeypot_looks_like_success_and_saves_nothing(web, online):
    r = post(web, {"website": "http://spam.example"}, files={"identity_files": [("id.png", png_bytes())]})
    assert r.status_code == 302 and r.location.endswith("/gk/DEMO/apply/done")
    page = web.get("/gk/DEMO/apply/done")
    assert page.status == 200 and page.by_id("reference").text.startswith("WS")
    assert rows(web) == 0 and rows(web, OnlineFile) == 0


def test_a_burst_of_submissions_is_refused_with_a_chinese_page(web, online):
    for _ in range(5):
        assert post(web).status_code == 302
    r = post(web)
    page = Page(r)
    assert r.status_code == 429
    assert "提交过于频繁，请稍后再试" in page.by_id("rate-limited").text
    assert "示范市自然资源和规划局" in page.text  # the public layout of the agency
    assert rows(web) == 5
    assert web.get(APPLY).status == 200  # reading the form is not limited


def test_id_numbers_are_masked_and_a_closed_agency_takes_no_request(web, online):
    from app.domain.intake import mask_id_number as mask_id
    assert mask_id("11010519491231002X") == "1101**********002X"
    assert mask_id("G1234567") == "G******7"

    def close():
        db.session.scalar(db.select(Agency).where(Agency.code == "DEMO")).online_enabled = False
        db.session.commit()
    web.run(close)
    assert "示范市自然资源和规划局" not in web.get("/gk/").text
    page = web.get(APPLY)
    assert page.status == 404 and "暂未开通网上申请" in page.text
    assert post(web).status_code == 404 and rows(web) == 0


def test_csrf_is_required_without_login(app, online):
    from app import create_app
    csrf_app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                           "OGI_TODAY": "2026-11-23", "WTF_CSRF_ENABLED": True,
                           "ATTACHMENT_DIR": app.config["ATTACHMENT_DIR"]})
    try:
        c = csrf_app.test_client()
        assert c.post(APPLY, data=VALID).status_code == 400
        token = Page(c.get(APPLY)).value("csrf_token")
        assert token
        assert c.post(APPLY, data={**VALID, "csrf_token": token}).status_code == 302
    finally:
        with csrf_app.app_context():
            db.engine.dispose()


def test_the_administrator_keeps_the_guide(web, online):
    web.as_user("admin")
    page, r = web.submit("/admin/guide", {"office": "示范市自然资源和规划局办公室", "hours": "工作日 9:00-17:00",
                                          "postcode": "100000", "fees": "不收取费用。"}, expect=302)
    page = web.get("/gk/DEMO/")
    assert page.by_id("guide-office").text == "示范市自然资源和规划局办公室"
    assert page.by_id("guide-hours").text == "工作日 9:00-17:00"
    assert page.by_id("guide-fees-text").text == "不收取费用。"
    page, r = web.submit("/admin/guide", {"email": "no-at-sign"}, expect=400)
    assert page.error_for("email") == "电子邮箱格式不正确"

    def events():
        return [json.loads(e.data_json) for e in db.session.scalars(
            db.select(Event).where(Event.action == "agency_settings_changed"))]
    evs = web.run(events)
    assert len(evs) == 1 and {c["label"] for c in evs[0]["changes"]} >= {"公开指南·办公时间", "公开指南·收费说明"}
    web.as_user("clerk")
    assert web.client.get("/admin/guide").status_code == 403
    assert web.run(lambda: user("admin").agency.online_enabled)
