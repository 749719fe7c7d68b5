"""Every letter type reads as an official would write it, in each of its variants (issue 11 item 1).

Each case renders the real PDF from the meta.json example with a variant's overrides (applicant
a person or an organisation, handler assigned or not, optional fields filled or left empty, every
outcome and choice, text typed with or without a final 。, a supplementary paragraph, several
attachments, a draft) and reads the text back with pdftotext; tests/letters/wording.py lists what
a legal adviser would send back.
"""
from __future__ import annotations

import copy
from datetime import date

import pytest

from app.letters import all_letters, example_context, get_letter, render_pdf
from app.letters.catalogue import Letter

from .support import pdf_text, require_poppler
from .wording import get, problems

pytestmark = pytest.mark.no_db

DROP = object()
# Fields every letter may carry; "minimal" keeps them and empties the letter's own optional fields.
COMMON = ("agency.", "number", "issued_on", "contact.", "applicant.", "received_on", "request", "case_ref")
# Free text a handler types as a sentence: with or without the final 。 it must read the same.
PROSE = ("reasons", "search", "obtain", "decision", "tasks", "why", "facts", "guidance", "public_source",
         "where", "query_office", "channel", "details", "objection", "reason", "fee.reason",
         "fee.calculation", "fee.payment", "disclosed", "third_party_objection", "already_public_at")

SPECIFIC: dict[str, list[tuple[str, dict]]] = {
    "receipt": [(ch, {"channel": ch}) for ch in ("post", "online", "fax")],
    "consult_applicant_notice": [("agency", {"consult_kind": "agency", "consulted": "江河市清源区财政局"})],
    # What the services used to pass: the measure named in fee.basis too (cited twice).
    "fee_notice": [("basis_names_the_measure", {"fee.basis": "《政府信息公开信息处理费管理办法》（国办函〔2020〕109号）"}),
                   ("per_volume", {"fee.method": "per_volume", "fee.basis": "第五条",
                                   "fee.reason": "您申请提供的政府信息共120页，明显超过合理范围",
                                   "fee.calculation": "第31页至第100页每页10元，第101页至第120页每页20元",
                                   "fee.amount": 1100})],
    "reply_refuse": [(code, {"outcome": code}) for code in (
        "refuse_secret", "refuse_security", "refuse_internal", "refuse_enforcement")] + [
        ("refuse_law", {"outcome": "refuse_law", "prohibiting_law": "《中华人民共和国统计法》第三十九条"}),
        ("refuse_third_party", {"outcome": "refuse_third_party",
                                "third_party_objection": "报价单属于本公司商业秘密，不同意公开。"}),
        ("refuse_third_party_default", {"outcome": "refuse_third_party"})],
    "reply_lapsed": [
        ("fee_unpaid", {"outcome": "fee_unpaid", "notice.number": "清建信费〔2026〕1号"}),
        ("still_unclear", {"outcome": "still_unclear", "notice.due": DROP,
                           "reasons": "您补正后仍未说明所指小区的名称或者地址，本机关无法确定您所需的政府信息。"}),
        ("still_unclear_no_reasons", {"outcome": "still_unclear", "notice.due": DROP})],
    "reply_not_gov_info": [("reissue", {"outcome": "reissue",
                                        "reasons": "您要求本机关重新出具的2025年度保障性住房资格审核结果通知书，本机关已于2025年9月送达您本人。"})],
    "reply_record_correction": [
        ("not_verified", {"result": "not_verified", "details": "您提供的户口簿显示家庭人口数为4人。"}),
        ("forwarded", {"result": "forwarded", "competent.name": "江河市清源区民政局",
                       "competent.contact": "电话0571-87651234", "details": "请您等候其答复。"}),
        ("elsewhere", {"result": "elsewhere", "competent.name": "江河市清源区民政局", "details": "请携带相关证明材料。"})],
    "reply_not_ours": [("already_public", {"already_public_at": "江河市清源区统计局门户网站“统计数据”栏目"})],
    "reply_unreasonable": [("no_answer", {"reasons_result": "no_answer", "reasons": "您自2026年10月1日以来已向本机关提出政府信息公开申请58件，其中43件内容相同或者相近。"}),
                           ("result_not_given", {"reasons_result": DROP})],
    "reply_petition": [("with_reasons", {"reasons": "您的申请要求本机关查处东湖小区物业公司乱收费问题并答复处理结果，属于投诉。"})],
    "disclosure_notice_third_party": [
        ("as_consultation_reply", {"objection": "涉及本公司商业秘密，不同意公开。", "objected_on": DROP,
                                   "reasons": "不公开可能对公共利益造成重大影响：该报告涉及1200余户居民的切身利益。",
                                   "disclosed": DROP}),
        ("same_as_information", {"disclosed": "清源区东湖小区改造工程结算审计报告"})],
}


