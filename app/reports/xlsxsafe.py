"""Spreadsheet cells that can never become formulas (CSV/formula injection, CWE-1236).

A name or document number typed by an applicant or a user goes into the xlsx exports as it was
typed. openpyxl stores a string starting with ``=`` as a formula, and spreadsheet programs treat
text starting with ``= + - @``, TAB or CR as a formula once the cell is edited or the sheet is
re-saved as CSV. Such strings are written here as text cells with Excel's "quote prefix" style
(what Excel itself does when a user types ``'=...``): the value stays exactly as entered, is shown
as text, and stays text when the cell is edited. Every exporter writes user-controlled strings
through ``safe_row`` / ``safe_value`` / ``put``.
"""
from __future__ import annotations

from typing import Any, Iterable

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def risky(value: Any) -> bool:
    """True if ``value`` is a string a spreadsheet could read as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def _as_text(cell: Cell) -> Cell:
    cell.data_type = "s"  # openpyxl made "=..." a formula on assignment; the value is unchanged
    cell.quotePrefix = True
    return cell


def safe_value(ws, value: Any) -> Any:
    """``value`` ready for ``ws.append``: unchanged, or a text cell if it could be a formula.

    Works for write-only and normal worksheets (``ws.append`` accepts cells of its own sheet).
    """
    if risky(value):
        return _as_text(WriteOnlyCell(ws, value=value))
    return value


def safe_row(ws, values: Iterable[Any]) -> list:
    """A row for ``ws.append`` in which no string becomes a formula (see ``safe_value``)."""
    return [safe_value(ws, v) for v in values]


def put(ws, row: int, column: int, value: Any) -> Cell:
    """``ws.cell(row, column, value)`` for a normal worksheet, never writing a formula."""
    cell = ws.cell(row=row, column=column, value=value)
    return _as_text(cell) if risky(value) else cell
