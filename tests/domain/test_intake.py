"""Intake: the Art. 31 receipt date per channel (handbook §1.2, §8.3) and identity numbers."""
from __future__ import annotations

from datetime import date

import pytest

from app.domain.intake import (
    APPLICANT_TYPES,
    CHANNELS,
    IntakeError,
    receipt_date,
    resident_id_check_digit,
    validate_resident_id,
)

D = date
SAT = D(2026, 10, 3)  # National Day break; next working day is Thu 8 Oct
MAKEUP_SAT = D(2026, 10, 10)  # make-up working Saturday


# --------------------------------------------------------------------------- receipt date (Art. 31)


def test_in_person_counts_the_day_handed_in(cal):
    r = receipt_date("in_person", D(2026, 3, 4), None, cal)
    assert r.received_on == D(2026, 3, 4)
    assert "第三十一条第（一）项" in r.basis


def test_registered_post_counts_the_day_signed_for_even_if_confirmed_later(cal):
    r = receipt_date("registered_post", D(2026, 3, 4), D(2026, 3, 9), cal)
    assert r.received_on == D(2026, 3, 4)
    assert "签收之日" in r.basis and "第三十一条第（二）项" in r.basis


def test_arrival_channels_do_not_roll_a_non_working_day(cal):
    assert receipt_date("in_person", SAT, None, cal).received_on == SAT
    assert receipt_date("registered_post", SAT, None, cal).received_on == SAT


@pytest.mark.parametrize("channel", ["ordinary_post", "online", "fax"])
def test_confirmation_channels_require_confirmed_on(cal, channel):
    with pytest.raises(IntakeError) as exc:
        receipt_date(channel, D(2026, 3, 4), None, cal)
    assert exc.value.field == "confirmed_on"
    assert "第三十一条" in exc.value.message


@pytest.mark.parametrize("channel", ["ordinary_post", "online", "fax"])
def test_confirmation_before_arrival_is_refused(cal, channel):
    with pytest.raises(IntakeError) as exc:
        receipt_date(channel, D(2026, 3, 4), D(2026, 3, 3), cal)
    assert exc.value.field == "confirmed_on"


def test_ordinary_post_counts_the_confirmation_day(cal):
    same_day = receipt_date("ordinary_post", D(2026, 3, 4), D(2026, 3, 4), cal)
    assert same_day.received_on == D(2026, 3, 4)
    assert "注意" not in same_day.basis
    late = receipt_date("ordinary_post", D(2026, 3, 4), D(2026, 3, 6), cal)
    assert late.received_on == D(2026, 3, 6)
    assert "未于信函到达当日确认" in late.basis  # Art. 31 (二): confirm on the day it arrives


@pytest.mark.parametrize("channel", ["online", "fax"])
def test_online_and_fax_count_the_confirmation_day(cal, channel):
    r = receipt_date(channel, D(2026, 3, 4), D(2026, 3, 5), cal)
    assert r.received_on == D(2026, 3, 5)
    assert "双方确认之日" in r.basis and "第三十一条第（三）项" in r.basis


@pytest.mark.parametrize("channel", ["online", "fax"])
def test_online_and_fax_confirmed_on_non_working_day_roll_to_next_working_day(cal, channel):
    r = receipt_date(channel, SAT, SAT, cal)
    assert r.received_on == D(2026, 10, 8)
    assert "顺延至2026年10月8日" in r.basis


@pytest.mark.parametrize("channel", ["online", "fax"])
def test_online_confirmed_on_makeup_saturday_does_not_roll(cal, channel):
    r = receipt_date(channel, MAKEUP_SAT, MAKEUP_SAT, cal)
    assert r.received_on == MAKEUP_SAT
    assert "顺延" not in r.basis


def test_ordinary_post_confirmed_on_non_working_day_does_not_roll(cal):
    # Handbook §8.3 rolls only online/fax confirmations; Art. 31 (二): the confirmation day counts.
    r = receipt_date("ordinary_post", SAT, SAT, cal)
    assert r.received_on == SAT
    assert "顺延" not in r.basis


def test_online_roll_forward_can_be_switched_off(cal):
    r = receipt_date("online", SAT, SAT, cal, non_workday_rolls_forward=False)
    assert r.received_on == SAT


def test_unknown_channel_is_an_intake_error_on_channel(cal):
    with pytest.raises(IntakeError) as exc:
        receipt_date("carrier_pigeon", D(2026, 3, 4), D(2026, 3, 4), cal)
    assert exc.value.field == "channel"
    assert isinstance(exc.value, ValueError)


