"""Head office's monthly job: every store's register workbooks in, one set of records out.

Each workbook is read and validated on its own (in parallel processes: workbooks are independent),
then the results are put together in the parent: which store each file belongs to, which files are
the same submission twice, which records a store's newer file replaces. The accounting is kept per
file so it can be audited: rows read = rows accepted + rows rejected, and every rejected row has its
reasons.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import os
import re
import signal
import sys
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api.types import union_categoricals

from .archives import member_modified
from .coerce import arrow_strings
from .config import Config
from .definitions import Register
from .inputs import InputPath, shown, walk_inputs
from .limits import DEFAULT_LIMITS, Limits
from .reader import (
    ANNOTATED_SUFFIX,
    HeaderMatch,
    SheetRead,
    SheetScan,
    WorkbookScan,
    annotated_path,
    assume_area_codes,
    is_ignored,
    read_bytes,
    read_sheet,
    read_streamed,
    scan_workbook,
    workbook_kind,
)
from .records import empty_records, key_complete, key_text
from .validate import OmittedRows, empty_findings, note_findings, validate_sheet_rows

_SHEET_REJECTED = ["source_file", "source_sheet", "source_row", "key", "reason_zh", "reason_en"]
REJECTED_COLUMNS = ["store_code", "store_name", "register", "register_name", "source_file", "source_sheet",
                    "source_row", "key", "reason_zh", "reason_en"]
# Workbooks are read and validated in batches, one batch per worker task: the larger the batch, the fewer
# (and larger) pandas operations per row (40 files of 500 rows cost 32 ms each, 240 cost 19 ms). A batch is
# capped by the bytes of its files, a proxy for its rows, so that a worker holds at most ~500 MB. Batches
# shrink towards the end of the run (each takes a share of what is left), so that no worker sits idle
# while another finishes a big last batch.
BATCH_BYTES = 10_000_000
SMALLEST_BATCH_BYTES = 1_000_000
_STORE_FOLDER = re.compile(r"^(?P<code>[0-9A-Za-z]+)[_\-\s]+(?P<name>.+)$")


@dataclass
class SheetEntry:
    """One register sheet of an input file, as the manifest and the overview name it."""

    sheet: str
    register: str | None  # None: a sheet that holds no register (an instructions sheet, an unknown table)
    how: str = "headers"  # metadata | headers | only | none
    why_zh: str = ""
    why_en: str = ""

    def manifest(self) -> dict:
        return {"sheet": self.sheet, "register": self.register, "how": self.how,
                "why": f"{self.why_zh} / {self.why_en}" if self.why_zh else ""}


@dataclass
class FileEntry:
    """One input file and what became of it: the manifest line."""

    path: Path
    display: str  # path relative to the input folder, as shown to people
    status: str  # ok | unusable | duplicate | ignored
    sha256: str = ""
    store_code: str = ""
    store_name: str = ""
    registers: list[str] = field(default_factory=list)
    rows_read: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0
    rows_skipped: int = 0
    message_zh: str = ""
    message_en: str = ""
    modified: float = 0.0
    sheets: list[SheetEntry] = field(default_factory=list)
    metadata_store: tuple[str | None, str | None] = (None, None)
    kind: str = "file"  # file | folder
    skipped: Counter = field(default_factory=Counter)  # reason -> rows skipped for it
    warnings: list[str] = field(default_factory=list)  # what the run changed or could not decide, bilingual
    other_sheets: list[SheetEntry] = field(default_factory=list)  # sheets read as no register, with why

    @property
    def message(self) -> str:
        return f"{self.message_zh} / {self.message_en}" if self.message_zh else ""

    def manifest(self) -> dict:
        return {"path": self.display, "kind": self.kind, "status": self.status,
                "store_code": self.store_code or None, "store_name": self.store_name or None,
                "registers": self.registers, "sha256": self.sha256 or None,
                "rows_read": self.rows_read, "rows_accepted": self.rows_accepted,
                "rows_rejected": self.rows_rejected, "rows_skipped": self.rows_skipped,
                "skipped": dict(self.skipped), "message": self.message, "warnings": list(self.warnings),
                "sheets": [s.manifest() for s in (*self.sheets, *self.other_sheets)]}


@dataclass
class SheetsResult:
    """Sheets of one register and layout, read and validated together in a worker (every store's copy of
    a template): the accepted rows and the rejected rows with their reasons, each with its file, sheet
    and Excel row. Kept together rather than per file: splitting them per file cost more than the checks."""

    register: str
    accepted: pd.DataFrame  # source_file, source_sheet, source_row, then the field keys (typed)
    rejected: pd.DataFrame  # source_file, source_sheet, source_row, key, reason_zh, reason_en
    # the rejected rows' typed values of the fields deadlines and lists read, and _bad_fields: the fields
    # their errors are in ("*" where not known): what the overdue lists can still judge
    rejected_data: pd.DataFrame | None = None


@dataclass
class BatchResult:
    """What a worker sends back for a batch of files."""

    files: list[FileEntry]
    sheets: list[SheetsResult]
    findings: pd.DataFrame  # every finding, with its file


@dataclass
class Consolidation:
    """All stores' records of every register, the rejected rows, every finding, and the manifest."""

    input_dir: Path
    registers: dict[str, Register]
    files: list[FileEntry]
    records: dict[str, pd.DataFrame]
    rejected: pd.DataFrame
    findings: pd.DataFrame
    # rows rejected for errors, typed, with the fields their errors are in (see SheetsResult.rejected_data)
    rejected_records: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def stores(self) -> list[tuple[str, str]]:
        seen = {(f.store_code, f.store_name) for f in self.files if f.status == "ok" and f.store_code}
        return sorted(seen)

    def all_stores(self, config: Config | None = None) -> dict[str, str]:
        """Stores that sent something, plus the configured stores and the store folders that sent nothing usable
        (they must show up too)."""
        stores = dict(self.stores)
        for f in self.files:  # an empty store folder, a store that sent nothing usable
            if f.store_code:
                stores.setdefault(f.store_code, f.store_name or "")
        for code, store in (config.stores if config else {}).items():
            stores.setdefault(code, store.name)
        return dict(sorted(stores.items()))

    def count(self, status: str) -> int:
        """How many files have this status (ok, unusable, duplicate, ignored)."""
        return sum(f.status == status for f in self.files)

    @property
    def readable(self) -> bool:
        """Whether any workbook could be read: without one there is nothing to report, export or send."""
        return self.count("ok") > 0

    @property
    def rows_accepted(self) -> int:
        return sum(f.rows_accepted for f in self.files)

    @property
    def rows_rejected(self) -> int:
        return sum(f.rows_rejected for f in self.files)

    @property
    def rows_skipped(self) -> int:
        return sum(f.rows_skipped for f in self.files)

    @property
    def complete(self) -> bool:
        """Whether every input was read: no file or folder is unusable."""
        return self.count("unusable") == 0

    def sheet_registers(self) -> pd.DataFrame:
        """Which register each read sheet held (file, sheet, register): findings name a file and sheet only."""
        return pd.DataFrame([(e.display, s.sheet, s.register) for e in self.files for s in e.sheets],
                            columns=["file", "sheet", "register"])

    def manifest(self, output: Path | str | None = None) -> dict:
        return {"files": [f.manifest() for f in self.files], "output": str(output) if output else None}


