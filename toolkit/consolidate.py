"""Head office's monthly job: every store's register workbooks in, one set of records out.

Each workbook is read and validated on its own (in parallel processes: workbooks are independent),
then the results are put together in the parent: which store each file belongs to, which files are
the same submission twice, which records a store's newer file replaces. The accounting is kept per
file so it can be audited: rows read = rows accepted + rows rejected, and every rejected row has its
reasons.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .coerce import arrow_strings
from .config import Config
from .definitions import Register
from .reader import (
    WORKBOOK_SUFFIXES,
    HeaderMatch,
    SheetRead,
    SheetScan,
    WorkbookScan,
    is_ignored,
    read_sheet,
    scan_workbook,
)
from .records import empty_records, key_complete, key_text
from .validate import empty_findings, validate_sheet

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
    register: str


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

    @property
    def message(self) -> str:
        return f"{self.message_zh} / {self.message_en}" if self.message_zh else ""

    def manifest(self) -> dict:
        return {"path": self.display, "status": self.status, "store_code": self.store_code or None,
                "store_name": self.store_name or None, "registers": self.registers, "sha256": self.sha256 or None,
                "rows_read": self.rows_read, "rows_accepted": self.rows_accepted,
                "rows_rejected": self.rows_rejected, "message": self.message}


@dataclass
class SheetsResult:
    """Sheets of one register and layout, read and validated together in a worker (every store's copy of
    a template): the accepted rows and the rejected rows with their reasons, each with its file, sheet
    and Excel row. Kept together rather than per file: splitting them per file cost more than the checks."""

    register: str
    accepted: pd.DataFrame  # source_file, source_sheet, source_row, then the field keys (typed)
    rejected: pd.DataFrame  # source_file, source_sheet, source_row, key, reason_zh, reason_en


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

    @property
    def stores(self) -> list[tuple[str, str]]:
        seen = {(f.store_code, f.store_name) for f in self.files if f.status == "ok" and f.store_code}
        return sorted(seen)

    def all_stores(self, config: Config | None = None) -> dict[str, str]:
        """Stores that sent something, plus the configured stores that sent nothing (they must show up too)."""
        stores = dict(self.stores)
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

    def sheet_registers(self) -> pd.DataFrame:
        """Which register each read sheet held (file, sheet, register): findings name a file and sheet only."""
        return pd.DataFrame([(e.display, s.sheet, s.register) for e in self.files for s in e.sheets],
                            columns=["file", "sheet", "register"])

    def manifest(self, output: Path | str | None = None) -> dict:
        return {"files": [f.manifest() for f in self.files], "output": str(output) if output else None}


# --- reading one file (runs in a worker process) ----------------------------------------------------
_worker_registers: dict[str, Register] = {}
_worker_year: int | None = None


def _init_worker(registers: dict[str, Register], reference_year: int | None) -> None:
    global _worker_registers, _worker_year
    _worker_registers, _worker_year = registers, reference_year


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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


def _layout(scan: SheetScan) -> tuple:
    h = scan.header
    return (scan.register.id, tuple(sorted(h.columns.items())), tuple(sorted(h.extra.items())),
            tuple(sorted(h.duplicates.items())))


def _read_together(members: list[tuple[FileEntry, SheetScan]], reference_year: int | None
                   ) -> tuple[SheetRead, list[int]]:
    """Sheets of the same register and the same column layout, read as one sheet (one pass of pandas work
    instead of one per small sheet); ``origin`` keeps each row's file, sheet and Excel row."""
    first = members[0][1]
    rows: list[list] = [first.rows[first.header.row]]
    files, sheets, excel_rows, parts, header_rows = [], [], [], [], []
    for part, (entry, scan) in enumerate(members):
        body = scan.rows[scan.header.row + 1:]
        rows.extend(body)
        files.extend([entry.display] * len(body))
        sheets.extend([scan.sheet] * len(body))
        excel_rows.extend(range(scan.header.row + 2, scan.header.row + 2 + len(body)))
        parts.extend([part] * len(body))
        header_rows.append(scan.header.row + 1)
    header = HeaderMatch(0, dict(first.header.columns), dict(first.header.headers), dict(first.header.extra),
                         dict(first.header.duplicates))
    sheet = read_sheet(rows, first.sheet, first.sheet, first.register, header, reference_year)
    origin = pd.DataFrame({"file": files, "sheet": sheets, "row": excel_rows, "part": parts},
                          index=pd.RangeIndex(2, 2 + len(files)))
    sheet.origin = origin.loc[sheet.data.index]
    sheet.skipped = [(int(origin.at[r, "part"]), int(origin.at[r, "row"]), reason) for r, reason in sheet.skipped]
    return sheet, header_rows


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
                reference_year: int | None = None) -> BatchResult:
    """Read and validate a batch of workbooks; split each sheet's rows into accepted and rejected.

    Sheets of the same register and layout (every store's copy of a template) are parsed and validated
    together; each row keeps its file, sheet and Excel row, and keys are unique per sheet, not across.
    """
    registers = registers if registers is not None else _worker_registers
    year = reference_year if reference_year is not None else _worker_year
    entries: list[FileEntry] = []
    scanned: list[tuple[FileEntry, WorkbookScan]] = []
    groups: dict[tuple, list[tuple[FileEntry, SheetScan]]] = {}
    for path, display in batch:
        entry = FileEntry(path, display, "ok", modified=path.stat().st_mtime if path.exists() else 0.0)
        entries.append(entry)
        if not is_ignored(path) and path.suffix.lower() in WORKBOOK_SUFFIXES:
            entry.sha256 = file_sha256(path)
        scan = scan_workbook(path, registers)
        scanned.append((entry, scan))
        entry.status, entry.message_zh, entry.message_en = scan.status, scan.message_zh, scan.message_en
        if scan.metadata is not None:
            entry.metadata_store = (scan.metadata.store_code, scan.metadata.store_name)
        for sheet_scan in scan.sheets:
            groups.setdefault(_layout(sheet_scan), []).append((entry, sheet_scan))
    results, finding_frames = [], []
    for members in groups.values():
        sheet, header_rows = _read_together(members, year)
        findings = _sheet_findings(validate_sheet(sheet), sheet, members, header_rows)
        finding_frames.append(findings)
        result, bad = _split_rejected(sheet, findings, members)
        results.append(result)
        _count_rows(result.register, sheet, bad, members)
    for entry, scan in scanned:  # the manifest lists a file's registers in its sheets' order
        order = {s.sheet: i for i, s in enumerate(scan.sheets)}
        entry.sheets.sort(key=lambda s: order[s.sheet])
        entry.registers = list(dict.fromkeys(s.register for s in entry.sheets))
    findings = pd.concat(finding_frames, ignore_index=True) if finding_frames else empty_findings()
    return BatchResult(entries, results, findings)


