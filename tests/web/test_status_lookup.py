"""The applicant's status lookup (issue 13): by 登记编号 and query code or by phone and an SMS code;
what the page shows and never shows; letters; correction answered online and recorded by staff;
rate limits; every public route as an anonymous visitor."""
from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from app.applicant import status as AS
from app.extensions import db
from app.models import Attachment, Case, CorrectionReply, Message, SmsCode
from app.services import letters as L
from tests import factories as F
from tests.conftest import user
from tests.web.page import Page


def _code_for(web, case_id: int) -> str:
    return web.run(lambda: AS.issue_query_code(user("clerk"), case_id))


def _correction_case(web, **over) -> tuple[int, str]:
    """A case waiting for correction with its 补正告知书 issued, and its query code."""
    def build():
        case = F.to_correction(F.register(**over))
        step = case.steps_of("correction")[-1]
        L.issue_notice(case.id, user("handler"), f"step-{step.id}", F.d("2026-11-04"))
        return case.id
    cid = web.run(build)
    return cid, _code_for(web, cid)


def _lookup(web, number: str, code: str):
    return web.client.post("/gk/DEMO/query", data={"number": number, "query_code": code})


def _number(web, cid: int) -> str:
    return web.run(lambda: db.session.get(Case, cid).number)


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(buf, "PNG")
    return buf.getvalue()


def test_lookup_by_number_and_code_shows_the_stage_in_plain_words(web):
    cid, code = _correction_case(web)
    number = _number(web, cid)
    r = _lookup(web, number, code.lower()[:4] + "-" + code[4:])  # typed in lower case with a dash
    assert r.status_code == 302 and r.location.endswith(f"/gk/DEMO/status/{cid}")
    page = web.get(r.location)
    assert page.status == 200
    assert page.by_id("case-number").text == number
    assert "需要补正" in page.by_id("stage").text
    assert page.by_id("masked-id").text == "1101**********002X"
    assert "11010519491231002X" not in page.text
    assert page.has_id("correction-box")
    # No staff names, internal notes or drafts: the handler's name never appears.
    handler_name = web.run(lambda: user("handler").name)
    assert handler_name not in page.text


def test_unknown_number_and_wrong_code_get_the_same_answer(web):
    cid, code = _correction_case(web)
    number = _number(web, cid)
    wrong_code = _lookup(web, number, "AAAA-BBBB")
    unknown = _lookup(web, "DEMO〔2026〕999号", code)
    no_code_case = web.run(lambda: F.register(applicant_name="李四").number)
    never_told = _lookup(web, no_code_case, code)
    texts = []
    for r in (wrong_code, unknown, never_told):
        assert r.status_code == 400
        texts.append(Page(r).by_id("lookup-error").text)
    assert texts == [AS.LOOKUP_FAILED] * 3
    # Nothing was granted.
    assert web.client.get(f"/gk/DEMO/status/{cid}").status_code == 302


def test_new_code_replaces_the_old_one(web):
    cid, code = _correction_case(web)
    number = _number(web, cid)
    web.as_user("clerk")
    r = web.client.post(f"/cases/{cid}/query-code", follow_redirects=True)
    new = re.search(r"查询码：([A-Z0-9]{4}-[A-Z0-9]{4})", r.get_data(as_text=True)).group(1)
    web.client.post("/logout")
    assert _lookup(web, number, code).status_code == 400
    assert _lookup(web, number, new).status_code == 302


def test_letters_addressed_to_the_applicant_only(web):
    def build():
        case = F.to_handling(F.register())
        F.act(case, "handler", "consult", {"kind": "third_party", "party": "示范置业有限公司",
                                           "sent_on": "2026-11-05", "matter": "是否同意公开"})
        step = case.steps_of("consultation_third_party")[-1]
        third = L.issue_notice(case.id, user("handler"), f"step-{step.id}", F.d("2026-11-05"))
        receipt = L.issue_notice(case.id, user("clerk"), "receipt", F.d("2026-11-02"))
        return case.id, third.id, receipt.id, receipt.pdf
    cid, third_id, receipt_id, receipt_pdf = web.run(build)
    code = _code_for(web, cid)
    assert _lookup(web, _number(web, cid), code).status_code == 302
    page = web.get(f"/gk/DEMO/status/{cid}")
    links = [a.get("href") for a in page.all("a", cls="letter-link")]
    assert links == [f"/gk/DEMO/status/{cid}/letters/{receipt_id}.pdf"]
    assert "示范置业" not in page.text  # the third party is never named
    assert "暂停计时" in page.by_id("paused").text
    r = web.client.get(links[0])
    assert r.status_code == 200 and r.mimetype == "application/pdf" and r.data == receipt_pdf
    assert web.client.get(f"/gk/DEMO/status/{cid}/letters/{third_id}.pdf").status_code == 404


