"""Redaction for partial disclosure (Art. 37): the page view, text search and personal-data
suggestions as boxes, and the released copy, in which every page with a box is replaced by an
image of itself with the boxes burnt in.

Coordinates are fractions (0–1) of the page as displayed (its /Rotate applied, its CropBox), from
the top left corner: the browser draws boxes on a rendered image of the page. pdfium renders and
reads text; pypdf writes the released copy. pdfium is not thread-safe and gunicorn runs threads,
so every pdfium call holds one lock, taken page by page so a long release does not hold the page
views of the other threads for long."""
from __future__ import annotations

import io
import math
import re
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import pypdfium2 as pdfium
from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    NumberObject,
    StreamObject,
)

from ..domain import redaction

RENDER_MEDIA_TYPE = "image/png"  # what render_page returns
MAX_VIEW_PIXELS = 8_000_000  # the page view of an odd, very long page is made narrower
MAX_RELEASE_PIXELS = 40_000_000  # ≈ A2 at 300 dpi; a larger page is rasterised at a lower resolution
FIND_PAD_PT = 1.0  # around found text: glyph edges and anti-aliasing
RELEASE_PAD_PT = 0.5  # around every box when it is burnt in
JPEG_QUALITY = 80
STAMP_TOP_MM = 3.0
MM = 72 / 25.4

_PDFIUM = threading.RLock()


@dataclass(frozen=True)
class Box:
    page: int
    x0: float
    y0: float
    x1: float
    y1: float


@dataclass(frozen=True)
class PageInfo:
    width: float  # points, as displayed
    height: float
    has_text: bool


@dataclass(frozen=True)
class Hit:
    page: int
    boxes: tuple[Box, ...]
    text: str
    kind: str = "search"
    label: str = ""


@dataclass
class Released:
    pdf: bytes
    pages: int
    redacted_pages: list[int] = field(default_factory=list)  # page indices in the output


# ------------------------------------------------------------------ geometry

Matrix = tuple[float, float, float, float, float, float]  # PDF order: x' = a x + c y + e, y' = b x + d y + f


def _apply(m: Matrix, x: float, y: float) -> tuple[float, float]:
    return m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]


def _then(m: Matrix, n: Matrix) -> Matrix:
    """m, then n."""
    a, b, c, d, e, f = m
    return (a * n[0] + b * n[2], a * n[1] + b * n[3], c * n[0] + d * n[2], c * n[1] + d * n[3],
            e * n[0] + f * n[2] + n[4], e * n[1] + f * n[3] + n[5])


def _inverse(m: Matrix) -> Matrix:
    a, b, c, d, e, f = m
    det = a * d - b * c
    return d / det, -b / det, -c / det, a / det, (c * f - d * e) / det, (b * e - a * f) / det


@dataclass(frozen=True)
class _Geometry:
    to_display: Matrix  # user space → displayed points from the top left, y down
    width: float
    height: float

    def rect(self, left: float, bottom: float, right: float, top: float) -> tuple[float, float, float, float]:
        """A user-space rectangle as displayed: x0, y0, x1, y1 in points."""
        xs, ys = zip(*(_apply(self.to_display, x, y) for x in (left, right) for y in (bottom, top)))
        return min(xs), min(ys), max(xs), max(ys)

    def box(self, page: int, left: float, bottom: float, right: float, top: float, pad: float) -> Box:
        x0, y0, x1, y1 = self.rect(left, bottom, right, top)
        return Box(page, max(0.0, (x0 - pad) / self.width), max(0.0, (y0 - pad) / self.height),
                   min(1.0, (x1 + pad) / self.width), min(1.0, (y1 + pad) / self.height))


def _geometry(page: pdfium.PdfPage) -> _Geometry:
    left, bottom, right, top = page.get_bbox()  # the CropBox within the MediaBox: what is displayed
    w, h = right - left, top - bottom
    m = {0: (1, 0, 0, -1, -left, top), 90: (0, 1, 1, 0, -bottom, -left),
         180: (-1, 0, 0, 1, right, -bottom), 270: (0, -1, -1, 0, top, right)}[page.get_rotation()]
    return _Geometry(m, *((w, h) if page.get_rotation() in (0, 180) else (h, w)))


