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
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

import pandas as pd

from .config import Config
from .definitions import Register
from .reader import WORKBOOK_SUFFIXES, is_ignored, read_workbook
from .records import SOURCE_COLUMNS, empty_records, key_complete, key_text
from .validate import empty_findings, validate_sheets

REJECTED_COLUMNS = ["store_code", "store_name", "register", "register_name", "source_file", "source_sheet",
                    "source_row", "key", "reason_zh", "reason_en"]
MANIFEST_KEYS = ["path", "status", "store_code", "store_name", "registers", "sha256", "rows_read",
                 "rows_accepted", "rows_rejected", "message"]
_STORE_FOLDER = re.compile(r"^(?P<code>[0-9A-Za-z]+)[_\-\s]+(?P<name>.+)$")


@dataclass
class SheetResult:
    """One register sheet of one file after validation: what is accepted and what is rejected, why."""

    sheet: str
    register: str
    accepted: pd.DataFrame  # field keys, typed; index = Excel rows
    rejected: pd.DataFrame  # source_row, key, reason_zh, reason_en
    skipped: int  # blank and footer lines (not records)


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
    sheets: list[SheetResult] = field(default_factory=list)
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


def _row_reasons(errors: pd.DataFrame, rows: pd.Index) -> pd.DataFrame:
    """One line per rejected row: its error messages joined."""
    frame = pd.DataFrame({"source_row": rows.astype("int64")})
    if errors.empty:
        return frame.assign(reason_zh="", reason_en="")
    joined = errors.groupby("row", sort=False).agg(reason_zh=("message_zh", "；".join),
                                                   reason_en=("message_en", "; ".join))
    return frame.join(joined, on="source_row")


def check_file(path: Path, display: str, registers: dict[str, Register] | None = None,
               reference_year: int | None = None) -> tuple[FileEntry, pd.DataFrame]:
    """Read and validate one workbook; split each sheet's rows into accepted and rejected."""
    registers = registers if registers is not None else _worker_registers
    year = reference_year if reference_year is not None else _worker_year
    entry = FileEntry(path, display, "ok", modified=path.stat().st_mtime if path.exists() else 0.0)
    if is_ignored(path) or path.suffix.lower() not in WORKBOOK_SUFFIXES:
        read = read_workbook(path, registers, year, display_path=display)
        entry.status, entry.message_zh, entry.message_en = read.status, read.message_zh, read.message_en
        return entry, empty_findings()
    entry.sha256 = file_sha256(path)
    read = read_workbook(path, registers, year, display_path=display)
    entry.status, entry.message_zh, entry.message_en = read.status, read.message_zh, read.message_en
    if read.metadata is not None:
        entry.metadata_store = (read.metadata.store_code, read.metadata.store_name)
    if read.status != "ok":
        return entry, empty_findings()
    findings = validate_sheets(read.sheets)
    for sheet in read.sheets:
        mine = findings[findings["sheet"] == sheet.sheet]
        errors = mine[mine["severity"] == "error"]
        row_errors = errors[errors["row"].isin(sheet.data.index)]
        sheet_errors = errors[~errors["row"].isin(sheet.data.index)]
        if sheet_errors.empty:
            bad_rows = pd.Index(row_errors["row"].unique())
        else:
            bad_rows = sheet.data.index  # a sheet-level error (a required column missing) concerns every row
            spread = sheet_errors.loc[sheet_errors.index.repeat(len(bad_rows))].copy()
            spread["row"] = list(bad_rows) * len(sheet_errors)
            row_errors = pd.concat([row_errors, spread], ignore_index=True)
        bad = sheet.data.index.isin(bad_rows)
        rejected = _row_reasons(row_errors, sheet.data.index[bad])
        rejected.insert(1, "key", key_text(sheet.data[bad], sheet.register).to_numpy())
        entry.sheets.append(SheetResult(sheet.sheet, sheet.register.id, sheet.data[~bad], rejected,
                                        len(sheet.skipped)))
        entry.rows_read += sheet.rows_read
        entry.rows_accepted += int((~bad).sum())
        entry.rows_rejected += int(bad.sum())
        entry.rows_skipped += len(sheet.skipped)
        if sheet.register.id not in entry.registers:
            entry.registers.append(sheet.register.id)
        if entry.metadata_store == (None, None) and sheet.store_code:
            entry.metadata_store = (sheet.store_code, sheet.store_name)
    return entry, findings


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


def _unusable_rejections(entry: FileEntry) -> None:
    """A file whose store cannot be told has its rows rejected as a whole, each with the reason."""
    for sheet in entry.sheets:
        reasons = pd.DataFrame({"source_row": sheet.accepted.index.astype("int64"), "key": "",
                                "reason_zh": entry.message_zh, "reason_en": entry.message_en})
        sheet.rejected = pd.concat([sheet.rejected, reasons], ignore_index=True)
        sheet.accepted = sheet.accepted.iloc[0:0]


