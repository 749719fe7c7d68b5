"""Text layers for scans: Tesseract (Debian tesseract-ocr, chi_sim) recognises each page and
writes a PDF of invisible text only (text render mode 3, Tesseract's glyphless font, embedded),
one page per page of the scan, to be laid over the scan. Pages that already carry text (a PDF
made by a program, not a scanner) are left alone. Plain functions: the caller decides where they
run (a background job, never a request)."""
from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from pypdf import PdfReader, PdfWriter

DPI = 300
TIMEOUT = 300  # seconds for one page


class OcrUnavailable(RuntimeError):
    pass


@dataclass
class TextLayer:
    pdf: bytes  # one page per page of the scan; pages not recognised are blank
    recognised: list[bool | None]  # per page: text found, nothing found, None: had text, left alone
    chars: int


def available(languages: str = "chi_sim") -> bool:
    if not shutil.which("tesseract"):
        return False
    out = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True, timeout=30)
    have = set(out.stdout.split())
    return all(lang in have for lang in languages.split("+"))


def _tesseract(image: Path, out_base: Path, languages: str, dpi: int) -> bytes:
    if not shutil.which("tesseract"):
        raise OcrUnavailable("未安装 tesseract-ocr")
    subprocess.run(["tesseract", str(image), str(out_base), "-l", languages, "--dpi", str(dpi),
                    "-c", "textonly_pdf=1", "pdf"],
                   check=True, capture_output=True, timeout=TIMEOUT,
                   env={"OMP_THREAD_LIMIT": "1", "PATH": "/usr/bin:/bin"})  # one core: the server has others to serve
    return out_base.with_suffix(".pdf").read_bytes()


def _dpi(data: bytes) -> int:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        dpi = im.info.get("dpi")
    try:
        x = int(round(float(dpi[0]))) if dpi else 0
    except (TypeError, ValueError, IndexError):
        x = 0
    return x if 50 <= x <= 2400 else 200


def text_layer(data: bytes, content_type: str, languages: str = "chi_sim") -> TextLayer:
    """Recognise the scan ``data`` (PDF, JPEG or PNG)."""
    writer = PdfWriter()
    recognised: list[bool | None] = []
    chars = 0
    with tempfile.TemporaryDirectory(prefix="ogi-ocr-") as tmp:
        tmpdir = Path(tmp)
        if content_type == "application/pdf":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                reader = PdfReader(io.BytesIO(data), strict=False)
                pages = list(reader.pages)
            for i, page in enumerate(pages):
                box = page.mediabox
                w, h = float(box.width), float(box.height)
                if (page.extract_text() or "").strip():
                    writer.add_blank_page(w, h)
                    recognised.append(None)
                    continue
                native = _full_page_image(page, w, h, tmpdir / f"p{i}.png")
                if native is not None:  # a scanner's page: read the scan itself, at its own resolution
                    image, dpi = native
                else:
                    src = tmpdir / "scan.pdf"
                    if not src.exists():
                        src.write_bytes(data)
                    subprocess.run(["pdftoppm", "-r", str(DPI), "-gray", "-png", "-singlefile", "-f", str(i + 1),
                                    "-l", str(i + 1), str(src), str(tmpdir / f"p{i}")],
                                   check=True, capture_output=True, timeout=TIMEOUT)
                    image, dpi = tmpdir / f"p{i}.png", DPI
                layer, n = _one(_tesseract(image, tmpdir / f"o{i}", languages, dpi))
                _add(writer, layer, w, h)
                recognised.append(n > 0)
                chars += n
        else:
            src = tmpdir / ("scan.jpg" if content_type == "image/jpeg" else "scan.png")
            src.write_bytes(data)
            dpi = _dpi(data)
            layer, n = _one(_tesseract(src, tmpdir / "o", languages, dpi))
            box = layer.mediabox
            _add(writer, layer, float(box.width), float(box.height))
            recognised.append(n > 0)
            chars += n
    buf = io.BytesIO()
    writer.write(buf)
    return TextLayer(buf.getvalue(), recognised, chars)


def _full_page_image(page, w: float, h: float, out: Path):
    """The page's one image when it fills the page (a scanned page), saved as PNG, with its dpi."""
    try:
        images = list(page.images)
        if len(images) != 1:
            return None
        im = images[0].image
    except Exception:  # an image pypdf cannot decode: the page is rendered instead
        return None
    iw, ih = im.size
    if not iw or not ih or abs(iw / ih - w / h) > 0.02 * (w / h):
        return None
    if im.mode not in ("L", "RGB"):
        im = im.convert("RGB")
    im.save(out, "PNG")
    return out, max(50, min(2400, round(iw / (w / 72))))


def _one(pdf: bytes):
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    text = "".join((page.extract_text() or "").split())
    return page, len(text)


def _add(writer: PdfWriter, page, w: float, h: float) -> None:
    """The text page scaled to the scan page's size (Tesseract sizes it from pixels and dpi)."""
    from pypdf import Transformation

    lw, lh = float(page.mediabox.width), float(page.mediabox.height)
    blank = writer.add_blank_page(w, h)
    if lw > 0 and lh > 0:
        blank.merge_transformed_page(page, Transformation().scale(w / lw, h / lh), over=True)
