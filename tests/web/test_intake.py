"""Intake form: every service field with the domain's choices, success with the case number and
due date, refusals that keep what was typed, and the month/repeat hints."""
from __future__ import annotations

from app.domain.intake import APPLICANT_TYPES, CHANNELS, FORMS, ID_TYPES, ROUTES
from app.extensions import db
from app.models import Case
from app.services.cases import INTAKE_FIELDS
from tests.conftest import INTAKE
from tests.factories import register

TYPED = {**INTAKE, "contact_email": "zhangsan@example.cn", "handler_id": ""}


def test_form_has_every_intake_field_with_the_domain_choices(web):
    web.as_user("clerk")
    page = web.get("/cases/new")
    assert page.status == 200
    for name in INTAKE_FIELDS:
        assert page.field(name) is not None, name
    assert {v for v, _ in page.options("channel")} == {""} | set(CHANNELS)
    assert {v for v, _ in page.options("applicant_type")} == {""} | set(APPLICANT_TYPES)
    assert {v for v, _ in page.options("id_type")} == set(ID_TYPES)
    assert {v for v, _ in page.options("requested_form")} == set(FORMS)
    assert {v for v, _ in page.options("requested_route")} == set(ROUTES)
    handlers = [label for v, label in page.options("handler_id") if v]
    assert handlers == ["李承办（handler）", "赵承办（handler2）"]  # handlers only, not the clerk or head
    assert page.value("arrived_on") == "2026-11-23"  # today
    assert page.field("arrived_on").get("type") == "date"
    # confirmed_on is shown by default and hidden by JS only for channels that do not need it.
    assert page.by_id("field-confirmed_on").get("data-show-if") == "channel=ordinary_post,online,fax"
    assert page.by_id("intake-form").get("data-hints-url") == "/cases/intake-hints"
    assert page.has_id("submit")


def test_registration_redirects_to_the_case_with_number_and_due_date(web):
    web.as_user("clerk")
    handler_id = next(v for v, label in web.get("/cases/new").options("handler_id") if "handler2" in label)
    r = web.client.post("/cases/new", data={**TYPED, "handler_id": handler_id})
    assert r.status_code == 302
    case_id = int(r.location.rsplit("/", 1)[1])
    page = web.get(r.location)
    assert page.flashes() == ["已登记，案号 DEMO-2026-0001，答复期限 2026-11-30"]
    assert page.by_id("case-number").text == "DEMO-2026-0001"
    assert page.by_id("handler").text == "赵承办"

    def stored():
        c = db.session.get(Case, case_id)
        return (c.applicant_name, c.contact_email, c.received_on.isoformat(), c.handler.username, c.doc_number)
    assert web.run(stored) == ("张三", "zhangsan@example.cn", "2026-11-02", "handler2", "示政发〔2025〕3号")


def test_refused_registration_keeps_everything_typed_and_shows_the_message_at_the_field(web):
    web.as_user("clerk")
    bad = {**TYPED, "id_number": "110105194912310021"}  # wrong check digit
    r = web.client.post("/cases/new", data=bad)
    assert r.status_code == 400
    from tests.web.page import Page
    page = Page(r)
    assert page.error_for("id_number") == "居民身份证号码校验位不正确，请核对"
    assert page.by_id("field-id_number").classes >= {"field", "has-error"}
    for name, value in bad.items():
        assert page.value(name) == value, name
    assert web.run(lambda: db.session.scalar(db.select(db.func.count()).select_from(Case))) == 0


def test_online_request_needs_the_confirmation_date(web):
    web.as_user("clerk")
    data = {**TYPED, "channel": "online", "arrived_on": "2026-11-21", "confirmed_on": ""}
    from tests.web.page import Page
    page = Page(web.client.post("/cases/new", data=data))
    assert page.status == 400
    assert "确认的日期" in page.error_for("confirmed_on")
    assert page.value("channel") == "online" and page.value("arrived_on") == "2026-11-21"
    # Confirmed on Saturday 21 Nov: the receipt date rolls forward to Monday 23 Nov (handbook §8.3).
    r = web.client.post("/cases/new", data={**data, "confirmed_on": "2026-11-21"})
    assert r.status_code == 302
    page = web.get(r.location)
    assert "2026-11-23" in page.by_id("receipt").text and "顺延" in page.by_id("receipt-basis").text


def test_missing_contact_is_reported_at_the_phone_field(web):
    web.as_user("clerk")
    from tests.web.page import Page
    page = Page(web.client.post("/cases/new", data={**TYPED, "contact_phone": "", "contact_address": "",
                                                     "contact_email": ""}))
    assert page.status == 400
    assert page.error_for("contact_phone") == "请至少填写一种联系方式（第二十九条）"
    assert page.value("description") == TYPED["description"]


def test_hints_endpoint_counts_this_month_and_finds_repeats(web):
    first = web.run(lambda: register().id)
    web.run(lambda: register(description="关于示范区河道整治工程的立项批复", doc_number="").id)
    web.as_user("clerk")
    r = web.client.post("/cases/intake-hints", data={
        "applicant_name": "张三", "id_number": "", "description": INTAKE["description"],
        "doc_number": INTAKE["doc_number"]})
    assert r.status_code == 200 and r.is_json
    hints = r.get_json()
    assert hints["month_count"] == 2
    assert [h["id"] for h in hints["possible_repeats"]] == [first]
    assert hints["possible_repeats"][0]["same_doc_number"] is True
    assert hints["possible_repeats"][0]["url"] == f"/cases/{first}"
    # Nobody named: nothing to look up.
    assert web.client.post("/cases/intake-hints").get_json()["month_count"] == 0


def test_case_page_shows_the_hints_for_the_registered_case(web):
    first = web.run(lambda: register().id)
    second = web.run(lambda: register(description="2025年示范区旧城改造项目征收补偿方案").id)
    web.as_user("handler")
    page = web.get(f"/cases/{second}")
    assert page.by_id("month-count").text == "1"  # the other request, not this one
    repeats = page.by_id("possible-repeats")
    assert repeats is not None and "DEMO-2026-0001" in repeats.text and "文号相同" in repeats.text
    # Stored at intake: the first request's page knows only what was there when it was registered,
    # until someone asks for the hints again (changed deliberately: the page no longer recomputes).
    assert web.get(f"/cases/{first}").by_id("possible-repeats") is None
    web.as_user("clerk")
    assert web.client.post(f"/cases/{first}/hints").status_code == 302
    assert web.get(f"/cases/{first}").by_id("possible-repeats").text.count("DEMO-2026-0002") == 1
