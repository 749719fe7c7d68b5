"""Redaction for partial disclosure through the services (issue 14): the redaction set is bound to
the approved draft, a changed set cannot be submitted, approved, released or issued, the released
copy is made by the job, leaks nothing covered, goes into the 案卷 and to the applicant."""
from __future__ import annotations

import hashlib
import io
from functools import lru_cache

import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader
from sqlalchemy import text

from app.applicant import status as applicant
from app.casefile import redaction as CR
from app.casefile.assemble import build_casefile
from app.extensions import db
from app.models import Event, Redaction, Release
from app.services import jobs as background
from app.services import redaction as R
from app.services import storage
from app.services.errors import Conflict, Forbidden, NotFound, ServiceError
from app.services.integrity import verify_all
from tests.conftest import user
from tests.factories import act, build_case, other_agency, reload, snapshot

SECRET_ID = "440301198506151238"
SECRET_NAME = "王秘密"
SECRET_MOBILE = "13912345678"
KEPT = "项目总投资额"

CSS = """@page { size: A4; margin: 25mm }
body { font-family: "Noto Serif CJK SC"; font-size: 14pt; line-height: 2 }
.page { break-after: page }"""


@lru_cache(maxsize=8)
def source_pdf(pages: int = 3) -> bytes:
    """A contract with known strings: a name and ID number on page 1, a mobile on page 2."""
    from weasyprint import CSS as C, HTML

    body = (f"<div class='page'><p>施工合同</p><p>联系人：{SECRET_NAME}，身份证号码：{SECRET_ID}。</p>"
            f"<p>{KEPT}：壹仟万元。</p></div>"
            f"<div class='page'><p>项目负责人手机：{SECRET_MOBILE}</p><p>{KEPT}按年度拨付。</p></div>")
    body += "".join(f"<div class='page'><p>附件第{n}页：{KEPT}明细。</p></div>" for n in range(3, pages + 1))
    return HTML(string=f"<html><body>{body}</body></html>").write_pdf(stylesheets=[C(string=CSS)])


def extract(pdf: bytes) -> str:
    """Every text layer of the PDF as pypdf and pdfium read it."""
    out = [p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages]
    doc = pdfium.PdfDocument(pdf)
    for page in doc:
        tp = page.get_textpage()
        out.append(tp.get_text_range())
    return "\n".join(out)


def _partial_fields(case, **over) -> dict:
    return {"outcome": "partial", "decision": "", "disclosed": "施工合同（删除处理版）", "obtain": "随本答复书邮寄提供",
            "withheld": R.generated_rows(case), "attachments": "\n".join(R.attachment_lines(case)), **over}


def _marked_case(stage_boxes: bool = True):
    case = build_case("handling")
    doc = CR.add_document(case.id, user("handler"), source_pdf(), "contract.pdf", "东湖小区施工合同")
    if stage_boxes:
        hits = CR.search(case.id, user("handler"), SECRET_NAME)
        assert hits, "the name is found on the text layer"
        CR.add_boxes(case.id, user("handler"), doc.id, [{**b, "kind": "search", "text": h["text"]}
                                                       for h in hits for b in h["boxes"]], "第十五条", "第三方姓名")
        for s in CR.suggestions(case.id, user("handler")):
            CR.add_boxes(case.id, user("handler"), doc.id, [{**b, "kind": s["kind"]} for b in s["boxes"]], "第十五条")
    return reload(case), doc


def _to_signoff(case):
    act(case, "handler", "save_draft", _partial_fields(case))
    act(case, "handler", "submit_draft")
    act(case, "legal", "approve", {"secrecy_reviewed": "y", "draft_hash": reload(case).current_draft.content_hash})
    return reload(case)


def test_suggestions_find_the_protected_personal_data(app, actx):
    case, doc = _marked_case(stage_boxes=False)
    found = {(s["kind"], s["text"].replace(" ", "")) for s in CR.suggestions(case.id, user("handler"))}
    assert ("id_number", SECRET_ID) in found
    assert ("mobile", SECRET_MOBILE) in found
    # Once covered, a suggestion is not offered again.
    _marked_case_boxes = CR.suggestions(case.id, user("handler"))
    for s in _marked_case_boxes:
        CR.add_boxes(case.id, user("handler"), doc.id, [{**b, "kind": s["kind"]} for b in s["boxes"]], "第十五条")
    assert CR.suggestions(case.id, user("handler")) == []


