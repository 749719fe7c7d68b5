"""The redaction engine (app/pdf/redact.py) on real PDFs made by WeasyPrint: boxes found by text
search and by the personal-data patterns cover the text (checked with pdfium's own page ↔ device
mapping, not ours), and the released copy leaks nothing under a box nor anything the source
carried besides its pages (metadata, attachments, annotations, scripts, older revisions)."""
from __future__ import annotations

import ctypes
import io
import zlib
from functools import lru_cache

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf.annotations import Text
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NumberObject,
    RectangleObject,
    StreamObject,
    TextStringObject,
)

from app.pdf.redact import (
    RENDER_MEDIA_TYPE,
    Box,
    find_personal_data,
    find_text,
    inspect,
    page_count,
    release,
    render_page,
)

pytestmark = pytest.mark.no_db

ID, MOBILE, ADDRESS = "11010519491231002X", "13812345678", "示范市幸福路8号"
STAMP_TEXT = "依申请公开 · 清建信〔2026〕-0012"
# Markers the source carries outside its pages (letters and digits: a byte search finds them,
# pypdf escapes a hyphen in a string).
HIDDEN = ["SECRETMETADATA9", "SECRETANNOTATION7", "SECRETATTACHMENT8", "SECRETSCRIPT10", "SECRETOUTLINE11",
          "SECRETOLDREVISION12"]
CSS = """@page { size: A4; margin: 20mm } @page wide { size: A4 landscape; margin: 20mm }
body { font-family: "Noto Serif CJK SC"; font-size: 12pt; line-height: 1.8 } p { margin: 0 0 6pt }
section { break-after: page } .wide { page: wide }"""
FILLER = "根据《中华人民共和国政府信息公开条例》第三十七条的规定，能够作区分处理的，应当提供可以公开的内容。"
PAGES = [
    # 0: redacted (personal data, a Latin word, a name wrapped over two lines)
    f"<p>申请人张三，身份证号码{ID}，手机{MOBILE}，住址：{ADDRESS}。Confidential memo about Zeppelin.</p>"
    f"<p>{FILLER * 2}甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥</p>",
    # 1: untouched
    "<p>本页公开：示范区旧城改造项目征收补偿方案已经批准。Public notice, nothing to hide.</p>",
    # 2: redacted, landscape page drawn rotated with /Rotate 90 and a CropBox not at the origin
    f"<p>联系电话：{MOBILE}。The Zeppelin report, page three.</p><p>{FILLER}</p>",
    # 3: untouched, the same kind of page, /Rotate 270
    "<p>横向页面，公开内容。Landscape public page.</p>",
]
REDACTED = [0, 2]
SECRETS = [ID, MOBILE, ADDRESS, "Zeppelin"]


def html_pdf(pages: list[str], wide: set[int] = frozenset()) -> bytes:
    from weasyprint import CSS as WCSS
    from weasyprint import HTML

    body = "".join(f"<section class='{'wide' if i in wide else ''}'>{p}</section>" for i, p in enumerate(pages))
    return HTML(string=f"<html><body>{body}</body></html>").write_pdf(stylesheets=[WCSS(string=CSS)])


