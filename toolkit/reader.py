"""Reading the workbooks staff actually send.

A workbook may hold several register sheets beside an instructions sheet, a title row above the
header, renamed or traditional-character headers, blank rows and signature lines under the table.
The reader finds each register sheet (by the template's hidden metadata, else by its headers),
finds the header row, maps the columns to field keys and parses every column into its type.
Every row of the sheet is accounted for: it is a record, or a skipped blank/footer row with a reason.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import olefile
import pandas as pd
import python_calamine as calamine

from .coerce import Parsed, as_text, normalize_text, parse_text_column
from .definitions import Register
from .files import is_temporary_name
from .metadata import LISTS_SHEET, METADATA_SHEET, WorkbookMetadata, parse_metadata

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls")
ANNOTATED_SUFFIX = "_校验结果"
HEADER_SCAN_ROWS = 30
MIN_HEADER_MATCHES = 3

_FOOTER_RE = re.compile(
    r"^\s*(制表|填表|填报|审核|审批|复核|批准|核准|签字|签名|确认|负责人|店长|经理|主管|日期|时间|注|说明|备注)"
    r"[^\d:：]{0,6}[:：]"
)
_TOTAL_RE = re.compile(r"^\s*(合\s*计|总\s*计|小\s*计)\s*[:：]?")


def column_letter(index: int) -> str:
    """0-based column index to Excel's letters (0 -> A, 27 -> AB)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def header_key(text: object) -> str:
    """A header as a comparable key: no whitespace or line breaks, half-width, simplified, no '*'/必填."""
    return _header_key(str(text))


@functools.lru_cache(maxsize=1 << 16)
def _header_key(text: str) -> str:
    # every sheet's first rows are compared with every register's headers: the same few texts, many times
    key = normalize_text(text).casefold()
    key = re.sub(r"\s+", "", key)
    key = re.sub(r"[*＊]|[(（\[【]?必填[)）\]】]?|[:：]$", "", key)
    return key


def _without_brackets(key: str) -> str:
    return re.sub(r"[(（\[【].*?[)）\]】]", "", key)


def header_lookup(register: Register) -> dict[str, str]:
    """Every accepted header spelling of a register, as header keys, to the field key."""
    lookup: dict[str, str] = {}
    for f in register.fields:
        for spelling in (f.label_zh, f.label_en, f.key, *f.aliases):
            lookup.setdefault(header_key(spelling), f.key)
    # labels win over aliases of other fields: put them last so they overwrite
    for f in register.fields:
        lookup[header_key(f.label_zh)] = f.key
    return lookup


@dataclass
class HeaderMatch:
    row: int  # 0-based index in the sheet's rows
    columns: dict[str, int]  # field key -> 0-based column
    headers: dict[int, str]  # column -> header text as typed
    extra: dict[int, str]  # unknown column -> header text
    duplicates: dict[int, str]  # column -> field key matched a second time

    @property
    def score(self) -> int:
        return len(self.columns)


def match_header_row(row: list, lookup: dict[str, str], index: int) -> HeaderMatch:
    columns: dict[str, int] = {}
    headers: dict[int, str] = {}
    extra: dict[int, str] = {}
    dupes: dict[int, str] = {}
    for col, cell in enumerate(row):
        text = str(cell).strip() if cell not in (None, "") else ""
        if not text:
            continue
        headers[col] = text
        key = header_key(text)
        fkey = lookup.get(key) or lookup.get(_without_brackets(key))
        if fkey is None:
            extra[col] = text
        elif fkey in columns:
            dupes[col] = fkey
        else:
            columns[fkey] = col
    return HeaderMatch(index, columns, headers, extra, dupes)


def find_header(rows: list[list], register: Register) -> HeaderMatch | None:
    """The row within the first rows of a sheet that matches most of the register's headers."""
    lookup = header_lookup(register)
    best: HeaderMatch | None = None
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        m = match_header_row(row, lookup, i)
        if best is None or m.score > best.score:
            best = m
            if m.score == len(register.fields) and not m.extra and not m.duplicates:
                break  # every field and nothing else: no later row can match better
    if best is None or best.score < min(MIN_HEADER_MATCHES, len(register.fields)):
        return None
    return best


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
    raw: pd.DataFrame  # field keys (+ extra headers), values as read; index = Excel row numbers
    text: pd.DataFrame  # field keys, the values as text ('' when empty); same index
    data: pd.DataFrame  # field keys, typed; same index
    bad: pd.DataFrame  # field keys, True where a value could not be read as its type
    guessed: pd.DataFrame  # field keys, True where a value was read by an assumption
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (Excel row, reason)
    detected_by: str = "headers"
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

    @property
    def message(self) -> str:
        return f"{self.message_zh} / {self.message_en}" if self.message_zh else ""


