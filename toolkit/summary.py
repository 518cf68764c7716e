"""The monthly summary workbook and the per-store overdue workbooks.

Written fresh every run (never by editing a store's file): 总览 first, then each register's
statistics with charts, the overdue and care lists, the rejected rows and every finding, the file
manifest, and the consolidated records of each register. A hidden ``_taizhang`` sheet marks the
workbook as an output so that a later run over the same folder ignores it.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import python_calamine as calamine

from .config import Config
from .consolidate import Consolidation
from .definitions import Register
from .files import file_part, staged_folder, unique_name
from .metadata import METADATA_SHEET, WorkbookMetadata, metadata_rows, output_rows
from .overdue import CARE_COLUMNS, ITEM_COLUMNS, ITEM_LABELS_ZH, OverdueLists
from .records import SOURCE_COLUMNS, SOURCE_LABELS_ZH
from .statistics import Table, register_figures, summary_table
from .template import NUMBER_FORMATS, column_width, display_width
from .workdays import WorkdayCalendar
from .xlsx import PAGE_FOOTER, Book, Column, sheet_title, shown_widths

OVERVIEW_COLUMNS = ["登记表", "门店编号", "门店名称", "记录数", "本月新增", "拒收行", "警告", "未结", "逾期"]
FIELD_KINDS = {"integer": "number", "decimal": "number", "date": "date", "datetime": "datetime",
               "time": "time_minutes"}
FORMATS = {"integer": "#,##0", "decimal": "#,##0.00", "percent": "0.0%"}
REJECTED_LABELS = {"store_code": "门店编号", "store_name": "门店名称", "register_name": "登记表",
                   "source_file": "来源文件", "source_sheet": "工作表", "source_row": "行号", "key": "编号",
                   "reason_zh": "拒收原因", "reason_en": "Reason"}
FINDING_LABELS = {"store_code": "门店编号", "store_name": "门店名称", "file": "文件", "sheet": "工作表",
                  "row": "行号", "column": "列", "field": "字段", "value": "填写内容", "severity": "级别",
                  "code": "类别", "message_zh": "问题说明", "message_en": "Message"}
MANIFEST_LABELS = {"path": "文件", "kind": "类型", "status": "状态", "store_code": "门店编号", "store_name": "门店名称",
                   "registers": "登记表", "sha256": "SHA-256", "rows_read": "读取行数", "rows_accepted": "接收行数",
                   "rows_rejected": "拒收行数", "rows_skipped": "跳过行数", "skipped": "跳过原因",
                   "message": "说明", "warnings": "警告"}
PRINT_NOTE = ("打印：打印整个工作簿时打印总览、统计、清单和问题表；各登记表的明细工作表只打印表头。"
              "需要打印明细时，先筛选并选中要打印的行，打印时选「打印选定区域」/ Printing the workbook prints the "
              "overview, statistics, lists and problems; a register's records sheet prints its header only: select "
              "the rows wanted and choose Print Selection.")
FIT_COLUMNS = ("source_file", "path", "file")
FIT_WIDTH = 56
WRAP_WIDTH = 20  # a text column this wide or wider wraps its text (file names, reasons, messages)
A4_LANDSCAPE_PX = (988, 650)  # printable width and height at 100 %, Excel's default margins, in pixels (96 dpi)
ROW_PX = 20


def page_breaks(blocks: list[tuple[int, int]], width_px: float) -> list[int]:
    """Rows where a page should start so that no table (with its charts) is cut over two pages: a sheet
    printed one page wide is scaled by its width, which sets how many rows a page holds. A block taller
    than a page starts a page and runs on."""
    scale = min(1.0, A4_LANDSCAPE_PX[0] / max(width_px, 1))
    page_rows = int(A4_LANDSCAPE_PX[1] / (ROW_PX * scale)) - 1
    breaks: list[int] = []
    page_top = blocks[0][0] if blocks else 0  # the sheet's title goes with the first table
    for top, bottom in blocks:
        if bottom - page_top > page_rows and top > page_top:
            breaks.append(top)
            page_top = top
    return breaks


STATUS_ZH = {"ok": "已读取", "unusable": "无法使用", "duplicate": "重复提交", "ignored": "已忽略"}


@dataclass
class OverviewRow:
    register: Register
    store_code: str
    store_name: str
    records: int
    new: int | None
    rejected: int
    warnings: int
    open: int | None
    overdue: int
    figures: dict[str, tuple[object, str]]  # key figure name -> (value, format): one column each in 总览


RATE_NOTE = ("说明：按时率（按时结案率、4小时修复率、15分钟到场率等）= 按时完成数 ÷（截至统计日已完成数 + 截至统计日仍未完成且已超期数）；"
             "未完成且未到期的不计入 / on-time rates = met on time ÷ (met by the as-of day + still open past the deadline)")


def _shown_number(value: float, fmt: str) -> str:
    """A figure as the workbook shows it (see FORMATS): in 总览's key figures and to size columns."""
    if fmt == "percent":
        return f"{value:.1%}"
    return f"{value:,.2f}" if fmt == "decimal" else f"{value:,.0f}"