# --- reading one file (runs in a worker process) ----------------------------------------------------
_worker_registers: dict[str, Register] = {}
_worker_year: int | None = None
_worker_limits: Limits = DEFAULT_LIMITS
_worker_area_codes: dict[str, str] = {}


def _init_worker(registers: dict[str, Register], reference_year: int | None, limits: Limits,
                 area_codes: dict[str, str] | None = None) -> None:
    global _worker_registers, _worker_year, _worker_limits, _worker_area_codes
    _worker_registers, _worker_year, _worker_limits = registers, reference_year, limits
    _worker_area_codes = area_codes or {}
    _end_with_parent()


def _end_with_parent() -> None:
    """On Linux, a worker is killed when the run that started it ends, however it ends (SIGKILL included):
    otherwise it would go on reading for minutes after Ctrl+C. Elsewhere the pool's own shutdown does it."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() == 1:  # the parent ended before this worker was ready
        os._exit(1)


def _row_reasons(errors: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    """Each rejected row's error messages joined (grouped and joined in Arrow, not per row).

    ``errors`` has ``at`` (the row each error rejects, as in ``rows``), message_zh and message_en."""
    frame = pd.DataFrame({"at": rows})
    if errors["at"].is_unique:  # one error per row, the usual case: nothing to join
        joined = pd.DataFrame({"reason_zh": errors["message_zh"].to_numpy(), "reason_en": errors["message_en"].to_numpy()},
                              index=errors["at"].to_numpy(), dtype="string")
        return frame.join(joined, on="at")
    table = pa.table({"at": pa.array(errors["at"].to_numpy()),
                      "zh": arrow_strings(errors["message_zh"]), "en": arrow_strings(errors["message_en"])})
    grouped = table.group_by("at", use_threads=False).aggregate([("zh", "list"), ("en", "list")])
    joined = pd.DataFrame({"reason_zh": pc.binary_join(grouped["zh_list"], "；").to_numpy(),
                           "reason_en": pc.binary_join(grouped["en_list"], "; ").to_numpy()},
                          index=grouped["at"].to_numpy(), dtype="string")
    return frame.join(joined, on="at")


def _with_counted_reasons(why: pd.DataFrame, at: np.ndarray, reason: np.ndarray, texts: list[tuple[str, str]]
                          ) -> pd.DataFrame:
    """Rejected rows' reasons with those of the checks that counted rather than listed their rows. Such a
    row has one of few reasons per check: each row's set of them is a bit mask (sorted numbers, no Python
    per row), and each distinct mask is written out once: a million rows of the same six problems cost six
    strings, not six million."""
    if len(texts) > 62:  # more counted checks than bits: the rest share the last bit
        reason = np.minimum(reason, 62)
        texts = [*texts[:62], ("……", "…")]
    keys = np.unique(at << 6 | reason)
    rows, bits = keys >> 6, np.left_shift(np.int64(1), keys & 63)
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    row_of, mask_of = rows[starts], np.bitwise_or.reduceat(bits, starts)
    wanted = why["at"].to_numpy(dtype="int64")
    place = np.minimum(np.searchsorted(row_of, wanted), len(row_of) - 1)
    found = row_of[place] == wanted
    masks, which = np.unique(np.where(found, mask_of[place], 0), return_inverse=True)
    which = which.ravel()
    out = why.copy()
    for column, lang, sep in (("reason_zh", 0, "；"), ("reason_en", 1, "; ")):
        # one string per distinct mask, each row its code (built from codes: a million rows of reasons
        # are never spelled out, not even on the way to a categorical)
        shown = np.array([sep.join(texts[i][lang] for i in range(len(texts)) if int(m) >> i & 1) or None
                          for m in masks], dtype=object)
        listed = out[column].to_numpy(dtype=object, na_value=None)
        rows_listed = np.flatnonzero(pd.notna(listed))
        combined = [a if b is None else f"{a}{sep}{b}"
                    for a, b in zip(listed[rows_listed], shown[which[rows_listed]], strict=True)]
        candidates = np.array([*shown, *combined], dtype=object)
        index = which.copy()
        index[rows_listed] = len(shown) + np.arange(len(rows_listed))
        codes, categories = pd.factorize(candidates)
        out[column] = pd.Series(pd.Categorical.from_codes(codes[index], categories=categories), index=out.index)
    return out


def _layout(scan: SheetScan) -> tuple:
    h = scan.header
    return (scan.register.id, h.depth, tuple(sorted(h.columns.items())), tuple(sorted(h.extra.items())),
            tuple(sorted(h.duplicates.items())))


def _read_together(members: list[tuple[FileEntry, SheetScan]], reference_year: int | None,
                   area_codes: dict[str, str] | None = None) -> tuple[SheetRead, list[int]]:
    """Sheets of the same register and the same column layout, read as one sheet (one pass of pandas work
    instead of one per small sheet); ``origin`` keeps each row's file, sheet and Excel row."""
    first = members[0][1]
    depth = first.header.depth
    if first.columns is not None:  # a tall sheet, made text as it was read: read alone (see check_files)
        return _read_streamed(members[0], reference_year, area_codes)
    rows: list[list] = list(first.rows[first.header.row:first.header.row + depth])
    files, sheets, excel_rows, parts, header_rows = [], [], [], [], []
    errors: dict[tuple[int, int], str] = {}
    for part, (entry, scan) in enumerate(members):
        start = scan.header.row + depth
        body = scan.rows[start:]
        offset = len(rows) - start
        for (r, c), error in scan.errors.items():
            if r >= start:
                errors[(r + offset, c)] = error
        rows.extend(body)
        files.extend([entry.display] * len(body))
        sheets.extend([scan.sheet] * len(body))
        excel_rows.extend(range(start + 1, start + 1 + len(body)))
        parts.extend([part] * len(body))
        header_rows.append(start)
    header = HeaderMatch(0, dict(first.header.columns), dict(first.header.headers), dict(first.header.extra),
                         dict(first.header.duplicates), depth)
    del first
    for _, scan in members:  # the rows as read are in ``rows`` now, and typed in the sheet after this
        scan.rows = []
    formulas = frozenset().union(*(scan.formula_columns for _, scan in members))
    sheet = read_sheet(rows, members[0][1].sheet, members[0][1].sheet, members[0][1].register, header,
                       reference_year, errors, np.asarray(parts, dtype=np.int64), formulas, keep_raw=False)
    del rows
    return _with_origin(sheet, depth, files, sheets, excel_rows, parts, area_codes), header_rows


