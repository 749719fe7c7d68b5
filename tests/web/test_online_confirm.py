"""The clerk's side of online requests (issue 13): 网上申请待确认, Art. 31(3) confirmation through the
intake path, rejection, concurrency, access."""
from __future__ import annotations

import json
import re

import pytest

from app.applicant import online as O
from app.applicant import status
from app.extensions import db
from app.models import Attachment, Case, Event, OcrJob, OnlineRequest
from app.services.errors import Conflict
from tests.casefile.conftest import jpeg_bytes, png_bytes
from tests.conftest import set_today, user
from tests.factories import other_agency
from tests.race import race
from tests.web.test_public_apply import VALID


@pytest.fixture
def online(app, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "ATTACHMENT_DIR", str(tmp_path / "attachments"))
    monkeypatch.setitem(app.config, "OGI_NOW", "2026-11-20T01:30:00")  # Friday 09:30 in Beijing
    return app


def submit(web, agency_code="DEMO", files=(("identity", "身份证.png", None), ("other", "委托书.jpg", None)), **over):
    def run():
        agency = status.public_agency(agency_code)
        ups = [O.Upload(cat, fn, data or (png_bytes() if fn.endswith(".png") else jpeg_bytes()))
               for cat, fn, data in files]
        return O.submit(agency, {**VALID, **over}, ups, "203.0.113.9").id
    return web.run(run)


def test_pending_list_oldest_first_with_the_count_in_the_nav(web, online):
    first = submit(web, applicant_name="张三")
    online.config["OGI_NOW"] = "2026-11-20T03:00:00"
    second = submit(web, applicant_name="李四", files=())
    web.as_user("clerk")
    page = web.get("/online")
    assert page.status == 200
    ids = [n.get("id") for n in page.by_id("pending").iter() if n.tag == "tr" and n.get("id")]
    assert ids == [f"online-{first}", f"online-{second}"]
    assert "2026-11-20 09:30" in page.by_id(f"online-{first}").text
    assert page.by_id("nav-online-count").text == "2"
    assert "2 件网上申请待确认" in web.get("/").by_id("online-notice").text
    page = web.get(f"/online/{first}")
    assert "11010519491231002X" in page.by_id("online-fields").text  # staff see the full number
    assert page.value("confirmed_on") == "2026-11-23"
    links = [n for n in page.by_id("online-files").iter() if n.tag == "a"]
    assert [a.text for a in links] == ["身份证.png", "委托书.jpg"]
    r = web.client.get(links[0].get("href"))
    assert r.status_code == 200 and r.data == png_bytes() and r.mimetype == "image/png"


def test_confirm_registers_the_case_through_intake(web, online):
    rid = submit(web)
    web.as_user("clerk")
    r = web.client.post(f"/online/{rid}/confirm", data={"confirmed_on": "2026-11-23"})
    assert r.status_code == 302
    flash = web.get(r.location).flashes()[0]
    code = re.search(r"查询码 ([0-9A-Z]{4}-[0-9A-Z]{4})", flash).group(1)

    def check():
        req = db.session.get(OnlineRequest, rid)
        case = db.session.get(Case, req.case_id)
        assert req.status == "confirmed" and req.decided_by.username == "clerk" and req.decided_at
        assert case.number in flash and r.location.endswith(f"/cases/{case.id}")
        assert (case.channel, case.arrived_on.isoformat(), case.confirmed_on.isoformat(),
                case.received_on.isoformat()) == ("online", "2026-11-20", "2026-11-23", "2026-11-23")
        assert "第三十一条第（三）项" in case.receipt_basis
        assert case.applicant_name == "张三" and case.requested_route == "email" and case.contact_email == "zs@example.cn"
        assert case.reply_due is not None and case.created_by.username == "clerk"
        atts = db.session.scalars(db.select(Attachment).where(Attachment.case_id == case.id).order_by(Attachment.id)).all()
        assert [(a.category, a.filename, a.uploaded_by_id) for a in atts] == [
            ("identity", "身份证.png", None), ("other", "委托书.jpg", None)]
        assert db.session.scalar(db.select(db.func.count(OcrJob.id)).where(
            OcrJob.attachment_id.in_([a.id for a in atts]))) == 2
        assert status.code_matches(case, code) and not status.code_matches(case, "AAAA-BBBB")
        reg = db.session.scalar(db.select(Event).where(Event.case_id == case.id, Event.action == "register"))
        data = json.loads(reg.data_json)
        assert data["online_reference"] == req.reference and data["channel"] == "online"
    web.run(check)
    assert "没有待确认的网上申请" in web.get("/online").text


def test_a_weekend_confirmation_counts_from_monday(web, online):
    rid = submit(web, files=())
    set_today(online, "2026-11-21")  # Saturday
    web.as_user("clerk")
    assert web.client.post(f"/online/{rid}/confirm", data={"confirmed_on": "2026-11-21"}).status_code == 302
    case = web.run(lambda: db.session.get(OnlineRequest, rid).case)
    received = web.run(lambda: (db.session.get(OnlineRequest, rid).case.confirmed_on.isoformat(),
                                db.session.get(OnlineRequest, rid).case.received_on.isoformat()))
    assert case is not None and received == ("2026-11-21", "2026-11-23")


