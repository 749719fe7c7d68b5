"""Review screens show what is decided (issue 11 item 4): legal review and sign-off show the parts
disclosed and withheld with their legal bases, the change from the previous revision side by side, and the
letter as it will read; the draft form shows only the fields its outcome needs, marks the required ones and
edits the withheld parts as rows that round-trip unchanged."""
from __future__ import annotations

import pytest

from app.domain.outcomes import DRAFTABLE, WITHHOLDING_BASES
from app.extensions import db
from app.models import Case
from app.services.operations import draft_inputs_for, operation
from tests.factories import act, build_case
from tests.web.conftest import form_data
from tests.web.page import Page, textarea_value

B14, B15, B162 = (WITHHOLDING_BASES[0].text, WITHHOLDING_BASES[1].text, WITHHOLDING_BASES[3].text)
ROWS = [{"part": "第3页第二段中的身份证号码", "reason": "属于第三方个人隐私，第三方不同意公开", "basis": B15},
        {"part": "附件2 会议讨论记录", "reason": "属于过程性信息", "basis": B162},
        {"part": "附件5 涉密批复", "reason": "经保密审查属于国家秘密", "basis": B14}]
PARTIAL = {"outcome": "partial", "reasons": "部分内容不应公开", "disclosed": "施工合同正文及审计结论",
           "obtain": "随本答复书邮寄复印件", "decision": "经审查，答复如下。"}


def url(case_id: int, name: str) -> str:
    return f"/cases/{case_id}/action/{name}"


def rows_posted(rows) -> dict:
    return {f"withheld-{i}-{k}": v for i, r in enumerate(rows) for k, v in r.items()}


def stored_rows(web, case_id):
    def read():
        db.session.expire_all()
        return db.session.get(Case, case_id).current_draft.fields.get("withheld")
    return web.run(read)


def shown_rows(page: Page) -> list[dict]:
    out, i = [], 0
    while page.field(f"withheld-{i}-part") is not None:
        row = {"part": textarea_value(page.field(f"withheld-{i}-part")), "reason":
               textarea_value(page.field(f"withheld-{i}-reason")), "basis": page.value(f"withheld-{i}-basis")}
        if any(row.values()):
            out.append(row)
        i += 1
    return out


def in_review_with_two_revisions(web) -> int:
    """Revision 1 (two withheld parts) returned by legal review, revision 2 (changed) submitted again."""
    def build():
        case = build_case("handling")
        act(case, "handler", "save_draft", {**PARTIAL, "withheld": ROWS[:2]})
        act(case, "handler", "submit_draft")
        act(case, "legal", "return_draft", {"comments": "请写明依据"})
        act(case, "handler", "save_draft", {**PARTIAL, "disclosed": "施工合同正文、附件一及审计结论",
                                            "withheld": [ROWS[1], ROWS[2]]})
        act(case, "handler", "submit_draft")
        return case.id
    return web.run(build)


def check_review_page(page: Page) -> None:
    disclosed = page.by_id("review-disclosed").text
    assert "施工合同正文、附件一及审计结论" in disclosed and "随本答复书邮寄复印件" in disclosed
    assert "第三十七条" in disclosed
    withheld = page.by_id("review-withheld")
    rows = [r.text for r in withheld.iter() if r.tag == "tr"][1:]
    assert len(rows) == 2
    assert rows[0].startswith("1") and "附件2 会议讨论记录" in rows[0] and "第十六条第二款、第三十七条" in rows[0]
    assert "过程性信息" in rows[0] and "属于过程性信息" in rows[0]
    assert "附件5 涉密批复" in rows[1] and "第十四条、第三十七条" in rows[1] and "国家秘密" in rows[1]
    diff = page.by_id("draft-diff")
    head = [n.text for n in diff.iter() if n.tag == "th"][:3]
    assert head == ["项目", "第1稿", "第2稿"]
    # Character-level: only the inserted "、附件一" is marked in the disclosed part.
    ins = [n.text for n in diff.iter() if n.tag == "ins"]
    dels = [n.text for n in diff.iter() if n.tag == "del"]
    assert "、附件一" in ins
    assert any("身份证号码" in t for t in dels) and any("涉密批复" in t for t in ins)
    changed = [n.text for n in diff.iter() if "tag-warn" in n.classes]
    assert changed and all(t == "有修改" for t in changed)
    imgs = [n for n in page.by_id("letter-preview").iter() if n.tag == "img"]
    assert imgs and imgs[0].get("src").endswith("/drafts/2/page-1.png") and "草稿" in imgs[0].get("alt")


