"""删除处理 pages (issue 14): the workspace and its JSON routes by role and agency, CSRF on every POST,
the service's messages and status codes as JSON, a stale redaction hash refused with 409, the upload
form keeping what was typed, the draft form's "按删除处理标注生成", the review panel and the released
copy made by the background job."""
from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from app import create_app
from app.casefile import redaction as C
from app.extensions import db
from app.models import Case, Redaction, SourceDocument
from app.services import jobs as background
from app.services import redaction as R
from tests.conftest import user
from tests.factories import act, approve, build_case, other_agency, register, to_signed
from tests.redaction_pdf import ID_NUMBER, SECRET, source_pdf
from tests.web.conftest import form_data
from tests.web.page import Page, textarea_value

PDF = source_pdf()


@pytest.fixture(autouse=True)
def _store(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_DIR", str(tmp_path / "attachments"))


def base(case_id: int) -> str:
    return f"/cases/{case_id}/redaction"


def with_document(stage: str = "handling", boxes: bool = True) -> tuple[int, int]:
    """A case in ``stage`` whose source document has a box on the ID number (第十五条) and one on the
    searched word (第十六条第二款); past handling the 部分公开 draft was saved and approved with them."""
    case = build_case("handling")
    doc = C.add_document(case.id, user("handler"), PDF, "补偿方案.pdf", "征收补偿方案")
    if boxes:
        C.add_boxes(case.id, user("handler"), doc.id, [{"page": 0, "x0": .29, "y0": .2, "x1": .55, "y1": .22,
                                                        "kind": "id_number", "text": ID_NUMBER}], "第十五条")
        C.add_boxes(case.id, user("handler"), doc.id, [{"page": 1, "x0": .18, "y0": .1, "x1": .35, "y1": .13}],
                    "第十六条第二款", "内部审议意见")
    if stage != "handling":
        act(case, "handler", "save_draft", {"outcome": "partial", "disclosed": "征收补偿方案的其余部分",
                                            "obtain": "随本答复书提供删除处理版", "withheld": R.generated_rows(case),
                                            "attachments": "\n".join(R.attachment_lines(case))})
        act(case, "handler", "submit_draft")
        if stage in ("signoff", "signed"):
            approve(case)
        if stage == "signed":
            to_signed(case)
    return case.id, doc.id


def state(web, case_id: int) -> dict:
    r = web.client.get(f"{base(case_id)}/state.json")
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    return r.get_json()


def post_json(web, url: str, body: dict, **kw):
    return web.client.post(url, json=body, **kw)


# ---------------------------------------------------------------- the handler marks

def test_handler_uploads_a_document_and_sees_its_pages(web):
    case_id = web.run(lambda: build_case("handling").id)
    web.as_user("handler")
    page = web.get(base(case_id))
    assert page.status == 200 and page.has_id("upload-form") and page.has_id("no-documents")
    r = web.client.post(f"{base(case_id)}/documents", data={"title": "征收补偿方案", "file": (io.BytesIO(PDF), "方案.pdf")},
                        content_type="multipart/form-data")
    assert r.status_code == 302 and r.location == base(case_id)
    page = web.get(base(case_id))
    assert "已上传原件：征收补偿方案（2 页）" in page.flashes()
    assert page.has_id("redact") and page.has_id("tool-draw") and "有（可查找）" in page.by_id("documents").text
    assert page.by_id("preview-attachments").text == "征收补偿方案（删除处理版，共2页）"
    s = state(web, case_id)
    assert s["editable"] and s["hash"] == page.by_id("redact").get("data-hash")
    (doc,) = s["documents"]
    assert (doc["title"], doc["pages"], doc["text_pages"], doc["boxes"]) == ("征收补偿方案", 2, 2, [])
    assert [b["value"] for b in s["bases"]] == list(R.BASES)

    img = web.client.get(f"{base(case_id)}/documents/{doc['id']}/pages/1.png?w=800")
    assert img.status_code == 200 and img.mimetype == "image/png" and img.data.startswith(b"\x89PNG")
    assert img.headers["Cache-Control"] == "private, no-cache" and img.headers["ETag"]
    again = web.client.get(f"{base(case_id)}/documents/{doc['id']}/pages/1.png?w=800",
                           headers={"If-None-Match": img.headers["ETag"]})
    assert again.status_code == 304 and not again.data
    assert web.client.get(f"{base(case_id)}/documents/{doc['id']}/pages/3.png").status_code == 404
    assert web.client.get(f"{base(case_id)}/documents/{doc['id']}/pages/0.png").status_code == 404


def test_a_scan_without_text_layer_says_so(web):
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (600, 800), "white").save(buf, "PNG")
    case_id = web.run(lambda: build_case("handling").id)
    web.as_user("handler")
    r = web.client.post(f"{base(case_id)}/documents", data={"title": "", "file": (io.BytesIO(buf.getvalue()), "扫描件.png")},
                        content_type="multipart/form-data")
    assert r.status_code == 302
    page = web.get(base(case_id))
    assert "扫描件无文字层，只能手工框选" in page.by_id("documents").text
    assert "扫描件（删除处理版，共1页）" in page.by_id("preview-attachments").text  # the file's name as title


