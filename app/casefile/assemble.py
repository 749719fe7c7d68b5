"""Print a case file (案卷) as one PDF.

1. collect the items in filing order (documents.py) and open every imported document;
2. typeset the generated pages in one WeasyPrint pass (render.py);
3. lay out the pages: every item gets its page range;
4. copy the pages into one PDF: issued letters as stored (their pages imported, not rendered
   again), scans as they are (PDF pages imported, images placed on A4), each font once;
5. stamp the archive page number on every page (top right on odd pages, top left on even pages,
   as file page numbers are written) and the numbers of the catalogue, cover and 备考表, in
   embedded subsets of the letter faces (PDF/A: no font left out of the file);
6. embed each issued letter's original PDF as a file attachment, so its SHA-256 can be checked;
7. store identical images once (the seal of every letter) and make the file PDF/A-3b (app.pdf).

Scans are fitted to A4 and carry their OCR text layer when the background OCR job has run (ocr.py).
"""
from __future__ import annotations

import hashlib
import io
import time
import warnings
from dataclasses import dataclass, field

from flask import current_app
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    TextStringObject,
    create_string_object,
)

from ..models import Case, User
from ..pdf import pdfa
from ..pdf.dedup import dedupe_images
from ..pdf.simplefont import system_face, truetype_font
from ..services.time import local
from ..services.time import today as _today
from ..services import storage
from .documents import Item, collect_items, order_setting
from .images import fit_to_a4, image_page, overlay_text_layer
from ..pdf.pdffonts import FontMerger, walk_font_slots
from .render import letter_font_dir, render_generated

PAGE_NO_FONT = "/OGIPageNo"  # the archive page numbers (a sans face, as they were in Helvetica)
SLOT_FONT = "/OGISlotNo"  # page numbers written into the catalogue, cover, 备考表 (the body face)
STAMP_CHARS = "0123456789- "
# Subset tags name what each stamp font is for (a test tells page numbers from slot numbers by them).
PAGE_NO_TAG, SLOT_TAG = "PAGENO", "SLOTNO"


@dataclass
class _StampFont:
    ref: object
    widths: dict

    def width(self, text: str, size: float) -> float:
        return sum(self.widths.get(c, 500) for c in text) * size / 1000


def _stamp_fonts(writer: PdfWriter) -> tuple[_StampFont, _StampFont]:
    """Page numbers in the letters' 黑体 face, slot numbers in their 仿宋 face, from the letter
    font cache; Fontconfig's Helvetica / Times stand-ins (Liberation) when there is none."""
    directory = letter_font_dir()
    out = []
    for tag, face, standin in ((PAGE_NO_TAG, "OGIHei.ttf", "Helvetica"), (SLOT_TAG, "OGIFangSong.ttf", "Times-Roman")):
        path = str(directory / face) if directory is not None and (directory / face).exists() else system_face(standin)
        if path is None:
            raise RuntimeError("no TrueType face for the archive page numbers (install fonts-liberation)")
        font, widths = truetype_font(writer, path, STAMP_CHARS, tag)
        out.append(_StampFont(writer._add_object(font), widths))
    return out[0], out[1]


@dataclass
class CaseFile:
    pdf: bytes
    items: list[Item]
    pages: int
    order: str
    timings: dict[str, float] = field(default_factory=dict)
    fonts: dict = field(default_factory=dict)
    embedded: list[dict] = field(default_factory=list)
    images: dict = field(default_factory=dict)  # image objects before / after de-duplication
    pdfa_problems: list[str] = field(default_factory=list)  # what copied pages bring that PDF/A forbids


def _open_pdf(data: bytes) -> PdfReader:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return PdfReader(io.BytesIO(data), strict=False)


def _notes(case: Case) -> list[str]:
    from ..services.checklist import checklist

    missing = [c for c in checklist(case) if not c.ok]
    if not missing:
        return ["经检查，归档材料齐全。"]
    return ["归档时缺少或未上传下列材料：" + "；".join(c.label for c in missing) + "。"]


