"""The printed case file: catalogue page ranges match the pages, every issued letter is inside
unchanged, page numbers run 1..N, each font is embedded once, filing order is a setting."""
from __future__ import annotations

import hashlib
import io
import re
import shutil
import subprocess
from datetime import datetime

import pytest
from pypdf import PdfReader

from app.casefile import attachments as A
from app.casefile.assemble import build_casefile
from app.extensions import db
from app.models import Letter
from tests.casefile.conftest import add_letter, ensure_reply_letter, jpeg_bytes, letter_pdf, png_bytes, scan_pdf
from tests.conftest import user
from tests.factories import (
    act,
    approve,
    deliver,
    issue,
    other_agency,
    register,
    reload,
    save_draft,
    to_correction,
    to_signed,
)


def rich_case():
    """A request with correction, third-party consultation, extension and a served reply, its
    issued letters and the usual scans."""
    case = register()
    to_correction(case)
    act(case, "handler", "receive_correction", {"received_on": "2026-11-06", "note": "补充了时间范围"})
    act(case, "handler", "consult", {"kind": "third_party", "party": "示范建设有限公司", "matter": "涉及商业秘密",
                                     "sent_on": "2026-11-09"})
    act(case, "handler", "consultation_reply", {"step_id": reload(case).steps[-1].id, "result": "agree",
                                                "answered_on": "2026-11-16"})
    act(case, "head", "extend", {"days": 10, "reason": "需要调取档案"})
    save_draft(case)
    act(case, "handler", "submit_draft")
    approve(case)
    to_signed(case)
    issue(case)
    deliver(case)
    case = reload(case)
    add_letter(case, "政府信息公开申请补正告知书", key="correction_notice", issued_at=datetime(2026, 11, 4, 2))
    add_letter(case, "政府信息公开申请征求意见书", key="consultation_third_party", issued_at=datetime(2026, 11, 9, 2))
    add_letter(case, "政府信息公开申请延期答复告知书", key="extension_notice", issued_at=datetime(2026, 11, 17, 2))
    ensure_reply_letter(case, pages=2)
    clerk = user("clerk")
    A.add_attachment(case.id, clerk, scan_pdf("申请表扫描件", 2), "申请表.pdf", "application_form",
                     "政府信息公开申请表")
    A.add_attachment(case.id, clerk, png_bytes(size=(300, 200)), "身份证.png", "identity", "申请人身份证复印件")
    A.add_attachment(case.id, clerk, jpeg_bytes(size=(200, 300)), "回证.jpg", "proof_of_service", "送达回证")
    A.add_attachment(case.id, user("handler"), scan_pdf("第三方确认函扫描件"), "确认函.pdf", "third_party_reply",
                     "示范建设有限公司确认函")
    return reload(case)


STAMP_FONTS = {"PAGENO": "page", "SLOTNO": "slot"}  # subset tags of the embedded stamp fonts


def stamps(page) -> list[tuple[str, str, float, float]]:
    """Text drawn in the embedded fonts the assembler stamps with: ("page"|"slot", text, x, y)."""
    out = []

    def visit(text, cm, tm, font, size):
        tag = str(font.get("/BaseFont", "/"))[1:].split("+")[0] if font is not None else ""
        if text.strip() and tag in STAMP_FONTS:
            out.append((STAMP_FONTS[tag], text.strip(), tm[4], tm[5]))
    page.extract_text(visitor_text=visit)
    return out


def page_numbers(reader) -> list[str]:
    return [" ".join(t for f, t, _x, _y in stamps(p) if f == "page") for p in reader.pages]


def slot_texts(page) -> list[str]:
    rows = [(y, x, t) for f, t, x, y in stamps(page) if f == "slot"]
    return [t for _y, _x, t in sorted(rows, key=lambda r: (-r[0], r[1]))]


def catalogue_ranges(reader, n_items: int) -> list[tuple[int, int]]:
    ranges: list[str] = []
    for page in reader.pages[1:]:
        ranges += slot_texts(page)
        if len(ranges) >= n_items:
            break
    out = []
    for r in ranges[:n_items]:
        a, _, b = r.partition("-")
        out.append((int(a), int(b or a)))
    return out


def text(page) -> str:
    return re.sub(r"\s+", "", page.extract_text())


@pytest.fixture
def built(actx):
    case = rich_case()
    cf = build_casefile(case, user("archivist"))
    return case, cf, PdfReader(io.BytesIO(cf.pdf))