def test_generated_rows_group_the_boxes_by_basis(app, actx):
    case, doc = _marked_case()
    page3 = {"page": 2, "x0": 0.1, "y0": 0.1, "x1": 0.5, "y1": 0.2}
    CR.add_boxes(case.id, user("handler"), doc.id, [page3], "第十六条第二款", "内部审批意见")
    rows = R.generated_rows(reload(case))
    assert [r["basis"] for r in rows] == ["《中华人民共和国政府信息公开条例》第十五条、第三十七条",
                                         "《中华人民共和国政府信息公开条例》第十六条第二款、第三十七条"]
    assert rows[0]["part"].startswith("《东湖小区施工合同》第1—2页中的第三方姓名")
    assert "身份证号码" in rows[0]["part"] and "手机号码" in rows[0]["part"]
    assert rows[1]["part"] == "《东湖小区施工合同》第3页中的内部审批意见"
    assert all(r["reason"] for r in rows)
    assert R.attachment_lines(case) == ["东湖小区施工合同（删除处理版，共3页）"]


def test_draft_must_state_every_basis_the_boxes_use(app, actx):
    case, _ = _marked_case()
    before = snapshot(case.id)
    other = [{"part": "审批意见", "reason": "过程性信息",
              "basis": "《中华人民共和国政府信息公开条例》第十六条第二款、第三十七条"}]
    with pytest.raises(ServiceError) as e:
        act(case, "handler", "save_draft", _partial_fields(case, withheld=other))
    assert e.value.field == "withheld" and "第十五条" in e.value.message
    assert snapshot(case.id) == before
    act(case, "handler", "save_draft", _partial_fields(case))
    d = reload(case).current_draft
    assert d.fields["redaction"]["hash"] == R.redaction_hash(case)
    assert d.fields["redaction"]["pages"] == 3


def test_approval_covers_the_redaction_set_and_a_change_needs_a_new_one(app, actx):
    case, doc = _marked_case()
    act(case, "handler", "save_draft", _partial_fields(case))
    bound = R.redaction_hash(case)
    act(case, "handler", "submit_draft")
    act(case, "legal", "approve", {"secrecy_reviewed": "y", "draft_hash": reload(case).current_draft.content_hash})
    approved = [e for e in db.session.scalars(db.select(Event).where(Event.case_id == case.id)) if e.action == "approve"]
    assert approved[-1].data["redaction_hash"] == bound

    # Marking is closed once the draft went to review.
    with pytest.raises(ServiceError):
        CR.add_boxes(case.id, user("handler"), doc.id, [{"page": 2, "x0": .1, "y0": .1, "x1": .2, "y1": .2}], "第十五条")

    act(case, "head", "reject_signoff", {"comments": "再遮盖第3页的签名"})
    case = reload(case)
    assert case.state == "handling"
    CR.add_boxes(case.id, user("handler"), doc.id, [{"page": 2, "x0": .1, "y0": .1, "x1": .2, "y1": .2}], "第十五条",
                 set_hash=bound)
    assert R.redaction_hash(reload(case)) != bound
    before = snapshot(case.id)
    with pytest.raises(ServiceError) as e:  # the saved draft was written for the old set
        act(case, "handler", "submit_draft")
    assert e.value.field == "redaction"
    assert snapshot(case.id) == before

    act(case, "handler", "save_draft", _partial_fields(reload(case)))
    case = reload(case)
    assert case.current_draft.revision == 2 and case.current_draft.approved_hash is None
    act(case, "handler", "submit_draft")
    assert reload(case).state == "review"


def test_stale_set_hash_is_a_conflict_and_changes_nothing(app, actx):
    case, doc = _marked_case()
    seen = R.redaction_hash(case)
    box = R.boxes(case)[0]
    CR.update_box(case.id, user("handler"), box.id, "第十五条", "第三方姓名（联系人）", set_hash=seen)
    n = len(R.boxes(reload(case)))
    with pytest.raises(Conflict):
        CR.remove_boxes(case.id, user("handler2"), [box.id], set_hash=seen)
    with pytest.raises(Conflict):
        CR.add_boxes(case.id, user("handler2"), doc.id, [{"page": 0, "x0": .1, "y0": .1, "x1": .2, "y1": .2}],
                     "第十五条", set_hash=seen)
    assert len(R.boxes(reload(case))) == n
    assert db.session.get(Redaction, box.id).note == "第三方姓名（联系人）"


