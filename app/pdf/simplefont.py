"""Embedded simple TrueType fonts: a subset of a face, with WinAnsi encoding and the face's own
widths, for text drawn outside the typesetter (archive page numbers) and for standard fonts a
PDF names without embedding them (PDF/A needs every font program in the file)."""
from __future__ import annotations

import io
import re
import shutil
import subprocess
from functools import lru_cache

from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    NumberObject,
    StreamObject,
)

WINANSI = bytes(range(32, 256)).decode("cp1252", errors="replace")


@lru_cache(maxsize=32)
def _subset(path: str, chars: str) -> tuple[bytes, dict]:
    """The face cut down to ``chars`` and what the font dictionary needs (widths per 1000 em)."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(path, fontNumber=0)
    if "glyf" not in font:
        raise ValueError(f"{path}: not a TrueType (glyf) face")
    cmap = font.getBestCmap()
    have = "".join(c for c in dict.fromkeys(chars) if ord(c) in cmap)
    opts = subset.Options()
    opts.layout_features = []
    opts.hinting = False
    opts.notdef_outline = True
    opts.name_IDs = [1, 2, 4, 6]
    opts.drop_tables += ["GSUB", "GPOS", "GDEF", "DSIG", "kern", "vhea", "vmtx"]
    sub = subset.Subsetter(opts)
    sub.populate(unicodes=[ord(c) for c in have])
    sub.subset(font)
    upem = font["head"].unitsPerEm
    scale = 1000 / upem
    cmap = font.getBestCmap()
    hmtx = font["hmtx"]
    widths = {c: round(hmtx[cmap[ord(c)]][0] * scale) for c in have}
    head, hhea, post = font["head"], font["hhea"], font["post"]
    os2 = font["OS/2"] if "OS/2" in font else None
    info = {
        "widths": widths,
        "bbox": [round(v * scale) for v in (head.xMin, head.yMin, head.xMax, head.yMax)],
        "ascent": round(hhea.ascent * scale), "descent": round(hhea.descent * scale),
        "cap": round((getattr(os2, "sCapHeight", 0) or hhea.ascent) * scale),
        "italic": float(post.italicAngle), "fixed": bool(post.isFixedPitch),
        "name": re.sub(r"[^A-Za-z0-9\-]", "", font["name"].getDebugName(6) or "Font") or "Font",
    }
    buf = io.BytesIO()
    font.save(buf)
    return buf.getvalue(), info


def truetype_font(writer, path: str, chars: str, tag: str) -> tuple[DictionaryObject, dict[str, float]]:
    """A simple TrueType font dictionary (WinAnsiEncoding) embedding ``chars`` of the face at
    ``path``; ``tag``: six capital letters naming the subset. Returns the dictionary (not yet
    added to the writer) and the advance widths per 1000 em of the characters it holds."""
    data, info = _subset(path, "".join(c for c in chars if c in WINANSI))
    program = StreamObject()
    program._data = data
    program[NameObject("/Length1")] = NumberObject(len(data))
    program = program.flate_encode()
    name = f"{tag}+{info['name']}"
    flags = 32 | (1 if info["fixed"] else 0) | (64 if info["italic"] else 0)
    descriptor = DictionaryObject({
        NameObject("/Type"): NameObject("/FontDescriptor"), NameObject("/FontName"): NameObject("/" + name),
        NameObject("/Flags"): NumberObject(flags),
        NameObject("/FontBBox"): ArrayObject(NumberObject(v) for v in info["bbox"]),
        NameObject("/ItalicAngle"): FloatObject(info["italic"]), NameObject("/Ascent"): NumberObject(info["ascent"]),
        NameObject("/Descent"): NumberObject(info["descent"]), NameObject("/CapHeight"): NumberObject(info["cap"]),
        NameObject("/StemV"): NumberObject(80), NameObject("/FontFile2"): writer._add_object(program),
    })
    widths = info["widths"]
    codes = [WINANSI.index(c) + 32 for c in widths]
    first, last = (min(codes), max(codes)) if codes else (32, 32)
    font = DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/TrueType"),
        NameObject("/BaseFont"): NameObject("/" + name), NameObject("/FirstChar"): NumberObject(first),
        NameObject("/LastChar"): NumberObject(last),
        NameObject("/Widths"): ArrayObject(NumberObject(widths.get(WINANSI[c - 32], 0)) for c in range(first, last + 1)),
        NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
        NameObject("/FontDescriptor"): writer._add_object(descriptor),
    })
    return font, widths


@lru_cache(maxsize=64)
def system_face(name: str) -> str | None:
    """A TrueType face standing in for a font a PDF names without embedding it (Fontconfig's
    choice, e.g. Liberation Mono for Courier, metric-compatible), or None."""
    if not shutil.which("fc-match"):
        return None
    base = name.split("+", 1)[-1]
    family, _, style = base.partition(",") if "," in base else base.partition("-")
    style = style.lower()
    pattern = family.replace("Roman", "").strip() or base
    if "bold" in style:
        pattern += ":bold"
    if "italic" in style or "oblique" in style:
        pattern += ":italic"
    try:
        out = subprocess.run(["fc-match", "-f", "%{file}", pattern], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    path = out.stdout.strip()
    return path if path.lower().endswith(".ttf") else None