def test_legal_review_and_signoff_show_the_decided_parts_the_diff_and_the_letter(web):
    case_id = in_review_with_two_revisions(web)
    web.as_user("legal")
    page = web.get(url(case_id, "approve"))
    assert page.status == 200
    check_review_page(page)
    png = web.client.get(f"/cases/{case_id}/drafts/2/page-1.png")
    assert png.status_code == 200 and png.mimetype == "image/png" and png.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert web.client.get(f"/cases/{case_id}/drafts/2/page-9.png").status_code == 404
    web.submit(url(case_id, "approve"), {"secrecy_reviewed": "y"}, form_id="action-form", expect=302)
    web.as_user("head")
    page = web.get(url(case_id, "sign_off"))
    assert page.status == 200
    check_review_page(page)


def test_preview_pages_are_for_reviewers_of_the_agency_only(web):
    case_id = in_review_with_two_revisions(web)
    web.as_user("clerk")
    assert web.client.get(f"/cases/{case_id}/drafts/2/page-1.png").status_code == 403


def test_a_refusal_shows_the_whole_request_withheld_with_its_ground(web):
    def build():
        case = build_case("handling")
        act(case, "handler", "save_draft", {"outcome": "refuse_internal", "reasons": "属于内部人事管理信息"})
        act(case, "handler", "submit_draft")
        return case.id
    case_id = web.run(build)
    web.as_user("legal")
    page = web.get(url(case_id, "approve"))
    withheld = page.by_id("review-withheld").text
    assert "申请公开的全部信息" in withheld and "第十六条第一款、第三十六条第（三）项" in withheld
    assert "属于三类内部事务信息" in withheld and "属于内部人事管理信息" in withheld
    assert "无" in page.by_id("review-disclosed").text
    assert page.by_id("diff-first").text == "这是第1稿，没有上一稿。"


@pytest.mark.parametrize("code", [o.code for o in DRAFTABLE])
def test_the_draft_form_shows_exactly_the_fields_of_its_outcome_with_required_marks(web, code):
    case_id = web.run(lambda: build_case("handling").id)
    web.as_user("handler")
    page = web.get(url(case_id, "save_draft"))
    # Choosing the outcome without JS: the form comes back for it, nothing saved.
    data = form_data(page, "action-form")
    data.update({"outcome": code, "form_op": "outcome"})
    page = Page(web.client.post(url(case_id, "save_draft"), data=data))
    assert page.status == 200 and page.value("outcome") == code
    used = {i.name: i for i in draft_inputs_for(code)}
    for i in operation("save_draft").inputs:
        if i.name == "outcome":
            continue
        block = page.by_id(f"field-{i.name}")
        shown = "hidden" not in block.attrs
        assert shown == (i.name in used), (code, i.name)
        marks = [n for n in block.iter() if "req" in n.classes and "hidden" not in n.attrs]
        controls = [n for n in block.iter() if n.tag in ("input", "select", "textarea")]
        assert bool(marks) == (code in i.needed_by), (code, i.name)
        assert controls and all(("required" in n.attrs) == (code in i.needed_by) for n in controls), (code, i.name)
        assert all(("disabled" in n.attrs) != shown for n in controls), (code, i.name)
    # What a browser submits is what the form shows: a draft saved from it holds only those fields.
    assert set(form_data(page, "action-form")) - {"csrf_token", "version", "outcome"} == {
        n for n in _posted_names(used)}


def _posted_names(used) -> set[str]:
    out = set()
    for name, i in used.items():
        if i.kind == "items":
            out |= {f"{name}-0-{k}" for k, _ in i.item_fields}
        else:
            out.add(name)
    return out


def test_fields_of_another_outcome_are_not_stored_through_either_door(web):
    case_id = web.run(lambda: build_case("handling").id)
    web.as_user("handler")
    page = web.get(url(case_id, "save_draft"))
    data = {**form_data(page, "action-form"), "outcome": "not_exist", "search": "已检索档案系统",
            "obtain": "不应保存", "disclosed": "不应保存"}
    assert web.client.post(url(case_id, "save_draft"), data=data).status_code == 302
    fields = web.run(lambda: db.session.get(Case, case_id).current_draft.fields)
    assert "obtain" not in fields and "disclosed" not in fields and fields["search"] == "已检索档案系统"


