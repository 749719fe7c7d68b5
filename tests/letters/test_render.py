"""Rendering letters to HTML from plain values: validation, overrides, remedy wording."""
from __future__ import annotations

import copy
from datetime import date

import pytest

from app.letters import (LetterError, all_letters, example_context, get_letter, prepare_context,
                         remedy_text, render_html, validate_template)
from app.letters.catalogue import TEMPLATES_DIR

from .support import squash

pytestmark = pytest.mark.no_db


@pytest.mark.parametrize("key", [letter.key for letter in all_letters()])
def test_every_letter_renders_html_from_its_example(key):
    html = render_html(key, example_context(key))
    letter = get_letter(key)
    assert html.startswith("<!DOCTYPE html>")
    assert letter.title in squash(html)
    assert "江河市清源区住房和城乡建设局" in html
    assert "<style>" in html  # self-contained for a browser preview


def test_stock_templates_pass_validation():
    # validate_template is what an agency's override goes through: the stock wording must
    # pass it too (every variable a template uses is a declared field).
    for letter in all_letters():
        source = (TEMPLATES_DIR / letter.template_name).read_text(encoding="utf-8")
        assert validate_template(source, letter.key) is None, letter.key


def test_missing_required_field_is_named_before_rendering():
    ctx = example_context("reply_disclose")
    del ctx["applicant"]["name"]
    with pytest.raises(LetterError) as err:
        render_html("reply_disclose", ctx)
    assert err.value.field == "applicant.name"
    assert "申请人姓名或名称" in err.value.message

    ctx = example_context("correction_notice")
    ctx["items"] = []
    ctx["correction_due"] = "  "
    with pytest.raises(LetterError) as err:
        render_html("correction_notice", ctx)
    assert err.value.field == "items"
    assert "需要补正的事项" in err.value.message and "补正期限" in err.value.message


def test_number_and_date_required_only_for_final_letters():
    ctx = example_context("reply_disclose")
    del ctx["number"], ctx["issued_on"]
    with pytest.raises(LetterError) as err:
        render_html("reply_disclose", ctx)
    assert err.value.field == "number"
    html = render_html("reply_disclose", ctx, draft=True)
    assert "文号于签发后生成" in html and "草稿" in html


def test_invalid_values_are_refused_with_the_field():
    ctx = example_context("reply_disclose")
    ctx["received_on"] = "2026-13-01"
    with pytest.raises(LetterError) as err:
        render_html("reply_disclose", ctx)
    assert err.value.field == "received_on"
    ctx = example_context("reply_refuse")
    ctx["outcome"] = "disclose"
    with pytest.raises(LetterError) as err:
        render_html("reply_refuse", ctx)
    assert err.value.field == "outcome"
    ctx = example_context("reply_partial")
    del ctx["withheld"][1]["reason"]
    with pytest.raises(LetterError) as err:
        render_html("reply_partial", ctx)
    assert err.value.field == "withheld.2.reason"
    ctx = example_context("reply_disclose")
    ctx["agency"]["seal_png"] = b"GIF89a..."
    with pytest.raises(LetterError) as err:
        render_html("reply_disclose", ctx)
    assert err.value.field == "agency.seal_png"


def test_dates_print_the_gbt_9704_way():
    ctx = example_context("reply_disclose")
    ctx["received_on"] = date(2026, 11, 2)
    ctx["issued_on"] = "2026-11-22"
    html = render_html("reply_disclose", ctx)
    assert "本机关于2026年11月2日收到" in html
    assert "2026年11月22日" in html
    assert "2026-11" not in html


def test_basis_defaults_from_the_outcome_with_article_and_item():
    html = render_html("reply_disclose", example_context("reply_disclose"))
    assert "《中华人民共和国政府信息公开条例》第三十六条第（二）项" in html
    ctx = example_context("reply_refuse")
    ctx["outcome"] = "refuse_third_party"
    html = render_html("reply_refuse", ctx)
    assert "第十五条、第三十二条、第三十六条第（三）项" in html
    assert "公开会对第三方合法权益造成损害" in html  # the wording follows the ground
    ctx["outcome"] = "refuse_secret"
    html = render_html("reply_refuse", ctx)
    assert "国家秘密" in html and "第三方合法权益" not in html


