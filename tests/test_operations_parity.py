"""Both doors, one declaration: every reply type of the letter catalogue is drafted, approved, signed
and issued through the API and through the web form, from the inputs app/services/operations.py
declares for it, by three different people (separation of duties), and both store the same draft."""
from __future__ import annotations

import json
import re

import pytest

from app.api.specs import ACTION_PARAMS
from app.domain.outcomes import DRAFTABLE, WITHHOLDING_BASES
from app.extensions import db
from app.letters import letter_for_outcome
from app.models import Case
from app.services.operations import operation, operations
from app.web.actions import ACTION_FIELDS
from tests.api.support import Api
from tests.conftest import set_today
from tests.factories import register, to_handling
from tests.web.conftest import Web
from tests.web.page import textarea_value

CODES = [o.code for o in DRAFTABLE]
WITHHELD = [{"part": "第3页第二段", "reason": "涉及第三方个人隐私", "basis": WITHHOLDING_BASES[1].text},
            {"part": "附件2", "reason": "属于内部事务信息", "basis": WITHHOLDING_BASES[2].text}]
ASCII_NAME = re.compile(r"[A-Za-z_]{3,}")


def _inputs_for(code: str):
    """The draft inputs an outcome's reply uses: its letter's own fields, and what the draft check demands."""
    return [i for i in operation("save_draft").inputs
            if i.name != "outcome" and (code in i.needed_by or code in i.show_if.removeprefix("outcome=").split(","))]


def _values(code: str, door: str) -> dict:
    body: dict = {"outcome": code, "decision": "经审查，现答复如下。", "attachments": "检索记录\n会议纪要"}
    for i in _inputs_for(code):
        if i.kind == "date":
            body[i.name] = "2026-11-05"
        elif i.kind == "choice":
            body[i.name] = next(iter(i.choices))
        elif i.kind == "items":
            if door == "api":
                body[i.name] = WITHHELD
            else:  # the form's rows: withheld-0-part, withheld-0-reason, withheld-0-basis …
                body.update({f"{i.name}-{n}-{k}": v for n, w in enumerate(WITHHELD) for k, v in w.items()})
        else:
            body[i.name] = f"{i.label}：示例内容"
    return body


def _stored(app, case_id: int) -> dict:
    with app.app_context():
        try:
            c = db.session.get(Case, case_id)
            d = c.issued_draft
            return {"state": c.state, "outcome": c.outcome_code, "fields": json.loads(d.fields_json),
                    "hash": d.content_hash, "people": (d.created_by.username, d.approved_by.username,
                                                       d.signed_by.username),
                    "letters": [(x.key, x.notice_ref) for x in c.letters]}
        finally:
            db.session.remove()


def _new_case(app) -> int:
    with app.app_context():
        try:
            return to_handling(register()).id
        finally:
            db.session.remove()


def test_every_operation_is_declared_once_and_both_doors_are_generated_from_it():
    assert list(ACTION_PARAMS) == list(operations()) == list(ACTION_FIELDS)
    for name, op in operations().items():
        assert op.rule.label == op.label and callable(op.effect)
        assert [p.name for p in ACTION_PARAMS[name]] == [i.name for i in op.inputs]
        assert [f.name for f in ACTION_FIELDS[name]] == [i.name for i in op.inputs]
        assert [p.label for p in ACTION_PARAMS[name]] == [i.label for i in op.inputs]


def test_the_draft_inputs_cover_every_field_each_reply_letter_lets_a_drafter_write():
    from app.services.letters import draft_fields, form_name
    names = {i.name for i in operation("save_draft").inputs}
    for code in CODES:
        letter = letter_for_outcome(code)
        assert {form_name(f.name) for f in draft_fields(letter)} <= names, code
        required = {form_name(f.name) for f in draft_fields(letter) if f.required is True}
        assert required <= {i.name for i in _inputs_for(code) if code in i.needed_by}, code


