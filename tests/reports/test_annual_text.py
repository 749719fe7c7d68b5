"""The annual report's written sections prefilled from the figures (pure functions, literal numbers)."""
from __future__ import annotations

import pytest

from app.reports.annual_text import (TO_FILL, Facts, fmt_amount, outcome_mix, prefill, table2_cells,
                                     table2_complete)

pytestmark = pytest.mark.no_db


def facts(**over) -> Facts:
    base = dict(agency="示范市交通运输局", year=2026, new=37, carried_in=4, closed=38, carried_out=3,
                outcomes={"disclose": 20, "partial": 6, "refuse": 3, "unable": 5, "not_processed": 2, "other": 2},
                measured=36, on_time=35, late=1, reconsiderations=2, suits=1, corrected=1, fee_cases=2,
                fee_yuan=820, table2={"rules": {"issued": 1}, "normative": {"issued": 12}})
    base.update(over)
    return Facts(**base)


def test_section_one_summarises_the_year():
    text = prefill(facts())["一"]
    assert text.startswith("2026年，示范市交通运输局依照《中华人民共和国政府信息公开条例》")
    assert "本年制发规章1件、行政规范性文件12件" in text
    assert "本年新收政府信息公开申请37件，上年结转4件，本年办结38件，结转下年度继续办理3件。" in text
    assert "予以公开20件、部分公开6件、不予公开3件、无法提供5件、不予处理2件、其他处理2件。" in text
    # 35 of 36 on time: 97.2%
    assert "按期答复35件，按期答复率97.2%，超期答复1件。" in text
    assert "被申请行政复议2件，被提起行政诉讼1件，截至年底被纠正1件。" in text


def test_section_one_without_remedies_lateness_or_table2():
    text = prefill(facts(on_time=36, late=0, reconsiderations=0, suits=0, corrected=0, table2={},
                         outcomes={"disclose": 38}))["一"]
    assert "按期答复率100%，均在法定期限内答复" in text
    assert "办结的申请中，予以公开38件。" in text  # groups with no case are left out
    assert "本年未发生因政府信息公开工作引起的行政复议、行政诉讼。" in text
    assert "制发" not in text


def test_section_one_with_no_requests():
    text = prefill(facts(new=0, carried_in=0, closed=0, carried_out=0, outcomes={}, measured=0, on_time=0,
                         late=0, reconsiderations=0, suits=0, corrected=0))["一"]
    assert "本年新收政府信息公开申请0件，上年结转0件，本年办结0件" in text
    assert "办结的申请中" not in text and "按期答复率" not in text


def test_section_five_names_the_problems_the_data_shows_and_leaves_the_rest_to_fill():
    text = prefill(facts())["五"]
    assert "有1件未在法定期限内答复" in text and "有1件被纠正" in text
    assert text.count(TO_FILL) == 2
    clean = prefill(facts(late=0, corrected=0))["五"]
    assert clean == f"（一）存在的主要问题。\n{TO_FILL}\n（二）改进情况。{TO_FILL}"


def test_section_six_states_the_fees_collected():
    assert prefill(facts())["六"].startswith("本年度依据《政府信息公开信息处理费管理办法》收取信息处理费2件，共计820元。")
    assert prefill(facts(fee_cases=1, fee_yuan=12300))["六"].startswith("本年度依据《政府信息公开信息处理费管理办法》收取信息处理费1件，共计12,300元。")
    assert prefill(facts(fee_cases=0, fee_yuan=0))["六"].startswith("本年度未收取政府信息公开信息处理费。")


def test_outcome_mix_groups_table_three_rows():
    t3 = {"三(一)": {"total": 5}, "三(二)": {"total": 1}, "三(三)1": {"total": 2}, "三(三)6": {"total": 1},
          "三(四)1": {"total": 4}, "三(五)2": {"total": 0}, "三(六)3": {"total": 3}, "三(七)": {"total": 16},
          "一": {"total": 9}}
    assert outcome_mix(t3) == {"disclose": 5, "partial": 1, "refuse": 3, "unable": 4, "not_processed": 0, "other": 3}


def test_table_two_cells_and_completeness():
    cells = table2_cells()
    assert len(cells) == 10  # 2 rows × 3 + 1 + 2 + 1
    assert cells[0] == ("t2_rules_issued", "rules", "issued", "规章“本年制发件数”")
    assert cells[-1] == ("t2_fees_amount", "fees", "amount", "行政事业性收费“本年收费金额（单位：万元）”")
    full = {"rules": {"issued": 0, "repealed": 0, "in_force": 3},
            "normative": {"issued": 1, "repealed": 0, "in_force": 9}, "licensing": {"decisions": 120}, "punishment": {"decisions": 0}, "enforcement": {"decisions": 0},
            "fees": {"amount": "0"}}
    assert table2_complete(full)
    del full["fees"]
    assert not table2_complete(full)


@pytest.mark.parametrize("value, shown", [("12.5000", "12.5"), ("0", "0"), ("3", "3"), ("0.0001", "0.0001"),
                                          ("120.3400", "120.34")])
def test_amount_format(value, shown):
    assert fmt_amount(value) == shown
