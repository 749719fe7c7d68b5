"""Personal data that Art. 15 protects, found in plain text: resident ID numbers, mainland
mobile numbers, bank card numbers and addresses after their label. The findings are suggestions
for redaction (Art. 37); a handler confirms each one."""
from __future__ import annotations

import re
from dataclasses import dataclass

from .intake import IntakeError, validate_resident_id

LABELS = {"id_number": "身份证号码", "mobile": "手机号码", "bank_card": "银行卡号", "address": "住址"}


@dataclass(frozen=True)
class Finding:
    start: int  # character offsets into the text given
    end: int
    kind: str
    label: str


# Fullwidth digits and X, one character for one, so offsets stay those of the text given.
_HALFWIDTH = str.maketrans("０１２３４５６７８９Ｘｘ", "0123456789Xx")

# [0-9], never \d: \d also matches other scripts' digits.
_ID = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")
_MOBILE = re.compile(r"(?<![0-9+])(?:\+?86[ -]?)?1[3-9][0-9](?P<sep>[ -]?)[0-9]{4}(?P=sep)[0-9]{4}(?![0-9])")
_CARD = re.compile(r"(?<![0-9])(?<![0-9] )(?:[0-9]{16,19}|[0-9]{4}(?: [0-9]{4}){3}(?: [0-9]{1,3})?)(?! ?[0-9])")
_NEXT_LABEL = "联系电话|电话|手机|身份证|证件号码|邮政编码|邮编|姓名|联系人|电子邮箱|邮箱|传真|工作单位"
_ADDRESS = re.compile(
    r"(?:家庭住址|现住址|住址|住所地|住所)[ \u3000]*(?:[:：]|为|是)?[ \u3000]*"
    rf"(?P<addr>(?:(?![ \u3000]{{2}}|\t|{_NEXT_LABEL})[^\r\n。；;，,])+)")
MIN_ADDRESS = 4


def _valid_id(number: str) -> bool:
    try:
        validate_resident_id(number)
    except IntakeError:
        return False
    return int(number[6:10]) >= 1900  # a random 18-digit run rarely has a plausible birth year


def _luhn(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _candidates(text: str) -> list[tuple[int, int, str]]:
    """Every match, strongest kind first: an ID number is never also a card or a phone."""
    found = [(m.start(), m.end(), "id_number") for m in _ID.finditer(text) if _valid_id(m.group())]
    found += [(m.start(), m.end(), "bank_card") for m in _CARD.finditer(text) if _luhn(m.group().replace(" ", ""))]
    found += [(m.start(), m.end(), "mobile") for m in _MOBILE.finditer(text)]
    for m in _ADDRESS.finditer(text):
        addr = m.group("addr").rstrip(" \u3000")
        if len(addr) >= MIN_ADDRESS:
            found.append((m.start("addr"), m.start("addr") + len(addr), "address"))
    return found


def find_personal_data(text: str) -> list[Finding]:
    """Findings sorted by start, none overlapping another."""
    taken: list[tuple[int, int, str]] = []
    for start, end, kind in _candidates(text.translate(_HALFWIDTH)):
        if kind == "address":  # an address runs up to a number written after it, not over it
            end = min([s for s, e, _ in taken if start < e and s < end and s > start] + [end])
            end = start + len(text[start:end].rstrip(" \u3000"))
            if end - start < MIN_ADDRESS:
                continue
        if all(end <= s or start >= e for s, e, _ in taken):
            taken.append((start, end, kind))
    return [Finding(s, e, k, LABELS[k]) for s, e, k in sorted(taken)]