def test_withheld_rows_round_trip_in_order_with_reorder_and_removal(web):
    case_id = web.run(lambda: build_case("handling").id)
    web.as_user("handler")
    u = url(case_id, "save_draft")
    page = web.get(u)
    base = {**form_data(page, "action-form"), **PARTIAL}
    base = {k: v for k, v in base.items() if not k.startswith("withheld-")}
    # Add rows without JS: each "添加一项" brings the form back with one more empty row.
    data = {**base, **rows_posted(ROWS[:1]), "form_op": "withheld:add"}
    page = Page(web.client.post(u, data=data))
    assert page.status == 200 and page.field("withheld-1-part") is not None and shown_rows(page) == ROWS[:1]
    assert web.run(lambda: db.session.get(Case, case_id).current_draft) is None  # nothing saved
    r = web.client.post(u, data={**base, **rows_posted(ROWS)})
    assert r.status_code == 302, Page(r).form_error()
    assert stored_rows(web, case_id) == ROWS
    # Reopened: the same rows in the same order; saved unchanged, the same content.
    page = web.get(u)
    assert shown_rows(page) == ROWS
    web.submit(u, {}, form_id="action-form", expect=302)
    assert stored_rows(web, case_id) == ROWS
    hashes = web.run(lambda: [d.content_hash for d in db.session.get(Case, case_id).drafts])
    assert hashes[0] == hashes[1]
    # Move the third row up, then remove the first: the server applies each like the JS does.
    data = {**form_data(web.get(u), "action-form"), "form_op": "withheld:up:2"}
    page = Page(web.client.post(u, data=data))
    assert shown_rows(page) == [ROWS[0], ROWS[2], ROWS[1]]
    data = {**form_data(page, "action-form"), "form_op": "withheld:remove:0"}
    page = Page(web.client.post(u, data=data))
    assert shown_rows(page) == [ROWS[2], ROWS[1]]
    assert web.client.post(u, data=form_data(page, "action-form")).status_code == 302
    assert stored_rows(web, case_id) == [ROWS[2], ROWS[1]]
    assert shown_rows(web.get(u)) == [ROWS[2], ROWS[1]]


def test_a_rejected_submission_keeps_the_rows_as_typed(web):
    case_id = web.run(lambda: build_case("handling").id)
    web.as_user("handler")
    u = url(case_id, "save_draft")
    base = {k: v for k, v in form_data(web.get(u), "action-form").items() if not k.startswith("withheld-")}
    typed = [ROWS[1], {"part": "附件7", "reason": "", "basis": B14}, ROWS[0]]
    page = Page(web.client.post(u, data={**base, **PARTIAL, **rows_posted(typed)}))
    assert page.status == 400 and "理由" in (page.error_for("withheld") or "")
    assert shown_rows(page) == typed
    # A basis outside the allowed list is refused at the rows, and the typed rows stay.
    other = [{**ROWS[0], "basis": "第十五条"}]
    page = Page(web.client.post(u, data={**base, **PARTIAL, **rows_posted(other)}))
    assert page.status == 400 and "可选依据" in page.error_for("withheld")
    assert shown_rows(page) == other
    assert web.run(lambda: db.session.get(Case, case_id).current_draft) is None


def test_both_doors_refuse_a_basis_outside_the_list_and_ignore_fields_of_another_outcome(app, client, web):
    from tests.api.support import Api
    api = Api(app, client)
    case_id = web.run(lambda: build_case("handling").id)
    r = api.post(f"/cases/{case_id}/actions/save_draft", {**PARTIAL, "withheld": [{**ROWS[0], "basis": "第十五条"}]},
                 "handler")
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "withheld"
    assert "可选依据" in r.get_json()["error"]["message"]
    r = api.post(f"/cases/{case_id}/actions/save_draft", {**PARTIAL, "withheld": ROWS, "form": "纸质",
                                                         "earlier_reply": "不适用", "responsible_agency": "不适用"},
                 "handler")
    assert r.status_code == 200, r.get_data(as_text=True)
    fields = r.get_json()["current_draft"]["fields"]
    assert fields["withheld"] == ROWS and not {"form", "earlier_reply", "responsible_agency"} & set(fields)


def test_an_older_draft_with_a_basis_outside_the_list_reopens_as_it_was_stored(web):
    import json

    def build():
        case = build_case("handling")
        act(case, "handler", "save_draft", {**PARTIAL, "withheld": ROWS[:1]})
        d = db.session.get(Case, case.id).current_draft
        # As drafts saved before the list existed hold it (free text).
        d.fields_json = json.dumps({**d.fields, "withheld": [{**ROWS[0], "basis": "《条例》第十五条"}]},
                                   ensure_ascii=False, sort_keys=True)
        db.session.commit()
        return case.id
    case_id = web.run(build)
    web.as_user("handler")
    page = web.get(url(case_id, "save_draft"))
    assert page.value("withheld-0-basis") == "《条例》第十五条"
    assert ("《条例》第十五条", "《条例》第十五条（不在可选依据中）") in page.options("withheld-0-basis")
    r = web.client.post(url(case_id, "save_draft"), data=form_data(page, "action-form"))
    assert r.status_code == 400 and "可选依据" in Page(r).error_for("withheld")
