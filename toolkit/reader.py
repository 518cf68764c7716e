"""Reading the workbooks staff actually send.

A workbook may hold several register sheets beside an instructions sheet, a title row above the
header, renamed or traditional-character headers, blank rows and signature lines under the table.
The reader finds each register sheet (by the template's hidden metadata, else by its headers),
finds the header row, maps the columns to field keys and parses every column into its type.
Every row of the sheet is accounted for: it is a record, or a skipped blank/footer row with a reason.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import numpy as np
import olefile
import pandas as pd
import python_calamine as calamine

from .archives import is_archive, member_of, read_member
from .coerce import Parsed, as_text, parse_text_column, re2, with_area_code
from .csvfiles import CSV_SUFFIXES, read_table
from .definitions import NOT_APPLICABLE, RESERVED_FIELD_KEYS, Register
from .files import is_temporary_name
from .headers import (  # noqa: F401
    HEADER_SCAN_ROWS,
    MIN_HEADER_MATCHES,
    HeaderMatch,
    Merges,
    column_letter,
    find_header,
    header_key,
    header_lookup,
    is_row_number_header,
)
from .inputs import InputPath, archive_inputs, os_error_reason, shown, walk_inputs
from .limits import DEFAULT_LIMITS, Limits
from .metadata import LISTS_SHEET, METADATA_SHEET, WorkbookMetadata, parse_metadata
from .recognise import recognise
from .survey import Survey, survey_workbook

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xltx", ".xltm", ".xlsb", ".xls", ".ods")
WPS_SUFFIXES = (".et", ".ett")
EMPTY_FILE = ("文件为空（0字节），请重新保存后提交", "the file is empty (0 bytes); save it again and resubmit")
ANNOTATED_SUFFIX = "_校验结果"  # an annotated copy: read as the store's workbook (a clerk corrects and sends it)
ANNOTATION_SHEET = "校验结果"  # the check results written into a copy or by the workbook's button: not a register

_FOOTER_RE = re.compile(
    r"^\s*(制表|填表|填报|审核|审批|复核|批准|核准|签字|签名|确认|负责人|店长|经理|主管|日期|时间|注|说明|备注)"
    r"[^\d:：]{0,6}[:：]"
)
_TOTAL_RE = re.compile(r"^\s*(合\s*计|总\s*计|小\s*计)\s*[:：]?")


@dataclass
class SheetRead:
    """One register sheet: typed records with their Excel row numbers, and how the sheet was understood."""

    file: str
    sheet: str
    register: Register
    header_row: int  # Excel's row number of the header
    columns: dict[str, int]
    headers: dict[str, str]  # field key -> header text as typed
    extra_columns: dict[str, int]  # header text -> column
    duplicate_columns: dict[str, int]  # header text -> column (a second column for the same field)
    missing_fields: list[str]
    raw: pd.DataFrame  # field keys (+ extra headers), values as read (when kept); index = Excel row numbers
    text: pd.DataFrame  # field keys, the values as text ('' when empty); same index
    data: pd.DataFrame  # field keys, typed; same index
    bad: pd.DataFrame  # field keys, True where a value could not be read as its type
    guessed: pd.DataFrame  # field keys, True where a value was read by an assumption
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (Excel row, reason)
    formula_errors: pd.DataFrame | None = None  # field keys with a formula error somewhere: the error, else ''
    detected_by: str = "headers"
    why: tuple[str, str] = ("", "")  # why it was read as its register: matched and missing columns
    store_code: str | None = None
    store_name: str | None = None
    origin: pd.DataFrame | None = None  # for a sheet put together from several: file, sheet, row, part per row

    @property
    def rows_read(self) -> int:
        return len(self.data)

    def column_of(self, field_key: str) -> str:
        """Excel column letter of a field ('' when the sheet has no such column)."""
        col = self.columns.get(field_key)
        return column_letter(col) if col is not None else ""


@dataclass
class WorkbookRead:
    path: Path
    status: str  # ok | unusable | ignored
    message_zh: str = ""
    message_en: str = ""
    sheets: list[SheetRead] = field(default_factory=list)
    other_sheets: list[str] = field(default_factory=list)  # sheets that hold no register
    metadata: WorkbookMetadata | None = None
    notes: list[tuple[str, str, str]] = field(default_factory=list)  # (sheet, zh, en): what reading changed
    unrecognised: list[tuple[str, str, str]] = field(default_factory=list)  # (sheet, zh, en): no register, why
    kind: str = "file"  # file | folder (a folder that could not be read)
    display: str = ""  # the path as shown in reports (valid UTF-8); the path itself when not given

    def __post_init__(self) -> None:
        self.display = self.display or shown(str(self.path))

    @property
    def message(self) -> str:
        return f"{self.message_zh} / {self.message_en}" if self.message_zh else ""


BLANK_ROW = "空行 / blank row"
TOTALS_LINE = "合计行 / totals line"
FOOTER_LINE = "表尾签字或说明行 / signature or note line under the table"
_NUMBER_RE = re.compile(r"^[-+¥￥]?[0-9,，]*\.?[0-9]+%?元?$")


def _line_reasons(texts: list[pd.Series], parts: np.ndarray | None = None) -> pd.Series:
    """Why a line under the header is not a record ('' for records).

    Blank lines are never records. A totals line (合计/小计 in one of the first three columns, nothing
    but numbers beside it) or a signature or note line (制表人：…, 审核：…, nothing but such labels and
    what follows each) is not a record only where it stands in the block *under* the last record: the
    same text between records is a record staff typed (a row whose 编号 is 「日期：10月5日」 is a row
    to fix, not a line to drop). ``parts`` tells apart the sheets of a combined read, each with its own end.
    Counting is vectorised; only lines that start like a footer have their cells looked at."""
    index = texts[0].index if texts else pd.RangeIndex(0)
    n = len(index)
    filled = (np.column_stack([(t != "").to_numpy(dtype=bool) for t in texts]) if texts
              else np.zeros((n, 0), dtype=bool))
    counts = filled.sum(axis=1)
    reasons = np.full(n, "", dtype=object)
    reasons[counts == 0] = BLANK_ROW
    first_col = filled.argmax(axis=1) if texts else np.zeros(n, dtype=int)
    lead = np.flatnonzero((counts > 0) & (first_col <= 2))
    footer_like = np.zeros(n, dtype=bool)
    if len(lead):
        first = pd.Series("", index=range(len(lead)), dtype="str")
        for col in np.unique(first_col[lead]):
            at = np.flatnonzero(first_col[lead] == col)
            first.iloc[at] = texts[col].iloc[lead[at]].to_numpy()
        total = first.str.match(re2(_TOTAL_RE.pattern)).to_numpy(dtype=bool)
        footer = ~total & first.str.match(re2(_FOOTER_RE.pattern)).to_numpy(dtype=bool)
        for pos, kind in [(p, TOTALS_LINE) for p in lead[total]] + [(p, FOOTER_LINE) for p in lead[footer]]:
            cells = [texts[c].iat[pos] for c in np.flatnonzero(filled[pos])]
            if kind == TOTALS_LINE:
                ok = all(_NUMBER_RE.match(v) for v in cells[1:])
            else:
                labels = sum(bool(_FOOTER_RE.match(v) or _TOTAL_RE.match(v)) for v in cells)
                ok = len(cells) <= 2 * labels
            if ok:
                footer_like[pos] = True
                reasons[pos] = kind
    # a footer-like line counts as one only below the last record of its sheet
    record = (counts > 0) & ~footer_like
    parts = parts if parts is not None else np.zeros(n, dtype=np.int64)
    position = np.arange(n)
    last = pd.Series(np.where(record, position, -1)).groupby(parts).transform("max").to_numpy()
    reasons[footer_like & (position < last)] = ""
    return pd.Series(reasons, index=index, dtype=object)


PLACEHOLDER_ROW = "预编号空行 / pre-numbered empty row"
REPEATED_HEADER = "重复的表头行 / the header row repeated"
MAX_DEFAULTS = 3  # a row numbered ahead carries at most this many defaults filled down (分公司, 状态 …)


def _not_applicable_as_empty(texts: list[pd.Series], register: Register, header: HeaderMatch) -> None:
    """"/", "无", "N/A" … in a date, number, choice, phone or email cell mean "not applicable": empty, not a
    type error. Text fields keep what was written."""
    markers = {m.strip().casefold() for m in (register.not_applicable if register.not_applicable is not None
                                              else NOT_APPLICABLE)}
    if not markers:
        return
    longest = max(len(m) for m in markers)
    for f in register.fields:
        col = header.columns.get(f.key)
        if f.type == "text" or col is None or col >= len(texts):
            continue
        text = texts[col]
        # only short cells can be a marker: the text is trimmed already (as_text), but for \x1c-\x1f, which
        # Python's strip() also takes for spaces, and casefolding never shortens a text
        maybe = ((text.str.len() <= longest) | text.str.contains("[\x1c-\x1f]", regex=True)).to_numpy(dtype=bool)
        if not maybe.any():
            continue
        marked = np.zeros(len(text), dtype=bool)
        marked[maybe] = text[maybe].str.strip().str.casefold().isin(markers).to_numpy(dtype=bool)
        if marked.any():
            texts[col] = text.where(~marked, "")


def _placeholder_rows(texts: list[pd.Series], records: np.ndarray, register: Register, header: HeaderMatch,
                      formula_columns: set[int] | frozenset[int], parts: np.ndarray | None) -> np.ndarray:
    """Rows numbered ahead (编号 or a 序号 column filled down past the real records) or carrying only a formula
    or a default filled down: nothing typed in them but the key, the lines' numbers (:func:`_row_numbers`),
    formula columns and columns that hold one same value throughout the sheet. They are blank rows, not
    records with every field missing.

    A column counts as a default only in a sheet that also has rows with something else in them (three
    identical rows are three records, not three placeholders), and a row with more than MAX_DEFAULTS such
    values is a record typed like its neighbours; with a record key of several fields every key field is
    content (a duty row is its date and staff)."""
    n = len(records)
    if not n or not texts:
        return np.zeros(n, dtype=bool)
    key_cols = {header.columns[k] for k in register.key if k in header.columns} if len(register.key) == 1 else set()
    content = [c for c in range(len(texts)) if c not in key_cols and c not in formula_columns]
    if not content:
        return np.zeros(n, dtype=bool)
    parts = parts if parts is not None else np.zeros(n, dtype=np.int64)
    numbers = _row_numbers(texts, records, header, key_cols | set(formula_columns), parts)
    no_numbers = np.zeros(n, dtype=bool)
    filled = np.column_stack([(texts[c] != "").to_numpy(dtype=bool) & ~numbers.get(c, no_numbers)
                              for c in content]) & records[:, None]
    # a column holds a default in a part where its filled cells (two or more) all hold one value: the
    # smallest and the largest code of its values there are the same (one grouping for all columns)
    codes = np.column_stack([pd.factorize(texts[c].to_numpy())[0] for c in content]).astype("float64")
    codes[~filled] = np.nan
    grouped = pd.DataFrame(codes).groupby(parts)
    lowest, highest, count = grouped.min(), grouped.max(), grouped.count()
    default = np.zeros((int(parts.max()) + 1 if n else 1, len(content)), dtype=bool)
    default[lowest.index.to_numpy(dtype=np.int64)] = ((lowest == highest) & (count >= 2)).to_numpy(dtype=bool)
    other = (filled & ~default[parts]).sum(axis=1)
    real_in_part = np.bincount(parts[records & (other > 0)], minlength=default.shape[0]) > 0
    anything = filled.sum(axis=1)
    few = anything <= MAX_DEFAULTS  # a record typed like its neighbours is still a record
    return records & np.where(real_in_part[parts], (other == 0) & few, anything == 0)


def _repeated_header_rows(texts: list[pd.Series], register: Register, header: HeaderMatch) -> np.ndarray:
    """Lines that repeat the header (pages of a printed register pasted one under another, sheets copied
    together): most of their filled cells name their own column, as its header is typed here or as any
    spelling of its field is written (投诉编号, 投诉编号*), at least MIN_HEADER_MATCHES of them. A line of data
    never holds its columns' names. The comparison is exact and vectorised: a tall sheet pays one ``isin``
    per column."""
    n = len(texts[0]) if texts else 0
    names: dict[int, set[str]] = {col: {typed.strip()} for col, typed in header.headers.items()}
    for f in register.fields:
        col = header.columns.get(f.key)
        if col is not None:
            for spelling in (f.label_zh, f.label_en, f.key, *f.aliases):
                names[col] |= {spelling, f"{spelling}*", f"*{spelling}", f"{spelling}（必填）", f"{spelling}(必填)"}
    named = np.zeros(n, dtype=np.int64)
    filled = np.zeros(n, dtype=np.int64)
    for col, text in enumerate(texts):
        filled += (text != "").to_numpy(dtype=bool)
        if col in names:
            named += text.isin(names[col]).to_numpy(dtype=bool)
    return (named >= MIN_HEADER_MATCHES) & (named * 5 >= filled * 4)


_WHOLE_NUMBER_RE = re2(r"\d{1,9}")


def _row_numbers(texts: list[pd.Series], records: np.ndarray, header: HeaderMatch, ignored: set[int],
                 parts: np.ndarray) -> dict[int, np.ndarray]:
    """The cells that only number the lines, per column: whole numbers in a column that is no field of the
    register and is headed 序号, No. … (:data:`ROW_NUMBER_HEADERS`), or, under any other header or none, whose
    every filled cell is a whole number one more than the one above it (1, 2, 3 … in each sheet). Whatever
    else such a column holds is content like any cell."""
    fields = {*header.columns.values(), *header.duplicates, *ignored}
    numbers: dict[int, np.ndarray] = {}
    for col, text in enumerate(texts):
        if col in fields:
            continue
        filled = (text != "").to_numpy(dtype=bool) & records
        if not filled.any():
            continue
        whole = filled & text.str.fullmatch(_WHOLE_NUMBER_RE).to_numpy(dtype=bool)
        if not (col in header.extra and is_row_number_header(header.extra[col])):
            if whole.sum() < 3 or (filled & ~whole).any():
                continue
            steps = np.diff(text[whole].astype("int64").to_numpy())[np.diff(parts[whole]) == 0]
            if not (steps == 1).all():
                continue
        numbers[col] = whole
    return numbers


def _unfilled_rows(texts: list[pd.Series], reasons: pd.Series, register: Register, header: HeaderMatch) -> None:
    """Rows with every ``rows_need`` field empty are skipped as not filled in: an overdue list's item the store
    has not answered is not a reply with its answer missing."""
    labels = "、".join(f"「{register.field(k).label_zh}」" for k in register.rows_need)
    empty = np.ones(len(reasons), dtype=bool)
    for k in register.rows_need:
        col = header.columns.get(k)
        if col is not None and col < len(texts):
            empty &= (texts[col] == "").to_numpy(dtype=bool)
    reasons[empty & (reasons == "").to_numpy()] = f"未填写{labels} / {', '.join(register.rows_need)} not filled in"


def read_sheet(
    rows: list[list], file: str, sheet: str, register: Register, header: HeaderMatch,
    reference_year: int | None = None, errors: dict[tuple[int, int], str] | None = None,
    parts: np.ndarray | None = None, formula_columns: set[int] | frozenset[int] = frozenset(),
    keep_raw: bool = True,
) -> SheetRead:
    """Turn a sheet's rows (from A1, as Excel numbers them) into a SheetRead for ``register``.

    ``errors`` are the cells that hold a formula error (0-based row and column of ``rows``): they are
    read as empty, and kept in ``formula_errors`` for the checks to name. Without ``keep_raw`` the fields'
    values as read are not kept (only ``definitions infer`` looks at them; columns outside the fields are)
    and ``rows`` is emptied once turned into text: a million rows of Python cell objects cost more memory
    than everything made from them."""
    start = header.row + header.depth
    grid, texts = _cells(rows[start:], start, max((len(r) for r in rows), default=0))
    if not keep_raw:  # the fields' values as read go; columns outside the fields are kept as read
        rows.clear()
        grid = grid.drop(columns=list(set(header.columns.values())))
    return read_columns(texts, grid, file, sheet, register, header, reference_year, errors, parts, formula_columns)


def read_columns(
    texts: list[pd.Series], grid: pd.DataFrame, file: str, sheet: str, register: Register, header: HeaderMatch,
    reference_year: int | None = None, errors: dict[tuple[int, int], str] | None = None,
    parts: np.ndarray | None = None, formula_columns: set[int] | frozenset[int] = frozenset(),
) -> SheetRead:
    """A sheet's columns under its header into a SheetRead: ``texts`` are the cells as text (see
    :func:`as_text`), ``grid`` the values as read (the fields' columns may be left out), both indexed by
    Excel's row numbers; a reader that gives columns rather than rows starts here."""
    width = len(texts)
    start = header.row + header.depth
    excel_rows = grid.index
    _not_applicable_as_empty(texts, register, header)
    failed: dict[int, pd.Series] = {}
    for (r, c), error in (errors or {}).items():
        if r >= start and c < width:
            failed.setdefault(c, pd.Series("", index=excel_rows, dtype=object)).iat[r - start] = error
    marked = [t.where(failed[c] == "", "#") if c in failed else t for c, t in enumerate(texts)]
    reasons = _line_reasons(marked, parts)
    placeholder = _placeholder_rows(marked, (reasons == "").to_numpy(), register, header, formula_columns, parts)
    reasons[placeholder] = PLACEHOLDER_ROW
    reasons[_repeated_header_rows(marked, register, header) & (reasons == "").to_numpy()] = REPEATED_HEADER
    if register.rows_need:
        _unfilled_rows(marked, reasons, register, header)
    keep = (reasons == "").to_numpy()
    extra = dict(header.extra)
    named = {*header.columns.values(), *header.extra, *header.duplicates}
    for col in range(width):  # data under no header is kept under a made-up name, never dropped
        if col not in named and (marked[col][keep] != "").any():
            extra[col] = f"(无列名)第{column_letter(col)}列"
    skipped = [(int(r), str(reason)) for r, reason in reasons[~keep].items()]
    grid = grid[keep]
    index = grid.index
    raw = pd.DataFrame(index=index)
    text = pd.DataFrame(index=index)
    data = pd.DataFrame(index=index)
    bad = pd.DataFrame(index=index)
    guessed = pd.DataFrame(index=index)
    formula_errors = pd.DataFrame(index=index)
    empty = pd.Series([""] * len(grid), index=index, dtype=object)
    for f in register.fields:
        col = header.columns.get(f.key)
        text[f.key] = texts[col][keep] if col is not None else as_text(empty)
        parsed: Parsed = parse_text_column(text[f.key], f, reference_year)
        if col in grid:
            raw[f.key] = grid[col]
        elif col is None:
            raw[f.key] = empty
        data[f.key] = parsed.values
        bad[f.key] = parsed.bad.astype(bool)
        guessed[f.key] = parsed.guessed.astype(bool)
        if col in failed:
            formula_errors[f.key] = failed[col][keep]
    for col, header_text in extra.items():
        if col in grid:
            raw[header_text] = grid[col]
    return SheetRead(
        file=file, sheet=sheet, register=register, header_row=header.row + header.depth,
        columns=dict(header.columns),
        headers={fk: header.headers[c] for fk, c in header.columns.items()},
        extra_columns={text: col for col, text in extra.items()},
        duplicate_columns={header.headers[col]: col for col in header.duplicates},
        missing_fields=[f.key for f in register.fields if f.key not in header.columns],
        raw=raw, text=text, data=data, bad=bad, guessed=guessed, skipped=skipped, formula_errors=formula_errors,
    )


def _is_encrypted_ooxml(data: bytes) -> bool:
    """Excel saves a password-protected .xlsx as an OLE file holding EncryptionInfo + EncryptedPackage."""
    try:
        if not olefile.isOleFile(data=data):
            return False
        with olefile.OleFileIO(data) as ole:
            return ole.exists("EncryptionInfo") or ole.exists("EncryptedPackage")
    except (OSError, ValueError):
        return False


ENCRYPTED = ("文件已加密，请去除密码后重新提交", "the workbook is password-protected; remove the password and submit it again")
RESAVE_WPS = ("请用 WPS/Excel 另存为 .xlsx 后重新提交", "save it as .xlsx in WPS or Excel and submit it again")


def annotated_path(source: Path) -> Path:
    """Where a workbook's annotated copy goes: ``X_校验结果.xlsx`` beside ``X``; for a workbook in a zip, beside
    the zip, named after both (``十月_投诉_校验结果.xlsx``), for the zip is never rewritten."""
    member = member_of(source)
    if member is None:
        return source.with_name(f"{source.stem}{ANNOTATED_SUFFIX}.xlsx")
    archive, parts = member
    inside = "_".join((*parts[:-1], Path(parts[-1]).stem))
    return archive.with_name(f"{archive.stem}_{inside}{ANNOTATED_SUFFIX}.xlsx")


def is_ignored(path: Path) -> bool:
    """Lock files and temporaries are never inputs. (An annotated copy is: the clerk corrects the cells
    marked in it and sends it back.)"""
    return is_temporary_name(path.name)


def read_bytes(path: Path, limits: Limits) -> bytes | tuple[str, str]:
    """A file's bytes, read once: the run hashes and parses these same bytes, so the audit trail cannot
    describe another version of a file swapped while the run reads it. A reason instead of bytes when
    the file cannot be read or is larger than the limit."""
    try:
        with path.open("rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size > limits.max_file_bytes:
                return (f"文件过大（{size / 1e6:,.0f} MB，上限 {limits.max_file_bytes / 1e6:,.0f} MB），未读取",
                        f"the file is too large ({size / 1e6:,.0f} MB, limit {limits.max_file_bytes / 1e6:,.0f} MB); "
                        "not read")
            data = fh.read(limits.max_file_bytes + 1)
    except NotADirectoryError as e:  # a path under a file: a member of a zip (see toolkit.archives)
        member = read_member(path, limits.max_file_bytes)
        return os_error_reason(e) if member is None else member
    except OSError as e:
        return os_error_reason(e)
    if len(data) > limits.max_file_bytes:
        return ("文件在读取时变大，超过上限，未读取", "the file grew past the size limit while it was read; not read")
    return data


@dataclass
class SheetScan:
    """A register sheet found in a workbook, before its values are parsed: rows as read and the header."""

    sheet: str
    rows: list[list]
    register: Register
    header: HeaderMatch
    detected_by: str
    store_code: str | None
    store_name: str | None
    errors: dict[tuple[int, int], str] = field(default_factory=dict)  # (0-based row, col) -> "#DIV/0!"
    hidden: bool = False
    why: tuple[str, str] = ("", "")  # why it was read as its register (matched and missing columns)
    formula_columns: frozenset[int] = frozenset()  # 0-based columns holding formulas (xlsx/xlsm)
    # a tall sheet's rows under the header as text, one Series per column (index: Excel rows), turned into text
    # block by block as they were read (see stream_rows); ``rows`` then holds only the rows down to the header
    columns: list[pd.Series] | None = None


@dataclass
class WorkbookScan:
    path: Path
    status: str
    message_zh: str = ""
    message_en: str = ""
    sheets: list[SheetScan] = field(default_factory=list)
    other_sheets: list[str] = field(default_factory=list)
    metadata: WorkbookMetadata | None = None
    notes: list[tuple[str, str, str]] = field(default_factory=list)  # (sheet, zh, en): what reading changed
    unrecognised: list[tuple[str, str, str]] = field(default_factory=list)  # (sheet, zh, en): no register, why


def workbook_kind(path: Path) -> str | None:
    """Which reader a file name calls for: 'workbook' (read directly), 'wps' (WPS's own formats, read
    where the reader can), 'csv' (one sheet of text, see toolkit.csvfiles), or None (not a spreadsheet)."""
    suffix = path.suffix.lower()
    if suffix in WORKBOOK_SUFFIXES:
        return "workbook"
    if suffix in CSV_SUFFIXES:
        return "csv"
    if suffix in WPS_SUFFIXES:
        return "wps"
    return None


def open_book(path: Path, limits: Limits = DEFAULT_LIMITS, data: bytes | None = None
              ) -> tuple[calamine.CalamineWorkbook, Survey] | tuple[str, str]:
    """A workbook opened for reading from its bytes (read here when not given), after the look into its
    zip; or why it cannot be (Chinese, English): unreadable, empty, password-protected, too large when
    inflated, damaged, a WPS file the reader cannot open."""
    if data is None:
        data = read_bytes(path, limits)
    if isinstance(data, tuple):
        return data
    if not data:
        return EMPTY_FILE
    if _is_encrypted_ooxml(data):
        return ENCRYPTED
    survey = survey_workbook(data, limits)
    if survey.refused:
        return survey.refused
    try:
        return calamine.CalamineWorkbook.from_filelike(io.BytesIO(survey.data)), survey
    except calamine.PasswordError:
        return ENCRYPTED
    except Exception as e:  # calamine raises several error types for damaged files
        if workbook_kind(path) == "wps":
            return (f"无法读取此 WPS 文件，{RESAVE_WPS[0]}", f"this WPS file cannot be read; {RESAVE_WPS[1]}")
        return ("文件已损坏或不是有效的Excel工作簿，请用Excel另存为 .xlsx 后重新提交",
                f"the file is damaged or not a valid Excel workbook; re-save it as .xlsx ({type(e).__name__}: {e})")


def scan_workbook(path: Path | str, registers: dict[str, Register], data: bytes | None = None,
                  limits: Limits = DEFAULT_LIMITS) -> WorkbookScan:
    """Open one workbook (from ``data``, its bytes, when given) and find its register sheets and their
    headers. Never raises for a bad file: the result says why."""
    path = Path(path)

    def unusable(zh: str, en: str) -> WorkbookScan:
        return WorkbookScan(path, "unusable", zh, en)

    if is_ignored(path):
        return WorkbookScan(path, "ignored", "临时文件或本工具生成的文件，已忽略",
                            "a lock/temporary file or one of this toolkit's outputs; ignored")
    kind = workbook_kind(path)
    if kind is None:
        return WorkbookScan(path, "ignored", "不是Excel工作簿（.xlsx/.xlsm/.xlsb/.xls/.ods/.et/.csv），已忽略",
                            "not a spreadsheet (.xlsx/.xlsm/.xlsb/.xls/.ods/.et/.csv); ignored")
    if kind == "csv":
        return _scan_csv(path, registers, data, limits)
    opened = open_book(path, limits, data)
    if isinstance(opened[0], str):
        return unusable(*opened)
    book, survey = opened
    result = WorkbookScan(path, "ok", notes=list(survey.notes))
    try:
        with_sheets = {m.name: m for m in book.sheets_metadata}
        if METADATA_SHEET in with_sheets:
            result.metadata = parse_metadata(book.get_sheet_by_name(METADATA_SHEET).to_python(skip_empty_area=False))
        meta = result.metadata or WorkbookMetadata()
        if meta.output:
            return WorkbookScan(path, "ignored", "本工具生成的汇总或清单文件，已忽略",
                                "a summary or list produced by this toolkit; ignored", metadata=meta)
        for name, info in with_sheets.items():
            if name in (METADATA_SHEET, LISTS_SHEET) or str(info.typ) != str(calamine.SheetTypeEnum.WorkSheet):
                continue
            if name == ANNOTATION_SHEET:
                result.other_sheets.append(name)
                result.unrecognised.append((name, "本工具写的校验结果，不是登记表，未读取",
                                            "the check results this toolkit wrote; not a register, not read"))
                continue
            if meta.registers and name not in meta.registers:
                result.other_sheets.append(name)  # a template's own instructions sheet
                continue
            sheet = book.get_sheet_by_name(name)
            tall = (sheet.end or (0, 0))[0] + 1 > STREAM_ROWS
            stream = stream_rows(sheet) if tall else None
            rows = list(islice(stream, HEADER_SCAN_ROWS + 1)) if stream else sheet.to_python(skip_empty_area=False)
            _scan_sheet(result, name, rows, stream, _merges(sheet), registers, meta,
                        errors=survey.errors.get(name, {}),
                        hidden=str(info.visible) != str(calamine.SheetVisibleEnum.Visible),
                        formula_columns=frozenset(survey.formula_columns.get(name, ())))
            del sheet, stream  # a tall sheet's cells (the reader's copy) go before the next sheet is read
    except calamine.PasswordError:
        return unusable(*ENCRYPTED)
    except Exception as e:
        return unusable("读取工作表时出错，文件可能已损坏，请用Excel另存为 .xlsx 后重新提交",
                        f"error while reading a sheet; the file may be damaged, re-save it as .xlsx ({type(e).__name__}: {e})")
    finally:
        book.close()
    return _said_if_none(result)


def _scan_csv(path: Path, registers: dict[str, Register], data: bytes | None, limits: Limits) -> WorkbookScan:
    """A CSV file as one sheet named after the file (see toolkit.csvfiles)."""
    data = read_bytes(path, limits) if data is None else data
    if isinstance(data, tuple):
        return WorkbookScan(path, "unusable", *data)
    if not data:
        return WorkbookScan(path, "unusable", *EMPTY_FILE)
    name = path.stem
    try:
        table = read_table(data, limits.max_columns)
        result = WorkbookScan(path, "ok", notes=[(name, zh, en) for zh, en in table.notes])
        tall = table.count > STREAM_ROWS
        head = list(islice(table.rows, HEADER_SCAN_ROWS + 1)) if tall else list(table.rows)
        if head and set(RESERVED_FIELD_KEYS) <= {header_key(c) for c in head[0]}:
            return WorkbookScan(path, "ignored", "本工具导出的数据文件（taizhang export），已忽略",
                                "a data file this toolkit exported (taizhang export); ignored")
        _scan_sheet(result, name, head, table.rows if tall else None, [], registers, WorkbookMetadata(),
                    errors={}, hidden=False, formula_columns=frozenset())
    except csv.Error as e:
        return WorkbookScan(path, "unusable", "CSV 文件无法按行列拆分，请用 Excel 另存为 .xlsx 后重新提交",
                            f"the CSV file cannot be split into rows and columns; re-save it as .xlsx ({e})")
    result = _said_if_none(result)
    if result.status == "unusable":  # a CSV is as often a price list or an export as a register: named, not a failure
        result.status = "ignored"
    return result


def _scan_sheet(result: WorkbookScan, name: str, rows: list[list], stream: Iterator[list] | None, merges: Merges,
                registers: dict[str, Register], meta: WorkbookMetadata, *, errors: dict[tuple[int, int], str],
                hidden: bool, formula_columns: frozenset[int]) -> None:
    """One sheet's rows (the first ones only, with the rest in ``stream``, for a tall sheet): the register it
    is, its header, merged values filled down; a SheetScan in ``result``, or the reason it is none."""
    declared = meta.registers.get(name)
    found = recognise(rows, name, registers, merges, declared[0] if declared else None, result.path.stem)
    if found.chosen is None:
        result.other_sheets.append(name)
        result.unrecognised.append((name, *found.why()))
        return
    header = found.chosen.header
    columns = None
    if stream:
        filled, columns = text_columns(rows, stream, merges, header.row + header.depth)
        rows = rows[:header.row + header.depth]
    else:
        filled = fill_merged_down(rows, merges, header.row + header.depth)
    if filled:
        result.notes.append((name, f"合并单元格的值已填入所合并的每一行：{'、'.join(filled[:5])}"
                                   + (f" 等 {len(filled)} 处" if len(filled) > 5 else ""),
                             f"merged cells' values given to every row they span: {', '.join(filled[:5])}"
                             + (f" and {len(filled) - 5} more" if len(filled) > 5 else "")))
    result.sheets.append(SheetScan(name, rows, found.chosen.register, header, found.how,
                                   meta.store_code, meta.store_name, errors=errors, hidden=hidden,
                                   why=found.why(), formula_columns=formula_columns, columns=columns))


def _said_if_none(result: WorkbookScan) -> WorkbookScan:
    """A file with no register sheet is unusable, saying what its sheets were taken for instead."""
    if not result.sheets:
        result.status = "unusable"
        result.message_zh = "未找到登记表：没有工作表的表头与任何登记表相符"
        result.message_en = "no register found: no sheet has headers matching a register"
        if result.unrecognised:
            result.message_zh += "；" + "；".join(f"「{sheet}」{zh}" for sheet, zh, _ in result.unrecognised[:3])
            result.message_en += "; " + "; ".join(f"sheet {sheet}: {en}" for sheet, _, en in result.unrecognised[:3])
    return result


def read_workbook(
    path: Path | str, registers: dict[str, Register], reference_year: int | None = None,
    display_path: str | None = None, area_code: str = "",
) -> WorkbookRead:
    """Read every register sheet of one workbook. Never raises for a bad file: the result says why."""
    scan = scan_workbook(path, registers)
    file = display_path or shown(str(scan.path))
    result = WorkbookRead(scan.path, scan.status, scan.message_zh, scan.message_en,
                          other_sheets=scan.other_sheets, metadata=scan.metadata, notes=scan.notes, display=file,
                          unrecognised=scan.unrecognised)
    for s in scan.sheets:
        sheet = (read_streamed(s, file, reference_year) if s.columns is not None else
                 read_sheet(s.rows, file, s.sheet, s.register, s.header, reference_year, s.errors,
                            formula_columns=s.formula_columns, keep_raw=False))
        sheet.detected_by, sheet.store_code, sheet.store_name = s.detected_by, s.store_code, s.store_name
        sheet.why = s.why
        if area_code:
            assume_area_codes(sheet, pd.Series(area_code, index=sheet.data.index, dtype="str"))
        result.sheets.append(sheet)
    return result


def assume_area_codes(sheet: SheetRead, codes: pd.Series) -> None:
    """Local landlines of the sheet's phone fields read with their row's area code (``codes``, aligned with
    the rows, '' where none is known), each marked as read by an assumption."""
    for f in sheet.register.fields:
        if f.type == "phone" and f.key in sheet.columns:
            values, assumed = with_area_code(sheet.data[f.key], codes)
            if assumed.any():
                sheet.data[f.key] = values
                sheet.guessed[f.key] = sheet.guessed[f.key] | assumed


STREAM_ROWS = 100_000  # a sheet taller than this is turned into text block by block, not held as Python cells
BLOCK_ROWS = 65_536


def stream_rows(sheet: calamine.CalamineSheet) -> Iterator[list]:
    """The sheet's rows from A1, as ``to_python(skip_empty_area=False)`` gives them, one at a time (the reader's
    own iterator starts at the first used column: the columns left of it are given back here)."""
    start, end = sheet.start, sheet.end
    if start is None or end is None:
        return
    left = [""] * start[1]
    for row in sheet.iter_rows():
        yield left + row if left else row


def text_columns(head: list[list], rows: Iterator[list], merges: Merges, start: int
                 ) -> tuple[list[str], list[pd.Series]]:
    """A tall sheet's rows under its header (``head`` holds the first rows, ``rows`` the rest) as text columns,
    made block by block so that only one block of Python cell objects lives at a time; merged values are
    given to every row they span, as fill_merged_down does. Returns the ranges filled and the columns."""
    width = max((len(r) for r in head), default=0)
    down = _merged_down(merges, start)
    values: dict[int, object] = {}  # merge -> its value, once its first row has been read
    filled: list[str] = []
    parts: list[list[pd.Series]] = [[] for _ in range(width)]
    at = start
    block = head[start:]
    for row in rows:
        block.append(row)
        if len(block) >= BLOCK_ROWS:
            at = _block_text(block, at, down, values, filled, parts, width)
            block = []
    _block_text(block, at, down, values, filled, parts, width)
    columns = [pd.concat(p) if p else pd.Series([], dtype="str", index=pd.RangeIndex(start + 1, start + 1, name="row"))
               for p in parts]
    return filled, columns


def _block_text(block: list[list], at: int, merges: Merges, values: dict[int, object], filled: list[str],
                parts: list[list[pd.Series]], width: int) -> int:
    """One block of rows (the first at 0-based row ``at``) into text, after filling merged values down."""
    _fill_merges(block, at, merges, values, filled)
    for c, text in enumerate(_cells(block, at, width)[1]):
        parts[c].append(text)
    return at + len(block)


def _cells(body: list[list], first: int, width: int) -> tuple[pd.DataFrame, list[pd.Series]]:
    """Rows of cells (the first at 0-based row ``first``) as a grid of the values as read and each column as text
    (:func:`as_text`), both indexed by Excel's row numbers; short rows are padded to ``width``."""
    if any(len(r) != width for r in body):
        body = [r + [""] * (width - len(r)) for r in body]
    index = pd.RangeIndex(first + 1, first + 1 + len(body), name="row")
    grid = (pd.DataFrame(body, index=index, columns=range(width), dtype=object) if body
            else pd.DataFrame(index=index, columns=range(width), dtype=object))
    return grid, [as_text(grid[c]) for c in range(width)]


def read_streamed(scan: SheetScan, file: str, reference_year: int | None) -> SheetRead:
    """A tall sheet whose rows under the header were made text as they were read (SheetScan.columns)."""
    texts = list(scan.columns or [])
    scan.columns = None
    index = texts[0].index if texts else pd.RangeIndex(0, name="row")
    kept = {c: t for c, t in enumerate(texts) if c not in set(scan.header.columns.values())}
    return read_columns(texts, pd.DataFrame(kept, index=index), file, scan.sheet, scan.register, scan.header,
                        reference_year, scan.errors, formula_columns=scan.formula_columns)


def fill_merged_down(rows: list[list], merges: Merges, start: int) -> list[str]:
    """A value merged down over several data rows (a date over that day's duty rows, a customer over their
    visits) belongs to each of them: it is written into every row of the range, in its first column.
    Returns the ranges filled (A3:A5). Merges in the header rows are the header's business."""
    filled: list[str] = []
    _fill_merges(rows[start:], start, _merged_down(merges, start), {}, filled)
    return filled


def _merged_down(merges: Merges, start: int) -> Merges:
    """The merges that span data rows (from 0-based row ``start``) downwards."""
    return [((r0, c0), (r1, c1)) for (r0, c0), (r1, c1) in merges if r0 >= start and r1 > r0]


def _fill_merges(block: list[list], at: int, merges: Merges, values: dict[int, object], filled: list[str]) -> None:
    """Merged values written into the rows of ``block`` (the first at 0-based row ``at``) that each range spans.
    ``values`` keeps each merge's value once its first row has been seen, so that a range goes on filling in the
    blocks after it (a tall sheet is read block by block); ``filled`` gets each range with a value."""
    end = at + len(block)
    for i, ((r0, c0), (r1, c1)) in enumerate(merges):
        if at <= r0 < end and c0 < len(block[r0 - at]) and i not in values:
            value = block[r0 - at][c0]
            if value in (None, ""):
                continue
            values[i] = value
            filled.append(f"{column_letter(c0)}{r0 + 1}:{column_letter(c1)}{r1 + 1}")
        if i in values and r0 < end and r1 >= at:
            for r in range(max(r0 + 1, at), min(r1 + 1, end)):
                if c0 < len(block[r - at]) and block[r - at][c0] in (None, ""):
                    block[r - at][c0] = values[i]


def _merges(sheet: calamine.CalamineSheet) -> Merges:
    """The sheet's merged ranges ((row, col), (row, col)), 0-based; none where the format keeps none."""
    try:
        return [tuple(map(tuple, m)) for m in (sheet.merged_cell_ranges or [])]
    except Exception:  # a reader without merge information for this format
        return []


def find_inputs(paths: list[Path | str]) -> list[InputPath]:
    """Files given, and the workbooks under folders given (recursively, in a stable order), with every
    folder or file that could not be read listed as such. Each is shown by the path as given."""
    found: list[InputPath] = []
    for p in map(Path, paths):
        if is_archive(p) and p.is_file():
            found.extend(archive_inputs(p, shown(str(p))))
            continue
        if not p.is_dir():
            found.append(InputPath(p, shown(str(p))))
            continue
        for item in walk_inputs(p):
            item.display = shown(str(item.path))
            if item.problem is not None and item.status == "unusable" or workbook_kind(item.path):
                found.append(item)
    return found
