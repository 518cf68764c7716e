"""The macro-enabled workbooks as Excel would get them: built from macros/*.bas and the definitions,
read back by olevba and by LibreOffice, and each button's RunPython command run the way Excel runs it."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import openpyxl
import pytest
from oletools.olevba import VBA_Parser

from tests.conftest import complaint, libreoffice
from toolkit.excel.build import ADDIN, MACROS_DIR, build_workbooks, read_macros, xlwings_modules
from toolkit.excel.layout import (
    OFFICE_BOOK,
    OFFICE_BUTTONS,
    OFFICE_SETTINGS,
    OFFICE_SHEET,
    OFFICE_STATUS_CELL,
    STATUS_CELL,
    STORE_BOOK,
    STORE_BUTTONS,
)
from toolkit.excel.machine import workbook_xlwings
from toolkit.vba.project import CLASS

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "workbooks"
BUTTONS = {STORE_BOOK: STORE_BUTTONS, OFFICE_BOOK: OFFICE_BUTTONS}


@pytest.fixture(scope="module")
def built(tmp_path_factory, registers) -> Path:
    out = tmp_path_factory.mktemp("built")
    build_workbooks(out, list(registers.values()))
    return out


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


@pytest.mark.parametrize("name", [STORE_BOOK, OFFICE_BOOK])
def test_the_committed_workbooks_are_up_to_date_with_the_macros_and_the_definitions(built, name):
    fresh, committed = members(built / name), members(COMMITTED / name)
    stale = sorted(n for n in fresh.keys() | committed.keys() if fresh.get(n) != committed.get(n))
    assert not stale, f"workbooks/{name} is out of date ({', '.join(stale)}): run 'taizhang excel build'"


@pytest.mark.parametrize("name", [STORE_BOOK, OFFICE_BOOK])
def test_the_committed_workbooks_hold_only_this_projects_code(name):
    found = {n.rsplit(".", 1)[0] for _, _, n, _ in VBA_Parser(str(COMMITTED / name)).extract_macros()}
    ours = {m for m in read_macros()} | {"ThisWorkbook"} | {f"Sheet{i}" for i in range(1, 30)}
    assert found <= ours and "xlwings" not in found
    assert workbook_xlwings(COMMITTED / name) == ADDIN


def buttons_of(path: Path) -> list[tuple[str, str]]:
    """(caption, macro) of every form button in the workbook's drawings."""
    found = []
    for name, data in members(path).items():
        if name.startswith("xl/drawings/vmlDrawing"):
            for shape in re.findall(r"<v:shape .*?</v:shape>", data.decode("utf-8"), re.S):
                if 'ObjectType="Button"' in shape:
                    caption = re.sub(r"<[^>]+>", "", re.search(r"<v:textbox.*?</v:textbox>", shape, re.S).group(0))
                    found.append((caption, re.search(r"<x:FmlaMacro>\[0\]!(\w+)</x:FmlaMacro>", shape).group(1)))
    return found


def commands(path: Path) -> dict[str, str]:
    """Each Sub of the workbook's VBA, as olevba reads it, with the RunPython command it passes on."""
    code = "\n".join(c for _, _, _, c in VBA_Parser(str(path)).extract_macros())
    return dict(re.findall(r'Public Sub (\w+)\(\)\s+RunTaizhang "([^"]*)"\s+End Sub', code))


@pytest.mark.parametrize("name", [STORE_BOOK, OFFICE_BOOK])
def test_olevba_shows_every_buttons_macro_with_its_exact_runpython_command(built, name, registers):
    found = commands(built / name)
    expected = BUTTONS[name]
    shown = buttons_of(built / name)
    if name == STORE_BOOK:
        sheets = [r for r in registers.values() if not r.is_answer_form]  # 逾期事项反馈 has no sheet of its own
        assert len(shown) == len(expected) * len(sheets)  # the buttons on every register sheet
    assert set(shown) == {(b.caption, b.macro) for b in expected}
    for button in expected:
        assert found[button.macro] == f"import toolkit.excel.buttons as b; b.{button.handler}()"


def test_the_run_helper_tries_the_workbooks_own_xlwings_then_the_add_in():
    code = read_macros()["Taizhang"].code
    assert code.index("'!RunPython\"") < code.index('"xlwings.xlam!RunPython"') < code.index("taizhang excel setup")


def imported_modules(ods: Path) -> dict[str, str]:
    with zipfile.ZipFile(ods) as z:
        return {Path(n).stem: z.read(n).decode("utf-8") for n in z.namelist()
                if n.startswith("Basic/VBAProject/") and not n.endswith("script-lb.xml")}


def module_code(xml: str) -> str:
    return html.unescape(re.search(r"Option VBASupport 1\n(?:Option ClassModule\n)?(.*)</script:module>", xml,
                                   re.S).group(1))


def to_ods(soffice: str, books: list[Path], out: Path) -> None:
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{out}/profile", "--convert-to", "ods",
                    "--outdir", str(out), *map(str, books)], capture_output=True, timeout=600, check=True)


def test_libreoffice_imports_every_module_with_the_source_of_macros_and_binds_every_button(built, tmp_path):
    soffice = libreoffice()
    if soffice is None:
        pytest.skip("LibreOffice is not installed")
    to_ods(soffice, [built / STORE_BOOK, built / OFFICE_BOOK], tmp_path)
    macros = read_macros()
    for name, ours in ((STORE_BOOK, "StoreButtons"), (OFFICE_BOOK, "OfficeButtons")):
        ods = tmp_path / name.replace(".xlsm", ".ods")
        imported = imported_modules(ods)
        for module in ("Taizhang", ours):  # an empty or missing import fails here
            assert module_code(imported[module]).strip() == macros[module].code.strip()
        with zipfile.ZipFile(ods) as z:
            content = z.read("content.xml").decode("utf-8")
        bound = set(re.findall(r"vnd\.sun\.star\.script:VBAProject\.(\w+)\.(\w+)\?", content))
        assert bound == {(ours, b.macro) for b in BUTTONS[name]}