def test_refused_upload_shows_the_message_and_keeps_the_title(web):
    case_id = web.run(lambda: build_case("handling").id)
    web.as_user("handler")
    r = web.client.post(f"{base(case_id)}/documents", data={"title": "会议纪要", "file": (io.BytesIO(b"not a pdf"), "纪要.pdf")},
                        content_type="multipart/form-data")
    page = Page(r)
    assert page.status == 400 and page.has_id("upload-error")
    assert page.value("title") == "会议纪要"
    assert "has-error" in page.by_id("file").parent.classes
    r = web.client.post(f"{base(case_id)}/documents", data={"title": "会议纪要"}, content_type="multipart/form-data")
    page = Page(r)
    assert page.status == 400 and "请选择原件" in page.by_id("upload-error").text and page.value("title") == "会议纪要"
    assert web.run(lambda: db.session.scalar(db.select(db.func.count()).select_from(SourceDocument))) == 0


def test_marking_editing_and_removing_boxes_through_the_json_routes(web):
    case_id, doc_id = web.run(with_document, boxes=False)
    web.as_user("handler")
    s = state(web, case_id)
    hits = web.client.get(f"{base(case_id)}/search.json?q={SECRET}").get_json()["hits"]
    assert [(h["document_id"], h["page"], h["text"]) for h in hits] == [(doc_id, 1, SECRET)]
    r = post_json(web, f"{base(case_id)}/boxes", {
        "document_id": doc_id, "basis": "第十六条第二款", "note": "", "set_hash": s["hash"],
        "boxes": [{**b, "kind": "search", "text": h["text"]} for h in hits for b in h["boxes"]]})
    assert r.status_code == 200, r.get_json()
    s2 = r.get_json()
    assert s2["hash"] != s["hash"] and len(s2["documents"][0]["boxes"]) == 1
    assert s2["rows"][0]["basis"] == R.BASES["第十六条第二款"].text and "《征收补偿方案》第2页" in s2["rows"][0]["part"]

    sugg = web.client.get(f"{base(case_id)}/suggestions.json").get_json()["suggestions"]
    ids = [x for x in sugg if x["kind"] == "id_number"]
    assert [(x["label"], x["text"]) for x in ids] == [("身份证号码", ID_NUMBER)]
    r = post_json(web, f"{base(case_id)}/boxes", {"document_id": doc_id, "basis": "第十五条", "set_hash": s2["hash"],
                                                  "boxes": [{**b, "kind": "id_number", "text": ID_NUMBER}
                                                            for b in ids[0]["boxes"]]})
    s3 = r.get_json()
    assert r.status_code == 200 and "身份证号码" in s3["rows"][0]["part"]  # 第十五条 comes first in the table
    sugg = web.client.get(f"{base(case_id)}/suggestions.json").get_json()["suggestions"]
    assert not [x for x in sugg if x["kind"] == "id_number"]  # covered now

    box = next(b for b in s3["documents"][0]["boxes"] if b["basis"] == "第十五条")
    r = post_json(web, f"{base(case_id)}/boxes/{box['id']}", {"basis": "第十五条", "note": "被征收人身份证号码",
                                                              "set_hash": s3["hash"]})
    s4 = r.get_json()
    assert r.status_code == 200 and "被征收人身份证号码" in s4["rows"][0]["part"]
    page = web.get(base(case_id))
    assert "被征收人身份证号码" in page.by_id("box-list").text and "（2 处）" in page.by_id("box-count").text
    r = post_json(web, f"{base(case_id)}/boxes/remove", {"ids": [box["id"]], "set_hash": s4["hash"]})
    assert r.status_code == 200 and len(r.get_json()["documents"][0]["boxes"]) == 1
    events = web.run(lambda: [e.action for e in db.session.get(Case, case_id).events])
    assert events[-4:] == ["redaction_added", "redaction_added", "redaction_changed", "redaction_removed"]


