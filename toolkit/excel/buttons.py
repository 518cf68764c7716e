"""What the workbooks' buttons run (through xlwings' RunPython): thin handlers over the package.

Each handler gets the calling workbook, saves it, runs the same functions as the CLI on the saved file
and writes the results back into the open workbook, only through the members listed in ``book.py``.
Reading is never done through Excel: the saved file is read by the package's reader.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pandas as pd
import python_calamine as calamine

from ..annotate import FILL_COLOURS, RESULT_SHEET, SEVERITY_ZH
from ..check import summary_zh
from ..config import Config, ConfigError, Store, company_registers, find_config
from ..definitions import DefinitionError, Register
from ..jobs import email_run, export_run, overdue_run
from ..jobs import monthly_summary as run_monthly_summary
from ..mail.post import STATUS_ZH, tally
from ..mail.settings import MailError, smtp_password
from ..reader import column_letter, read_workbook
from ..statistics import month_of
from ..validate import validate_sheets
from .book import Book, Range, Sheet, caller
from .layout import (
    OFFICE_RESULTS_AREA,
    OFFICE_RESULTS_CELL,
    OFFICE_SETTINGS,
    OFFICE_SHEET,
    OFFICE_STATUS_CELL,
    OVERDUE_SHEET,
    STATUS_CELL,
)

MARK = "【taizhang】"  # starts every note the checks write, so that the next check removes only its own
KEPT_NOTE = "\n———— 原批注 / earlier note ————\n"  # a staff note on a marked cell is kept after ours
FILLS = {severity: tuple(bytes.fromhex(colour)) for severity, colour in FILL_COLOURS.items()}  # as xlwings' RGB
RESULT_HEADER = ["工作表", "行", "列", "字段", "级别", "问题", "Problem", "填写的值", "位置"]
RESULT_WIDTHS = (18, 6, 5, 16, 6, 56, 56, 20, 14)
MARK_LIMIT = 2000  # cells marked one by one through Excel; every finding is listed in 校验结果 regardless
OVERDUE_HEADER = ["类别", "登记表", "编号", "客户", "负责人", "规则", "应完成", "逾期天数", "工作表", "行", "位置"]


class ButtonError(Exception):
    """A problem the user can fix (a setting, a file): shown in the status cell, not as a traceback."""


# ---- entry points of the RunPython commands in macros/*.bas -------------------------------------------------

def check_sheet() -> None:
    """校验本表."""
    _run_on_store(caller(), whole=False)


def check_all() -> None:
    """校验全部."""
    _run_on_store(caller(), whole=True)


def store_overdue() -> None:
    """本店逾期."""
    book = caller()
    _report_failure(_active_register_status(book), lambda: write_store_overdue(book))


def monthly_summary() -> None:
    """月度汇总."""
    book = caller()
    _report_failure(_office_status(book), lambda: run_office(book, "summary"))


def overdue_lists() -> None:
    """逾期清单."""
    book = caller()
    _report_failure(_office_status(book), lambda: run_office(book, "overdue"))


def send_email() -> None:
    """发送邮件: the summary to management (the 收件人 setting, else [email] management) and each store its
    overdue list, as ``taizhang email --per-store`` does; what went to whom is listed in the sheet."""
    book = caller()
    _report_failure(_office_status(book), lambda: run_office(book, "email"))


def export_data() -> None:
    """导出: CSV (UTF-8 with BOM) and Parquet of every register, with datapackage.json, as taizhang export does."""
    book = caller()
    _report_failure(_office_status(book), lambda: run_office(book, "export"))


# ---- the store workbook ----------------------------------------------------------------------------------

def _run_on_store(book: Book, whole: bool) -> None:
    _report_failure(_active_register_status(book), lambda: check_book(book, whole))


def _report_failure(status: Range | None, job) -> None:
    """Run a handler; a problem the user can fix goes to the status cell (or, without one, is raised so
    that xlwings shows it)."""
    try:
        job()
    except (ButtonError, ConfigError, DefinitionError, MailError) as e:
        if status is None:
            raise
        status.value = f"{_now()} 未完成 / not done: {e}"


def _now() -> str:
    return dt.datetime.now().strftime("%H:%M")


def _saved(book: Book) -> Path:
    book.save()
    path = Path(book.fullname)
    if not path.is_file():
        raise ButtonError(f"请先把工作簿保存到本机文件夹（现在是 {book.fullname}）/ save the workbook to a local "
                          "folder first")
    return path


def _registers(folder: Path, config_path: str | None = None) -> tuple[Config, dict[str, Register]]:
    """The company's configuration (taizhang.toml beside the workbook, or the given one) and registers."""
    if config_path and not Path(config_path).is_file():
        raise ButtonError(f"配置文件不存在 / configuration file not found: {config_path}")
    config = find_config(config_path or None, folder)
    return config, company_registers(config)


