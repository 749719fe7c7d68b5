"""The case file (案卷) as an archive accepts it: PDF/A-3b checked requirement by requirement on
the real file (veraPDF is not on these machines), one seal image for all letters, a DA/T 22
catalogue (责任者, 文号 only where one exists), a process record in plain Chinese, table rows kept
whole, scans fitted to A4."""
from __future__ import annotations

import base64
import hashlib
import io
import re
import subprocess
import xml.etree.ElementTree as ET
from datetime import datetime
from functools import lru_cache

import pytest
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject

from app.casefile import attachments as A
from app.casefile.assemble import build_casefile
from app.extensions import db
from app.models import Event, Letter
from tests.casefile.conftest import LETTER_CSS, add_letter, jpeg_bytes, png_bytes
from tests.casefile.test_casefile_pdf import build_plain_case, rich_case, text
from tests.conftest import user
from tests.factories import reload

NS = {"x": "adobe:ns:meta/", "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
      "dc": "http://purl.org/dc/elements/1.1/", "xmp": "http://ns.adobe.com/xap/1.0/",
      "pdf": "http://ns.adobe.com/pdf/1.3/", "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
      "xmpMM": "http://ns.adobe.com/xap/1.0/mm/"}
# XMP schemas PDF/A accepts without an extension schema description (ISO 19005-3 §6.6.2.3).
PREDEFINED = {"http://purl.org/dc/elements/1.1/", "http://ns.adobe.com/xap/1.0/", "http://ns.adobe.com/pdf/1.3/",
              "http://www.aiim.org/pdfa/ns/id/", "http://ns.adobe.com/xap/1.0/mm/",
              "http://www.w3.org/1999/02/22-rdf-syntax-ns#", "adobe:ns:meta/",
              "http://www.w3.org/XML/1998/namespace"}
ALLOWED_ACTIONS = {"/GoTo", "/GoToR", "/GoToE", "/Thread", "/URI", "/Named", "/SetOCGState"}


# ------------------------------------------------------------------ a PDF/A-3b checker

def _walk(reader: PdfReader):
    """Every dictionary reachable from the trailer, once (streams included, their data not read)."""
    seen: set[int] = set()
    stack = [reader.trailer]
    while stack:
        obj = stack.pop()
        if isinstance(obj, IndirectObject):
            if obj.idnum in seen:
                continue
            seen.add(obj.idnum)
            obj = obj.get_object()
        if isinstance(obj, DictionaryObject):
            yield obj
            stack.extend(v for k, v in obj.items() if k not in ("/Parent", "/P"))
        elif isinstance(obj, ArrayObject):
            stack.extend(obj)


def _fonts(reader: PdfReader):
    """Every font dictionary used by a page: page resources, form XObjects, Type 3 glyphs and
    annotation appearances, recursively."""
    out, seen = [], set()

    def resources(res):
        if res is None:
            return
        res = res.get_object()
        for _n, f in (res.get("/Font") or {}).items():
            f_obj = f.get_object()
            if id(f_obj) not in seen:
                seen.add(id(f_obj))
                out.append(f_obj)
                resources(f_obj.get("/Resources"))
        for _n, x in (res.get("/XObject") or {}).items():
            x = x.get_object()
            if x.get("/Subtype") == "/Form" and id(x) not in seen:
                seen.add(id(x))
                resources(x.get("/Resources"))

    for page in reader.pages:
        resources(page.get("/Resources"))
        for annot in page.get("/Annots") or []:
            for ap in (annot.get_object().get("/AP") or {}).values():
                ap = ap.get_object()
                if isinstance(ap, StreamObject):
                    resources(ap.get("/Resources"))
    return out


def _pdf_date(s: str) -> datetime:
    m = re.fullmatch(r"D:(\d{14})([+-])(\d\d)'(\d\d)'?", s)
    return datetime.strptime(m[1] + m[2] + m[3] + m[4], "%Y%m%d%H%M%S%z")


