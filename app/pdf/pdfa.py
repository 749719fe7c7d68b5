"""Make a pypdf writer's document PDF/A-3b (ISO 19005-3, level B: the look is preserved).

What a conforming reader checks and this module provides: the PDF 1.7 header, a document ID, no
encryption, XMP metadata (pdfaid part 3 / conformance B) matching the Info dictionary, an sRGB
output intent (which also covers DeviceRGB/DeviceGray and transparency), every font program
embedded, annotations printable, no JavaScript or other forbidden actions, no LZW, no transfer
functions, no image interpolation, embedded files listed in the catalogue's /AF with their
/AFRelationship. ``scrub`` mends what pages copied from other PDFs bring in and returns what it
could not mend (a DeviceCMYK image, a symbolic or CID font that is not embedded).
"""
from __future__ import annotations

import hashlib
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Callable
from xml.sax.saxutils import escape

from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    BooleanObject,
    ByteStringObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NumberObject,
    StreamObject,
    TextStringObject,
)

from .simplefont import WINANSI, system_face, truetype_font

PRINT = 4  # annotation flag bit 3; Hidden (2), Invisible (1), NoView (32) must be off
_BAD_FLAGS = 1 | 2 | 32
_ALLOWED_ACTIONS = {"/GoTo", "/GoToR", "/GoToE", "/Thread", "/URI", "/Named", "/SetOCGState"}
_SIMPLE = {"/Type1", "/TrueType", "/MMType1"}
_LZW = {"/LZWDecode", "/LZW"}


@dataclass
class Meta:
    title: str
    identifier: str = ""  # dc:identifier, e.g. the 档号
    creator: str = ""  # dc:creator / Info Author: who made the document (the agency)
    description: str = ""  # dc:description / Info Subject
    creator_tool: str = ""  # xmp:CreatorTool / Info Creator
    producer: str = ""  # pdf:Producer / Info Producer
    created: datetime = field(default_factory=lambda: datetime.now().astimezone())
    lang: str = "zh-CN"


@lru_cache(maxsize=1)
def srgb_profile() -> bytes:
    """An sRGB ICC profile made by LittleCMS (through Pillow): no file to download or ship."""
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _pdf_date(d: datetime) -> str:
    off = d.utcoffset()
    if off is None:
        return d.strftime("D:%Y%m%d%H%M%S")
    minutes = int(off.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return d.strftime("D:%Y%m%d%H%M%S") + f"{sign}{abs(minutes) // 60:02d}'{abs(minutes) % 60:02d}'"


def _xmp_date(d: datetime) -> str:
    return d.isoformat(timespec="seconds")


def xmp(meta: Meta, document_id: str) -> bytes:
    e = escape

    def alt(v: str) -> str:
        return f'<rdf:Alt><rdf:li xml:lang="x-default">{e(v)}</rdf:li></rdf:Alt>'

    props = [
        "<pdfaid:part>3</pdfaid:part>", "<pdfaid:conformance>B</pdfaid:conformance>",
        "<dc:format>application/pdf</dc:format>", f"<dc:title>{alt(meta.title)}</dc:title>",
    ]
    if meta.creator:
        props.append(f"<dc:creator><rdf:Seq><rdf:li>{e(meta.creator)}</rdf:li></rdf:Seq></dc:creator>")
    if meta.description:
        props.append(f"<dc:description>{alt(meta.description)}</dc:description>")
    if meta.identifier:
        props.append(f"<dc:identifier>{e(meta.identifier)}</dc:identifier>")
    if meta.lang:
        props.append(f"<dc:language><rdf:Bag><rdf:li>{e(meta.lang)}</rdf:li></rdf:Bag></dc:language>")
    date = _xmp_date(meta.created)
    props += [f"<xmp:CreateDate>{date}</xmp:CreateDate>", f"<xmp:ModifyDate>{date}</xmp:ModifyDate>",
              f"<xmp:MetadataDate>{date}</xmp:MetadataDate>"]
    if meta.creator_tool:
        props.append(f"<xmp:CreatorTool>{e(meta.creator_tool)}</xmp:CreatorTool>")
    if meta.producer:
        props.append(f"<pdf:Producer>{e(meta.producer)}</pdf:Producer>")
    props += [f"<xmpMM:DocumentID>uuid:{document_id}</xmpMM:DocumentID>",
              f"<xmpMM:InstanceID>uuid:{document_id}</xmpMM:InstanceID>"]
    body = "\n  ".join(props)
    text = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        '<rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xmp="http://ns.adobe.com/xap/1.0/"'
        ' xmlns:pdf="http://ns.adobe.com/pdf/1.3/" xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/">\n  '
        f"{body}\n"
        "</rdf:Description>\n</rdf:RDF>\n</x:xmpmeta>\n"
        + " " * 100 + "\n"  # padding: room to edit in place, as XMP writers leave it
        + '<?xpacket end="w"?>'
    )
    return text.encode("utf-8")


