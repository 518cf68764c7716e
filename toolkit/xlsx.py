"""Writing new workbooks: XlsxWriter for everything people look at, a fast path for bulk data.

XlsxWriter writes about 110,000 cells a second here, which makes a month of a large chain's
records (millions of cells) the slow half of the job. So a bulk data sheet is laid out by XlsxWriter
as usual (header, Excel Table, column formats, widths, frozen header) with one sample row whose cells
carry each column's format; after XlsxWriter has finished, the sample row is replaced by the real
rows, generated column by column with vectorised string operations, and the workbook is re-zipped.
The cell styles are taken from the sample row XlsxWriter wrote, so formats stay XlsxWriter's own.

All of this sits behind ``Book``; whichever writer carries the bulk rows can change here alone.
"""

from __future__ import annotations

import re
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from .coerce import arrow_strings
from .files import atomic_path
from .reader import column_letter

EXCEL_MAX_ROWS = 1_048_576
CHUNK_ROWS = 20_000
_EPOCH = pd.Timestamp("1899-12-30")
_ILLEGAL_XML = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"  # RE2 syntax: run by Arrow's kernels
_NEEDS_ESCAPE = r"[&<>\x00-\x08\x0b\x0c\x0e-\x1f]"
_SAMPLE_ROW = re.compile(rb'<row r="2"[^>]*>.*?</row>', re.S)
_CELL_STYLE = re.compile(rb'<c (?:(?=[^>]*\bs="(\d+)"))?[^>]*>')  # each cell's style index, b"" if none
_DIMENSION = re.compile(rb'<dimension ref="[^"]*"/>')
_TABLE_REF = re.compile(rb' ref="[^"]*"')


def sheet_title(text: str) -> str:
    """A sheet name Excel accepts: without []:*?/\\ and at most 31 characters."""
    return re.sub(r"[\[\]:*?/\\]", "", text)[:31]


@dataclass
class Column:
    """A bulk data column: its header, its kind of value and its Excel number format."""

    name: str  # the frame's column
    header: str
    kind: str  # text | number | date | datetime | time_minutes
    num_format: str | None = None
    width: float = 12


@dataclass
class _Bulk:
    sheet_index: int
    frame: pd.DataFrame
    columns: list[Column]
    table: str

    @property
    def last_cell(self) -> str:
        return f"{column_letter(len(self.columns) - 1)}{max(len(self.frame), 1) + 1}"


def _arrow_text(values: pd.Series) -> pa.Array:
    """A column as an Arrow string array, null where the cell stays empty."""
    arr = arrow_strings(values)
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)


def _escape(text: pa.Array) -> pa.Array:
    """XML-escaped text; the replacements run only when some cell needs one (most never do)."""
    if not pc.any(pc.match_substring_regex(text, _NEEDS_ESCAPE)).as_py():
        return text
    text = pc.replace_substring_regex(text, _ILLEGAL_XML, "")
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        text = pc.replace_substring(text, char, entity)
    return text


def _serials(values: pd.Series, kind: str) -> pd.Series:
    """Excel's numbers for a column: day serials for dates, fractions of a day for times of day."""
    if kind in ("date", "datetime"):
        moments = pd.to_datetime(values, errors="coerce")
        return (moments - _EPOCH) / pd.Timedelta(days=1)
    if kind == "time_minutes":
        return pd.to_numeric(values, errors="coerce") / 1440
    return pd.to_numeric(values, errors="coerce")


def _number_text(numbers: pd.Series) -> pa.Array:
    """Shortest round-tripping text of each number (whole numbers without '.0'); null when missing."""
    arr = numbers.to_numpy(dtype="float64", na_value=np.nan)
    return pc.cast(pa.array(arr, mask=~np.isfinite(arr)), pa.string())


def _cells(values: pd.Series, column: Column, letter: str, rows: pa.Array, style: str) -> pa.Array:
    """Each row's cell XML for one column (null for an empty cell, which is simply left out)."""
    if column.kind == "text":
        return pc.binary_join_element_wise(f'<c r="{letter}', rows, f'"{style} t="inlineStr"><is><t xml:space="preserve">',
                                           _escape(_arrow_text(values)), "</t></is></c>", "")
    return pc.binary_join_element_wise(f'<c r="{letter}', rows, f'"{style}><v>',
                                       _number_text(_serials(values, column.kind)), "</v></c>", "")


def _rows_xml(frame: pd.DataFrame, columns: list[Column], styles: list[str], first_row: int) -> memoryview:
    """The ``<row>`` elements of a block of records, built column by column in Arrow's native kernels."""
    rows = pc.cast(pa.array(np.arange(first_row, first_row + len(frame))), pa.string())
    cells = [_cells(frame[c.name], c, column_letter(i), rows, styles[i]) for i, c in enumerate(columns)]
    lines = pc.binary_join_element_wise('<row r="', rows, '">', *cells, "</row>", "",
                                        null_handling="replace", null_replacement="")
    # an Arrow string array keeps all its strings back to back in one buffer: that buffer is the XML
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)
    data = lines.buffers()[2]
    if data is None:
        return memoryview(b"")
    return memoryview(data)[offsets[lines.offset]:offsets[lines.offset + len(lines)]]


def _stretch_table(xml: bytes, tables: dict[bytes, _Bulk]) -> bytes:
    """A bulk sheet's Table definition, its range (and its filter's) widened to all the rows."""
    for name, b in tables.items():
        if name in xml:
            return _TABLE_REF.sub(f' ref="A1:{b.last_cell}"'.encode(), xml)
    return xml