def _filer(case: Case, actor: User | None) -> str:
    for ev in reversed(case.events):
        if ev.action == "archive" and ev.actor is not None:
            return ev.actor.name
    return actor.name if actor else ""


def build_casefile(case: Case, actor: User | None = None, *, order: str | None = None,
                   embed_originals: bool | None = None) -> CaseFile:
    t0, c0 = time.perf_counter(), time.process_time()
    order = order_setting(order)
    if embed_originals is None:
        embed_originals = bool(current_app.config["CASEFILE_EMBED_ORIGINALS"])
    items = collect_items(case, order)
    from .ocr import text_layers

    layers = text_layers([it.attachment for it in items if it.kind == "attachment"])
    sources: dict[int, object] = {}  # item index → PdfReader or ("image", bytes, type)
    for n, it in enumerate(items):
        if it.kind == "letter":
            data, ctype = it.letter.pdf, "application/pdf"
        elif it.kind in ("attachment", "release"):
            ctype = it.attachment.content_type if it.attachment else "application/pdf"
            try:
                data = storage.read((it.attachment or it.release).sha256)
            except (FileNotFoundError, ValueError):
                it.meta["problem"], it.note = "该文件在存储中缺失，未能打印。", "文件缺失"
                continue
        else:
            continue
        if hashlib.sha256(data).hexdigest() != (it.letter or it.attachment or it.release).sha256:
            # Changed since it was stored: not printed as if it were the original (flask verify names it).
            it.meta["problem"], it.note = "该文件与登记的校验值不符（可能已被改动），未能打印。", "校验不符"
            continue
        if it.kind == "attachment" and it.attachment.id in layers:
            it.meta["ocr"] = True
        if ctype != "application/pdf":
            sources[n] = ("image", data, ctype)
            it.pages = 1
            continue
        try:
            reader = _open_pdf(data)
            it.pages = len(reader.pages)
        except Exception:  # an unreadable file gets a page saying so; the case file still prints
            it.meta["problem"], it.note = "该文件无法读取，未能打印。", "文件无法读取"
            continue
        sources[n] = reader
    t1, c1 = time.perf_counter(), time.process_time()

    originals = [it.letter for it in items if it.kind == "letter"] if embed_originals else []
    rendered = render_generated(case, items, notes=_notes(case), originals=originals, filer=_filer(case, actor),
                                filed_on=case.archived_on or _today())
    t2, c2 = time.perf_counter(), time.process_time()

    # Page layout: cover, catalogue, the items in order, 备考表.
    gen = _open_pdf(rendered.pdf)
    plan: list[tuple] = []  # (source kind, source, page index, item)
    for p in rendered.sections.get("sec-cover", []) + rendered.sections.get("sec-catalogue", []):
        plan.append(("gen", gen, p, None))
    for n, it in enumerate(items):
        it.first_page = len(plan) + 1
        key = it.meta.get("section_key")
        if key:
            pages = rendered.sections.get(key, [])
            plan += [("gen", gen, p, it) for p in pages]
        elif isinstance(sources.get(n), PdfReader):
            plan += [("pdf", sources[n], p, it) for p in range(it.pages)]
        else:
            plan.append(("image", sources[n], 0, it))
        it.pages = len(plan) - it.first_page + 1
    notes_pages = rendered.sections.get("sec-notes", [])
    plan += [("gen", gen, p, None) for p in notes_pages]
    total = len(plan)

    writer = PdfWriter()
    merger = FontMerger()
    slots_to_fix = []
    readers = [gen] + [s for s in sources.values() if isinstance(s, PdfReader)]
    for reader in readers:
        for page in reader.pages:
            walk_font_slots(page.get("/Resources"),
                            lambda fonts, name: slots_to_fix.append((fonts, name, merger.collect(fonts.raw_get(name)))))
    merger.write(writer)
    for fonts, name, width_set in slots_to_fix:
        if width_set is not None:
            fonts[NameObject(name)] = width_set.ref
    t3, c3 = time.perf_counter(), time.process_time()

    page_font, slot_font = _stamp_fonts(writer)
    gen_page_of = {}
    for number, (kind, src, idx, it) in enumerate(plan, start=1):
        layer = layers.get(it.attachment.id) if it is not None and it.kind == "attachment" else None
        if kind == "image":
            page = writer.add_page(image_page(writer, src[1], src[2], layer.page(0) if layer else None))
        else:
            page = writer.add_page(src.pages[idx])
        if kind == "gen":
            gen_page_of[idx] = page
        elif kind == "pdf" and it.kind in ("attachment", "release"):
            if layer is not None and layer.page(idx) is not None:
                overlay_text_layer(page, layer.page(idx))
            fit_to_a4(page)  # scans only: the letters are A4 already and must print as issued
        _stamp(page, page_font, number)

    # Numbers written into the generated pages.
    cat_ranges = {f"slot-range-{k}": it.page_range for k, it in enumerate(items)}
    texts = {"slot-cover-pages": str(total), "slot-notes-pages": str(total), **cat_ranges}
    for name, text in texts.items():
        slot = rendered.slots.get(name)
        if slot is None or slot.page not in gen_page_of or not text:
            continue
        _write_slot(gen_page_of[slot.page], slot, text, slot_font)

    embedded = []
    if embed_originals:
        for it in items:
            if it.kind == "letter":
                embedded.append(_embed(writer, it.letter))
    images = dedupe_images(writer)
    problems = pdfa.scrub(writer)
    pdfa.finish(writer, _metadata(case))
    t4, c4 = time.perf_counter(), time.process_time()
    buf = io.BytesIO()
    writer.write(buf)
    t5, c5 = time.perf_counter(), time.process_time()
    return CaseFile(
        pdf=buf.getvalue(), items=items, pages=total, order=order,
        timings={"open": t1 - t0, "render": t2 - t1, "fonts": t3 - t2, "pages": t4 - t3, "write": t5 - t4,
                 "total": t5 - t0, "cpu_open": c1 - c0, "cpu_render": c2 - c1, "cpu_fonts": c3 - c2,
                 "cpu_pages": c4 - c3, "cpu_write": c5 - c4, "cpu_total": c5 - c0},
        fonts={"merged": [(g.base.kind, g.base.base_name, len(g.glyphs), g.members, len(g.width_sets))
                          for g in merger.groups],
               "kept": merger.kept, "why": merger.why},
        embedded=embedded, images=images, pdfa_problems=problems)