def test_the_services_messages_come_back_as_json_with_their_status(web):
    case_id, doc_id = web.run(with_document)
    web.as_user("handler")
    h = state(web, case_id)["hash"]
    url = f"{base(case_id)}/boxes"
    box = {"page": 0, "x0": .1, "y0": .1, "x1": .3, "y1": .2}
    cases = [
        ({"document_id": doc_id, "boxes": [box], "set_hash": h}, 400, "basis", "请为标注选择不予公开的依据"),
        ({"document_id": doc_id, "boxes": [{**box, "x1": .1005}], "basis": "第十五条", "set_hash": h}, 400, "box",
         "标注框太小"),
        ({"document_id": doc_id, "boxes": [{**box, "page": 5}], "basis": "第十五条", "set_hash": h}, 400, "box",
         "超出原件页数"),
        ({"document_id": doc_id, "boxes": [box], "basis": "第十五条", "note": "长" * 201, "set_hash": h}, 400, "note",
         "不能超过200字"),
        ({"document_id": doc_id, "boxes": [box], "basis": "第十五条"}, 400, "set_hash", "set_hash"),
        ({"document_id": "x", "boxes": [box], "basis": "第十五条", "set_hash": h}, 400, "document_id", "请指明原件"),
        ({"document_id": 99999, "boxes": [box], "basis": "第十五条", "set_hash": h}, 404, None, "原件不存在"),
    ]
    for body, status, field, message in cases:
        r = post_json(web, url, body)
        assert r.status_code == status, (body, r.get_json())
        assert r.get_json()["field"] == field and message in r.get_json()["error"], r.get_json()
    r = web.client.post(url, data="not json", content_type="text/plain")
    assert r.status_code == 400 and r.get_json()["field"] == "body"
    r = post_json(web, f"{base(case_id)}/boxes/99999", {"basis": "第十五条", "set_hash": h})
    assert r.status_code == 404 and r.get_json()["error"] == "标注不存在"
    r = post_json(web, f"{base(case_id)}/boxes/remove", {"ids": ["1"], "set_hash": h})
    assert r.status_code == 400 and r.get_json()["field"] == "ids"
    r = web.client.get(f"{base(case_id)}/search.json?q=")
    assert r.status_code == 400 and r.get_json() == {"error": "请输入要查找的文字", "field": "q"}
    assert state(web, case_id)["hash"] == h  # nothing was saved


