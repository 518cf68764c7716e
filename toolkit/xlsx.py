"""Writing new workbooks: XlsxWriter for everything people look at, a fast path for bulk data.

XlsxWriter writes about 110,000 cells a second here, which makes a month of a large chain's
records (millions of cells) the slow half of the job. So a bulk data sheet is laid out by XlsxWriter
as usual (header, Excel Table, column formats, widths, frozen header) with one sample row whose cells
carry each column's format; after XlsxWriter has finished, the sample row is replaced by the real
rows, generated column by column with vectorised string operations, and the workbook is re-zipped.
The cell styles are taken from the sample row XlsxWriter wrote, so formats stay XlsxWriter's own.
Text goes into the shared strings table, as Excel writes it (a store name repeated on 100,000 rows is
stored once), and the bulk sheets are compressed with ISA-L's deflate, about 3× faster than zlib.

All of this sits behind ``Book``; whichever writer carries the bulk rows can change here alone.
"""

from __future__ import annotations

import os
import re
import zipfile
import zlib
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import xlsxwriter
from isal import isal_zlib
from xlsxwriter.worksheet import Worksheet

from .coerce import arrow_strings
from .files import atomic_path
from .limits import EXCEL_MAX_TEXT
from .reader import column_letter

PAGE_FOOTER = "&L&A&R第 &P 页，共 &N 页"  # the sheet's name and page numbers on every printed page
EXCEL_MAX_ROWS = 1_048_576
CHUNK_ROWS = 20_000
BUILDERS = max(1, min(4, os.cpu_count() or 1))  # threads building blocks of rows
_EPOCH = pd.Timestamp("1899-12-30")
_ILLEGAL_XML = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"  # RE2 syntax: run by Arrow's kernels
_NEEDS_ESCAPE = r"[&<>\x00-\x08\x0b\x0c\x0e-\x1f]|_x[0-9A-Fa-f]{4}_"
_CONTROL = [chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20))]
_SAMPLE_ROW = re.compile(rb'<row r="2"[^>]*>.*?</row>', re.S)
_CELL_STYLE = re.compile(rb'<c (?:(?=[^>]*\bs="(\d+)"))?[^>]*>')  # each cell's style index, b"" if none
_DIMENSION = re.compile(rb'<dimension ref="[^"]*"/>')
_TABLE_REF = re.compile(rb' ref="[^"]*"')
_SST_COUNTS = re.compile(rb'count="(\d+)" uniqueCount="(\d+)"')
_SHARED_STRINGS = "xl/sharedStrings.xml"


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
    wrap: bool = False  # long text (reasons, messages) wraps in its fixed width instead of shrinking the page


@dataclass
class _Bulk:
    sheet_index: int
    frame: pd.DataFrame
    columns: list[Column]
    table: str
    encoded: dict[int, Future]  # text columns' dictionary encoding (see _encode_text), started early

    @property
    def last_cell(self) -> str:
        return f"{column_letter(len(self.columns) - 1)}{max(len(self.frame), 1) + 1}"


def _arrow_text(values: pd.Series) -> pa.Array:
    """A column as an Arrow string array, null where the cell stays empty; text longer than a cell holds
    is cut to Excel's limit (the check reported it; exports keep the whole text)."""
    arr = arrow_strings(values)
    if pc.any(pc.greater(pc.utf8_length(arr), EXCEL_MAX_TEXT)).as_py():
        arr = pc.utf8_slice_codeunits(arr, 0, EXCEL_MAX_TEXT)
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)


def _escape(text: pa.Array) -> pa.Array:
    """XML-escaped text, as Excel writes it: control characters, which XML cannot hold, as ``_xHHHH_``,
    and text that already looks like such an escape with its underscore escaped (``_x005F_x0041_``), so
    that it reads back as typed. The replacements run only when some cell needs one (most never do)."""
    if not pc.any(pc.match_substring_regex(text, _NEEDS_ESCAPE)).as_py():
        return text
    text = pc.replace_substring_regex(text, r"(_x[0-9A-Fa-f]{4}_)", r"_x005F\1")
    if pc.any(pc.match_substring_regex(text, _ILLEGAL_XML)).as_py():
        for char in _CONTROL:
            text = pc.replace_substring(text, char, f"_x{ord(char):04X}_")
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


