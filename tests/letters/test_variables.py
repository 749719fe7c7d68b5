"""The template editor's help (issue 15 item 3): every name a letter's wording may use has a Chinese
meaning, every 插入 gives wording that passes the checks, and every mistake is explained in Chinese
with its line, never in Jinja's English."""
from __future__ import annotations

import re

import pytest

from app.letters import all_letters, example_context, render_html, validate_template
from app.letters.catalogue import TEMPLATES_DIR, applies_to
from app.letters.render import _allowed_names, _env
from app.letters.variables import FILTER_MEANINGS, meaning, sections

pytestmark = pytest.mark.no_db

OUR_FILTERS = ("cndate", "paragraphs", "yuan", "cnnum", "clause", "sentence")


def _stock(letter) -> str:
    return (TEMPLATES_DIR / letter.template_name).read_text(encoding="utf-8")


def _into_first_block(source: str, text: str) -> str:
    """``text`` inside the first block of a stock template, where it is rendered (not only parsed)."""
    m = re.search(r"\{% block \w+ %\}\n?", source)
    assert m, source[:200]
    return source[:m.end()] + text + "\n" + source[m.end():]


def test_every_name_a_template_may_use_has_a_chinese_meaning():
    for letter in all_letters():
        for name in _allowed_names(letter):
            text = meaning(letter, name)
            assert text and re.search(r"[\u4e00-\u9fff]", text), (letter.key, name)
    for name in OUR_FILTERS:
        assert name in _env.filters and FILTER_MEANINGS.get(name), name


def test_the_panel_lists_every_field_and_each_insert_passes_the_checks():
    for letter in all_letters():
        panel = sections(letter)
        listed = {v.name: v for s in panel for v in s.variables}
        for f in letter.fields:
            if f.type != "bytes":  # the seal is printed by the layout
                assert listed[f.name].meaning == f.label, (letter.key, f.name)
        snippets = [v.snippet for s in panel for v in s.variables if v.snippet and not v.snippet.startswith("|")]
        assert snippets, letter.key
        source = _into_first_block(_stock(letter), "\n".join(snippets))
        assert validate_template(source, letter.key) is None, (letter.key, validate_template(source, letter.key))
        # The filters, applied to the letter's first required text field.
        text_field = next(f.name for f in letter.fields if f.type == "text" and f.required is True)
        filters = "\n".join(f"{{{{ {text_field}{v.snippet} }}}}" for s in panel for v in s.variables
                            if v.snippet and v.snippet.startswith("|") and v.name[1:] in ("sentence", "clause"))
        assert validate_template(_into_first_block(_stock(letter), filters), letter.key) is None


def test_an_inserted_variable_prints_the_case_value():
    letter = next(l for l in all_letters() if l.key == "correction_notice")
    [case_ref] = [v for s in sections(letter) for v in s.variables if v.name == "case_ref"]
    source = _into_first_block(_stock(letter), f"<p>编号核对：{case_ref.snippet}</p>")
    html = render_html("correction_notice", example_context("correction_notice"), {"correction_notice": source})
    assert "编号核对：" + example_context("correction_notice")["case_ref"] in html


def test_applies_to_names_steps_and_outcomes_in_chinese():
    texts = {l.key: applies_to(l) for l in all_letters()}
    assert texts["correction_notice"] == "发出补正告知"
    assert texts["receipt"] == "登记申请"
    assert texts["reply_disclose"] == "出具答复，办理结果为“予以公开”"
    for key, text in texts.items():
        assert not re.search(r"[A-Za-z]", text), (key, text)


BASE = (TEMPLATES_DIR / "reply_disclose/template.html.j2").read_text(encoding="utf-8")


def _line3(text: str) -> str:
    """``text`` as line 3 of the stock 予以公开 wording (inside its decision block)."""
    return BASE.replace("{% block decision %}\n", "{% block decision %}\n" + text + "\n", 1)


# Each mistake, with what the Chinese message must say besides the line (3, where the mistake is written,
# unless Jinja can only tell later: an {% if %} left open is found at the {% endblock %} of line 5).
MISTAKES = [
    ("{% if %}", "缺少"),
    ("{% foo %}", "未知的标签"),
    ("{% if obtain %}", "endif", 5),
    ("{{ obtain ", "半角", 4),  # the unclosed {{ runs into the next line
    ("{{ obtain|nosuch }}", "“nosuch”的过滤器"),
    ("{% if obtain is nosuch %}x{% endif %}", "测试"),
    ("{{ nosuch }}", "未知的变量“nosuch”"),
    ("{{ applicant.nmae }}", "nmae"),
    ("{{ 1 / 0 }}", "除数为零"),
    ("{{ obtain|truncate('x') }}", "类型"),
    ("{{ obtain|cnnum }}", "数值不正确"),
    ("{{ 1 + obtain }}", "类型"),
    ("{% for x in 5 %}{% endfor %}", "列表"),
    ("{{ obtain.__class__ }}", "不允许"),
    ("{% include 'nope.j2' %}", "不存在"),
    ("{% block decision %}{% endblock %}", "定义了两次"),
    ("{% endfor %}", "多余"),
    ("{{ obtain ; }}", "此处应为“}}”"),
    ("{{ $ }}", "无法识别的字符"),
    ("{# 备注", "注释没有结束"),
    ("{{ 'abc }}", "引号"),
    ("{% for i in range(10**7) %}{% endfor %}", "过大"),
    ("{{ 2 ** 100000 }}", "过大"),
    ("{{ '字' * 1000000000 }}", "过大"),
    ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "自身"),
    ("{{ obtain() }}", "函数"),
    ("{{ obtain[100] }}", "不存在的一项"),
    ("{{ '%d'|format('x') }}", "类型"),
    ("{{ [1]|slice(0)|list }}", "除数为零"),
    ("{% elif obtain %}", "多余"),
]
ENGLISH = re.compile(r"[A-Za-z]{2,}[ ,.']+[A-Za-z]{2,}")


def _without_code(message: str) -> str:
    """The message without the template code it quotes ({% endif %}, {{ }}, 'x', names)."""
    return re.sub(r"\{[%{#].*?[%}#]\}|“[^”]*”|'[^']*'", "", message)


@pytest.mark.parametrize("mistake", MISTAKES, ids=[m[0] for m in MISTAKES])
def test_every_mistake_is_explained_in_chinese_with_its_line(mistake):
    wrong, words, line = (*mistake, 3)[:3]
    message = validate_template(_line3(wrong), "reply_disclose")
    assert message is not None
    assert message.startswith(f"文书模板第{line}行") and words in message, message
    assert not ENGLISH.search(_without_code(message)), message


def test_a_missing_endblock_at_the_end_is_explained():
    message = validate_template('{% extends "reply_base.html.j2" %}\n{% block decision %}\n<p>x</p>\n', "reply_disclose")
    assert message.startswith("文书模板第3行") and "{% endblock %}" in message and not ENGLISH.search(_without_code(message)), message