# ------------------------------------------------------------------ reading

@contextmanager
def _document(pdf: bytes) -> Iterator[pdfium.PdfDocument]:
    with _PDFIUM:
        doc = pdfium.PdfDocument(pdf)
    try:
        yield doc
    finally:
        with _PDFIUM:
            doc.close()


def page_count(pdf: bytes) -> int:
    with _document(pdf) as doc:
        return len(doc)


def inspect(pdf: bytes) -> list[PageInfo]:
    out = []
    with _document(pdf) as doc:
        for i in range(len(doc)):
            with _PDFIUM:
                page = doc[i]
                g = _geometry(page)
                text = page.get_textpage().get_text_range()
                out.append(PageInfo(g.width, g.height, bool(text.strip())))
                page.close()
    return out


def render_page(pdf: bytes, page: int, width_px: int) -> bytes:
    """The page view (RENDER_MEDIA_TYPE) without annotations or form fields: as it will be released."""
    with _document(pdf) as doc, _PDFIUM:
        p = doc[page]
        w, h = p.get_size()
        scale = min(max(width_px, 50) / w, math.sqrt(MAX_VIEW_PIXELS / (w * h)))
        image = p.render(scale=scale, draw_annots=False, may_draw_forms=False, rev_byteorder=True).to_pil()
        p.close()
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=1)  # level 1: a third of the default's time, hardly larger
    return out.getvalue()


def _chars(textpage: pdfium.PdfTextPage) -> str:
    """The page's text, one character per pdfium char index (get_text_range may drop or add some)."""
    get = pdfium.raw.FPDFText_GetUnicode
    return "".join(chr(get(textpage, i) or 0xFFFD) for i in range(textpage.count_chars()))


def _boxes(textpage, g: _Geometry, page: int, start: int, end: int) -> tuple[Box, ...]:
    """pdfium's rectangles of chars [start, end): one per line (or run of one text object)."""
    n = textpage.count_rects(start, end - start)
    return tuple(g.box(page, *textpage.get_rect(k), FIND_PAD_PT) for k in range(n))


PageHits = Callable[[int, pdfium.PdfTextPage, _Geometry, str], list[Hit]]


def _scan(pdf: bytes, on_page: PageHits, limit: int | None = None) -> list[Hit]:
    """``on_page`` on each page with a text layer, under the lock one page at a time."""
    hits: list[Hit] = []
    with _document(pdf) as doc:
        for i in range(len(doc)):
            if limit is not None and len(hits) >= limit:
                break
            with _PDFIUM:
                page = doc[i]
                textpage = page.get_textpage()
                text = _chars(textpage)
                if text.strip():
                    hits += on_page(i, textpage, _geometry(page), text)
                page.close()
    return hits[:limit]


def _fold(c: str) -> str:
    low = c.lower()
    return low if len(low) == 1 else c  # one char for one: offsets map back to char indices


def find_text(pdf: bytes, needle: str, *, limit: int = 500) -> list[Hit]:
    """Every occurrence of ``needle``, case-insensitive, whitespace and line breaks ignored (extracted
    text often has spaces between CJK glyphs, and a name may wrap to the next line)."""
    key = "".join(_fold(c) for c in needle if not c.isspace())

    def on_page(i, textpage, g, text):
        index = [k for k, c in enumerate(text) if not c.isspace()]
        hay = "".join(_fold(text[k]) for k in index)
        hits, at = [], hay.find(key)
        while at >= 0 and len(hits) < limit:
            start, end = index[at], index[at + len(key) - 1] + 1
            hits.append(Hit(i, _boxes(textpage, g, i, start, end), re.sub(r"\s+", " ", text[start:end])))
            at = hay.find(key, at + len(key))
        return hits

    return _scan(pdf, on_page, limit) if key else []