def _cells(values: pd.Series, column: Column, letter: str, rows: pa.Array, style: str,
           strings: pa.Array | None) -> pa.Array:
    """Each row's cell XML for one column (null for an empty cell, which is simply left out).

    Text cells refer to the workbook's shared strings (``strings``: each row's number in the table), as
    Excel itself writes them: a repeated store name or option costs a few bytes per cell instead of its text.
    """
    if strings is not None:
        return pc.binary_join_element_wise(f'<c r="{letter}', rows, f'"{style} t="s"><v>',
                                           pc.cast(strings, pa.string()), "</v></c>", "")
    return pc.binary_join_element_wise(f'<c r="{letter}', rows, f'"{style}><v>',
                                       _number_text(_serials(values, column.kind)), "</v></c>", "")


def shown_widths(text: pa.Array) -> np.ndarray:
    """Each text's width in Excel's column units, CJK and full-width characters counting two: such a
    character is three bytes in UTF-8, so the extra bytes count it (no regex per cell)."""
    text = pc.fill_null(text, "")
    chars = pc.utf8_length(text).to_numpy(zero_copy_only=False)
    return chars + (pc.binary_length(text).to_numpy(zero_copy_only=False) - chars) / 2


def _wrapped_lines(values: pd.Series, width: float) -> np.ndarray:
    """How many lines each text takes wrapped in a column ``width`` characters wide, counting its own line
    breaks: a rough count, as Excel's own wrapping depends on the font."""
    text = pc.fill_null(_arrow_text(values), "")
    breaks = pc.count_substring(text, "\n").to_numpy(zero_copy_only=False)
    return np.maximum(1, np.ceil(shown_widths(text) / max(width * 1.1, 1))) + breaks


def _row_heights(frame: pd.DataFrame, columns: list[Column]) -> pa.Array | str:
    """Each row's height attribute: rows whose wrapped text needs more than one line are made tall enough
    for it (at most 8 lines), as neither Excel nor LibreOffice fits a row's height when opening a file."""
    wrapped = [c for c in columns if c.wrap and c.kind == "text"]
    if not wrapped or frame.empty:
        return ""
    lines = np.minimum(np.max([_wrapped_lines(frame[c.name], c.width) for c in wrapped], axis=0), 8).astype(np.int64)
    heights = pc.cast(pa.array(lines * 15), pa.string())
    attr = pc.binary_join_element_wise(' ht="', heights, '" customHeight="1"', "")
    return pc.if_else(pa.array(lines > 1), attr, pa.scalar("", pa.string()))


def _rows_xml(frame: pd.DataFrame, columns: list[Column], styles: list[str], first_row: int,
              strings: dict[int, pa.Array]) -> memoryview:
    """The ``<row>`` elements of a block of records, built column by column in Arrow's native kernels."""
    rows = pc.cast(pa.array(np.arange(first_row, first_row + len(frame))), pa.string())
    cells = [_cells(frame[c.name], c, column_letter(i), rows, styles[i], strings.get(i))
             for i, c in enumerate(columns)]
    lines = pc.binary_join_element_wise('<row r="', rows, '"', _row_heights(frame, columns), '>', *cells, "</row>", "",
                                        null_handling="replace", null_replacement="")
    return _buffer(lines)


def _buffer(texts: pa.Array) -> memoryview:
    """An Arrow string array keeps all its strings back to back in one buffer: that buffer, joined text."""
    offsets = np.frombuffer(texts.buffers()[1], dtype=np.int32)
    data = texts.buffers()[2]
    if data is None:
        return memoryview(b"")
    return memoryview(data)[offsets[texts.offset]:offsets[texts.offset + len(texts)]]


@dataclass
class _SharedText:
    """One bulk text column in shared-string form: per row an index into ``numbers``, which gives the
    string's number in the workbook's shared strings table."""

    indices: pa.Array
    numbers: pa.Array

    def block(self, start: int, length: int) -> pa.Array:
        return pc.take(self.numbers, self.indices.slice(start, length))


def _encode_text(values: pd.Series) -> pa.DictionaryArray:
    """A text column's distinct strings and each row's number among them (null for an empty cell)."""
    return pc.dictionary_encode(_arrow_text(values))


