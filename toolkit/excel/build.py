"""Building the macro-enabled workbooks (.xlsm) without Excel.

XlsxWriter writes the sheets and the buttons; the VBA project comes from ``macros/*.bas`` (the source of
truth, kept as text in git) through ``toolkit.vba``. A workbook built ``standalone`` also carries xlwings'
own VBA, taken from the xlwings package installed on this machine (never kept in this repository), so it
needs no add-in and its VBA always matches that xlwings version.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

import xlsxwriter

from ..definitions import Register
from ..files import atomic_path
from ..metadata import WorkbookMetadata
from ..template import add_register_sheets, new_workbook
from ..vba.project import DOCUMENT, Module, read_module_file, vba_project
from .layout import (
    BUTTON_ROWS,
    OFFICE_BOOK,
    OFFICE_BUTTON_ROW,
    OFFICE_BUTTONS,
    OFFICE_RESULTS_CELL,
    OFFICE_SETTINGS,
    OFFICE_SHEET,
    OFFICE_STATUS_CELL,
    STORE_BOOK,
    STORE_BUTTONS,
    Button,
)

MACROS_DIR = Path(__file__).resolve().parents[2] / "macros"  # beside the package in this repository
STORE_MODULES = ("Taizhang", "StoreButtons")
OFFICE_MODULES = ("Taizhang", "OfficeButtons")
XLWINGS_PROPERTY = "xlwings"  # custom document property: "add-in", or the version of the xlwings VBA inside
ADDIN = "add-in"
BUTTON_SIZE = {"width": 96, "height": 28}


class BuildError(RuntimeError):
    """The workbooks cannot be built here (no macros folder, no xlwings for a standalone build)."""


def read_macros(macros_dir: Path = MACROS_DIR) -> dict[str, Module]:
    """Every module in ``macros_dir`` (.bas and .cls) by its VB_Name."""
    if not macros_dir.is_dir():
        raise BuildError(f"找不到宏源代码文件夹 {macros_dir} / the macros folder {macros_dir} does not exist")
    modules = [read_module_file(p) for p in sorted(macros_dir.iterdir()) if p.suffix.lower() in (".bas", ".cls")]
    return {m.name: m for m in modules}


def xlwings_modules() -> tuple[list[Module], str]:
    """xlwings' standalone VBA (its ``xlwings.bas`` and the Dictionary class it uses on macOS) from the
    installed package, and that package's version."""
    try:
        import xlwings
    except ImportError:
        raise BuildError("未安装 xlwings，无法生成独立版工作簿：pip install xlwings / "
                         "xlwings is not installed: a standalone build takes its VBA from it") from None
    root = Path(xlwings.__file__).parent
    sources = [root / "xlwings.bas", root / "addin" / "Dictionary.cls"]
    missing = [str(p) for p in sources if not p.is_file()]
    if missing:
        raise BuildError(f"xlwings {xlwings.__version__} 缺少 {', '.join(missing)} / this xlwings has no standalone "
                         "VBA where expected")
    return [read_module_file(p) for p in sources], xlwings.__version__


def _macro_book(path: Path, title: str) -> xlsxwriter.Workbook:
    book = new_workbook(path, title)
    book.set_size(1400, 900)
    return book


def _finish(book: xlsxwriter.Workbook, modules: list[Module], xlwings: str) -> None:
    """Document modules for the workbook and every sheet (their code names), then the VBA project."""
    book.set_vba_name("ThisWorkbook")
    documents = [Module("ThisWorkbook", "", DOCUMENT, workbook=True)]
    for i, sheet in enumerate(book.worksheets(), start=1):
        sheet.set_vba_name(f"Sheet{i}")
        documents.append(Module(f"Sheet{i}", "", DOCUMENT))
    book.add_vba_project(io.BytesIO(vba_project(documents + modules)), is_stream=True)
    book.set_custom_property(XLWINGS_PROPERTY, xlwings)
    book.close()


def _buttons(sheet, row: int, buttons: Iterable[Button]) -> None:
    for i, button in enumerate(buttons):
        sheet.insert_button(row, 0, {"macro": button.macro, "caption": button.caption, **BUTTON_SIZE,
                                     "x_offset": 6 + i * (BUTTON_SIZE["width"] + 8), "y_offset": 4})