def test_a_lookup_grants_only_its_own_case_and_agency(web):
    cid, code = _correction_case(web)
    other = web.run(lambda: F.register(applicant_name="王五").id)
    assert _lookup(web, _number(web, cid), code).status_code == 302
    assert web.client.get(f"/gk/DEMO/status/{other}").status_code == 302
    assert web.client.get(f"/gk/DEMO/status/{other}/letters/1.pdf").status_code == 302

    def other_agency():
        F.other_agency("OTH")
        return "OTH"
    web.run(other_agency)
    r = web.client.get(f"/gk/OTH/status/{cid}")
    assert r.status_code == 302 and "/gk/OTH/query" in r.location
    web.client.post("/gk/DEMO/query/end")
    assert web.client.get(f"/gk/DEMO/status/{cid}").status_code == 302


def test_sms_code_lookup(web):
    cid, _code = _correction_case(web, contact_phone="13912345678")
    page = Page(web.client.post("/gk/DEMO/query/sms", data={"phone": "139 1234 5678"}))
    assert page.status == 200 and page.by_id("sms-note").text == AS.SMS_SENT

    def sent():
        m = db.session.scalars(db.select(Message).where(Message.event == "sms_code")).all()
        return [(x.recipient, x.body) for x in m]
    [(to, body)] = web.run(sent)
    assert to == "13912345678"
    sms = re.search(r"验证码为(\d{6})", body).group(1)
    wrong = "000000" if sms != "000000" else "111111"
    bad = Page(web.client.post("/gk/DEMO/query/sms/verify", data={"phone": "13912345678", "sms_code": wrong}))
    assert bad.status == 400 and bad.by_id("sms-error").text == AS.SMS_FAILED
    r = web.client.post("/gk/DEMO/query/sms/verify", data={"phone": "13912345678", "sms_code": sms})
    assert r.status_code == 302 and r.location.endswith(f"/gk/DEMO/status/{cid}")
    # Used once.
    again = web.client.post("/gk/DEMO/query/sms/verify", data={"phone": "13912345678", "sms_code": sms})
    assert again.status_code == 400


def test_sms_code_tells_nothing_about_unknown_phones_and_locks_after_wrong_tries(web):
    _correction_case(web, contact_phone="13912345678")
    page = Page(web.client.post("/gk/DEMO/query/sms", data={"phone": "13700000001"}))
    assert page.status == 200 and page.by_id("sms-note").text == AS.SMS_SENT
    sms_codes = db.select(Message.body).where(Message.event == "sms_code")
    assert web.run(lambda: db.session.scalars(sms_codes).all()) == []
    web.client.post("/gk/DEMO/query/sms", data={"phone": "13912345678"})
    sms = web.run(lambda: re.search(r"(\d{6})", db.session.scalar(sms_codes)).group(1))
    wrong = "000000" if sms != "000000" else "111111"
    for _ in range(AS.SMS_CODE_TRIES):
        web.client.post("/gk/DEMO/query/sms/verify", data={"phone": "13912345678", "sms_code": wrong})
    r = web.client.post("/gk/DEMO/query/sms/verify", data={"phone": "13912345678", "sms_code": sms})
    assert r.status_code == 400  # the right code no longer opens it
    assert web.run(lambda: db.session.scalar(db.select(SmsCode.tries))) == AS.SMS_CODE_TRIES


def test_lookup_burst_is_throttled_with_a_chinese_message(web, app):
    limit = int(app.config["PUBLIC_LOOKUP_LIMIT"].split()[0])
    for _ in range(limit):
        assert _lookup(web, "DEMO〔2026〕1号", "AAAABBBB").status_code == 400
    r = _lookup(web, "DEMO〔2026〕1号", "AAAABBBB")
    assert r.status_code == 429
    assert "操作过于频繁" in r.get_data(as_text=True)


def test_sms_codes_are_limited_per_phone(web, app):
    _correction_case(web, contact_phone="13912345678")
    limit = int(app.config["PUBLIC_SMS_LIMIT"].split()[0])
    for i in range(limit):
        r = web.client.post("/gk/DEMO/query/sms", data={"phone": "13912345678"},
                            environ_base={"REMOTE_ADDR": f"10.0.0.{i + 1}"})
        assert r.status_code == 200
    r = web.client.post("/gk/DEMO/query/sms", data={"phone": "139-1234-5678"},
                        environ_base={"REMOTE_ADDR": "10.0.1.1"})
    assert r.status_code == 429