def _read_streamed(member: tuple[FileEntry, SheetScan], reference_year: int | None,
                   area_codes: dict[str, str] | None) -> tuple[SheetRead, list[int]]:
    """One tall sheet whose rows under the header are text already: a group of one, rows as Excel numbers them."""
    entry, scan = member
    start = scan.header.row + scan.header.depth
    n = len(scan.columns[0]) if scan.columns else 0
    sheet = read_streamed(scan, scan.sheet, reference_year)
    return (_with_origin(sheet, start, [entry.display] * n, [scan.sheet] * n, range(start + 1, start + 1 + n),
                         [0] * n, area_codes), [start])


def _with_origin(sheet: SheetRead, first: int, files: list[str], sheets: list[str], excel_rows, parts: list[int],
                 area_codes: dict[str, str] | None) -> SheetRead:
    """Each row of a sheet read for a group keeps its file, sheet, Excel row and part (member of the group);
    the sheet's rows are numbered from ``first`` + 1."""
    origin = pd.DataFrame({"file": files, "sheet": sheets, "row": excel_rows, "part": parts},
                          index=pd.RangeIndex(first + 1, first + 1 + len(files)))
    sheet.origin = origin.loc[sheet.data.index]
    if area_codes:
        assume_area_codes(sheet, sheet.origin["file"].map(area_codes).fillna("").astype("str"))
    sheet.skipped = [(int(origin.at[r, "part"]), int(origin.at[r, "row"]), reason) for r, reason in sheet.skipped]
    return sheet


def _sheet_findings(findings: pd.DataFrame, sheet: SheetRead, members: list[tuple[FileEntry, SheetScan]],
                    header_rows: list[int]) -> pd.DataFrame:
    """Header findings of the combined sheet belong to every member sheet, on its own header row."""
    on_header = findings["row"] == sheet.header_row
    rows = findings[~on_header]
    header = findings[on_header]
    if header.empty:
        return rows
    copies = []
    for (entry, scan), row in zip(members, header_rows, strict=True):
        copy = header.assign(file=entry.display, sheet=scan.sheet, row=row)
        copy["message_zh"] = copy["message_zh"].str.replace(r"^第\d+行", f"第{row}行", regex=True)
        copy["message_en"] = copy["message_en"].str.replace(r"^Row \d+", f"Row {row}", regex=True)
        copies.append(copy)
    return pd.concat([rows, *copies], ignore_index=True)


def check_files(batch: list[tuple[Path, str]], registers: dict[str, Register] | None = None,
                reference_year: int | None = None, limits: Limits | None = None,
                area_codes: dict[str, str] | None = None) -> BatchResult:
    """Read and validate a batch of workbooks; split each sheet's rows into accepted and rejected.

    Each file's bytes are read once: the hash in the manifest and the rows read come from the same bytes.
    Sheets of the same register and layout (every store's copy of a template) are parsed and validated
    together; each row keeps its file, sheet and Excel row, and keys are unique per sheet, not across.
    """
    registers = registers if registers is not None else _worker_registers
    year = reference_year if reference_year is not None else _worker_year
    limits = limits or _worker_limits
    area_codes = area_codes if area_codes is not None else _worker_area_codes
    entries: list[FileEntry] = []
    scanned: list[tuple[FileEntry, WorkbookScan]] = []
    groups: dict[tuple, list[tuple[FileEntry, SheetScan]]] = {}
    for path, display in batch:
        entry = FileEntry(path, display, "ok", modified=_modified(path))
        entries.append(entry)
        data = None
        if not is_ignored(path) and workbook_kind(path):
            data = read_bytes(path, limits)
            if isinstance(data, bytes):
                entry.sha256 = hashlib.sha256(data).hexdigest()
        try:
            scan = scan_workbook(path, registers, data, limits)
        except Exception as e:  # the last guard: one file's surprise must not take its batch down
            scan = WorkbookScan(path, "unusable", *failure_reason(e))
        del data
        scanned.append((entry, scan))
        entry.status, entry.message_zh, entry.message_en = scan.status, scan.message_zh, scan.message_en
        entry.warnings.extend(f"{sheet}: {zh} / {en}" for sheet, zh, en in scan.notes)
        if scan.metadata is not None:
            entry.metadata_store = (scan.metadata.store_code, scan.metadata.store_name)
        for sheet_scan in scan.sheets:
            if sheet_scan.hidden:
                entry.warnings.append(f"{sheet_scan.sheet}: 隐藏的工作表，已读取 / a hidden sheet; read like the others")
            alone = (id(sheet_scan),) if sheet_scan.columns is not None else ()  # a tall sheet is read on its own
            groups.setdefault(_layout(sheet_scan) + alone, []).append((entry, sheet_scan))
    results, finding_frames = [], []
    for members in groups.values():
        try:
            sheet, header_rows = _read_together(members, year, area_codes)
            listed, omitted = validate_sheet_rows(sheet)
            findings = _sheet_findings(listed, sheet, members, header_rows)
            result, bad = _split_rejected(sheet, findings, members, omitted)
        except Exception as e:  # the last guard, as above: these sheets are unusable, the others go on
            zh, en = failure_reason(e)
            for entry, scan in members:
                entry.status = "unusable"
                entry.message_zh, entry.message_en = f"工作表「{scan.sheet}」: {zh}", f"sheet {scan.sheet}: {en}"
            continue
        finding_frames.append(findings)
        results.append(result)
        _count_rows(result.register, sheet, bad, members)
    for entry, scan in scanned:  # the manifest lists a file's registers in its sheets' order
        order = {s.sheet: i for i, s in enumerate(scan.sheets)}
        entry.sheets.sort(key=lambda s: order[s.sheet])
        entry.registers = list(dict.fromkeys(s.register for s in entry.sheets))
        why_not = {sheet: (zh, en) for sheet, zh, en in scan.unrecognised}
        entry.other_sheets = [SheetEntry(name, None, "none", *why_not.get(name, (
            "模板的说明页，不是登记表", "the template's instructions sheet; not a register"))) for name in scan.other_sheets]
        if scan.notes:  # an empty frame costs 3 ms a file
            finding_frames.append(note_findings(entry.display, scan.notes))
    finding_frames = [f for f in finding_frames if not f.empty]
    findings = pd.concat(finding_frames, ignore_index=True) if finding_frames else empty_findings()
    return BatchResult(entries, results, findings)


def failure_reason(error: BaseException) -> tuple[str, str]:
    """Why reading failed, for the manifest: out of memory said as such (Python's and Arrow's), else the error."""
    if isinstance(error, MemoryError) or "MemoryError" in type(error).__name__:
        return ("读取时内存不足，未读取（文件过大或损坏；可在 taizhang.toml 的 [limits] 中调整上限）",
                f"out of memory while reading ({type(error).__name__}); not read (too large or damaged; see [limits] "
                "in taizhang.toml)")
    return (f"读取时出错（{type(error).__name__}），未读取", f"error while reading ({type(error).__name__}: {error}); not read")


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except NotADirectoryError:  # a member of a zip
        return member_modified(path)
    except OSError:
        return 0.0