def _active_register_status(book: Book) -> Range | None:
    """The status cell of the open sheet, if it is a register sheet of the store workbook."""
    active = book.sheets.active
    return None if active.name in (RESULT_SHEET, OVERDUE_SHEET) else active[STATUS_CELL]


def check_book(book: Book, whole: bool) -> str:
    """Check the open register sheet (or all), mark the bad cells and list every finding in 校验结果.
    Marks and list entries of the sheets checked earlier but not now are left as they were."""
    path = _saved(book)
    _config, registers = _registers(path.parent)
    read = read_workbook(path, registers)
    if read.status != "ok" or not read.sheets:
        raise ButtonError(read.message or "工作簿中没有登记表 / no register sheet in this workbook")
    names = [s.sheet for s in read.sheets]
    active = book.sheets.active
    chosen = names if whole or active.name not in names else [active.name]
    findings = validate_sheets([s for s in read.sheets if s.sheet in chosen])
    earlier = previous_results(path)
    _clear_marks(book, [row for row in earlier if row[0] in chosen])
    kept = [row for row in earlier if row[0] not in chosen and row[0] in names]
    marked = _mark_cells(book, findings)
    labels = {(s.sheet, f.key): f.label_zh for s in read.sheets for f in s.register.fields}
    rows = kept + [[f.sheet, int(f.row), f.column or "A", labels.get((f.sheet, f.field), f.field),
                    SEVERITY_ZH[f.severity], f.message_zh, f.message_en, f.value]
                   for f in findings.itertuples(index=False)]
    _write_result_sheet(book, rows, len(earlier))
    whole_text = summary_zh(int((findings["severity"] == "error").sum()), int((findings["severity"] == "warning").sum()))
    cut_short = marked < findings.groupby(["sheet", "row", "column"]).ngroups
    for name in chosen:
        mine = findings[findings["sheet"] == name]
        text = summary_zh(int((mine["severity"] == "error").sum()), int((mine["severity"] == "warning").sum()))
        line = f"{_now()} 校验{'全部' if whole or len(chosen) > 1 else '本表'}：本表{text}"
        if len(chosen) > 1:
            line += f"；全部登记表{whole_text}"
        if cut_short:
            line += f"（只标注了前 {marked} 个单元格）"
        book.sheets[name][STATUS_CELL].value = line + ("。详见「校验结果」" if len(mine) else "")
    active.activate()
    return whole_text


def _as_text(value: object) -> str:
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


class Formula(str):
    """A formula the handlers mean to write; every other text goes to Excel as text."""


def _as_typed(row: list) -> list:
    """Text written so that Excel keeps it as typed: a leading apostrophe stops '0755…' or '2611001' from
    becoming a number and '=…' from becoming a formula."""
    return [v if isinstance(v, Formula) or not isinstance(v, str) or not v else "'" + v for v in row]


def _saved_sheet(path: Path, name: str) -> list[list]:
    """The rows of one sheet of the saved workbook (none if it has no such sheet): what the buttons wrote
    last time, read from the file rather than through Excel."""
    book = calamine.CalamineWorkbook.from_path(str(path))
    try:
        return book.get_sheet_by_name(name).to_python(skip_empty_area=False) if name in book.sheet_names else []
    finally:
        book.close()


def previous_results(path: Path) -> list[list]:
    """The rows of the 校验结果 sheet as saved (sheet, row, column, … per finding)."""
    out = []
    for row in _saved_sheet(path, RESULT_SHEET)[2:]:
        row = list(row) + [""] * (len(RESULT_HEADER) - len(row))
        if row[0] and isinstance(row[1], int | float) and row[1]:
            out.append([str(row[0]), int(row[1]), str(row[2] or "A"), *[str(v) for v in row[3:8]]])
    return out


def _cell(book: Book, sheet: str, row: int, column: str) -> Range:
    return book.sheets[sheet][f"{column}{row}"]


def _clear_marks(book: Book, rows: list[list]) -> None:
    sheets = {s.name for s in book.sheets}
    for sheet, row, column in dict.fromkeys((r[0], r[1], r[2]) for r in rows):
        if sheet not in sheets:
            continue
        cell = _cell(book, sheet, row, column)
        cell.color = None
        note = cell.note
        if note is not None and note.text.startswith(MARK):
            if KEPT_NOTE in note.text:
                note.text = note.text.split(KEPT_NOTE, 1)[1]
            else:
                note.delete()