def test_a_stale_set_hash_is_refused_with_409_and_nothing_saved(web):
    case_id, doc_id = web.run(with_document)
    web.as_user("handler")
    seen = state(web, case_id)
    # Someone else changes the set meanwhile.
    web.run(lambda: C.add_boxes(case_id, user("handler2"), doc_id, [{"page": 0, "x0": .1, "y0": .5, "x1": .4,
                                                                     "y1": .55}], "第十五条"))
    now = state(web, case_id)
    box = seen["documents"][0]["boxes"][0]
    for url, body in ((f"{base(case_id)}/boxes", {"document_id": doc_id, "basis": "第十五条",
                                                  "boxes": [{"page": 0, "x0": .1, "y0": .7, "x1": .3, "y1": .75}]}),
                      (f"{base(case_id)}/boxes/{box['id']}", {"basis": "第十四条", "note": ""}),
                      (f"{base(case_id)}/boxes/remove", {"ids": [box["id"]]})):
        r = post_json(web, url, {**body, "set_hash": seen["hash"]})
        assert r.status_code == 409 and r.get_json() == {"error": C.CONFLICT, "field": "set_hash"}
    assert state(web, case_id)["hash"] == now["hash"]
    # Removing a document with the page's old hash is refused the same way (a flash, not a lost set).
    r = web.client.post(f"{base(case_id)}/documents/{doc_id}/remove", data={"set_hash": seen["hash"]})
    assert r.status_code == 302 and C.CONFLICT in web.get(base(case_id)).flashes()
    r = web.client.post(f"{base(case_id)}/documents/{doc_id}/remove", data={"set_hash": now["hash"]})
    assert "已删除原件：征收补偿方案（连同其上的标注）" in web.get(base(case_id)).flashes()
    assert web.run(lambda: db.session.scalar(db.select(db.func.count()).select_from(Redaction))) == 0


# ---------------------------------------------------------------- roles and agencies

@pytest.mark.parametrize("username", ["legal", "head", "archivist"])
def test_reviewers_and_the_archivist_read_but_do_not_mark(web, username):
    case_id, doc_id = web.run(with_document)
    web.as_user(username)
    page = web.get(base(case_id))
    assert page.status == 200 and page.has_id("read-only")
    assert not page.has_id("upload-form") and not page.has_id("tool-draw") and not page.has_id("search-panel")
    assert not page.has_id(f"remove-document-{doc_id}")
    assert "第十五条" in page.by_id("box-list").text
    s = state(web, case_id)
    assert not s["editable"] and len(s["documents"][0]["boxes"]) == 2
    assert web.client.get(f"{base(case_id)}/documents/{doc_id}/pages/1.png").status_code == 200
    r = post_json(web, f"{base(case_id)}/boxes", {"document_id": doc_id, "basis": "第十五条", "set_hash": s["hash"],
                                                  "boxes": [{"page": 0, "x0": .1, "y0": .7, "x1": .3, "y1": .75}]})
    assert r.status_code == 403 and "只有承办人" in r.get_json()["error"]
    r = post_json(web, f"{base(case_id)}/boxes/remove", {"ids": [s["documents"][0]["boxes"][0]["id"]],
                                                         "set_hash": s["hash"]})
    assert r.status_code == 403
    r = web.client.post(f"{base(case_id)}/documents", data={"title": "x", "file": (io.BytesIO(PDF), "x.pdf")},
                        content_type="multipart/form-data")
    assert r.status_code == 403 and "无权访问" in Page(r).text
    assert web.client.post(f"{base(case_id)}/documents/{doc_id}/remove", data={"set_hash": s["hash"]}).status_code == 403
    assert state(web, case_id)["hash"] == s["hash"]
    assert Page(web.client.get(f"/cases/{case_id}")).has_id("link-workspace")


@pytest.mark.parametrize("username", ["clerk", "admin", "sysadmin"])
def test_other_roles_are_refused(web, username):
    case_id, doc_id = web.run(with_document)
    web.as_user(username)
    for url in (base(case_id), f"{base(case_id)}/state.json", f"{base(case_id)}/documents/{doc_id}/pages/1.png",
                f"{base(case_id)}/search.json?q=x", f"{base(case_id)}/suggestions.json",
                f"{base(case_id)}/releases.json"):
        assert web.client.get(url).status_code == 403, url
    r = post_json(web, f"{base(case_id)}/boxes", {"document_id": doc_id, "set_hash": ""})
    assert r.status_code == 403 and r.get_json()["error"]
    if username != "sysadmin":
        assert not Page(web.client.get(f"/cases/{case_id}")).has_id("link-workspace")


