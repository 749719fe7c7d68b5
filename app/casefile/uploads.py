"""What an uploaded scan really is, decided from its bytes (never from its name).

Accepted: PDF (opened with pypdf; encrypted or unreadable files refused; content streams measured
piece by piece, never held inflated, so a decompression bomb is refused in bounded memory and
time), JPEG and PNG (opened with Pillow, header checked for a pixel bomb before anything is
decoded, then decoded in full).
"""
from __future__ import annotations

import io
import struct
import time
import warnings
import zlib
from dataclasses import dataclass

from flask import current_app

from ..services.errors import ServiceError

MAX_PDF_PAGES = 2000
# A PDF is checked with bounded memory and time: content streams are inflated piece by piece and
# only counted, within these limits (a scanned page's content is a few hundred bytes).
PDF_MAX_STREAMS = 20_000  # content streams in the whole document
PDF_MAX_STREAM_INFLATED = 32 * 1024 * 1024
PDF_MAX_INFLATED = 256 * 1024 * 1024  # all content streams together
PDF_CHECK_SECONDS = 20
_PIECE = 64 * 1024
_PDF_OBJECTS_INFLATED = 8 * 1024 * 1024  # one cross-reference or object stream, decoded by pypdf
_PYPDF_LIMITS = {name: _PDF_OBJECTS_INFLATED for name in (
    "zlib_maximum_output_length", "lzw_maximum_output_length", "run_length_maximum_output_length",
    "brotli_maximum_output_length", "jbig2_maximum_output_length", "array_based_stream_maximum_output_length",
    "image_maximum_buffer_size", "xmp_maximum_input_length")} | {
    "zlib_maximum_recovery_input_length": 64 * 1024, "stream_decoding_work_maximum_length": 4 * _PDF_OBJECTS_INFLATED}

PDF, JPEG, PNG = "application/pdf", "image/jpeg", "image/png"
TYPE_LABELS = {PDF: "PDF", JPEG: "JPEG 图片", PNG: "PNG 图片"}


@dataclass(frozen=True)
class Detected:
    content_type: str
    pages: int
    width: int = 0  # images only
    height: int = 0


def max_bytes() -> int:
    return int(current_app.config["ATTACHMENT_MAX_BYTES"])


def max_pixels() -> int:
    return int(current_app.config["ATTACHMENT_MAX_PIXELS"])


def human_size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / 1024 / 1024:.1f} MB".replace(".0 MB", " MB")
    if n >= 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n} 字节"