def test_remedy_paragraphs():
    agency = example_context("reply_disclose")["agency"]
    standard = remedy_text(get_letter("reply_disclose"), agency)
    assert "六十日内向江河市清源区人民政府申请行政复议" in standard
    assert "六个月内向江河市清源区人民法院提起行政诉讼" in standard
    first = remedy_text(get_letter("reply_refuse"), agency)
    assert "六十日内向江河市清源区人民政府申请行政复议" in first
    assert "《中华人民共和国行政复议法》第二十三条" in first and "应当先申请行政复议" in first
    assert "人民法院" not in first and "六个月" not in first
    partial = remedy_text(get_letter("reply_partial"), agency)
    withheld, _, rest = partial.partition("如对本答复书其他内容不服")
    assert "不予公开的部分" in withheld and "应当先申请行政复议" in withheld
    assert "人民法院" not in withheld and "六个月" not in withheld
    assert "六个月内向江河市清源区人民法院提起行政诉讼" in rest
    assert remedy_text(get_letter("correction_notice"), agency) is None


def test_values_are_escaped():
    ctx = example_context("reply_disclose")
    ctx["request"] = '<script>alert("x")</script>&'
    html = render_html("reply_disclose", ctx)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


OVERRIDE = """{% extends "reply_base.html.j2" %}
{% block decision %}
<p>经查，{{ you }}申请的信息可以公开。依据{{ basis }}，本局予以公开。{{ obtain }}</p>
{% endblock %}
"""


def test_agency_override_changes_the_wording():
    assert validate_template(OVERRIDE, "reply_disclose") is None
    html = render_html("reply_disclose", example_context("reply_disclose"), {"reply_disclose": OVERRIDE})
    assert "本局予以公开" in html
    assert "本机关决定予以公开" not in html
    # Only the letter named in the overrides changes.
    other = render_html("reply_refuse", example_context("reply_refuse"), {"reply_disclose": OVERRIDE})
    assert "本局予以公开" not in other


def test_broken_override_is_refused_with_its_line():
    broken = OVERRIDE.replace("{{ obtain }}</p>", "{{ obtain }</p>")
    message = validate_template(broken, "reply_disclose")
    assert message is not None and "第3行" in message and "语法错误" in message
    with pytest.raises(LetterError) as err:
        render_html("reply_disclose", example_context("reply_disclose"), {"reply_disclose": broken})
    assert "第3行" in err.value.message and err.value.field == "template"

    unclosed = '{% extends "reply_base.html.j2" %}\n{% block decision %}\n{% if obtain %}\n<p>x</p>\n{% endblock %}\n'
    message = validate_template(unclosed, "reply_disclose")
    assert "第5行" in message and "endblock" in message


def test_override_with_unknown_variable_is_refused_with_its_line():
    unknown = OVERRIDE.replace("{{ obtain }}", "{{ obtain }}{{ handler_name }}")
    message = validate_template(unknown, "reply_disclose")
    assert message is not None and "第3行" in message and "handler_name" in message

    attribute = OVERRIDE.replace("{{ obtain }}", "\n{{ applicant.nmae }}")
    message = validate_template(attribute, "reply_disclose")
    assert message is not None and "第4行" in message and "nmae" in message
    with pytest.raises(LetterError) as err:
        render_html("reply_disclose", example_context("reply_disclose"), {"reply_disclose": attribute})
    assert "第4行" in err.value.message


def test_override_runs_sandboxed_and_keeps_the_remedy():
    unsafe = OVERRIDE.replace("{{ obtain }}", "{{ letter.__class__.__mro__ }}")
    message = validate_template(unsafe, "reply_disclose")
    assert message is not None and "不允许" in message
    without_remedy = OVERRIDE + "{% block remedy %}{% endblock %}\n"
    message = validate_template(without_remedy, "reply_disclose")
    assert message is not None and "救济途径" in message
    with pytest.raises(LetterError):
        render_html("reply_disclose", example_context("reply_disclose"), {"reply_disclose": without_remedy})


def test_prepare_context_does_not_touch_the_callers_values():
    ctx = example_context("reply_partial")
    before = copy.deepcopy(ctx)
    prepared = prepare_context("reply_partial", ctx)
    assert ctx == before
    assert str(prepared["received_on"]) == "2026年11月2日"
    assert prepared["you"] == "您"
    ctx["applicant"]["kind"] = "organisation"
    assert "贵单位" in render_html("reply_partial", ctx)