def test_the_handler_cannot_mark_once_the_draft_is_in_review(web):
    case_id, doc_id = web.run(with_document, "review")
    web.as_user("handler")
    page = web.get(base(case_id))
    assert "法制审核中" in page.by_id("read-only").text and not page.has_id("upload-form")
    s = state(web, case_id)
    r = post_json(web, f"{base(case_id)}/boxes/remove", {"ids": [s["documents"][0]["boxes"][0]["id"]],
                                                         "set_hash": s["hash"]})
    assert r.status_code == 400 and "当前阶段不能修改删除处理标注" in r.get_json()["error"]


def test_another_agency_sees_nothing(web):
    case_id, doc_id = web.run(with_document, "signoff")

    def setup():
        other_agency("OTHER")
        rel = C.start_release(case_id, user("legal"))
        background.run_pending()
        # The other agency's own case, to try this agency's document and release through it.
        return rel.id, register(clerk=user("other_clerk")).id
    rel_id, foreign_case = web.run(setup)
    web.as_user("other_handler")
    for url in (base(case_id), f"{base(case_id)}/state.json", f"{base(case_id)}/documents/{doc_id}/pages/1.png",
                f"{base(case_id)}/search.json?q=x", f"{base(case_id)}/suggestions.json",
                f"{base(case_id)}/releases.json", f"{base(case_id)}/releases/{rel_id}.pdf",
                f"{base(foreign_case)}/documents/{doc_id}/pages/1.png", f"{base(foreign_case)}/releases/{rel_id}.pdf"):
        assert web.client.get(url).status_code == 404, url
    r = post_json(web, f"{base(case_id)}/boxes", {"document_id": doc_id, "basis": "第十五条", "set_hash": "",
                                                  "boxes": [{"page": 0, "x0": .1, "y0": .7, "x1": .3, "y1": .75}]})
    assert r.status_code == 404 and r.get_json()["error"]
    r = post_json(web, f"{base(foreign_case)}/boxes", {"document_id": doc_id, "basis": "第十五条", "set_hash": "",
                                                       "boxes": [{"page": 0, "x0": .1, "y0": .7, "x1": .3, "y1": .75}]})
    assert r.status_code == 404
    assert web.client.post(f"{base(case_id)}/documents/{doc_id}/remove", data={"set_hash": ""}).status_code == 404
    assert web.client.post(f"{base(case_id)}/release").status_code == 404
    assert web.client.post(f"{base(case_id)}/documents", data={"title": "x"}).status_code == 404
    # Another case of the same agency does not reach this case's document either.
    web.as_user("handler")
    other_case = web.run(lambda: build_case("handling").id)
    assert web.client.get(f"{base(other_case)}/documents/{doc_id}/pages/1.png").status_code == 404
    assert web.client.get(f"{base(other_case)}/releases/{rel_id}.pdf").status_code == 404


