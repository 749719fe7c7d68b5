"""Page layout by GB/T 9704 (handbook §5), measured on the PDFs: the page number's position,
everything inside the type area, headings and signatures kept with the body, short spills
pulled back onto the page by a tighter line pitch (7.3.5)."""
from __future__ import annotations

import re

import pytest

from app.letters import all_letters, example_context, get_letter, render_pdf
from app.letters import render as R

from .support import all_word_boxes, page_image, pdf_pages, require_poppler

pytestmark = pytest.mark.no_db

MM = 72 / 25.4
LEFT, RIGHT = 28 * MM, (210 - 26) * MM  # type area, 156 mm wide
TOP, BOTTOM = 37 * MM, (297 - 35) * MM  # 225 mm high
TOL = 1.0  # pt (0.35 mm): the last glyph's advance ignores the −0.21 pt tracking; justification rounding
KEYS = [letter.key for letter in all_letters()]
AGENCY = "江河市清源区住房和城乡建设局"
LONG_URL = "https://www.qingyuan.gov.cn/zwgk/xxgkml/zfxxgkzn/2026/11/" + "a1b2c3d4e5" * 8 + "/index.html"
LONG_NUMBER = "91330100" + "1234567890" * 4


def _is_page_number(box) -> bool:
    return box[2] > BOTTOM and re.fullmatch(r"[—\d]+", box[0]) is not None


def _stressed(key: str) -> dict:
    """The example with a long URL, a long number and more text in every free-text field."""
    ctx = example_context(key)
    filler = (f"（详见{LONG_URL}，统一社会信用代码{LONG_NUMBER}）"
              + "本机关已对上述事项逐项进行了核对，并调取了相关档案材料。" * 3)
    for f in get_letter(key).fields:
        if f.type != "text" or f.name.startswith("agency.") or f.name.endswith(".name"):
            continue
        *parents, leaf = f.name.split(".")
        holder = ctx
        for p in parents:
            holder = holder.get(p) if isinstance(holder, dict) else None
        if isinstance(holder, dict) and isinstance(holder.get(leaf), str) and holder[leaf]:
            holder[leaf] += filler
    return ctx


@pytest.fixture(scope="module")
def letters():
    require_poppler()
    out = {}
    for key in KEYS:
        out[key] = render_pdf(key, example_context(key))
        out[key + "+stress"] = render_pdf(key, _stressed(key))
    return out


@pytest.mark.parametrize("key", KEYS)
def test_every_glyph_sits_inside_the_type_area(letters, key):
    stressed = letters[key + "+stress"]
    assert LONG_URL[:30] in re.sub(r"\s", "", "".join(b[0] for page in all_word_boxes(stressed) for b in page)) \
        or key in ("consult_confirmation", "service_record"), "the stress text is printed"
    for variant in (key, key + "+stress"):
        for n, page in enumerate(all_word_boxes(letters[variant]), 1):
            for box in page:
                word, x0, y0, x1, y1 = box
                where = f"{variant} page {n}: {word!r}"
                assert x0 >= LEFT - TOL and x1 <= RIGHT + TOL, f"{where} at x {x0 / MM:.1f}–{x1 / MM:.1f} mm"
                if not _is_page_number(box):
                    assert y0 >= TOP - TOL and y1 <= BOTTOM + TOL, f"{where} at y {y0 / MM:.1f}–{y1 / MM:.1f} mm"


def _dash_top_mm(pdf: bytes, page: int) -> tuple[float, float]:
    """The page number's first dash on ``page``: (top of its ink below the type area in mm, its x in mm)."""
    dash = next(b for b in all_word_boxes(pdf)[page - 1] if b[0] == "—" and b[2] > BOTTOM)
    image = page_image(pdf, page, 600)
    k = 600 / 72
    column = range(int(dash[1] * k) + 2, int(dash[3] * k) - 2)
    pixels = image.load()
    for row in range(int(BOTTOM * k), image.height):
        if any(pixels[x, row] < 128 for x in column):
            return row / k / MM - (297 - 35), dash[1] / MM
    raise AssertionError("no page number ink")


def test_the_page_number_dash_sits_7_mm_below_the_type_area_right_then_left():
    require_poppler()
    ctx = example_context("reply_disclose")
    ctx["request"] = "本机关已对上述事项逐项进行了核对。" * 40
    pdf = render_pdf("reply_disclose", ctx)
    assert pdf_pages(pdf) >= 2
    below, x = _dash_top_mm(pdf, 1)
    assert abs(below - 7) <= 0.5 and x > 150  # odd page: right
    below, x = _dash_top_mm(pdf, 2)
    assert abs(below - 7) <= 0.5 and x < 60  # even page: left


def _lines(page) -> list[tuple[float, str]]:
    """Text lines of a page (page number left out): (top, text), top to bottom."""
    rows: dict[int, list] = {}
    for box in page:
        if not _is_page_number(box):
            rows.setdefault(round(box[2]), []).append(box)
    return [(top, "".join(b[0] for b in sorted(row, key=lambda b: b[1]))) for top, row in sorted(rows.items())]


def test_a_heading_is_never_left_at_the_foot_of_a_page():
    require_poppler()
    headings = {"一、予以公开的部分", "二、不予公开的部分及理由"}
    checked = 0
    for n in range(0, 30):  # the headings walk down the page a little at a time
        ctx = example_context("reply_partial")
        ctx["request"] = (ctx["request"] + "及相关附件材料" * n)
        pages = all_word_boxes(render_pdf("reply_partial", ctx))
        for page in pages[:-1]:
            lines = _lines(page)
            assert lines[-1][1] not in headings, f"variant {n}: {lines[-1][1]} ends a page"
            checked += any(text in headings for _, text in lines)
    assert checked


def test_the_signature_carries_the_last_lines_of_the_body_to_its_page():
    require_poppler()
    for n in range(0, 44):  # the body grows half a line at a time, across a page break
        ctx = example_context("reply_disclose")
        ctx["request"] = ctx["request"] + "及其附件、批复文件" * n
        pdf = render_pdf("reply_disclose", ctx)
        pages = all_word_boxes(pdf)
        last = _lines(pages[-1])
        at = max(i for i, (_, text) in enumerate(last) if text == AGENCY)  # the signature, not the title
        assert any(text == "2026年11月20日" for _, text in last[at:]), f"variant {n}: date apart from the name"
        if len(pages) > 1:
            assert at >= 2, f"variant {n}: the signature has {at} lines of body with it on page {len(pages)}"


def test_a_letter_spilling_a_few_lines_is_set_tighter_on_one_page():
    require_poppler()
    engine = R._get_engine()
    fitted = 0
    for draft in (False, True):  # a draft has one line more: its 草稿 note
        for n in range(0, 40, 2 if draft else 1):
            ctx = example_context("reply_disclose")
            ctx["request"] = ctx["request"] + "及其附件、批复文件" * n
            html = R._render("reply_disclose", ctx, None, draft=draft, embed_css=False)
            natural = len(engine._layout(html).pages)
            # Whenever the tightest pitch allowed would save the page, the letter is set on fewer pages.
            if len(engine._layout(html, engine.fits[-1]).pages) < natural:
                assert pdf_pages(render_pdf("reply_disclose", ctx, draft=draft)) < natural, f"variant {n} spills"
                fitted += 1
    assert fitted >= 6