def _split_rejected(sheet: SheetRead, findings: pd.DataFrame, members: list[tuple[FileEntry, SheetScan]],
                    omitted: OmittedRows | None = None) -> tuple[SheetsResult, np.ndarray]:
    """Rows with an error are rejected, with their messages; a sheet-level error (a required column
    missing) rejects every row of that sheet. Rows are told apart by (member sheet, Excel row)."""
    origin = sheet.origin
    part_of = {(entry.display, scan.sheet): part for part, (entry, scan) in enumerate(members)}
    at = origin["part"].to_numpy(dtype="int64") << 32 | origin["row"].to_numpy(dtype="int64")
    errors = findings[findings["severity"] == "error"]
    error_part = np.array([part_of[key] for key in zip(errors["file"], errors["sheet"], strict=True)], dtype="int64")
    error_at = error_part << 32 | errors["row"].to_numpy(dtype="int64")
    on_row = np.isin(error_at, at)
    reasons = errors[on_row].assign(at=error_at[on_row])
    sheet_wide = errors[~on_row].assign(part=error_part[~on_row])
    if not sheet_wide.empty:  # every row of that sheet gets the sheet's error
        spread = sheet_wide.merge(pd.DataFrame({"part": origin["part"].to_numpy(dtype="int64"), "at": at}), on="part")
        reasons = pd.concat([reasons, spread], ignore_index=True)
    counted = omitted.rows if omitted is not None else pd.DataFrame({"part": [], "row": [], "reason": []})
    counted_at = counted["part"].to_numpy(dtype="int64") << 32 | counted["row"].to_numpy(dtype="int64")
    bad = np.isin(at, reasons["at"].to_numpy()) | np.isin(at, counted_at)
    register = members[0][1].register
    data = sheet.data
    source = pd.DataFrame({"source_file": origin["file"].to_numpy(), "source_sheet": origin["sheet"].to_numpy(),
                           "source_row": origin["row"].to_numpy(dtype="int64")}, index=data.index)
    accepted = pd.concat([source[~bad], data[~bad]], axis=1).reset_index(drop=True)
    rejected = source[bad].reset_index(drop=True)
    rejected["key"] = key_text(data[bad], register).to_numpy()
    rejected["key_complete"] = key_complete(data[bad], register).to_numpy()
    why = _row_reasons(reasons, at[bad])
    if len(counted_at):
        why = _with_counted_reasons(why, counted_at, counted["reason"].to_numpy(dtype="int64"), omitted.reasons)
    rejected["reason_zh"], rejected["reason_en"] = why["reason_zh"].array, why["reason_en"].array
    listed_fields = _bad_fields(reasons, at[bad], counted_at)
    evaluable = pd.concat([source[bad], data.loc[bad, _list_fields(register)]], axis=1).reset_index(drop=True)
    evaluable["_bad_fields"] = listed_fields
    return SheetsResult(register.id, _compact(accepted, _FEW_VALUES[:2]), _compact(rejected, _FEW_VALUES),
                        _compact(evaluable, _FEW_VALUES[:2] + ["_bad_fields"])), bad


def _list_fields(register: Register) -> list[str]:
    """The fields the overdue lists read of a record: its deadlines', its key, customer, owner and status."""
    used = set().union(*(d.fields() for d in register.deadlines)) if register.deadlines else set()
    used |= set(register.key) | {register.customer, register.owner, "status"}
    return [k for k in register.field_keys if k in used]


def _bad_fields(reasons: pd.DataFrame, rows: np.ndarray, counted_at: np.ndarray) -> np.ndarray:
    """For each rejected row (``rows``, as ``at``), the fields its listed errors are in, joined by ","; "*"
    for a row whose errors were counted rather than listed (their fields are not known here)."""
    by_row = (reasons.assign(field=reasons["field"].fillna("").astype(str)).groupby("at")["field"]
              .agg(lambda f: ",".join(sorted(set(f)))) if not reasons.empty else pd.Series(dtype=object))
    out = pd.Series(rows).map(by_row).fillna("").to_numpy(dtype=object)
    if len(counted_at):
        out[np.isin(rows, counted_at)] = "*"
    return out


_FEW_VALUES = ["source_file", "source_sheet", "reason_zh", "reason_en"]


