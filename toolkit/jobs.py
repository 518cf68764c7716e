"""The head office's monthly jobs, run the same way by the CLI and by the head-office workbook's buttons.

Each job takes plain values (folder, dates, output place) and returns what it made, so that both callers
only collect settings and report results.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .config import Config
from .consolidate import Consolidation, consolidate
from .definitions import Register
from .overdue import OverdueLists, overdue_lists
from .summary import write_overdue_books, write_summary

Progress = Callable[[int, int], None]


@dataclass
class MonthlySummary:
    result: Consolidation
    lists: OverdueLists
    month: pd.Period
    output: Path


@dataclass
class OverdueRun:
    result: Consolidation
    lists: OverdueLists
    written: list[Path]


def summary_path(out_dir: Path, month: pd.Period) -> Path:
    return out_dir / f"台账汇总_{month}.xlsx"


def monthly_summary(
    folder: Path, registers: dict[str, Register], config: Config, as_of: dt.date, month: pd.Period,
    output: Path | None = None, previous: Path | None = None, reference_year: int | None = None,
    jobs: int | None = None, progress: Progress | None = None,
) -> MonthlySummary:
    """Consolidate every workbook under ``folder`` and write the summary workbook of ``month``
    (by default ``台账汇总_<month>.xlsx`` in the configured output folder)."""
    output = output or summary_path(config.output_dir or Path("."), month)
    result = consolidate(folder, registers, config, reference_year or month.year, jobs, progress)
    lists = overdue_lists(result.records, registers, as_of, config.soon_days)
    write_summary(output, result, lists, month, config, previous)
    return MonthlySummary(result, lists, month, output)


def overdue_run(
    folder: Path, registers: dict[str, Register], config: Config, as_of: dt.date, soon_days: int | None = None,
    out_dir: Path | None = None, split_by: str | None = None, jobs: int | None = None,
    progress: Progress | None = None,
) -> OverdueRun:
    """Overdue and due-soon items as of a day (``folder`` may also be one workbook); with ``out_dir`` or
    ``split_by``, their workbooks too."""
    result = consolidate(folder, registers, config, as_of.year, jobs, progress)
    lists = overdue_lists(result.records, registers, as_of, soon_days if soon_days is not None else config.soon_days)
    written: list[Path] = []
    if out_dir is not None or split_by:
        written = write_overdue_books(out_dir or config.output_dir or Path("."), lists,
                                      result.all_stores(config), split_by)
    return OverdueRun(result, lists, written)


@dataclass
class ExportRun:
    result: Consolidation
    written: dict[str, list[Path]]
    package: Path


def export_run(
    folder: Path, registers: dict[str, Register], config: Config, out_dir: Path, formats: list[str],
    encoding: str = "utf-8-sig", register_ids: list[str] | None = None, reference_year: int | None = None,
    jobs: int | None = None, progress: Progress | None = None,
) -> ExportRun:
    """Consolidate ``folder`` and export each register's accepted records to ``out_dir`` with a datapackage.json."""
    from .export import export_register, write_datapackage

    result = consolidate(folder, registers, config, reference_year, jobs, progress)
    out_dir.mkdir(parents=True, exist_ok=True)
    chosen = register_ids or list(registers)
    written = {reg_id: export_register(out_dir, result.records[reg_id], registers[reg_id], formats, encoding)
               for reg_id in chosen}
    return ExportRun(result, written, write_datapackage(out_dir, registers, written, encoding))