@pytest.mark.parametrize("code", CODES)
def test_each_reply_type_through_the_api_and_the_web_form_stores_the_same_draft(app, client, code):
    api, web = Api(app, client), Web(app, client)

    # The API door.
    api_case = _new_case(app)
    r = api.post(f"/cases/{api_case}/actions/save_draft", _values(code, "api"), "handler")
    assert r.status_code == 200, (code, r.get_data(as_text=True))
    # Read back as JSON (withheld as objects) and posted unchanged, it is the same content.
    draft = r.get_json()["current_draft"]
    assert {"outcome": code, **draft["fields"]} == _values(code, "api")
    again = api.act(api_case, "save_draft", "handler", outcome=code, **draft["fields"])["current_draft"]
    assert (again["revision"], again["content_hash"]) == (2, draft["content_hash"])
    api.act(api_case, "submit_draft", "handler")
    body = api.get(f"/cases/{api_case}", "legal").get_json()
    api.act(api_case, "approve", "legal", secrecy_reviewed=True, draft_hash=body["current_draft"]["content_hash"])
    api.act(api_case, "sign_off", "head", note="同意")
    api.act(api_case, "issue", "handler")

    # The web door.
    web_case = _new_case(app)
    url = f"/cases/{web_case}/action/"
    web.as_user("handler")
    web.submit(url + "save_draft", _values(code, "web"), form_id="action-form", expect=302)
    # Reopened, the draft shows as typed (items one per line, never a Python repr) and saves unchanged.
    page = web.get(url + "save_draft")
    for name, typed in _values(code, "web").items():
        node = page.field(name)
        shown = textarea_value(node) if node.tag == "textarea" else page.value(name)
        assert shown == typed, (code, name, shown)
    web.submit(url + "save_draft", {}, form_id="action-form", expect=302)
    web.submit(url + "submit_draft", {}, form_id="action-form", expect=302)
    web.as_user("legal")
    # The approver sees every field of the draft, by its Chinese label.
    shown = web.get(url + "approve").by_id("action-approve-form").text
    for i in _inputs_for(code):
        assert i.label in shown, (code, i.label)
    if code == "partial":
        assert ("不予公开的内容：附件2；理由：属于内部事务信息；依据（条款）：《中华人民共和国政府信息公开条例》"
                "第十六条第一款、第三十七条") in shown
    web.submit(url + "approve", {"secrecy_reviewed": "y"}, form_id="action-form", expect=302)
    web.as_user("head")
    web.submit(url + "sign_off", {"note": "同意"}, form_id="action-form", expect=302)
    web.as_user("handler")
    web.submit(url + "issue", {}, form_id="action-form", expect=302)

    via_api, via_web = _stored(app, api_case), _stored(app, web_case)
    assert via_api["state"] == via_web["state"] == "replied"
    assert via_api["people"] == via_web["people"] == ("handler", "legal", "head")
    assert via_api["fields"] == via_web["fields"], code
    assert via_api["hash"] == via_web["hash"]
    assert via_api["letters"] == via_web["letters"] == [(letter_for_outcome(code).key, "reply")]
    if code == "partial":
        assert via_web["fields"]["withheld"] == WITHHELD


def test_an_incomplete_withheld_part_is_refused_in_chinese_at_its_field(app, client):
    web = Web(app, client)
    case_id = _new_case(app)
    web.as_user("handler")
    values = {**_values("partial", "web"), "withheld-0-basis": "", "withheld-1-part": "", "withheld-1-reason": "",
              "withheld-1-basis": ""}
    page, _ = web.submit(f"/cases/{case_id}/action/save_draft", values, form_id="action-form", expect=400)
    message = page.error_for("withheld")
    assert "不予公开的部分" in message and "依据" in message
    assert not ASCII_NAME.search(message), message
    # The typed input is kept.
    assert textarea_value(page.field("withheld-0-part")) == "第3页第二段" and page.value("withheld-0-basis") == ""

    api = Api(app, client)
    body = {**_values("partial", "api"), "withheld": [{"part": "第3页第二段", "reason": "涉及第三方个人隐私"}]}
    r = api.post(f"/cases/{case_id}/actions/save_draft", body, "handler")
    assert r.status_code == 400
    error = r.get_json()["error"]
    assert error["field"] == "withheld" and not ASCII_NAME.search(error["message"]), error


# Ids differ between two cases; everything else a step records must not depend on the door.
_CASE_SPECIFIC = {"step_id", "number", "letter_number", "letter_sha256", "transfer_id"}


def _form_value(value):
    return "y" if value is True else str(value)


def _outcome(app, case_id: int) -> dict:
    from tests.factories import events
    with app.app_context():
        try:
            c = db.session.get(Case, case_id)
            last = events(case_id)[-1]
            return {"state": c.state, "version": c.version, "reply_due": c.reply_due, "handler": c.handler_id,
                    "steps": [(s.kind, s.result, s.party, s.due_on) for s in c.steps],
                    "event": (last.action, last.label, last.from_state, last.to_state,
                              {k: v for k, v in last.data.items() if k not in _CASE_SPECIFIC})}
        finally:
            db.session.remove()