def test_page_numbers_are_stamped_one_to_n(built):
    _case, cf, reader = built
    assert page_numbers(reader) == [str(i) for i in range(1, len(reader.pages) + 1)]
    assert cf.pages == len(reader.pages)


def test_cover_and_notes_state_the_number_of_pages(built):
    case, _cf, reader = built
    n = str(len(reader.pages))
    cover = reader.pages[0]
    assert "办理案卷" in cover.extract_text() and case.number in cover.extract_text()
    assert slot_texts(cover) == [n]
    notes = reader.pages[-1]
    assert "卷内备考表" in notes.extract_text() and "立卷人：刘档案" in notes.extract_text()
    assert slot_texts(notes) == [n]


def test_catalogue_page_ranges_match_the_pages(built):
    case, cf, reader = built
    items = cf.items
    ranges = catalogue_ranges(reader, len(items))
    assert len(ranges) == len(items)
    catalogue_text = "".join(text(p) for p in reader.pages[1:ranges[0][0] - 1])
    assert "卷内目录" in catalogue_text
    # Contiguous: the first item follows the catalogue, the last one is followed by the 备考表.
    for (a1, b1), (a2, _b2) in zip(ranges, ranges[1:]):
        assert a2 == b1 + 1
    assert ranges[-1][1] == len(reader.pages) - 1
    pages = reader.pages
    for it, (a, b) in zip(items, ranges):
        assert it.title.replace(" ", "") in catalogue_text
        first = text(pages[a - 1])
        if it.kind == "letter":
            assert it.letter.number in first and it.letter.title in first
            own = PdfReader(io.BytesIO(it.letter.pdf)).pages
            assert b - a + 1 == len(own)
            for k, p in enumerate(own):
                assert text(p) in text(pages[a - 1 + k])  # the letter's own page, imported
        elif it.kind == "generated":
            heading = {"approval": "政府信息公开申请答复审批单", "service": "送达记录",
                       "timeline": "办理过程记录"}[it.section]
            assert first.startswith(heading) or heading in first[:40]
        elif it.attachment.content_type == "application/pdf":
            n = it.attachment.pages
            assert b - a + 1 == n
            assert "第1页" in first and f"第{n}页" in text(pages[b - 1])
        else:
            assert a == b
            xobjects = pages[a - 1]["/Resources"]["/XObject"]
            assert "/Scan" in xobjects and xobjects["/Scan"]["/Subtype"] == "/Image"
            assert first.isdigit()  # nothing but the page number


def test_every_issued_letter_is_embedded_unchanged(built):
    case, cf, reader = built
    embedded = {name: data for name, datas in reader.attachments.items() for data in datas}
    digests = {hashlib.sha256(d).hexdigest() for d in embedded.values()}
    assert digests == {letter.sha256 for letter in case.letters} and len(digests) >= 4
    for letter in case.letters:
        assert embedded[f"{letter.number} {letter.title}.pdf"] == letter.pdf  # named for people, too
        assert letter.pdf in cf.pdf  # stored uncompressed: the very bytes are in the file


def test_each_font_is_embedded_once(built):
    _case, _cf, reader = built
    programs: dict[str, set[int]] = {}
    for page in reader.pages:
        for _name, font in page["/Resources"].get("/Font", {}).items():
            font = font.get_object()
            if font.get("/Subtype") != "/Type0":
                continue
            desc = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
            key = next(k for k in ("/FontFile", "/FontFile2", "/FontFile3") if k in desc)
            base = str(font["/BaseFont"]).split("+", 1)[-1]
            programs.setdefault(base, set()).add(desc.raw_get(key).idnum)
    assert "Noto-Serif-CJK-SC" in programs
    assert all(len(ids) == 1 for ids in programs.values()), programs