def _add_font(page, name: str, ref) -> None:
    res = page.get("/Resources")
    if res is None:
        res = DictionaryObject()
        page[NameObject("/Resources")] = res
    res = res.get_object()
    fonts = res.get("/Font")
    if fonts is None:
        fonts = DictionaryObject()
        res[NameObject("/Font")] = fonts
    fonts.get_object()[NameObject(name)] = ref


def _wrap(page, tail: bytes) -> None:
    """Append drawing after the page's own content, in a clean graphics state."""
    head = DecodedStreamObject()
    head.set_data(b"q\n")
    end = DecodedStreamObject()
    end.set_data(b"\nQ\n" + tail)
    writer = page.indirect_reference.pdf
    contents = page.get("/Contents")
    parts = ArrayObject([writer._add_object(head)])
    if contents is not None:
        raw = page.raw_get("/Contents")
        obj = contents.get_object()
        if isinstance(obj, ArrayObject):
            parts += [x for x in obj]
        else:
            parts.append(raw)
    parts.append(writer._add_object(end))
    page[NameObject("/Contents")] = parts


def _visible_box(page):
    box = page.cropbox
    return float(box.left), float(box.bottom), float(box.right), float(box.top)


def _stamp(page, font: _StampFont, number: int) -> None:
    """The archive page number: top right of odd pages, top left of even pages, 8 mm from the edges."""
    _add_font(page, PAGE_NO_FONT, font.ref)
    text = str(number)
    size = 12.0
    x0, y0, x1, y1 = _visible_box(page)
    rotate = int(page.get("/Rotate", 0) or 0) % 360
    w, h = (x1 - x0, y1 - y0) if rotate in (0, 180) else (y1 - y0, x1 - x0)
    margin = 8 * 72 / 25.4
    tw = font.width(text, size)
    dx = w - margin - tw if number % 2 else margin
    dy = h - margin - size * 0.72
    page_matrix = _display_to_user(rotate, x0, y0, x1, y1, dx, dy)
    _wrap(page, f"BT {PAGE_NO_FONT} {size:g} Tf {page_matrix} Tm ({text}) Tj ET\n".encode())


