"""Excel templates built from register definitions (XlsxWriter).

A template makes the right thing easy for staff: an Excel Table (new rows inherit formats and
validation), dropdowns whose options live on a hidden list sheet, date and number validation with
Chinese messages, input hints from the definitions' help texts, a 填写说明 sheet, print setup for
A4 landscape, and hidden metadata so the reader recognises the workbook without guessing.
The same writer fills a template with records (sample data, tests).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from .definitions import Field, Register
from .describe import TYPE_NAMES, describe_deadline, describe_rule
from .files import atomic_path
from .metadata import LISTS_SHEET, METADATA_SHEET, WorkbookMetadata, metadata_rows
from .xlsx import sheet_title

TABLE_ROWS = 100  # empty, formatted table rows in a fresh template
ROWS_PER_PAGE = 20  # rows an A4 landscape page of a printed template holds: room to fill in by hand
PRINTABLE_PX = (1045, 679)  # A4 landscape inside the template's margins (0.4 in, 0.6 in), 96 dpi
HEADER_PX = 83  # the title and header rows (30 pt + 32 pt)


def handwriting_row_height(fields: Iterable[Field]) -> float:
    """The data rows' height in points so that a printed page (one page wide, scaled down by the sheet's
    width) holds about ROWS_PER_PAGE rows to write in, not the hundred of Excel's default height."""
    # 8 px a character: between Excel's 7 and LibreOffice's wider columns, so that a wide register scaled
    # down to one page prints about 17 rows a page in Excel and 24 in LibreOffice
    width_px = sum(column_width(f) * 8 + 5 for f in fields)
    scale = min(1.0, PRINTABLE_PX[0] / max(width_px, 1))
    row_px = (PRINTABLE_PX[1] / scale - HEADER_PX) / ROWS_PER_PAGE
    return round(max(15.0, min(row_px * 0.75, 60.0)), 1)
VALIDATION_ROWS = 5000  # validation reaches below the table for rows typed past it
FIXED_CREATED = dt.datetime(2026, 1, 1)  # file properties fixed so a rebuild is byte-identical
INSTRUCTIONS_SHEET = "填写说明"

NUMBER_FORMATS = {
    "date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm", "time": "hh:mm", "decimal": "#,##0.00",
    "integer": "0", "text": "@", "phone": "@", "id_number": "@", "email": "@", "choice": "@",
}
TYPE_WIDTHS = {"date": 12, "datetime": 17, "time": 8, "phone": 15, "id_number": 21, "email": 22, "decimal": 12}