def pdfa3b_violations(data: bytes) -> list[str]:
    """The PDF/A-3b rules the case file relies on, each checked on the bytes as written."""
    bad = []
    if not re.match(rb"%PDF-1\.[0-7]\r?\n%[\x80-\xff]{4}", data):
        bad.append("header: %PDF-1.n then a comment of four bytes above 127")
    if not data.rstrip(b"\r\n").endswith(b"%%EOF"):
        bad.append("data after %%EOF")
    reader = PdfReader(io.BytesIO(data))
    trailer = reader.trailer
    ids = trailer.get("/ID")
    if not ids or len(ids) != 2 or not all(len(bytes(i.original_bytes if hasattr(i, "original_bytes") else i)) for i in ids):
        bad.append("trailer /ID")
    if "/Encrypt" in trailer:
        bad.append("encrypted")
    root = reader.trailer["/Root"].get_object()

    # XMP: present, unfiltered, well formed, pdfaid 3/B, predefined schemas only, equal to Info.
    meta = root.get("/Metadata")
    if meta is None:
        return bad + ["no XMP metadata"]
    meta = meta.get_object()
    if "/Filter" in meta or meta.get("/Subtype") != "/XML" or meta.get("/Type") != "/Metadata":
        bad.append("metadata stream: /Type /Metadata /Subtype /XML, no /Filter")
    xml = meta.get_data()
    tree = ET.fromstring(xml[xml.index(b"<x:xmpmeta"):xml.index(b"</x:xmpmeta>") + len(b"</x:xmpmeta>")])
    namespaces = {el.tag[1:].split("}")[0] for el in tree.iter() if el.tag.startswith("{")}
    namespaces |= {a[1:].split("}")[0] for el in tree.iter() for a in el.attrib if a.startswith("{")}
    if namespaces - PREDEFINED:
        bad.append(f"XMP schemas without an extension schema: {namespaces - PREDEFINED}")
    desc = tree.find("rdf:RDF/rdf:Description", NS)

    def prop(path):
        el = desc.find(path, NS)
        return el.text if el is not None else None

    if prop("pdfaid:part") != "3" or prop("pdfaid:conformance") != "B":
        bad.append("pdfaid part 3 / conformance B")
    info = reader.metadata or {}
    pairs = {"/Title": prop("dc:title/rdf:Alt/rdf:li"), "/Author": prop("dc:creator/rdf:Seq/rdf:li"),
             "/Subject": prop("dc:description/rdf:Alt/rdf:li"), "/Creator": prop("xmp:CreatorTool"),
             "/Producer": prop("pdf:Producer")}
    for key, value in pairs.items():
        if key in info and info[key] != value:
            bad.append(f"Info {key} {info[key]!r} ≠ XMP {value!r}")
    for key, path in (("/CreationDate", "xmp:CreateDate"), ("/ModDate", "xmp:ModifyDate")):
        if key in info and _pdf_date(info[key]) != datetime.fromisoformat(prop(path)):
            bad.append(f"Info {key} ≠ XMP {path}")
    for key in info:
        if key not in pairs and key not in ("/CreationDate", "/ModDate", "/Keywords", "/Trapped"):
            bad.append(f"Info {key} has no XMP equivalent checked here")

    # Output intent: GTS_PDFA1 with an RGB ICC profile (the pages use DeviceRGB and DeviceGray).
    intents = [i.get_object() for i in root.get("/OutputIntents") or []]
    pdfa = [i for i in intents if i.get("/S") == "/GTS_PDFA1"]
    if len(pdfa) != 1:
        bad.append("one /GTS_PDFA1 output intent")
    else:
        icc_stream = pdfa[0]["/DestOutputProfile"].get_object()
        icc = icc_stream.get_data()
        from PIL import ImageCms

        ImageCms.ImageCmsProfile(io.BytesIO(icc))  # parses
        if int.from_bytes(icc[:4], "big") != len(icc) or icc[36:40] != b"acsp" or icc[16:20] != b"RGB " \
                or icc[12:16] not in (b"mntr", b"prtr") or icc[8] > 4 or icc_stream.get("/N") != 3:
            bad.append("output intent ICC profile: RGB, monitor or printer class, version ≤ 4, /N 3")
        if "/OutputConditionIdentifier" not in pdfa[0]:
            bad.append("output intent without /OutputConditionIdentifier")

    # Fonts: every font used is embedded; simple TrueType fonts are WinAnsi/MacRoman and their
    # widths are the font program's.
    for font in _fonts(reader):
        sub = font.get("/Subtype")
        if sub == "/Type3":
            continue
        target = font["/DescendantFonts"][0].get_object() if sub == "/Type0" else font
        fd = target.get("/FontDescriptor")
        if fd is None or not any(k in fd.get_object() for k in ("/FontFile", "/FontFile2", "/FontFile3")):
            bad.append(f"font not embedded: {font.get('/BaseFont')}")
            continue
        if sub == "/TrueType" and not int(fd.get_object()["/Flags"]) & 4:
            if font.get("/Encoding") not in ("/WinAnsiEncoding", "/MacRomanEncoding"):
                bad.append(f"non-symbolic TrueType without WinAnsi/MacRoman: {font['/BaseFont']}")
            bad += _width_mismatches(font)

    # The object graph: no JavaScript, only allowed actions, printable annotations, no LZW,
    # no interpolation or alternates, no transfer functions, no CMYK images, no PostScript.
    for obj in _walk(reader):
        if "/JS" in obj or "/JavaScript" in obj:
            bad.append("JavaScript")
        if obj.get("/Type") == "/Action" or ("/S" in obj and ("/JS" in obj or "/URI" in obj or "/D" in obj)):
            if obj.get("/S") not in ALLOWED_ACTIONS:
                bad.append(f"action {obj.get('/S')}")
        if "/AA" in obj:
            bad.append("additional actions /AA")
        if "/Rect" in obj and obj.get("/Subtype") not in (None, "/Popup") and "/Annots" not in obj:
            flags = int(obj.get("/F", 0))
            if not flags & 4 or flags & (1 | 2 | 32):
                bad.append(f"annotation {obj.get('/Subtype')} not printable")
        filters = obj.get("/Filter")
        filters = list(filters) if isinstance(filters, ArrayObject) else [filters] if filters else []
        if any(f in ("/LZWDecode", "/LZW") for f in filters):
            bad.append("LZW")
        if obj.get("/Subtype") == "/Image":
            if obj.get("/Interpolate") == True:  # noqa: E712 (a BooleanObject is always truthy)
                bad.append("image interpolation")
            if "/Alternates" in obj or "/OPI" in obj:
                bad.append("image alternates / OPI")
            if obj.get("/ColorSpace") == "/DeviceCMYK":
                bad.append("DeviceCMYK image with an RGB output intent")
        if obj.get("/Type") == "/ExtGState" and ("/TR" in obj or obj.get("/TR2", "/Default") != "/Default"):
            bad.append("transfer function")
        if obj.get("/Subtype") == "/PS" or obj.get("/Subtype2") == "/PS":
            bad.append("PostScript XObject")

    # Embedded files (PDF/A-3): /F, /UF, /AFRelationship, MIME subtype, listed in the catalogue's /AF.
    af = {ref.idnum for ref in root.get("/AF") or []}
    names = root.get("/Names", {}).get("/EmbeddedFiles", {}).get("/Names", [])
    for i in range(1, len(names), 2):
        ref = names[i]
        spec = ref.get_object()
        if "/AFRelationship" not in spec or "/F" not in spec or "/UF" not in spec:
            bad.append("file specification without /F, /UF or /AFRelationship")
        if not isinstance(ref, IndirectObject) or ref.idnum not in af:
            bad.append("embedded file not in the catalogue's /AF")
        if "/Subtype" not in spec["/EF"]["/F"].get_object():
            bad.append("embedded file stream without a MIME /Subtype")
    return bad


