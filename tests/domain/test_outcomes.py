"""Outcomes and the annual report table 三 (handbook §1.8, §3.2, §8.10)."""
from __future__ import annotations

import re

import pytest

from app.domain.outcomes import DRAFTABLE, OUTCOMES, REG, REPORT_ROWS, ROW_LABELS, outcome

# Handbook §3.2, the 25 data rows; for nested rows the label is the leaf printed in the row.
EXPECTED_ROWS = [
    ("一", "一、本年新收政府信息公开申请数量"),
    ("二", "二、上年结转政府信息公开申请数量"),
    ("三(一)", "（一）予以公开"),
    ("三(二)", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"),
    ("三(三)1", "1.属于国家秘密"),
    ("三(三)2", "2.其他法律行政法规禁止公开"),
    ("三(三)3", "3.危及“三安全一稳定”"),
    ("三(三)4", "4.保护第三方合法权益"),
    ("三(三)5", "5.属于三类内部事务信息"),
    ("三(三)6", "6.属于四类过程性信息"),
    ("三(三)7", "7.属于行政执法案卷"),
    ("三(三)8", "8.属于行政查询事项"),
    ("三(四)1", "1.本机关不掌握相关政府信息"),
    ("三(四)2", "2.没有现成信息需要另行制作"),
    ("三(四)3", "3.补正后申请内容仍不明确"),
    ("三(五)1", "1.信访举报投诉类申请"),
    ("三(五)2", "2.重复申请"),
    ("三(五)3", "3.要求提供公开出版物"),
    ("三(五)4", "4.无正当理由大量反复申请"),
    ("三(五)5", "5.要求行政机关确认或重新出具已获取信息"),
    ("三(六)1", "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请"),
    ("三(六)2", "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请"),
    ("三(六)3", "3.其他"),
    ("三(七)", "（七）总计"),
    ("四", "四、结转下年度继续办理"),
]
NOT_OUTCOME_ROWS = {"一", "二", "三(七)", "四"}
OUTCOME_ROWS = [k for k, _ in EXPECTED_ROWS if k not in NOT_OUTCOME_ROWS]  # 三(一) … 三(六)3
REFUSAL_ROWS = {"三(二)", "三(三)1", "三(三)2", "三(三)3", "三(三)4", "三(三)5", "三(三)6", "三(三)7"}

# Handbook §3.2 mapping table (and §1.8): outcome → row and the articles its basis must cite.
EXPECTED_MAPPING = {
    "disclose": ("三(一)", ["第三十六条第（二）项"]),
    "already_public": ("三(一)", ["第三十六条第（一）项"]),
    "partial": ("三(二)", ["第三十七条"]),
    "refuse_secret": ("三(三)1", ["第十四条", "第三十六条第（三）项"]),
    "refuse_law": ("三(三)2", ["第十四条", "第三十六条第（三）项"]),
    "refuse_security": ("三(三)3", ["第十四条", "第三十六条第（三）项"]),
    "refuse_third_party": ("三(三)4", ["第十五条", "第三十二条", "第三十六条第（三）项"]),
    "refuse_internal": ("三(三)5", ["第十六条第一款", "第三十六条第（三）项"]),
    "refuse_process": ("三(三)6", ["第十六条第二款", "第三十六条第（三）项"]),
    "refuse_enforcement": ("三(三)7", ["第十六条第二款", "第三十六条第（三）项"]),
    "special_statute": ("三(三)8", ["第三十六条第（七）项"]),
    "not_exist": ("三(四)1", ["第三十六条第（四）项"]),
    "not_ours": ("三(四)1", ["第三十六条第（五）项"]),
    "needs_creation": ("三(四)2", ["第三十八条"]),
    "still_unclear": ("三(四)3", ["第三十条"]),
    "petition": ("三(五)1", ["第三十九条第一款"]),
    "repeat": ("三(五)2", ["第三十六条第（六）项"]),
    "publication": ("三(五)3", ["第三十九条第二款"]),
    "unreasonable": ("三(五)4", ["第三十五条"]),
    "reissue": ("三(五)5", []),  # a practice category: no specific article in the handbook
    "correction_lapsed": ("三(六)1", ["第三十条"]),
    "fee_unpaid": ("三(六)2", ["109号"]),
    "withdrawn": ("三(六)3", []),
    "not_gov_info": ("三(六)3", ["第二条"]),
    "record_correction": ("三(六)3", ["第四十一条"]),
}
NO_ARTICLE = {"withdrawn"}  # handbook §3.2: "anything else (e.g. withdrawn) | — |"
ARTICLE = re.compile(re.escape(REG) + r"第[一二三四五六七八九十]+条")


def test_report_table_has_exactly_the_25_rows_with_exact_labels():
    assert len(REPORT_ROWS) == 25
    assert [(r.key, r.label) for r in REPORT_ROWS] == EXPECTED_ROWS
    assert ROW_LABELS == dict(EXPECTED_ROWS)


def test_outcome_codes_are_unique_and_cover_the_handbook_mapping():
    codes = [o.code for o in OUTCOMES]
    assert len(codes) == len(set(codes))
    assert set(codes) == set(EXPECTED_MAPPING)


@pytest.mark.parametrize("o", OUTCOMES, ids=lambda o: o.code)
def test_every_outcome_maps_to_an_existing_outcome_row(o):
    assert o.row in ROW_LABELS
    assert o.row not in NOT_OUTCOME_ROWS


@pytest.mark.parametrize("row", OUTCOME_ROWS)
def test_every_outcome_row_is_reachable_by_an_outcome(row):
    assert any(o.row == row for o in OUTCOMES), f"no outcome lands in {row} {ROW_LABELS[row]}"


@pytest.mark.parametrize("code", sorted(EXPECTED_MAPPING))
def test_outcome_row_and_basis_follow_the_handbook_mapping(code):
    row, articles = EXPECTED_MAPPING[code]
    o = outcome(code)
    assert o.row == row
    for article in articles:
        assert article in o.basis, f"{code}: {o.basis!r} does not cite {article}"


@pytest.mark.parametrize("o", OUTCOMES, ids=lambda o: o.code)
def test_basis_cites_an_article_of_the_regulations(o):
    if o.code in NO_ARTICLE:
        assert "条例" not in o.basis
        return
    assert ARTICLE.search(o.basis), o.basis


@pytest.mark.parametrize("o", OUTCOMES, ids=lambda o: o.code)
def test_refusal_flag_exactly_for_refusal_rows(o):
    # 不予公开 rows 1–7 and the withheld part of 部分公开 go to reconsideration first (复议前置).
    assert o.refusal == (o.row in REFUSAL_ROWS)


@pytest.mark.parametrize("o", [o for o in OUTCOMES if o.refusal], ids=lambda o: o.code)
def test_refusals_must_give_reasons(o):
    # Art. 36 (三) "并说明理由"; Art. 37 reasons for the withheld part.
    assert o.needs_reasons


def test_not_ours_must_give_reasons():
    assert outcome("not_ours").needs_reasons  # Art. 36 (五) "说明理由"


def test_lapse_and_withdrawal_outcomes_are_not_drafted():
    assert {o.code for o in OUTCOMES if not o.drafted} == {"correction_lapsed", "fee_unpaid", "withdrawn"}
    assert set(DRAFTABLE) == {o for o in OUTCOMES if o.drafted}


def test_unknown_outcome_code_raises_value_error():
    assert outcome("disclose").row == "三(一)"
    with pytest.raises(ValueError, match="未知的办理结果"):
        outcome("no_such_outcome")
