"""Letters as PDF: content of every letter type, remedies, fonts, rare characters, drafts.

The text checks read the PDF back with pdftotext; the glyph check renders pages to PNG with
pdftoppm, so a character printed as an empty box (tofu) would fail.
"""
from __future__ import annotations

import pytest

from app.letters import (FontError, LetterError, all_letters, check_fonts, example_context,
                         get_letter, render_pdf)
from app.letters.fonts import FontSettings, resolve

from .support import (page_png, pdf_fonts, pdf_pages, pdf_text, require_poppler, seal_png,
                      squash, word_boxes)

pytestmark = pytest.mark.no_db

AGENCY = "江河市清源区住房和城乡建设局"
KEYS = [letter.key for letter in all_letters()]


@pytest.fixture(scope="module")
def pdfs():
    require_poppler()
    return {key: render_pdf(key, example_context(key)) for key in KEYS}


@pytest.mark.parametrize("key", KEYS)
def test_every_letter_prints_its_required_elements(pdfs, key):
    letter = get_letter(key)
    ctx = example_context(key)
    pdf = pdfs[key]
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    assert AGENCY in text
    assert squash(letter.title) in text
    if letter.field("applicant.name"):
        assert "张三" in text
    if ctx.get("received_on") and letter.field("received_on"):
        assert f"{ctx['received_on'].year}年{ctx['received_on'].month}月{ctx['received_on'].day}日" in text
    if letter.field("request") and letter.field("request").required:
        assert squash(ctx["request"]) in text
    if letter.numbered:
        assert squash(ctx["number"]) in text
    if ctx.get("issued_on"):
        assert f"{ctx['issued_on'].year}年{ctx['issued_on'].month}月{ctx['issued_on'].day}日" in text
    if letter.kind == "substantive":
        from app.domain.outcomes import OUTCOME_BY_CODE

        basis = OUTCOME_BY_CODE[ctx.get("outcome") or letter.outcomes[0]].basis
        assert squash(basis) in text  # article and item
        assert "申请行政复议" in text
    if letter.remedy == "none":
        assert "申请行政复议" not in text and "提起行政诉讼" not in text
    else:
        assert "六十日内向江河市清源区人民政府申请行政复议" in text
    # Fonts: every font embedded and subset, none left to the printer.
    rows = pdf_fonts(pdf)
    assert rows
    for row in rows:
        assert row["emb"] == "yes" and row["sub"] == "yes", row


def test_substantive_decisions_are_stated(pdfs):
    assert "本机关决定予以公开" in pdf_text(pdfs["reply_disclose"])
    assert "第三十六条第（二）项" in pdf_text(pdfs["reply_disclose"])
    assert "本机关决定不予公开" in pdf_text(pdfs["reply_refuse"])
    assert "政府信息不存在" in pdf_text(pdfs["reply_not_exist"])
    text = pdf_text(pdfs["reply_not_exist"])
    assert "检索了2018年至2020年的收文、发文登记簿" in text  # the search carried out
    assert "江河市清源区统计局" in pdf_text(pdfs["reply_not_ours"])
    assert "不予重复处理" in pdf_text(pdfs["reply_repeat"])
    assert "不再处理该政府信息公开申请" in pdf_text(pdfs["reply_lapsed"])


@pytest.mark.parametrize("ground", ["refuse_secret", "refuse_law", "refuse_security", "refuse_third_party",
                                    "refuse_internal", "refuse_process", "refuse_enforcement"])
def test_refusal_never_offers_direct_litigation(ground):
    require_poppler()
    ctx = example_context("reply_refuse")
    ctx["outcome"] = ground
    text = pdf_text(render_pdf("reply_refuse", ctx))
    assert "本机关决定不予公开" in text
    assert "应当先申请行政复议" in text and "《中华人民共和国行政复议法》第二十三条" in text
    assert "人民法院" not in text and "六个月" not in text
    assert "江河市清源区人民法院" not in text


def test_partial_disclosure_puts_reconsideration_first_for_the_withheld_part(pdfs):
    text = pdf_text(pdfs["reply_partial"])
    withheld, _, rest = text.partition("如对本答复书其他内容不服")
    assert "对本答复书中不予公开的部分不服" in withheld
    assert "应当先申请行政复议" in withheld
    assert "人民法院" not in withheld.split("对本答复书中不予公开的部分不服")[1]
    assert "六个月内向江河市清源区人民法院提起行政诉讼" in rest
    assert "施工合同附件三“报价单”中的分项单价构成" in text


def test_procedural_notices_have_no_remedy_paragraph(pdfs):
    for key in ("correction_notice", "extension_notice", "consult_applicant_notice", "receipt"):
        text = pdf_text(pdfs[key])
        assert "行政复议" not in text and "行政诉讼" not in text, key


def test_the_reference_reply_is_one_small_page(pdfs):
    # The benchmark letter (bench/bench_letters.py): one page, fonts subset small.
    pdf = pdfs["reply_disclose"]
    assert pdf_pages(pdf) == 1
    assert len(pdf) <= 40 * 1024


