"""Personal data found in plain text (Art. 15), the suggestions of the redaction screen (Art. 37):
resident ID numbers, mobile numbers, bank card numbers, addresses after their label."""
from __future__ import annotations

import pytest

from app.domain.intake import resident_id_check_digit
from app.domain.redaction import Finding, find_personal_data


def found(text: str) -> list[tuple[str, str]]:
    return [(text[f.start:f.end], f.kind) for f in find_personal_data(text)]


def kinds(text: str) -> list[str]:
    return [f.kind for f in find_personal_data(text)]


# --------------------------------------------------------------------------- resident ID numbers

VALID_IDS = ["11010519491231002X", "44030419900307123X", "320102198501010012", "510108199912310077",
             "110105200002290013"]  # 29 February 2000: a leap day


@pytest.mark.parametrize("number", VALID_IDS)
def test_valid_id_numbers_are_found(number):
    assert found(f"身份证号码：{number}。") == [(number, "id_number")]


def test_a_finding_carries_offsets_kind_and_label():
    text = "身份证号码11010519491231002X"
    assert find_personal_data(text) == [Finding(5, 23, "id_number", "身份证号码")]


def test_lower_case_x_is_an_id_number():
    assert found("号码11010519491231002x") == [("11010519491231002x", "id_number")]


def test_fullwidth_digits_keep_the_offsets_of_the_text_given():
    text = "证件：１１０１０５１９４９１２３１００２Ｘ"
    assert found(text) == [("１１０１０５１９４９１２３１００２Ｘ", "id_number")]


@pytest.mark.parametrize("number", [
    "110105194912310021",  # check digit should be X
    "440304199003071231",  # check digit should be X
    "320102198501010013",  # check digit should be 2
])
def test_a_wrong_check_digit_is_not_an_id_number(number):
    assert "id_number" not in kinds(f"身份证{number}")


@pytest.mark.parametrize("number, why", [
    ("110105199902300015", "30 February"),
    ("110105200102290010", "29 February of a common year"),
    ("620102198513010010", "month 13"),
    ("110105189912310015", "born before 1900"),
])
def test_id_numbers_need_a_real_birth_date(number, why):
    assert number[17] == resident_id_check_digit(number[:17])  # the checksum alone would pass
    assert "id_number" not in kinds(f"身份证{number}"), why


@pytest.mark.parametrize("text", [
    "编号911010519491231002X",  # a longer digit run
    "编号11010519491231002X5",
    "流水号0011010519491231002X",
    "1101051949123100",  # 16 characters
])
def test_an_id_number_inside_a_longer_number_is_not_found(text):
    assert "id_number" not in kinds(text)


# --------------------------------------------------------------------------- mobile numbers

@pytest.mark.parametrize("written", [
    "13812345678", "19912345678", "15000000000", "+8613812345678", "8613812345678", "+86 13812345678",
    "86-13812345678", "138 1234 5678", "138-1234-5678", "+86 138 1234 5678",
])
def test_mobile_numbers_in_their_usual_forms(written):
    assert found(f"联系电话：{written}，") == [(written, "mobile")]


@pytest.mark.parametrize("text", [
    "12812345678",  # no mobile prefix 12
    "10012345678",
    "1381234567",  # 10 digits
    "138123456789",  # 12 digits
    "0138123456780",  # inside a longer run
    "订单号2013812345678",
    "138 1234-5678",  # mixed separators
    "1381 234 5678",  # not 3-4-4
])
def test_what_is_not_a_mobile_number(text):
    assert "mobile" not in kinds(text)


def test_a_landline_is_not_a_mobile_number():
    assert found("办公电话010-12345678") == []


# --------------------------------------------------------------------------- bank cards

@pytest.mark.parametrize("card", [
    "6222020200001234562",  # 19 digits
    "6228480012345678903",
    "6225880123456783",  # 16 digits
    "4111111111111111",
    "6222 0202 0000 1234 562",  # grouped by four
    "6225 8801 2345 6783",
])
def test_bank_cards_that_pass_the_luhn_check(card):
    assert found(f"开户行账号：{card}。") == [(card, "bank_card")]