def test_marking_is_for_handlers_of_the_agency_with_valid_boxes(app, actx):
    case, doc = _marked_case(stage_boxes=False)
    good = [{"page": 0, "x0": .1, "y0": .1, "x1": .3, "y1": .2}]
    for who in ("clerk", "legal", "head", "archivist"):
        with pytest.raises(Forbidden):
            CR.add_boxes(case.id, user(who), doc.id, good, "第十五条")
    _, others = other_agency()
    with pytest.raises(NotFound):
        CR.add_boxes(case.id, others["handler"], doc.id, good, "第十五条")
    with pytest.raises(NotFound):
        CR.get_document(doc.id, others["handler"])
    bad = [
        ([{"page": 0, "x0": .1, "y0": .1, "x1": .3, "y1": .2}], "第九十九条", "basis"),
        ([{"page": 0, "x0": .1, "y0": .1, "x1": .1005, "y1": .2}], "第十五条", "box"),
        ([{"page": 7, "x0": .1, "y0": .1, "x1": .3, "y1": .2}], "第十五条", "box"),
        ([{"page": 0, "x0": "a", "y0": .1, "x1": .3, "y1": .2}], "第十五条", "box"),
        ([], "第十五条", "box"),
    ]
    for boxes, basis, field in bad:
        with pytest.raises(ServiceError) as e:
            CR.add_boxes(case.id, user("handler"), doc.id, boxes, basis)
        assert e.value.field == field, (boxes, basis)
    assert R.boxes(reload(case)) == []
    # Coordinates outside the page are clamped to it.
    [row] = CR.add_boxes(case.id, user("handler"), doc.id, [{"page": 0, "x0": -1, "y0": .5, "x1": 2, "y1": .6}],
                         "第十五条")
    assert (row.x0, row.x1) == (0.0, 1.0)


def test_uploads_are_checked_by_content_and_images_become_pages(app, actx, stores):
    case = build_case("handling")
    with pytest.raises(ServiceError) as e:
        CR.add_document(case.id, user("handler"), b"not a pdf at all", "x.pdf", "伪装文件")
    assert e.value.field == "file"
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (1240, 1754), "white").save(buf, "PNG", dpi=(150, 150))
    doc = CR.add_document(case.id, user("handler"), buf.getvalue(), "scan.png", "扫描件")
    assert (doc.pages, doc.text_pages, doc.content_type) == (1, 0, "image/png")
    assert doc.pdf_sha256 != doc.original_sha256 and storage.exists(doc.pdf_sha256)
    assert CR.search(case.id, user("handler"), "合同") == []  # no text layer: nothing to search


def test_release_needs_approval_of_this_set(app, actx):
    case, doc = _marked_case()
    with pytest.raises(ServiceError):  # still being drafted
        CR.start_release(case.id, user("handler"))
    act(case, "handler", "save_draft", _partial_fields(case))
    act(case, "handler", "submit_draft")
    with pytest.raises(ServiceError):  # not approved
        CR.start_release(case.id, user("handler"))
    act(case, "legal", "approve", {"secrecy_reviewed": "y", "draft_hash": reload(case).current_draft.content_hash})
    case = reload(case)
    with pytest.raises(Forbidden):
        CR.start_release(case.id, user("clerk"))

    # A box changed behind the application's back (SQL): the set no longer matches the approval.
    db.session.execute(text("UPDATE redaction SET note = 'changed' WHERE id = :i"), {"i": R.boxes(case)[0].id})
    db.session.commit()
    with pytest.raises(ServiceError) as e:
        CR.start_release(case.id, user("handler"))
    assert "重新" in e.value.message
    before = snapshot(case.id)
    with pytest.raises(ServiceError) as e:  # nor signed: what was approved is not what would go out
        act(case, "head", "sign_off", {"note": "同意"})
    assert e.value.field == "redaction"
    assert snapshot(case.id) == before


