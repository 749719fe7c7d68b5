"""What a legal adviser checks when reading a letter (issue 11 item 1), on the text of the PDF.

``problems(key, ctx, text)`` lists what is wrong with the extracted text of letter ``key``
rendered from ``ctx``: a required element missing (title, addressee, number, legal basis,
remedy, signature and date), a sentence or clause printed twice, doubled or odd punctuation,
a label with nothing after it, a field value printed more often than once, the letter calling
itself by another letter's noun.
"""
from __future__ import annotations

import re
from collections import Counter
from datetime import date
from typing import Any

from app.domain.outcomes import OUTCOME_BY_CODE
from app.letters import get_letter

from .support import squash

# The legal basis each procedural letter cites (substantive replies cite their outcome's).
ARTICLES = {
    "receipt": "第三十一条第",
    "correction_notice": "第三十条",
    "reasons_notice": "第三十五条",
    "extension_notice": "第三十三条第二款",
    "consult_third_party": "第三十二条",
    "consult_agency": "第三十四条",
    "consult_applicant_notice": "第三十三条第三款",
    "disclosure_notice_third_party": "第三十二条",
    "fee_notice": "第四十二条",
}
ADDRESSEE = {
    "cohandle": "cohandler.name", "consult_agency": "consulted_agency.name",
    "consult_third_party": "third_party.name", "disclosure_notice_third_party": "third_party.name",
    "consult_confirmation": "agency.name",
}
NOUNS = ("本答复书", "本告知书", "本通知书", "本征求意见书", "本函", "本回执", "本确认函")
PUNCT = "。，；：、！？"
# A label an official prints only with something after it.
LABELS = ("联系人", "联系电话", "联系方式", "文号", "登记编号", "计算方式", "应缴金额", "缴费方式", "理由",
          "申请内容", "收到的材料", "决定公开的政府信息内容", "受理查询的机构及方式")


def get(ctx: dict, dotted: str) -> Any:
    value: Any = ctx
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def cn(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def clean(text: str) -> str:
    """The letter's text in reading order without page numbers (— 1 —) or whitespace."""
    return re.sub(r"—\d+—", "", squash(text))


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"[。；！？：]", text) if s]


def clauses(text: str) -> list[str]:
    return [c for c in re.split(r"[。；！？，：]", text) if c]


def problems(key: str, ctx: dict, text: str, *, draft: bool = False) -> list[str]:
    letter = get_letter(key)
    text = clean(text)
    out: list[str] = []

    def need(needle: str, what: str) -> None:
        if squash(needle) not in text:
            out.append(f"missing {what}: {needle}")

    # Required elements.
    need(letter.title, "title")
    agency = get(ctx, "agency.name")
    if key not in ("service_record", "consult_confirmation") and text.count(agency) < 2:
        out.append("agency name not at the head and in the signature")
    addressee = ADDRESSEE.get(key, "applicant.name" if letter.field("applicant.name") else None)
    if addressee:
        need(get(ctx, addressee) + "：", "addressee")
    if letter.numbered and not draft:
        need(ctx["number"], "document number")
    if get(ctx, "issued_on") and not draft and letter.field("issued_on"):
        need(cn(ctx["issued_on"]), "date of the letter")
    if letter.kind == "substantive":
        code = ctx.get("outcome") or letter.outcomes[0]
        need(ctx.get("basis") or OUTCOME_BY_CODE[code].basis, "legal basis")
    elif key in ARTICLES:
        need(ARTICLES[key], "legal basis")
    if letter.remedy == "none":
        if "申请行政复议" in text or "提起行政诉讼" in text:
            out.append("remedy paragraph in a letter that has none")
    else:
        need(f"如对{letter.noun}", "remedy paragraph naming the letter")
        need(f"六十日内向{get(ctx, 'agency.reconsideration_body')}申请行政复议", "reconsideration")
        if letter.remedy == "reconsideration_first":
            need("应当先申请行政复议", "reconsideration first")
    if not letter.title.endswith(letter.noun[1:]):
        out.append(f"a {letter.title} calls itself {letter.noun}")
    for noun in NOUNS:
        if noun != letter.noun and noun in text and not (noun == "本函" and letter.noun == "本确认函"):
            out.append(f"calls itself {noun}, not {letter.noun}")
    # Doubled sentences and clauses (the remedy paragraph repeats its clauses on purpose).
    for s, n in Counter(s for s in sentences(text) if len(s) >= 8).items():
        if n > 1:
            out.append(f"sentence printed {n} times: {s}")
    remedy_text = text[text.find(f"如对{letter.noun}"):] if letter.remedy != "none" else ""
    for c, n in Counter(c for c in clauses(text) if len(c) >= 12 and c not in remedy_text).items():
        if n > 1:
            out.append(f"clause printed {n} times: {c}")
    # Punctuation.
    for m in re.finditer(f"[{PUNCT}][{PUNCT}]|（）|“”|：[）)]|[，、；（]）", text):
        out.append(f"odd punctuation {m.group()!r} in …{text[max(0, m.start() - 12):m.end() + 6]}…")
    for m in re.finditer(r"：[^。，；：、（）“”！？]{0,6}：", text):
        out.append(f"two labels run together in …{text[max(0, m.start() - 8):m.end() + 8]}…")
    # Empty labels.
    for label in LABELS:
        for m in re.finditer(re.escape(label) + "：", text):
            after = text[m.end():m.end() + 1]
            if after == "" or after in PUNCT + "）)":
                out.append(f"empty label {label}：")
    # Field values printed more often than once.
    for f in letter.fields:
        if f.type != "text" or f.name.startswith("agency.") or f.name in ("number", "contact.phone"):
            continue
        value = get(ctx, f.name)
        if not isinstance(value, str) or len(squash(value).rstrip(PUNCT)) < 6:
            continue
        needle = squash(value).rstrip(PUNCT)
        # Where another value quotes this one (the request names the publication asked for),
        # that occurrence is the other field's.
        rest = text
        for g in letter.fields:
            other = get(ctx, g.name)
            if g.name != f.name and isinstance(other, str) and needle in squash(other) != needle:
                rest = rest.replace(squash(other).rstrip(PUNCT), "")
        if rest.count(needle) > 1:
            out.append(f"{f.label}（{f.name}）printed {rest.count(needle)} times")
    return out
