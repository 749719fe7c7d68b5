"""The annual report's exports: tables 二, 三 and 四 as .xlsx (merged cells as printed); the whole
document (sections 一 to 六 with the three tables) as PDF (WeasyPrint) and as .docx (python-docx)."""
from __future__ import annotations

import io

from flask import render_template
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

from ..domain.intake import APPLICANT_TYPES
from ..letters.sandbox import url_fetcher
from ..models.remedy import REMEDY_KINDS
from .annual import (COLUMNS, CORNER_NOTE, COUNTING_RULES, REMEDY_COLUMN_LABELS, REMEDY_COLUMNS, REMEDY_RULES,
                     AnnualReport, Check, table3_layout)
from .annual_text import AMOUNT, TABLE2, TABLE2_SHEET, fmt_amount
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


def report_of(doc: dict) -> AnnualReport:
    """The tables of a document (annual_entry.document: live or as submitted) as an AnnualReport."""
    checks = [Check(c["name"], c["ok"], c["detail"], tuple(c.get("cells") or ())) for c in doc["checks"]]
    return AnnualReport(doc["year"], doc["table3"], doc["table4"], checks, unfinished_year=doc["unfinished_year"])


def _table2_value(table2: dict, rkey: str, fkey: str):
    v = table2.get(rkey, {}).get(fkey)
    if v is None:
        return None
    return float(v) if fkey == AMOUNT else int(v)


def table2_sheet(ws, table2: dict, title: str) -> None:
    """Table 二 as printed (handbook §3.1); the import reads it back by its row labels."""
    ws.sheet_view.showGridLines = False
    put(ws, 1, 1, title).font = Font(bold=True, size=14)
    ws.cell(row=2, column=1, value="二、主动公开政府信息情况").font = Font(bold=True)
    r = 4
    for block in TABLE2:
        _box(ws, r, 1, r, 4, block.article, bold=True)
        _box(ws, r + 1, 1, r + 1, 1, "信息内容")
        one = len(block.fields) == 1
        for j, (_, header) in enumerate(block.fields):
            _box(ws, r + 1, 2 + j, r + 1, 4 if one else 2 + j, header)
        r += 2
        for rkey, label in block.rows:
            _box(ws, r, 1, r, 1, label, align=LEFT)
            for j, (fkey, _) in enumerate(block.fields):
                _box(ws, r, 2 + j, r, 4 if one else 2 + j, _table2_value(table2, rkey, fkey))
            r += 1
    ws.cell(row=r + 1, column=1, value="说明：数字填在各行标题右侧的格内（件数为整数，收费金额单位为万元，最多4位小数）；"
            "没有的填0。本表可在年度报告页面“导入表二”上传。")
    ws.column_dimensions["A"].width = 22
    for col in "BCD":
        ws.column_dimensions[col].width = 18


def report_xlsx(rep: AnnualReport, agency_name: str, table2: dict | None = None) -> bytes:
    wb = Workbook()
    ws = wb.active
    if table2 is not None:
        table2_sheet(wb.create_sheet(TABLE2_SHEET, 0), table2, f"{agency_name}{rep.year}年政府信息公开工作年度报告")
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


def document_pdf(doc: dict) -> bytes:
    """The whole report: sections 一 to 六 in order, tables 二, 三 and 四 in the national layout."""
    from weasyprint import HTML

    html = render_template("reports/annual_report_pdf.html", doc=doc, rep=report_of(doc),
                           agency_name=doc["agency_name"], **template_context())
    return HTML(string=html, url_fetcher=url_fetcher()).write_pdf()


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.split("\n") if p.strip()]


def template_context() -> dict:
    return {"layout": table3_layout(), "columns": COLUMNS, "org_types": ORG_TYPES,
            "applicant_types": APPLICANT_TYPES, "corner_note": CORNER_NOTE, "remedy_kinds": REMEDY_KINDS,
            "remedy_columns": REMEDY_COLUMNS, "remedy_column_labels": REMEDY_COLUMN_LABELS,
            "counting_rules": COUNTING_RULES, "remedy_rules": REMEDY_RULES, "table2_blocks": TABLE2,
            "fmt_amount": fmt_amount, "paragraphs": paragraphs, "amount_key": AMOUNT}


# ---------------------------------------------------------------- .docx

SONG, HEI = "宋体", "黑体"  # Word's standard CJK faces (the PDF embeds Noto Serif/Sans CJK SC instead)


def _font(run, face: str, size: float, bold: bool = False) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt

    run.font.name = face
    run.font.size = Pt(size)
    run.font.bold = bold
    rpr = run._element.get_or_add_rPr()
    rpr.get_or_add_rFonts().set(qn("w:eastAsia"), face)


def _para(d, text: str, face: str = SONG, size: float = 12, bold: bool = False, align=None, indent: bool = False,
          style: str | None = None):
    from docx.shared import Pt

    p = d.add_paragraph(style=style)
    if align is not None:
        p.alignment = align
    if indent:
        p.paragraph_format.first_line_indent = Pt(size * 2)
    p.paragraph_format.space_after = Pt(4)
    _font(p.add_run(text), face, size, bold)
    return p