def _unwrapped(textpage, g: _Geometry, text: str) -> tuple[str, list[int]]:
    """The text with the line breaks of wrapped lines removed (an address or a number going on at
    the next line), and the char index of each of its characters. A line wraps when it reaches to
    within about one character of the page's rightmost line; shorter lines end with a newline."""
    lines, start = [], 0
    for m in re.finditer(r"\r\n", text):
        lines.append((start, m.start()))
        start = m.end()
    lines.append((start, len(text)))

    def right_end(a: int, b: int) -> tuple[float, float]:
        last = next((k for k in range(b - 1, a - 1, -1) if not text[k].isspace()), None)
        if last is None:
            return 0.0, 0.0
        _, y0, x1, y1 = g.rect(*textpage.get_charbox(last, loose=True))
        return x1, y1 - y0

    ends = [right_end(a, b) for a, b in lines]
    margin = max(x for x, _ in ends)
    out, index = [], []
    for (a, b), (x, em), nxt in zip(lines, ends, [*lines[1:], None]):
        out.append(text[a:b])
        index += range(a, b)
        if nxt is not None and margin - x > em:
            out.append("\n")
            index.append(b)
    return "".join(out), index


def find_personal_data(pdf: bytes) -> list[Hit]:
    """The findings of domain.redaction on each page's text, as boxes."""
    def on_page(i, textpage, g, text):
        joined, index = _unwrapped(textpage, g, text)
        return [Hit(i, _boxes(textpage, g, i, index[f.start], index[f.end - 1] + 1), joined[f.start:f.end],
                    f.kind, f.label) for f in redaction.find_personal_data(joined)]

    return _scan(pdf, on_page)


# ------------------------------------------------------------------ the released copy

# What an untouched page keeps: its content and what draws it; not its annotations, actions,
# thumbnail, article beads or structure keys.
_PAGE_KEYS = {"/Type", "/Resources", "/MediaBox", "/CropBox", "/Rotate", "/Contents", "/Group"}
# Never copied at any depth (pypdf's clone leaves them out, so no orphan is written either): XMP
# packets and application data of images and forms, actions, annotations.
_NEVER = ["/Metadata", "/PieceInfo", "/AA", "/Annots", "/Thumb", "/StructParent", "/StructParents"]
_PRUNED = ("/XObject", "/Font", "/ExtGState", "/Pattern", "/Shading", "/Properties")
_NAME = re.compile(rb"/([^\s/\[\]()<>{}%]+)")
_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")


def _names(content: bytes) -> set[str]:
    """Every name a content stream mentions (a superset of the resources it uses)."""
    return {"/" + _ESCAPE.sub(lambda m: bytes([int(m[1], 16)]), raw).decode("latin-1")
            for raw in _NAME.findall(content)}


def _pruned(resources, content: bytes, seen: set[int]) -> DictionaryObject:
    """The resources ``content`` names, nothing else. Producers often give every page one shared
    dictionary holding every page's images: copied whole, a rasterised page's scan would survive
    through an untouched page. Forms are pruned by their own content in turn."""
    resources = resources.get_object() if resources is not None else DictionaryObject()
    used = _names(content)
    out = DictionaryObject()
    for category, raw in resources.items():
        entries = raw.get_object()
        if category not in _PRUNED or not isinstance(entries, DictionaryObject):
            out[NameObject(category)] = raw  # a reference stays one: pypdf clones it once
            continue
        kept = DictionaryObject({NameObject(k): v for k, v in entries.items()
                                 if k in used or not k.isascii()})  # a name we cannot match is kept
        out[NameObject(category)] = kept
        for ref in kept.values():
            form = ref.get_object()
            if isinstance(ref, IndirectObject) and ref.idnum not in seen and form.get("/Subtype") == "/Form":
                seen.add(ref.idnum)  # a form drawn by many pages (or by itself) is pruned once
                form[NameObject("/Resources")] = _pruned(form.get("/Resources"), form.get_data(), seen)
    return out