def _split_rejected(sheet: SheetRead, findings: pd.DataFrame, members: list[tuple[FileEntry, SheetScan]]
                    ) -> tuple[SheetsResult, np.ndarray]:
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
    bad = np.isin(at, reasons["at"].to_numpy())
    register = members[0][1].register
    data = sheet.data
    source = pd.DataFrame({"source_file": origin["file"].to_numpy(), "source_sheet": origin["sheet"].to_numpy(),
                           "source_row": origin["row"].to_numpy(dtype="int64")}, index=data.index)
    accepted = pd.concat([source[~bad], data[~bad]], axis=1).reset_index(drop=True)
    rejected = source[bad].reset_index(drop=True)
    rejected["key"] = key_text(data[bad], register).to_numpy()
    why = _row_reasons(reasons, at[bad])
    rejected["reason_zh"], rejected["reason_en"] = why["reason_zh"].to_numpy(), why["reason_en"].to_numpy()
    return SheetsResult(register.id, accepted, rejected), bad


def _count_rows(register: str, sheet: SheetRead, bad: np.ndarray, members: list[tuple[FileEntry, SheetScan]]
                ) -> None:
    """Each member file's manifest line: rows accepted, rejected and skipped on this sheet."""
    parts = sheet.origin["part"].to_numpy(dtype="int64")
    accepted = np.bincount(parts[~bad], minlength=len(members))
    rejected = np.bincount(parts[bad], minlength=len(members))
    skipped = Counter(part for part, _, _ in sheet.skipped)
    for part, (entry, scan) in enumerate(members):
        entry.sheets.append(SheetEntry(scan.sheet, register))
        entry.rows_accepted += int(accepted[part])
        entry.rows_rejected += int(rejected[part])
        entry.rows_read += int(accepted[part] + rejected[part])
        entry.rows_skipped += skipped[part]