def test_draft_carries_a_visible_mark():
    require_poppler()
    ctx = example_context("reply_disclose")
    del ctx["number"]
    draft = render_pdf("reply_disclose", ctx, draft=True)
    assert "草稿" in pdf_text(draft)
    final = render_pdf("reply_disclose", example_context("reply_disclose"))
    assert "草稿" not in pdf_text(final)
    # The mark is visible on the page, not only text: a large reddish area.
    assert _reddish(page_png(draft, 50, color=True)) > 0.01
    assert _reddish(page_png(final, 50, color=True)) == 0


def test_seal_overlaps_signature():
    require_poppler()
    ctx = example_context("reply_disclose")
    ctx["obtain"] = "现将该文件随本答复书一并提供给您。"
    plain = render_pdf("reply_disclose", ctx)
    ctx["agency"]["seal_png"] = seal_png()
    sealed = render_pdf("reply_disclose", ctx)
    assert pdf_pages(sealed) == 1
    for pdf, red in ((sealed, True), (plain, False)):
        name = [b for b in word_boxes(pdf) if b[0] == AGENCY][-1]  # the signature, not the title
        date = [b for b in word_boxes(pdf) if b[0] == "2026年11月20日"][-1]
        area = _crop(page_png(pdf, 100, color=True), ("", name[1], name[2], name[3], date[4]), pad=4)
        assert (_reddish(area) > 0.02) is red


# --- rare characters ---------------------------------------------------------------------

RARE = "\U0002020C\u4DAE\u36C3"  # 𠈌 (Ext B), 䶮 (Ext A), 㛃 (Ext A)


def _pixels(image) -> list:
    flat = getattr(image, "get_flattened_data", None) or image.getdata
    return list(flat())


def _reddish(image) -> float:
    """Share of pixels with a clear red tint."""
    pixels = _pixels(image)
    return sum(1 for r, g, b in pixels if r - g > 20 and r - b > 20) / len(pixels)


def _crop(image, box, dpi=100, pad=0):
    _, x0, y0, x1, y1 = box
    k = dpi / 72
    return image.crop((int(x0 * k) - pad, int(y0 * k) - pad, int(x1 * k) + 1 + pad, int(y1 * k) + 1 + pad))


def _shape(image, n: int = 32) -> list[bool]:
    """A glyph's ink, cropped to its bounding box and scaled to n × n, as dark/light cells."""
    from PIL import ImageChops

    image = image.convert("L")
    bbox = ImageChops.invert(image).point(lambda p: 255 if p > 100 else 0).getbbox()
    assert bbox is not None, "no ink at all"
    return [p < 128 for p in _pixels(image.crop(bbox).resize((n, n)))]


def _iou(a: list[bool], b: list[bool]) -> float:
    both = sum(1 for x, y in zip(a, b) if x and y)
    either = sum(1 for x, y in zip(a, b) if x or y)
    return both / either


def _printed_shape(pdf: bytes, char: str) -> list[bool]:
    """The first glyph of the addressee line as printed: page → PNG (pdftoppm) → crop."""
    _, x0, y0, _, y1 = next(b for b in word_boxes(pdf) if b[0].startswith(char))
    k = 300 / 72
    page = page_png(pdf, 300)
    return _shape(page.crop((int(x0 * k), int(y0 * k), int((x0 + 15.5) * k), int(y1 * k))))


def _reference_shape(char: str) -> list[bool]:
    """The same character drawn by FreeType straight from the installed source font."""
    from PIL import Image, ImageDraw, ImageFont

    from app.letters.fonts import _cmap

    for spec in ("Noto Serif CJK SC", "HanaMinA", "HanaMinB"):
        source = resolve(spec)
        if source and ord(char) in _cmap(source.path, source.index):
            font = ImageFont.truetype(source.path, 120, index=source.index)
            image = Image.new("L", (200, 200), 255)
            ImageDraw.Draw(image).text((20, 20), char, font=font, fill=0)
            return _shape(image)
    raise AssertionError(f"no installed font has U+{ord(char):04X}")


def _tofu_pdf(char: str) -> bytes:
    """What WeasyPrint prints for a character no font has: its .notdef box.

    Bypasses render_pdf's refusal on purpose, to get a reference image of a missing glyph.
    """
    from app.letters import render

    ctx = example_context("reply_disclose")
    ctx["applicant"]["name"] = char
    html = render._render("reply_disclose", ctx, None, draft=False, embed_css=False)
    return render._get_engine().write_pdf(html)


def _assert_prints_its_own_glyph(char: str, tofu: list[bool]) -> None:
    ctx = example_context("reply_disclose")
    ctx["applicant"]["name"] = char
    printed = _printed_shape(render_pdf("reply_disclose", ctx), char)
    assert _iou(printed, tofu) < 0.5, f"U+{ord(char):04X} printed as a box"
    # The right glyph, not merely some glyph: it matches the source font's drawing.
    assert _iou(printed, _reference_shape(char)) > 0.6, f"U+{ord(char):04X} printed a wrong glyph"