class Book:
    """A new workbook: XlsxWriter's worksheets for layout, ``bulk_sheet`` for large record tables."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._atomic = atomic_path(self.path)
        self._tmp = self._atomic.__enter__()
        self.workbook = xlsxwriter.Workbook(str(self._tmp), {"strings_to_numbers": False,
                                                               "strings_to_formulas": False,
                                                               "strings_to_urls": False})
        self.workbook.set_properties({"created": pd.Timestamp("2000-01-01").to_pydatetime()})
        self._bulk: list[_Bulk] = []
        self._formats: dict[tuple, object] = {}
        self._sheet_count = 0

    def format(self, **props) -> object:
        """One shared Format per set of properties (XlsxWriter keeps every Format it is given)."""
        key = tuple(sorted(props.items()))
        if key not in self._formats:
            self._formats[key] = self.workbook.add_format(props)
        return self._formats[key]

    def add_sheet(self, name: str) -> Worksheet:
        self._sheet_count += 1
        return self.workbook.add_worksheet(name)

    def bulk_sheet(self, name: str, frame: pd.DataFrame, columns: list[Column], title: str | None = None,
                   table_style: str = "Table Style Light 9") -> list[str]:
        """Records as an Excel Table; continues on ``name(2)``… beyond Excel's row limit. Returns the names."""
        names = []
        per_sheet = EXCEL_MAX_ROWS - 1
        parts = max(1, -(-len(frame) // per_sheet))
        for part in range(parts):
            sheet_name = name if part == 0 else f"{name[:27]}({part + 1})"
            chunk = frame.iloc[part * per_sheet:(part + 1) * per_sheet]
            ws = self.add_sheet(sheet_name)
            header = self.format(bold=True, bg_color="#DDEBF7", border=1, text_wrap=True, valign="vcenter")
            formats = [self.format(num_format=c.num_format) if c.num_format else self.format(font_size=11)
                       for c in columns]
            table = f"Records_{self._sheet_count}"
            # the Table covers the sample row here and is stretched over the real rows in _fill_bulk
            # (XlsxWriter would otherwise remember every cell of a large table, in time and memory)
            ws.add_table(0, 0, 1, len(columns) - 1, {
                "name": table, "style": table_style,
                # column formats come from set_column: a table column "format" makes XlsxWriter store a
                # formatted blank cell for every row, which costs time and memory for nothing here
                "columns": [{"header": c.header, "header_format": header} for c in columns],
            })
            for i, (c, f) in enumerate(zip(columns, formats, strict=True)):
                ws.set_column(i, i, c.width, f)
                ws.write(1, i, 0 if c.kind != "text" else "-", f)
            ws.freeze_panes(1, 0)
            ws.set_row(0, 30)
            ws.set_landscape()
            ws.set_paper(9)
            ws.repeat_rows(0)
            ws.fit_to_pages(1, 0)
            ws.set_footer("&C&P / &N")
            if title:
                ws.set_header(f"&C{title}")
            self._bulk.append(_Bulk(self._sheet_count, chunk, columns, table))
            names.append(sheet_name)
        return names

    def close(self) -> Path:
        """Finish the workbook, put the bulk rows in, and move it into place atomically."""
        try:
            self.workbook.close()
            if self._bulk:
                self._fill_bulk()
        except BaseException as e:
            self._atomic.__exit__(type(e), e, e.__traceback__)
            raise
        self._atomic.__exit__(None, None, None)
        return self.path

    def _fill_bulk(self) -> None:
        bulk = {f"xl/worksheets/sheet{b.sheet_index}.xml": b for b in self._bulk}
        tables = {f'name="{b.table}"'.encode(): b for b in self._bulk}
        filled = self._tmp.with_suffix(".fill")
        try:
            with zipfile.ZipFile(self._tmp) as src, zipfile.ZipFile(filled, "w", zipfile.ZIP_DEFLATED,
                                                                      compresslevel=1) as dst:
                for info in src.infolist():
                    data = src.read(info.filename)
                    if info.filename.startswith("xl/tables/"):
                        data = _stretch_table(data, tables)
                    if info.filename not in bulk:
                        dst.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=6)
                        continue
                    self._write_bulk(dst, info.filename, data, bulk[info.filename])
            filled.replace(self._tmp)
        finally:
            filled.unlink(missing_ok=True)

    @staticmethod
    def _write_bulk(dst: zipfile.ZipFile, name: str, xml: bytes, b: _Bulk) -> None:
        sample = _SAMPLE_ROW.search(xml)
        if sample is None:
            raise RuntimeError(f"{name}: XlsxWriter's sample row not found")
        styles = [f' s="{style.decode()}"' if style else "" for style in _CELL_STYLE.findall(sample.group(0))]
        head, tail = xml[:sample.start()], xml[sample.end():]
        head = _DIMENSION.sub(f'<dimension ref="A1:{b.last_cell}"/>'.encode(), head, count=1)
        with dst.open(name, "w", force_zip64=True) as out, ThreadPoolExecutor(1) as helper:
            out.write(head)
            # the next block of rows is built while this one is compressed: Arrow's kernels and zlib both
            # release the GIL, so the two run on two cores
            pending = None
            for start in range(0, len(b.frame), CHUNK_ROWS):
                block = helper.submit(_rows_xml, b.frame.iloc[start:start + CHUNK_ROWS], b.columns, styles, start + 2)
                if pending is not None:
                    out.write(pending.result())
                pending = block
            if pending is not None:
                out.write(pending.result())
            out.write(tail)