def _set(ctx: dict, dotted: str, value) -> None:
    *parents, leaf = dotted.split(".")
    node = ctx
    for p in parents:
        node = node.setdefault(p, {})
    if value is DROP:
        node.pop(leaf, None)
    else:
        node[leaf] = date.fromisoformat(value) if isinstance(value, str) and _is_date(node, leaf, value) else value


def _is_date(node, leaf, value) -> bool:
    return len(value) == 10 and value[4] == "-" and value[7] == "-"


def _own(name: str) -> bool:
    return not any(name == p or (p.endswith(".") and name.startswith(p)) for p in COMMON)


def variants(letter: Letter) -> list[tuple[str, dict, bool]]:
    """(name, overrides, draft) of every variant of ``letter``."""
    out: list[tuple[str, dict, bool]] = [("example", {}, False), ("draft", {}, True)]
    if letter.field("applicant.kind"):
        out.append(("organisation", {"applicant.name": "江河市清源区东湖小区业主委员会",
                                     "applicant.kind": "organisation"}, False))
    if letter.field("contact.name"):
        out.append(("unassigned", {"contact.name": DROP}, False))
        out.append(("no_contact", {"contact": DROP, "agency.phone": DROP}, False))
    if letter.field("attachments"):
        out.append(("attachments", {"attachments": ["检索记录", "相关文件目录"]}, False))
    if letter.field("decision"):
        out.append(("supplement", {"decision": "如需了解办理进度，可于工作日拨打本机关联系电话查询。"}, False))
    optional = {f.name: DROP for f in letter.fields if _own(f.name) and f.required is False
                and f.name not in ("outcome",) and f.type != "choice"}
    if optional:
        out.append(("minimal", optional, False))
    example = example_context(letter.key)
    prose = [n for n in PROSE if letter.field(n) and letter.field(n).type == "text" and isinstance(get(example, n), str)]
    if prose:
        out.append(("with_full_stop", {n: get(example, n).rstrip("。；，") + "。" for n in prose}, False))
        out.append(("without_full_stop", {n: get(example, n).rstrip("。；，") for n in prose}, False))
    out += [(name, over, False) for name, over in SPECIFIC.get(letter.key, [])]
    return out


CASES = [(letter.key, name, over, draft) for letter in all_letters() for name, over, draft in variants(letter)]


def context(key: str, over: dict) -> dict:
    ctx = copy.deepcopy(example_context(key))
    for name, value in over.items():
        _set(ctx, name, value)
    return ctx


@pytest.mark.parametrize(("key", "variant", "over", "draft"), CASES,
                         ids=[f"{k}-{v}" for k, v, _, _ in CASES])
def test_letter_reads_as_an_official_would_write_it(key, variant, over, draft):
    require_poppler()
    ctx = context(key, over)
    text = pdf_text(render_pdf(key, ctx, draft=draft))
    assert problems(key, ctx, text, draft=draft) == []


def test_every_letter_type_has_variants():
    keys = {k for k, *_ in CASES}
    assert keys == {letter.key for letter in all_letters()} and len(keys) == 28
    for letter in all_letters():
        assert sum(1 for k, *_ in CASES if k == letter.key) >= 3, letter.key
        for code in letter.outcomes:  # every outcome a letter serves is rendered
            assert any(k == letter.key and (o.get("outcome") or example_context(k).get("outcome")
                                            or get_letter(k).outcomes[0]) == code
                       for k, _, o, _ in CASES), code


def _text(key: str, over: dict) -> str:
    return pdf_text(render_pdf(key, context(key, over)))


def test_an_applicant_who_never_explained_is_not_told_the_reasons_were_unreasonable():
    require_poppler()
    silent = _text("reply_unreasonable", dict(SPECIFIC["reply_unreasonable"][0][1]))
    assert "逾期未说明理由" in silent and "理由不合理" not in silent and "已作出说明" not in silent
    assert "2026年11月30日前说明申请理由" in silent
    answered = _text("reply_unreasonable", {})
    assert "说明的理由不合理" in answered and "逾期未说明理由" not in answered


def test_the_fee_measure_is_cited_once_and_the_lapsed_notice_calls_itself_a_notice():
    require_poppler()
    for over in ({}, dict(SPECIFIC["fee_notice"][0][1])):
        assert _text("fee_notice", over).count("国办函〔2020〕109号") == 1
    text = _text("reply_lapsed", {})
    assert "如对本告知书不服" in text and "本答复书" not in text


def test_a_case_without_a_handler_prints_the_phone_without_a_contact_label():
    require_poppler()
    text = _text("reply_disclose", {"contact.name": DROP})
    assert "（联系电话：0571-87654321）" in text and "联系人" not in text
    assert "（联系人：李四，联系电话：0571-87654321）" in _text("reply_disclose", {})
    assert "联系" not in _text("reply_disclose", {"contact": DROP, "agency.phone": DROP})
