"""Helpers for the letter tests: poppler-utils (pdftotext, pdffonts, pdftoppm, pdfinfo)."""
from __future__ import annotations

import io
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

TOOLS = ("pdftotext", "pdffonts", "pdftoppm", "pdfinfo")


def require_poppler() -> None:
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        pytest.fail(f"poppler-utils missing ({', '.join(missing)}): run `make system-deps`")


def _run(args: list[str], pdf: bytes) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "letter.pdf"
        path.write_bytes(pdf)
        return subprocess.run([*args, str(path), *([] if args[0] in ("pdffonts", "pdfinfo") else ["-"])],
                              capture_output=True, check=True)


def pdf_text(pdf: bytes) -> str:
    """The text of a PDF with line breaks and spaces removed (Chinese text wraps anywhere)."""
    raw = _run(["pdftotext", "-enc", "UTF-8"], pdf).stdout.decode("utf-8")
    return re.sub(r"[\s\u3000]+", "", raw)


def squash(text: str) -> str:
    return re.sub(r"[\s\u3000]+", "", text)


def pdf_fonts(pdf: bytes) -> list[dict]:
    """Rows of `pdffonts`: name, type, emb, sub, uni."""
    out = _run(["pdffonts"], pdf).stdout.decode("utf-8").splitlines()
    rows = []
    for line in out[2:]:
        parts = line.split()
        if len(parts) < 7:
            continue
        # name type... encoding emb sub uni object-id generation
        rows.append({"name": parts[0], "emb": parts[-5], "sub": parts[-4], "uni": parts[-3],
                     "type": " ".join(parts[1:-6])})
    return rows


def pdf_pages(pdf: bytes) -> int:
    out = _run(["pdfinfo"], pdf).stdout.decode("utf-8")
    return int(re.search(r"^Pages:\s+(\d+)", out, re.M).group(1))


def word_boxes(pdf: bytes) -> list[tuple[str, float, float, float, float]]:
    """(word, xMin, yMin, xMax, yMax) in PDF points, page 1, from `pdftotext -bbox`."""
    html = _run(["pdftotext", "-bbox", "-enc", "UTF-8", "-f", "1", "-l", "1"], pdf).stdout.decode("utf-8")
    boxes = []
    for m in re.finditer(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>',
                         html):
        boxes.append((m.group(5), *(float(m.group(i)) for i in range(1, 5))))
    return boxes


def page_png(pdf: bytes, dpi: int = 150, color: bool = False):
    """Page 1 as a PIL image (pdftoppm), grayscale unless ``color``."""
    from PIL import Image

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "letter.pdf"
        path.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-r", str(dpi), "-f", "1", "-l", "1", "-png",
                        *([] if color else ["-gray"]), str(path), str(Path(tmp) / "page")],
                       check=True, capture_output=True)
        png = next(Path(tmp).glob("page*.png"))
        image = Image.open(io.BytesIO(png.read_bytes()))
        return image.convert("RGB" if color else "L")


def seal_png(size: int = 300) -> bytes:
    """A red round seal with a star, as an agency would upload it (PNG with transparency)."""
    from PIL import Image, ImageDraw

    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    draw.ellipse((6, 6, size - 6, size - 6), outline=(220, 0, 0, 255), width=10)
    draw.regular_polygon((size // 2, size // 2, size // 8), 5, fill=(220, 0, 0, 255))
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def image_xobjects(pdf: bytes) -> list:
    """The distinct image XObjects the pages draw (an image's soft mask is part of it)."""
    from pypdf import PdfReader

    seen = {}
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for ref in (page["/Resources"].get_object().get("/XObject") or {}).values():
            obj = ref.get_object()
            if obj.get("/Subtype") == "/Image":
                seen[getattr(ref, "idnum", id(obj))] = obj
    return list(seen.values())


def all_word_boxes(pdf: bytes) -> list[list[tuple[str, float, float, float, float]]]:
    """Per page: (word, xMin, yMin, xMax, yMax) in PDF points, from `pdftotext -bbox`."""
    html = _run(["pdftotext", "-bbox", "-enc", "UTF-8"], pdf).stdout.decode("utf-8")
    pages = []
    for page in html.split("<page ")[1:]:
        pages.append([(m.group(5), *(float(m.group(i)) for i in range(1, 5))) for m in re.finditer(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', page)])
    return pages


def page_image(pdf: bytes, page: int, dpi: int = 300):
    """One page as a grayscale PIL image (pdftoppm)."""
    from PIL import Image

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "letter.pdf"
        path.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-r", str(dpi), "-f", str(page), "-l", str(page), "-png", "-gray",
                        str(path), str(Path(tmp) / "page")], check=True, capture_output=True)
        png = next(Path(tmp).glob("page*.png"))
        return Image.open(io.BytesIO(png.read_bytes())).convert("L")