def _display_to_user(rotate: int, x0, y0, x1, y1, dx, dy) -> str:
    """Text matrix drawing upright at (dx, dy) of the page as displayed (/Rotate applied)."""
    if rotate == 90:
        a, b, c, d, e, f = 0, 1, -1, 0, x1 - dy, y0 + dx
    elif rotate == 180:
        a, b, c, d, e, f = -1, 0, 0, -1, x1 - dx, y1 - dy
    elif rotate == 270:
        a, b, c, d, e, f = 0, -1, 1, 0, x0 + dy, y1 - dx
    else:
        a, b, c, d, e, f = 1, 0, 0, 1, x0 + dx, y0 + dy
    return f"{a} {b} {c} {d} {e:.2f} {f:.2f}"


def _write_slot(page, slot, text: str, font: _StampFont) -> None:
    _add_font(page, SLOT_FONT, font.ref)
    tw = font.width(text, slot.size)
    x = slot.x + max(0.0, (slot.width - tw) / 2)
    _wrap(page, f"BT {SLOT_FONT} {slot.size:.2f} Tf 1 0 0 1 {x:.2f} {slot.baseline:.2f} Tm ({text}) Tj ET\n".encode())


def _embed(writer: PdfWriter, letter) -> dict:
    digest = hashlib.sha256(letter.pdf).hexdigest()
    ascii_name = f"letter-{letter.id}-{digest[:12]}.pdf"
    ef = writer.add_attachment(ascii_name, letter.pdf)
    spec = ef.pdf_object
    spec[NameObject("/UF")] = create_string_object(" ".join(filter(None, (letter.number, letter.title))) + ".pdf")
    spec[NameObject("/Desc")] = TextStringObject(f"{letter.title}（{letter.number_text}）原件，SHA-256 {digest}")
    spec[NameObject("/AFRelationship")] = NameObject("/Source")
    stream = spec["/EF"]["/F"].get_object()
    stream[NameObject("/Subtype")] = NameObject("/application#2Fpdf")
    issued = local(letter.issued_at)
    stream[NameObject("/Params")] = DictionaryObject({
        NameObject("/Size"): NumberObject(len(letter.pdf)),
        **({NameObject("/ModDate"): create_string_object(pdfa._pdf_date(issued.astimezone()))} if issued else {}),
        NameObject("/CheckSum"): create_string_object(hashlib.md5(letter.pdf, usedforsecurity=False).digest()),
    })
    return {"name": ascii_name, "letter_id": letter.id, "number": letter.number, "sha256": digest,
            "stored_sha256": letter.sha256, "size": len(letter.pdf)}


def _metadata(case: Case) -> pdfa.Meta:
    """XMP and Info: title, the 档号 as dc:identifier, the agency as dc:creator (责任者)."""
    return pdfa.Meta(
        title=f"{case.number} 政府信息公开申请办理案卷",
        identifier=case.archive_number or case.number,
        creator=case.agency.name,
        description=f"申请人：{case.applicant_name}" + (f"；档号：{case.archive_number}" if case.archive_number else ""),
        creator_tool="OGI Desk 依申请公开办理系统",
        producer="OGI Desk (pypdf)",
    )


def casefile_filename(case: Case) -> str:
    return f"{case.number}-案卷.pdf"