def _mark_cells(book: Book, findings: pd.DataFrame) -> int:
    """Fill and a note on each cell with findings (the first MARK_LIMIT cells); returns how many."""
    marked = 0
    for (sheet, row, column), group in findings.groupby(["sheet", "row", "column"], sort=False):
        if marked == MARK_LIMIT:
            break
        cell = _cell(book, sheet, int(row), column or "A")
        severity = "error" if (group["severity"] == "error").any() else "warning"
        cell.color = FILLS[severity]
        text = MARK + "\n".join(f"[{SEVERITY_ZH[s]}] {zh}" for s, zh in zip(group["severity"], group["message_zh"],
                                                                            strict=True))
        note = cell.note
        if note is None:
            cell.add_note(text)
        else:
            earlier = note.text.split(KEPT_NOTE, 1)[1] if note.text.startswith(MARK) and KEPT_NOTE in note.text \
                else (None if note.text.startswith(MARK) else note.text)
            note.text = text + (KEPT_NOTE + earlier if earlier else "")
        marked += 1
    return marked


def _sheet(book: Book, name: str) -> Sheet:
    """The sheet ``name``, added in front of the others the first time."""
    existing = [s for s in book.sheets if s.name == name]
    return existing[0] if existing else book.sheets.add(name, before=book.sheets[0])


def _write_table(sheet: Sheet, title: str, header: list[str], rows: list[list], clear_rows: int,
                 widths: tuple[int, ...]) -> None:
    last = max(clear_rows, len(rows)) + 3
    sheet[f"A1:{column_letter(len(header) - 1)}{last}"].clear_contents()
    sheet["A1"].value = [_as_typed([title] + [""] * (len(header) - 1)), _as_typed(header), *map(_as_typed, rows)]
    for i, width in enumerate(widths):
        sheet[f"{column_letter(i)}1"].column_width = width


def _link(sheet: str, row: int, column: str) -> str:
    quoted = sheet.replace("'", "''")
    return Formula(f'=HYPERLINK("#\'{quoted}\'!{column}{row}","转到 {column}{row}")')


def _write_result_sheet(book: Book, rows: list[list], earlier: int) -> None:
    sheet = _sheet(book, RESULT_SHEET)
    errors = sum(r[4] == "错误" for r in rows)
    title = f"{Path(book.fullname).name}：{summary_zh(errors, len(rows) - errors)}（{_now()} 校验）"
    _write_table(sheet, title, RESULT_HEADER, [r[:7] + [_as_text(r[7]), _link(r[0], r[1], r[2])] for r in rows],
                 earlier, RESULT_WIDTHS)


def write_store_overdue(book: Book, as_of: dt.date | None = None) -> str:
    """本店逾期: this workbook's overdue and due-soon items, listed in the 本店逾期 sheet."""
    status = _active_register_status(book)
    path = _saved(book)
    config, registers = _registers(path.parent)
    as_of = as_of or dt.date.today()
    # a workbook without its store's code (a fresh 门店登记.xlsm) is still this one store
    this_store = Store("本店", "本店", paths=("*",))
    config = replace(config, stores={**config.stores, this_store.code: this_store})
    run = overdue_run(path, registers, config, as_of, jobs=1)
    unusable = [f for f in run.result.files if f.status != "ok"]
    if unusable:
        raise ButtonError(unusable[0].message)
    rows = []
    for label, frame in (("逾期", run.lists.items), ("即将到期", run.lists.due_soon)):
        for item in frame.itertuples(index=False):
            rows.append([label, item.register_name, item.key, item.customer, item.owner, item.rule_name, item.due,
                         int(item.days_overdue), item.source_sheet, int(item.source_row),
                         _link(item.source_sheet, int(item.source_row), "A")])
    sheet = _sheet(book, OVERDUE_SHEET)
    earlier = len(_saved_sheet(path, OVERDUE_SHEET))
    overdue, soon = len(run.lists.items), len(run.lists.due_soon)
    text = f"截至 {as_of:%Y-%m-%d}：逾期 {overdue} 项，即将到期 {soon} 项"
    _write_table(sheet, f"本店逾期 {text}", OVERDUE_HEADER, rows, earlier, (8, 14, 16, 10, 9, 22, 16, 8, 16, 6, 12))
    if status is not None:
        status.value = f"{_now()} {text}（见「本店逾期」）"
    sheet.activate()
    return text


# ---- the head-office workbook ----------------------------------------------------------------------------

def _office_status(book: Book) -> Range:
    return book.sheets[OFFICE_SHEET][OFFICE_STATUS_CELL]


def office_settings(book: Book) -> dict[str, object]:
    sheet = book.sheets[OFFICE_SHEET]
    return {s.key: sheet[s.cell].value for s in OFFICE_SETTINGS}


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _day(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value)
    if not text:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text.replace("/", "-"))
    except ValueError:
        raise ButtonError(f"截止日期「{text}」不是日期（如 2026-11-05）/ as-of date is not a date") from None