# --- putting the files together ------------------------------------------------------------------------
def find_input_files(input_dir: Path) -> list[Path]:
    """Every file under the input folder, in a stable order (non-workbooks are listed as ignored)."""
    if input_dir.is_file():
        return [input_dir]
    return sorted(p for p in input_dir.rglob("*") if p.is_file())


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root if root.is_dir() else root.parent).as_posix()
    except ValueError:
        return path.as_posix()


def _resolve_store(entry: FileEntry, root: Path, config: Config) -> None:
    """Template metadata, else the configuration's paths, else a ``<code>_<name>`` parent folder."""
    code, name = entry.metadata_store
    if not code:
        store = config.store_for_path(entry.display)
        if store is not None:
            code, name = store.code, store.name
    if not code:
        parent = entry.path.parent
        top = root if root.is_dir() else root.parent
        while parent != top and parent.parent != parent:
            m = _STORE_FOLDER.match(parent.name)
            if m and not re.fullmatch(r"[\d\W_]+", m.group("name")):  # "2026-10" is a month, not a store
                code, name = m.group("code"), m.group("name")
                break
            parent = parent.parent
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


def _register_rows(batches: list[BatchResult], register: Register) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every accepted and every rejected row of one register, from all batches (one concat each)."""
    parts = [r for b in batches for r in b.sheets if r.register == register.id]
    columns = ["source_file", "source_sheet", "source_row", *register.field_keys]
    accepted = [r.accepted if list(r.accepted.columns) == columns else r.accepted[columns] for r in parts]
    rejected = [r.rejected for r in parts]
    return (pd.concat(accepted, ignore_index=True) if accepted else empty_records(register)[columns],
            pd.concat(rejected, ignore_index=True) if rejected else _empty_rejected()[_SHEET_REJECTED])


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


def _replace_older(records: pd.DataFrame, register: Register, order: dict[str, int]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Where two files of a store carry the same record key, the newer file's record wins."""
    if records.empty or not register.key:
        return records, records.iloc[0:0]
    files_per_store = records.groupby("store_code", sort=False)["source_file"].nunique()
    several = files_per_store.index[files_per_store > 1]
    if several.empty:  # one file per store: nothing can replace anything
        return records, records.iloc[0:0]
    replaced = _replaced_rows(records[records["store_code"].isin(several)], register, order)
    if replaced.empty:
        return records, replaced
    return records.drop(index=replaced.index).reset_index(drop=True), replaced


def _replaced_rows(records: pd.DataFrame, register: Register, order: dict[str, int]) -> pd.DataFrame:
    """The records an older file of the same store carries under a key that a newer file carries too,
    with the winner's file and row (``source_file_winner``, ``source_row_winner``) and the key (``_shown``)."""
    shown = key_text(records, register)
    complete = key_complete(records, register)
    rank = records["source_file"].map(order)
    ordered = (records.assign(_shown=shown, _key=shown.str.casefold(), _rank=rank)[complete]
               .sort_values(["_rank", "source_row"], kind="stable"))
    newest = ordered.drop_duplicates(["store_code", "_key"], keep="last")
    winners = newest.set_index(["store_code", "_key"])[["source_file", "source_row"]]
    losers_index = ordered.index.difference(newest.index)
    losers = ordered.loc[losers_index]
    multi_file = losers.join(winners.add_suffix("_winner"), on=["store_code", "_key"])
    return multi_file[multi_file["source_file_winner"] != multi_file["source_file"]]


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