def test_every_post_needs_the_csrf_token(app, web):
    case_id, doc_id = web.run(with_document)
    csrf_app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                           "OGI_TODAY": "2026-11-23", "WTF_CSRF_ENABLED": True,
                           "ATTACHMENT_DIR": app.config["ATTACHMENT_DIR"], "QUEUE_URL": app.config["QUEUE_URL"]})
    try:
        c = csrf_app.test_client()
        token = Page(c.get("/login")).value("csrf_token")
        assert c.post("/login", data={"username": "handler", "password": "ogidesk-demo",
                                      "csrf_token": token}).status_code == 302
        page = Page(c.get(base(case_id)))
        meta = next(n for n in page.all("meta") if n.get("name") == "csrf-token").get("content")
        h = c.get(f"{base(case_id)}/state.json").get_json()["hash"]
        box = {"document_id": doc_id, "basis": "第十五条", "set_hash": h,
               "boxes": [{"page": 0, "x0": .1, "y0": .7, "x1": .3, "y1": .75}]}
        posts = [(f"{base(case_id)}/boxes", {"json": box}),
                 (f"{base(case_id)}/boxes/1", {"json": {"basis": "第十五条", "set_hash": h}}),
                 (f"{base(case_id)}/boxes/remove", {"json": {"ids": [1], "set_hash": h}}),
                 (f"{base(case_id)}/documents", {"data": {"title": "x", "file": (io.BytesIO(PDF), "x.pdf")}}),
                 (f"{base(case_id)}/documents/{doc_id}/remove", {"data": {"set_hash": h}}),
                 (f"{base(case_id)}/release", {"data": {}})]
        for url, kw in posts:
            r = c.post(url, **kw)
            assert r.status_code == 400 and "CSRF" in r.get_data(as_text=True), url
        assert c.get(f"{base(case_id)}/state.json").get_json()["hash"] == h
        r = c.post(f"{base(case_id)}/boxes", json=box, headers={"X-CSRFToken": meta})
        assert r.status_code == 200 and r.get_json()["hash"] != h
        r = c.post(f"{base(case_id)}/documents", data={"title": "第二份", "csrf_token": meta,
                                                        "file": (io.BytesIO(PDF), "x.pdf")})
        assert r.status_code == 302
    finally:
        with csrf_app.app_context():
            db.engine.dispose()


# ---------------------------------------------------------------- the draft, the review, the release

def test_the_draft_form_is_prefilled_and_regenerated_from_the_boxes(web):
    case_id, _ = web.run(with_document)
    rows, lines = web.run(lambda: (R.generated_rows(db.session.get(Case, case_id)),
                                   R.attachment_lines(db.session.get(Case, case_id))))
    web.as_user("handler")
    url = f"/cases/{case_id}/action/save_draft"
    page = web.get(url)
    assert page.value("outcome") == "partial" and page.has_id("withheld-generate")
    shown = [{k: textarea_value(page.field(f"withheld-{i}-{k}")) if k != "basis" else page.value(f"withheld-{i}-basis")
              for k in ("part", "reason", "basis")} for i in range(len(rows))]
    assert shown == rows and len(rows) == 2
    assert textarea_value(page.field("attachments")) == "\n".join(lines)

    # The handler rewrites the wording, then asks for the rows again: they come back from the boxes.
    data = form_data(page, "action-form")
    data.update({"withheld-0-part": "改过的措辞", "attachments": "", "form_op": "withheld:generate"})
    page = Page(web.client.post(url, data=data))
    assert page.status == 200 and "已按删除处理标注填入" in page.by_id("form-notice").text
    assert textarea_value(page.field("withheld-0-part")) == rows[0]["part"]
    assert textarea_value(page.field("attachments")) == "\n".join(lines)

    # Saved with an edited reason, the draft carries the redaction set it was written for.
    data = form_data(page, "action-form")
    data.update({"withheld-1-reason": "该部分为内部审议意见，属于过程性信息。", "disclosed": "其余部分",
                 "obtain": "随本答复书提供删除处理版"})
    data.pop("form_op", None)
    r = web.client.post(url, data=data)
    assert r.status_code == 302, Page(r).form_error()
    d = web.run(lambda: db.session.get(Case, case_id).current_draft.fields)
    assert d["withheld"][1]["reason"] == "该部分为内部审议意见，属于过程性信息。"
    assert d["redaction"]["hash"] == web.run(lambda: R.redaction_hash(db.session.get(Case, case_id)))
    # An earlier draft's values are what the form opens with next time.
    page = web.get(url)
    assert textarea_value(page.field("withheld-1-reason")) == "该部分为内部审议意见，属于过程性信息。"