def _content(page) -> bytes:
    contents = page.get_contents()
    return contents.get_data() if contents is not None else b""


def _wrap(writer: PdfWriter, page, tail: bytes) -> None:
    """Append drawing after the page's own content, in a clean graphics state."""
    head, end = DecodedStreamObject(), DecodedStreamObject()
    head.set_data(b"q\n")
    end.set_data(b"\nQ\n" + tail)
    contents = page.get("/Contents")
    own = [] if contents is None else list(contents) if isinstance(contents, ArrayObject) \
        else [page.raw_get("/Contents")]
    page[NameObject("/Contents")] = ArrayObject([writer._add_object(head), *own, writer._add_object(end)])


class _Stamp:
    """The stamp page, as a form drawn over untouched pages and as an image burnt into rasters."""

    NAME = "/OGIDeskStamp"

    def __init__(self, pdf: bytes, writer: PdfWriter) -> None:
        self.pdf = pdf
        page = PdfReader(io.BytesIO(pdf)).pages[0]
        with _document(pdf) as doc, _PDFIUM:
            p = doc[0]
            g = _geometry(p)
            left, bottom, right, top = p.get_bbox()
            p.close()
        self.to_display, self.width, self.height = g.to_display, g.width, g.height
        form = StreamObject()
        form.set_data(_content(page))
        form.update({NameObject("/Type"): NameObject("/XObject"), NameObject("/Subtype"): NameObject("/Form"),
                     NameObject("/BBox"): ArrayObject(FloatObject(v) for v in (left, bottom, right, top)),
                     NameObject("/Resources"): (page.raw_get("/Resources") if "/Resources" in page
                                                else DictionaryObject()).clone(writer)})
        self.ref = writer._add_object(form)
        self._images: dict[float, Image.Image] = {}

    def offset(self, width: float) -> tuple[float, float]:
        """Top left corner on a page ``width`` wide (as displayed): centred, 3 mm from the top."""
        return (width - self.width) / 2, STAMP_TOP_MM * MM

    def draw_on(self, writer: PdfWriter, page, g: _Geometry) -> None:
        dx, dy = self.offset(g.width)
        m = _then(_then(self.to_display, (1, 0, 0, 1, dx, dy)), _inverse(g.to_display))
        resources = page["/Resources"]
        xobjects = resources.setdefault(NameObject("/XObject"), DictionaryObject()).get_object()
        name = self.NAME
        while name in xobjects:
            name += "x"
        xobjects[NameObject(name)] = self.ref
        _wrap(writer, page, ("q " + " ".join(f"{v:.4f}" for v in m) + f" cm {name} Do Q\n").encode())

    def burn_into(self, image: Image.Image, scale: float, width: float) -> None:
        """Over the raster, transparent where the stamp draws nothing."""
        if scale not in self._images:
            with _document(self.pdf) as doc, _PDFIUM:
                p = doc[0]
                self._images[scale] = p.render(scale=scale, fill_color=(255, 255, 255, 0), draw_annots=False,
                                               rev_byteorder=True).to_pil().copy()
                p.close()
        stamp = self._images[scale]
        dx, dy = self.offset(width)
        image.paste(stamp, (round(dx * scale), round(dy * scale)), stamp)


def _raster(page: pdfium.PdfPage, g: _Geometry, boxes: Sequence[Box], stamp: _Stamp | None,
            dpi: int) -> tuple[bytes, int, int]:
    """The page as displayed, boxes painted black (padded, rounded outward), stamp on top: JPEG."""
    scale = min(dpi / 72, math.sqrt(MAX_RELEASE_PIXELS / (g.width * g.height)))
    bitmap = page.render(scale=scale, draw_annots=False, may_draw_forms=False, rev_byteorder=True)
    image = bitmap.to_pil()  # RGB: a copy, the bitmap can go
    bitmap.close()
    pad = RELEASE_PAD_PT * scale
    for b in boxes:
        x0, x1 = (max(0, math.floor(min(b.x0, b.x1) * image.width - pad)),
                  min(image.width, math.ceil(max(b.x0, b.x1) * image.width + pad)))
        y0, y1 = (max(0, math.floor(min(b.y0, b.y1) * image.height - pad)),
                  min(image.height, math.ceil(max(b.y0, b.y1) * image.height + pad)))
        if x1 > x0 and y1 > y0:
            image.paste((0, 0, 0), (x0, y0, x1, y1))
    if stamp is not None:
        stamp.burn_into(image, image.width / g.width, g.width)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=JPEG_QUALITY)
    return out.getvalue(), image.width, image.height


