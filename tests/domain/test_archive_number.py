"""档号 from an agency's rule (DA/T 13: 全宗号-年度-保管期限-件号), issue 15 item 5."""
from __future__ import annotations

import pytest

from app.domain import archive_number as AN


@pytest.mark.parametrize("pattern,fonds,year,period,seq,expected", [
    (AN.DEFAULT_PATTERN, "J012", 2026, "D10", 1, "J012-2026-D10-0001"),
    (AN.DEFAULT_PATTERN, "J012", 2026, "Y", 12345, "J012-2026-Y-12345"),  # the padding is a minimum
    ("{fonds}·{year}·{period}·{seq:03d}", "示范区政府办", 2025, "D30", 7, "示范区政府办·2025·D30·007"),
    ("{year}-{period}-{seq}", "J012", 2026, "D10", 42, "2026-D10-42"),  # 全宗号 left out
    ("{fonds}{year}{seq:05d}", "A1", 2026, "D10", 3, "A1202600003"),  # no period: one sequence a year
    ("档{{{fonds}}}{year}-{seq:04d}", "Q", 2026, "Y", 5, "档{Q}2026-0005"),  # literal braces
])
def test_format_follows_the_rule(pattern, fonds, year, period, seq, expected):
    assert AN.check_pattern(pattern) is None
    assert AN.format_number(pattern, fonds, year, period, seq) == expected
    assert AN.sequence_of(pattern, fonds, year, period, expected) == seq


@pytest.mark.parametrize("pattern,message", [
    ("", "档号规则不能为空"),
    ("{fonds}-{year}-{period}-{num:04d}", "“{num}”无法识别"),
    ("{fonds}-{year}-{期限}-{seq}", "“{期限}”无法识别"),
    ("{fonds.__class__}-{year}-{seq}", "“{fonds.__class__}”无法识别"),
    ("{fonds[0]}-{year}-{seq}", "“{fonds[0]}”无法识别"),
    ("{fonds}-{year}-{period}", "须包含件号 {seq}"),
    ("{fonds}-{period}-{seq:04d}", "须包含年度 {year}"),
    ("{fonds}-{year}-{period}-{seq:x}", "“{seq:x}”写法不可用，数字只能补零"),
    ("{fonds}-{year}-{seq:4d}", "“{seq:4d}”写法不可用"),  # spaces in a 档号
    ("{fonds:>10}-{year}-{seq}", "“{fonds:>10}”写法不可用，不能加格式"),
    ("{fonds!r}-{year}-{seq}", "“{fonds!r}”写法不可用"),
    ("{fonds}-{year}-{seq}-{seq}", "{seq}（件号）只能出现一次"),
    ("{fonds}-{year-{seq}", "花括号不成对"),
    ("{fonds}-{year}-{period}-{seq:04d}}", "花括号不成对"),
    ("{fonds} {year} {seq}", "不能有空格"),
    ("档案" * 13 + "{fonds}{year}{seq}", "可能超过60字"),
])
def test_a_malformed_rule_is_refused_in_words(pattern, message):
    problem = AN.check_pattern(pattern)
    assert problem is not None and message in problem, problem
    with pytest.raises(ValueError):
        AN.format_number(pattern, "J012", 2026, "D10", 1)


def test_the_next_number_is_one_past_the_highest_of_the_same_fonds_year_and_period():
    used = ["J012-2026-D10-0001", "J012-2026-D10-0007", "J012-2026-D10-0003",
            "J012-2026-Y-0020",  # another period
            "J012-2025-D10-0099",  # another year
            "J013-2026-D10-0050",  # another fonds
            "J012-2026-D10-0008-补",  # not of this rule
            "DEMO-2026-D10-0100"]
    assert AN.next_number(AN.DEFAULT_PATTERN, "J012", 2026, "10y", used) == "J012-2026-D10-0008"
    assert AN.next_number(AN.DEFAULT_PATTERN, "J012", 2026, "permanent", used) == "J012-2026-Y-0021"
    assert AN.next_number(AN.DEFAULT_PATTERN, "J012", 2026, "30y", used) == "J012-2026-D30-0001"
    assert AN.next_number(AN.DEFAULT_PATTERN, "J012", 2027, "10y", used) == "J012-2027-D10-0001"
    # Without {period} in the rule, all periods of a year share one sequence (no number twice).
    assert AN.next_number("{fonds}-{year}-{seq:04d}", "J012", 2026, "permanent",
                          ["J012-2026-0004", "J012-2026-0002"]) == "J012-2026-0005"


def test_the_prefix_is_what_precedes_the_sequence():
    assert AN.fixed_prefix(AN.DEFAULT_PATTERN, "J012", 2026, "D10") == "J012-2026-D10-"
    assert AN.fixed_prefix("{seq:04d}/{year}", "J012", 2026, "D10") == ""
    assert AN.fixed_prefix("{{{fonds}}}{year:06d}-{seq}", "J", 2026, "Y") == "{J}002026-"


def test_retention_codes_and_fonds():
    assert AN.PERIOD_CODES == {"permanent": "Y", "30y": "D30", "10y": "D10"}
    assert [AN.period_code(r) for r in ("permanent", "30y", "10y")] == ["Y", "D30", "D10"]
    with pytest.raises(ValueError):
        AN.period_code("5y")
    assert AN.check_fonds("") is None and AN.check_fonds("J012") is None and AN.check_fonds("示范区0012") is None
    for bad in ("J 012", "J{0}", "J/012", "X" * 33):
        assert "全宗号只能由" in AN.check_fonds(bad)