def overview_rows(result: Consolidation, lists: OverdueLists, month: pd.Period | None,
                  config: Config | None = None) -> list[OverviewRow]:
    """Per register × store, then a subtotal per register (store code "小计")."""
    findings = result.findings
    warnings = findings[findings["severity"] == "warning"].merge(result.sheet_registers(), on=["file", "sheet"])
    warn_counts = warnings.groupby(["register", "store_code"]).size()
    rejected = result.rejected.groupby(["register", "store_code"]).size()
    overdue = lists.items.groupby(["register", "store_code"]).size()
    stores = result.all_stores(config)
    rows: list[OverviewRow] = []
    for reg_id, register in result.registers.items():
        records = result.records[reg_id]
        present_stores = set(records["store_code"].dropna().unique()) | {s for r, s in rejected.index if r == reg_id}
        if not present_stores:
            continue
        per_store = register_figures(records, register, month, records["store_code"].astype("string"), lists.as_of)
        counted = {"records": 0} | ({"new": 0} if month is not None and register.date else {}) | (
            {"open": 0} if register.open is not None else {})
        per_store = per_store.reindex(list(stores)).fillna(counted)
        whole = register_figures(records, register, month, pd.Series("", index=records.index, dtype="string"),
                                 lists.as_of)
        whole = whole.reindex([""]).fillna(counted)
        reg_rejected, reg_warnings, reg_overdue = (_per_store(counts, reg_id)
                                                   for counts in (rejected, warn_counts, overdue))
        for code, figures in per_store.iterrows():
            rows.append(_overview_row(register, str(code), stores[code], figures, int(reg_rejected.get(code, 0)),
                                      int(reg_warnings.get(code, 0)), int(reg_overdue.get(code, 0))))
        rows.append(_overview_row(register, "小计", "", whole.iloc[0],
                                  int(reg_rejected.sum()), int(reg_warnings.sum()), int(reg_overdue.sum())))
    return rows


def _per_store(counts: pd.Series, reg_id: str) -> pd.Series:
    """A register's slice of counts by (register, store code): counts by store code (empty when none)."""
    if reg_id not in counts.index.get_level_values(0):
        return pd.Series(dtype="int64")
    return counts.xs(reg_id, level=0)


def _overview_row(register: Register, code: str, name: str, figures: pd.Series, rejected: int,
                  warnings: int, overdue: int) -> OverviewRow:
    """One line of 总览 from a row of :func:`register_figures` (new/open are missing where the register does
    not define them)."""
    def count(key: str) -> int | None:
        return None if pd.isna(figures[key]) else int(figures[key])

    key = {m.name_zh: (figures[m.name_zh], m.format) for m in register.figures}
    return OverviewRow(register, code, name, count("records") or 0, count("new"), rejected, warnings, count("open"),
                       overdue, key)


class PreviousError(ValueError):
    """``--previous`` names something that is not an earlier summary workbook of this toolkit."""

    def __init__(self, path: Path | str, zh: str, en: str) -> None:
        self.zh, self.en = f"{path}: {zh}", f"{path}: {en}"
        super().__init__(f"{self.zh} / {self.en}")


def read_previous(path: Path | str) -> dict[tuple[str, str, str], tuple[float, float]]:
    """(register name, store code, store name) -> (records, overdue) from an earlier summary's 总览.
    Raises PreviousError, before anything else is read, for a file that is not such a summary."""
    try:
        book = calamine.CalamineWorkbook.from_path(str(path))
    except Exception:  # not a workbook at all (a CSV, garbage, an unreadable file)
        raise PreviousError(path, "不是Excel工作簿，无法作为上月汇总", "not an Excel workbook; it cannot be last "
                            "month's summary") from None
    try:
        rows = book.get_sheet_by_name("总览").to_python()
    except Exception:
        raise PreviousError(path, "没有「总览」工作表：不是本工具生成的汇总工作簿（可能是门店的登记表）",
                            "has no 总览 sheet: not a summary workbook of this toolkit (a store's register?)") from None
    finally:
        book.close()
    out: dict[tuple[str, str, str], tuple[float, float]] = {}
    header = None
    for row in rows:
        cells = [str(c).strip() if c is not None else "" for c in row]
        if header is None:
            if "登记表" in cells and "记录数" in cells:
                header = {name: i for i, name in enumerate(cells)}
            continue
        if not cells or not cells[header["登记表"]]:
            continue
        try:
            key = (cells[header["登记表"]], cells[header["门店编号"]], cells[header["门店名称"]])
            out[key] = (float(row[header["记录数"]] or 0), float(row[header["逾期"]] or 0))
        except (ValueError, TypeError, IndexError):
            continue
    return out