def display_width(text: str) -> int:
    """Column width in Excel units: CJK and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(text))


def is_missing(value: object) -> bool:
    """None, NaN and NaT: cells to leave empty."""
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def header_label(f: Field) -> str:
    return f"{f.label_zh}*" if f.required else f.label_zh


def column_width(f: Field) -> float:
    width = max(display_width(header_label(f)) + 4, TYPE_WIDTHS.get(f.type, 10))
    if f.type == "choice":
        width = max(width, max(display_width(o) for o in f.option_values) + 5)
    if f.type == "text" and re.search(r"内容|描述|结果|意见|备注|说明|措施|原因|反馈|主题|地址", f.label_zh):
        width = max(width, 24)
    return min(width, 40)


def sheet_name(register: Register) -> str:
    return sheet_title(register.name_zh)


def _input_message(f: Field) -> str:
    parts = []
    if f.required:
        parts.append("必填。")
    if f.help:
        parts.append(f.help)
    elif f.type == "choice":
        parts.append("从下拉列表中选择")
    elif f.type in ("date", "datetime", "time"):
        parts.append({"date": "日期，如 2026-03-05", "datetime": "日期时间，如 2026-03-05 09:30",
                      "time": "时间，如 08:30"}[f.type])
    elif f.type == "phone":
        parts.append("手机11位，座机带区号")
    return "".join(parts)[:255]


class _TemplateWriter:
    def __init__(self, book: xlsxwriter.Workbook, top: int = 0) -> None:
        self.book = book
        self.top = top  # rows kept free above each register's title (the store workbook's buttons)
        self.sheets: dict[str, xlsxwriter.worksheet.Worksheet] = {}
        self.formats: dict[tuple, xlsxwriter.format.Format] = {}
        self.lists = None
        self.list_col = 0

    def fmt(self, **props) -> xlsxwriter.format.Format:
        key = tuple(sorted(props.items()))
        if key not in self.formats:
            base = {"font_name": "等线", "font_size": 10, "valign": "vcenter"}
            self.formats[key] = self.book.add_format(base | props)
        return self.formats[key]

    def option_range(self, register: Register, f: Field) -> str:
        """Options go on the hidden list sheet, referenced by a defined name, so long lists work."""
        if self.lists is None:
            self.lists = self.book.add_worksheet(LISTS_SHEET)
            self.lists.hide()
        col = self.list_col
        self.list_col += 1
        self.lists.write_string(0, col, f"{register.id}.{f.key}")
        for i, option in enumerate(f.option_values, start=1):
            self.lists.write_string(i, col, option)
        name = f"选项_{register.id}_{f.key}"
        letter = xl_col_to_name(col)
        self.book.define_name(name, f"='{LISTS_SHEET}'!${letter}$2:${letter}${len(f.options) + 1}")
        return name

    def validation(self, register: Register, f: Field) -> dict | None:
        hint = {"input_title": f.label_zh[:32], "input_message": _input_message(f),
                "error_title": "输入有误", "error_type": "stop"}
        if f.type == "choice":
            return hint | {"validate": "list", "source": f"={self.option_range(register, f)}",
                           "error_message": f"请从下拉列表中选择「{f.label_zh}」: " + "、".join(f.option_values)}
        if f.type in ("date", "datetime"):
            return hint | {"validate": "date", "criteria": "between", "minimum": dt.date(2000, 1, 1),
                           "maximum": dt.date(2100, 12, 31),
                           "error_message": f"「{f.label_zh}」请填写日期，如 2026-03-05"}
        if f.type == "time":
            return hint | {"validate": "time", "criteria": "between", "minimum": dt.time(0, 0),
                           "maximum": dt.time(23, 59, 59), "error_message": f"「{f.label_zh}」请填写时间，如 08:30"}
        if f.type in ("integer", "decimal"):
            low = f.min if f.min is not None else -1e15
            high = f.max if f.max is not None else 1e15
            kind = "整数" if f.type == "integer" else "数字"
            rng = f"（{f.min if f.min is not None else ''}–{f.max if f.max is not None else ''}）"
            return hint | {"validate": f.type, "criteria": "between", "minimum": low, "maximum": high,
                           "error_message": f"「{f.label_zh}」请填写{kind}{rng if f.min is not None or f.max is not None else ''}"}
        if f.type == "phone":
            return hint | {"validate": "length", "criteria": "between", "minimum": 7, "maximum": 20,
                           "error_type": "warning", "error_message": "电话号码长度不对：手机11位，座机带区号"}
        if f.type == "id_number":
            return hint | {"validate": "length", "criteria": "==", "value": 18,
                           "error_message": "身份证号应为18位"}
        if f.max_length:
            return hint | {"validate": "length", "criteria": "<=", "value": f.max_length,
                           "error_message": f"「{f.label_zh}」不超过{f.max_length}个字"}
        if hint["input_message"]:
            return hint | {"validate": "any"}
        return None

    def register_sheet(self, register: Register, meta: WorkbookMetadata, records: pd.DataFrame | None) -> str:
        name = sheet_name(register)
        ws = self.book.add_worksheet(name)
        self.sheets[name] = ws
        top = self.top
        fields = register.fields
        n = len(fields)
        store = " ".join(x for x in (meta.store_code, meta.store_name) if x)
        title = register.name_zh + (f"（{store}）" if store else "")
        ws.merge_range(top, 0, top, n - 1, title, self.fmt(bold=True, font_size=16, align="center"))
        ws.set_row(top, 30)
        ws.set_row(top + 1, 32)
        n_records = 0 if records is None else len(records)
        last_row = top + 1 + max(TABLE_ROWS, n_records)
        header_fmt = self.fmt(bold=True, text_wrap=True, align="center", bg_color="#DDEBF7", border=1)
        required_fmt = self.fmt(bold=True, text_wrap=True, align="center", bg_color="#DDEBF7", border=1,
                                font_color="#C00000")
        columns = []
        for i, f in enumerate(fields):
            cell_fmt = self.fmt(num_format=NUMBER_FORMATS[f.type], border=1, border_color="#BFBFBF",
                                text_wrap=f.type == "text")
            ws.set_column(i, i, column_width(f), cell_fmt)
            columns.append({"header": header_label(f), "format": cell_fmt,
                            "header_format": required_fmt if f.required else header_fmt})
        ws.add_table(top + 1, 0, last_row, n - 1, {"name": f"T_{register.id}", "columns": columns,
                                              "style": "Table Style Light 9", "autofilter": True})
        for i, f in enumerate(fields):
            options = self.validation(register, f)
            if options:
                ws.data_validation(top + 2, i, top + VALIDATION_ROWS, i, options)
        if records is not None:
            self.write_records(ws, fields, records, top + 2)
        ws.freeze_panes(top + 2, 0)
        ws.set_landscape()
        ws.set_paper(9)
        ws.repeat_rows(top, top + 1)
        ws.fit_to_pages(1, 0)
        ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
        ws.set_default_row(handwriting_row_height(fields))
        ws.set_header(f"&L&9{register.name_zh}&R&9{store}")
        ws.set_footer("&C&9第 &P 页，共 &N 页")
        ws.print_area(top, 0, last_row, n - 1)
        return name

    def write_records(self, ws, fields: tuple[Field, ...], records: pd.DataFrame, first_row: int) -> None:
        """Write records as staff would have typed them: text stays text, dates are Excel dates."""
        date_fmts = {t: self.fmt(num_format=NUMBER_FORMATS[t], border=1, border_color="#BFBFBF")
                     for t in ("date", "datetime", "time")}
        for col, f in enumerate(fields):
            if f.key not in records:
                continue
            for offset, value in enumerate(records[f.key].tolist()):
                row = first_row + offset
                if is_missing(value):
                    continue
                if isinstance(value, dt.datetime | dt.date | dt.time | pd.Timestamp):
                    fmt = date_fmts.get(f.type, date_fmts["date"])
                    if isinstance(value, dt.time):
                        ws.write_datetime(row, col, dt.datetime.combine(dt.date(1899, 12, 31), value), fmt)
                    else:
                        ws.write_datetime(row, col, pd.Timestamp(value).to_pydatetime(), fmt)
                elif isinstance(value, bool):
                    ws.write_string(row, col, "是" if value else "否")
                elif isinstance(value, int | float):
                    ws.write_number(row, col, value)
                else:
                    ws.write_string(row, col, str(value))

    def instructions(self, registers: list[Register], meta: WorkbookMetadata) -> None:
        ws = self.book.add_worksheet(INSTRUCTIONS_SHEET)
        bold = self.fmt(bold=True, font_size=14)
        head = self.fmt(bold=True, bg_color="#DDEBF7", border=1, text_wrap=True)
        cell = self.fmt(border=1, text_wrap=True, valign="top")
        for col, width in enumerate((6, 16, 34, 10, 6, 30, 50)):
            ws.set_column(col, col, width)
        row = 0
        for register in registers:
            ws.write_string(row, 0, f"{register.name_zh} 填写说明（{register.name_en}，定义版本 {register.version}）", bold)
            row += 1
            store = " ".join(x for x in (meta.store_code, meta.store_name) if x)
            ws.write_string(row, 0, ("门店: " + store + "。" if store else "") +
                            "带 * 的列必须填写；日期请填 2026-03-05 格式；选项请从下拉列表选择。"
                            "表格下方可写制表人、审核等签字行，不影响校验。")
            row += 2
            for col, text in enumerate(("列", "字段", "English", "类型", "必填", "可选项 / 范围", "说明")):
                ws.write_string(row, col, text, head)
            row += 1
            for i, f in enumerate(register.fields):
                limits = "、".join(f.option_values) if f.options else ""
                if f.min is not None and f.max is not None:
                    limits = f"{f.min} – {f.max}"
                elif f.min is not None or f.max is not None:
                    limits = f"≥ {f.min}" if f.min is not None else f"≤ {f.max}"
                if f.pattern_zh:
                    limits = f.pattern_zh
                notes = f.help or ""
                if f.sensitive:
                    notes = (notes + " " if notes else "") + "（敏感信息，注意保密）"
                values = (xl_col_to_name(i), f.label_zh, f"{f.label_en} ({f.key})", TYPE_NAMES[f.type][0],
                          "是" if f.required else "", limits, notes)
                for col, text in enumerate(values):
                    ws.write_string(row, col, str(text), cell)
                row += 1
            row += 1
            if register.rules:
                ws.write_string(row, 0, "校验规则", self.fmt(bold=True))
                row += 1
                for rule in register.rules:
                    zh, _ = describe_rule(register, rule)
                    level = "错误" if rule.severity == "error" else "提醒"
                    ws.merge_range(row, 0, row, 6, f"【{level}】{zh}", cell)
                    row += 1
                row += 1
            if register.deadlines:
                ws.write_string(row, 0, "时限要求（逾期清单）", self.fmt(bold=True))
                row += 1
                for deadline in register.deadlines:
                    ws.merge_range(row, 0, row, 6, describe_deadline(register, deadline)[0], cell)
                    row += 1
                row += 1
            row += 1
        ws.set_landscape()
        ws.set_paper(9)
        ws.fit_to_pages(1, 0)

    def metadata(self, meta: WorkbookMetadata) -> None:
        ws = self.book.add_worksheet(METADATA_SHEET)
        for r, values in enumerate(metadata_rows(meta)):
            for c, value in enumerate(values):
                ws.write(r, c, value)
        ws.very_hidden()


def add_register_sheets(
    book: xlsxwriter.Workbook, registers: list[Register], meta: WorkbookMetadata,
    records: Mapping[str, pd.DataFrame] | None = None, top: int = 0,
) -> dict[str, xlsxwriter.worksheet.Worksheet]:
    """One sheet per register, then 填写说明 and the hidden sheets, into an open XlsxWriter workbook; returns
    the register sheets by name (the store workbook adds its buttons to them)."""
    writer = _TemplateWriter(book, top)
    for register in registers:
        name = writer.register_sheet(register, meta, (records or {}).get(register.id))
        meta.registers[name] = (register.id, register.version)
    writer.instructions(registers, meta)
    writer.metadata(meta)
    return writer.sheets


def new_workbook(path: Path | str, title: str) -> xlsxwriter.Workbook:
    """An XlsxWriter workbook that keeps staff's text as text, with fixed properties (reproducible builds)."""
    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False,
                                           "strings_to_urls": False})
    book.set_properties({"title": title, "author": "taizhang", "created": FIXED_CREATED,
                         "comments": "由 taizhang 根据登记表定义生成"})
    return book


