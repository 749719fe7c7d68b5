"""Annual report tables 三 and 四 (国办公开办函〔2021〕30号; handbook §3.2, §3.3).

Counting rules (handbook §3.2, "counting basis"):
  一  new: received_on within the year.
  二  carried over: received before 1 January and not closed before 1 January.
  三  results: closed_on within the year, one row per case by its outcome's report row.
  四  carried forward: received on or before 31 December and not closed by 31 December.
Table 四 counts remedy records (行政复议 / 行政诉讼) filed within the year, by their result as
known at 31 December (a result decided later is still 尚未审结 in that year's report, so a
published report does not change afterwards).

Each cell is defined by one SQL predicate (cell_condition) used both for the counts and for the
ledger drill-down, so a link always lists exactly the cases behind the number. Totals are
counted independently of their parts, so the identity checks can actually fail on bad data.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import and_, case as sql_case, func, literal, or_, select

from ..domain.intake import APPLICANT_TYPES
from ..domain.outcomes import OUTCOME_BY_CODE, OUTCOMES, REPORT_ROWS, ROW_LABELS
from ..extensions import db
from ..models import Case, CaseTally, Remedy
from ..models.remedy import REMEDY_KINDS, REMEDY_RESULTS
from ..services.errors import ServiceError

COLUMNS = tuple(APPLICANT_TYPES) + ("total",)
COLUMN_LABELS = {**{k: v.split("—")[-1] for k, v in APPLICANT_TYPES.items()}, "total": "总计"}
RESULT_ROWS = tuple(r.key for r in REPORT_ROWS if r.key.startswith("三(") and r.key != "三(七)")
ROW_KEYS = tuple(r.key for r in REPORT_ROWS)
# Group headings of table 三 (handbook §3.2): key prefix → heading printed in the merged cell.
GROUPS = {
    "三(三)": "（三）不予公开",
    "三(四)": "（四）无法提供",
    "三(五)": "（五）不予处理",
    "三(六)": "（六）其他处理",
}
RESULT_HEADING = "三、本年度办理结果"
CORNER_NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
REMEDY_COLUMNS = ("upheld", "corrected", "other", "pending", "total")
REMEDY_COLUMN_LABELS = {**REMEDY_RESULTS, "total": "总计"}

COUNTING_RULES = (
    "“本年新收”按收到申请日期在本年度内计算；",
    "“上年结转”指本年1月1日前收到、且在1月1日前尚未办结的申请；",
    "“本年度办理结果”按办结日期在本年度内计算（含上年结转本年办结的申请），每件申请按其办理结果只计入一项；",
    "“结转下年度继续办理”指12月31日前收到、截至12月31日尚未办结的申请；",
    "申请人类型以登记时确定的类型为准。",
)
REMEDY_RULES = (
    "表四按行政复议申请日期或起诉日期在本年度内的记录计算，每一复议或诉讼记录计一件；",
    "办理结果按截至本年12月31日已作出的决定或裁判计算，12月31日前尚未作出的计入“尚未审结”；",
    "“复议后起诉”按向人民法院起诉的日期计算，复议阶段另在“行政复议”栏计算。",
)


def due_year(today: date) -> int:
    """The year whose report the office is working on: in January the report of the year just ended
    is due (by 31 January, Art. 49), the rest of the year the current year's figures are building up."""
    return today.year - 1 if today.month == 1 else today.year


def bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def pred_new(year: int):
    start, end = bounds(year)
    return Case.received_on.between(start, end)


def pred_carried_in(year: int):
    start, _ = bounds(year)
    return and_(Case.received_on < start, or_(Case.closed_on.is_(None), Case.closed_on >= start))


def pred_closed(year: int):
    start, end = bounds(year)
    return Case.closed_on.between(start, end)


def pred_carried_out(year: int):
    _, end = bounds(year)
    return and_(Case.received_on <= end, or_(Case.closed_on.is_(None), Case.closed_on > end))


def pred_relevant(year: int):
    """Every case any row of the year can count (index-friendly superset of the four predicates)."""
    start, end = bounds(year)
    return or_(Case.closed_on.is_(None), Case.closed_on >= start, Case.received_on.between(start, end))


def row_codes(row: str) -> list[str]:
    return [o.code for o in OUTCOMES if o.row == row]


def row_predicate(row: str, year: int):
    if row == "一":
        return pred_new(year)
    if row == "二":
        return pred_carried_in(year)
    if row == "三(七)":
        return pred_closed(year)
    if row == "四":
        return pred_carried_out(year)
    if row in RESULT_ROWS:
        return and_(pred_closed(year), Case.outcome_code.in_(row_codes(row)))
    raise KeyError(row)


def remedy_effective_result(year: int):
    _, end = bounds(year)
    return sql_case(
        (and_(Remedy.result != "pending", Remedy.decided_on.is_not(None), Remedy.decided_on <= end),
         Remedy.result),
        else_=literal("pending"))