def _compact(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Columns that repeat a few values over many rows (the file, the sheet, the reasons of rows that share
    their problems) as categories: a million rejected rows of one sheet cost their codes, not a million
    copies of a 200-character reason, in the worker, on the way to the parent and in the parent."""
    return frame.astype({c: "category" for c in columns if c in frame.columns})


def _text_categories(column: pd.Series) -> pd.Categorical:
    """A column as a categorical of text categories (union_categoricals wants one dtype of categories)."""
    if not isinstance(column.dtype, pd.CategoricalDtype):
        return pd.Categorical(column.astype("str"))
    column = column.cat.remove_unused_categories()
    return pd.Categorical.from_codes(column.cat.codes.to_numpy(), categories=column.cat.categories.astype("str"))


def _stack(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """``pd.concat`` that keeps category columns categories (concat makes differing categories strings,
    which would spell out every row again)."""
    if len(frames) == 1:
        return frames[0].reset_index(drop=True)
    stacked = pd.concat(frames, ignore_index=True)
    for column in stacked.columns:
        if any(isinstance(f[column].dtype, pd.CategoricalDtype) for f in frames if column in f.columns):
            parts = [f[column] if column in f.columns else pd.Series(pd.NA, index=f.index, dtype="str")
                     for f in frames]
            stacked[column] = pd.Series(union_categoricals([_text_categories(p) for p in parts]), index=stacked.index)
    return stacked


def _count_rows(register: str, sheet: SheetRead, bad: np.ndarray, members: list[tuple[FileEntry, SheetScan]]
                ) -> None:
    """Each member file's manifest line: rows accepted, rejected and skipped on this sheet."""
    parts = sheet.origin["part"].to_numpy(dtype="int64")
    accepted = np.bincount(parts[~bad], minlength=len(members))
    rejected = np.bincount(parts[bad], minlength=len(members))
    skipped = Counter(part for part, _, _ in sheet.skipped)
    for part, _, reason in sheet.skipped:
        members[part][0].skipped[reason] += 1
    for part, (entry, scan) in enumerate(members):
        entry.sheets.append(SheetEntry(scan.sheet, register, scan.detected_by, *scan.why))
        entry.rows_accepted += int(accepted[part])
        entry.rows_rejected += int(rejected[part])
        entry.rows_read += int(accepted[part] + rejected[part])
        entry.rows_skipped += skipped[part]


# --- putting the files together ------------------------------------------------------------------------
def _folder_store(entry: FileEntry, root: Path) -> tuple[str, str] | None:
    """The nearest parent folder named ``<code>_<name>`` (``2026-10`` is a month, not a store)."""
    parent = entry.path.parent
    top = root if root.is_dir() else root.parent
    while parent != top and parent.parent != parent:
        m = _STORE_FOLDER.match(shown(parent.name))
        if m and not re.fullmatch(r"[\d\W_]+", m.group("name")):
            return m.group("code"), m.group("name")
        parent = parent.parent
    return None


def _stores_of_rows(records: pd.DataFrame, register: Register, config: Config
                    ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A head-office register's rows filed under the store their ``store`` column names: a store of
    taizhang.toml by code or name, or (with no stores configured) the value itself. An empty cell keeps the
    file's store. Rows naming no known store, or none at all, are rejected with a finding each.
    Returns the records kept, the rows taken out (with ``_shown``, their key) and their findings."""
    field = register.field(register.store)
    values = records[register.store].astype("str").fillna("").str.strip()
    names = values.unique()
    known = {v: config.store_named(v) for v in names if v} if config.stores else {}
    codes = {v: (known[v].code if known.get(v) else "") if config.stores else v for v in names}
    shown_names = {v: (known[v].name if known.get(v) else "") if config.stores else v for v in names}
    code, name = values.map(codes).astype("str"), values.map(shown_names).astype("str")
    code = code.where(values != "", records["store_code"].fillna("").astype("str"))
    name = name.where(values != "", records["store_name"].fillna("").astype("str"))
    bad = (code == "").to_numpy()
    kept = records[~bad].assign(store_code=code[~bad].to_numpy(), store_name=name[~bad].to_numpy())
    unknown = records[bad].assign(_shown=key_text(records[bad], register).to_numpy())
    shown = values[bad]
    empty = (shown == "").to_numpy()
    zh = np.where(empty, "门店为空，且文件不属于任何门店", "「" + shown + "」不是 taizhang.toml 中的门店（按编号或店名）")
    en = np.where(empty, "no store named, and the file belongs to no store",
                  shown + " is not a store of taizhang.toml (by code or name)")
    rows = unknown["source_row"].astype(str)
    found = pd.DataFrame({
        "file": unknown["source_file"].to_numpy(), "sheet": unknown["source_sheet"].to_numpy(),
        "row": unknown["source_row"].to_numpy(dtype="int64"), "column": "", "field": register.store,
        "value": shown.to_numpy(), "code": "constraint-error", "severity": "error",
        "message_zh": ("第" + rows + f"行「{field.label_zh}」: " + zh).to_numpy(),
        "message_en": ("Row " + rows + f", {field.label_en}: " + en).to_numpy()})
    return kept, unknown, found


def _area_codes(items: list[tuple[Path, str]], root: Path, config: Config) -> dict[str, str]:
    """Each file's telephone area code, known before reading: its store's (by the configuration's paths or
    its ``<code>_<name>`` folder), else the company's; files without one are left out."""
    codes = {}
    for path, display in items:
        store = config.store_for_path(display)
        if store is None and (folder := _folder_store(FileEntry(path, display, "ok"), root)):
            store = config.stores.get(folder[0])
        code = (store.area_code if store is not None else "") or config.area_code
        if code:
            codes[display] = code
    return codes


def _resolve_store(entry: FileEntry, root: Path, config: Config, store_fields: dict[str, str | None]) -> None:
    """The configuration's paths, else a ``<code>_<name>`` parent folder, else the template's metadata,
    else the run's ``--store``. A file of registers whose rows name their store (``store:`` in the
    definition) needs none of these.

    Head office files a submission under the store that sent it: a store that filled a copy of another
    store's template carries that store's code in the metadata, so the folder wins, and the conflict is
    said on the file's manifest line."""
    meta_code, meta_name = entry.metadata_store
    code, name, source = None, None, ""
    store = config.store_for_path(entry.display)
    if store is not None:
        code, name, source = store.code, store.name, "taizhang.toml"
    elif (folder := _folder_store(entry, root)) is not None:
        code, name = folder
        source = "folder"
    elif meta_code:
        code, name = meta_code, meta_name
    elif config.default_store is not None:
        code, name = config.default_store
        source = "--store"
    if code and meta_code and str(meta_code) != str(code):
        where_zh = "taizhang.toml 的 paths" if source == "taizhang.toml" else "所在文件夹"
        where_en = "the paths in taizhang.toml" if source == "taizhang.toml" else "its folder"
        entry.warnings.append(
            f"门店不一致：模板信息写的是 {meta_code} {meta_name or ''}，{where_zh}为 {code} {name or ''}，按 {code} 记入 / "
            f"store conflict: the template metadata says {meta_code} {meta_name or ''}, {where_en} says {code}; "
            f"filed under {code}")
    if not code and entry.registers and all(store_fields.get(r) for r in entry.registers):
        return  # a head-office register: each row names its store
    if not code:
        entry.status = "unusable"
        entry.message_zh = ("无法确定门店：文件中没有模板信息，文件夹名也不是「编号_店名」形式；"
                            "请在 taizhang.toml 的 [[stores]] paths 中指定")
        entry.message_en = ("cannot tell which store this is: the workbook has no template metadata and no folder is "
                            "named <code>_<name>; map it with paths under [[stores]] in taizhang.toml")
        entry.rows_accepted, entry.rows_rejected = 0, entry.rows_read
        return
    known = config.stores.get(str(code))
    entry.store_code = str(code)
    entry.store_name = known.name if known else (name or "")


def _store_by_place(entry: FileEntry, root: Path, config: Config) -> None:
    """The store a line that gave no records stands for, by where it lies (the configuration's paths, else a
    ``<code>_<name>`` folder): a store that sent nothing usable (an empty folder, a scan, a damaged file) is
    in the overview with nothing, not missing from it."""
    folder = entry.kind == "folder"
    store = config.store_for_path(f"{entry.display}/" if folder else entry.display)
    found = (store.code, store.name) if store else _folder_store(
        FileEntry(entry.path / "_", entry.display, "ok") if folder else entry, root)
    if found:
        entry.store_code, entry.store_name = found


def _mark_duplicates(entries: list[FileEntry]) -> None:
    """The same content submitted twice counts once: later copies (in path order) become duplicates."""
    first: dict[str, FileEntry] = {}
    for entry in entries:
        if not entry.sha256 or entry.status not in ("ok", "unusable"):
            continue
        original = first.setdefault(entry.sha256, entry)
        if original is not entry:
            entry.status = "duplicate"
            entry.message_zh = f"与 {original.display} 内容完全相同，只计一次"
            entry.message_en = f"same content as {original.display}; counted once"
            entry.rows_accepted = entry.rows_rejected = 0
            entry.rows_read = 0


def _supersede_originals(entries: list[FileEntry]) -> None:
    """A corrected annotated copy (X_校验结果.xlsx) sent beside its original (X.xlsx) is the newer version of
    it, as a whole: rows the clerk deleted in the copy must not survive from the original. The original is
    set aside, said on its line; unless it was saved after the copy, then the copy is (and that is said)."""
    by_copy = {(target.parent, target.stem): e for e in entries if e.status in ("ok", "unusable")
               for target in (annotated_path(e.path),)}
    for copy in entries:
        if copy.status not in ("ok", "unusable") or not copy.path.stem.endswith(ANNOTATED_SUFFIX):
            continue
        original = by_copy.get((copy.path.parent, copy.path.stem))
        if original is None:
            continue
        newer, older = (copy, original) if copy.modified >= original.modified - TIE_SECONDS else (original, copy)
        older.status = "ignored"
        older.message_zh = f"已由较新的 {newer.display} 整体取代，未计入"
        older.message_en = f"replaced as a whole by the newer {newer.display}; not counted"
        older.rows_accepted = older.rows_rejected = older.rows_read = older.rows_skipped = 0
        older.skipped.clear()


def _register_rows(batches: list[BatchResult], register: Register) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every accepted and every rejected row of one register, from all batches (one concat each)."""
    parts = [r for b in batches for r in b.sheets if r.register == register.id]
    columns = ["source_file", "source_sheet", "source_row", *register.field_keys]
    accepted = [r.accepted if list(r.accepted.columns) == columns else r.accepted[columns] for r in parts]
    rejected = [r.rejected for r in parts]
    return (_stack(accepted) if accepted else empty_records(register)[columns],
            _stack(rejected) if rejected else _empty_rejected()[_SHEET_REJECTED])


def _with_store(frame: pd.DataFrame, by_display: dict[str, FileEntry]) -> pd.DataFrame:
    """The store code and name of each row's file in front, as the consolidated frames carry them."""
    files = frame["source_file"].astype("string")
    stores = pd.DataFrame({"store_code": _of_file(files, by_display, "store_code").astype("string"),
                           "store_name": _of_file(files, by_display, "store_name").astype("string")},
                          index=frame.index)
    frame = frame.assign(source_file=files, source_sheet=frame["source_sheet"].astype("string"))
    return pd.concat([stores, frame], axis=1)


def _of_file(files: pd.Series, by_display: dict[str, FileEntry], attribute: str) -> pd.Series:
    """Each row's file's ``attribute`` (status, store code, message…), looked up once per file."""
    return files.map({display: getattr(entry, attribute) for display, entry in by_display.items()})


def _empty_rejected() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="int64" if c == "source_row" else "string") for c in REJECTED_COLUMNS})