def test_a_case_without_documents_has_no_generate_button(web):
    case_id = web.run(lambda: build_case("handling").id)
    web.as_user("handler")
    page = web.get(f"/cases/{case_id}/action/save_draft")
    assert not page.has_id("withheld-generate") and page.value("outcome") == ""


def test_legal_review_shows_the_redactions_beside_the_draft(web):
    case_id, doc_id = web.run(with_document, "review")
    web.as_user("legal")
    page = web.get(f"/cases/{case_id}/action/approve")
    panel = page.by_id("review-redaction")
    assert panel is not None and not page.has_id("redaction-stale")
    h = web.run(lambda: R.redaction_hash(db.session.get(Case, case_id)))
    assert page.by_id("redaction-hash").text == h[:12]
    assert "《征收补偿方案》共2页，标注 2 处" in page.by_id("redaction-documents").text
    assert "第十五条" in panel.text and "第十六条第二款" in panel.text and "内部审议意见" in panel.text
    thumbs = [n.get("href") for n in page.all("image")]
    assert thumbs == [f"{base(case_id)}/documents/{doc_id}/pages/{n}.png?w=400" for n in (1, 2)]
    assert len(page.all("rect")) == 2
    assert page.by_id("redaction-workspace-link").get("href") == base(case_id)
    for href in thumbs:
        assert web.client.get(href).status_code == 200

    def change_behind_the_drafts_back():  # not possible through the services in review: a stale set anyway
        box = db.session.scalars(db.select(Redaction).where(Redaction.case_id == case_id)).first()
        box.note = "改动"
        db.session.commit()
    web.run(change_behind_the_drafts_back)
    page = web.get(f"/cases/{case_id}/action/approve")
    assert "删除处理标注在保存本稿后有改动" in page.by_id("redaction-stale").text


def test_release_is_made_in_the_background_and_goes_out_with_the_reply(web):
    case_id, doc_id = web.run(with_document, "signoff")
    web.as_user("handler")
    page = web.get(base(case_id))
    assert page.has_id("release-start") and page.has_id("no-releases")
    web.as_user("legal")
    r = web.client.post(f"{base(case_id)}/release")
    assert r.status_code == 302 and r.location == base(case_id) + "#release"
    page = web.get(base(case_id))
    assert "已提交生成删除处理版" in " ".join(page.flashes()) and page.has_id("release-running")
    assert page.by_id("release").get("data-active") == "1"
    (rel,) = web.client.get(f"{base(case_id)}/releases.json").get_json()["releases"]
    assert rel["status"] == "queued" and rel["job"]["total"] == 2

    assert web.run(background.run_pending) == 1  # the worker's part, in this process
    (rel,) = web.client.get(f"{base(case_id)}/releases.json").get_json()["releases"]
    assert rel["status"] == "done" and rel["job"]["done"] == 2
    page = web.get(base(case_id))
    assert page.has_id("release-ready") and "2（遮盖 2 页）" in page.by_id(f"release-{rel['id']}").text

    web.run(lambda: to_signed(db.session.get(Case, case_id)))
    web.run(lambda: act(db.session.get(Case, case_id), "handler", "issue"))
    web.as_user("clerk")
    link = Page(web.client.get(f"/cases/{case_id}")).by_id("link-release")
    assert link is not None and "2页" in link.text
    r = web.client.get(link.get("href"))
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert "filename*=UTF-8''" in r.headers["Content-Disposition"] and r.headers["Cache-Control"] == "private, no-store"
    number = web.run(lambda: db.session.get(Case, case_id).number)
    assert re.search(r"filename\*=UTF-8''(.+)$", r.headers["Content-Disposition"]).group(1).endswith(
        "%E5%88%A0%E9%99%A4%E5%A4%84%E7%90%86%E7%89%88.pdf") and number in r.headers["Content-Disposition"]
    text = "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(r.data)).pages)
    assert ID_NUMBER not in text and SECRET not in text
