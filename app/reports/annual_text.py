"""The annual report as a document (国办公开办函〔2021〕30号; handbook §3): the six sections, the layout
of table 二 (主动公开, handbook §3.1) and the written sections' text prefilled from the figures.

Pure functions of plain values (no database): the prefill is tested with literal numbers, and the
page, the PDF and the .docx all print the same text.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

SECTIONS = (
    ("一", "一、总体情况"),
    ("二", "二、主动公开政府信息情况"),
    ("三", "三、收到和处理政府信息公开申请情况"),
    ("四", "四、政府信息公开行政复议、行政诉讼情况"),
    ("五", "五、存在的主要问题及改进情况"),
    ("六", "六、其他需要报告的事项"),
)
SECTION_TITLES = dict(SECTIONS)
# The sections written as text; 二, 三 and 四 are tables (the format has no lead text for them).
TEXT_SECTIONS = ("一", "五", "六")
TEXT_MAX = 5000
# Left in a prefilled text where only the office knows what to write; submission refuses it.
TO_FILL = "【请填写】"


@dataclass(frozen=True)
class Block:
    """One block of table 二: the article it discloses under, its rows and their value columns."""
    article: str
    rows: tuple[tuple[str, str], ...]  # (key, label)
    fields: tuple[tuple[str, str], ...]  # (key, column header)


AMOUNT = "amount"  # the one decimal field (万元); every other field is a count
TABLE2 = (
    Block("第二十条第（一）项", (("rules", "规章"), ("normative", "行政规范性文件")),
          (("issued", "本年制发件数"), ("repealed", "本年废止件数"), ("in_force", "现行有效件数"))),
    Block("第二十条第（五）项", (("licensing", "行政许可"),), (("decisions", "本年处理决定数量"),)),
    Block("第二十条第（六）项", (("punishment", "行政处罚"), ("enforcement", "行政强制")),
          (("decisions", "本年处理决定数量"),)),
    Block("第二十条第（八）项", (("fees", "行政事业性收费"),), ((AMOUNT, "本年收费金额（单位：万元）"),)),
)
TABLE2_COLUMNS = 4  # 信息内容 + at most three value columns
TABLE2_SHEET = "表二 主动公开"  # the .xlsx export's sheet, read back by the import


def table2_cells() -> list[tuple[str, str, str, str]]:
    """Every cell of table 二 as (form field name, row key, field key, Chinese label)."""
    out = []
    for b in TABLE2:
        for rkey, rlabel in b.rows:
            for fkey, flabel in b.fields:
                out.append((f"t2_{rkey}_{fkey}", rkey, fkey, f"{rlabel}“{flabel}”"))
    return out


def table2_complete(values: dict) -> bool:
    return all(values.get(r, {}).get(f) is not None for _, r, f, _ in table2_cells())


def fmt_amount(v) -> str:
    """万元 with up to four decimals, without trailing zeros (12.5000 → 12.5)."""
    if v is None:
        return ""
    d = Decimal(str(v))
    s = f"{d:.4f}".rstrip("0").rstrip(".")
    return s or "0"


def fmt_yuan(yuan: int) -> str:
    return f"{yuan:,}"


# ---------------------------------------------------------------- prefilled text

@dataclass(frozen=True)
class Facts:
    """The figures the written sections quote (all for one agency and one year)."""
    agency: str
    year: int
    new: int  # 表三 一 总计
    carried_in: int  # 二
    closed: int  # 三(七)
    carried_out: int  # 四
    outcomes: dict  # group → count: disclose, partial, refuse, unable, not_processed, other
    measured: int  # closed replies with a due date
    on_time: int
    late: int
    reconsiderations: int
    suits: int  # direct + after reconsideration
    corrected: int  # remedies decided against the agency by 31 December
    fee_cases: int
    fee_yuan: int
    table2: dict  # entered table 二 values (may be incomplete)


OUTCOME_GROUPS = (
    ("disclose", "三(一)", "予以公开"),
    ("partial", "三(二)", "部分公开"),
    ("refuse", "三(三)", "不予公开"),
    ("unable", "三(四)", "无法提供"),
    ("not_processed", "三(五)", "不予处理"),
    ("other", "三(六)", "其他处理"),
)


def outcome_mix(table3: dict) -> dict:
    """Closed requests by the six result groups of table 三 (totals column)."""
    return {key: sum(v["total"] for row, v in table3.items() if row.startswith(prefix))
            for key, prefix, _ in OUTCOME_GROUPS}


def _pct(part: int, whole: int) -> str:
    return f"{part * 100 / whole:.1f}".rstrip("0").rstrip(".") + "%"


def section1(f: Facts) -> str:
    p = [f"{f.year}年，{f.agency}依照《中华人民共和国政府信息公开条例》做好政府信息公开工作。"]
    t = f.table2
    issued = [(label, t.get(key, {}).get("issued")) for key, label in (("rules", "规章"), ("normative", "行政规范性文件"))]
    if any(n is not None for _, n in issued):
        p.append("主动公开方面，本年制发" + "、".join(f"{label}{n or 0}件" for label, n in issued) + "，"
                 "具体情况见第二部分。")
    p.append(f"依申请公开方面，本年新收政府信息公开申请{f.new}件，上年结转{f.carried_in}件，"
             f"本年办结{f.closed}件，结转下年度继续办理{f.carried_out}件。")
    if f.closed:
        mix = "、".join(f"{label}{f.outcomes[key]}件" for key, _, label in OUTCOME_GROUPS if f.outcomes.get(key))
        p.append(f"办结的申请中，{mix}。")
    if f.measured:
        tail = f"，超期答复{f.late}件" if f.late else "，均在法定期限内答复"
        p.append(f"有答复期限记录的{f.measured}件申请中，按期答复{f.on_time}件，按期答复率{_pct(f.on_time, f.measured)}"
                 f"{tail}。")
    if f.reconsiderations or f.suits:
        p.append(f"本年因政府信息公开工作被申请行政复议{f.reconsiderations}件，被提起行政诉讼{f.suits}件，"
                 f"截至年底被纠正{f.corrected}件。")
    else:
        p.append("本年未发生因政府信息公开工作引起的行政复议、行政诉讼。")
    return "".join(p)


def section5(f: Facts) -> str:
    problems = []
    if f.late:
        problems.append(f"办结的申请中有{f.late}件未在法定期限内答复，办理时限管理有待加强")
    if f.corrected:
        problems.append(f"因政府信息公开工作引起的行政复议、行政诉讼中有{f.corrected}件被纠正，答复的规范性有待提高")
    lines = ["（一）存在的主要问题。"]
    lines.append("；".join(problems) + "；" + TO_FILL if problems else TO_FILL)
    lines.append("（二）改进情况。" + TO_FILL)
    return "\n".join(lines)


def section6(f: Facts) -> str:
    if f.fee_yuan:
        fee = (f"本年度依据《政府信息公开信息处理费管理办法》收取信息处理费{f.fee_cases}件，"
               f"共计{fmt_yuan(f.fee_yuan)}元。")
    else:
        fee = "本年度未收取政府信息公开信息处理费。"
    return fee + "本年度无其他需要报告的事项。"


def prefill(f: Facts) -> dict[str, str]:
    return {"一": section1(f), "五": section5(f), "六": section6(f)}