def test_the_confirmation_date_is_checked(web, online):
    rid = submit(web, files=())
    web.as_user("clerk")
    for value, message in (("2026-11-19", "确认日期不能早于提交日期（2026-11-20）"), ("2026-11-24", "确认日期不能晚于今天"),
                           ("", "请填写确认日期")):
        r = web.client.post(f"/online/{rid}/confirm", data={"confirmed_on": value})
        from tests.web.page import Page
        page = Page(r)
        assert r.status_code == 400 and page.error_for("confirmed_on") == message, (value, page.error_for("confirmed_on"))
        assert page.value("confirmed_on") == value
    assert web.run(lambda: db.session.get(OnlineRequest, rid).status) == "pending"
    assert web.run(lambda: db.session.scalar(db.select(db.func.count(Case.id)))) == 0


def test_double_confirm_makes_one_case(web, online):
    rid = submit(web, files=())
    web.as_user("clerk")
    assert web.client.post(f"/online/{rid}/confirm", data={"confirmed_on": "2026-11-23"}).status_code == 302
    r = web.client.post(f"/online/{rid}/confirm", data={"confirmed_on": "2026-11-23"})
    assert r.status_code == 409 and "已确认登记" in r.get_data(as_text=True)
    assert web.client.post(f"/online/{rid}/reject", data={"reason": "重复"}).status_code == 409
    assert web.run(lambda: db.session.scalar(db.select(db.func.count(Case.id)))) == 1


def test_two_clerks_confirming_at_once_make_one_case(web, online):
    rid = submit(web, files=())

    def confirm(i):
        return O.confirm(user("clerk"), rid, {"confirmed_on": "2026-11-23"})[0].id
    results = race(online, 2, confirm)
    made = [r for r in results if isinstance(r, int)]
    assert len(made) == 1, results
    assert all(isinstance(r, Conflict) for r in results if not isinstance(r, int)), results
    assert web.run(lambda: db.session.scalar(db.select(db.func.count(Case.id)))) == 1
    assert web.run(lambda: db.session.get(OnlineRequest, rid).case_id) == made[0]


def test_reject_needs_a_reason_and_keeps_it(web, online):
    rid = submit(web, files=())
    web.as_user("clerk")
    r = web.client.post(f"/online/{rid}/reject", data={"reason": "  "})
    assert r.status_code == 400 and "请填写退回理由" in r.get_data(as_text=True)
    r = web.client.post(f"/online/{rid}/reject", data={"reason": "内容为广告，非政府信息公开申请"})
    assert r.status_code == 302

    def check():
        req = db.session.get(OnlineRequest, rid)
        assert (req.status, req.reject_reason, req.case_id) == ("rejected", "内容为广告，非政府信息公开申请", None)
        ev = db.session.scalar(db.select(Event).where(Event.action == "online_rejected"))
        assert json.loads(ev.data_json)["reference"] == req.reference and ev.actor.username == "clerk"
        assert db.session.scalar(db.select(db.func.count(Case.id))) == 0
    web.run(check)
    assert "已退回" in web.get(f"/online/{rid}").by_id("decision").text


@pytest.mark.parametrize("username,expected", [("clerk", 200), ("handler", 403), ("head", 403), ("legal", 403),
                                               ("archivist", 403), ("admin", 403), ("sysadmin", 403)])
def test_only_clerks_open_the_staff_pages(web, online, username, expected):
    rid = submit(web)
    file_id = web.run(lambda: db.session.get(OnlineRequest, rid).files[0].id)
    web.as_user(username)
    for url in ("/online", f"/online/{rid}", f"/online/files/{file_id}"):
        assert web.client.get(url).status_code == expected, (username, url)
    for url, data in ((f"/online/{rid}/confirm", {"confirmed_on": "2026-11-23"}), (f"/online/{rid}/reject", {"reason": "x"})):
        assert web.client.post(url, data=data).status_code == (403 if expected == 403 else 302), (username, url)
        if expected != 403:
            break  # the clerk confirmed it


def test_anonymous_goes_to_login_and_another_agencys_clerk_finds_nothing(web, online):
    rid = submit(web)
    file_id = web.run(lambda: db.session.get(OnlineRequest, rid).files[0].id)
    for url in ("/online", f"/online/{rid}", f"/online/files/{file_id}"):
        r = web.client.get(url)
        assert r.status_code == 302 and r.location.startswith("/login"), url
    web.run(lambda: other_agency("OTHER"))
    web.as_user("other_clerk")
    for url in (f"/online/{rid}", f"/online/files/{file_id}"):
        assert web.client.get(url).status_code == 404, url
    assert web.client.post(f"/online/{rid}/confirm", data={"confirmed_on": "2026-11-23"}).status_code == 404
    assert web.client.post(f"/online/{rid}/reject", data={"reason": "x"}).status_code == 404
    assert "没有待确认的网上申请" in web.get("/online").text
    assert web.run(lambda: db.session.get(OnlineRequest, rid).status) == "pending"