def _width_mismatches(font) -> list[str]:
    """PDF/A 6.2.11.5: /Widths are the glyph advances of the embedded program."""
    from fontTools.ttLib import TTFont

    program = TTFont(io.BytesIO(font["/FontDescriptor"]["/FontFile2"].get_data()))
    scale = 1000 / program["head"].unitsPerEm
    cmap = program.getBestCmap()
    out = []
    first = int(font["/FirstChar"])
    for k, w in enumerate(font["/Widths"]):
        ch = bytes([first + k]).decode("cp1252", errors="ignore")
        if ch and ord(ch) in cmap and abs(program["hmtx"][cmap[ord(ch)]][0] * scale - float(w)) > 1:
            out.append(f"{font['/BaseFont']}: width of {ch!r} is {w}, the program says "
                       f"{program['hmtx'][cmap[ord(ch)]][0] * scale:.0f}")
    return out


@pytest.fixture
def archived(actx):
    case = rich_case()
    cf = build_casefile(case, user("archivist"))
    return case, cf, PdfReader(io.BytesIO(cf.pdf))


def test_the_case_file_meets_pdfa3b(archived):
    case, cf, reader = archived
    assert pdfa3b_violations(cf.pdf) == []
    assert cf.pdfa_problems == []
    xml = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert case.number in xml and case.agency.name in xml  # title and 责任者 (dc:creator)
    assert len(reader.attachments) >= 4  # the letters' originals, allowed in PDF/A-3


