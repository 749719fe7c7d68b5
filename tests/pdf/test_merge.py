"""The font merger (app/pdf/pdffonts.py, cff.py, truetype.py) on real letter PDFs, with fontTools
as the oracle: after merging, every glyph each letter draws has the same outline and the same
advance width in the merged font program as in the letter's own, and the same /W width."""
from __future__ import annotations

from io import BytesIO

import pytest
from fontTools.cffLib import CFFFontSet
from fontTools.pens.recordingPen import DecomposingRecordingPen, RecordingPen
from fontTools.ttLib import TTFont
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject

from app.letters import all_letters, example_context, render_pdf
from app.pdf.pdffonts import FontMerger, walk_font_slots

pytestmark = pytest.mark.no_db

# Names with rare characters: GB2312 level 2 and beyond (CFF extension fonts cut from Noto) and
# CJK Ext B beyond Noto (HanaMinB, a TrueType "OGI Rare" font), so both font kinds are merged.
NAMES = ["张三", "王喆", "李堃", "赵䶮彧", "周赟镕", "钱龘𠮷", "孙\U0002A6D6"]


@pytest.fixture(scope="module")
def letters() -> list[bytes]:
    keys = [letter.key for letter in all_letters() if letter.field("applicant.name")][:len(NAMES)]
    assert len(keys) == len(NAMES)
    out = []
    for key, name in zip(keys, NAMES):
        ctx = example_context(key)
        ctx["applicant"]["name"] = name
        out.append(render_pdf(key, ctx))
    return out


@pytest.fixture(scope="module")
def merged(letters):
    """The letters' pages in one PDF with merged fonts, as the case file assembles them; read back."""
    readers = [PdfReader(BytesIO(pdf)) for pdf in letters]
    writer, merger, slots = PdfWriter(), FontMerger(), []
    for reader in readers:
        for page in reader.pages:
            walk_font_slots(page.get("/Resources"),
                            lambda fonts, name: slots.append((fonts, name, merger.collect(fonts.raw_get(name)))))
    merger.write(writer)
    for fonts, name, width_set in slots:
        if width_set is not None:
            fonts[NameObject(name)] = width_set.ref
    for reader in readers:
        for page in reader.pages:
            writer.add_page(page)
    out = BytesIO()
    writer.write(out)
    return merger, PdfReader(BytesIO(out.getvalue()))


def _type0_fonts(page) -> dict[str, object]:
    found = {}
    walk_font_slots(page.get("/Resources"), lambda fonts, name: found.setdefault(name, fonts[name].get_object()))
    return {name: font for name, font in found.items() if font.get("/Subtype") == "/Type0"}


def _widths(cid_font) -> dict[int, float]:
    """/W as code → width (read here, not with the merger's own parser)."""
    out, items, i = {}, list(cid_font.get("/W", [])), 0
    while i < len(items):
        first, nxt = int(items[i]), items[i + 1].get_object()
        if isinstance(nxt, list):
            out.update({first + k: float(w) for k, w in enumerate(nxt)})
            i += 2
        else:
            out.update({c: float(items[i + 2]) for c in range(first, int(nxt) + 1)})
            i += 3
    return out


class Program:
    """An embedded font program as fontTools reads it: code → (outline, advance width)."""

    def __init__(self, type0) -> None:
        self.cid = type0["/DescendantFonts"][0].get_object()
        desc = self.cid["/FontDescriptor"].get_object()
        self.kind = str(self.cid["/Subtype"])
        if "/FontFile2" in desc:
            self.font = TTFont(BytesIO(desc["/FontFile2"].get_object().get_data()))
            assert self.cid.get("/CIDToGIDMap", "/Identity") == "/Identity"
            self.cff = None
            return
        stream = desc["/FontFile3"].get_object()
        data = stream.get_data()
        if stream.get("/Subtype") == "/OpenType":  # WeasyPrint: glyph ids retained, code = glyph id
            self.font = TTFont(BytesIO(data))
            self.cff, self.by_cid = self.font["CFF "].cff, False
        else:  # /CIDFontType0C (the merger): code = CID, found through the charset
            assert stream.get("/Subtype") == "/CIDFontType0C"
            self.font = None
            self.cff = CFFFontSet()
            self.cff.decompile(BytesIO(data), None)
            self.by_cid = True
        top = self.cff[self.cff.fontNames[0]]
        assert hasattr(top, "ROS"), "a CID-keyed CFF"
        self.charstrings, self.order = top.CharStrings, top.charset

    def glyph(self, code: int) -> tuple[list, float]:
        if self.cff is None:
            name = self.font.getGlyphOrder()[code]
            pen = DecomposingRecordingPen(self.font.getGlyphSet())
            self.font.getGlyphSet()[name].draw(pen)
            return pen.value, self.font["hmtx"][name][0]
        if self.by_cid:
            name = ".notdef" if code == 0 else f"cid{code:05d}"
        else:
            name = self.order[code]
        charstring = self.charstrings[name]
        pen = RecordingPen()
        charstring.draw(pen)
        return pen.value, charstring.width


def test_every_glyph_keeps_its_outline_and_widths(letters, merged):
    merger, reader = merged
    kinds = {group.base.kind for group in merger.groups}
    assert kinds == {"ttf", "cff"} and merger.kept == 0, (kinds, merger.why)
    originals = [page for pdf in letters for page in PdfReader(BytesIO(pdf)).pages]
    assert len(originals) == len(reader.pages)
    programs: dict[int, Program] = {}
    compared = set()
    for original, page in zip(originals, reader.pages):
        before, after = _type0_fonts(original), _type0_fonts(page)
        assert before.keys() == after.keys()
        for name, source in before.items():
            target = after[name]
            assert str(target["/BaseFont"]).split("+", 1)[1] == str(source["/BaseFont"]).split("+", 1)[1]
            src = Program(source)
            desc = target["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
            key = desc.raw_get("/FontFile2" if "/FontFile2" in desc else "/FontFile3").idnum
            if key not in programs:
                programs[key] = Program(target)
            dst = programs[key]
            assert dst.kind == src.kind
            src_w, dst_w = _widths(src.cid), _widths(dst.cid)
            assert src_w, "WeasyPrint lists a width for every glyph it draws"
            for code, width in src_w.items():
                assert dst_w.get(code, float(dst.cid.get("/DW", 1000))) == width, (name, code)
                assert dst.glyph(code) == src.glyph(code), (str(source["/BaseFont"]), code)
                compared.add((src.kind, code))
    # The letters share fonts: fewer programs than letters × fonts, and many glyphs checked.
    assert len(programs) < sum(len(_type0_fonts(p)) for p in originals)
    assert len(compared) > 300


def test_the_merged_pages_read_as_the_letters(letters, merged):
    """ToUnicode survives the merge: the text extracted from each page is the same."""
    _merger, reader = merged
    originals = [page for pdf in letters for page in PdfReader(BytesIO(pdf)).pages]
    for original, page in zip(originals, reader.pages):
        assert page.extract_text() == original.extract_text()
    text = "".join(page.extract_text() for page in reader.pages)
    for name in NAMES:
        assert name in text
