"""The core fonts' CFF → TrueType conversion (fonts._finish), drawn through app/pdf/subset.py, with
fontTools reading the result: the same characters, each glyph where the source puts it at the
coarser em, the same advance widths scaled, the OGI family name."""
from __future__ import annotations

from io import BytesIO

import pytest
from fontTools.pens.boundsPen import BoundsPen
from fontTools.ttLib import TTFont

from app.letters.fonts import _FIRST, _finish, resolve
from app.pdf.subset import subset_font

pytestmark = pytest.mark.no_db


def _bounds(glyphset, name: str):
    pen = BoundsPen(glyphset)
    glyphset[name].draw(pen)
    return pen.bounds


def test_a_core_font_is_converted_to_truetype_at_the_coarser_em():
    source = resolve("Noto Serif CJK SC")
    if source is None:
        pytest.skip("Noto Serif CJK SC is not installed")
    wanted = sorted({ord(c) for c in _FIRST[:200]})
    data = subset_font(source.path, source.index, wanted)
    font = TTFont(BytesIO(_finish(data, "OGI Test", core=True, upem=256)))
    src = TTFont(BytesIO(data))
    assert "glyf" in font and "CFF " not in font
    assert font["head"].unitsPerEm == 256
    assert font["name"].getDebugName(1) == "OGI Test"
    k = 256 / src["head"].unitsPerEm
    cmap, src_cmap = font.getBestCmap(), src.getBestCmap()
    assert set(cmap) == set(src_cmap) >= set(wanted) - {0x20} - set(range(0x7F, 0xA0))
    glyphs, src_glyphs = font.getGlyphSet(), src.getGlyphSet()
    for cp, name in cmap.items():
        assert abs(font["hmtx"][name][0] - src["hmtx"][src_cmap[cp]][0] * k) <= 0.5, f"U+{cp:04X}"
        got, expected = _bounds(glyphs, name), _bounds(src_glyphs, src_cmap[cp])
        assert (got is None) == (expected is None), f"U+{cp:04X}"
        if expected is not None:
            # quadratic approximation (0.5 unit) plus rounding to the 256-unit grid
            assert all(abs(a - b * k) <= 1.5 for a, b in zip(got, expected)), f"U+{cp:04X}: {got} vs {expected}"
    # The most used characters get the lowest glyph ids (letters then embed less).
    assert cmap[ord(_FIRST[0])] == font.getGlyphOrder()[1]