@pytest.mark.parametrize("action", list(ACTION_PARAMS))
def test_every_operation_through_the_api_and_the_web_form_has_the_same_effect(app, client, action):
    from tests.api.test_fuzz import STAGE, VALID, actor, build
    from tests.api.support import user_id
    api, web = Api(app, client), Web(app, client)
    handler_id = user_id(app, "handler")
    who = actor(action)

    ctx, ctx2 = build(api, STAGE[action]), build(api, STAGE[action])
    if action == "fee_lapsed":
        set_today(app, "2027-01-05")  # after the payment period
    body = VALID.get(action, lambda c: {})({**ctx, "handler_id": handler_id})
    api.act(ctx["case_id"], action, who, **body)

    body2 = VALID.get(action, lambda c: {})({**ctx2, "handler_id": handler_id})
    web.as_user(who)
    web.submit(f"/cases/{ctx2['case_id']}/action/{action}", {k: _form_value(v) for k, v in body2.items()},
               form_id="action-form", expect=302)

    assert _outcome(app, ctx["case_id"]) == _outcome(app, ctx2["case_id"]), action


# ---------------------------------------------------------------- registration (登记)

def _label(page, name: str) -> tuple[str, bool]:
    """A form field's label text without the required mark, and whether the mark is shown."""
    label = next(n for n in page.by_id(f"field-{name}").iter() if n.tag == "label")
    marked = any(isinstance(c, type(label)) and "req" in c.classes for c in label.iter())
    return label.text.removesuffix("*").strip(), marked


def test_registration_is_declared_once_and_both_doors_show_the_same_inputs(app, client):
    from app.api.openapi import request_schemas
    from app.api.specs import INTAKE_PARAMS
    from app.services.operations import REGISTRATION

    assert [(p.name, p.label, p.required) for p in INTAKE_PARAMS] == [
        (i.name, i.label, i.required) for i in REGISTRATION.inputs]
    schema = request_schemas()["CaseCreate"]
    assert list(schema["properties"]) == [i.name for i in REGISTRATION.inputs]
    assert schema["required"] == [i.name for i in REGISTRATION.inputs if i.required]

    web = Web(app, client)
    web.as_user("clerk")
    page = web.get("/cases/new")
    for i in REGISTRATION.inputs:
        node = page.field(i.name)
        assert node is not None, i.name
        assert _label(page, i.name) == (i.label, i.required), i.name
        hint = next((n.text for n in page.by_id(f"field-{i.name}").iter() if "hint" in n.classes), "")
        assert hint == i.help, i.name
        if i.max_len:
            assert node.get("maxlength") == str(i.max_len), i.name
        if i.choices:
            shown = {v: text for v, text in page.options(i.name) if v}
            assert shown == dict(i.choices), i.name
            assert (page.options(i.name)[0][0] == "") == (not i.initial), i.name
        if i.initial:
            assert page.value(i.name) == i.initial, i.name


def test_the_same_registration_through_the_api_and_the_web_form_stores_the_same_case(app, client):
    from app.domain.intake import resident_id_check_digit
    from app.services.cases import INTAKE_FIELDS
    from tests.api.support import user_id

    agent_id = "11010519800101001"
    agent_id += resident_id_check_digit(agent_id)
    values = {"channel": "online", "arrived_on": "2026-11-21", "confirmed_on": "2026-11-23",
              "applicant_type": "business", "applicant_name": "示范科技有限公司", "id_type": "business_license",
              "id_number": "91110105MA00000000", "contact_phone": "010-12345678",
              "contact_address": "示范市幸福路8号", "contact_email": "office@example.cn", "agent_name": "王代理",
              "agent_id_number": agent_id, "power_of_attorney": "授权委托书（2026）第7号",
              "description": "2025年示范区旧城改造项目的征收补偿方案", "doc_number": "示政发〔2025〕3号",
              "requested_form": "electronic", "requested_route": "email"}
    assert set(values) | {"handler_id"} == set(INTAKE_FIELDS)  # every input is exercised
    handler = user_id(app, "handler2")

    r = Api(app, client).post("/cases", {**values, "handler_id": handler}, "clerk")
    assert r.status_code == 201, r.get_data(as_text=True)
    api_case = r.get_json()["id"]

    web = Web(app, client)
    web.as_user("clerk")
    page, resp = web.submit("/cases/new", {**values, "handler_id": str(handler)}, form_id="intake-form", expect=302)
    web_case = int(resp.location.rsplit("/", 1)[1])

    def stored(case_id: int) -> dict:
        c = db.session.get(Case, case_id)
        out = {name: getattr(c, name) for name in INTAKE_FIELDS}
        out.update(received_on=c.received_on, receipt_basis=c.receipt_basis, reply_due=c.reply_due,
                   state=c.state, created_by=c.created_by.username)
        return out
    api_row, web_row = web.run(stored, api_case), web.run(stored, web_case)
    assert api_row == web_row
    assert api_row["handler_id"] == handler and api_row["confirmed_on"].isoformat() == "2026-11-23"
