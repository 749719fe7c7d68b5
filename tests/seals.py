"""Agency seals as offices upload them, for the tests and the benchmarks (bench/ imports these).

scanned_seal: a 600 × 600 RGBA PNG, as an office would upload a scan of its round red seal (公章): outer ring, the agency's name along the upper arc, a five-point
star, 政府信息公开专用章 below it, and the uneven ink of a real impression (which is what makes a
scanned seal weigh 60–120 KiB as PNG). Deterministic: the same bytes on every run.

    .venv/bin/python tests/seals.py /tmp/seal.png   # to look at it

clean_seal: a seal drawn digitally (anti-aliased ring, star and text, no ink texture).
"""
from __future__ import annotations

import io
import math
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

AGENCY = "江河市清源区住房和城乡建设局"
PURPOSE = "政府信息公开专用章"
RED = (214, 30, 36)
_cache: dict[tuple, bytes] = {}


def _font_file() -> tuple[str, int]:
    from app.letters.fonts import resolve

    for spec in ("Noto Sans CJK SC:style=Bold", "Noto Sans CJK SC", "Noto Serif CJK SC:style=Bold",
                 "Noto Serif CJK SC"):
        found = resolve(spec)
        if found:
            return found.path, found.index
    raise SystemExit("no CJK font installed (Debian: fonts-noto-cjk)")


def scanned_seal(size: int = 600, agency: str = AGENCY, purpose: str = PURPOSE, seed: int = 20261202) -> bytes:
    key = (size, agency, purpose, seed)
    if key in _cache:
        return _cache[key]
    from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

    path, index = _font_file()
    k = size / 600
    ink = Image.new("L", (size, size), 0)  # ink coverage; coloured at the end
    draw = ImageDraw.Draw(ink)
    c = size / 2
    ring = 16 * k
    draw.ellipse((ring / 2 + 4 * k, ring / 2 + 4 * k, size - ring / 2 - 4 * k, size - ring / 2 - 4 * k),
                 outline=255, width=round(ring))
    # The star in the centre.
    r_star = 82 * k
    points = []
    for i in range(10):
        r = r_star if i % 2 == 0 else r_star * 0.382
        a = -math.pi / 2 + i * math.pi / 5
        points.append((c + r * math.cos(a), c + r * math.sin(a)))
    draw.polygon(points, fill=255)
    # The agency's name along the upper arc, each character turned to face the centre.
    font = ImageFont.truetype(path, round(56 * k), index=index)
    radius = c - ring - 52 * k
    span = math.radians(250)
    for i, ch in enumerate(agency):
        a = -math.pi / 2 - span / 2 + span * (i + 0.5) / len(agency)
        glyph = Image.new("L", (round(80 * k), round(80 * k)), 0)
        ImageDraw.Draw(glyph).text((glyph.width / 2, glyph.height / 2), ch, font=font, fill=255, anchor="mm")
        glyph = glyph.rotate(-math.degrees(a) - 90, resample=Image.BICUBIC, expand=True)
        x, y = c + radius * math.cos(a), c + radius * math.sin(a)
        ink.paste(255, (round(x - glyph.width / 2), round(y - glyph.height / 2)), glyph)
    # The purpose, straight, under the star.
    small = ImageFont.truetype(path, round(40 * k), index=index)
    draw.text((c, c + 150 * k), purpose, font=small, fill=255, anchor="mm")
    # Uneven ink: a stamped impression is never solid (seeded noise, slightly blurred).
    rnd = random.Random(seed)
    noise = Image.frombytes("L", (size, size), rnd.randbytes(size * size)).filter(ImageFilter.GaussianBlur(1.2 * k))
    noise = noise.point(lambda v: min(255, max(0, int((v - 128) * 3 + 225))))
    ink = ImageChops.multiply(ink.filter(ImageFilter.GaussianBlur(0.6 * k)), noise)
    seal = Image.new("RGBA", (size, size), RED + (0,))
    seal.putalpha(ink)
    out = io.BytesIO()
    seal.save(out, "PNG", optimize=True)
    _cache[key] = out.getvalue()
    return _cache[key]


def clean_seal(size: int = 600) -> bytes:
    """A seal as agencies upload it: drawn large and scaled down (anti-aliased ring, star and
    text in red), ``size`` pixels square, transparent background."""
    from PIL import Image, ImageDraw, ImageFont

    from app.letters.fonts import resolve

    big = size * 4
    img = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    red = (220, 20, 20, 255)
    draw.ellipse((24, 24, big - 24, big - 24), outline=red, width=big // 30)
    draw.regular_polygon((big // 2, big // 2, big // 7), 5, fill=red)
    source = resolve("Noto Sans CJK SC")
    font = ImageFont.truetype(source.path, big // 12, index=source.index)
    draw.text((big * 0.22, big * 0.16), "江河市清源区住建局", font=font, fill=red)
    draw.text((big * 0.28, big * 0.70), "政务公开专用章", font=font, fill=red)
    out = io.BytesIO()
    img.resize((size, size), Image.Resampling.LANCZOS).save(out, "PNG")
    return out.getvalue()


if __name__ == "__main__":
    data = scanned_seal()
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "seal.png")
    target.write_bytes(data)
    print(f"{target}: {len(data) / 1024:.1f} KiB, 600 × 600 RGBA")