def _keyed(frame: pd.DataFrame, shown: pd.Series, complete: pd.Series, rank: pd.Series, accepted: bool
           ) -> pd.DataFrame:
    return pd.DataFrame({"store_code": frame["store_code"].to_numpy(), "source_file": frame["source_file"].to_numpy(),
                         "source_row": frame["source_row"].to_numpy(), "_shown": shown.to_numpy(),
                         "_key": shown.str.casefold().to_numpy(), "_rank": rank.to_numpy(), "_accepted": accepted,
                         "_at": frame.index.to_numpy()})[complete.to_numpy(dtype=bool)]


def _replace_older(records: pd.DataFrame, rejected: pd.DataFrame, register: Register, order: dict[str, int]
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Where two files of a store carry the same record key, the newer file's row wins, accepted or
    rejected: a store that sends v2 with an error on a row has withdrawn v1's record of that key (it is
    not current until the store fixes v2). Returns the records kept and the records replaced, each
    replaced one with the winner's file, row and whether the winner was rejected."""
    if records.empty or not register.key:
        return records, records.iloc[0:0]
    both = pd.concat([records[["store_code", "source_file"]], rejected[["store_code", "source_file"]]])
    files_per_store = both.groupby("store_code", sort=False)["source_file"].nunique()
    several = files_per_store.index[files_per_store > 1]
    if several.empty:  # one file per store: nothing can replace anything
        return records, records.iloc[0:0]
    mine = records[records["store_code"].isin(several)]
    theirs = rejected[rejected["store_code"].isin(several)]
    keyed = pd.concat([
        _keyed(mine, key_text(mine, register), key_complete(mine, register), mine["source_file"].map(order), True),
        _keyed(theirs, theirs["key"].astype("string"), theirs["key_complete"].fillna(False).astype(bool),
               theirs["source_file"].map(order), False),
    ], ignore_index=True).sort_values(["_rank", "source_row"], kind="stable")
    newest = keyed.drop_duplicates(["store_code", "_key"], keep="last")
    winners = newest.set_index(["store_code", "_key"])[["source_file", "source_row", "_accepted"]]
    losers = keyed[keyed["_accepted"]].join(winners.add_suffix("_winner"), on=["store_code", "_key"])
    losers = losers[losers["source_file_winner"] != losers["source_file"]]
    if losers.empty:
        return records, records.iloc[0:0]
    replaced = records.loc[losers["_at"].to_numpy()].assign(
        _shown=losers["_shown"].to_numpy(), source_file_winner=losers["source_file_winner"].to_numpy(),
        source_row_winner=losers["source_row_winner"].to_numpy(), winner_rejected=~losers["_accepted_winner"].to_numpy())
    return records.drop(index=replaced.index).reset_index(drop=True), replaced


