"""Letters in the UI: draft previews, stored PDFs, step notices, agency settings and wording."""
import hashlib
import io
import subprocess

from PIL import Image

from app.extensions import db
from app.models import Agency, Letter
from tests.factories import build_case, reload


def text(data: bytes) -> str:
    return subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()


def test_reply_preview_is_marked_draft_and_issued_pdf_is_the_stored_bytes(web):
    case_id = web.run(lambda: build_case("review").id)
    web.as_user("legal")
    r = web.client.get(f"/cases/{case_id}/reply-preview.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert "草稿" in text(r.data)
    case_id = web.run(lambda: build_case("replied").id)
    letter_id, sha = web.run(lambda: tuple(db.session.execute(
        db.select(Letter.id, Letter.sha256).where(Letter.case_id == case_id)).one()))
    web.as_user("archivist")
    page = web.get(f"/cases/{case_id}")
    assert "示自然资规公开〔2026〕" in page.html
    r = web.client.get(f"/cases/{case_id}/letters/{letter_id}.pdf")
    assert r.status_code == 200 and hashlib.sha256(r.data).hexdigest() == sha
    assert "草稿" not in text(r.data)


def test_correction_notice_issued_from_the_case_page(web):
    case_id = web.run(lambda: build_case("correction").id)
    web.as_user("handler")
    page = web.get(f"/cases/{case_id}")
    step_id = web.run(lambda: reload(case_id).steps[0].id)
    assert f"issue-notice-step-{step_id}" in page.html
    r = web.client.post(f"/cases/{case_id}/notices/step-{step_id}/issue")
    assert r.status_code == 302
    nums = web.run(lambda: [l.number for l in db.session.scalars(db.select(Letter).where(Letter.case_id == case_id))])
    assert nums == ["示自然资规公开〔2026〕1号"]
    web.as_user("archivist")
    assert web.client.post(f"/cases/{case_id}/notices/step-{step_id}/issue").status_code == 403


def _png(mode: str) -> bytes:
    buf = io.BytesIO()
    Image.new(mode, (60, 60), (200, 0, 0, 128) if mode == "RGBA" else (200, 0, 0)).save(buf, "PNG")
    return buf.getvalue()


def test_agency_settings_validate_pattern_and_seal(web):
    web.as_user("admin")
    base = {"name": "示范市自然资源和规划局", "doc_code": "示自然资规公开", "reconsideration_body": "示范市人民政府",
            "court": "示范市示范区人民法院", "address": "", "phone": ""}
    r = web.client.post("/admin/agency", data={**base, "number_pattern": "{code}〔{year}〕号"})
    assert r.status_code == 400 and "序号" in r.get_data(as_text=True)
    assert "{code}〔{year}〕号" in r.get_data(as_text=True)  # what was typed is kept
    r = web.client.post("/admin/agency", data={**base, "number_pattern": "{code}〔{year}〕第{seq}号",
                                               "seal_png": (io.BytesIO(_png("RGB")), "seal.png")},
                        content_type="multipart/form-data")
    assert r.status_code == 400 and "透明" in r.get_data(as_text=True)
    r = web.client.post("/admin/agency", data={**base, "number_pattern": "{code}〔{year}〕第{seq}号",
                                               "seal_png": (io.BytesIO(_png("RGBA")), "seal.png")},
                        content_type="multipart/form-data")
    assert r.status_code == 302
    agency = web.run(lambda: tuple(db.session.execute(
        db.select(Agency.number_pattern, Agency.seal_png).where(Agency.code == "DEMO")).one()))
    assert agency[0] == "{code}〔{year}〕第{seq}号" and agency[1].startswith(b"\x89PNG")
    web.as_user("handler")
    assert web.client.get("/admin/agency").status_code == 403


def test_broken_template_wording_is_refused_with_its_line(web):
    web.as_user("admin")
    r = web.client.post("/admin/letter-templates/reply_disclose", data={"source": "第一行\n{% if %}\n"})
    body = r.get_data(as_text=True)
    assert r.status_code == 400 and "第2行" in body
    assert web.client.get("/admin/letter-templates").status_code == 200


def test_uploaded_seal_is_stored_at_printed_size_and_never_printed_on_previews(web):
    from tests.letters.support import image_xobjects
    from tests.seals import scanned_seal

    web.as_user("admin")
    base = {"name": "示范市自然资源和规划局", "doc_code": "示自然资规公开", "reconsideration_body": "示范市人民政府",
            "court": "示范市示范区人民法院", "address": "", "phone": "", "number_pattern": "{code}〔{year}〕{seq}号"}
    r = web.client.post("/admin/agency", data={**base, "seal_png": (io.BytesIO(scanned_seal(600)), "seal.png")},
                        content_type="multipart/form-data")
    assert r.status_code == 302
    stored = web.run(lambda: db.session.scalar(db.select(Agency.seal_png).where(Agency.code == "DEMO")))
    img = Image.open(io.BytesIO(stored))
    assert max(img.size) <= 496 and img.mode == "RGBA"
    case_id = web.run(lambda: build_case("review").id)
    web.as_user("legal")
    for path in (f"/cases/{case_id}/reply-preview.pdf", f"/cases/{case_id}/notices/receipt.pdf"):
        r = web.client.get(path)
        assert r.status_code == 200, path
        assert image_xobjects(r.data) == [] and "草稿" in text(r.data), path
    case_id = web.run(lambda: build_case("replied").id)
    pdf = web.run(lambda: db.session.scalar(db.select(Letter.pdf).where(Letter.case_id == case_id)))
    assert len(image_xobjects(pdf)) == 1
