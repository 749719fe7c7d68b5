"""Subsetting through uharfbuzz (app/pdf/subset.py), with fontTools as the oracle: the subset
maps every requested character the source maps, each to the source's outline and advance width,
and covers the same characters as fontTools' own subsetter."""
from __future__ import annotations

from io import BytesIO

import pytest
from fontTools import subset as ft_subset
from fontTools.pens.recordingPen import DecomposingRecordingPen, RecordingPen
from fontTools.pens.transformPen import TransformPen
from fontTools.ttLib import TTFont

from app.letters.fonts import _FIRST, resolve
from app.pdf.subset import DROPPED_TABLES, Outlines, subset_font

pytestmark = pytest.mark.no_db

# Letter wording, rare characters of names, punctuation, digits, Latin, and one character no
# CJK font has (U+30000, CJK Ext G) that must simply be absent from the subset.
TEXT = _FIRST[:400] + "喆堃䶮彧赟镕龘𠮷①②ABCxyz0123456789@#%&" + "\U00030000"
FACES = ("Noto Serif CJK SC", "Noto Sans CJK SC", "AR PL UKai CN", "HanaMinA")


def _source(spec: str):
    source = resolve(spec)
    if source is None:
        pytest.skip(f"{spec} is not installed")
    return source


def _outline(glyphset, name: str) -> list:
    """The glyph's drawing, composites resolved (component glyph names differ between fonts)."""
    pen = DecomposingRecordingPen(glyphset)
    glyphset[name].draw(pen)
    return pen.value


@pytest.fixture(scope="module", params=FACES)
def face(request):
    source = _source(request.param)
    font = TTFont(source.path, fontNumber=source.index, lazy=True)
    wanted = sorted({ord(c) for c in TEXT})
    data = subset_font(source.path, source.index, wanted)
    return source, font, wanted, data


def test_the_subset_maps_what_the_source_maps_to_the_same_outlines_and_widths(face):
    source, font, wanted, data = face
    sub = TTFont(BytesIO(data))
    src_cmap, sub_cmap = font.getBestCmap(), sub.getBestCmap()
    expected = {cp for cp in wanted if cp in src_cmap}
    assert expected and expected <= set(sub_cmap)
    assert 0x30000 not in sub_cmap
    # HarfBuzz may also map a character it was not asked for when it shares a kept glyph; such
    # a mapping must be the source's own.
    assert set(sub_cmap) <= set(src_cmap)
    src_glyphs, sub_glyphs = font.getGlyphSet(), sub.getGlyphSet()
    for cp, name in sub_cmap.items():
        assert _outline(sub_glyphs, name) == _outline(src_glyphs, src_cmap[cp]), f"U+{cp:04X}"
        assert sub["hmtx"][name][0] == font["hmtx"][src_cmap[cp]][0], f"U+{cp:04X}"
    # Only the glyphs of those characters, their components and .notdef are kept.
    needed = {".notdef"} | set(sub_cmap.values())
    if "glyf" in sub:
        todo = list(needed)
        while todo:
            for component in sub["glyf"][todo.pop()].getComponentNames(sub["glyf"]):
                if component not in needed:
                    needed.add(component)
                    todo.append(component)
    assert set(sub.getGlyphOrder()) == needed
    assert sub["head"].unitsPerEm == font["head"].unitsPerEm


def test_the_subset_covers_what_the_fonttools_subsetter_covers(face):
    source, _font, wanted, data = face
    options = ft_subset.Options()
    options.font_number = source.index
    options.drop_tables += [tag.decode().strip() if tag != b"SVG " else "SVG " for tag in DROPPED_TABLES]
    options.layout_features = []
    options.notdef_outline = True
    reference = ft_subset.load_font(source.path, options, lazy=True)
    subsetter = ft_subset.Subsetter(options)
    subsetter.populate(unicodes=wanted)
    subsetter.subset(reference)
    out = BytesIO()
    reference.save(out)
    reference = TTFont(BytesIO(out.getvalue()))
    sub = TTFont(BytesIO(data))
    ref_cmap, sub_cmap = reference.getBestCmap(), sub.getBestCmap()
    assert {cp for cp in wanted if cp in ref_cmap} == {cp for cp in wanted if cp in sub_cmap}
    ref_glyphs, sub_glyphs = reference.getGlyphSet(), sub.getGlyphSet()
    for cp in wanted:
        if cp in ref_cmap:
            assert _outline(sub_glyphs, sub_cmap[cp]) == _outline(ref_glyphs, ref_cmap[cp]), f"U+{cp:04X}"
    # The layout and vertical tables are dropped as asked.
    assert not {"GSUB", "GPOS", "vmtx", "vhea", "VORG"} & set(sub.keys())


def _contours(value: list, ndigits: int = 3) -> list:
    """A pen recording as contours of segments, rounded; a closing line back to the contour's
    start is dropped (HarfBuzz draws it, fontTools leaves it to closePath)."""
    contours, current, start = [], [], None
    for op, points in value:
        points = tuple((round(x, ndigits), round(y, ndigits)) for x, y in points)
        if op == "moveTo":
            current, start = [], points[0]
        elif op in ("closePath", "endPath"):
            if current and current[-1] == ("lineTo", (start,)):
                current.pop()
            contours.append((start, tuple(current)))
        else:
            current.append((op, points))
    return contours


@pytest.mark.parametrize("scale", [0, 256])
def test_harfbuzz_draws_the_cff_outlines_fonttools_draws(scale):
    """Outlines (used to turn the core fonts' CFF into TrueType) against fontTools' CFF interpreter."""
    source = _source("Noto Serif CJK SC")
    data = subset_font(source.path, source.index, sorted({ord(c) for c in _FIRST[:300]}))
    font = TTFont(BytesIO(data))
    assert "CFF " in font
    upem = font["head"].unitsPerEm
    scale = scale or upem
    outlines = Outlines(data, scale)
    glyphs = font.getGlyphSet()
    k = scale / upem
    for gid, name in enumerate(font.getGlyphOrder()):
        drawn, expected = RecordingPen(), RecordingPen()
        outlines.draw(gid, drawn)
        glyphs[name].draw(TransformPen(expected, (k, 0, 0, k, 0, 0)))
        assert _contours(drawn.value) == _contours(expected.value), name


def test_what_is_not_a_font_is_refused(tmp_path):
    with pytest.raises(OSError):
        subset_font(str(tmp_path / "missing.ttf"), 0, [0x4E2D])
    junk = tmp_path / "junk.ttf"
    junk.write_bytes(b"not a font at all" * 10)
    with pytest.raises(OSError):
        subset_font(str(junk), 0, [0x4E2D])
