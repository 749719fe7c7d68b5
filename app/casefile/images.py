"""A scanned image on an A4 page, scaled to fit, without re-encoding when the PDF can take it.

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


def image_page(writer: PdfWriter, data: bytes, content_type: str) -> PageObject:
    """An A4 page (landscape for landscape scans) with the image centred and scaled to fit."""
    ref, w, h = _xobject(writer, data, content_type)
    pw, ph = (A4[1], A4[0]) if w > h else A4
    scale = min((pw - 2 * MARGIN) / w, (ph - 2 * MARGIN) / h)
    dw, dh = w * scale, h * scale
    x, y = (pw - dw) / 2, (ph - dh) / 2
    page = PageObject.create_blank_page(writer, width=pw, height=ph)
    content = DecodedStreamObject()
    content.set_data(f"q {dw:.3f} 0 0 {dh:.3f} {x:.3f} {y:.3f} cm /Scan Do Q".encode())
    page[NameObject("/Contents")] = writer._add_object(content)
    page[NameObject("/Resources")] = DictionaryObject({
        NameObject("/XObject"): DictionaryObject({NameObject("/Scan"): ref})})
    return page
