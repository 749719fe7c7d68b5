"""The agency's seal image at the size it is printed (handbook §5, GB/T 9704 7.3.5.1).

A seal prints 42 mm wide; at 300 dpi that is 496 pixels. A larger image only makes every
letter heavier (and slower: the PDF writer decodes and compresses it each time), so uploads
are stored fitted (fit_seal), and seals stored before that rule are fitted when a letter is
rendered (cached per image, so it costs once per process; see docs/decisions.md).
"""
from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from io import BytesIO

log = logging.getLogger(__name__)

SEAL_MM = 42
SEAL_DPI = 300
SEAL_MAX_PX = round(SEAL_MM / 25.4 * SEAL_DPI)  # 496

_cache: OrderedDict[str, bytes] = OrderedDict()
_lock = threading.Lock()


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR, without decoding it."""
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def fit_seal(data: bytes) -> bytes:
    """The seal as a PNG of at most SEAL_MAX_PX on its longer side, transparency kept.

    Resampled with premultiplied alpha (the red does not darken where the ink fades out). A seal
    printed in one ink (the usual red) is stored as that colour with the shape in a two-level
    alpha channel (ink or paper), which the PDF writer compresses to a small fraction of a
    full-colour image; a seal of several colours keeps them, its alpha at four levels. Idempotent.
    """
    from PIL import Image

    img = Image.open(BytesIO(data))
    img.load()
    if img.mode != "RGBA":
        img = img.convert("RGBA")
    if max(img.size) > SEAL_MAX_PX:
        scale = SEAL_MAX_PX / max(img.size)
        size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
        img = img.convert("RGBa").resize(size, Image.Resampling.LANCZOS).convert("RGBA")
    ink = _ink(img)
    if ink is not None:
        # One ink prints as ink or paper: a hard edge at 300 dpi is what a printer makes of it
        # anyway, and a scanned impression's uneven ink would otherwise cost 10 KiB per letter.
        alpha = img.getchannel("A").point(lambda v: 255 if v >= 128 else 0)
        img = Image.new("RGBA", img.size, ink)
    else:  # several colours: keep them, but blank what is invisible (it compresses better)
        alpha = img.getchannel("A").point(lambda v: (v + 42) // 85 * 85)  # 0, 85, 170, 255
        img = Image.composite(img, Image.new("RGBA", img.size, (0, 0, 0, 0)), alpha)
    img.putalpha(alpha)
    out = BytesIO()
    img.save(out, "PNG", compress_level=9)
    return out.getvalue()


def _ink(img) -> tuple[int, int, int, int] | None:
    """The one colour the seal is printed in, or None when it has several (a logo, a signature)."""
    from PIL import Image, ImageChops, ImageStat

    solid = img.getchannel("A").point(lambda v: 255 if v >= 192 else 0)
    count = solid.histogram()[255]
    if not count:
        return None
    rgb = img.convert("RGB")
    median = tuple(ImageStat.Stat(rgb, solid).median)
    diff = ImageChops.difference(rgb, Image.new("RGB", img.size, median))
    far = ImageChops.lighter(ImageChops.lighter(*diff.split()[:2]), diff.getchannel(2))
    far = ImageChops.multiply(far.point(lambda v: 255 if v > 64 else 0), solid)
    return (*median, 255) if far.histogram()[255] <= 0.03 * count else None


def printed_seal(data: bytes) -> bytes:
    """fit_seal, remembered per image: a seal stored before uploads were fitted is fitted once
    per process (and one already fitted comes back the same)."""
    key = hashlib.sha256(data).hexdigest()
    with _lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    try:
        fitted = fit_seal(data)
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError… for a broken file
        # Uploads are checked, so this is an image stored otherwise: printed as it is (the PDF
        # writer leaves out what it cannot decode), as before seals were fitted.
        log.warning("seal image cannot be fitted (%s): embedded as stored", exc)
        fitted = data
    with _lock:
        _cache[key] = fitted
        while len(_cache) > 16:
            _cache.popitem(last=False)
    return fitted
