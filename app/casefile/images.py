"""A scanned image on an A4 page, scaled down to fit (never up), without re-encoding when the
PDF can take it; scanned PDF pages larger than A4 scaled down onto A4; OCR text layers laid over.

JPEG data goes in as it is (DCTDecode); 8-bit PNG data goes in as it is too (its zlib stream
with PNG predictors is valid FlateDecode data). Other images (CMYK, rotated by EXIF, with
transparency, interlaced, 16-bit) are converted with Pillow first.
"""
from __future__ import annotations

import io
import struct
import zlib

from pypdf import PageObject, PdfWriter
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    StreamObject,
)

MM = 72 / 25.4
A4 = (210 * MM, 297 * MM)
MARGIN = 10 * MM
DEFAULT_DPI = 200  # an image that does not say its resolution is taken as a 200 dpi scan
_TOLERANCE = 1.02  # a page this much larger than A4 (rounding, Letter-size margins) is left alone


def _xobject(writer: PdfWriter, data: bytes, content_type: str):
    """(image XObject reference, width, height)."""
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(data)) as im:
        w, h = im.size
        orientation = im.getexif().get(0x0112, 1) if content_type == "image/jpeg" else 1
        if content_type == "image/jpeg" and im.mode in ("L", "RGB") and orientation in (1, None):
            return _add(writer, data, w, h, "/DeviceGray" if im.mode == "L" else "/DeviceRGB", 8, "/DCTDecode"), w, h
        if content_type == "image/png":
            direct = _png_direct(writer, data)
            if direct is not None:
                return direct, w, h
        im = ImageOps.exif_transpose(im)
        if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
            rgba = im.convert("RGBA")
            flat = Image.new("RGB", rgba.size, (255, 255, 255))
            flat.paste(rgba, mask=rgba.split()[-1])
            im = flat
        elif im.mode not in ("L", "RGB"):
            im = im.convert("RGB")
        w, h = im.size
        if content_type == "image/jpeg":
            buf = io.BytesIO()
            im.save(buf, "JPEG", quality=90)
            return _add(writer, buf.getvalue(), w, h, "/DeviceGray" if im.mode == "L" else "/DeviceRGB", 8,
                        "/DCTDecode"), w, h
        raw = zlib.compress(im.tobytes(), 6)
        return _add(writer, raw, w, h, "/DeviceGray" if im.mode == "L" else "/DeviceRGB", 8, "/FlateDecode"), w, h


def _add(writer, data, w, h, colorspace, bpc, filt, parms=None):
    s = StreamObject()
    s._data = data  # already encoded with ``filt``
    s.update({
        NameObject("/Type"): NameObject("/XObject"), NameObject("/Subtype"): NameObject("/Image"),
        NameObject("/Width"): NumberObject(w), NameObject("/Height"): NumberObject(h),
        NameObject("/ColorSpace"): colorspace if not isinstance(colorspace, str) else NameObject(colorspace),
        NameObject("/BitsPerComponent"): NumberObject(bpc), NameObject("/Filter"): NameObject(filt),
    })
    if parms:
        s[NameObject("/DecodeParms")] = parms
    return writer._add_object(s)


