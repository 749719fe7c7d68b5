"""Scans get a text layer: Tesseract (chi_sim) runs in a background job per uploaded scan, the
case file lays the invisible text over the scan, and the catalogue says the text was recognised."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from app.casefile import attachments as A
from app.casefile import ocr
from app.casefile.assemble import build_casefile
from app.extensions import db
from app.models import OcrJob
from app.pdf.ocr import available
from tests.casefile.test_archive_pdfa import pdfa3b_violations
from tests.casefile.test_casefile_pdf import build_plain_case, text
from tests.conftest import user
from tests.factories import reload

pytestmark = pytest.mark.skipif(not available("chi_sim"), reason="tesseract-ocr-chi-sim is a system dependency")

LINES = ["政府信息公开申请表", "申请人：张三", "所需信息：征收补偿方案"]


def _cjk_face() -> str:
    """A CJK face from the letter font cache (the 黑体 prepared for the letters)."""
    from app.casefile.render import letter_font_dir

    directory = letter_font_dir()
    faces = [directory / "OGIHei.ttf"] if directory is not None else []
    faces += sorted(Path("instance/fonts").glob("*/OGIHei.ttf"))
    face = next((f for f in faces if f.exists()), None)
    if face is None:
        pytest.skip("no prepared letter fonts")
    return str(face)


def scan_image(fmt: str = "PNG") -> bytes:
    """A 'scanned' A5 form at 200 dpi: black Chinese text on slightly grey paper, no text layer."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(_cjk_face(), 64)
    im = Image.new("RGB", (1169, 1654), (246, 246, 242))
    d = ImageDraw.Draw(im)
    for k, line in enumerate(LINES):
        d.text((120, 200 + k * 140), line, font=font, fill=(20, 20, 20))
    buf = io.BytesIO()
    im.save(buf, fmt, dpi=(200, 200), **({"resolution": 200} if fmt == "PDF" else {}))
    return buf.getvalue()


def _words(s: str) -> str:
    return re.sub(r"\s+", "", s)


def test_uploaded_scans_are_queued_not_recognised_in_the_request(actx):
    case = build_plain_case()
    att = A.add_attachment(case.id, user("clerk"), scan_image(), "申请表.png", "application_form", "申请表")
    jobs = db.session.scalars(db.select(OcrJob).where(OcrJob.attachment_id == att.id)).all()
    assert [j.status for j in jobs] == ["queued"]


@pytest.mark.parametrize("fmt,ctype", [("PNG", "png"), ("PDF", "pdf")])
def test_the_case_file_is_searchable_in_the_recognised_text(actx, fmt, ctype):
    case = build_plain_case()
    data = scan_image(fmt)
    att = A.add_attachment(case.id, user("clerk"), data, f"申请表.{ctype}", "application_form", "申请表扫描件")
    # Without OCR the scan carries no text.
    cf = build_casefile(reload(case), None)
    it = next(i for i in cf.items if i.title == "申请表扫描件")
    page = PdfReader(io.BytesIO(cf.pdf)).pages[it.first_page - 1]
    assert "征收补偿" not in _words(page.extract_text())

    assert ocr.run_queued() == 1  # what the background thread runs
    job = db.session.scalars(db.select(OcrJob).where(OcrJob.attachment_id == att.id)).one()
    assert job.status == "done" and job.pages == "1" and job.chars > 10, job.error

    cf = build_casefile(reload(case), None)
    reader = PdfReader(io.BytesIO(cf.pdf))
    it = next(i for i in cf.items if i.title == "申请表扫描件")
    found = _words(reader.pages[it.first_page - 1].extract_text())
    for word in ("政府信息公开申请表", "张三", "征收补偿方案"):
        assert word in found, found
    catalogue = "".join(text(p) for p in reader.pages[1:it.first_page - 1])
    assert "（文字由OCR识别，仅供检索）" in catalogue
    assert pdfa3b_violations(cf.pdf) == []


def test_a_failed_recognition_is_recorded_and_the_scan_still_prints(actx, app):
    case = build_plain_case()
    att = A.add_attachment(case.id, user("clerk"), scan_image(), "申请表.png", "application_form", "申请表扫描件")
    job = db.session.scalars(db.select(OcrJob).where(OcrJob.attachment_id == att.id)).one()
    job.languages = "no_such_language"
    db.session.commit()
    ocr.run_queued()
    job = db.session.get(OcrJob, job.id)
    assert job.status == "failed" and job.error
    cf = build_casefile(reload(case), None)
    assert not any(it.meta.get("ocr") for it in cf.items)


def test_the_attachments_page_shows_the_recognition_status(web):
    from tests.casefile.conftest import scan_pdf
    from tests.casefile.test_uploads import _post
    from tests.factories import build_case

    case_id = web.run(lambda: build_case("handling").id)
    web.as_user("clerk")
    assert _post(web, case_id, web.run(scan_image), "申请表.png").status_code == 302
    assert _post(web, case_id, scan_pdf("送达回证"), "回证.pdf", "proof_of_service", "回证").status_code == 302
    html = web.client.get(f"/cases/{case_id}/attachments").get_data(as_text=True)
    assert html.count("排队等待识别") == 2
    web.run(ocr.run_queued)
    html = web.client.get(f"/cases/{case_id}/attachments").get_data(as_text=True)
    assert re.search(r"已识别（\d+ 字）", html) and "已含文字，无需识别" in html