def _month(value: object, as_of: dt.date) -> pd.Period:
    if isinstance(value, dt.date):
        return pd.Period(year=value.year, month=value.month, freq="M")
    try:
        return month_of(_text(value).replace("/", "-") or None, as_of)
    except ValueError:
        raise ButtonError(f"统计月份「{_text(value)}」不是月份（如 2026-10）/ month is not YYYY-MM") from None


def _folder(value: object, here: Path, what_zh: str, what_en: str, must_exist: bool) -> Path | None:
    """A folder setting; a relative one is taken from the workbook's own folder (Excel's working folder
    is not something staff can see)."""
    text = _text(value)
    if not text:
        return None
    folder = here / Path(text).expanduser()
    if must_exist and not folder.is_dir():
        raise ButtonError(f"{what_zh}不存在：{text} / {what_en} does not exist")
    return folder


def _mail_password(config: Config, to: str) -> str:
    """Checked before anything is read: a missing server, recipient or password is said at once."""
    config.email.check_server()
    if not (to or config.email.management):
        raise ButtonError("请填写收件人，或在 taizhang.toml 的 [email] management 中设置 / fill in the recipients")
    return smtp_password(config.email)


def run_office(book: Book, job: str) -> list[Path]:
    """月度汇总 (``summary``), 逾期清单 (``overdue``, one workbook per store), 发送邮件 (``email``) or 导出
    (``export``: CSV and Parquet with datapackage.json in 导出_<as-of date>) with the sheet's settings;
    progress and what was written (or sent to whom) go back into the sheet."""
    settings = office_settings(book)
    here = Path(book.fullname).parent
    input_dir = _folder(settings["input_dir"], here, "输入文件夹", "the input folder", must_exist=True)
    config_text = _text(settings["config"])
    config, registers = _registers(here, str(here / Path(config_text).expanduser()) if config_text else None)
    input_dir = input_dir or config.input_dir
    if input_dir is None:
        raise ButtonError("请填写输入文件夹 / fill in the input folder")
    out_dir = _folder(settings["output_dir"], here, "输出文件夹", "the output folder", must_exist=False) \
        or config.output_dir or here
    as_of = _day(settings["as_of"])
    to = _text(settings["recipients"])
    password = _mail_password(config, to) if job == "email" else None
    status = _office_status(book)
    sheet = book.sheets[OFFICE_SHEET]
    sheet[OFFICE_RESULTS_AREA].clear_contents()
    started = dt.datetime.now()
    status.value = f"{_now()} 开始读取 {input_dir} … / reading"
    last = [started]

    def progress(done: int, total: int) -> None:
        now = dt.datetime.now()
        if (now - last[0]).total_seconds() >= 1 or done == total:
            status.value = f"{_now()} 读取中 {done}/{total} 个文件 / reading {done} of {total} files"
            last[0] = now

    out_dir.mkdir(parents=True, exist_ok=True)
    if job == "summary":
        month = _month(settings["month"], as_of)
        run = run_monthly_summary(input_dir, registers, config, as_of, month, out_dir / f"台账汇总_{month}.xlsx",
                                  progress=progress)
        result, lists, written = run.result, run.lists, [run.output]
    elif job == "overdue":
        over = overdue_run(input_dir, registers, config, as_of, out_dir=out_dir, split_by="store", progress=progress)
        result, lists, written = over.result, over.lists, over.written
    elif job == "email":
        mailed = email_run(input_dir, registers, config, as_of, _month(settings["month"], as_of), out_dir,
                           per_store=True, to=[to] if to else None, password=password, progress=progress)
        result, lists, written = mailed.result, mailed.lists, [mailed.outbox]
    else:
        exported = export_run(input_dir, registers, config, out_dir / f"导出_{as_of:%Y-%m-%d}", ["csv", "parquet"],
                              reference_year=as_of.year, progress=progress)
        result, lists = exported.result, None
        written = [exported.package.parent]
    files = result.files
    accepted, rejected = result.rows_accepted, result.rows_rejected
    unusable = [f for f in files if f.status == "unusable"]
    seconds = (dt.datetime.now() - started).total_seconds()
    status.value = (f"{_now()} 完成（{seconds:.0f} 秒）：{len(files)} 个文件，{accepted} 行接收，{rejected} 行拒收"
                    + (f"，逾期 {len(lists.items)} 项，即将到期 {len(lists.due_soon)} 项" if lists else "")
                    + (f"；{len(unusable)} 个文件无法使用（见下）" if unusable else ""))
    lines = [["写出", str(p), ""] for p in written]
    if job == "email":
        status.value += "；" + tally(mailed.outcomes)
        lines += [[STATUS_ZH[o.status], o.letter.addressee, "；".join(
            x for x in (o.letter.title, o.detail_zh) if x)] for o in mailed.outcomes]
    lines += [["无法使用", f.display, f.message] for f in unusable]
    sheet[OFFICE_RESULTS_CELL].value = [_as_typed(line) for line in lines]
    return written