def consolidate(
    input_dir: Path | str, registers: dict[str, Register], config: Config | None = None,
    reference_year: int | None = None, jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Consolidation:
    """Read, validate and put together every workbook under ``input_dir``."""
    root = Path(input_dir)
    config = config or Config()
    paths = find_input_files(root)
    displays = [_relative(p, root) for p in paths]
    batches_done: list[BatchResult] = []
    done = 0
    items = list(zip(paths, displays, strict=True))
    workers = min(jobs or os.cpu_count() or 1, len(paths))
    batches = _batches(items, max(workers, 1))
    if workers > 1 and len(batches) > 1:
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_init_worker,
                                 initargs=(registers, reference_year)) as pool:
            for batch_result in pool.map(check_files, batches):
                batches_done.append(batch_result)
                done += len(batch_result.files)
                if progress:
                    progress(done, len(paths))
    else:
        for batch in batches:
            batches_done.append(check_files(batch, registers, reference_year))
            done += len(batches_done[-1].files)
            if progress:
                progress(done, len(paths))
    entries = [entry for b in batches_done for entry in b.files]
    _mark_duplicates(entries)
    for entry in entries:
        if entry.status == "ok":
            _resolve_store(entry, root, config)
    by_display = {e.display: e for e in entries}
    usable = [e for e in entries if e.status == "ok" or (e.status == "unusable" and e.sheets)]
    order = {e.display: i for i, e in enumerate(sorted(usable, key=lambda e: (e.modified, e.display)))}
    records: dict[str, pd.DataFrame] = {}
    rejected_frames: list[pd.DataFrame] = []
    for reg_id, register in registers.items():
        accepted, rejected = _register_rows(batches_done, register)
        of_file = _of_file(accepted["source_file"], by_display, "status")
        unusable = accepted[of_file == "unusable"]
        if not unusable.empty:  # a file whose store cannot be told: its rows are rejected, each with the reason
            unusable = unusable[_SHEET_REJECTED[:3]].assign(key=key_text(unusable, register).to_numpy())
            unusable["reason_zh"] = _of_file(unusable["source_file"], by_display, "message_zh")
            unusable["reason_en"] = _of_file(unusable["source_file"], by_display, "message_en")
            rejected = pd.concat([rejected, unusable], ignore_index=True)
        rejected = rejected[_of_file(rejected["source_file"], by_display, "status").isin(["ok", "unusable"])]
        if not rejected.empty:
            rejected_frames.append(_with_store(rejected, by_display).assign(register=reg_id,
                                                                            register_name=register.name_zh))
        merged, replaced = _replace_older(_with_store(accepted[(of_file == "ok").to_numpy()], by_display),
                                          register, order)
        records[reg_id] = merged
        if not replaced.empty:
            for display, count in replaced["source_file"].value_counts().items():
                by_display[display].rows_accepted -= int(count)
                by_display[display].rows_rejected += int(count)
            rejected_frames.append(pd.DataFrame({
                "store_code": replaced["store_code"], "store_name": replaced["store_name"], "register": reg_id,
                "register_name": register.name_zh, "source_file": replaced["source_file"],
                "source_sheet": replaced["source_sheet"], "source_row": replaced["source_row"],
                "key": replaced["_shown"],
                "reason_zh": "编号与较新的文件 " + replaced["source_file_winner"] + " 第" +
                             replaced["source_row_winner"].astype(str) + "行相同，已由其取代",
                "reason_en": "same record key as the newer file " + replaced["source_file_winner"] + " row " +
                             replaced["source_row_winner"].astype(str) + "; replaced by it",
            }))
    rejected = (pd.concat(rejected_frames, ignore_index=True)[REJECTED_COLUMNS] if rejected_frames
                else _empty_rejected())
    rejected = rejected.sort_values(["store_code", "source_file", "source_sheet", "source_row"],
                                    kind="stable").reset_index(drop=True)
    findings = (pd.concat([b.findings for b in batches_done], ignore_index=True) if batches_done
                else empty_findings())
    findings = findings[_of_file(findings["file"], by_display, "status") != "duplicate"]
    files = findings["file"].astype("string")
    findings = findings.assign(store_code=_of_file(files, by_display, "store_code"),
                               store_name=_of_file(files, by_display, "store_name"))
    findings = findings.iloc[np.argsort(files.map({d: i for i, d in enumerate(by_display)}).to_numpy(), kind="stable")]
    findings = findings.reset_index(drop=True)
    records = {reg_id: frame.sort_values(["store_code", "source_file", "source_sheet", "source_row"],
                                         kind="stable", ignore_index=True) for reg_id, frame in records.items()}
    return Consolidation(root, registers, entries, records, rejected, findings)