def _shared_strings(bulks: list[_Bulk], first_number: int) -> tuple[dict[tuple[int, int], _SharedText], pa.Array]:
    """Every distinct text of the bulk sheets' text columns, once, numbered after XlsxWriter's own strings.

    Each column is dictionary-encoded once; the columns' dictionaries are encoded together so that a
    text found in several columns (a store name, an option) is stored once.
    """
    encoded = {(b.sheet_index, i): future.result() for b in bulks for i, future in b.encoded.items()}
    if not encoded:
        return {}, pa.array([], pa.string())
    together = pc.dictionary_encode(pa.concat_arrays([e.dictionary for e in encoded.values()]))
    numbers = pc.add(together.indices, pa.scalar(first_number, together.indices.type))
    shared, offset = {}, 0
    for key, e in encoded.items():
        shared[key] = _SharedText(e.indices, numbers.slice(offset, len(e.dictionary)))
        offset += len(e.dictionary)
    return shared, together.dictionary


def _add_shared_strings(xml: bytes, strings: pa.Array, references: int) -> bytes:
    """XlsxWriter's shared strings table with the bulk sheets' strings appended (and its counts raised)."""
    counts = _SST_COUNTS.search(xml)
    if counts is None:
        raise RuntimeError("xl/sharedStrings.xml: counts not found")
    count, unique = int(counts.group(1)), int(counts.group(2))
    head = xml[:counts.start()] + (f'count="{count + references}" uniqueCount="{unique + len(strings)}"'.encode()
                                   + xml[counts.end():xml.rindex(b"</sst>")])
    items = pc.binary_join_element_wise('<si><t xml:space="preserve">', _escape(strings), "</t></si>", "")
    return head + bytes(_buffer(items)) + b"</sst>"


def _fast_deflate(member: IO[bytes]) -> None:
    """Compress a bulk member with ISA-L's deflate (same format, about 3× faster than zlib at level 1:
    compression was the largest single cost of writing a month's records).

    zipfile has no public way to choose the compressor; its writer keeps it in ``_compressor``, set in
    the constructor and first used on the first write. Where that changes, zlib simply stays.
    """
    if isinstance(getattr(member, "_compressor", None), type(zlib.compressobj())):
        member._compressor = isal_zlib.compressobj(1, zlib.DEFLATED, -zlib.MAX_WBITS)


def _stretch_table(xml: bytes, tables: dict[bytes, _Bulk]) -> bytes:
    """A bulk sheet's Table definition, its range (and its filter's) widened to all the rows."""
    for name, b in tables.items():
        if name in xml:
            return _TABLE_REF.sub(f' ref="A1:{b.last_cell}"'.encode(), xml)
    return xml