def finish(writer: PdfWriter, meta: Meta) -> None:
    """Header, ID, Info, XMP, output intent, /AF and language: call after the pages and
    attachments are in and after ``scrub``."""
    writer.pdf_header = "%PDF-1.7"
    seed = f"{meta.identifier}|{meta.title}|{meta.created.isoformat()}".encode()
    first = hashlib.md5(seed, usedforsecurity=False).digest()
    doc_id = str(uuid.UUID(bytes=first))
    writer._ID = ArrayObject([ByteStringObject(first), ByteStringObject(first)])
    info = {"/Title": meta.title, "/Author": meta.creator, "/Subject": meta.description,
            "/Creator": meta.creator_tool, "/Producer": meta.producer,
            "/CreationDate": _pdf_date(meta.created), "/ModDate": _pdf_date(meta.created)}
    writer.add_metadata({k: v for k, v in info.items() if v})
    for k in [k for k in writer._info.get_object() if k not in info or not info[k]]:
        del writer._info.get_object()[k]  # pypdf's own /Producer etc.: Info must equal the XMP

    root = writer._root_object
    stream = StreamObject()
    stream._data = xmp(meta, doc_id)  # not compressed: PDF/A wants it readable as it is
    stream.update({NameObject("/Type"): NameObject("/Metadata"), NameObject("/Subtype"): NameObject("/XML")})
    root[NameObject("/Metadata")] = writer._add_object(stream)

    icc = StreamObject()
    icc._data = zlib.compress(srgb_profile())
    icc.update({NameObject("/N"): NumberObject(3), NameObject("/Filter"): NameObject("/FlateDecode")})
    intent = DictionaryObject({
        NameObject("/Type"): NameObject("/OutputIntent"), NameObject("/S"): NameObject("/GTS_PDFA1"),
        NameObject("/OutputConditionIdentifier"): TextStringObject("sRGB"),
        NameObject("/RegistryName"): TextStringObject("http://www.color.org"),
        NameObject("/Info"): TextStringObject("sRGB IEC61966-2.1"),
        NameObject("/DestOutputProfile"): writer._add_object(icc),
    })
    root[NameObject("/OutputIntents")] = ArrayObject([writer._add_object(intent)])
    if meta.lang:
        root[NameObject("/Lang")] = TextStringObject(meta.lang)
    specs = embedded_file_specs(writer)
    if specs:
        root[NameObject("/AF")] = ArrayObject(specs)
    for key in ("/OpenAction", "/AA"):
        if key in root:
            del root[key]


def embedded_file_specs(writer: PdfWriter) -> list[IndirectObject]:
    """The file specifications of the EmbeddedFiles name tree (references, for /AF)."""
    names = writer._root_object.get("/Names")
    tree = names.get_object().get("/EmbeddedFiles") if names is not None else None
    out: list[IndirectObject] = []

    def walk(node):
        node = node.get_object()
        arr = node.get("/Names")
        if arr is not None:
            arr = arr.get_object()
            for i in range(1, len(arr), 2):
                ref = arr[i]
                if not isinstance(ref, IndirectObject):
                    ref = writer._add_object(ref)
                    arr[i] = ref
                out.append(ref)
        for kid in node.get("/Kids", []) or []:
            walk(kid)

    if tree is not None:
        walk(tree)
    return out


FaceFinder = Callable[[str], "str | None"]