def write_register_workbook(
    path: Path | str, registers: Iterable[Register], store_code: str | None = None,
    store_name: str | None = None, records: Mapping[str, pd.DataFrame] | None = None,
) -> Path:
    """Write a workbook with one sheet per register (plus 填写说明 and hidden sheets), atomically."""
    registers = list(registers)
    path = Path(path)
    with atomic_path(path) as tmp:
        book = new_workbook(tmp, "、".join(r.name_zh for r in registers))
        add_register_sheets(book, registers, WorkbookMetadata(store_code, store_name), records)
        book.close()
    return path


def template_filename(register: Register, store_code: str | None = None, store_name: str | None = None) -> str:
    prefix = "_".join(x for x in (store_code, store_name) if x)
    return f"{prefix + '_' if prefix else ''}{register.id}_{register.name_zh}.xlsx"


def build_templates(
    registers: Iterable[Register], out_dir: Path | str, store_code: str | None = None, store_name: str | None = None,
) -> list[Path]:
    """One template per register in ``out_dir``; an answer form (逾期事项反馈) has none: its form is the
    store's overdue workbook."""
    out_dir = Path(out_dir)
    return [write_register_workbook(out_dir / template_filename(r, store_code, store_name), [r], store_code, store_name)
            for r in registers if not r.is_answer_form]