def _line_reasons(texts: list[pd.Series], width: int) -> pd.Series:
    """Why a line under the header is not a record ('' for records): blank, a totals line, or a signature
    or note line. Counting filled cells is vectorised; only sparse lines have their first cell looked at."""
    index = texts[0].index if texts else pd.RangeIndex(0)
    filled = (np.column_stack([(t != "").to_numpy(dtype=bool) for t in texts]) if texts
              else np.zeros((0, 0), dtype=bool))
    counts = filled.sum(axis=1) if texts else np.zeros(0, dtype=int)
    reasons = pd.Series("", index=index, dtype=object)
    reasons[counts == 0] = "空行 / blank row"
    sparse = np.flatnonzero((counts > 0) & (counts <= max(3, width // 3)))
    if len(sparse):
        first_col = filled[sparse].argmax(axis=1)
        for pos, col in zip(sparse, first_col, strict=True):
            first = texts[col].iat[pos]
            if _TOTAL_RE.match(first):
                reasons.iat[pos] = "合计行 / totals line"
            elif _FOOTER_RE.match(first):
                reasons.iat[pos] = "表尾签字或说明行 / signature or note line under the table"
    return reasons


def read_sheet(
    rows: list[list], file: str, sheet: str, register: Register, header: HeaderMatch,
    reference_year: int | None = None,
) -> SheetRead:
    """Turn a sheet's rows (from A1, as Excel numbers them) into a SheetRead for ``register``."""
    width = max((len(r) for r in rows), default=0)
    body = rows[header.row + 1:]
    if any(len(r) != width for r in body):
        body = [r + [""] * (width - len(r)) for r in body]
    excel_rows = pd.RangeIndex(header.row + 2, header.row + 2 + len(body), name="row")
    grid = (pd.DataFrame(body, index=excel_rows, columns=range(width), dtype=object) if body
            else pd.DataFrame(index=excel_rows, columns=range(width), dtype=object))
    texts = [as_text(grid[col]) for col in range(width)]
    reasons = _line_reasons(texts, width)
    keep = (reasons == "").to_numpy()
    skipped = [(int(r), str(reason)) for r, reason in reasons[~keep].items()]
    grid = grid[keep]
    index = grid.index
    raw = pd.DataFrame(index=index)
    text = pd.DataFrame(index=index)
    data = pd.DataFrame(index=index)
    bad = pd.DataFrame(index=index)
    guessed = pd.DataFrame(index=index)
    empty = pd.Series([""] * len(grid), index=index, dtype=object)
    for f in register.fields:
        col = header.columns.get(f.key)
        text[f.key] = texts[col][keep] if col is not None else as_text(empty)
        parsed: Parsed = parse_text_column(text[f.key], f, reference_year)
        raw[f.key] = grid[col] if col is not None else empty
        data[f.key] = parsed.values
        bad[f.key] = parsed.bad.astype(bool)
        guessed[f.key] = parsed.guessed.astype(bool)
    for col, header_text in header.extra.items():
        raw[header_text] = grid[col]
    return SheetRead(
        file=file, sheet=sheet, register=register, header_row=header.row + 1, columns=dict(header.columns),
        headers={fk: header.headers[c] for fk, c in header.columns.items()},
        extra_columns={text: col for col, text in header.extra.items()},
        duplicate_columns={header.headers[col]: col for col in header.duplicates},
        missing_fields=[f.key for f in register.fields if f.key not in header.columns],
        raw=raw, text=text, data=data, bad=bad, guessed=guessed, skipped=skipped,
    )


def _is_encrypted_ooxml(path: Path) -> bool:
    """Excel saves a password-protected .xlsx as an OLE file holding EncryptionInfo + EncryptedPackage."""
    try:
        if not olefile.isOleFile(str(path)):
            return False
        with olefile.OleFileIO(str(path)) as ole:
            return ole.exists("EncryptionInfo") or ole.exists("EncryptedPackage")
    except OSError:
        return False


ENCRYPTED = ("文件已加密，请去除密码后重新提交", "the workbook is password-protected; remove the password and submit it again")


def is_ignored(path: Path) -> bool:
    """Lock files, temporaries, and the toolkit's own annotated copies are never inputs."""
    return is_temporary_name(path.name) or path.stem.endswith(ANNOTATED_SUFFIX)


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


@dataclass
class WorkbookScan:
    path: Path
    status: str
    message_zh: str = ""
    message_en: str = ""
    sheets: list[SheetScan] = field(default_factory=list)
    other_sheets: list[str] = field(default_factory=list)
    metadata: WorkbookMetadata | None = None


def scan_workbook(path: Path | str, registers: dict[str, Register]) -> WorkbookScan:
    """Open one workbook and find its register sheets and their headers. Never raises for a bad file."""
    path = Path(path)

    def unusable(zh: str, en: str) -> WorkbookScan:
        return WorkbookScan(path, "unusable", zh, en)

    if is_ignored(path):
        return WorkbookScan(path, "ignored", "临时文件或本工具生成的文件，已忽略",
                            "a lock/temporary file or one of this toolkit's outputs; ignored")
    if path.suffix.lower() not in WORKBOOK_SUFFIXES:
        return WorkbookScan(path, "ignored", "不是Excel工作簿（.xlsx/.xlsm/.xls），已忽略",
                            "not an Excel workbook (.xlsx/.xlsm/.xls); ignored")
    try:
        size = path.stat().st_size
    except OSError as e:
        return unusable(f"无法打开文件: {e.strerror}", f"cannot open the file: {e.strerror}")
    if size == 0:
        return unusable("文件为空（0字节），请重新保存后提交", "the file is empty (0 bytes); save it again and resubmit")
    if _is_encrypted_ooxml(path):
        return unusable(*ENCRYPTED)
    try:
        book = calamine.CalamineWorkbook.from_path(str(path))
    except calamine.PasswordError:
        return unusable(*ENCRYPTED)
    except Exception as e:  # calamine raises several error types for damaged files
        return unusable("文件已损坏或不是有效的Excel工作簿，请用Excel另存为 .xlsx 后重新提交",
                        f"the file is damaged or not a valid Excel workbook; re-save it as .xlsx ({type(e).__name__}: {e})")
    result = WorkbookScan(path, "ok")
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
            if meta.registers and name not in meta.registers:
                result.other_sheets.append(name)  # a template's own instructions sheet
                continue
            rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
            found = _find_register(rows, name, meta, registers)
            if found is None:
                result.other_sheets.append(name)
            else:
                register, header, detected_by = found
                result.sheets.append(SheetScan(name, rows, register, header, detected_by,
                                               meta.store_code, meta.store_name))
    except calamine.PasswordError:
        return unusable(*ENCRYPTED)
    except Exception as e:
        return unusable("读取工作表时出错，文件可能已损坏，请用Excel另存为 .xlsx 后重新提交",
                        f"error while reading a sheet; the file may be damaged, re-save it as .xlsx ({type(e).__name__}: {e})")
    finally:
        book.close()
    if not result.sheets:
        result.status = "unusable"
        result.message_zh = "未找到登记表：没有工作表的表头与任何登记表相符"
        result.message_en = "no register found: no sheet has headers matching a register"
    return result


def read_workbook(
    path: Path | str, registers: dict[str, Register], reference_year: int | None = None,
    display_path: str | None = None,
) -> WorkbookRead:
    """Read every register sheet of one workbook. Never raises for a bad file: the result says why."""
    scan = scan_workbook(path, registers)
    file = display_path or str(scan.path)
    result = WorkbookRead(scan.path, scan.status, scan.message_zh, scan.message_en,
                          other_sheets=scan.other_sheets, metadata=scan.metadata)
    for s in scan.sheets:
        sheet = read_sheet(s.rows, file, s.sheet, s.register, s.header, reference_year)
        sheet.detected_by, sheet.store_code, sheet.store_name = s.detected_by, s.store_code, s.store_name
        result.sheets.append(sheet)
    return result


def _find_register(
    rows: list[list], name: str, meta: WorkbookMetadata, registers: dict[str, Register],
) -> tuple[Register, HeaderMatch, str] | None:
    declared = meta.registers.get(name)
    if declared and declared[0] in registers:
        register = registers[declared[0]]
        header = find_header(rows, register)
        if header is not None:
            return register, header, "metadata"
    best: tuple[float, int, Register, HeaderMatch] | None = None
    for register in registers.values():
        header = find_header(rows, register)
        if header is None:
            continue
        rank = (header.score, header.score / len(register.fields))
        if best is None or rank > best[:2]:
            best = (*rank, register, header)
    if best is None:
        return None
    return best[2], best[3], "headers"


def find_workbooks(paths: list[Path | str]) -> list[Path]:
    """Files given, and workbooks under folders given (recursively), in a stable order."""
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found.extend(sorted(q for q in p.rglob("*") if q.is_file() and q.suffix.lower() in WORKBOOK_SUFFIXES))
        else:
            found.append(p)
    return found