def _field_columns(register: Register) -> list[Column]:
    columns = [Column(c, SOURCE_LABELS_ZH[c], "number" if c == "source_row" else "text",
                      "0" if c == "source_row" else None,
                      {"store_code": 9, "store_name": 10, "source_file": 28, "source_sheet": 14, "source_row": 6}[c])
               for c in SOURCE_COLUMNS]
    for f in register.fields:
        kind = FIELD_KINDS.get(f.type, "text")
        columns.append(Column(f.key, f.label_zh, kind, NUMBER_FORMATS[f.type] if kind != "text" else None,
                              column_width(f)))
    return columns


def _text_columns(labels: dict[str, str], numbers: tuple[str, ...] = (), widths: dict[str, float] | None = None
                  ) -> list[Column]:
    widths = widths or {}
    columns = [Column(k, v, "number" if k in numbers else "text", "0" if k in numbers else None,
                      widths.get(k, max(display_width(v) + 4, 10))) for k, v in labels.items()]
    for c in columns:
        c.wrap = c.kind == "text" and c.width >= WRAP_WIDTH
    return columns


def _fit_widths(frame: pd.DataFrame, columns: list[Column]) -> None:
    """File paths are as wide as the longest one (up to FIT_WIDTH), on one line: a path wrapped over
    two lines doubles a list's pages, one cut short does not say which file."""
    for c in columns:
        if c.name in FIT_COLUMNS and c.name in frame and len(frame):
            c.width = float(min(max(_widest(frame[c.name]) + 2, display_width(c.header) + 4), FIT_WIDTH))
            c.wrap = c.width >= FIT_WIDTH


def _widest(values: pd.Series) -> int:
    widths = shown_widths(pa.array(values.astype("string").fillna("").unique().astype(str), pa.string()))
    return int(widths.max()) if len(widths) else 0


def _sheet_name(text: str, used: set[str]) -> str:
    name = sheet_title(text)
    base, n = name, 2
    while name in used:
        name = f"{base[:28]}({n})"
        n += 1
    used.add(name)
    return name


