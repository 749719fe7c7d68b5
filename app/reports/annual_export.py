"""Annual report tables 三 and 四 as .xlsx (merged cells as printed) and as PDF (WeasyPrint)."""
from __future__ import annotations

import io

from flask import render_template
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

from ..domain.intake import APPLICANT_TYPES
from ..letters.sandbox import url_fetcher
from ..models.remedy import REMEDY_KINDS
from .annual import (COLUMNS, CORNER_NOTE, COUNTING_RULES, REMEDY_COLUMN_LABELS, REMEDY_COLUMNS, REMEDY_RULES,
                     AnnualReport, table3_layout)
from .xlsxsafe import put, safe_row

THIN = Side(style="thin", color="000000")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)
BAD = PatternFill("solid", fgColor="F8D7DA")
ORG_TYPES = [k for k in APPLICANT_TYPES if k != "natural"]


def _box(ws, top: int, left: int, bottom: int, right: int, value=None, align=CENTER, bold=False) -> None:
    if (top, left) != (bottom, right):
        ws.merge_cells(start_row=top, start_column=left, end_row=bottom, end_column=right)
    c = ws.cell(row=top, column=left, value=value)
    c.alignment = align
    if bold:
        c.font = Font(bold=True)
    for r in range(top, bottom + 1):
        for col in range(left, right + 1):
            ws.cell(row=r, column=col).border = BOX


def table3_grid() -> list[tuple[str, list[tuple[int, int, int, int, str]]]]:
    """For each data row: its key and its label boxes as (row offset, col, rowspan, colspan, text)."""
    occupied: set[tuple[int, int]] = set()
    out = []
    for i, row in enumerate(table3_layout()):
        col, boxes = 1, []
        for cell in row["cells"]:
            while (i, col) in occupied:
                col += 1
            for dr in range(cell["rowspan"]):
                for dc in range(cell["colspan"]):
                    occupied.add((i + dr, col + dc))
            boxes.append((i, col, cell["rowspan"], cell["colspan"], cell["text"]))
            col += cell["colspan"]
        out.append((row["key"], boxes))
    return out


def report_xlsx(rep: AnnualReport, agency_name: str) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "表三 申请情况"
    ws.sheet_view.showGridLines = False
    put(ws, 1, 1, f"{agency_name}{rep.year}年政府信息公开工作年度报告").font = Font(bold=True, size=14)
    ws.cell(row=2, column=1, value="三、收到和处理政府信息公开申请情况").font = Font(bold=True)
    top = 4
    if rep.failing:
        c = ws.cell(row=3, column=1, value=f"注意：勾稽关系校验有 {len(rep.failing)} 项未通过，详见“校验”工作表，数据须核实后方可报送")
        c.font, c.fill = Font(bold=True, color="9C0006"), BAD
    _box(ws, top, 1, top + 2, 3, CORNER_NOTE)
    _box(ws, top, 4, top, 10, "申请人情况")
    _box(ws, top + 1, 4, top + 2, 4, "自然人")
    _box(ws, top + 1, 5, top + 1, 9, "法人或其他组织")
    for j, k in enumerate(ORG_TYPES):
        _box(ws, top + 2, 5 + j, top + 2, 5 + j, APPLICANT_TYPES[k].split("—")[-1])
    _box(ws, top + 1, 10, top + 2, 10, "总计")
    first = top + 3
    for key, boxes in table3_grid():
        for i, col, rs, cs, text in boxes:
            _box(ws, first + i, col, first + i + rs - 1, col + cs - 1, text,
                 align=CENTER if rs > 1 else LEFT)
        r = first + boxes[0][0] if boxes else None
        for j, col in enumerate(COLUMNS):
            c = ws.cell(row=r, column=4 + j, value=rep.table3[key][col])
            c.alignment, c.border = CENTER, BOX
    widths = {"A": 14, "B": 16, "C": 46, **{chr(ord("D") + j): 11 for j in range(7)}}
    for col, w in widths.items():
        ws.column_dimensions[col].width = w
    last = first + len(table3_grid())
    for k, rule in enumerate(("统计口径：",) + COUNTING_RULES):
        ws.cell(row=last + 1 + k, column=1, value=rule)

    ws4 = wb.create_sheet("表四 复议诉讼")
    ws4.sheet_view.showGridLines = False
    ws4.cell(row=1, column=1, value="四、政府信息公开行政复议、行政诉讼情况").font = Font(bold=True)
    t = 3
    _box(ws4, t, 1, t + 1, 5, "行政复议")
    _box(ws4, t, 6, t, 15, "行政诉讼")
    _box(ws4, t + 1, 6, t + 1, 10, "未经复议直接起诉")
    _box(ws4, t + 1, 11, t + 1, 15, "复议后起诉")
    for g in range(3):
        for j, col in enumerate(REMEDY_COLUMNS):
            _box(ws4, t + 2, 1 + g * 5 + j, t + 2, 1 + g * 5 + j, REMEDY_COLUMN_LABELS[col])
    for g, kind in enumerate(REMEDY_KINDS):
        for j, col in enumerate(REMEDY_COLUMNS):
            c = ws4.cell(row=t + 3, column=1 + g * 5 + j, value=rep.table4[kind][col])
            c.alignment, c.border = CENTER, BOX
    for j in range(15):
        ws4.column_dimensions[chr(ord("A") + j)].width = 10
    for k, rule in enumerate(("统计口径：",) + REMEDY_RULES):
        ws4.cell(row=t + 5 + k, column=1, value=rule)

    wc = wb.create_sheet("校验")
    wc.append(["校验项目", "结果", "数值"])
    for cell in wc[1]:
        cell.font = Font(bold=True)
    for chk in rep.checks:
        wc.append(safe_row(wc, [chk.name, "通过" if chk.ok else "未通过", chk.detail]))
        if not chk.ok:
            for cell in wc[wc.max_row]:
                cell.fill = BAD
    wc.column_dimensions["A"].width = 44
    wc.column_dimensions["B"].width = 10
    wc.column_dimensions["C"].width = 40
    wc.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def report_pdf(rep: AnnualReport, agency_name: str) -> bytes:
    from weasyprint import HTML

    html = render_template("reports/annual_report_pdf.html", rep=rep, agency_name=agency_name,
                           **template_context())
    return HTML(string=html, url_fetcher=url_fetcher()).write_pdf()


def template_context() -> dict:
    return {"layout": table3_layout(), "columns": COLUMNS, "org_types": ORG_TYPES,
            "applicant_types": APPLICANT_TYPES, "corner_note": CORNER_NOTE, "remedy_kinds": REMEDY_KINDS,
            "remedy_columns": REMEDY_COLUMNS, "remedy_column_labels": REMEDY_COLUMN_LABELS,
            "counting_rules": COUNTING_RULES, "remedy_rules": REMEDY_RULES}