def test_letter_pages_print_as_they_did(built, tmp_path):
    """The merged fonts draw the same glyphs: rasterised, a letter page and its copy in the case
    file differ only in the archive page number stamped in the top margin."""
    from PIL import Image, ImageChops

    assert shutil.which("pdftoppm"), "poppler-utils (pdftoppm) is a system dependency (make system-deps)"
    _case, cf, reader = built
    it = next(i for i in cf.items if i.kind == "letter")  # the reply: rendered by the letters engine if present
    (tmp_path / "letter.pdf").write_bytes(it.letter.pdf)
    (tmp_path / "file.pdf").write_bytes(cf.pdf)
    for k in range(min(2, it.pages)):
        subprocess.run(["pdftoppm", "-r", "60", "-gray", "-f", str(k + 1), "-l", str(k + 1), "-singlefile",
                        str(tmp_path / "letter.pdf"), str(tmp_path / "a")], check=True)
        p = it.first_page + k
        subprocess.run(["pdftoppm", "-r", "60", "-gray", "-f", str(p), "-l", str(p), "-singlefile",
                        str(tmp_path / "file.pdf"), str(tmp_path / "b")], check=True)
        a, b = Image.open(tmp_path / "a.pgm"), Image.open(tmp_path / "b.pgm")
        assert a.size == b.size
        top = int(a.size[1] * 25 / 297)  # the stamp sits 8 mm from the top edge
        box = (0, top, a.size[0], a.size[1])
        diff = ImageChops.difference(a.crop(box), b.crop(box)).point(lambda v: 255 if v > 64 else 0)
        assert diff.getbbox() is None
        assert a.crop(box).getbbox() is not None  # there is text to compare


def test_dat22_order_puts_the_reply_first_and_the_application_last(built):
    _case, cf, _reader = built
    kinds = [(it.group, it.title) for it in cf.items]
    assert kinds[0] == ("reply", "政府信息公开申请答复书")
    assert kinds[1] == ("approval", "政府信息公开申请答复审批单")
    groups = [g for g, _t in kinds]
    assert groups.index("service") < groups.index("extension") < groups.index("consultation") \
        < groups.index("correction") < groups.index("application")
    assert kinds[-3:] == [("application", "政府信息公开申请表"), ("application", "申请人身份证复印件"),
                          ("appendix", "办理过程记录")]


def test_chronological_order_is_a_setting(app, actx):
    case = rich_case()
    cf = build_casefile(case, user("archivist"), order="chronological")
    titles = [it.title for it in cf.items]
    assert titles[:2] == ["政府信息公开申请表", "申请人身份证复印件"]
    assert titles.index("政府信息公开申请补正告知书") < titles.index("政府信息公开申请征求意见书") \
        < titles.index("政府信息公开申请延期答复告知书") < titles.index("政府信息公开申请答复书")
    assert titles[-1] == "办理过程记录"
    app.config["CASEFILE_ORDER"] = "chronological"
    assert [it.title for it in build_casefile(reload(case), None).items] == titles
    assert build_casefile(reload(case), None, order="dat22").items[0].title == "政府信息公开申请答复书"


def test_timeline_appendix_lists_the_audit_events(built):
    case, cf, reader = built
    it = next(i for i in cf.items if i.section == "timeline")
    appendix = "".join(text(reader.pages[p - 1]) for p in range(it.first_page, it.last_page + 1))
    for label in ("登记申请", "发出补正告知", "征求意见", "批准延期答复", "审核通过", "签发", "出具答复", "登记送达",
                  "上传附件"):
        assert label in appendix
    assert "EMS1100000000" in appendix


def test_case_without_documents_still_prints(actx):
    case = register()
    act(case, "clerk", "withdraw", {"note": "申请人书面撤回"})
    cf = build_casefile(reload(case), user("archivist"))
    reader = PdfReader(io.BytesIO(cf.pdf))
    assert page_numbers(reader) == [str(i) for i in range(1, len(reader.pages) + 1)]
    assert [it.title for it in cf.items] == ["办理过程记录"]
    assert "申请人撤回申请" in reader.pages[0].extract_text()
    assert reader.attachments == {} or len(reader.attachments) == 0


