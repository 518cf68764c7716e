"""CSV files as register sheets: what a store's till, CRM or booking system exports, and Excel's "CSV" and
"Unicode text" saves.

Such a file is one sheet, named after the file. Its cells are text as written, so dates, phones and
amounts are parsed from text the way typed text is. Chinese Windows writes GBK or GB18030 and Excel's
Unicode text writes UTF-16 with tabs. The encoding is told by the bytes (BOM, strict UTF-8, else GB18030)
and the separator by the lines themselves. Bytes that fit no encoding and cells beyond the column
limit are said, never dropped silently.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

CSV_SUFFIXES = (".csv", ".tsv")
_SEPARATORS = (",", "\t", ";", "|")
_SNIFF_LINES = 30


@dataclass
class CsvTable:
    """The file's rows, each padded to one width, given one at a time (a tall file is made text block by block,
    like a tall sheet); how many there are; and what reading it changed, as (zh, en) notes."""

    rows: Iterator[list[str]]
    count: int
    width: int
    notes: list[tuple[str, str]] = field(default_factory=list)


def decode(data: bytes) -> tuple[str, tuple[str, str] | None]:
    """The text of a CSV file, and a note when some bytes fit no encoding (shown as U+FFFD)."""
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                          (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            body = data[len(bom):]
            try:
                return body.decode(encoding), None
            except UnicodeDecodeError:
                return body.decode(encoding, "replace"), _UNREADABLE
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding), None
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", "replace"), _UNREADABLE


_UNREADABLE = ("文件中有无法识别编码的字节，已显示为 �，请核对（建议另存为 UTF-8 或 .xlsx）",
               "some bytes of the file fit no text encoding and are shown as �; check them (save as UTF-8 or .xlsx)")


def separator(text: str) -> str:
    """The separator that splits the first lines into the most columns, alike on most lines (',' when none)."""
    head = text[:65536].splitlines()[:_SNIFF_LINES]
    best, best_width = ",", 1
    for candidate in _SEPARATORS:
        widths = Counter(len(r) for r in csv.reader(head, delimiter=candidate) if any(c.strip() for c in r))
        if widths:
            width = widths.most_common(1)[0][0]
            if width > best_width:
                best, best_width = candidate, width
    return best


def _rows(text: str, sep: str) -> Iterator[list[str]]:
    return csv.reader(io.StringIO(text.replace("\0", ""), newline=""), delimiter=sep)


def read_table(data: bytes, max_columns: int) -> CsvTable:
    """The rows of a CSV file, every row as wide as the widest (up to ``max_columns``): one pass to measure
    them, a second to give them. Raises csv.Error for a file the csv module cannot split."""
    text, unreadable = decode(data)
    notes = [unreadable] if unreadable else []
    if "\0" in text:
        notes.append(("文件中有空字符（NUL），已去掉", "the file holds NUL characters; they were removed"))
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    sep = separator(text)
    count = widest = beyond = 0
    for row in _rows(text, sep):
        count += 1
        widest = max(widest, len(row))
        if len(row) > max_columns:
            beyond += sum(1 for c in row[max_columns:] if c.strip())
    width = min(widest, max_columns)
    if beyond:
        notes.append((f"第 {max_columns} 列以右的 {beyond} 个非空单元格未读取（列数上限 {max_columns}）",
                      f"{beyond} non-empty cell(s) right of column {max_columns} were not read (the column limit)"))

    def padded() -> Iterator[list[str]]:
        for row in _rows(text, sep):
            yield row[:width] + [""] * (width - len(row)) if len(row) != width else row

    return CsvTable(padded(), count, width, notes)