def _repeats_in_file(records: pd.DataFrame, register: Register, sheet_order: dict[tuple[str, str], int]
                     ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A key that repeats across the sheets of one file (a hidden copy of the register, a second sheet of
    the same rows) is one record: the first (in sheet order) is kept, the others are rejected as repeats."""
    if records.empty or not register.key:
        return records, records.iloc[0:0]
    counts = records.groupby(["store_code", "source_file"], sort=False)["source_sheet"].nunique()
    if not (counts > 1).any():
        return records, records.iloc[0:0]
    shown = key_text(records, register)
    frame = records.assign(_shown=shown, _key=shown.str.casefold(),
                           _sheet=[sheet_order.get(k, 0) for k in zip(records["source_file"], records["source_sheet"],
                                                                       strict=True)])
    frame = frame[key_complete(records, register).to_numpy()].sort_values(["_sheet", "source_row"], kind="stable")
    repeat = frame.duplicated(["store_code", "source_file", "_key"], keep="first")
    if not repeat.any():
        return records, records.iloc[0:0]
    first = frame[~repeat].set_index(["store_code", "source_file", "_key"])[["source_sheet", "source_row"]]
    repeats = frame[repeat].join(first.add_suffix("_first"), on=["store_code", "source_file", "_key"])
    return records.drop(index=repeats.index).reset_index(drop=True), repeats


def _repeat_findings(repeats: pd.DataFrame, register: Register) -> pd.DataFrame:
    label = "、".join(register.field(k).label_zh for k in register.key)
    label_en = ", ".join(register.field(k).label_en for k in register.key)
    rows = repeats["source_row"].astype(str)
    first = "工作表「" + repeats["source_sheet_first"] + "」第" + repeats["source_row_first"].astype(str) + "行"
    first_en = "sheet " + repeats["source_sheet_first"] + " row " + repeats["source_row_first"].astype(str)
    return pd.DataFrame({
        "file": repeats["source_file"], "sheet": repeats["source_sheet"], "row": repeats["source_row"].astype("int64"),
        "column": "", "field": register.key[0], "value": repeats["_shown"], "code": "unique-error",
        "severity": "error",
        "message_zh": "第" + rows + f"行「{label}」: " + repeats["_shown"] + " 与同一文件" + first + "重复，只计一次",
        "message_en": "Row " + rows + f", {label_en}: " + repeats["_shown"] + " repeats " + first_en
                      + " of the same file; counted once",
    }).reset_index(drop=True)


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _batches(items: list[tuple[Path, str]], workers: int) -> list[list[tuple[Path, str]]]:
    """Consecutive files in batches, each about a 1/(2 × workers) share of the bytes still to come, between
    SMALLEST_BATCH_BYTES and BATCH_BYTES."""
    sizes = [_file_size(path) for path, _ in items]
    left = sum(sizes)
    batches: list[list[tuple[Path, str]]] = []
    used = target = 0
    for item, size in zip(items, sizes, strict=True):
        if not batches or (used and used + size > target):
            batches.append([])
            used = 0
            target = max(SMALLEST_BATCH_BYTES, min(BATCH_BYTES, left // (2 * workers)))
        batches[-1].append(item)
        used += size
        left -= size
    return batches


def _problem_entry(item: InputPath) -> FileEntry:
    zh, en = item.problem or ("", "")
    return FileEntry(item.path, item.display, item.status, kind=item.kind, message_zh=zh, message_en=en)


WORKER_DIED = ("读取此文件时读取进程异常退出（可能是内存不足或文件损坏），未读取",
               "the reading process died on this file (out of memory or a damaged file); not read")


def _failed_batch(batch: list[tuple[Path, str]], reason: tuple[str, str]) -> BatchResult:
    """A batch that could not be read at all: each of its files is listed as unusable with the reason."""
    files = [FileEntry(path, display, "unusable", modified=_modified(path), message_zh=reason[0],
                       message_en=reason[1]) for path, display in batch]
    return BatchResult(files, [], empty_findings())


def _read_batches(batches: list[list[tuple[Path, str]]], workers: int, registers: dict[str, Register],
                  reference_year: int | None, limits: Limits, progress: Callable[[int], None],
                  area_codes: dict[str, str]) -> list[BatchResult]:
    """Every batch read in worker processes. A worker that dies (killed, out of memory, a reader's abort)
    costs only what it held: its batch is read again file by file, each in a fresh worker, and the file
    that kills a worker on its own is unusable with the reason; the run goes on."""
    done: dict[int, BatchResult] = {}
    retry: list[int] = []
    context = get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                             initargs=(registers, reference_year, limits, area_codes)) as pool:
        futures = {pool.submit(check_files, batch): i for i, batch in enumerate(batches)}
        for future in as_completed(futures):
            i = futures[future]
            try:
                done[i] = future.result()
                progress(len(done[i].files))
            except Exception:  # BrokenProcessPool, or an error that escaped the per-file guard
                retry.append(i)
    parts: list[BatchResult] = [done[i] for i in sorted(done)]
    for i in sorted(retry):
        for item in batches[i]:
            with ProcessPoolExecutor(1, mp_context=context, initializer=_init_worker,
                                     initargs=(registers, reference_year, limits, area_codes)) as pool:
                try:
                    parts.append(pool.submit(check_files, [item]).result())
                except Exception as e:
                    reason = WORKER_DIED if isinstance(e, BrokenProcessPool) else failure_reason(e)
                    parts.append(_failed_batch([item], reason))
            progress(1)
    return parts


def _newer_order(usable: list[FileEntry]) -> tuple[dict[str, int], dict[str, int]]:
    """Each file's rank from older to newer, and its group of files saved within 2 s of each other:
    within such a group "newer" cannot be told, and the file whose name sorts later counts as newer."""
    by_time = sorted(usable, key=lambda e: (e.modified, e.display))
    group: dict[str, int] = {}
    current, last = -1, None
    for e in by_time:
        if last is None or e.modified - last > TIE_SECONDS:
            current += 1
        group[e.display] = current
        last = e.modified
    ranked = sorted(usable, key=lambda e: (group[e.display], e.display))
    return {e.display: i for i, e in enumerate(ranked)}, group


TIE_SECONDS = 2.0


def consolidate(
    input_dir: Path | str, registers: dict[str, Register], config: Config | None = None,
    reference_year: int | None = None, jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None, limits: Limits | None = None,
) -> Consolidation:
    """Read, validate and put together every workbook under ``input_dir``. Every file and folder under it
    has a line in the manifest; none can stop the run over the others."""
    root = Path(input_dir)
    config = config or Config()
    limits = limits or config.limits
    inputs = walk_inputs(root)
    items = [(p.path, p.display) for p in inputs if p.problem is None]
    total, done = len(items), [0]

    def advance(files: int) -> None:
        done[0] += files
        if progress:
            progress(done[0], total)

    advance(0)  # the bar knows its total from the start
    area_codes = _area_codes(items, root, config)
    workers = min(jobs or os.cpu_count() or 1, len(items))
    batches = _batches(items, max(workers, 1))
    if workers > 1 and len(batches) > 1:
        batches_done = _read_batches(batches, workers, registers, reference_year, limits, advance, area_codes)
    else:
        batches_done = []
        for batch in batches:
            batches_done.append(check_files(batch, registers, reference_year, limits, area_codes))
            advance(len(batch))
    read = {entry.display: entry for b in batches_done for entry in b.files}
    entries = [read[p.display] if p.problem is None else _problem_entry(p) for p in inputs]
    _mark_duplicates(entries)
    _supersede_originals(entries)
    for entry in entries:
        if entry.status == "ok":
            _resolve_store(entry, root, config, {reg_id: r.store for reg_id, r in registers.items()})
        elif not entry.store_code:
            _store_by_place(entry, root, config)
    by_display = {e.display: e for e in entries}
    usable = [e for e in entries if e.status == "ok" or (e.status == "unusable" and e.sheets)]
    order, same_time = _newer_order(usable)
    sheet_order = {(e.display, sh.sheet): i for e in entries for i, sh in enumerate(e.sheets)}
    records: dict[str, pd.DataFrame] = {}
    rejected_records: dict[str, pd.DataFrame] = {}
    rejected_frames: list[pd.DataFrame] = []
    extra_findings: list[pd.DataFrame] = []
    for reg_id, register in registers.items():
        accepted, rejected = _register_rows(batches_done, register)
        evaluable = _stack(parts) if (parts := [r.rejected_data for b in batches_done for r in b.sheets
                                                if r.register == reg_id and r.rejected_data is not None]) else None
        of_file = _of_file(accepted["source_file"], by_display, "status")
        unusable = accepted[of_file == "unusable"]
        if not unusable.empty:  # a file whose store cannot be told: its rows are rejected, each with the reason
            unusable = unusable[_SHEET_REJECTED[:3]].assign(key=key_text(unusable, register).to_numpy())
            unusable["reason_zh"] = _of_file(unusable["source_file"], by_display, "message_zh")
            unusable["reason_en"] = _of_file(unusable["source_file"], by_display, "message_en")
            rejected = pd.concat([rejected, unusable], ignore_index=True)
        rejected = rejected[_of_file(rejected["source_file"], by_display, "status").isin(["ok", "unusable"])]
        rejected = _with_store(rejected, by_display).assign(register=reg_id, register_name=register.name_zh)
        if not rejected.empty:
            rejected_frames.append(rejected)
        current = _with_store(accepted[(of_file == "ok").to_numpy()], by_display)
        if register.store:
            current, unknown, found = _stores_of_rows(current, register, config)
            if not unknown.empty:
                extra_findings.append(found)
                _move_to_rejected(unknown, by_display)
                rejected_frames.append(_rejected_frame(unknown, reg_id, register, found["message_zh"].to_numpy(),
                                                       found["message_en"].to_numpy()))
        current, repeats = _repeats_in_file(current, register, sheet_order)
        if not repeats.empty:
            found = _repeat_findings(repeats, register)
            extra_findings.append(found)
            _move_to_rejected(repeats, by_display)
            rejected_frames.append(_rejected_frame(repeats, reg_id, register, found["message_zh"].to_numpy(),
                                                   found["message_en"].to_numpy()))
        ok_rejected = rejected[_of_file(rejected["source_file"], by_display, "status") == "ok"]
        merged, replaced = _replace_older(current, ok_rejected, register, order)
        records[reg_id] = merged
        if evaluable is not None and not evaluable.empty:
            kept = evaluable[(_of_file(evaluable["source_file"], by_display, "status") == "ok").to_numpy()]
            rejected_records[reg_id] = _newest_of_each_key(
                _not_superseded(_with_store(kept, by_display), merged, register), register, order)
        if not replaced.empty:
            _move_to_rejected(replaced, by_display)
            _say_undecidable(replaced, same_time, by_display)
            there_zh = np.where(replaced["winner_rejected"], "（该行有错误被拒收，修正后才计入）", "")
            there_en = np.where(replaced["winner_rejected"], " (that row was rejected for errors: fix it there)", "")
            rejected_frames.append(_rejected_frame(
                replaced, reg_id, register,
                "编号与较新的文件 " + replaced["source_file_winner"] + " 第" +
                replaced["source_row_winner"].astype(str) + "行相同，已由其取代" + there_zh,
                "same record key as the newer file " + replaced["source_file_winner"] + " row " +
                replaced["source_row_winner"].astype(str) + "; replaced by it" + there_en))
    rejected = _stack(rejected_frames)[REJECTED_COLUMNS] if rejected_frames else _empty_rejected()
    rejected = rejected.sort_values(["store_code", "source_file", "source_sheet", "source_row"],
                                    kind="stable").reset_index(drop=True)
    frames = [b.findings for b in batches_done] + extra_findings
    findings = pd.concat(frames, ignore_index=True) if frames else empty_findings()
    findings = findings[~_of_file(findings["file"], by_display, "status").isin(["duplicate", "ignored"])]
    files = findings["file"].astype("string")
    findings = findings.assign(store_code=_of_file(files, by_display, "store_code"),
                               store_name=_of_file(files, by_display, "store_name"))
    findings = findings.iloc[np.argsort(files.map({d: i for i, d in enumerate(by_display)}).to_numpy(), kind="stable")]
    findings = findings.reset_index(drop=True)
    records = {reg_id: frame.sort_values(["store_code", "source_file", "source_sheet", "source_row"],
                                         kind="stable", ignore_index=True) for reg_id, frame in records.items()}
    return Consolidation(root, registers, entries, records, rejected, findings, rejected_records)


def _not_superseded(rows: pd.DataFrame, records: pd.DataFrame, register: Register) -> pd.DataFrame:
    """Rejected rows whose key a current record of the same store does not carry (that record stands)."""
    if rows.empty or records.empty or not register.key:
        return rows
    theirs = set(zip(records["store_code"], key_text(records, register).str.casefold(), strict=True))
    mine = pd.Series(list(zip(rows["store_code"], key_text(rows, register).str.casefold(), strict=True)),
                     index=rows.index)
    return rows[~mine.isin(theirs).to_numpy()]


def _newest_of_each_key(rows: pd.DataFrame, register: Register, order: dict[str, int]) -> pd.DataFrame:
    """Of rejected rows sharing a store and a complete key (v1 and v2 of a file, both with an error), only
    the newest file's: one record, one judgement."""
    if rows.empty or not register.key:
        return rows
    complete = key_complete(rows, register).to_numpy(dtype=bool)
    keyed = rows.assign(_key=key_text(rows, register).str.casefold().to_numpy(),
                        _rank=rows["source_file"].astype(str).map(order).fillna(-1).to_numpy())
    newest = keyed[complete].sort_values("_rank", kind="stable").drop_duplicates(["store_code", "_key"], keep="last")
    return pd.concat([newest, keyed[~complete]]).sort_index().drop(columns=["_key", "_rank"])


def _move_to_rejected(rows: pd.DataFrame, by_display: dict[str, FileEntry]) -> None:
    """Rows taken out of the records after the files were counted: their files' counts follow."""
    for display, count in rows["source_file"].value_counts().items():
        by_display[display].rows_accepted -= int(count)
        by_display[display].rows_rejected += int(count)


def _rejected_frame(rows: pd.DataFrame, reg_id: str, register: Register, zh, en) -> pd.DataFrame:
    return pd.DataFrame({
        "store_code": rows["store_code"].to_numpy(), "store_name": rows["store_name"].to_numpy(), "register": reg_id,
        "register_name": register.name_zh, "source_file": rows["source_file"].to_numpy(),
        "source_sheet": rows["source_sheet"].to_numpy(), "source_row": rows["source_row"].to_numpy(),
        "key": rows["_shown"].to_numpy(), "reason_zh": np.asarray(zh, dtype=object),
        "reason_en": np.asarray(en, dtype=object)})


def _say_undecidable(replaced: pd.DataFrame, same_time: dict[str, int], by_display: dict[str, FileEntry]) -> None:
    """Files saved within 2 s of each other whose keys overlap: which is newer was decided by name."""
    pairs = set(zip(replaced["source_file"], replaced["source_file_winner"], strict=True))
    for older, newer in sorted(pairs):
        if same_time.get(older) != same_time.get(newer):
            continue
        text = (f"{older} 与 {newer} 的修改时间相同或相差不到{TIE_SECONDS:g}秒，无法判断哪个较新：按文件名排序，"
                f"同一编号取 {newer} 的记录 / {older} and {newer} were saved within {TIE_SECONDS:g} s of each other: "
                f"which is newer cannot be told; for the same key the records of {newer} (its name sorts later) were kept")
        for display in (older, newer):
            if text not in by_display[display].warnings:
                by_display[display].warnings.append(text)