def test_rare_characters_in_names_print_as_real_glyphs():
    require_poppler()
    ctx = example_context("reply_disclose")
    ctx["applicant"]["name"] = "王" + RARE
    pdf = render_pdf("reply_disclose", ctx)
    assert "王" + RARE in pdf_text(pdf)
    for row in pdf_fonts(pdf):
        assert row["emb"] == "yes" and row["sub"] == "yes", row

    tofu = _printed_shape(_tofu_pdf("\U00030000"), "\U00030000")  # CJK Ext G: no font installed
    assert _iou(tofu, _reference_shape("王")) < 0.5  # the check can tell a box from a glyph
    for char in RARE + "王亍":  # 亍: GB2312 level 2, the second core font
        _assert_prints_its_own_glyph(char, tofu)


def test_characters_beyond_noto_use_the_rare_fonts_or_are_refused():
    require_poppler()
    from app.letters._native import system_fonts_covering

    char = "\U0002A6D6"  # last character of CJK Ext B: not in Noto CJK; in HanaMinB (fonts-hanazono)
    ctx = example_context("reply_disclose")
    ctx["applicant"]["name"] = "李" + char
    if not system_fonts_covering(ord(char)):
        with pytest.raises(LetterError) as err:
            render_pdf("reply_disclose", ctx)
        assert err.value.field == "applicant.name"
        return
    pdf = render_pdf("reply_disclose", ctx)
    assert "李" + char in pdf_text(pdf)
    if resolve("HanaMinB") is not None:
        assert any("Rare" in row["name"] for row in pdf_fonts(pdf))
        _assert_prints_its_own_glyph(char, _printed_shape(_tofu_pdf("\U00030000"), "\U00030000"))


def test_a_character_no_font_has_is_refused_not_printed_as_a_box():
    ctx = example_context("reply_disclose")
    ctx["applicant"]["name"] = "王\U00030000"
    with pytest.raises(LetterError) as err:
        render_pdf("reply_disclose", ctx)
    assert err.value.field == "applicant.name"
    assert "U+30000" in err.value.message and "申请人姓名或名称" in err.value.message


# --- font configuration --------------------------------------------------------------------

def test_no_cjk_font_is_a_clear_error():
    settings = FontSettings(font_map={"fangsong": ("No Such FangSong",), "xiaobiaosong": (), "hei": (),
                                      "kai": (), "song": ()})
    with pytest.raises(FontError) as err:
        check_fonts(settings)
    assert "未找到可用的中文字体" in err.value.message


def test_fonts_are_chosen_by_name_or_path():
    ukai = resolve("AR PL UKai CN")
    assert ukai is not None
    settings = FontSettings(font_map={"fangsong": ("No Such FangSong", "Noto Serif CJK SC"),
                                      "xiaobiaosong": (f"{ukai.path}#{ukai.index}",),
                                      "hei": ("Noto Sans CJK SC",), "kai": ("AR PL UKai CN",), "song": ()})
    chains = check_fonts(settings)
    assert chains["fangsong"][0].family == "Noto Serif CJK SC"
    assert chains["xiaobiaosong"][0].path == ukai.path
    bold = resolve("Noto Serif CJK SC:style=Bold")
    assert bold is not None and "Bold" in bold.path


def test_a_partial_fangsong_face_is_not_mixed_into_the_body_unless_named():
    from app.letters.fonts import DEFAULT_FONT_MAP, gb2312_level1_coverage

    cwtex = resolve("cwTeXFangSong")
    if cwtex is None:
        pytest.skip("fonts-cwtex-fs is not installed")
    # Debian's cwTeX FangSong is a traditional-character face: most simplified characters are missing.
    assert gb2312_level1_coverage(cwtex) < 0.9
    assert "cwTeXFangSong" in DEFAULT_FONT_MAP["fangsong"]
    assert [s.family for s in check_fonts()["fangsong"]] == ["Noto Serif CJK SC"]
    # Named by the agency, it is used, and the rest of the chain fills in per glyph.
    named = FontSettings(font_map={**DEFAULT_FONT_MAP, "fangsong": ("cwTeXFangSong", "Noto Serif CJK SC")},
                         named=frozenset({"cwTeXFangSong"}))
    assert [s.family for s in check_fonts(named)["fangsong"]] == ["cwTeXFangSong", "Noto Serif CJK SC"]


def test_a_complete_face_found_by_default_leads_the_body_chain():
    from app.letters.fonts import DEFAULT_FONT_MAP, gb2312_level1_coverage

    complete = resolve("Noto Sans CJK SC")  # stands in for an installed 仿宋_GB2312: all of GB2312
    assert gb2312_level1_coverage(complete) == 1.0
    spec = f"{complete.path}#{complete.index}"
    settings = FontSettings(font_map={**DEFAULT_FONT_MAP, "fangsong": (spec, "Noto Serif CJK SC")})
    assert [s.path for s in check_fonts(settings)["fangsong"]][0] == complete.path