def _png_direct(writer, data: bytes):
    """Embed a PNG's compressed data unchanged when PDF's FlateDecode predictors can read it."""
    pos, idat, plte, ihdr = 8, [], None, None
    while pos + 8 <= len(data):
        length, ctype = struct.unpack_from(">I4s", data, pos)
        body = data[pos + 8:pos + 8 + length]
        if ctype == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif ctype == b"PLTE":
            plte = body
        elif ctype == b"IDAT":
            idat.append(body)
        elif ctype in (b"tRNS", b"iCCP"):
            return None  # transparency / colour profile: convert instead
        elif ctype == b"IEND":
            break
        pos += 12 + length
    if ihdr is None or not idat:
        return None
    w, h, depth, color, _comp, _filter, interlace = ihdr
    if interlace or depth != 8 and not (color in (0, 3) and depth in (1, 2, 4)):
        return None
    if color == 0:
        cs, colors = "/DeviceGray", 1
    elif color == 2:
        cs, colors = "/DeviceRGB", 3
    elif color == 3 and plte:
        cs = ArrayObject([NameObject("/Indexed"), NameObject("/DeviceRGB"), NumberObject(len(plte) // 3 - 1),
                          ByteStringObject(plte)])
        colors = 1
    else:
        return None  # alpha channels
    parms = DictionaryObject({NameObject("/Predictor"): NumberObject(15), NameObject("/Colors"): NumberObject(colors),
                              NameObject("/BitsPerComponent"): NumberObject(depth),
                              NameObject("/Columns"): NumberObject(w)})
    return _add(writer, b"".join(idat), w, h, cs, depth, "/FlateDecode", parms)


def _dpi(data: bytes) -> float:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        dpi = im.info.get("dpi")
    try:
        x = float(dpi[0]) if dpi else 0.0
    except (TypeError, ValueError, IndexError):
        x = 0.0
    return x if 50 <= x <= 2400 else DEFAULT_DPI


def image_page(writer: PdfWriter, data: bytes, content_type: str, text_layer: PageObject | None = None) -> PageObject:
    """An A4 page (landscape for landscape scans) with the image centred at its own size (from
    its resolution), scaled down to fit the page when it is larger, never enlarged."""
    ref, w, h = _xobject(writer, data, content_type)
    pw, ph = (A4[1], A4[0]) if w > h else A4
    natural = 72 / _dpi(data)
    scale = min((pw - 2 * MARGIN) / w, (ph - 2 * MARGIN) / h, natural)
    dw, dh = w * scale, h * scale
    x, y = (pw - dw) / 2, (ph - dh) / 2
    page = PageObject.create_blank_page(writer, width=pw, height=ph)
    content = DecodedStreamObject()
    content.set_data(f"q {dw:.3f} 0 0 {dh:.3f} {x:.3f} {y:.3f} cm /Scan Do Q".encode())
    page[NameObject("/Contents")] = writer._add_object(content)
    page[NameObject("/Resources")] = DictionaryObject({
        NameObject("/XObject"): DictionaryObject({NameObject("/Scan"): ref})})
    if text_layer is not None:
        _overlay(page, text_layer, x, y, dw, dh)
    return page


def _overlay(page: PageObject, layer: PageObject, x: float, y: float, w: float, h: float) -> None:
    """Lay an OCR text-only page (invisible text, render mode 3) over the rectangle of its image."""
    from pypdf import Transformation

    box = layer.mediabox
    lw, lh = float(box.width), float(box.height)
    if lw <= 0 or lh <= 0:
        return
    t = Transformation().translate(-float(box.left), -float(box.bottom)).scale(w / lw, h / lh).translate(x, y)
    page.merge_transformed_page(layer, t, over=True)


def overlay_text_layer(page: PageObject, layer: PageObject) -> None:
    """The OCR text of a scanned PDF page, over the whole page (the page was rasterised whole)."""
    x0, y0, x1, y1 = (float(v) for v in (page.mediabox.left, page.mediabox.bottom, page.mediabox.right,
                                         page.mediabox.top))
    _overlay(page, layer, x0, y0, x1 - x0, y1 - y0)


def fit_to_a4(page: PageObject) -> bool:
    """Scale a scanned page larger than A4 down onto an A4 page of the same orientation, centred,
    keeping its proportions; True when it was scaled. Smaller pages are left as they are."""
    from pypdf import Transformation
    from pypdf.generic import RectangleObject

    box = page.cropbox
    x0, y0, w, h = float(box.left), float(box.bottom), float(box.width), float(box.height)
    pw, ph = (A4[1], A4[0]) if w > h else A4
    if w <= pw * _TOLERANCE and h <= ph * _TOLERANCE:
        return False
    scale = min(pw / w, ph / h)
    dx, dy = (pw - w * scale) / 2, (ph - h * scale) / 2
    page.add_transformation(Transformation().translate(-x0, -y0).scale(scale, scale).translate(dx, dy))
    a4 = RectangleObject([0, 0, pw, ph])
    for key in ("/MediaBox", "/CropBox", "/BleedBox", "/TrimBox", "/ArtBox"):
        if key in page:
            del page[key]
    page.mediabox = a4
    if "/Annots" in page:
        del page["/Annots"]  # their rectangles would no longer match the scaled content
    return True