@pytest.mark.parametrize("text", [
    "6222020200001234563",  # Luhn fails
    "6225 8801 2345 6784",
    "62258801234567",  # 14 digits
    "62220202000012345620",  # 20 digits: passes Luhn, too long for a card
    "962220202000012345629",
    "6225 8801 2345 6783 1234",  # a longer grouped run
    "6225 8801 2345 678 3",  # not groups of four
])
def test_what_is_not_a_bank_card(text):
    assert "bank_card" not in kinds(text)


def test_an_id_number_that_passes_luhn_is_an_id_number_not_a_card():
    from app.domain.redaction import _luhn

    number = next(n for n in (f"11010519900101{k:03d}" for k in range(1000))
                  if resident_id_check_digit(n) != "X" and _luhn(n + resident_id_check_digit(n)))
    number += resident_id_check_digit(number)
    assert found(number) == [(number, "id_number")]


# --------------------------------------------------------------------------- addresses

@pytest.mark.parametrize("text, address", [
    ("住址：示范市幸福路8号", "示范市幸福路8号"),
    ("住址:示范市幸福路8号3单元502室", "示范市幸福路8号3单元502室"),
    ("家庭住址：北京市东城区东华门街道1号院。", "北京市东城区东华门街道1号院"),
    ("现住址 上海市浦东新区世纪大道100号；", "上海市浦东新区世纪大道100号"),
    ("住所：广东省深圳市南山区科技园，", "广东省深圳市南山区科技园"),
    ("住所地：示范市人民路1号,法定代表人", "示范市人民路1号"),
    ("住址：示范市幸福路8号  电话：010-1234", "示范市幸福路8号"),
    ("住址：示范市幸福路8号联系电话010-1234", "示范市幸福路8号"),
    ("其家庭住址为示范市光明路12号。", "示范市光明路12号"),
    ("住址是示范市光明路12号", "示范市光明路12号"),
    ("住址：示范市幸福路8号身份证号码", "示范市幸福路8号"),
    ("住址：示范市幸福路8号\n申请内容：", "示范市幸福路8号"),
    ("住址：  示范市幸福路8号  ", "示范市幸福路8号"),
])
def test_addresses_after_their_label(text, address):
    assert found(text) == [(address, "address")]


def test_the_address_span_leaves_the_label_out():
    text = "家庭住址：示范市幸福路8号"
    (f,) = find_personal_data(text)
    assert (f.start, f.label) == (text.index("示"), "住址")


@pytest.mark.parametrize("text", ["住址：示范", "住址：", "住址：3号。示范市幸福路", "地址：示范市幸福路8号"])
def test_short_or_unlabelled_addresses_are_not_found(text):
    assert kinds(text) == []


def test_an_address_stops_before_a_number_written_after_it():
    assert found("住址：示范市幸福路8号 13812345678") == [("示范市幸福路8号", "address"),
                                                      ("13812345678", "mobile")]


# --------------------------------------------------------------------------- mixed text

def test_a_form_with_every_kind_in_order():
    text = ("申请人：张三  身份证号码：11010519491231002X  联系电话：138-1234-5678\n"
            "住址：示范市幸福路8号3单元502室  邮编：100000\n"
            "收款账号：6222 0202 0000 1234 562。流水号20261123000112345678（不是卡号）。")
    assert found(text) == [("11010519491231002X", "id_number"), ("138-1234-5678", "mobile"),
                           ("示范市幸福路8号3单元502室", "address"), ("6222 0202 0000 1234 562", "bank_card")]
    findings = find_personal_data(text)
    assert all(a.end <= b.start for a, b in zip(findings, findings[1:]))
    assert [f.label for f in findings] == ["身份证号码", "手机号码", "住址", "银行卡号"]


def test_running_text_of_a_reply():
    text = ("经查，申请人李四（身份证号码44030419900307123X，手机+86 13912345678）于2026年11月2日"
            "提出申请，其家庭住址为示范市光明路12号。文号示政发〔2025〕3号，共计12345678页。")
    assert found(text) == [("44030419900307123X", "id_number"), ("+86 13912345678", "mobile"),
                           ("示范市光明路12号", "address")]


def test_plain_text_without_personal_data():
    assert find_personal_data("根据《中华人民共和国政府信息公开条例》第三十七条的规定，现予以公开。") == []
    assert find_personal_data("") == []