def test_channels_and_applicant_types_cover_art_31_and_table_columns():
    assert set(CHANNELS) == {"in_person", "registered_post", "ordinary_post", "online", "fax"}
    # Columns 1–6 of annual report table 三 (handbook §3.2).
    assert list(APPLICANT_TYPES.values()) == [
        "自然人",
        "法人或其他组织—商业企业",
        "法人或其他组织—科研机构",
        "法人或其他组织—社会公益组织",
        "法人或其他组织—法律服务机构",
        "法人或其他组织—其他",
    ]


# --------------------------------------------------------------------------- resident identity card (GB 11643)

WEIGHTS = [2 ** (17 - i) % 11 for i in range(17)]  # GB 11643: W_i = 2^(i-1) mod 11, i counted from the right


def independent_check_digit(first17: str) -> str:
    r = (12 - sum(int(c) * w for c, w in zip(first17, WEIGHTS)) % 11) % 11
    return "X" if r == 10 else str(r)


def test_check_digit_agrees_with_gb_11643_definition():
    # The standard's own sample numbers.
    assert resident_id_check_digit("11010519491231002") == "X"
    assert resident_id_check_digit("44052418800101001") == "4"
    for body in ["11010519491231002", "44052418800101001", "32010619900307123", "51010819851231456",
                 "11010120000229001", "65010220101010987"]:
        assert resident_id_check_digit(body) == independent_check_digit(body), body


@pytest.mark.parametrize("body", ["11010519491231002", "44052418800101001", "32010619900307123",
                                  "11010120000229001"])
def test_valid_resident_id_accepted(body):
    number = body + resident_id_check_digit(body)
    assert validate_resident_id(number) == number


def test_valid_resident_id_with_x_check_digit_normalised():
    assert validate_resident_id("11010519491231002X") == "11010519491231002X"
    assert validate_resident_id(" 11010519491231002x ") == "11010519491231002X"


def test_resident_id_wrong_check_digit_refused():
    body = "44052418800101001"
    good = resident_id_check_digit(body)
    for wrong in "0123456789X":
        if wrong == good:
            continue
        with pytest.raises(IntakeError) as exc:
            validate_resident_id(body + wrong)
        assert exc.value.field == "id_number"
        assert "校验位" in exc.value.message


@pytest.mark.parametrize("body", ["11010519490230002",  # 30 Feb
                                  "11010519491301002",  # month 13
                                  "11010519490001002",  # month 0
                                  "11010519010229002"])  # 1901 is no leap year
def test_resident_id_bad_birth_date_refused(body):
    number = body + resident_id_check_digit(body)  # correct check digit: only the date is wrong
    with pytest.raises(IntakeError) as exc:
        validate_resident_id(number)
    assert exc.value.field == "id_number"
    assert "出生日期" in exc.value.message


@pytest.mark.parametrize("number", ["", "11010519491231002", "11010519491231002X1", "110105194912310",
                                    "1101051949123100A2", "X10105194912310021", "110105-9491231002X"])
def test_resident_id_wrong_length_or_characters_refused(number):
    with pytest.raises(IntakeError) as exc:
        validate_resident_id(number)
    assert exc.value.field == "id_number"
    assert "18位" in exc.value.message


@pytest.mark.parametrize("number", ["１１０１０５１９４９１２３１００２X",  # fullwidth digits
                                    "²1010519491231002X"])  # superscript two
def test_resident_id_with_non_ascii_digits_refused_as_intake_error(number):
    with pytest.raises(IntakeError) as exc:
        validate_resident_id(number)
    assert exc.value.field == "id_number"


def test_similarity_of_descriptions_is_bounded_and_tolerant():
    from app.domain.intake import MAX_COMPARED_CHARS, applicant_key, phone_key, similarity, text_grams
    a = "示范区2025年旧城改造项目的征收补偿方案"
    assert similarity(text_grams(a), text_grams(a)) == 1.0
    assert similarity(text_grams(a), text_grams("示范区 2025 年旧城改造项目征收补偿方案。")) >= 0.9
    assert similarity(text_grams(a), text_grams("行道树养护合同")) == 0.0
    assert sum(text_grams("申" * 100_000).values()) == MAX_COMPARED_CHARS - 1
    assert applicant_key(" 张　三 ") == applicant_key("张三") and applicant_key("ＡＢＣ公司") == "abc公司"
    assert phone_key("+86 138-0000-0000") == phone_key("13800000000") == "13800000000"
    assert phone_key("110") == ""