def _image_page(writer: PdfWriter, jpeg: bytes, px: tuple[int, int], g: _Geometry) -> None:
    """A page of the displayed size carrying only the image."""
    image = StreamObject()
    image._data = jpeg  # already DCT-encoded
    image.update({NameObject("/Type"): NameObject("/XObject"), NameObject("/Subtype"): NameObject("/Image"),
                  NameObject("/Width"): NumberObject(px[0]), NameObject("/Height"): NumberObject(px[1]),
                  NameObject("/ColorSpace"): NameObject("/DeviceRGB"), NameObject("/BitsPerComponent"): NumberObject(8),
                  NameObject("/Filter"): NameObject("/DCTDecode")})
    content = DecodedStreamObject()
    content.set_data(f"q {g.width:.4f} 0 0 {g.height:.4f} 0 0 cm /Page Do Q".encode())
    page = writer.add_blank_page(g.width, g.height)
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/XObject"): DictionaryObject({NameObject("/Page"): writer._add_object(image)})})
    page[NameObject("/Contents")] = writer._add_object(content)


def _copy_page(writer: PdfWriter, page, g: _Geometry, stamp: _Stamp | None, seen: set[int]) -> None:
    page[NameObject("/Resources")] = _pruned(page.get("/Resources"), _content(page), seen)
    top_level_only = [x for k in page if k not in _PAGE_KEYS and k not in _NEVER for x in (1, k)]
    copy = writer.add_page(page, excluded_keys=[*_NEVER, *top_level_only])
    if stamp is not None:
        stamp.draw_on(writer, copy, g)


def release(documents: Sequence[tuple[bytes, Sequence[Box]]], stamp: bytes | None = None,
            progress: Callable[[int, int], None] | None = None, dpi: int = 300) -> Released:
    """One PDF of every document's pages in order: pages with a box rasterised (nothing of the
    original survives), the others copied with their text; the stamp on every page; no document
    metadata, attachments, outlines, forms, scripts or annotations. A fresh file, no history."""
    total = sum(page_count(pdf) for pdf, _ in documents)
    writer = PdfWriter()
    art = _Stamp(stamp, writer) if stamp else None
    done, redacted = 0, []
    for pdf, boxes in documents:
        reader = PdfReader(io.BytesIO(pdf))
        if reader.is_encrypted:
            reader.decrypt("")
        by_page: dict[int, list[Box]] = defaultdict(list)
        for b in boxes:
            if not 0 <= b.page < len(reader.pages):
                raise ValueError(f"删除处理框所在的第{b.page + 1}页不存在（该文件共{len(reader.pages)}页）")
            by_page[b.page].append(b)
        seen: set[int] = set()
        with _document(pdf) as doc:
            for i in range(len(doc)):
                with _PDFIUM:
                    page = doc[i]
                    g = _geometry(page)
                    if by_page.get(i):
                        jpeg, w, h = _raster(page, g, by_page[i], art, dpi)
                    page.close()
                if by_page.get(i):
                    _image_page(writer, jpeg, (w, h), g)
                    redacted.append(len(writer.pages) - 1)
                else:
                    _copy_page(writer, reader.pages[i], g, art, seen)
                done += 1
                if progress:
                    progress(done, total)
    writer.metadata = None  # no /Info, not even a Producer
    out = io.BytesIO()
    writer.write(out)
    return Released(out.getvalue(), len(writer.pages), redacted)
