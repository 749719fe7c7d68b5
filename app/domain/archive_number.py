"""档号 (archive reference numbers) from an agency's rule, DA/T 13 style: 全宗号-年度-保管期限-件号.

The rule is a pattern with four placeholders: {fonds} 全宗号, {year} 年度, {period} 保管期限代码
(永久 Y, 定期30年 D30, 定期10年 D10) and {seq} 件号; the numbers may be zero-padded ({seq:04d}).
Only these, written this way: str.format would otherwise read attributes or items of the values
({fonds.__class__}), so a pattern is checked before it is stored and again before it is used.
"""
from __future__ import annotations

import re
import string

DEFAULT_PATTERN = "{fonds}-{year}-{period}-{seq:04d}"
MAX_LENGTH = 60  # the case's archive_number column

# Retention (the case's `retention`) → 保管期限代码, and its words.
PERIOD_CODES = {"permanent": "Y", "30y": "D30", "10y": "D10"}
PERIOD_LABELS = {"permanent": "永久", "30y": "定期30年", "10y": "定期10年"}

# Placeholder → the format specs it accepts: text as it is; numbers optionally zero-padded to 1–9 digits.
_NUMBER_SPEC = re.compile(r"(0[1-9])?d?")
FIELDS = {"fonds": re.compile(r""), "year": _NUMBER_SPEC, "period": re.compile(r""), "seq": _NUMBER_SPEC}
FIELD_LABELS = {"fonds": "全宗号", "year": "年度", "period": "保管期限代码", "seq": "件号"}
HELP = ("可用 {fonds}（全宗号）、{year}（年度）、{period}（保管期限：永久 Y、定期30年 D30、定期10年 D10）、"
        "{seq}（件号，可补零如 {seq:04d}）")
_FONDS = re.compile(r"[0-9A-Za-z\-_.·\u4e00-\u9fff]{1,32}")


def check_pattern(pattern: str) -> str | None:
    """None if ``pattern`` is a usable 档号 rule, else why not (in Chinese)."""
    if not isinstance(pattern, str) or not pattern.strip():
        return "档号规则不能为空"
    if any(ch.isspace() or not ch.isprintable() for ch in pattern):
        return "档号规则中不能有空格或换行"
    try:
        parts = list(string.Formatter().parse(pattern))
    except ValueError:
        return "档号规则中的花括号不成对（字面的花括号请写成 {{ 或 }}）"
    seen: list[str] = []
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in FIELDS:
            return f"档号规则中的“{{{name}}}”无法识别"
        if conversion or not FIELDS[name].fullmatch(spec or ""):
            shown = name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            hint = "，数字只能补零，如 {%s:04d}" % name if name in ("year", "seq") else "，不能加格式"
            return f"档号规则中的“{{{shown}}}”写法不可用{hint}"
        if name in seen:
            return f"档号规则中的{{{name}}}（{FIELD_LABELS[name]}）只能出现一次"
        seen.append(name)
    if "seq" not in seen:
        return "档号规则须包含件号 {seq}"
    if "year" not in seen:
        return "档号规则须包含年度 {year}（件号按年度编排）"
    example = format_number(pattern, "X" * 32, 2026, "D30", 999_999_999, checked=True)
    if len(example) > MAX_LENGTH:
        return f"按此规则生成的档号可能超过{MAX_LENGTH}字，请缩短"
    return None


def check_fonds(fonds: str) -> str | None:
    """None if ``fonds`` (blank: the agency's code is used) is a usable 全宗号."""
    if fonds and not _FONDS.fullmatch(fonds):
        return "全宗号只能由数字、字母、汉字和“-”“_”“.”组成，不超过32字"
    return None


def period_code(retention: str) -> str:
    if retention not in PERIOD_CODES:
        raise ValueError(f"未知保管期限：{retention}")
    return PERIOD_CODES[retention]


def format_number(pattern: str, fonds: str, year: int, period: str, seq: int, *, checked: bool = False) -> str:
    """The 档号 for these values (``period`` is the code: Y, D30 or D10)."""
    if not checked:
        problem = check_pattern(pattern)
        if problem:
            raise ValueError(problem)
    return pattern.format(fonds=fonds, year=int(year), period=period, seq=int(seq))


def fixed_prefix(pattern: str, fonds: str, year: int, period: str) -> str:
    """The text every 档号 of this fonds, year and period starts with (all that precedes {seq})."""
    out = []
    for literal, name, spec, _ in string.Formatter().parse(pattern):
        out.append(literal)
        if name is None:
            continue
        if name == "seq":
            break
        out.append(format(int(year), spec) if name == "year" else ("{:" + (spec or "") + "}").format(
            fonds if name == "fonds" else period))
    return "".join(out)


def sequence_of(pattern: str, fonds: str, year: int, period: str, number: str) -> int | None:
    """The 件号 of ``number`` if it is a 档号 of this rule for this fonds, year and period, else None."""
    rx = []
    for literal, name, spec, _ in string.Formatter().parse(pattern):
        rx.append(re.escape(literal))
        if name is None:
            continue
        if name == "seq":
            rx.append(r"(\d+)")
        else:
            value = {"fonds": fonds, "year": int(year), "period": period}[name]
            rx.append(re.escape(format(value, spec or "")))
    m = re.fullmatch("".join(rx), number or "")
    return int(m.group(1)) if m else None


def next_number(pattern: str, fonds: str, year: int, retention: str, used: list[str]) -> str:
    """The next free 档号: one past the highest 件号 among ``used`` of the same fonds, year and period."""
    period = period_code(retention)
    taken = [s for s in (sequence_of(pattern, fonds, year, period, n) for n in used) if s is not None]
    return format_number(pattern, fonds, year, period, max(taken, default=0) + 1)