def test_a_set_changed_after_the_release_was_asked_for_is_not_released(app, actx):
    case = _to_signoff(_marked_case()[0])
    rel = CR.start_release(case.id, user("handler"))
    db.session.execute(text("UPDATE redaction SET x1 = 0.99 WHERE id = :i"), {"i": R.boxes(case)[0].id})
    db.session.commit()
    background.run_pending()
    rel = db.session.get(Release, rel.id)
    assert rel.status == "failed" and rel.sha256 == ""


def test_released_copy_leaks_nothing_and_goes_out_with_the_reply(app, actx):
    case = _to_signoff(_marked_case()[0])
    assert SECRET_ID in extract(source_pdf())  # the check below can see the strings when they are there
    rel = CR.start_release(case.id, user("handler"))
    assert CR.start_release(case.id, user("legal")).id == rel.id  # asked twice: one release
    act(case, "head", "sign_off", {"note": "同意"})
    with pytest.raises(ServiceError) as e:  # not made yet
        act(reload(case), "handler", "issue")
    assert e.value.field == "redaction"
    assert background.run_pending() == 1
    rel = db.session.get(Release, rel.id)
    assert rel.status == "done" and rel.pages == 3 and rel.redacted_pages == 2
    pdf = CR.release_pdf(rel, user("handler"))
    text_out = extract(pdf)
    for secret in (SECRET_ID, SECRET_NAME, SECRET_MOBILE):
        assert secret not in text_out.replace(" ", "").replace("\n", "")
    assert KEPT in text_out  # the untouched page keeps its text
    reader = PdfReader(io.BytesIO(pdf))
    assert not reader.metadata and "/Metadata" not in reader.trailer["/Root"]
    assert case.number in reader.pages[2].extract_text()  # the margin stamp

    act(reload(case), "handler", "issue")
    case = reload(case)
    assert case.state == "replied"
    reply = next(lt for lt in case.letters if lt.notice_ref == "reply")
    reply_text = PdfReader(io.BytesIO(reply.pdf)).pages[-1].extract_text() + PdfReader(io.BytesIO(reply.pdf)).pages[0].extract_text()
    assert "删除处理版，共3页" in reply_text.replace("\n", "")

    assert R.issued_release(case).id == rel.id
    assert applicant.public_view(case, case.closed_on)["release"].id == rel.id
    assert applicant.applicant_release(case, rel.id).id == rel.id

    cf = build_casefile(case, user("archivist"))
    kinds = [(it.kind, it.title) for it in cf.items]
    assert ("release", "提供的信息（删除处理版）") in kinds and ("generated", "删除处理记录") in kinds
    assert SECRET_ID not in extract(cf.pdf).replace(" ", "")

    report = verify_all(user("admin"))
    assert report.checked["release"] == 1 and report.checked["source_document"] == 1 and not report.problems


def _issued_case() -> int:
    case = _to_signoff(_marked_case()[0])
    CR.start_release(case.id, user("handler"))
    background.run_pending()
    act(reload(case), "head", "sign_off", {"note": "同意"})
    act(reload(case), "handler", "issue")
    return case.id


def test_the_applicant_downloads_the_released_copy_from_the_status_page(app, web):
    from app.applicant.status import issue_query_code

    cid = web.run(_issued_case)
    def released():
        rel = R.issued_release(reload(cid))
        return rel.id, rel.case.number, rel.sha256
    rel_id, number, sha = web.run(released)
    url = f"/gk/DEMO/status/{cid}/released/{rel_id}.pdf"
    r = web.client.get(url)  # not looked up yet: back to the look-up form
    assert r.status_code == 302 and "/gk/DEMO/query" in r.location
    code = web.run(lambda: issue_query_code(user("clerk"), cid))
    assert web.client.post("/gk/DEMO/query", data={"number": number, "query_code": code}).status_code == 302
    page = web.get(f"/gk/DEMO/status/{cid}")
    assert "删除处理版" in page.by_id("released-package").text and "3页" in page.by_id("released-package").text
    r = web.client.get(url)
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert hashlib.sha256(r.data).hexdigest() == sha
    assert SECRET_ID not in extract(r.data).replace(" ", "")
    assert web.client.get(f"/gk/DEMO/status/{cid}/released/{rel_id + 1}.pdf").status_code == 404