def build_store_workbook(path: Path, registers: list[Register], modules: list[Module], xlwings: str = ADDIN,
                         store_code: str | None = None, store_name: str | None = None) -> Path:
    """门店登记.xlsm: every register's sheet as in its template, with the buttons and a status line above.
    Answer forms (逾期事项反馈) get no sheet: the store answers on its overdue workbook."""
    registers = [r for r in registers if not r.is_answer_form]
    with atomic_path(path) as tmp:
        book = _macro_book(tmp, "门店登记：" + "、".join(r.name_zh for r in registers))
        sheets = add_register_sheets(book, registers, WorkbookMetadata(store_code, store_name), top=BUTTON_ROWS)
        status = book.add_format({"font_name": "等线", "font_size": 10, "italic": True, "font_color": "#595959",
                                  "valign": "vcenter"})
        for register, sheet in zip(registers, sheets.values(), strict=True):
            sheet.set_row(0, 30)
            _buttons(sheet, 0, STORE_BUTTONS)
            sheet.merge_range(1, 0, 1, len(register.fields) - 1,
                              "点击上方按钮校验本表或全部登记表，结果显示在这一行 / results of a check appear here", status)
        _finish(book, modules, xlwings)
    return path


def build_office_workbook(path: Path, modules: list[Module], xlwings: str = ADDIN) -> Path:
    """总部汇总.xlsm: the settings area, the buttons, and where the run's status and results appear."""
    with atomic_path(path) as tmp:
        book = _macro_book(tmp, "台账月度汇总（总部）")
        sheet = book.add_worksheet(OFFICE_SHEET)
        base = {"font_name": "等线", "font_size": 10, "valign": "vcenter"}
        title = book.add_format(base | {"bold": True, "font_size": 16})
        bold = book.add_format(base | {"bold": True})
        value = book.add_format(base | {"bg_color": "#FFF2CC", "border": 1, "border_color": "#BFBFBF",
                                        "num_format": "@", "locked": False})
        hint = book.add_format(base | {"font_color": "#7F7F7F"})
        sheet.set_column(0, 0, 14)
        sheet.set_column(1, 1, 56)
        sheet.set_column(2, 2, 56)
        sheet.write_string(0, 0, "台账月度汇总（总部）", title)
        sheet.set_row(0, 30)
        sheet.write_string(2, 0, "设置", bold)
        for setting in OFFICE_SETTINGS:
            row = int(setting.cell[1:]) - 1
            sheet.write_string(row, 0, setting.label, bold)
            sheet.write_blank(row, 1, None, value)
            sheet.write_string(row, 2, setting.hint, hint)
        sheet.set_row(OFFICE_BUTTON_ROW, 36)
        _buttons(sheet, OFFICE_BUTTON_ROW, OFFICE_BUTTONS)
        status_row = int(OFFICE_STATUS_CELL[1:]) - 1
        sheet.write_string(status_row, 0, "运行状态", bold)
        sheet.write_string(status_row, 1, "填好设置后点击按钮 / fill in the settings, then click a button")
        results_row = int(OFFICE_RESULTS_CELL[1:]) - 1
        sheet.write_string(results_row - 1, 0, "结果", bold)
        sheet.set_landscape()
        sheet.set_paper(9)
        sheet.fit_to_pages(1, 0)
        sheet.activate()
        _finish(book, modules, xlwings)
    return path


def build_workbooks(out_dir: Path, registers: list[Register], macros_dir: Path = MACROS_DIR,
                    store_code: str | None = None, store_name: str | None = None,
                    standalone: bool = False) -> list[Path]:
    """Both workbooks into ``out_dir``; ``standalone`` embeds the installed xlwings' VBA."""
    macros = read_macros(macros_dir)
    missing = [name for name in (*STORE_MODULES, *OFFICE_MODULES) if name not in macros]
    if missing:
        raise BuildError(f"{macros_dir} 中缺少模块 {', '.join(dict.fromkeys(missing))} / missing modules")
    extra, xlwings = xlwings_modules() if standalone else ([], ADDIN)
    out_dir.mkdir(parents=True, exist_ok=True)
    return [
        build_store_workbook(out_dir / STORE_BOOK, registers, [macros[n] for n in STORE_MODULES] + extra, xlwings,
                             store_code, store_name),
        build_office_workbook(out_dir / OFFICE_BOOK, [macros[n] for n in OFFICE_MODULES] + extra, xlwings),
    ]