def test_the_archive_number_is_dc_identifier(actx):
    from tests.factories import archive, build_case

    case = archive(build_case("delivered"))
    case = reload(case)
    assert case.archive_number
    data = build_casefile(case, user("archivist")).pdf
    assert pdfa3b_violations(data) == []
    xml = PdfReader(io.BytesIO(data)).trailer["/Root"]["/Metadata"].get_object().get_data()
    ident = ET.fromstring(xml[xml.index(b"<x:xmpmeta"):xml.index(b"</x:xmpmeta>") + 12]).find(
        "rdf:RDF/rdf:Description/dc:identifier", NS)
    assert ident is not None and ident.text == case.archive_number


def test_the_checker_finds_what_it_checks(archived):
    """The checker is not blind: a case file without XMP, with base-14 fonts or JavaScript fails."""
    from pypdf import PdfWriter
    from pypdf.generic import NameObject, TextStringObject

    _case, cf, _reader = archived
    w = PdfWriter(clone_from=io.BytesIO(cf.pdf))
    del w._root_object["/Metadata"]
    buf = io.BytesIO()
    w.write(buf)
    assert "no XMP metadata" in pdfa3b_violations(buf.getvalue())
    w = PdfWriter(clone_from=io.BytesIO(cf.pdf))
    font = w.pages[0]["/Resources"]["/Font"]["/OGIPageNo"].get_object()
    del font["/FontDescriptor"].get_object()["/FontFile2"]  # as the base-14 Helvetica stamps were
    buf = io.BytesIO()
    w.write(buf)
    assert any(v.startswith("font not embedded: /PAGENO") for v in pdfa3b_violations(buf.getvalue()))
    w = PdfWriter(clone_from=io.BytesIO(cf.pdf))
    w._root_object[NameObject("/OpenAction")] = w._add_object(DictionaryObject({
        NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject("app.alert(1)")}))
    buf = io.BytesIO()
    w.write(buf)
    assert "JavaScript" in pdfa3b_violations(buf.getvalue())


def test_a_letter_in_an_unembedded_standard_font_gets_an_embedded_stand_in(actx):
    """A copied page naming Courier without its program: embedded (a metric-compatible face), the
    text still there."""
    from tests.casefile.test_casefile_pdf import plain_pdf

    case = build_plain_case()
    add_letter(case, "政府信息公开申请延期答复告知书", key="extension_notice", pdf=plain_pdf("Reply in Courier 42"))
    cf = build_casefile(reload(case), None)
    assert pdfa3b_violations(cf.pdf) == []
    assert "Reply in Courier 42" in "".join(p.extract_text() for p in PdfReader(io.BytesIO(cf.pdf)).pages)


def test_stamp_fonts_are_embedded_subsets(archived):
    _case, _cf, reader = archived
    stamp = [f for f in _fonts(reader) if str(f.get("/BaseFont", "")).startswith(("/PAGENO+", "/SLOTNO+"))]
    assert {str(f["/BaseFont"]).split("+")[0] for f in stamp} == {"/PAGENO", "/SLOTNO"}
    for f in stamp:
        program = f["/FontDescriptor"]["/FontFile2"].get_data()
        assert len(program) < 20_000  # digits and a hyphen, not the whole face
        assert _width_mismatches(f) == []


# ------------------------------------------------------------------ one seal for all letters

