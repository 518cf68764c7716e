"""Annotated copies: the store's workbook with bad cells marked, written beside it, never over it.

openpyxl edits a copy of the workbook (so staff see their own layout); a legacy .xls, which
openpyxl cannot open, is copied value by value into a new workbook first. A workbook in a zip gets its
copy beside the zip (``十月_投诉_校验结果.xlsx``): the zip is never rewritten.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import openpyxl
import pandas as pd
import python_calamine as calamine
from openpyxl.cell.cell import MergedCell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.hyperlink import Hyperlink

from .check import summary_zh
from .csvfiles import CSV_SUFFIXES, read_table
from .files import atomic_path
from .limits import DEFAULT_LIMITS
from .reader import ANNOTATION_SHEET, WorkbookRead, annotated_path, read_bytes
from .template import display_width

RESULT_SHEET = ANNOTATION_SHEET
FILL_COLOURS = {"error": "FFC7CE", "warning": "FFEB9C"}  # a bad cell's fill, by the worst finding on it
FILLS = {severity: PatternFill("solid", fgColor=colour) for severity, colour in FILL_COLOURS.items()}
SEVERITY_ZH = {"error": "错误", "warning": "警告"}


def _source(source: Path) -> bytes:
    """The bytes of the workbook to copy, read as the run reads them (a file, or a member of a zip)."""
    data = read_bytes(source, DEFAULT_LIMITS)
    if isinstance(data, tuple):
        raise OSError(f"{data[0]} / {data[1]}")
    return data


def csv_sheet_title(stem: str) -> str:
    """The sheet a CSV file's rows get in its annotated copy: its name, as far as Excel allows a sheet name."""
    title = re.sub(r"[\[\]:*?/\\]", "_", stem).strip("'")[:31]
    return title or "CSV"


def _open_copy(source: Path) -> openpyxl.Workbook:
    suffix = source.suffix.lower()
    if suffix in CSV_SUFFIXES:
        table = read_table(_source(source), DEFAULT_LIMITS.max_columns)
        book = openpyxl.Workbook()
        ws = book.active
        ws.title = csv_sheet_title(source.stem)
        widths = [0] * table.width
        for row in table.rows:
            ws.append([None if v == "" else v for v in row])
            widths = [max(w, display_width(v)) for w, v in zip(widths, row, strict=True)]
        for c, width in enumerate(widths, 1):  # a CSV has no widths of its own: wide enough for what it holds
            ws.column_dimensions[get_column_letter(c)].width = min(max(width + 2, 8), 50)
        return book
    if suffix != ".xls":
        return openpyxl.load_workbook(io.BytesIO(_source(source)))
    book = openpyxl.Workbook()
    book.remove(book.active)
    legacy = calamine.CalamineWorkbook.from_filelike(io.BytesIO(_source(source)))
    try:
        for name in legacy.sheet_names:
            ws = book.create_sheet(name)
            for row in legacy.get_sheet_by_name(name).to_python(skip_empty_area=False):
                ws.append([None if v == "" else v for v in row])
    finally:
        legacy.close()
    return book


def _writable_cell(ws, address: str):
    """The cell itself, or the top-left cell of the merged range it lies in: only that one can hold a
    fill and a comment (the others of a merged range are read-only in openpyxl, and hidden in Excel)."""
    cell = ws[address]
    if isinstance(cell, MergedCell):
        for merged in ws.merged_cells.ranges:
            if address in merged:
                return ws.cell(merged.min_row, merged.min_col)
    return cell


def _print_setup(ws, widths: tuple[int, ...]) -> None:
    """The result sheet as it prints: A4 landscape, one page wide, the title over the whole width (not cut
    between pages), the column headings on every page, messages wrapped in their columns with each row
    tall enough for its longest message, the page numbers in the footer."""
    last = len(widths)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=last)
    ws["A1"].alignment = Alignment(wrap_text=True, vertical="top")
    ws.row_dimensions[1].height = 36
    wrap = Alignment(wrap_text=True, vertical="top")
    for r in range(3, ws.max_row + 1):
        lines = 1
        for c in range(1, last + 1):
            cell = ws.cell(r, c)
            cell.alignment = wrap
            text = str(cell.value or "")
            lines = max(lines, -(-display_width(text) // max(widths[c - 1], 1)) + text.count("\n"))
        if lines > 1:
            ws.row_dimensions[r].height = 15 * min(lines, 8)
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.print_title_rows = "2:2"
    ws.oddFooter.left.text = "&A"
    ws.oddFooter.right.text = "第 &P 页，共 &N 页"


def annotate_workbook(workbook: WorkbookRead, findings: pd.DataFrame) -> Path:
    """Write ``<name>_校验结果.xlsx`` beside the source; returns its path."""
    source = workbook.path
    target = annotated_path(source)
    book = _open_copy(source)
    if source.suffix.lower() in CSV_SUFFIXES:
        findings = findings.assign(sheet=findings["sheet"].replace({source.stem: csv_sheet_title(source.stem)}))
    if RESULT_SHEET in book.sheetnames:
        book.remove(book[RESULT_SHEET])
    for (sheet, row, column), group in findings.groupby(["sheet", "row", "column"], sort=False):
        if sheet not in book.sheetnames:
            continue
        cell = _writable_cell(book[sheet], f"{column or 'A'}{int(row)}")
        severity = "error" if (group["severity"] == "error").any() else "warning"
        cell.fill = FILLS[severity]
        text = "\n".join(f"[{SEVERITY_ZH[s]}] {zh}\n{en}" for s, zh, en in
                         zip(group["severity"], group["message_zh"], group["message_en"], strict=True))
        comment = Comment(text, "taizhang")
        comment.width, comment.height = 320, 60 + 40 * len(group)
        cell.comment = comment
    ws = book.create_sheet(RESULT_SHEET, 0)
    errors = int((findings["severity"] == "error").sum())
    warnings = int((findings["severity"] == "warning").sum())
    ws.append([f"{source.name}: {summary_zh(errors, warnings)}"])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append(["工作表", "行", "列", "字段", "级别", "问题", "Problem", "填写的值"])
    for cell in ws[2]:
        cell.font = Font(bold=True)
    link_font = Font(color="0563C1", underline="single")
    for f in findings.itertuples(index=False):
        ws.append([f.sheet, int(f.row), f.column, f.field, SEVERITY_ZH[f.severity], f.message_zh, f.message_en, f.value])
        target_cell = ws.cell(ws.max_row, 1)
        target_cell.hyperlink = Hyperlink(ref=target_cell.coordinate, location=f"'{f.sheet}'!{f.column or 'A'}{int(f.row)}")
        target_cell.font = link_font
    widths = (16, 6, 5, 14, 6, 40, 40, 16)
    for col, width in zip("ABCDEFGH", widths, strict=True):
        ws.column_dimensions[col].width = width
    _print_setup(ws, widths)
    ws.freeze_panes = "A3"
    book.active = 0
    with atomic_path(target) as tmp:
        book.save(tmp)
    return target