class SummaryWriter:
    def __init__(self, path: Path | str) -> None:
        self.book = Book(path)
        self.used: set[str] = set()
        b = self.book
        self.title = b.format(bold=True, font_size=16)
        self.subtitle = b.format(font_color="#595959")
        self.head = b.format(bold=True, bg_color="#DDEBF7", border=1, text_wrap=True, valign="vcenter",
                             align="center")
        self.cell = b.format(border=1)
        self.bold_cell = b.format(border=1, bold=True, bg_color="#F2F2F2")
        self.numbers = {k: b.format(border=1, num_format=v) for k, v in FORMATS.items()}
        self.bold_numbers = {k: b.format(border=1, num_format=v, bold=True, bg_color="#F2F2F2")
                             for k, v in FORMATS.items()}
        self.top_integer = b.format(border=1, num_format="#,##0", valign="top")
        self.note = b.format(font_color="#595959", text_wrap=True, valign="top")
        self.red = b.format(border=1, num_format="#,##0", font_color="#C00000", bold=True)

    def sheet(self, title: str):
        ws = self.book.add_sheet(_sheet_name(title, self.used))
        ws.set_landscape()
        ws.set_paper(9)
        ws.fit_to_pages(1, 0)
        ws.set_footer(PAGE_FOOTER)
        return ws

    def overview(self, rows: list[OverviewRow], month: pd.Period | None, as_of: dt.date,
                 result: Consolidation, previous: dict | None, notes: list[str]) -> None:
        ws = self.sheet("总览")
        ws.hide_gridlines(2)
        title = f"{month.year}年{month.month}月 台账汇总" if month is not None else "台账汇总"
        ws.write(0, 0, title, self.title)
        counts = pd.Series([f.status for f in result.files]).value_counts()
        ws.write(1, 0, f"统计截至 {as_of:%Y-%m-%d}；文件 {len(result.files)} 个（已读取 {counts.get('ok', 0)}，"
                       f"无法使用 {counts.get('unusable', 0)}，重复 {counts.get('duplicate', 0)}，"
                       f"忽略 {counts.get('ignored', 0)}）；详见「文件清单」「问题数据」", self.subtitle)
        columns = list(OVERVIEW_COLUMNS)
        if previous is not None:
            columns[4:4] = ["记录数变化"]
            columns.insert(columns.index("逾期") + 1, "逾期变化")
        # every register's key figures, one numeric column each (pivotable), in the registers' order
        figure_formats = {name: fmt for row in rows for name, (_, fmt) in row.figures.items()}
        columns += [name for name in figure_formats if name not in columns]
        top = 3
        for c, name in enumerate(columns):
            ws.write(top, c, name, self.head)
        totals = {"记录数": 0, "拒收行": 0, "警告": 0, "逾期": 0}
        r = top
        for row in rows:
            r += 1
            sub = row.store_code == "小计"
            text_fmt = self.bold_cell if sub else self.cell
            num = self.bold_numbers["integer"] if sub else self.numbers["integer"]
            values = {"登记表": row.register.name_zh, "门店编号": row.store_code, "门店名称": row.store_name,
                      "记录数": row.records, "本月新增": row.new, "拒收行": row.rejected, "警告": row.warnings,
                      "未结": row.open, "逾期": row.overdue}
            for name in figure_formats:
                value = row.figures.get(name, (None, ""))[0]
                values[name] = None if value is None or pd.isna(value) else float(value)
            if previous is not None:
                before = previous.get((row.register.name_zh, row.store_code, row.store_name))
                values["记录数变化"] = row.records - before[0] if before else None
                values["逾期变化"] = row.overdue - before[1] if before else None
            if sub:
                for k in totals:
                    totals[k] += values[k]
            for c, name in enumerate(columns):
                value = values[name]
                if value is None:
                    ws.write_blank(r, c, None, text_fmt)
                elif isinstance(value, str):
                    ws.write_string(r, c, value, text_fmt)
                elif name in figure_formats:
                    shown = (self.bold_numbers if sub else self.numbers)[figure_formats[name]]
                    ws.write_number(r, c, value, shown)
                else:
                    ws.write_number(r, c, value, self.red if name == "逾期" and value and not sub else num)
        r += 1
        for c, name in enumerate(columns):
            value = totals.get(name)
            if c == 0:
                ws.write(r, c, "总计", self.bold_cell)
            elif value is not None:
                ws.write_number(r, c, value, self.bold_numbers["integer"])
            else:
                ws.write_blank(r, c, None, self.bold_cell)
        ws.autofilter(top, 0, r - 1, len(columns) - 1)
        ws.freeze_panes(top + 1, 3)
        ws.repeat_rows(top)
        widths = {"登记表": 16, "门店编号": 9, "门店名称": 10}
        shown = [widths.get(name, max(14 if figure_formats.get(name) == "decimal" else 9,  # 1,356,827.78, no ###
                                      display_width(name) + 2)) for name in columns]
        for c, width in enumerate(shown):
            ws.set_column(c, c, width)
        r += 2
        # each note wraps within the table's width: left to run on, one long line widens the printed page
        # (fit to one page wide) until the overview of a few stores prints in a tiny font
        for note in notes:
            lines = max(1, -(-display_width(note) // max(int(sum(shown)) - 2, 1)) + note.count("\n"))
            if len(columns) > 1:
                ws.merge_range(r, 0, r, len(columns) - 1, note, self.note)
            else:
                ws.write(r, 0, note, self.note)
            ws.set_row(r, 15 * lines)
            r += 1

    def statistics(self, register: Register, tables: list[Table]) -> None:
        ws = self.sheet(f"{register.name_zh}统计")
        ws.hide_gridlines(2)
        ws.write(0, 0, f"{register.name_zh} 统计", self.title)
        r = 2
        widths: dict[int, float] = {}  # column -> widest text shown in it, so that no total turns into ###
        blocks: list[tuple[int, int]] = []  # (first row, row after) of each table with its charts
        charts_width = 0
        for table in tables:
            top = r
            ws.write(r, 0, table.title_zh, self.book.format(bold=True, font_size=12))
            r += 1
            frame = table.frame
            header = r
            for c, name in enumerate(frame.columns):
                ws.write(r, c, name, self.head)
                widths[c] = max(widths.get(c, 0), display_width(str(name)))
            first = r + 1
            for i, record in enumerate(frame.itertuples(index=False)):
                total = i == len(frame) - 1
                for c, (name, value) in enumerate(zip(frame.columns, record, strict=True)):
                    fmt_name = table.formats.get(name, "text")
                    if fmt_name == "text":
                        ws.write_string(first + i, c, str(value), self.bold_cell if total else self.cell)
                        widths[c] = max(widths[c], display_width(str(value)))
                    elif value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
                        ws.write_blank(first + i, c, None, self.bold_numbers[fmt_name] if total else
                                       self.numbers[fmt_name])
                    else:
                        ws.write_number(first + i, c, float(value), self.bold_numbers[fmt_name] if total else
                                        self.numbers[fmt_name])
                        widths[c] = max(widths[c], len(_shown_number(float(value), fmt_name)))
            last = first + len(frame) - 2  # the totals line is not charted
            r = first + len(frame) + 1
            if table.chart and last >= first:
                r, used = self._charts(ws, table, first, last, header, r)
                charts_width = max(charts_width, used)
            r += 1
            blocks.append((top, r))
        if any(v.op == "within" for s in register.summaries for v in s.values) or any(
                m.op == "within" for m in register.figures):
            ws.merge_range(r, 0, r + 1, 7, RATE_NOTE, self.note)
        columns = {c: min(max(width + 2, 16 if c == 0 else 11), 40) for c, width in widths.items()}
        for c, width in columns.items():
            ws.set_column(c, c, width)
        ws.set_h_pagebreaks(page_breaks(blocks, max(charts_width, sum(w * 7 + 5 for w in columns.values()))))

    def _charts(self, ws, table: Table, first: int, last: int, header_row: int, row: int) -> int:
        """The table's charts under it, side by side: one chart per unit (件数, 比率, 天数, 金额…), so that
        counts, rates and amounts never share an axis. A trend of fewer than two months is drawn as columns
        (a line needs two points). Returns the row after the charts and their width in pixels."""
        sheet = ws.get_name()
        kind = table.chart
        points = last - first + 1
        if kind == "line" and points < 2:
            kind = "column"
        values = [(i, name) for i, name in enumerate(table.frame.columns) if i >= table.group_columns
                  and name != "合计"]
        by_unit: dict[str, list[int]] = {}
        for i, name in values:
            by_unit.setdefault(table.units.get(name, "件数"), []).append(i)
        groups = list(by_unit.items())[:1 if kind == "pie" else 3]
        width, height = (520, 300) if kind == "pie" else (420, 280)
        for n, (unit, columns) in enumerate(groups):
            chart = self.book.workbook.add_chart({"type": kind})
            rate = unit == "比率"
            for c in columns[:1] if kind == "pie" else columns:
                labels = {"value": True, "font": {"size": 8}}
                if kind == "pie":
                    labels = {"percentage": True, "category": True, "leader_lines": True, "font": {"size": 8},
                              "position": "best_fit"}
                elif kind == "column":
                    labels["position"] = "outside_end"
                if rate:
                    labels["num_format"] = "0.0%"
                chart.add_series({"name": [sheet, header_row, c], "categories": [sheet, first, 0, last, 0],
                                  "values": [sheet, first, c, last, c],
                                  "data_labels": labels if points * (1 if kind == "pie" else len(columns)) <= 12
                                  else {}})  # labels side by side over many columns would overlap
            title = table.title_zh if len(groups) == 1 else f"{table.title_zh}：{unit}"
            chart.set_title({"name": title, "name_font": {"size": 10}})
            chart.set_size({"width": width, "height": height})
            if kind != "pie":
                axis = {"name": unit, "name_font": {"size": 9}, "major_gridlines": {"visible": True}, "min": 0}
                if rate:
                    axis |= {"num_format": "0%", "min": 0, "max": 1}
                chart.set_y_axis(axis)
                chart.set_legend({"position": "bottom"} if len(columns) > 1 else {"none": True})
            else:
                chart.set_legend({"position": "right"})
            ws.insert_chart(row, 0, chart, {"x_offset": n * (width + 16), "y_offset": 4})
        return row + -(-height // 20) + 1, len(groups) * (width + 16)

    def records(self, register: Register, frame: pd.DataFrame) -> None:
        name = _sheet_name(register.name_zh, self.used)
        self.used.discard(name)
        for n in self.book.bulk_sheet(name, frame, _field_columns(register), title=register.name_zh, printed=False):
            self.used.add(n)

    def listing(self, title: str, frame: pd.DataFrame, labels: dict[str, str], numbers: tuple[str, ...] = (),
                widths: dict[str, float] | None = None) -> None:
        name = _sheet_name(title, self.used)
        self.used.discard(name)
        columns = _text_columns(labels, numbers, widths)
        _fit_widths(frame, columns)
        for n in self.book.bulk_sheet(name, frame, columns, title=title):
            self.used.add(n)

    def bulk_listing(self, title: str, frame: pd.DataFrame, columns: list[Column]) -> None:
        name = _sheet_name(title, self.used)
        self.used.discard(name)
        for n in self.book.bulk_sheet(name, frame, columns, title=title):
            self.used.add(n)

    def manifest(self, result: Consolidation) -> None:
        frame = pd.DataFrame([f.manifest() for f in result.files] or [dict.fromkeys(MANIFEST_LABELS)])
        frame = frame.reindex(columns=list(MANIFEST_LABELS))
        if len(result.files):
            frame["registers"] = frame["registers"].map(
                lambda ids: "、".join(result.registers[i].name_zh for i in ids) if isinstance(ids, list) else "")
            frame["status"] = frame["status"].map(STATUS_ZH)
            frame["kind"] = frame["kind"].map({"file": "文件", "folder": "文件夹"})
            frame["skipped"] = frame["skipped"].map(
                lambda counts: "；".join(f"{reason} {n}" for reason, n in counts.items()) if counts else "")
            frame["warnings"] = frame["warnings"].map(lambda texts: "\n".join(texts) if texts else "")
        self.listing("文件清单", frame, MANIFEST_LABELS,
                     ("rows_read", "rows_accepted", "rows_rejected", "rows_skipped"),
                     {"path": 32, "message": 40, "sha256": 20, "registers": 24, "skipped": 30, "warnings": 40})

    def close(self, kind: str, form: WorkbookMetadata | None = None) -> Path:
        """Finish the workbook. An output is marked so that no later run reads it; a ``form`` (the store's
        overdue workbook, to be answered and sent back) carries the metadata a store's register does."""
        meta = self.book.add_sheet(METADATA_SHEET)
        for r, row in enumerate(metadata_rows(form) if form is not None else output_rows(kind)):
            meta.write_row(r, 0, row)
        meta.very_hidden()
        return self.book.close()


def _item_labels() -> dict[str, str]:
    return {k: ITEM_LABELS_ZH[k] for k in ITEM_COLUMNS if k in ITEM_LABELS_ZH}


CARE_LABELS = {"register_name": "登记表", "store_code": "门店编号", "store_name": "门店名称", "key": "编号",
               "customer": "客户", "phone": "联系电话", "owner": "负责人", "rule_name": "事项", "date": "日期",
               "days_until": "还有几天", "source_file": "来源文件", "source_sheet": "工作表", "source_row": "行号"}
ITEM_WIDTHS = {"register_name": 14, "key": 16, "customer": 10, "owner": 9, "rule_name": 20, "due_date": 11,
               "due_time": 7, "source_file": 36, "status": 8, "reply": 30, "reply_note": 20, "phone": 14,
               "data_error": 12}
REPLY_LABELS = {"reply": "处理情况", "reply_note": "备注"}  # filled in by the store and sent back
STORE_COLUMNS = ("store_code", "store_name")
COVER_WIDTHS = (16, 22, 12, 12, 50, 12, 10)  # the overdue workbook's 说明 sheet
REPLY_WORKING_DAYS = 3
ANSWERED_SHEETS = ("逾期清单", "即将到期")  # the sheets of a store's overdue workbook it answers on  # a store answers its list within three working days


def _dated(frame: pd.DataFrame, soon: bool = False) -> pd.DataFrame:
    """A list with its due moment as a date cell (应完成日期) and, for deadlines counted in hours or
    minutes, a time-of-day cell (时刻); 即将到期 counts the days left as a positive 还有几天."""
    moments = pd.to_datetime(frame["due"], errors="coerce", format="mixed")
    timed = frame["due"].astype("string").str.contains(":", regex=False).fillna(False).astype(bool)
    out = frame.assign(due_date=moments.dt.normalize(),
                       due_time=(moments.dt.hour * 60 + moments.dt.minute).where(timed))
    if soon:
        out["days_until"] = -out["days_overdue"]
    return out


def _list_columns(frame: pd.DataFrame, kind: str, own_store: bool, replies: bool) -> tuple[list[Column], list[str]]:
    """The columns of an item list (逾期清单, 即将到期, 暂停中): dates as date cells, the store's own list
    without its store columns, and the 处理情况/备注 columns a store fills in and sends back."""
    labels = _item_labels()
    labels = {k: v for k, v in labels.items() if k != "due"}
    order = list(labels)
    at = order.index("rule_name") + 1
    order[at:at] = ["due_date", "due_time"]
    labels |= {"due_date": "应完成日期", "due_time": "时刻"}
    if kind == "soon":
        order[order.index("days_overdue")] = "days_until"
        labels["days_until"] = "还有几天"
    if kind == "paused":
        order.insert(order.index("days_overdue") + 1, "since")
        labels |= {"since": "暂停起始", "days_overdue": "已过应完成日天数"}
    if own_store:
        order = [k for k in order if k not in STORE_COLUMNS]
    if replies:
        order[order.index("feedback") + 1:order.index("feedback") + 1] = list(REPLY_LABELS)
        labels |= REPLY_LABELS
    columns = []
    for k in order:
        width = ITEM_WIDTHS.get(k, max(display_width(labels[k]) + 4, 10))
        if k == "due_date":
            columns.append(Column(k, labels[k], "date", "yyyy-mm-dd", width))
        elif k == "due_time":
            columns.append(Column(k, labels[k], "time_minutes", "hh:mm", width))
        elif k in ("days_overdue", "days_until", "source_row"):
            columns.append(Column(k, labels[k], "number", "0", width))
        else:
            columns.append(Column(k, labels[k], "text", None, width, wrap=width >= WRAP_WIDTH))
    _fit_widths(frame, columns)
    return columns, order


def write_lists(writer: SummaryWriter, lists: OverdueLists, own_store: bool = False) -> None:
    """The item lists and the care list. A store's own workbook (``own_store``) is sorted by register,
    owner and days overdue, leaves out the store columns and has 处理情况/备注 columns to fill in."""
    def listing(title: str, frame: pd.DataFrame, kind: str) -> None:
        frame = _dated(frame, soon=kind == "soon")
        if own_store:
            by = ["register", "owner", "days_until" if kind == "soon" else "days_overdue"]
            frame = frame.sort_values(by, ascending=[True, True, kind == "soon"], kind="stable")
            frame = frame.assign(reply="", reply_note="")
        columns, order = _list_columns(frame, kind, own_store, replies=own_store and kind != "paused")
        writer.bulk_listing(title, frame.reindex(columns=order), columns)

    listing("逾期清单", lists.items, "late")
    listing("即将到期", lists.due_soon, "soon")
    care = {k: CARE_LABELS[k] for k in CARE_COLUMNS if k in CARE_LABELS and not (own_store and k in STORE_COLUMNS)}
    writer.listing("客户关怀", lists.care, care, ("days_until", "source_row"), ITEM_WIDTHS)
    if not lists.paused.empty:  # clocks standing still: apart from the overdue ones, with since when
        listing("暂停中", lists.paused, "paused")


def write_summary(path: Path | str, result: Consolidation, lists: OverdueLists, month: pd.Period | None,
                  config: Config | None = None, previous: Path | str | dict | None = None) -> Path:
    """The month's summary workbook (see the module docstring for its sheets)."""
    writer = SummaryWriter(path)
    rows = overview_rows(result, lists, month, config)
    notes = ["说明：「记录数」为去重后接收的记录；有错误的行不计入，列在「问题数据」中。"
             "「逾期」「未结」按各登记表定义的时限规则计算。",
             PRINT_NOTE] + lists.notes_zh
    writer.overview(rows, month, lists.as_of, result, (read_previous(previous) if isinstance(previous, str | Path) else previous), notes)
    for reg_id, register in result.registers.items():
        records = result.records[reg_id]
        if records.empty or not register.summaries:
            continue
        writer.statistics(register, [summary_table(records, register, s, month, lists.as_of)
                                     for s in register.summaries])
    write_lists(writer, lists)
    writer.listing("问题数据", result.rejected, REJECTED_LABELS, ("source_row",),
                   {"source_file": 28, "reason_zh": 40, "reason_en": 40, "key": 16})
    findings = result.findings.reindex(columns=list(FINDING_LABELS))
    findings["severity"] = findings["severity"].map({"error": "错误", "warning": "警告"})
    writer.listing("问题明细", findings, FINDING_LABELS, ("row",),
                   {"file": 28, "message_zh": 40, "message_en": 40, "value": 16})
    writer.manifest(result)
    for reg_id, register in result.registers.items():
        if not result.records[reg_id].empty:
            writer.records(register, result.records[reg_id])
    return writer.close("summary")


def write_overdue_book(path: Path | str, lists: OverdueLists, title: str, store: tuple[str, str] | None = None,
                       answers: Register | None = None) -> Path:
    """One store's (or owner's) overdue, due-soon and care lists, ready to email: a cover (说明) saying what
    is late by register and rule and by owner, the oldest items, what to do and by when, and what each
    rule means; then the lists, with 处理情况/备注 columns to fill in and send back. ``store`` (code, name)
    names the store whose own list this is (its store columns are then left out); with ``answers`` (the
    answer-form register) the workbook is that register's form: sent back, its answers are read."""
    writer = SummaryWriter(path)
    ws = writer.sheet("说明")
    ws.hide_gridlines(2)
    bold = writer.book.format(bold=True, font_size=12)
    wrap = writer.book.format(text_wrap=True, valign="top", border=1)
    ws.write(0, 0, title, writer.title)
    reply_by = WorkdayCalendar().add_workdays(lists.as_of, REPLY_WORKING_DAYS)
    ws.write(1, 0, (f"门店：{' '.join(store)}；" if store else "") + f"统计截至 {lists.as_of:%Y-%m-%d}",
             writer.subtitle)
    ws.write(2, 0, f"逾期 {len(lists.items)} 项；即将到期 {len(lists.due_soon)} 项；客户关怀 {len(lists.care)} 项"
             + (f"；暂停中 {len(lists.paused)} 项" if len(lists.paused) else ""), bold)
    ws.merge_range(3, 0, 4, 6, f"请各负责人按「逾期清单」「即将到期」逐项处理，处理后在「处理情况」列填写结果（如已联系客户、"
                   f"已上门维修、已结案），需要说明的写在「备注」列，于 {reply_by:%Y-%m-%d} 前将本工作簿回传总部。"
                   "同时在原登记表中补填完成日期或更新状态，下次汇总时这些事项就不再列为逾期。", wrap)
    ws.set_row(3, 30)
    ws.set_row(4, 30)
    r = 6
    late = lists.items.groupby(["register", "register_name", "rule", "rule_name"], sort=False).size()
    soon = lists.due_soon.groupby(["register", "register_name", "rule", "rule_name"], sort=False).size()
    by_rule = pd.concat([late.rename("late"), soon.rename("soon")], axis=1).fillna(0).astype(int).sort_index()
    r = _cover_table(writer, ws, r, "按登记表和规则", ["登记表", "规则", "逾期", "即将到期", "规则说明"],
                     [[reg_name, rule_name, row.late, row.soon, lists.rules_zh.get((reg, rule), "")]
                      for (reg, reg_name, rule, rule_name), row in by_rule.iterrows()], wrap)
    owners = pd.concat([lists.items["owner"].fillna("").value_counts().rename("late"),
                        lists.due_soon["owner"].fillna("").value_counts().rename("soon")], axis=1).fillna(0)
    owners = owners.astype(int).sort_values(["late", "soon"], ascending=False)
    r = _cover_table(writer, ws, r, "按负责人", ["负责人", "逾期", "即将到期"],
                     [[owner or "（未指定负责人）", row.late, row.soon] for owner, row in owners.iterrows()], wrap)
    oldest = lists.items.sort_values("days_overdue", ascending=False, kind="stable").head(3)
    r = _cover_table(writer, ws, r, "逾期最久的三项", ["登记表", "编号", "客户", "负责人", "规则", "应完成", "逾期天数"],
                     [[i.register_name, i.key, i.customer, i.owner, i.rule_name, i.due, int(i.days_overdue)]
                      for i in oldest.itertuples()], wrap)
    for note in lists.notes_zh:
        ws.merge_range(r, 0, r, 6, note, writer.note)
        r += 1
    for c, width in enumerate(COVER_WIDTHS):
        ws.set_column(c, c, width)
    write_lists(writer, lists, own_store=store is not None)
    form = None
    if store is not None and answers is not None:
        form = WorkbookMetadata(store[0], store[1], {name: (answers.id, answers.version) for name in ANSWERED_SHEETS})
    return writer.close("overdue", form)


def _cover_table(writer: SummaryWriter, ws, row: int, title: str, header: list[str], rows: list[list],
                 wrap) -> int:
    """A small table on the cover; returns the row after it (and a blank line)."""
    ws.write(row, 0, title, writer.book.format(bold=True, font_size=12))
    ws.write_row(row + 1, 0, header, writer.head)
    r = row + 2
    if not rows:
        ws.write(r, 0, "（无）", writer.cell)
        return r + 2
    for values in rows:
        lines = 1
        for c, value in enumerate(values):
            if isinstance(value, numbers.Number) and not isinstance(value, bool):
                ws.write_number(r, c, float(value), writer.top_integer)
            else:
                text = "" if value is None or value is pd.NA else str(value)
                ws.write_string(r, c, text, wrap)
                # LibreOffice and Excel wrap Chinese text a little before the column's nominal width
                lines = max(lines, math.ceil(display_width(text) / (COVER_WIDTHS[c] * 0.85)))
        if lines > 1:
            ws.set_row(r, 15 * min(lines, 6))
        r += 1
    return r + 1


def write_overdue_books(out_dir: Path | str, lists: OverdueLists, stores: dict[str, str],
                        split_by: str | None, answers: Register | None = None) -> list[Path]:
    """The overdue workbooks of a run: one in all, or one per store (``<code>_<store>_逾期清单_<date>.xlsx``),
    or one per store and owner. Every store gets its workbook, even with nothing overdue. A set of lists is
    written whole or not at all (see files.staged_folder)."""
    out_dir = Path(out_dir)
    stamp = f"{lists.as_of:%Y-%m-%d}"
    if split_by is None:
        return [write_overdue_book(out_dir / f"逾期清单_{stamp}.xlsx", lists, f"逾期清单 {stamp}")]
    names: list[str] = []
    used: set[str] = set()
    with staged_folder(out_dir) as staging:
        for code, name in stores.items():
            mine = lists.for_store(code)
            store = file_part(f"{code}_{name}")
            if split_by == "store":
                file = unique_name(f"{store}_逾期清单_{stamp}.xlsx", used)
                write_overdue_book(staging / file, mine, f"{name} 逾期清单 {stamp}", (code, name), answers)
                names.append(file)
                continue
            owners = sorted(set(mine.items["owner"]) | set(mine.due_soon["owner"]) | set(mine.care["owner"]))
            for owner in owners:
                label = owner or "未指定负责人"
                file = unique_name(f"{store}_{file_part(label)}_逾期清单_{stamp}.xlsx", used)
                write_overdue_book(staging / file, mine.for_owner(owner), f"{name} {label} 逾期清单 {stamp}",
                                   (code, name), answers)
                names.append(file)
    return [out_dir / file for file in names]