def _seal_png() -> bytes:
    """A 600 × 600 red seal with transparency (as agencies upload them)."""
    from PIL import Image, ImageDraw

    im = Image.new("RGBA", (600, 600), (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    d.ellipse((10, 10, 590, 590), outline=(220, 0, 0, 255), width=24)
    d.regular_polygon((300, 300, 120), 5, fill=(220, 0, 0, 255))
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


@lru_cache(maxsize=8)
def sealed_letter_pdf(title: str, number: str) -> bytes:
    from weasyprint import CSS, HTML

    seal = base64.b64encode(_seal_png()).decode()
    html = (f"<html><body><h1>{title}</h1><p class='no'>{number}</p><p>本机关现答复如下。</p>"
            f"<p style='text-align:right'>示范市自然资源和规划局<img src='data:image/png;base64,{seal}' "
            f"style='width:42mm;height:42mm'></p></body></html>")
    return HTML(string=html).write_pdf(stylesheets=[CSS(string=LETTER_CSS)])


def image_objects(reader: PdfReader) -> dict[str, set[int]]:
    """Image XObjects used by the pages, by content hash: hash → object numbers holding it."""
    out: dict[str, set[int]] = {}

    def visit(res):
        if res is None:
            return
        for _n, ref in (res.get_object().get("/XObject") or {}).items():
            x = ref.get_object()
            if x.get("/Subtype") == "/Image":
                out.setdefault(hashlib.sha256(x.get_data()).hexdigest(), set()).add(ref.idnum)
                if "/SMask" in x:
                    m = x.raw_get("/SMask")
                    out.setdefault(hashlib.sha256(m.get_object().get_data()).hexdigest(), set()).add(m.idnum)
            elif x.get("/Subtype") == "/Form":
                visit(x.get("/Resources"))

    for page in reader.pages:
        visit(page.get("/Resources"))
    return out


def test_the_seal_is_stored_once_for_all_letters(actx):
    case = build_plain_case()
    titles = ["政府信息公开申请补正告知书", "政府信息公开申请延期答复告知书", "政府信息公开申请征求意见书"]
    for k, title in enumerate(titles):
        add_letter(case, title, key="extension_notice", pdf=sealed_letter_pdf(title, f"示〔2026〕{90 + k}号"))
    cf = build_casefile(reload(case), None)
    reader = PdfReader(io.BytesIO(cf.pdf))
    per_letter = image_objects(PdfReader(io.BytesIO(sealed_letter_pdf(titles[0], "示〔2026〕90号"))))
    assert len(per_letter) == 2  # the seal and its transparency mask
    images = image_objects(reader)
    for digest in per_letter:
        assert len(images[digest]) == 1, "one object for the seal of every letter"
    assert cf.images["images"] >= 6 and cf.images["unique"] <= cf.images["images"] - 4
    assert pdfa3b_violations(cf.pdf) == []


# ------------------------------------------------------------------ catalogue and process record

def _catalogue_text(reader, cf) -> str:
    first_item = min(it.first_page for it in cf.items)
    return "".join(text(reader.pages[p]) for p in range(1, first_item - 1))


def test_catalogue_has_the_responsible_and_numbers_only_where_they_exist(actx):
    from app.services import letters as L
    from app.services.time import today

    case = rich_case()
    receipt = L.issue_notice(case.id, user("clerk"), "receipt", today())
    assert receipt.number is None  # an unnumbered letter type
    case = reload(case)
    cf = build_casefile(case, user("archivist"))
    reader = PdfReader(io.BytesIO(cf.pdf))
    catalogue = _catalogue_text(reader, cf)
    assert "责任者" in catalogue and "文号" in catalogue
    by_title = {it.title: it for it in cf.items}
    assert by_title["政府信息公开申请表"].responsible == case.applicant_name  # incoming: the applicant
    assert by_title["示范建设有限公司确认函"].responsible == "示范建设有限公司"  # the consulted party
    assert by_title["政府信息公开申请答复书"].responsible == case.agency.name
    unnumbered = next(it for it in cf.items if it.letter is not None and it.letter.id == receipt.id)
    assert unnumbered.number == "" and unnumbered.responsible == case.agency.name
    for word in ("不编号", "—", "None"):
        assert word not in catalogue
    # The row of the unnumbered letter: 序号, then straight to the 责任者.
    seq = cf.items.index(unnumbered) + 1
    assert f"{seq}{case.agency.name}{unnumbered.title}" in catalogue


def test_catalogue_without_the_fix_would_show_a_number_column_filled_for_every_letter(actx):
    """Each letter with a 文号 shows it in the catalogue; the applicant's scans show the applicant."""
    case = rich_case()
    cf = build_casefile(case, user("archivist"))
    catalogue = _catalogue_text(PdfReader(io.BytesIO(cf.pdf)), cf)
    for it in cf.items:
        if it.letter is not None and it.letter.number:
            assert it.letter.number in catalogue
    assert catalogue.count(case.applicant_name) >= 2


_LEAK = re.compile(r"[A-Za-z_][A-Za-z0-9_]*[：:]|\bstep-\d|\b[a-z]+_[a-z_]+\b|\b(receipt|reply|none|true|false)\b")


def _timeline_text(reader, cf) -> str:
    it = next(i for i in cf.items if i.section == "timeline")
    return "".join(text(reader.pages[p - 1]) for p in range(it.first_page, it.last_page + 1))


def test_process_record_is_plain_chinese_for_real_events(actx):
    """A case with registration, correction, consultation, extension, drafts, review, sign-off,
    issue, service, uploads, unnumbered and numbered notices, a re-issue and archiving."""
    from app.services import cases as S
    from app.services import letters as L
    from app.services.time import today
    from tests.factories import archive

    case = rich_case()
    L.issue_notice(case.id, user("clerk"), "receipt", today())
    archive(reload(case))
    case = reload(case)
    actions = {ev.action for ev in case.events}
    assert {"register", "issue_notice", "archive", "attach", "consult", "extend"} <= actions
    cf = build_casefile(case, user("archivist"))
    timeline = _timeline_text(PdfReader(io.BytesIO(cf.pdf)), cf)
    assert not _LEAK.findall(timeline), _LEAK.findall(timeline)
    assert "案号" not in timeline and "文号：示自然资规公开〔2026〕" in timeline
    assert f"案件编号：{case.number}" in timeline
    assert "文书：政府信息公开申请受理回执" in timeline or "文书：" in timeline

    withdrawn = S.register_case(user("clerk"), _intake())
    S.perform(withdrawn.id, user("clerk"), "withdraw", {"note": "申请人书面撤回"})
    cf = build_casefile(reload(withdrawn.id), None)
    timeline = _timeline_text(PdfReader(io.BytesIO(cf.pdf)), cf)
    assert "申请人书面撤回" in timeline and not _LEAK.findall(timeline)


def _intake():
    from tests.conftest import INTAKE
    return dict(INTAKE)


def _sample(inp):
    if inp.choices:
        return next(iter(inp.choices))
    return {"text": "某某事项", "date": "2026-11-02", "integer": 3, "boolean": True,
            "items": [{"name": "第一项", "basis": "第十四条"}], "choice": "x"}[inp.kind]


def test_every_kind_of_event_is_summarised_without_internal_keys(actx):
    """Every workflow step with every declared input filled, plus the internal data the services
    add (hashes, ids, references, letter keys): nothing ASCII-coded reaches the printed record."""
    from app.casefile.render import _action_label, _event_summary
    from app.services.operations import operations

    internal = {"ref": "step-3", "key": "receipt", "content_hash": "ab" * 32, "step_id": 3, "attachment_id": 9,
                "calendar_version": "2026.1", "provisional": False, "receipt_basis": "in_person",
                "channel": "registered_post", "late": False, "effect": "pause", "number": "示〔2026〕1号",
                "remedy_id": 2, "kind": "third_party", "result": "agree", "sha256": "cd" * 32}
    extra = ["register", "import", "import_update", "triage", "calendar_recompute", "approve_notice",
             "issue_notice", "reissue_notice", "remedy_add", "remedy_update", "attach", "archive"]
    for name in list(operations()) + extra:
        op = operations().get(name)
        data = {i.name: _sample(i) for i in (op.inputs if op else ())} | internal
        import json
        ev = Event(action=name, label="", data_json=json.dumps(data, ensure_ascii=False))
        summary = _event_summary(ev)
        assert not _LEAK.findall(summary), (name, summary)
        assert "step-" not in summary and "receipt" not in summary and "ab" * 8 not in summary
        assert ("文号：示〔2026〕1号" in summary) != (name in ("register", "import", "import_update", "triage"))
        if name in operations():
            assert _action_label(name)
    assert "结果：同意公开" in _event_summary(Event(action="consultation_reply", label="",
                                                   data_json='{"result": "agree"}'))


# ------------------------------------------------------------------ rows never split

def test_table_rows_never_split_across_pages(actx):
    """A process record long enough to run over several pages, rows of many lines: each row's
    text is found whole on one page."""
    from app.services.audit import record

    case = build_plain_case()
    notes = []
    for k in range(40):
        note = f"第{k}条记录" + "说明文字需要换行" * (3 + k % 5) + f"结束{k}"  # under 80: not shortened
        notes.append(note)
        record(case, user("handler"), "note", "办理说明", case.state, case.state, {"note": note})
    db.session.commit()
    cf = build_casefile(reload(case), None)
    reader = PdfReader(io.BytesIO(cf.pdf))
    it = next(i for i in cf.items if i.section == "timeline")
    pages = [text(reader.pages[p - 1]) for p in range(it.first_page, it.last_page + 1)]
    assert len(pages) >= 3
    for k, note in enumerate(notes):
        whole = [n for n, page in enumerate(pages) if f"说明：{note}"[:60] in page and f"结束{k}" in page]
        assert whole, f"row {k} is split across pages"


# ------------------------------------------------------------------ scans fitted to A4

A4_PT = (595.28, 841.89)


def _big_image(fmt: str, size=(5000, 7000), dpi=(100, 100)) -> bytes:
    from PIL import Image, ImageDraw

    im = Image.new("RGB", size, (255, 255, 255))
    d = ImageDraw.Draw(im)
    d.rectangle((0, 0, size[0] - 1, size[1] - 1), outline=(0, 0, 0), width=60)
    buf = io.BytesIO()
    im.save(buf, fmt, dpi=dpi, **({"quality": 60} if fmt == "JPEG" else {}))
    return buf.getvalue()


def _big_pdf() -> bytes:
    from weasyprint import CSS, HTML

    return HTML(string="<html><body><div class='b'>大幅面扫描件 A2</div></body></html>").write_pdf(
        stylesheets=[CSS(string="@page { size: A2; margin: 0 } body { margin: 0 } "
                                ".b { height: 594mm; border: 8mm solid #000; box-sizing: border-box; "
                                "font-family: 'Noto Serif CJK SC'; font-size: 40pt }")])


def _dark_bbox(pdf: bytes, page: int, tmp_path) -> tuple[float, float, float, float]:
    """The ink of a page as fractions of its width and height (pdftoppm at 20 dpi)."""
    from PIL import Image

    (tmp_path / "f.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "20", "-gray", "-f", str(page), "-l", str(page), "-singlefile",
                    str(tmp_path / "f.pdf"), str(tmp_path / "r")], check=True)
    im = Image.open(tmp_path / "r.pgm")
    box = im.point(lambda v: 255 if v < 128 else 0).getbbox()
    w, h = im.size
    return box[0] / w, box[1] / h, box[2] / w, box[3] / h


@pytest.mark.parametrize("kind", ["png", "jpeg", "pdf"])
def test_oversized_scans_are_fitted_to_a4(actx, tmp_path, kind):
    case = build_plain_case()
    data = {"png": lambda: _big_image("PNG"), "jpeg": lambda: _big_image("JPEG"), "pdf": _big_pdf}[kind]()
    A.add_attachment(case.id, user("clerk"), data, f"big.{kind}", "application_form", "大幅面扫描件")
    cf = build_casefile(reload(case), None)
    reader = PdfReader(io.BytesIO(cf.pdf))
    it = next(i for i in cf.items if i.title == "大幅面扫描件")
    page = reader.pages[it.first_page - 1]
    w, h = float(page.mediabox.width), float(page.mediabox.height)
    assert (round(w), round(h)) == (round(A4_PT[0]), round(A4_PT[1]))
    x0, y0, x1, y1 = _dark_bbox(cf.pdf, it.first_page, tmp_path)
    # The whole scan is on the page (its frame on both sides), scaled down, proportions kept.
    ratio = 7000 / 5000 if kind != "pdf" else 594 / 420
    assert x0 >= 0 and x1 <= 1 and y1 <= 1
    assert (x1 - x0) > 0.85 or (y1 - y0) > 0.85
    assert abs(((y1 - y0) * h) / ((x1 - x0) * w) - ratio) < 0.05
    if kind == "pdf":
        assert "大幅面扫描件" in page.extract_text()
    assert pdfa3b_violations(cf.pdf) == []


def test_small_scans_are_not_enlarged(actx):
    case = build_plain_case()
    small = png_bytes(size=(400, 300))  # no resolution given: taken as 200 dpi, 2 × 1.5 inches
    A.add_attachment(case.id, user("clerk"), small, "id.png", "identity", "身份证复印件")
    cf = build_casefile(reload(case), None)
    reader = PdfReader(io.BytesIO(cf.pdf))
    it = next(i for i in cf.items if i.title == "身份证复印件")
    content = reader.pages[it.first_page - 1].get_contents().get_data().decode()
    m = re.search(r"([\d.]+) 0 0 ([\d.]+) [\d.]+ [\d.]+ cm /Scan Do", content)
    assert abs(float(m[1]) - 400 * 72 / 200) < 0.5 and abs(float(m[2]) - 300 * 72 / 200) < 0.5