def scrub(writer: PdfWriter, face_for: FaceFinder = system_face) -> list[str]:
    """Mend, in every object of the writer, what PDF/A forbids; return what could not be mended."""
    problems: list[str] = []
    embedded: dict[tuple, DictionaryObject] = {}
    for obj in list(writer._objects):
        if not isinstance(obj, DictionaryObject):
            continue
        kind, sub = obj.get("/Type"), obj.get("/Subtype")
        if "/AA" in obj:
            del obj["/AA"]
        action = obj.get("/A")
        if action is not None and isinstance(action.get_object(), DictionaryObject) \
                and action.get_object().get("/S") not in _ALLOWED_ACTIONS:
            del obj["/A"]
        if obj.get("/S") in ("/JavaScript", "/Launch", "/ImportData", "/ResetForm", "/SubmitForm"):
            for key in ("/JS", "/F", "/Next"):
                if key in obj:
                    del obj[key]
            obj[NameObject("/S")] = NameObject("/Named")  # an inert action: nothing left to run
            obj[NameObject("/N")] = NameObject("/NextPage")
        if "/Rect" in obj and sub is not None and (kind in (None, "/Annot")):
            _annotation(obj)
        if kind == "/Page" or sub in ("/Image", "/Form"):
            if "/Metadata" in obj:
                del obj["/Metadata"]  # parts' own XMP is not ours to vouch for; the document's is
            for key in ("/OPI", "/Alternates", "/PieceInfo" if sub == "/Image" else "/_"):
                if key in obj:
                    del obj[key]
            if obj.get("/Interpolate") == True:  # noqa: E712 (a BooleanObject is always truthy)
                obj[NameObject("/Interpolate")] = BooleanObject(False)
            if sub == "/Image" and _is_cmyk(obj.get("/ColorSpace")):
                problems.append("扫描件含 CMYK 图像")
        if sub == "/PS" or obj.get("/Subtype2") == "/PS":
            problems.append("PostScript XObject")
        if kind == "/ExtGState":
            for key in ("/TR", "/HTP"):
                if key in obj:
                    del obj[key]
            if "/TR2" in obj and obj["/TR2"] != "/Default":
                obj[NameObject("/TR2")] = NameObject("/Default")
        if isinstance(obj, StreamObject):
            _no_lzw(obj)
        if kind == "/Font" or (sub in _SIMPLE | {"/Type0", "/Type3"} and "/BaseFont" in obj):
            problem = _font(writer, obj, face_for, embedded)
            if problem:
                problems.append(problem)
    return sorted(set(problems))


def _annotation(annot: DictionaryObject) -> None:
    flags = int(annot.get("/F", 0))
    annot[NameObject("/F")] = NumberObject((flags | PRINT) & ~_BAD_FLAGS)


def _is_cmyk(cs) -> bool:
    if cs is None:
        return False
    cs = cs.get_object()
    if cs == "/DeviceCMYK":
        return True
    if isinstance(cs, ArrayObject) and cs and cs[0] == "/Indexed" and len(cs) > 1:
        return _is_cmyk(cs[1])
    return False


def _filters(stream: StreamObject) -> list:
    f = stream.get("/Filter")
    if f is None:
        return []
    f = f.get_object()
    return list(f) if isinstance(f, ArrayObject) else [f]


def _no_lzw(stream: StreamObject) -> None:
    if not any(f in _LZW for f in _filters(stream)):
        return
    data = stream.get_data()  # decodes every filter
    for key in ("/Filter", "/DecodeParms"):
        if key in stream:
            del stream[key]
    stream._data = zlib.compress(data)
    stream[NameObject("/Filter")] = NameObject("/FlateDecode")


def _has_program(descriptor) -> bool:
    if descriptor is None:
        return False
    d = descriptor.get_object()
    return any(k in d for k in ("/FontFile", "/FontFile2", "/FontFile3"))


def _font(writer, font: DictionaryObject, face_for: FaceFinder, done: dict) -> str:
    sub = font.get("/Subtype")
    if sub == "/Type3":
        return ""
    if sub == "/Type0":
        kids = font.get("/DescendantFonts")
        kid = kids.get_object()[0].get_object() if kids else None
        if kid is None or not _has_program(kid.get("/FontDescriptor")):
            return f"字体未嵌入：{str(font.get('/BaseFont', ''))[1:]}"
        return ""
    if _has_program(font.get("/FontDescriptor")):
        return ""
    base = str(font.get("/BaseFont", "/"))[1:]
    encoding = font.get("/Encoding")
    encoding = encoding.get_object() if encoding is not None else None
    if isinstance(encoding, DictionaryObject):
        if "/Differences" in encoding:
            return f"字体未嵌入：{base}"
        encoding = encoding.get("/BaseEncoding")
    if encoding not in (None, "/WinAnsiEncoding", "/StandardEncoding"):
        return f"字体未嵌入：{base}"
    if base.split("+")[-1].startswith(("Symbol", "ZapfDingbats")):
        return f"字体未嵌入：{base}"
    path = face_for(base)
    if path is None:
        return f"字体未嵌入：{base}"
    key = (path, base)
    if key not in done:
        tag = "".join(chr(65 + b % 26) for b in hashlib.sha256(base.encode()).digest()[:6])
        done[key], _widths = truetype_font(writer, path, WINANSI, tag)
    new = done[key]
    for k in list(font.keys()):
        del font[k]
    font.update(new)  # in place: every page that names this font now names the embedded one
    return ""