def remedy_predicate(year: int, kind: str, result: str):
    start, end = bounds(year)
    conds = [Remedy.kind == kind, Remedy.filed_on.between(start, end)]
    if result != "total":
        conds.append(remedy_effective_result(year) == result)
    return and_(*conds)


def cell_condition(agency_id: int, year: int, cell: str):
    """(SQL condition on Case, label) for one report cell "ROW.COLUMN" or "KIND.RESULT"."""
    row, _, col = cell.rpartition(".")
    if row in REMEDY_KINDS and col in REMEDY_COLUMNS:
        sub = select(Remedy.case_id).where(remedy_predicate(year, row, col))
        label = f"{year}年度报告 表四 {REMEDY_KINDS[row]} · {REMEDY_COLUMN_LABELS[col]}"
        return Case.id.in_(sub), label
    if row in ROW_LABELS and col in COLUMNS:
        cond = row_predicate(row, year)
        if col != "total":
            cond = and_(cond, Case.applicant_type == col)
        label = f"{year}年度报告 表三 {row_title(row)} · {COLUMN_LABELS[col]}"
        return cond, label
    raise ServiceError("报表单元格无效", "report_cell")


def row_title(key: str) -> str:
    label = ROW_LABELS[key]
    for prefix, heading in GROUPS.items():
        if key.startswith(prefix):
            return f"{heading}{label}"
    return label


# ---------------------------------------------------------------- computing the tables

@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    cells: tuple[str, ...] = ()  # the cells the check compares (highlighted when it fails)