def _records_of(entries: list[FileEntry], register: Register) -> pd.DataFrame:
    frames = []
    for entry in entries:
        for sheet in entry.sheets:
            if sheet.register != register.id or sheet.accepted.empty:
                continue
            data = sheet.accepted
            source = pd.DataFrame({"store_code": entry.store_code, "store_name": entry.store_name,
                                   "source_file": entry.display, "source_sheet": sheet.sheet,
                                   "source_row": data.index.astype("int64")}, index=data.index)
            frames.append(pd.concat([source, data[register.field_keys]], axis=1).reset_index(drop=True))
    if not frames:
        return empty_records(register)
    records = pd.concat(frames, ignore_index=True)
    for c in ("store_code", "store_name", "source_file", "source_sheet"):
        records[c] = records[c].astype("string")
    return records


def _replace_older(records: pd.DataFrame, register: Register, order: dict[str, int]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Where two files of a store carry the same record key, the newer file's record wins."""
    if records.empty or not register.key:
        return records, records.iloc[0:0]
    complete = key_complete(records, register)
    keys = key_text(records, register).str.casefold()
    rank = records["source_file"].map(order)
    ordered = records.assign(_key=keys, _rank=rank)[complete].sort_values(["_rank", "source_row"], kind="stable")
    newest = ordered.drop_duplicates(["store_code", "_key"], keep="last")
    winners = newest.set_index(["store_code", "_key"])[["source_file", "source_row"]]
    losers_index = ordered.index.difference(newest.index)
    losers = ordered.loc[losers_index]
    multi_file = losers.join(winners.add_suffix("_winner"), on=["store_code", "_key"])
    multi_file = multi_file[multi_file["source_file_winner"] != multi_file["source_file"]]
    keep = records.drop(index=multi_file.index)
    return keep.reset_index(drop=True), multi_file


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
    results: list[tuple[FileEntry, pd.DataFrame]] = []
    workers = min(jobs or os.cpu_count() or 1, len(paths))
    if workers > 1:
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_init_worker,
                                 initargs=(registers, reference_year)) as pool:
            for result in pool.map(check_file, paths, displays, chunksize=max(1, len(paths) // (workers * 8))):
                results.append(result)
                if progress:
                    progress(len(results), len(paths))
    else:
        for path, display in zip(paths, displays, strict=True):
            results.append(check_file(path, display, registers, reference_year))
            if progress:
                progress(len(results), len(paths))
    entries = [entry for entry, _ in results]
    _mark_duplicates(entries)
    for entry in entries:
        if entry.status == "ok":
            _resolve_store(entry, root, config)
            if entry.status == "unusable":
                _unusable_rejections(entry)
    usable = [e for e in entries if e.status == "ok" or (e.status == "unusable" and e.sheets)]
    order = {e.display: i for i, e in enumerate(sorted(usable, key=lambda e: (e.modified, e.display)))}
    records: dict[str, pd.DataFrame] = {}
    rejected_frames: list[pd.DataFrame] = []
    by_display = {e.display: e for e in entries}
    for reg_id, register in registers.items():
        merged, replaced = _replace_older(_records_of([e for e in entries if e.status == "ok"], register),
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
                "key": key_text(replaced, register),
                "reason_zh": "编号与较新的文件 " + replaced["source_file_winner"] + " 第" +
                             replaced["source_row_winner"].astype(str) + "行相同，已由其取代",
                "reason_en": "same record key as the newer file " + replaced["source_file_winner"] + " row " +
                             replaced["source_row_winner"].astype(str) + "; replaced by it",
            }))
    for entry in usable:
        for sheet in entry.sheets:
            if sheet.rejected.empty:
                continue
            register = registers[sheet.register]
            rejected_frames.append(sheet.rejected.assign(
                store_code=entry.store_code, store_name=entry.store_name, register=sheet.register,
                register_name=register.name_zh, source_file=entry.display, source_sheet=sheet.sheet))
    rejected = (pd.concat(rejected_frames, ignore_index=True)[REJECTED_COLUMNS] if rejected_frames
                else pd.DataFrame({c: pd.Series(dtype="int64" if c == "source_row" else "string")
                                   for c in REJECTED_COLUMNS}))
    rejected = rejected.sort_values(["store_code", "source_file", "source_sheet", "source_row"],
                                    kind="stable").reset_index(drop=True)
    finding_frames = []
    for entry, findings in results:
        if findings.empty or entry.status == "duplicate":
            continue
        finding_frames.append(findings.assign(store_code=entry.store_code, store_name=entry.store_name))
    findings = (pd.concat(finding_frames, ignore_index=True) if finding_frames
                else empty_findings().assign(store_code="", store_name=""))
    records = {reg_id: frame.sort_values(["store_code", "source_file", "source_sheet", "source_row"],
                                         kind="stable", ignore_index=True) for reg_id, frame in records.items()}
    return Consolidation(root, registers, entries, records, rejected, findings)


__all__ = ["SOURCE_COLUMNS", "Consolidation", "FileEntry", "consolidate", "check_file", "MANIFEST_KEYS"]
