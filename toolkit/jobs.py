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
from .files import check_writable, staged_folder
from .overdue import OverdueLists, overdue_lists
from .summary import read_previous, write_overdue_books, write_summary

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
    last_month = read_previous(previous) if previous else None  # a wrong file is said before the long read
    check_writable(output)
    result = consolidate(folder, registers, config, reference_year or month.year, jobs, progress)
    _phase(progress, "计算逾期 / overdue lists")
    lists = overdue_lists(result.records, registers, as_of, config.soon_days, result.rejected_records)
    _phase(progress, "写出汇总 / writing the summary")
    write_summary(output, result, lists, month, config, last_month)
    return MonthlySummary(result, lists, month, output)


def _phase(progress: Progress | None, label: str) -> None:
    """Tell the progress bar (when it takes phases) that the run has gone on to ``label``."""
    phase = getattr(progress, "phase", None)
    if phase is not None:
        phase(label)


def say_what_was_not_read(result: Consolidation, lists: OverdueLists) -> None:
    """The lists' notes name the files that could not be read and count the rejected rows: a list that
    says 逾期 0 over files it could not read would be believed."""
    unusable = [f for f in result.files if f.status == "unusable"]
    if unusable:
        names = "、".join(f.display for f in unusable[:10]) + (f" 等 {len(unusable)} 个" if len(unusable) > 10 else "")
        lists.notes_zh.insert(0, f"{len(unusable)} 个文件或文件夹无法读取，其中的记录不在清单中：{names}")
        lists.notes_en.insert(0, f"{len(unusable)} files or folders could not be read; their records are not on the "
                                 f"lists: {', '.join(f.display for f in unusable[:10])}")
    if result.rows_rejected:
        lists.notes_zh.append(f"{result.rows_rejected} 行数据有误被拒收（见汇总的「问题数据」）；时限能判断的仍在清单中，标「数据有误」")
        lists.notes_en.append(f"{result.rows_rejected} rows were rejected for errors; those whose deadlines can be "
                              "judged are still listed, marked data error")


def overdue_run(
    folder: Path, registers: dict[str, Register], config: Config, as_of: dt.date, soon_days: int | None = None,
    out_dir: Path | None = None, split_by: str | None = None, jobs: int | None = None,
    progress: Progress | None = None,
) -> OverdueRun:
    """Overdue and due-soon items as of a day (``folder`` may also be one workbook); with ``out_dir`` or
    ``split_by``, their workbooks too."""
    target = out_dir or config.output_dir or Path(".")
    if out_dir is not None or split_by:
        check_writable(target, folder=True)
    result = consolidate(folder, registers, config, as_of.year, jobs, progress)
    lists = overdue_lists(result.records, registers, as_of, soon_days if soon_days is not None else config.soon_days,
                          result.rejected_records)
    say_what_was_not_read(result, lists)
    written: list[Path] = []
    if out_dir is not None or split_by:
        written = write_overdue_books(target, lists, result.all_stores(config), split_by, answer_form(registers))
    return OverdueRun(result, lists, written)


def answer_form(registers: dict[str, Register]) -> Register | None:
    """The register the stores answer their overdue lists in (逾期事项反馈), if the company has one."""
    return next((r for r in registers.values() if r.is_answer_form), None)


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
    check_writable(out_dir, folder=True)
    result = consolidate(folder, registers, config, reference_year, jobs, progress)
    return export_consolidation(result, registers, out_dir, formats, encoding, register_ids)


def export_consolidation(result: Consolidation, registers: dict[str, Register], out_dir: Path, formats: list[str],
                         encoding: str = "utf-8-sig", register_ids: list[str] | None = None) -> ExportRun:
    """Export a consolidation run's accepted records (the same rows its summary workbook holds)."""
    from .export import export_register, write_datapackage

    chosen = register_ids or list(registers)
    with staged_folder(out_dir) as staging:  # the files and their datapackage.json land together, or none
        staged = {reg_id: export_register(staging, result.records[reg_id], registers[reg_id], formats, encoding)
                  for reg_id in chosen}
        write_datapackage(staging, registers, staged, encoding)
    written = {reg_id: [out_dir / p.name for p in paths] for reg_id, paths in staged.items()}
    return ExportRun(result, written, out_dir / "datapackage.json")


@dataclass
class EmailRun:
    result: Consolidation
    lists: OverdueLists
    outcomes: list  # of mail.post.Outcome, in the order sent
    outbox: Path  # the workbooks attached (and the .eml files of a dry run)
    log: Path


def email_run(
    folder: Path, registers: dict[str, Register], config: Config, as_of: dt.date, month: pd.Period, out_dir: Path,
    *, summary: bool = True, per_store: bool = False, stores: list[str] | None = None, to: list[str] | None = None,
    mask: bool | None = None, dry_run: bool = False, resend: bool = False, password: str | None = None,
    jobs: int | None = None, progress: Progress | None = None,
) -> EmailRun:
    """Consolidate ``folder``, write the month's workbooks into ``<out_dir>/邮件_<month>`` (masked where
    required) and send them: the summary to management (``to`` or [email] management) and, with
    ``per_store``, each store its overdue list. ``mask`` None masks per-store letters to addresses outside
    the company domain only. With ``dry_run`` the messages are written as .eml files instead. When no
    workbook could be read, nothing is written or sent."""
    from .mail.letters import outside, store_letter, summary_letter
    from .mail.post import deliver
    from .mail.sender import Mailer
    from .mail.sendlog import LOG_NAME, SendLog
    from .mail.settings import recipients
    from .mask import mask_consolidation, mask_lists

    settings = config.email
    result = consolidate(folder, registers, config, month.year, jobs, progress)
    lists = overdue_lists(result.records, registers, as_of, config.soon_days, result.rejected_records)
    outbox = out_dir / f"邮件_{month}"
    letters = []
    if not result.readable:  # nothing read: nothing worth sending
        summary = per_store = False
    if summary:
        workbook = outbox / summary_path(Path(), month).name
        shown, shown_lists = (mask_consolidation(result), mask_lists(lists, registers)) if mask else (result, lists)
        write_summary(workbook, shown, shown_lists, month, config)
        letters += [summary_letter(shown, shown_lists, month, config.company, person, workbook, bool(mask),
                                   settings.top_items)
                    for person in recipients(to if to is not None else settings.management)]
    if per_store:
        for code, name in result.all_stores(config).items():
            if stores and code not in stores:
                continue
            store = config.stores.get(code)
            address = store.email if store else ""
            hidden = mask if mask is not None else outside(address, config.domain)
            mine = lists.for_store(code)
            mine = mask_lists(mine, registers) if hidden else mine
            workbook = write_overdue_books(outbox, mine, {code: name}, "store", answer_form(registers))[0]
            letters.append(store_letter(code, name, store.manager if store else "", address, mine, workbook,
                                        hidden, settings.top_items))
    log = SendLog(out_dir / LOG_NAME)
    mailer = None if dry_run else Mailer(settings, password or "")
    try:
        outcomes = deliver(letters, settings, str(month), log, dry_run=outbox / "eml" if dry_run else None,
                           resend=resend, mailer=mailer)
    finally:
        if mailer is not None:
            mailer.close()
    return EmailRun(result, lists, outcomes, outbox, log.path)
