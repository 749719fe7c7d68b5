"""Font subsetting and outline drawing through HarfBuzz (the uharfbuzz bindings).

fontTools needs about a minute to cut a 7,000-glyph subset out of a 65,535-glyph CFF font;
HarfBuzz does it in a fraction of a second, and draws thousands of CFF glyphs far faster than
fontTools' Python charstring interpreter. uharfbuzz ships its own HarfBuzz build, so the result
does not depend on the system's libharfbuzz version.
"""
from __future__ import annotations

from collections.abc import Iterable

import uharfbuzz as hb

# Vertical and layout tables: letters are set horizontally and WeasyPrint drops GSUB/GPOS
# when it embeds a font anyway; keeping them would also drag vertical-form glyphs in.
DROPPED_TABLES = (b"GSUB", b"GPOS", b"BASE", b"JSTF", b"VORG", b"vhea", b"vmtx", b"DSIG", b"EBDT",
                  b"EBLC", b"EBSC", b"LTSH", b"PCLT", b"hdmx", b"kern", b"morx", b"mort", b"SVG ")


def subset_font(path: str, index: int, unicodes: Iterable[int]) -> bytes:
    """The face ``index`` of the font file ``path`` with only the glyphs of ``unicodes``
    (renumbered, CFF subroutines kept, the tables of DROPPED_TABLES left out)."""
    try:
        face = hb.Face(hb.Blob.from_file_path(str(path)), index)
    except hb.HarfBuzzError as exc:
        raise OSError(f"cannot read font file {path}") from exc
    if face.glyph_count == 0:  # HarfBuzz opens anything; a non-font has no glyphs
        raise OSError(f"not a font file: {path}")
    request = hb.SubsetInput()
    request.unicode_set.update(unicodes)
    request.drop_table_tag_set.update(int.from_bytes(tag, "big") for tag in DROPPED_TABLES)
    try:
        out = hb.subset(face, request)
    except RuntimeError as exc:
        raise ValueError(f"HarfBuzz could not subset the font {path}") from exc
    return out.blob.data


class Outlines:
    """Draw the glyphs of an in-memory font into fontTools pens, at ``scale`` units per em."""

    def __init__(self, data: bytes, scale: int) -> None:
        self._font = hb.Font(hb.Face(data))
        self._font.scale = (scale, scale)

    def draw(self, gid: int, pen) -> None:
        self._font.draw_glyph_with_pen(gid, pen)