def to_bytes(writer: PdfWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def turn(page, rotate: int) -> None:
    """Draw the page's content turned in a portrait MediaBox, and /Rotate it back upright."""
    page.rotate((360 - rotate) % 360)
    page.transfer_rotation_to_content()
    page.rotation = rotate


@lru_cache(maxsize=1)
def source_pdf() -> bytes:
    """Four pages (two rotated, one cropped) with metadata, an attachment, annotations, an opening
    script and outline; then an incremental update that removes a fifth page."""
    writer = PdfWriter(clone_from=io.BytesIO(html_pdf(PAGES + ["<p>旧版本的第五页</p>"], {2, 3})))
    turn(writer.pages[2], 90)
    turn(writer.pages[3], 270)
    box = writer.pages[2].mediabox
    writer.pages[2].cropbox = RectangleObject((box.left + 12, box.bottom + 20, box.right - 8, box.top - 16))
    writer.add_metadata({"/Author": "SECRETMETADATA9", "/Title": "内部文件", "/Subject": "SECRETOLDREVISION12"})
    writer.add_attachment("secret.txt", b"SECRETATTACHMENT8")
    for page in (0, 1):
        writer.add_annotation(page, Text(rect=(60, 500, 200, 560), text="SECRETANNOTATION7"))
    writer._root_object[NameObject("/OpenAction")] = DictionaryObject({
        NameObject("/S"): NameObject("/JavaScript"),
        NameObject("/JS"): TextStringObject("app.alert('SECRETSCRIPT10')")})
    writer.add_outline_item(title="SECRETOUTLINE11", page_number=0)
    first = to_bytes(writer)
    update = PdfWriter(io.BytesIO(first), incremental=True)
    update.remove_page(4)
    update.add_metadata({"/Subject": "新版本"})  # the old /Info stays in the file, in the first revision
    return to_bytes(update)


@lru_cache(maxsize=1)
def stamp_pdf() -> bytes:
    from weasyprint import CSS as WCSS
    from weasyprint import HTML

    html = f"<p style='margin:0;font:10pt \"Noto Serif CJK SC\";text-align:center'>{STAMP_TEXT}</p>"
    page = "@page { size: 150mm 6mm; margin: 0 } body { margin: 0 }"
    return HTML(string=html).write_pdf(stylesheets=[WCSS(string=page)])


def boxes_for(pdf: bytes) -> list[Box]:
    hits = find_personal_data(pdf) + find_text(pdf, "zeppelin")
    return [b for h in hits for b in h.boxes]


@lru_cache(maxsize=1)
def released():
    return release([(source_pdf(), boxes_for(source_pdf()))], stamp=stamp_pdf())


# ------------------------------------------------------------------ oracles: pdfium's own mapping

def _device_to_page(page, size: tuple[int, int], x: float, y: float) -> tuple[float, float]:
    px, py = ctypes.c_double(), ctypes.c_double()
    pdfium_c.FPDF_DeviceToPage(page, 0, 0, size[0], size[1], 0, round(x), round(y), px, py)
    return px.value, py.value


def _page_to_device(page, size: tuple[int, int], x: float, y: float) -> tuple[int, int]:
    dx, dy = ctypes.c_int(), ctypes.c_int()
    pdfium_c.FPDF_PageToDevice(page, 0, 0, size[0], size[1], 0, x, y, dx, dy)
    return dx.value, dy.value


def text_under(pdf: bytes, box: Box) -> str:
    """The text pdfium finds inside the box, the box taken back to PDF space by pdfium."""
    with pdfium.PdfDocument(pdf) as doc:
        page = doc[box.page]
        w, h = page.get_size()
        size = (round(w * 100), round(h * 100))  # a virtual device of 1/100 pt
        (x0, y0), (x1, y1) = (_device_to_page(page, size, box.x0 * size[0], box.y0 * size[1]),
                              _device_to_page(page, size, box.x1 * size[0], box.y1 * size[1]))
        text = page.get_textpage().get_text_bounded(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
    return "".join(text.split())


def glyph_rects(pdf: bytes, page_no: int, needle: str, width_px: int) -> list[tuple[int, int, int, int]]:
    """Device rectangles (at ``width_px``) of every glyph of every occurrence of ``needle``."""
    rects = []
    with pdfium.PdfDocument(pdf) as doc:
        page = doc[page_no]
        w, h = page.get_size()
        size = (width_px, round(width_px * h / w))
        tp = page.get_textpage()
        index = [i for i in range(tp.count_chars()) if not chr(pdfium_c.FPDFText_GetUnicode(tp, i)).isspace()]
        chars = "".join(chr(pdfium_c.FPDFText_GetUnicode(tp, i)) for i in index)  # lines joined
        at = chars.find(needle)
        while at >= 0:
            for i in index[at:at + len(needle)]:
                left, bottom, right, top = tp.get_charbox(i)
                xs, ys = zip(*(_page_to_device(page, size, x, y) for x in (left, right) for y in (bottom, top)))
                rects.append((min(xs), min(ys), max(xs), max(ys)))
            at = chars.find(needle, at + 1)
    return rects


def render(pdf: bytes, page: int, width_px: int) -> Image.Image:
    return Image.open(io.BytesIO(render_page(pdf, page, width_px))).convert("L")


def pixels(image: Image.Image, box: Box, inset: int = 0) -> list[int]:
    x0, y0 = round(box.x0 * image.width) + inset, round(box.y0 * image.height) + inset
    x1, y1 = round(box.x1 * image.width) - inset, round(box.y1 * image.height) - inset
    return list(image.crop((x0, y0, x1, y1)).tobytes())


# ------------------------------------------------------------------ oracles: what a file holds

def all_text(pdf: bytes) -> str:
    """The whole file's text as pypdf and as pdfium extract it, whitespace removed."""
    texts = [page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages]
    with pdfium.PdfDocument(pdf) as doc:
        texts += [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
    return "".join("".join(texts).split())


def raw_bytes(pdf: bytes) -> bytes:
    """The file with every Flate stream inflated (where the ASCII markers would hide)."""
    out, data = [pdf], pdf
    for part in data.split(b"stream")[1:]:
        body = part.lstrip(b"\r\n")
        try:
            out.append(zlib.decompressobj().decompress(body))
        except zlib.error:
            pass
    return b"".join(out)


def objects(reader: PdfReader) -> tuple[set[int], set[int]]:
    """Object numbers in the cross-reference table, and those reachable from the trailer."""
    listed = {n for gen in reader.xref.values() for n in gen} | set(reader.xref_objStm)
    reached, stack = set(), [reader.trailer]
    while stack:
        obj = stack.pop()
        if isinstance(obj, IndirectObject):
            if obj.idnum in reached:
                continue
            reached.add(obj.idnum)
            obj = obj.get_object()
        if isinstance(obj, dict):
            stack += [obj.raw_get(k) for k in obj]
        elif isinstance(obj, list):
            stack += list(obj)
    return listed, reached


def assert_no_leak(pdf: bytes, secrets: list[str]) -> None:
    """Nothing covered extracts, nothing besides the pages survives: the check every release passes."""
    text = all_text(pdf)
    assert [s for s in secrets if s in text] == []
    raw = raw_bytes(pdf)
    assert [m for m in HIDDEN if m.encode() in raw] == []
    reader = PdfReader(io.BytesIO(pdf))
    root = reader.trailer["/Root"]
    assert not reader.trailer.get("/Info") or not dict(reader.metadata or {})
    assert {"/Metadata", "/Names", "/OpenAction", "/AcroForm", "/Outlines", "/AA"}.isdisjoint(root)
    assert all("/Annots" not in page and "/AA" not in page for page in reader.pages)
    listed, reached = objects(reader)
    assert listed - reached == set(), "objects no page reaches (an older revision, a dropped annotation)"
    assert pdf.count(b"%%EOF") == 1 and pdf.count(b"startxref") == 1


def content(page) -> bytes:
    c = page.get_contents()
    return c.get_data() if c is not None else b""


def xobject_names(page) -> list[str]:
    return list(page.get("/Resources", {}).get("/XObject", {}).keys())


# ------------------------------------------------------------------ pages and the page view

def test_the_source_is_what_the_tests_need():
    src = source_pdf()
    assert src.count(b"%%EOF") == 2  # an incremental update
    assert page_count(src) == 4
    reader = PdfReader(io.BytesIO(src))
    assert [int(p.get("/Rotate", 0)) for p in reader.pages] == [0, 0, 90, 270]
    assert reader.pages[2].cropbox != reader.pages[2].mediabox


def test_inspect_gives_the_displayed_size_and_the_text_layer():
    info = inspect(source_pdf())
    a4 = (595.28, 841.89)
    assert [(round(p.width, 2), round(p.height, 2)) for p in info[:2]] == [a4, a4]
    assert (round(info[2].width), round(info[2].height)) == (round(a4[1]) - 36, round(a4[0]) - 20)  # cropped
    assert (round(info[3].width, 2), round(info[3].height, 2)) == (a4[1], a4[0])
    assert all(p.has_text for p in info)
    writer = PdfWriter()
    writer.add_blank_page(200, 300)
    assert inspect(to_bytes(writer))[0].has_text is False


def test_render_page_is_a_png_of_the_page_as_displayed():
    assert RENDER_MEDIA_TYPE == "image/png"
    png = render_page(source_pdf(), 2, 1100)
    assert png.startswith(b"\x89PNG")
    image = Image.open(io.BytesIO(png))
    info = inspect(source_pdf())[2]
    assert image.width == 1100 and abs(image.height - 1100 * info.height / info.width) <= 1
    assert image.width > image.height  # the landscape page stands as displayed


def test_render_page_draws_no_annotation():
    plain = PdfWriter()
    plain.add_blank_page(200, 200)
    annotated = PdfWriter()
    annotated.add_blank_page(200, 200)
    annotated.add_annotation(0, Text(rect=(20, 20, 180, 180), text="note"))
    assert render_page(to_bytes(plain), 0, 300) == render_page(to_bytes(annotated), 0, 300)


# ------------------------------------------------------------------ search and suggestions

@pytest.mark.parametrize("page, needle", [(0, "Zeppelin"), (0, ID), (0, "张三"), (2, "Zeppelin"), (2, MOBILE),
                                          (3, "Landscape public page"), (3, "横向页面")])
def test_found_boxes_cover_the_text_on_plain_and_rotated_pages(page, needle):
    hits = [h for h in find_text(source_pdf(), needle) if h.page == page]
    assert len(hits) == 1
    (hit,) = hits
    assert hit.kind == "search" and "".join(hit.text.split()).lower() == "".join(needle.split()).lower()
    assert "".join(needle.split()) in "".join(text_under(source_pdf(), b) for b in hit.boxes)
    for b in hit.boxes:
        assert 0 <= b.x0 < b.x1 <= 1 and 0 <= b.y0 < b.y1 <= 1 and b.page == page
        assert len(text_under(source_pdf(), b)) <= len(needle) + 2  # the box hugs the text


def test_search_ignores_case_and_finds_every_occurrence():
    hits = find_text(source_pdf(), "ZEPPELIN")
    assert sorted(h.page for h in hits) == [0, 2]
    assert {h.text for h in hits} == {"Zeppelin"}
    assert find_text(source_pdf(), "zeppelin", limit=1) == hits[:1]
    assert find_text(source_pdf(), "   ") == [] and find_text(source_pdf(), "不存在的词") == []


def test_a_hit_across_a_line_break_gives_a_box_on_each_line():
    with pdfium.PdfDocument(source_pdf()) as doc:
        lines = doc[0].get_textpage().get_text_range().split("\r\n")
    flat = "".join(lines)
    needle = next(a[-3:] + b[:3] for a, b in zip(lines, lines[1:]) if flat.count(a[-3:] + b[:3]) == 1)
    (hit,) = find_text(source_pdf(), needle)
    assert len(hit.boxes) == 2 and hit.boxes[0].y1 <= hit.boxes[1].y0
    assert needle[:3] in text_under(source_pdf(), hit.boxes[0])
    assert needle[3:] in text_under(source_pdf(), hit.boxes[1])


def test_personal_data_found_with_kind_label_and_boxes():
    hits = find_personal_data(source_pdf())
    found = [(h.page, h.kind, h.label, h.text) for h in hits]
    assert (0, "id_number", "身份证号码", ID) in found
    assert (0, "mobile", "手机号码", MOBILE) in found
    assert (0, "address", "住址", ADDRESS) in found
    assert (2, "mobile", "手机号码", MOBILE) in found
    assert {h.page for h in hits} == {0, 2}
    for h in hits:
        assert h.text in "".join(text_under(source_pdf(), b) for b in h.boxes)


def test_an_address_wrapped_to_the_next_line_is_found_whole():
    pdf = html_pdf(["<p style='width: 120mm'>" + "申请人陈述其家庭住址：示范市幸福路8号幸福小区3单元502室，" * 2 + "</p>"])
    texts = {h.text for h in find_personal_data(pdf) if h.kind == "address"}
    assert texts == {"示范市幸福路8号幸福小区3单元502室"}
    assert any(len(h.boxes) == 2 for h in find_personal_data(pdf))  # one of the two wraps


# ------------------------------------------------------------------ the released copy

def test_the_leak_check_flags_the_source():
    """assert_no_leak would fail a release that leaked: it fails the source itself, for every
    kind of leak it looks for."""
    src = source_pdf()
    with pytest.raises(AssertionError):
        assert_no_leak(src, SECRETS)
    assert all(s in all_text(src) for s in SECRETS)
    assert all(m.encode() in raw_bytes(src) for m in HIDDEN)
    listed, reached = objects(PdfReader(io.BytesIO(src)))
    assert listed - reached  # the removed page of the incremental update is still in the file


def test_release_leaks_nothing():
    out = released()
    assert_no_leak(out.pdf, SECRETS)
    assert out.pages == 4 and out.redacted_pages == REDACTED


def test_rasterised_pages_hold_one_image_and_no_text():
    reader = PdfReader(io.BytesIO(released().pdf))
    for i in REDACTED:
        page = reader.pages[i]
        data = content(page)
        assert b"BT" not in data and b"Tj" not in data and b"TJ" not in data
        resources = page["/Resources"]
        assert "/Font" not in resources
        (name,) = xobject_names(page)
        image = resources["/XObject"][name]
        assert image["/Subtype"] == "/Image" and "/Resources" not in image
        assert "/Rotate" not in page or page["/Rotate"] == 0
    with pdfium.PdfDocument(released().pdf) as doc:
        for i in REDACTED:
            assert doc[i].get_textpage().count_chars() == 0
            assert [o.type for o in doc[i].get_objects()] == [pdfium_c.FPDF_PAGEOBJ_IMAGE]


def test_untouched_pages_keep_their_text_and_lose_their_annotations():
    text = PdfReader(io.BytesIO(released().pdf)).pages[1].extract_text()
    assert "示范区旧城改造项目征收补偿方案已经批准" in "".join(text.split())
    assert "Landscape public page" in PdfReader(io.BytesIO(released().pdf)).pages[3].extract_text()
    src = PdfReader(io.BytesIO(source_pdf()))
    assert "/Annots" in src.pages[1]


def test_page_count_and_displayed_sizes_are_kept():
    before, after = inspect(source_pdf()), inspect(released().pdf)
    assert len(after) == len(before)
    for a, b in zip(before, after):
        assert abs(a.width - b.width) < 0.01 and abs(a.height - b.height) < 0.01


def test_covered_areas_are_black_and_held_text_before():
    boxes = boxes_for(source_pdf())
    for page in REDACTED:
        src, out = render(source_pdf(), page, 1000), render(released().pdf, page, 1000)
        for box in (b for b in boxes if b.page == page):
            assert min(pixels(src, box)) < 100  # glyph ink was there
            inner = pixels(out, box, inset=2)
            assert sum(v < 60 for v in inner) / len(inner) > 0.99


@pytest.mark.parametrize("page, needle", [(0, ID), (0, MOBILE), (0, ADDRESS), (0, "Zeppelin"), (2, MOBILE),
                                          (2, "Zeppelin")])
def test_no_glyph_pixel_survives(page, needle):
    """Every glyph of the covered text, placed by pdfium's own page → device mapping, is black."""
    image = render(released().pdf, page, 1200)
    rects = glyph_rects(source_pdf(), page, needle, 1200)
    assert rects
    for x0, y0, x1, y1 in rects:
        region = list(image.crop((x0, y0, x1 + 1, y1 + 1)).tobytes())
        assert max(region) < 80, (needle, (x0, y0, x1, y1))


def _stamp_strip(width: float) -> tuple[float, float, float, float]:
    """Where the stamp goes on a page ``width`` points wide, as fractions of the displayed width."""
    mm = 72 / 25.4
    return (width - 150 * mm) / 2 / width, 3 * mm, (width + 150 * mm) / 2 / width, 9 * mm


@pytest.mark.parametrize("page", [1, 3])
def test_the_stamp_is_text_at_the_displayed_top_of_untouched_pages(page):
    info = inspect(released().pdf)[page]
    x0, top, x1, bottom = _stamp_strip(info.width)
    box = Box(page, x0, top / info.height, x1, bottom / info.height)
    assert text_under(released().pdf, box) == "".join(STAMP_TEXT.split())
    assert "".join(STAMP_TEXT.split()) in all_text(released().pdf)


@pytest.mark.parametrize("page", REDACTED)
def test_the_stamp_is_burnt_into_rasterised_pages(page):
    info = inspect(released().pdf)[page]
    x0, top, x1, bottom = _stamp_strip(info.width)
    image = render(released().pdf, page, 1200)
    strip = pixels(image, Box(page, x0, top / info.height, x1, bottom / info.height))
    assert sum(v < 128 for v in strip) > 200  # the stamp's glyphs
    above = pixels(image, Box(page, 0, 0, 1, top / info.height * 0.8))
    assert min(above) > 200  # nothing above it: it is placed, not smeared
    unstamped = release([(source_pdf(), boxes_for(source_pdf()))])
    assert min(pixels(render(unstamped.pdf, page, 1200), Box(page, x0, top / info.height, x1,
                                                                bottom / info.height))) > 200


def test_shared_resources_do_not_carry_a_rasterised_page_along():
    """Producers often give every page one resource dictionary holding every page's images; an
    untouched page copied with it would carry the original scan of a rasterised page."""
    def jpeg(colour, size):
        out = io.BytesIO()
        Image.new("RGB", size, colour).save(out, "JPEG")
        return out.getvalue()

    writer = PdfWriter()
    for _ in range(2):
        writer.add_blank_page(300, 300)
    images = {}
    for name, colour, size in (("/Im0", "red", (30, 30)), ("/Im1", "blue", (40, 40))):
        s = StreamObject()
        s._data = jpeg(colour, size)
        s.update({NameObject("/Type"): NameObject("/XObject"), NameObject("/Subtype"): NameObject("/Image"),
                  NameObject("/Width"): NumberObject(size[0]), NameObject("/Height"): NumberObject(size[1]),
                  NameObject("/ColorSpace"): NameObject("/DeviceRGB"),
                  NameObject("/BitsPerComponent"): NumberObject(8), NameObject("/Filter"): NameObject("/DCTDecode")})
        images[name] = writer._add_object(s)
    shared = DictionaryObject({NameObject("/XObject"): DictionaryObject({NameObject(k): v for k, v in images.items()})})
    form = DecodedStreamObject()
    form.set_data(b"q 100 0 0 100 0 0 cm /Im0 Do Q")
    form.update({NameObject("/Type"): NameObject("/XObject"), NameObject("/Subtype"): NameObject("/Form"),
                 NameObject("/BBox"): ArrayObject([NumberObject(v) for v in (0, 0, 300, 300)]),
                 NameObject("/Resources"): shared})  # a form with the shared dictionary too
    shared["/XObject"][NameObject("/Fm0")] = writer._add_object(form)
    shared_ref = writer._add_object(shared)
    for page, draw in zip(writer.pages, (b"/Fm0 Do", b"q 300 0 0 300 0 0 cm /Im1 Do Q")):
        body = DecodedStreamObject()
        body.set_data(draw)
        page[NameObject("/Contents")] = writer._add_object(body)
        page[NameObject("/Resources")] = shared_ref
    src = to_bytes(writer)

    out = release([(src, [Box(1, 0.4, 0.4, 0.6, 0.6)])])
    reader = PdfReader(io.BytesIO(out.pdf))
    assert xobject_names(reader.pages[0]) == ["/Fm0"]
    assert list(reader.pages[0]["/Resources"]["/XObject"]["/Fm0"]["/Resources"]["/XObject"]) == ["/Im0"]
    images_out = [o for n in objects(reader)[1] if isinstance(o := reader.get_object(n), StreamObject)
                  and o.get("/Subtype") == "/Image"]
    assert len(images_out) == 2  # the red one and the raster of page 1
    assert jpeg("blue", (40, 40)) not in out.pdf
    page1 = render(out.pdf, 1, 300)
    assert pixels(page1, Box(1, 0.45, 0.45, 0.55, 0.55)) and max(pixels(page1, Box(1, 0.45, 0.45, 0.55, 0.55))) < 60
    assert_no_leak(out.pdf, [])


def test_documents_follow_each_other_and_progress_counts_pages():
    calls = []
    one = html_pdf(["<p>第一份文件，全部公开。</p>", f"<p>第二页，手机{MOBILE}。</p>"])
    two = html_pdf([f"<p>第二份文件，身份证号码{ID}。</p>"])
    out = release([(one, [h.boxes[0] for h in find_personal_data(one)]),
                   (two, [b for h in find_personal_data(two) for b in h.boxes])],
                  progress=lambda done, total: calls.append((done, total)))
    assert out.pages == 3 and out.redacted_pages == [1, 2]
    assert calls == [(1, 3), (2, 3), (3, 3)]
    assert_no_leak(out.pdf, [ID, MOBILE])
    assert "第一份文件" in all_text(out.pdf)


def test_a_box_on_a_page_that_does_not_exist_is_refused():
    with pytest.raises(ValueError, match="第9页不存在"):
        release([(source_pdf(), [Box(8, 0.1, 0.1, 0.2, 0.2)])])