@dataclass
class AnnualReport:
    year: int
    table3: dict[str, dict[str, int]]  # row key → column → count
    table4: dict[str, dict[str, int]]  # remedy kind → column → count
    checks: list[Check] = field(default_factory=list)
    problems: list[dict] = field(default_factory=list)  # cases with data that break the checks
    unfinished_year: bool = False

    @property
    def has_data(self) -> bool:
        return any(self.table3[r]["total"] for r in ("一", "二", "三(七)", "四")) or \
            any(v["total"] for v in self.table4.values())

    @property
    def failing(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    @property
    def bad_cells(self) -> set[str]:
        return {cell for c in self.failing for cell in c.cells}

    def as_dict(self) -> dict:
        return {"year": self.year, "table3": self.table3, "table4": self.table4,
                "checks": [c.__dict__ for c in self.checks]}


def compute(agency_id: int, year: int, today: date | None = None) -> AnnualReport:
    if not 2000 <= year <= 2100:
        raise ServiceError("年度无效", "year")
    start, end = bounds(year)
    t3 = {k: {c: 0 for c in COLUMNS} for k in ROW_KEYS}

    def add(row: str, atype: str, n: int) -> None:
        t3[row]["total"] += n  # the total column counts every case, whatever its recorded type
        if atype in APPLICANT_TYPES:
            t3[row][atype] += n

    # From the tally (migration 0023: kept by triggers on every write of a case), whose months line
    # up with the year's bounds, so each row is exact without reading a year of cases.
    T = CaseTally
    mine = T.agency_id == agency_id
    first, last = year * 100 + 1, year * 100 + 12
    q1 = select(T.applicant_type, func.sum(T.n)).where(mine, T.received_ym.between(first, last)).group_by(
        T.applicant_type)
    for atype, n in db.session.execute(q1):
        add("一", atype, int(n))
    q3 = (select(T.applicant_type, T.outcome_code, func.sum(T.n)).where(mine, T.closed_ym.between(first, last))
          .group_by(T.applicant_type, T.outcome_code))
    for atype, code, n in db.session.execute(q3):
        add("三(七)", atype, int(n))
        oc = OUTCOME_BY_CODE.get(code) if code else None
        if oc is not None:
            add(oc.row, atype, int(n))
    # 二 and 四 are the cases open at the end of a day (received by then, not closed by then): both
    # among the tally rows still open or closed in or after this year.
    def open_after(ym: int):
        return or_(T.closed_ym == 0, T.closed_ym > ym)

    q24 = (select(T.applicant_type,
                  func.sum(sql_case((and_(T.received_ym < first, open_after(first - 1)), T.n), else_=0)),
                  func.sum(sql_case((and_(T.received_ym <= last, open_after(last)), T.n), else_=0)))
           .where(mine, open_after(first - 1)).group_by(T.applicant_type))
    for atype, carried_in, carried_out in db.session.execute(q24):
        add("二", atype, int(carried_in or 0))
        add("四", atype, int(carried_out or 0))

    t4 = {k: {c: 0 for c in REMEDY_COLUMNS} for k in REMEDY_KINDS}
    eff = remedy_effective_result(year)
    # Driven by the (small) remedy table, joined to its case for the agency.
    rq = (select(Remedy.kind, eff, func.count()).join(Case, Case.id == Remedy.case_id)
          .where(Remedy.filed_on.between(start, end), Case.agency_id == agency_id)
          .group_by(Remedy.kind, eff))
    unknown_remedies = 0
    for kind, result, n in db.session.execute(rq):
        if kind not in t4:
            unknown_remedies += n
            continue
        t4[kind]["total"] += n
        if result in t4[kind] and result != "total":
            t4[kind][result] += n

    rep = AnnualReport(year, t3, t4, unfinished_year=bool(today and today <= end))
    rep.checks = run_checks(t3, t4)
    if unknown_remedies:
        rep.checks.append(Check("表四：复议诉讼类型", False, f"有 {unknown_remedies} 条记录的类型无法识别，未计入表四"))
    if rep.failing:
        rep.problems = find_problems(agency_id, year)
    return rep


def run_checks(t3: dict, t4: dict) -> list[Check]:
    checks = []
    for col in COLUMNS:
        a, b, c, d = t3["一"][col], t3["二"][col], t3["三(七)"][col], t3["四"][col]
        checks.append(Check(f"{COLUMN_LABELS[col]}：一+二=三(七)+四", a + b == c + d,
                            f"{a} + {b} = {a + b}，{c} + {d} = {c + d}",
                            tuple(cell_key(r, col) for r in ("一", "二", "三(七)", "四"))))
    for col in COLUMNS:
        parts = sum(t3[r][col] for r in RESULT_ROWS)
        checks.append(Check(f"{COLUMN_LABELS[col]}：三(七)=三(一)至三(六)3之和", parts == t3["三(七)"][col],
                            f"三(七) = {t3['三(七)'][col]}，各项之和 = {parts}", (cell_key("三(七)", col),)))
    for row in ROW_KEYS:
        parts = sum(t3[row][c] for c in COLUMNS if c != "total")
        checks.append(Check(f"{row}：总计=前六列之和", parts == t3[row]["total"],
                            f"总计 = {t3[row]['total']}，前六列之和 = {parts}", (cell_key(row, "total"),)))
    for kind, label in REMEDY_KINDS.items():
        parts = sum(t4[kind][c] for c in REMEDY_COLUMNS if c != "total")
        checks.append(Check(f"表四 {label}：总计=四项之和", parts == t4[kind]["total"],
                            f"总计 = {t4[kind]['total']}，四项之和 = {parts}", (cell_key(kind, "total"),)))
    return checks


def find_problems(agency_id: int, year: int, limit: int = 50) -> list[dict]:
    """Cases whose data break the table's structure, so a failing check can be traced and fixed."""
    known_outcomes = [o.code for o in OUTCOMES]
    reasons = (
        (Case.applicant_type.not_in(list(APPLICANT_TYPES)), "申请人类型无法识别"),
        (and_(Case.closed_on.is_not(None), or_(Case.outcome_code.is_(None),
                                                Case.outcome_code.not_in(known_outcomes))), "已办结但办理结果缺失或无法识别"),
        (and_(Case.closed_on.is_not(None), Case.closed_on < Case.received_on), "办结日期早于收到申请日期"),
    )
    out = []
    for cond, why in reasons:
        q = (select(Case.id, Case.number, Case.received_on, Case.closed_on, Case.applicant_type, Case.outcome_code)
             .where(Case.agency_id == agency_id, pred_relevant(year), cond).order_by(Case.id).limit(limit))
        for r in db.session.execute(q):
            out.append({"id": r.id, "number": r.number, "why": why, "received_on": r.received_on,
                        "closed_on": r.closed_on, "applicant_type": r.applicant_type,
                        "outcome_code": r.outcome_code})
    return out


def data_years(agency_id: int) -> list[int]:
    lo, hi = db.session.execute(select(func.min(Case.received_on), func.max(Case.received_on))
                                .where(Case.agency_id == agency_id)).one()
    if lo is None:
        return []
    return list(range(hi.year, lo.year - 1, -1))


# ---------------------------------------------------------------- layout shared by screen, xlsx and PDF

def table3_layout() -> list[dict]:
    """Rows of table 三 with their label cells (text, colspan, rowspan) as printed officially."""
    rows = []
    group_sizes = {g: sum(1 for k in ROW_KEYS if k.startswith(g)) for g in GROUPS}
    first_result = True
    for key in ROW_KEYS:
        cells = []
        if key in ("一", "二", "四"):
            cells.append({"text": ROW_LABELS[key], "colspan": 3, "rowspan": 1})
        else:
            if first_result:
                cells.append({"text": RESULT_HEADING, "colspan": 1, "rowspan": len(RESULT_ROWS) + 1})
                first_result = False
            group = next((g for g in GROUPS if key.startswith(g)), None)
            if group is None:
                cells.append({"text": ROW_LABELS[key], "colspan": 2, "rowspan": 1})
            else:
                if key.endswith("1"):
                    cells.append({"text": GROUPS[group], "colspan": 1, "rowspan": group_sizes[group]})
                cells.append({"text": ROW_LABELS[key], "colspan": 1, "rowspan": 1})
        rows.append({"key": key, "cells": cells})
    return rows


def cell_key(row: str, col: str) -> str:
    return f"{row}.{col}"