def _unique_headers(columns: list[Column]) -> list[Column]:
    """An Excel Table's headers must differ (Excel repairs the file otherwise): a repeated one, such as a
    field 来源文件 beside the record's own 来源文件 column, is numbered 来源文件(2)."""
    seen: dict[str, int] = {}
    out = []
    for c in columns:
        n = seen.get(c.header.casefold(), 0) + 1
        seen[c.header.casefold()] = n
        out.append(c if n == 1 else Column(c.name, f"{c.header}({n})", c.kind, c.num_format, c.width, c.wrap))
    return out


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
        # bulk text columns are dictionary-encoded on a helper thread (Arrow's kernels release the GIL)
        # while the rest of the workbook is laid out
        self._encoder = ThreadPoolExecutor(1)

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
                   table_style: str = "Table Style Light 9", printed: bool = True) -> list[str]:
        """Records as an Excel Table; continues on ``name(2)``… beyond Excel's row limit. Returns the names.

        Every sheet prints on A4 landscape, one page wide, its header row on every page, the sheet's name
        and page numbers in the footer. A sheet of records that is for filtering, not for circulating
        (``printed=False``), has its header row as print area: printing the whole workbook gives one page
        of it; the rows chosen are printed with 打印选定区域 / Print Selection."""
        names = []
        per_sheet = EXCEL_MAX_ROWS - 1
        columns = _unique_headers(columns)
        parts = max(1, -(-len(frame) // per_sheet))
        for part in range(parts):
            sheet_name = name if part == 0 else f"{name[:27]}({part + 1})"
            chunk = frame.iloc[part * per_sheet:(part + 1) * per_sheet]
            ws = self.add_sheet(sheet_name)
            header = self.format(bold=True, bg_color="#DDEBF7", border=1, text_wrap=True, valign="vcenter")
            formats = [self.format(num_format=c.num_format, valign="top") if c.num_format else
                       self.format(text_wrap=True, valign="top") if c.wrap else self.format(valign="top")
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
            ws.set_footer(PAGE_FOOTER)
            if title:
                ws.set_header(f"&C{title}")
            if not printed:
                ws.print_area(0, 0, 0, len(columns) - 1)
            encoded = {i: self._encoder.submit(_encode_text, chunk[c.name])
                       for i, c in enumerate(columns) if c.kind == "text"}
            self._bulk.append(_Bulk(self._sheet_count, chunk, columns, table, encoded))
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
        finally:
            self._encoder.shutdown(cancel_futures=True)
        self._atomic.__exit__(None, None, None)
        return self.path

    def _fill_bulk(self) -> None:
        bulk = {f"xl/worksheets/sheet{b.sheet_index}.xml": b for b in self._bulk}
        tables = {f'name="{b.table}"'.encode(): b for b in self._bulk}
        filled = self._tmp.with_suffix(".fill")
        try:
            with zipfile.ZipFile(self._tmp) as src, zipfile.ZipFile(filled, "w", zipfile.ZIP_DEFLATED,
                                                                      compresslevel=1) as dst:
                names = set(src.namelist())
                sst = src.read(_SHARED_STRINGS) if _SHARED_STRINGS in names else b""
                counts = _SST_COUNTS.search(sst)
                shared, strings = _shared_strings(self._bulk, int(counts.group(2)) if counts else 0)
                if shared and not counts:  # the sample row's "-" always puts a table there
                    raise RuntimeError(f"{_SHARED_STRINGS} missing")
                for info in src.infolist():
                    data = src.read(info.filename)
                    if info.filename.startswith("xl/tables/"):
                        data = _stretch_table(data, tables)
                    elif info.filename == _SHARED_STRINGS and shared:
                        references = sum(len(t.indices) - t.indices.null_count for t in shared.values())
                        data = _add_shared_strings(data, strings, references)
                    if info.filename not in bulk:
                        with dst.open(info, "w", force_zip64=len(data) > zipfile.ZIP64_LIMIT) as out:
                            _fast_deflate(out)
                            out.write(data)
                        continue
                    b = bulk[info.filename]
                    mine = {i: t for (sheet, i), t in shared.items() if sheet == b.sheet_index}
                    self._write_bulk(dst, info.filename, data, b, mine)
            filled.replace(self._tmp)
        finally:
            filled.unlink(missing_ok=True)

    @staticmethod
    def _write_bulk(dst: zipfile.ZipFile, name: str, xml: bytes, b: _Bulk, shared: dict[int, _SharedText]) -> None:
        sample = _SAMPLE_ROW.search(xml)
        if sample is None:
            raise RuntimeError(f"{name}: XlsxWriter's sample row not found")
        styles = [f' s="{style.decode()}"' if style else "" for style in _CELL_STYLE.findall(sample.group(0))]
        head, tail = xml[:sample.start()], xml[sample.end():]
        head = _DIMENSION.sub(f'<dimension ref="A1:{b.last_cell}"/>'.encode(), head, count=1)
        with dst.open(name, "w", force_zip64=True) as out, ThreadPoolExecutor(BUILDERS) as builders:
            _fast_deflate(out)
            out.write(head)
            # blocks of rows are built ahead on helper threads while earlier ones are compressed and
            # written: Arrow's kernels and the compressor release the GIL, so all cores take part
            pending: deque = deque()
            for start in range(0, len(b.frame), CHUNK_ROWS):
                block = b.frame.iloc[start:start + CHUNK_ROWS]
                strings = {i: t.block(start, len(block)) for i, t in shared.items()}
                pending.append(builders.submit(_rows_xml, block, b.columns, styles, start + 2, strings))
                if len(pending) > BUILDERS:
                    out.write(pending.popleft().result())
            while pending:
                out.write(pending.popleft().result())
            out.write(tail)