def test_a_standalone_build_carries_the_installed_xlwings_vba_and_its_class_module(tmp_path, registers):
    soffice = libreoffice()
    modules, version = xlwings_modules()
    book = build_workbooks(tmp_path, [registers["complaints"]], standalone=True)[1]
    assert workbook_xlwings(book) == version
    found = {n.rsplit(".", 1)[0]: c for _, _, n, c in VBA_Parser(str(book)).extract_macros()}
    assert f'XLWINGS_VERSION As String = "{version}"' in found["xlwings"]
    assert "Attribute VB_PredeclaredId = False" in found["Dictionary"]
    assert [m.kind for m in modules] == ["standard", CLASS]
    if soffice is None:
        pytest.skip("LibreOffice is not installed")
    to_ods(soffice, [book], tmp_path)
    imported = imported_modules(tmp_path / OFFICE_BOOK.replace(".xlsm", ".ods"))
    assert 'script:moduleType="class"' in imported["Dictionary"]
    assert "Public Function RunPython(PythonCommand As String)" in module_code(imported["xlwings"])


MOCK_CALLER = textwrap.dedent("""
    # Excel's part in the test: the calling workbook is the Book API double on the workbook named below
    import atexit, os, sys
    sys.path.insert(0, os.environ["TAIZHANG_TEST_ROOT"])
    from tests.book_double import BookDouble
    import xlwings
    book = BookDouble(os.environ["TAIZHANG_TEST_BOOK"], active=os.environ["TAIZHANG_TEST_SHEET"] or None)
    xlwings.Book.caller = classmethod(lambda cls: book)
    atexit.register(lambda: book.keep(os.environ["TAIZHANG_TEST_KEPT"]))
""")


def run_as_excel(command: str, book: Path, sheet: str, kept: Path, mock_dir: Path) -> subprocess.CompletedProcess:
    """The command line xlwings' RunPython (Windows) starts: prepare_sys_path with the workbook's paths and
    the configured PYTHONPATH, then the button's command; the workbook's name follows as --wb."""
    assert '"' not in command  # it goes inside the double quotes of python -c
    pythonpath = ";".join(["true", str(book), str(book), "", "", "", str(ROOT)])
    code = f'import xlwings.utils;xlwings.utils.prepare_sys_path("{pythonpath}"); {command}'
    env = os.environ | {"PYTHONPATH": str(mock_dir), "TAIZHANG_TEST_ROOT": str(ROOT), "TAIZHANG_TEST_BOOK": str(book),
                        "TAIZHANG_TEST_SHEET": sheet, "TAIZHANG_TEST_KEPT": str(kept)}
    return subprocess.run([sys.executable, "-B", "-c", code, f"--wb={book.name}", "--from_xl=1",
                           "--app=C:\\Program Files\\Microsoft Office\\root\\Office16\\EXCEL.EXE", "--hwnd=1234"],
                          capture_output=True, text=True, env=env, timeout=300, cwd=book.parent)


@pytest.mark.parametrize("button", STORE_BUTTONS + OFFICE_BUTTONS, ids=lambda b: b.handler)
def test_every_buttons_command_run_as_excel_runs_it_reaches_its_handler(built, tmp_path, button, registers):
    name = STORE_BOOK if button in STORE_BUTTONS else OFFICE_BOOK
    book = tmp_path / "S001_一店" / name
    book.parent.mkdir()
    book.write_bytes((built / name).read_bytes())
    (tmp_path / "mock").mkdir()
    (tmp_path / "mock" / "sitecustomize.py").write_text(MOCK_CALLER, encoding="utf-8")
    sheet_name = registers["complaints"].name_zh if name == STORE_BOOK else OFFICE_SHEET
    wb = openpyxl.load_workbook(book, keep_vba=True)
    if name == STORE_BOOK:
        for c, value in enumerate(complaint(phone="1380013"), start=1):
            wb[sheet_name].cell(5, c, value)
    else:
        cells = {s.key: s.cell for s in OFFICE_SETTINGS}
        wb[OFFICE_SHEET][cells["input_dir"]] = str(book.parent)
        wb[OFFICE_SHEET][cells["output_dir"]] = str(tmp_path / "out")
    wb.save(book)
    done = run_as_excel(commands(built / name)[button.macro], book, sheet_name, tmp_path / "kept.xlsx", tmp_path / "mock")
    assert done.returncode == 0, done.stderr
    status = openpyxl.load_workbook(tmp_path / "kept.xlsx")[sheet_name][
        STATUS_CELL if name == STORE_BOOK else OFFICE_STATUS_CELL].value
    expected = {"check_sheet": "校验本表：本表1 个错误", "check_all": "校验全部：本表1 个错误", "store_overdue": "逾期",
                "monthly_summary": "完成", "overdue_lists": "完成", "send_email": "[email] 未设置 host", "export_data": "完成"}
    assert expected[button.handler] in status


def test_the_macros_folder_is_where_the_build_reads_it():
    assert MACROS_DIR == ROOT / "macros" and sorted(p.name for p in MACROS_DIR.glob("*.bas")) == [
        "OfficeButtons.bas", "StoreButtons.bas", "Taizhang.bas"]