def _cell(cell, text, size: float = 8, align=None) -> None:
    from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    p = cell.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER if align is None else align
    _font(p.add_run("" if text is None else str(text)), SONG, size)


def document_docx(doc: dict) -> bytes:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, RGBColor

    rep = report_of(doc)
    d = Document()
    sec = d.sections[0]
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    sec.top_margin, sec.bottom_margin, sec.left_margin, sec.right_margin = Mm(30), Mm(25), Mm(25), Mm(22)
    d.core_properties.title = doc["title"]
    d.core_properties.author = doc["agency_name"]
    for name in ("Heading 1",):
        st = d.styles[name]
        st.font.color.rgb = RGBColor(0, 0, 0)
    _para(d, doc["title"], SONG, 18, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    if rep.failing:
        _para(d, f"注意：勾稽关系校验有 {len(rep.failing)} 项未通过，本报告数据有误，核实前不得报送。", HEI, 11, bold=True)
    for sec_ in doc["sections"]:
        key = sec_["key"]
        h = _para(d, sec_["title"], HEI, 14, style="Heading 1")
        h.paragraph_format.space_before = Mm(3)
        if key in doc["texts"]:
            for text in paragraphs(doc["texts"][key]):
                _para(d, text, indent=True)
        elif key == "二":
            _docx_table2(d, doc["table2"])
        elif key == "三":
            _docx_table3(d, rep)
            _para(d, "统计口径：" + "".join(COUNTING_RULES), size=8)
        elif key == "四":
            _docx_table4(d, rep)
            _para(d, "统计口径：" + "".join(REMEDY_RULES), size=8)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _docx_grid(d, rows: int, cols: int, widths=None) -> list[list]:
    """A bordered table and its cells, read once: python-docx's table.cell() walks the whole table on
    every call (3 s for table 三), each row's cells are read here before any merge."""
    t = d.add_table(rows=rows, cols=cols)
    t.style = "Table Grid"
    grid = [list(r.cells) for r in t.rows]
    if widths:
        for row in grid:
            for c, w in zip(row, widths):
                c.width = w
    return grid


def _docx_table2(d, table2: dict) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    g = _docx_grid(d, sum(2 + len(b.rows) for b in TABLE2), 4)
    r = 0
    for block in TABLE2:
        one = len(block.fields) == 1
        _cell(g[r][0].merge(g[r][3]), block.article, 10)
        _cell(g[r + 1][0], "信息内容", 10)
        for j, (_, header) in enumerate(block.fields):
            _cell(g[r + 1][1 + j].merge(g[r + 1][3]) if one else g[r + 1][1 + j], header, 10)
        r += 2
        for rkey, label in block.rows:
            _cell(g[r][0], label, 10, WD_ALIGN_PARAGRAPH.LEFT)
            for j, (fkey, _) in enumerate(block.fields):
                v = table2.get(rkey, {}).get(fkey)
                text = "" if v is None else (fmt_amount(v) if fkey == AMOUNT else v)
                _cell(g[r][1 + j].merge(g[r][3]) if one else g[r][1 + j], text, 10)
            r += 1


def _docx_table3(d, rep: AnnualReport) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm

    grid = table3_grid()
    g = _docx_grid(d, 3 + len(grid), 10, [Mm(12), Mm(14), Mm(52)] + [Mm(13)] * 7)
    _cell(g[0][0].merge(g[2][2]), CORNER_NOTE, 7)
    _cell(g[0][3].merge(g[0][9]), "申请人情况")
    _cell(g[1][3].merge(g[2][3]), "自然人")
    _cell(g[1][4].merge(g[1][8]), "法人或其他组织")
    for j, k in enumerate(ORG_TYPES):
        _cell(g[2][4 + j], APPLICANT_TYPES[k].split("—")[-1])
    _cell(g[1][9].merge(g[2][9]), "总计")
    for key, boxes in grid:
        for i, col, rs, cs, text in boxes:
            top, left = 3 + i, col - 1
            c = g[top][left]
            if rs > 1 or cs > 1:
                c = c.merge(g[top + rs - 1][left + cs - 1])
            _cell(c, text, 8, None if rs > 1 else WD_ALIGN_PARAGRAPH.LEFT)
        r = 3 + boxes[0][0]
        for j, col in enumerate(COLUMNS):
            _cell(g[r][3 + j], rep.table3[key][col])


def _docx_table4(d, rep: AnnualReport) -> None:
    g = _docx_grid(d, 4, 15)
    _cell(g[0][0].merge(g[1][4]), "行政复议")
    _cell(g[0][5].merge(g[0][14]), "行政诉讼")
    _cell(g[1][5].merge(g[1][9]), "未经复议直接起诉")
    _cell(g[1][10].merge(g[1][14]), "复议后起诉")
    for gi, kind in enumerate(REMEDY_KINDS):
        for j, col in enumerate(REMEDY_COLUMNS):
            _cell(g[2][gi * 5 + j], REMEDY_COLUMN_LABELS[col], 7)
            _cell(g[3][gi * 5 + j], rep.table4[kind][col])