def test_correction_answered_online_then_recorded_by_staff(web):
    cid, code = _correction_case(web)
    assert _lookup(web, _number(web, cid), code).status_code == 302
    r = web.client.post(f"/gk/DEMO/status/{cid}/correction",
                        data={"text": "所需信息为2025年度的征收补偿方案全文",
                              "files": (io.BytesIO(_png()), "身份证.png")},
                        content_type="multipart/form-data")
    assert r.status_code == 302
    page = web.get(f"/gk/DEMO/status/{cid}")
    assert "等待工作人员登记" in page.by_id("replies-sent").text

    def reply():
        rep = db.session.scalar(db.select(CorrectionReply))
        att = db.session.get(Attachment, rep.attachment_ids[0])
        return rep.id, rep.text, att.category, att.filename, att.uploaded_by_id
    rid, text, category, filename, by = web.run(reply)
    assert (text, category, filename, by) == ("所需信息为2025年度的征收补偿方案全文", "correction_material", "身份证.png", None)

    web.as_user("handler")
    staff = web.get(f"/cases/{cid}")
    assert staff.has_id(f"online-reply-{rid}") and staff.has_id(f"record-reply-{rid}")
    version = web.run(lambda: db.session.get(Case, cid).version)
    r = web.client.post(f"/cases/{cid}/online-replies/{rid}/record",
                        data={"received_on": "2026-11-23", "version": version}, follow_redirects=True)
    assert "已登记收到补正材料" in r.get_data(as_text=True), Page(r).flashes()

    def after():
        c = db.session.get(Case, cid)
        return c.state, c.clock_start.isoformat(), db.session.get(CorrectionReply, rid).status, c.events[-1].action
    assert web.run(after) == ("handling", "2026-11-23", "recorded", "receive_correction")
    # A second click changes nothing.
    r = web.client.post(f"/cases/{cid}/online-replies/{rid}/record", data={"received_on": "2026-11-23"},
                        follow_redirects=True)
    assert "已登记" in r.get_data(as_text=True)
    assert web.run(after)[0] == "handling"


def test_a_refused_file_is_named_and_nothing_is_kept(web):
    cid, code = _correction_case(web)
    _lookup(web, _number(web, cid), code)
    r = web.client.post(f"/gk/DEMO/status/{cid}/correction",
                        data={"text": "补正说明", "files": (io.BytesIO(b"MZ\x90\x00not a scan"), "补充.exe")},
                        content_type="multipart/form-data")
    page = Page(r)
    assert page.status == 400
    assert "补充.exe" in page.by_id("correction-error").text
    assert page.by_id("text").text == "补正说明"  # what was typed is kept
    assert web.run(lambda: (db.session.scalar(db.select(db.func.count(CorrectionReply.id))),
                            db.session.scalar(db.select(db.func.count(Attachment.id))))) == (0, 0)


def test_no_correction_form_without_an_issued_notice(web):
    def build():
        case = F.to_correction(F.register())  # the notice is not issued yet
        return case.id
    cid = web.run(build)
    code = _code_for(web, cid)
    _lookup(web, _number(web, cid), code)
    assert not web.get(f"/gk/DEMO/status/{cid}").has_id("correction-box")
    r = web.client.post(f"/gk/DEMO/status/{cid}/correction", data={"text": "x"})
    assert r.status_code == 400


@pytest.mark.parametrize("method, url", [
    ("GET", "/gk/DEMO/query"), ("GET", "/gk/DEMO/mine"), ("GET", "/gk/DEMO/status/{cid}"),
    ("GET", "/gk/DEMO/status/{cid}/letters/1.pdf"), ("POST", "/gk/DEMO/status/{cid}/correction"),
    ("POST", "/gk/DEMO/query/end"),
])
def test_anonymous_visitor_sees_no_case(web, method, url):
    cid, _code = _correction_case(web)
    number = _number(web, cid)
    r = web.client.open(url.format(cid=cid), method=method)
    assert r.status_code in (200, 302)
    assert number not in r.get_data(as_text=True)
    if r.status_code == 302:
        assert "/gk/DEMO/query" in r.location


def test_staff_routes_need_the_right_role(web):
    cid, _code = _correction_case(web)
    assert web.client.post(f"/cases/{cid}/query-code").status_code == 302  # to the login page
    for name, status in (("legal", 403), ("archivist", 403), ("handler", 302)):
        web.as_user(name)
        assert web.client.post(f"/cases/{cid}/query-code").status_code == status, name

    def other():
        _agency, users = F.other_agency("OTH")
        return users["clerk"].username
    web.as_user(web.run(other))
    assert web.client.post(f"/cases/{cid}/query-code").status_code == 404


def test_the_letters_kept_from_the_applicant_are_letters_of_the_catalogue():
    from app.letters.catalogue import all_letters
    keys = {lt.key for lt in all_letters()}
    assert AS.NOT_FOR_APPLICANT <= keys
    assert "correction_notice" in keys and "correction_notice" not in AS.NOT_FOR_APPLICANT
