"""The seal: fitted to its printed size, embedded once per letter, never on a draft."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from app.letters import example_context, render_pdf
from app.letters.seal import SEAL_MAX_PX, fit_seal

from tests.seals import clean_seal, scanned_seal

from .support import image_xobjects, pdf_pages, pdf_text, require_poppler

pytestmark = pytest.mark.no_db


@pytest.fixture(scope="module", params=["clean", "scanned"])
def seal600(request) -> bytes:
    data = clean_seal(600) if request.param == "clean" else scanned_seal(600)
    assert Image.open(io.BytesIO(data)).size == (600, 600)
    return data


def test_a_full_size_seal_is_fitted_to_42_mm_at_300_dpi_with_its_transparency(seal600):
    assert SEAL_MAX_PX == 496
    fitted = fit_seal(seal600)
    img = Image.open(io.BytesIO(fitted))
    assert max(img.size) <= 496 and img.mode == "RGBA"
    alpha = img.getchannel("A")
    assert alpha.getpixel((0, 0)) == 0  # the background stays transparent
    assert alpha.getpixel((248, 248)) == 255  # the star's centre stays solid
    r, g, b, _ = img.getpixel((248, 248))
    assert r > 180 and g < 60 and b < 60  # and red
    assert len(fitted) < len(seal600) / 3
    assert fit_seal(fitted) == fitted  # fitting twice changes nothing


def test_a_seal_of_several_colours_keeps_them():
    img = Image.new("RGBA", (600, 600), (0, 0, 0, 0))
    img.paste((220, 0, 0, 255), (0, 0, 300, 600))
    img.paste((0, 0, 200, 255), (300, 0, 600, 600))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    fitted = Image.open(io.BytesIO(fit_seal(buf.getvalue())))
    assert fitted.getpixel((50, 200))[:3] == (220, 0, 0) and fitted.getpixel((450, 200))[:3] == (0, 0, 200)


def test_a_letter_embeds_the_seal_once_at_its_printed_size(seal600):
    require_poppler()
    ctx = example_context("reply_disclose")
    plain = render_pdf("reply_disclose", ctx)
    ctx["agency"]["seal_png"] = seal600  # as stored before uploads were fitted
    sealed = render_pdf("reply_disclose", ctx)
    [image] = image_xobjects(sealed)
    assert max(image["/Width"], image["/Height"]) <= 496
    # The seal adds little to the letter (a 600 × 600 image added ~90 KiB before).
    assert len(sealed) - len(plain) <= 16 * 1024
    assert len(sealed) <= 40 * 1024


def test_a_multi_page_letter_still_has_one_seal_image(seal600):
    require_poppler()
    ctx = example_context("reply_disclose")
    ctx["decision"] = "\n".join(["经审查，" + "本机关对申请所涉信息进行了逐项核对和检索。" * 6] * 8)
    ctx["agency"]["seal_png"] = seal600
    pdf = render_pdf("reply_disclose", ctx)
    assert pdf_pages(pdf) >= 2
    assert len(image_xobjects(pdf)) == 1


@pytest.mark.parametrize("key", ["reply_disclose", "service_record", "correction_notice"])
def test_a_draft_never_carries_the_seal_and_says_it_is_a_draft(seal600, key):
    require_poppler()
    ctx = example_context(key)
    ctx.setdefault("agency", {})["seal_png"] = seal600
    draft = render_pdf(key, ctx, draft=True)
    assert image_xobjects(draft) == []
    assert "草稿" in pdf_text(draft)
    assert len(image_xobjects(render_pdf(key, ctx))) == 1