def read_limited(stream, limit: int) -> bytes:
    """Read at most limit + 1 bytes, so an oversized upload is never held in memory whole."""
    chunks, total = [], 0
    while total <= limit:
        chunk = stream.read(min(1 << 20, limit + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def sniff(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    # PDF 32000-1 allows the header anywhere in the first 1024 bytes.
    if b"%PDF-" in data[:1024]:
        return PDF
    return None


EXTENSIONS = {".pdf": PDF, ".jpg": JPEG, ".jpeg": JPEG, ".jpe": JPEG, ".png": PNG}


def check(data: bytes, filename: str | None = None) -> Detected:
    """Raise ServiceError (Chinese message, field "file") unless data is an acceptable scan.

    The type comes from the bytes. The name is only checked against them: a file called
    ``.pdf`` that holds a PNG is refused as a disguised file, not quietly filed as an image.
    """
    limit = max_bytes()
    if not data:
        raise ServiceError("文件为空（0 字节），未上传。请重新选择扫描件。", "file")
    if len(data) > limit:
        raise ServiceError(f"文件过大：上限为 {human_size(limit)}，请压缩或分拆后再上传。", "file")
    kind = sniff(data)
    if kind is None:
        raise ServiceError("文件类型不支持：只能上传 PDF、JPEG 或 PNG 格式的扫描件"
                           "（按文件内容识别，与文件名无关）。", "file")
    ext = "." + filename.rsplit(".", 1)[-1].lower() if filename and "." in filename else ""
    claimed = EXTENSIONS.get(ext)
    if claimed and claimed != kind:
        raise ServiceError(f"文件内容是{TYPE_LABELS[kind]}，与文件名“{ext}”不符，未上传。"
                           "请检查是否选错了文件，或按实际格式更正文件名后再上传。", "file")
    if kind == PDF:
        return _check_pdf(data)
    return _check_image(data, kind)


class _Bounds:
    """The work one PDF check may do: inflated bytes and time, spent across the document."""

    def __init__(self) -> None:
        self.inflated = 0
        self.streams = 0
        self.deadline = time.monotonic() + PDF_CHECK_SECONDS

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise ServiceError(f"PDF 文件结构过于复杂，{PDF_CHECK_SECONDS} 秒内未能检查完毕，未上传。"
                               "请重新扫描或另存为 PDF 后再上传。", "file")


def _bomb(what: str) -> ServiceError:
    return ServiceError(f"PDF 文件{what}，可能是异常文件（如“压缩炸弹”），未上传。"
                        "请重新扫描或另存为 PDF 后再上传。", "file")


def _flate_size(raw: bytes, bounds: _Bounds) -> None:
    """Inflate a FlateDecode stream piece by piece, keeping nothing: only its size is counted.

    Memory stays at one input and one output piece whatever the ratio; the work stops at the
    per-stream and per-document limits (a few MB of zeros inflate to gigabytes).
    """
    inflater = zlib.decompressobj()
    size = 0
    for start in range(0, len(raw), _PIECE):
        pending = raw[start:start + _PIECE]
        while pending:
            size += len(inflater.decompress(pending, _PIECE))
            pending = inflater.unconsumed_tail
            if size > PDF_MAX_STREAM_INFLATED:
                raise _bomb(f"中有一段内容解压后超过 {human_size(PDF_MAX_STREAM_INFLATED)}")
            if bounds.inflated + size > PDF_MAX_INFLATED:
                raise _bomb(f"的页面内容解压后超过 {human_size(PDF_MAX_INFLATED)}")
        if inflater.eof:
            break
        bounds.tick()
    bounds.inflated += size


def _check_content(page, bounds: _Bounds, broken: ServiceError) -> None:
    """Every content stream of the page is readable, measured without holding it inflated."""
    from pypdf.generic import ArrayObject, StreamObject

    contents = page.get("/Contents")
    contents = contents.get_object() if contents is not None else None
    streams = list(contents) if isinstance(contents, ArrayObject) else [contents] if contents is not None else []
    for ref in streams:
        stream = ref.get_object()
        if not isinstance(stream, StreamObject):
            raise broken
        bounds.streams += 1
        if bounds.streams > PDF_MAX_STREAMS:
            raise _bomb(f"的页面内容分段过多（超过 {PDF_MAX_STREAMS} 段）")
        filters = stream.get("/Filter")
        filters = filters.get_object() if filters is not None else None
        names = [str(f) for f in filters] if isinstance(filters, ArrayObject) else [str(filters)] if filters else []
        if not names:
            continue
        if names in (["/FlateDecode"], ["/Fl"]):  # nearly all content: measured piece by piece
            try:
                _flate_size(stream._data, bounds)
            except zlib.error:
                raise broken from None
            continue
        if len(names) > 4:
            raise broken
        # Rare chains (ASCII85 + Flate, LZW): pypdf decodes them within _PYPDF_LIMITS.
        size = len(stream.get_data())
        if size > PDF_MAX_STREAM_INFLATED:
            raise _bomb(f"中有一段内容解压后超过 {human_size(PDF_MAX_STREAM_INFLATED)}")
        bounds.inflated += size
        if bounds.inflated > PDF_MAX_INFLATED:
            raise _bomb(f"的页面内容解压后超过 {human_size(PDF_MAX_INFLATED)}")


def _check_pdf(data: bytes) -> Detected:
    from pypdf import PdfReader, apply_configuration
    from pypdf.errors import LimitReachedError, PyPdfError

    broken = ServiceError("PDF 文件已损坏或无法读取，未上传。请重新扫描或另存为 PDF 后再上传。", "file")
    bounds = _Bounds()
    try:
        # pypdf itself inflates cross-reference and object streams: keep those small too.
        with warnings.catch_warnings(), apply_configuration(**_PYPDF_LIMITS):
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                raise ServiceError("PDF 文件已加密或设有密码，无法归档。请提供未加密的文件。", "file")
            n = len(reader.pages)
            if n == 0:
                raise broken
            if n > MAX_PDF_PAGES:
                raise ServiceError(f"PDF 页数过多（{n} 页），上限为 {MAX_PDF_PAGES} 页。", "file")
            for page in reader.pages:
                box = page.mediabox
                if box.width <= 0 or box.height <= 0:
                    raise broken
                _check_content(page, bounds, broken)
                bounds.tick()
    except ServiceError:
        raise
    except LimitReachedError:
        raise _bomb("的内部结构解压后过大") from None
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError,
            RecursionError, AssertionError, ZeroDivisionError, MemoryError):
        raise broken from None
    return Detected(PDF, n)


def _check_image(data: bytes, kind: str) -> Detected:
    from PIL import Image, UnidentifiedImageError

    label = TYPE_LABELS[kind]
    broken = ServiceError(f"{label}文件已损坏或无法读取，未上传。请重新扫描后再上传。", "file")
    expected = "JPEG" if kind == JPEG else "PNG"
    limit = max_pixels()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[expected]) as im:
                w, h = im.size
                if w <= 0 or h <= 0:
                    raise broken
                # Decide on the header, before a single pixel is decoded.
                if w * h > limit:
                    raise ServiceError(
                        f"图片尺寸过大（{w}×{h} 像素），超过 {limit // 1_000_000} 百万像素上限，"
                        "可能是异常文件，未上传。", "file")
                im.verify()  # structure and checksums
            with Image.open(io.BytesIO(data), formats=[expected]) as im:
                if kind == JPEG:  # decode at 1/8 scale: every byte is still read, in far less memory
                    im.draft(im.mode, (max(1, w // 8), max(1, h // 8)))
                im.load()  # decodes everything: truncated or garbled data fails here
    except ServiceError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ServiceError("图片尺寸过大，可能是异常文件，未上传。", "file") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, struct.error):
        raise broken from None
    return Detected(kind, 1, w, h)
