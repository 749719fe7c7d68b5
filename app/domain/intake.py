"""Intake rules: channels and the Art. 31 receipt date, applicant types, identity documents."""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import date

from .calendar import WorkCalendar

CHANNELS = {
    "in_person": "当面提交",
    "registered_post": "邮寄（需签收）",
    "ordinary_post": "平常信函",
    "online": "互联网渠道",
    "fax": "传真",
}

# Columns of the annual report table 三 (handbook §3.2); fixed at intake.
APPLICANT_TYPES = {
    "natural": "自然人",
    "business": "法人或其他组织—商业企业",
    "research": "法人或其他组织—科研机构",
    "public_interest": "法人或其他组织—社会公益组织",
    "legal_service": "法人或其他组织—法律服务机构",
    "other_org": "法人或其他组织—其他",
}

ID_TYPES = {
    "resident_id": "居民身份证",
    "passport": "护照",
    "hk_macau_pass": "港澳居民来往内地通行证",
    "taiwan_pass": "台湾居民来往大陆通行证",
    "business_license": "统一社会信用代码证/营业执照",
    "other": "其他证件",
}

FORMS = {"paper": "纸质", "electronic": "电子文件", "inspect": "当场阅读/抄录", "other": "其他"}
ROUTES = {"post": "邮寄", "pickup": "自行领取", "email": "电子邮件", "online": "网上获取", "fax": "传真"}

_BASIS = {
    "in_person": "《中华人民共和国政府信息公开条例》第三十一条第（一）项：当面提交的，以提交之日为收到申请之日",
    "registered_post": "《中华人民共和国政府信息公开条例》第三十一条第（二）项：以邮寄方式提交的，以行政机关签收之日为收到申请之日",
    "ordinary_post": "《中华人民共和国政府信息公开条例》第三十一条第（二）项：以平常信函等无需签收的邮寄方式提交的，"
                     "于收到申请的当日与申请人确认，确认之日为收到申请之日",
    "online": "《中华人民共和国政府信息公开条例》第三十一条第（三）项：通过互联网渠道提交的，以双方确认之日为收到申请之日",
    "fax": "《中华人民共和国政府信息公开条例》第三十一条第（三）项：通过传真提交的，以双方确认之日为收到申请之日",
}


class IntakeError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Receipt:
    received_on: date
    basis: str


def receipt_date(
    channel: str,
    arrived_on: date,
    confirmed_on: date | None,
    cal: WorkCalendar,
    *,
    non_workday_rolls_forward: bool = True,
) -> Receipt:
    """The date that counts as 收到申请之日 (Art. 31).

    arrived_on is the day handed in or signed for; confirmed_on is the day both sides
    confirmed (ordinary post, online, fax).
    """
    if channel not in CHANNELS:
        raise IntakeError("channel", "请选择申请方式")
    if channel in ("in_person", "registered_post"):
        return Receipt(arrived_on, _BASIS[channel])
    if confirmed_on is None:
        raise IntakeError("confirmed_on", "平常信函、互联网和传真申请须填写与申请人确认的日期（第三十一条）")
    if confirmed_on < arrived_on:
        raise IntakeError("confirmed_on", "确认日期不能早于到达日期")
    basis = _BASIS[channel]
    if channel == "ordinary_post" and confirmed_on != arrived_on:
        basis += "（注意：未于信函到达当日确认）"
    received = confirmed_on
    # Handbook §8.3: an online/fax confirmation on a non-working day counts from the next working day.
    if channel in ("online", "fax") and non_workday_rolls_forward and not cal.is_workday(received):
        received = cal.next_workday(received)
        basis += f"；确认日为非工作日，顺延至{received.year}年{received.month}月{received.day}日"
    return Receipt(received, basis)


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def validate_resident_id(number: str) -> str:
    """Validate an 18-digit 居民身份证 number (GB 11643) and return it normalised."""
    n = number.strip().upper()
    digits = set("0123456789")  # str.isdigit() would accept fullwidth and superscript digits
    if len(n) != 18 or not set(n[:17]) <= digits or not (n[17] in digits or n[17] == "X"):
        raise IntakeError("id_number", "居民身份证号码应为18位，前17位为数字，末位为数字或X")
    try:
        date(int(n[6:10]), int(n[10:12]), int(n[12:14]))
    except ValueError:
        raise IntakeError("id_number", "居民身份证号码中的出生日期无效") from None
    check = _ID_CHECK[sum(int(c) * w for c, w in zip(n[:17], _ID_WEIGHTS)) % 11]
    if n[17] != check:
        raise IntakeError("id_number", "居民身份证号码校验位不正确，请核对")
    return n


def mask_id_number(number: str) -> str:
    """An ID number as public pages show it: the first and last four characters (1101**********123X)."""
    n = (number or "").strip()
    if len(n) <= 8:  # a short passport number keeps its first and last character
        return n[:1] + "*" * (len(n) - 2) + n[-1:] if len(n) > 2 else "*" * len(n)
    return n[:4] + "*" * (len(n) - 8) + n[-4:]


def resident_id_check_digit(first17: str) -> str:
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS)) % 11]


# ---------------------------------------------------------------- intake hints (Art. 35, Art. 36(6))

REPEAT_SIMILARITY = 0.6  # descriptions at least this similar are shown as possible repeats
MAX_COMPARED_CHARS = 2000  # a long description is compared by its beginning (bounded work per pair)
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


def applicant_key(name: str) -> str:
    """One applicant's name however it was typed: full/half width, spaces, punctuation, case."""
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", name or "")).casefold()[:200]


def phone_key(phone: str) -> str:
    """Digits of a phone number without the +86 country code (empty if too short to identify)."""
    digits = "".join(c for c in unicodedata.normalize("NFKC", phone or "") if c.isascii() and c.isdigit())
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits[:50] if len(digits) >= 7 else ""


def text_grams(text: str) -> Counter:
    """Character bigrams of a description (NFKC, lower case, no punctuation), its first
    MAX_COMPARED_CHARS characters only."""
    # Only a bounded prefix is normalised: an over-long input costs no more than a long one.
    t = _NOT_WORD.sub("", unicodedata.normalize("NFKC", (text or "")[:MAX_COMPARED_CHARS * 2]).lower())
    t = t[:MAX_COMPARED_CHARS]
    if len(t) < 2:
        return Counter([t] if t else [])
    return Counter(t[i:i + 2] for i in range(len(t) - 1))


def similarity(a: Counter, b: Counter) -> float:
    """Dice coefficient of two bigram multisets: 1.0 for the same text, linear in their length."""
    total = sum(a.values()) + sum(b.values())
    if not total:
        return 0.0
    return 2 * sum((a & b).values()) / total