def plain_pdf(line: str) -> bytes:
    """A one-page PDF whose text is set in a standard 14 font (no embedded font program)."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    w = PdfWriter()
    page = w.add_blank_page(595, 842)
    content = DecodedStreamObject()
    content.set_data(f"BT /F1 14 Tf 100 700 Td ({line}) Tj ET".encode())
    page[NameObject("/Contents")] = w._add_object(content)
    page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject({
        NameObject("/F1"): w._add_object(DictionaryObject({
            NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Courier")}))})})
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


def test_a_letter_whose_fonts_cannot_be_merged_keeps_its_own(actx):
    case = build_plain_case()
    letter = add_letter(case, "政府信息公开申请延期答复告知书", key="extension_notice",
                        pdf=plain_pdf("Reply in Courier 42"))
    cf = build_casefile(reload(case), None)
    reader = PdfReader(io.BytesIO(cf.pdf))
    assert page_numbers(reader) == [str(i) for i in range(1, len(reader.pages) + 1)]
    it = next(i for i in cf.items if i.letter is not None and i.letter.id == letter.id)
    assert "Reply in Courier 42" in reader.pages[it.first_page - 1].extract_text()
    assert cf.fonts["kept"] == 1


def build_plain_case():
    from tests.factories import build_case
    return build_case("delivered")


# ------------------------------------------------------------------ the route

@pytest.mark.parametrize("username,status", [("clerk", 403), ("handler", 403), ("handler2", 403), ("legal", 403),
                                             ("head", 200), ("archivist", 200), ("admin", 200)])
def test_casefile_route_roles(web, username, status):
    case_id = web.run(lambda: build_plain_case().id)
    web.as_user(username)
    r = web.client.get(f"/cases/{case_id}/casefile.pdf")
    assert r.status_code == status
    if status == 200:
        assert r.mimetype == "application/pdf" and r.data.startswith(b"%PDF-")
        assert "filename*=UTF-8''" in r.headers["Content-Disposition"]


def test_casefile_route_needs_login_same_agency_and_a_known_order(web):
    case_id = web.run(lambda: build_plain_case().id)
    assert web.client.get(f"/cases/{case_id}/casefile.pdf").status_code == 302
    web.run(other_agency)
    web.as_user("other_archivist")
    assert web.client.get(f"/cases/{case_id}/casefile.pdf").status_code == 404
    web.as_user("archivist")
    assert web.client.get(f"/cases/{case_id}/casefile.pdf?order=random").status_code == 400
    r = web.client.get(f"/cases/{case_id}/casefile.pdf?order=chronological")
    assert r.status_code == 200
    assert page_numbers(PdfReader(io.BytesIO(r.data)))[0] == "1"
    assert web.client.get("/cases/999999/casefile.pdf").status_code == 404


def test_missing_or_unreadable_files_get_a_page_saying_so(actx, stores):
    case = build_plain_case()
    add_letter(case, "政府信息公开申请补正告知书", key="correction_notice", pdf=b"%PDF-1.7\nnot really a PDF")
    att = A.add_attachment(case.id, user("clerk"), png_bytes(), "a.png", "identity", "身份证复印件")
    from app.services import storage
    storage.path_for(att.sha256).unlink()  # lost from the store
    cf = build_casefile(reload(case), None)
    reader = PdfReader(io.BytesIO(cf.pdf))
    assert page_numbers(reader) == [str(i) for i in range(1, len(reader.pages) + 1)]
    by_title = {it.title: it for it in cf.items}
    bad = by_title["政府信息公开申请补正告知书"]
    assert bad.note == "文件无法读取" and "该文件无法读取" in reader.pages[bad.first_page - 1].extract_text()
    lost = by_title["身份证复印件"]
    assert lost.note == "文件缺失" and "该文件在存储中缺失" in reader.pages[lost.first_page - 1].extract_text()


def test_files_changed_since_they_were_stored_are_not_printed(actx, stores):
    from app.services import storage
    from tests.conftest import triggers_off

    case = build_plain_case()
    letter = add_letter(case, "政府信息公开申请补正告知书", key="correction_notice")
    att = A.add_attachment(case.id, user("clerk"), png_bytes(), "a.png", "identity", "身份证复印件")
    forged = letter_pdf("政府信息公开申请补正告知书", "伪造〔2026〕9号")
    with triggers_off("letter"):
        db.session.execute(db.update(Letter).where(Letter.id == letter.id).values(pdf=forged))
    db.session.commit()
    storage.path_for(att.sha256).write_bytes(png_bytes(color=(0, 0, 0)))
    cf = build_casefile(reload(case), None)
    reader = PdfReader(io.BytesIO(cf.pdf))
    by_title = {it.title: it for it in cf.items}
    for title in ("政府信息公开申请补正告知书", "身份证复印件"):
        it = by_title[title]
        assert it.note == "校验不符" and "与登记的校验值不符" in reader.pages[it.first_page - 1].extract_text()
    assert "伪造" not in "".join(p.extract_text() for p in reader.pages)
    embedded = [d for ds in reader.attachments.values() for d in ds]
    assert letter.pdf in embedded  # the stored bytes are kept in the file all the same
