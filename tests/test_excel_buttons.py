"""The buttons' handlers, through a test double of the part of xlwings' Book API they use.

Each story opens a workbook built by ``taizhang excel build``, fills it the way staff would, clicks a
button (calls its handler with the double as the calling book) and looks at what the open workbook shows.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import openpyxl
import pytest
import python_calamine as calamine

from tests.book_double import BookDouble
from tests.conftest import complaint
from tests.mail_server import PASSWORD, USER, start_server
from toolkit.annotate import RESULT_SHEET
from toolkit.excel import buttons
from toolkit.excel.build import build_office_workbook, build_store_workbook, read_macros
from toolkit.excel.layout import OFFICE_SHEET, OVERDUE_SHEET, STATUS_CELL
from toolkit.template import write_register_workbook

COMPLAINTS = "客户投诉登记表"
FIRST_ROW = 5  # buttons, status, title, header, then the records


@pytest.fixture
def store_book(tmp_path, registers) -> Path:
    macros = read_macros()
    path = tmp_path / "S001_一店" / "门店登记.xlsm"
    path.parent.mkdir()
    return build_store_workbook(path, list(registers.values()), [macros["Taizhang"], macros["StoreButtons"]],
                                store_code="S001", store_name="一店")


def fill(path: Path, sheet: str, rows: list[list]) -> None:
    """Staff type rows into a register sheet and save."""
    book = openpyxl.load_workbook(path, keep_vba=True)
    ws = book[sheet]
    for r, row in enumerate(rows, start=FIRST_ROW):
        for c, value in enumerate(row, start=1):
            ws.cell(r, c, value)
    book.save(path)


def test_a_wrong_phone_number_is_marked_in_the_open_sheet_and_listed_with_a_link(store_book):
    fill(store_book, COMPLAINTS, [complaint(phone="1380013"), complaint(no="2611002")])
    book = BookDouble(store_book, active=COMPLAINTS)
    buttons.check_book(book, whole=False)
    phone = book.cell(COMPLAINTS, f"H{FIRST_ROW}")
    assert phone.fill.fgColor.rgb.endswith("FFC7CE")
    assert phone.comment.text.startswith(buttons.MARK) and "不是有效的手机号" in phone.comment.text
    assert book.cell(COMPLAINTS, f"H{FIRST_ROW + 1}").comment is None
    status = book.cell(COMPLAINTS, STATUS_CELL).value
    assert "校验本表：本表1 个错误，0 个警告" in status and "校验结果" in status
    results = book._wb[RESULT_SHEET]
    row = [c.value for c in results[3]]
    assert row[:5] == [COMPLAINTS, FIRST_ROW, "H", "联系方式", "错误"] and row[7] == "1380013"
    assert row[8] == f'=HYPERLINK("#\'{COMPLAINTS}\'!H{FIRST_ROW}","转到 H{FIRST_ROW}")'
    assert book._wb.active.title == COMPLAINTS  # staff stay on their sheet
    assert book.saves == 1


def test_after_the_fix_a_second_check_clears_the_marks_of_the_first(store_book):
    fill(store_book, COMPLAINTS, [complaint(phone="1380013")])
    book = BookDouble(store_book, active=COMPLAINTS)
    buttons.check_book(book, whole=False)
    book.sheets[COMPLAINTS][f"H{FIRST_ROW}"].value = "13800138000"  # staff correct the number
    buttons.check_book(book, whole=False)
    phone = book.cell(COMPLAINTS, f"H{FIRST_ROW}")
    assert phone.comment is None and phone.fill.fill_type is None
    assert "本表未发现问题" in book.cell(COMPLAINTS, STATUS_CELL).value
    assert book._wb[RESULT_SHEET]["A3"].value is None
    assert "未发现问题" in book._wb[RESULT_SHEET]["A1"].value


def test_a_staff_note_on_a_bad_cell_is_kept_through_the_check_and_after_the_fix(store_book):
    fill(store_book, COMPLAINTS, [complaint(phone="1380013")])
    book = BookDouble(store_book, active=COMPLAINTS)
    book.sheets[COMPLAINTS][f"H{FIRST_ROW}"].add_note("客户说这是旧号码")
    buttons.check_book(book, whole=False)
    marked = book.cell(COMPLAINTS, f"H{FIRST_ROW}").comment.text
    assert marked.startswith(buttons.MARK) and marked.endswith("客户说这是旧号码")
    buttons.check_book(book, whole=False)  # checked again before the fix: one mark, still one staff note
    assert book.cell(COMPLAINTS, f"H{FIRST_ROW}").comment.text.count("客户说这是旧号码") == 1
    book.sheets[COMPLAINTS][f"H{FIRST_ROW}"].value = "13800138000"
    buttons.check_book(book, whole=False)
    assert book.cell(COMPLAINTS, f"H{FIRST_ROW}").comment.text == "客户说这是旧号码"


def test_checking_one_sheet_leaves_the_other_sheets_results_in_place(store_book, registers):
    visits = "客户拜访回访记录"
    fill(store_book, COMPLAINTS, [complaint(phone="1380013")])
    fill(store_book, visits, [["", "不是日期"]])
    book = BookDouble(store_book, active=COMPLAINTS)
    buttons.check_book(book, whole=True)
    listed = {c.value for c in book._wb[RESULT_SHEET]["A"][2:] if c.value}
    assert listed == {COMPLAINTS, visits}
    assert "全部登记表" in book.cell(visits, STATUS_CELL).value
    book.sheets[COMPLAINTS][f"H{FIRST_ROW}"].value = "13800138000"
    buttons.check_book(book, whole=False)  # 校验本表 on the complaints
    listed = {c.value for c in book._wb[RESULT_SHEET]["A"][2:] if c.value}
    assert listed == {visits}
    assert any(c.fill.fill_type == "solid" for c in book._wb[visits][FIRST_ROW])


def test_check_this_sheet_from_a_sheet_that_is_no_register_checks_them_all(store_book):
    fill(store_book, COMPLAINTS, [complaint(phone="1380013")])
    book = BookDouble(store_book, active="填写说明")
    buttons.check_book(book, whole=False)
    assert "全部登记表1 个错误" in book.cell(COMPLAINTS, STATUS_CELL).value


def test_a_value_that_reads_as_a_number_or_formula_is_listed_as_typed_and_stays_so(store_book):
    fill(store_book, COMPLAINTS, [complaint(phone="-1380013")])
    fill(store_book, "客户拜访回访记录", [["", "不是日期"]])
    book = BookDouble(store_book, active=COMPLAINTS)
    buttons.check_book(book, whole=False)
    book.sheets["客户拜访回访记录"].activate()
    buttons.check_book(book, whole=False)  # the complaints' row is carried over into the new list
    kept = book.keep(store_book.with_name("kept.xlsx"))
    with calamine.CalamineWorkbook.from_path(str(kept)) as wb:
        rows = wb.get_sheet_by_name(RESULT_SHEET).to_python()
    assert [r[7] for r in rows[2:] if r[0] == COMPLAINTS] == ["-1380013"]


def test_a_complaint_14_days_old_shows_in_the_stores_overdue_sheet(store_book):
    today = dt.date(2026, 11, 22)
    fill(store_book, COMPLAINTS, [complaint(no="2611001", received=today - dt.timedelta(days=14)),
                                  complaint(no="2611002", received=today, status="已解决", resolved=today)])
    book = BookDouble(store_book, active=COMPLAINTS)
    text = buttons.write_store_overdue(book, as_of=today)
    assert text.startswith("截至 2026-11-22：逾期 1 项")
    sheet = book._wb[OVERDUE_SHEET]
    assert [c.value for c in sheet[3]][:3] == ["逾期", COMPLAINTS, "2611001"]
    assert sheet["A4"].value is None
    assert "逾期 1 项" in book.cell(COMPLAINTS, STATUS_CELL).value
    assert book._wb.active.title == OVERDUE_SHEET  # the list is shown


def test_a_store_workbook_without_a_store_code_still_gets_its_overdue_list(tmp_path, registers):
    macros = read_macros()
    path = build_store_workbook(tmp_path / "门店登记.xlsm", list(registers.values()),
                                [macros["Taizhang"], macros["StoreButtons"]])
    fill(path, COMPLAINTS, [complaint(received=dt.date(2026, 11, 1))])
    book = BookDouble(path, active=COMPLAINTS)
    assert "逾期 1 项" in buttons.write_store_overdue(book, as_of=dt.date(2026, 11, 22))


@pytest.fixture
def office_book(tmp_path) -> Path:
    macros = read_macros()
    return build_office_workbook(tmp_path / "总部汇总.xlsm", [macros["Taizhang"], macros["OfficeButtons"]])


def stores_folder(root: Path, registers) -> Path:
    for code, name, rows in (("S001", "一店", [complaint(no="2610001", received=dt.date(2026, 10, 3))]),
                             ("S002", "二店", [complaint(no="2610002", received=dt.date(2026, 10, 20))])):
        folder = root / "2026-10" / f"{code}_{name}"
        folder.mkdir(parents=True)
        write_register_workbook(folder / "投诉.xlsx", [registers["complaints"]], code, name)
        book = openpyxl.load_workbook(folder / "投诉.xlsx")
        for r, row in enumerate(rows, start=3):
            for c, value in enumerate(row, start=1):
                book[COMPLAINTS].cell(r, c, value)
        book.save(folder / "投诉.xlsx")
    return root / "2026-10"


def settings(book: BookDouble, **values: object) -> None:
    from toolkit.excel.layout import OFFICE_SETTINGS
    cells = {s.key: s.cell for s in OFFICE_SETTINGS}
    for key, value in values.items():
        book.sheets[OFFICE_SHEET][cells[key]].value = value


def test_head_office_runs_the_monthly_summary_from_the_settings_and_sees_where_it_went(office_book, tmp_path,
                                                                                         registers):
    book = BookDouble(office_book)
    settings(book, input_dir=str(stores_folder(tmp_path, registers)), month="2026-10",
             as_of=dt.datetime(2026, 11, 5), output_dir=str(tmp_path / "out"))
    written = buttons.run_office(book, "summary")
    assert written == [tmp_path / "out" / "台账汇总_2026-10.xlsx"] and written[0].is_file()
    status = book.cell(OFFICE_SHEET, "B13").value
    assert "完成" in status and "2 个文件，2 行接收，0 行拒收" in status
    assert book.cell(OFFICE_SHEET, "A16").value == "写出" and book.cell(OFFICE_SHEET, "B16").value == str(written[0])


def test_overdue_lists_are_written_one_workbook_per_store_in_folders_beside_the_workbook(office_book, tmp_path,
                                                                                          registers):
    book = BookDouble(office_book)
    stores_folder(tmp_path, registers)
    settings(book, input_dir="2026-10", as_of="2026-11-05", output_dir="lists")  # relative to the workbook
    written = buttons.run_office(book, "overdue")
    assert {p.parent for p in written} == {tmp_path / "lists"}
    assert sorted(p.name for p in written) == ["S001_一店_逾期清单_2026-11-05.xlsx", "S002_二店_逾期清单_2026-11-05.xlsx"]
    assert [book.cell(OFFICE_SHEET, f"B{r}").value for r in (16, 17)] == [str(p) for p in written]


@pytest.mark.parametrize(("values", "message"), [
    ({}, "请填写输入文件夹"),
    ({"input_dir": "/no/such/folder"}, "输入文件夹不存在"),
    ({"input_dir": ".", "as_of": "11月5日"}, "截止日期「11月5日」不是日期"),
    ({"input_dir": ".", "month": "十月"}, "统计月份「十月」不是月份"),
    ({"input_dir": ".", "config": "/no/taizhang.toml"}, "配置文件不存在"),
])
def test_a_missing_or_wrong_setting_is_explained_in_the_status_cell(office_book, monkeypatch, values, message):
    book = BookDouble(office_book)
    settings(book, **values)
    monkeypatch.setattr(buttons, "caller", lambda: book)
    buttons.monthly_summary()
    assert message in book.cell(OFFICE_SHEET, "B13").value


def test_send_email_mails_the_summary_to_the_typed_recipients_and_each_store_its_list(office_book, tmp_path,
                                                                                       registers, monkeypatch):
    controller, box, port, ca = start_server(tmp_path, "starttls")
    try:
        (tmp_path / "taizhang.toml").write_text(f"""
[company]
domain = "example.cn"
[[stores]]
code = "S001"
name = "一店"
manager = "李店长"
email = "li@example.cn"
[[stores]]
code = "S002"
name = "二店"
email = "er@qq.com"
[email]
host = "127.0.0.1"
port = {port}
security = "starttls"
username = "{USER}"
ca_file = "ca.pem"
""", encoding="utf-8")
        monkeypatch.setenv("TAIZHANG_SMTP_PASSWORD", PASSWORD)
        book = BookDouble(office_book)
        stores_folder(tmp_path, registers)
        settings(book, input_dir="2026-10", month="2026-10", as_of="2026-11-05", output_dir="out",
                 recipients="总经理 <gm@example.cn>；ops@example.cn")
        monkeypatch.setattr(buttons, "caller", lambda: book)
        buttons.send_email()
    finally:
        controller.stop()
    assert sorted(to for _, rcpts, _ in box.received for to in rcpts) == [
        "er@qq.com", "gm@example.cn", "li@example.cn", "ops@example.cn"]
    assert "已发送 4" in book.cell(OFFICE_SHEET, "B13").value
    lines = [[book.cell(OFFICE_SHEET, f"{c}{r}").value for c in "ABC"] for r in range(16, 21)]
    assert lines[0] == ["写出", str(tmp_path / "out" / "邮件_2026-10"), None]
    assert lines[1:] == [["已发送", "总经理 <gm@example.cn>", "月度汇总"], ["已发送", "ops@example.cn", "月度汇总"],
                         ["已发送", "李店长 <li@example.cn>", "S001 逾期清单"],
                         ["已发送", "二店店长 <er@qq.com>", "S002 逾期清单（脱敏）"]]


def test_send_email_without_a_password_says_how_to_give_one_before_reading_anything(office_book, tmp_path,
                                                                                     monkeypatch):
    (tmp_path / "taizhang.toml").write_text('[email]\nprovider = "qq"\nusername = "hq@qq.com"\n'
                                            'management = ["gm@example.cn"]\n', encoding="utf-8")
    monkeypatch.setenv("TAIZHANG_SMTP_PASSWORD", "")
    book = BookDouble(office_book)
    settings(book, input_dir=".", output_dir="out")
    monkeypatch.setattr(buttons, "caller", lambda: book)
    buttons.send_email()
    status = book.cell(OFFICE_SHEET, "B13").value
    assert "未完成" in status and "TAIZHANG_SMTP_PASSWORD" in status and "授权码" in status
    assert not (tmp_path / "out").exists()


def test_export_writes_csv_and_parquet_with_a_datapackage_for_other_systems(office_book, tmp_path, registers,
                                                                            monkeypatch):
    book = BookDouble(office_book)
    stores_folder(tmp_path, registers)
    settings(book, input_dir="2026-10", as_of="2026-11-05", output_dir="out")
    monkeypatch.setattr(buttons, "caller", lambda: book)
    buttons.export_data()
    folder = tmp_path / "out" / "导出_2026-11-05"
    assert (folder / "datapackage.json").is_file() and (folder / "complaints.parquet").is_file()
    assert "2 行接收" in book.cell(OFFICE_SHEET, "B13").value
    assert book.cell(OFFICE_SHEET, "B16").value == str(folder)


@pytest.mark.skipif(not os.environ.get("XLWINGS_LICENSE_KEY"),
                    reason="xlwings' Book(json=...) engine needs an XLWINGS_LICENSE_KEY (not available here)")
def test_marks_and_the_result_sheet_through_xlwings_own_json_engine():
    """The same writing code against xlwings' own Book implementation (its remote/JSON engine): the
    actions it would send to Excel. Only the members listed in toolkit/excel/book.py are used."""
    import pandas as pd
    import xlwings as xw

    sheet = {"name": COMPLAINTS, "values": [[""] * 18 for _ in range(6)], "pictures": [], "tables": [],
             "notes": [], "notes_supported": True}
    book = xw.Book(json={"client": "Office.js", "version": xw.__version__,
                         "book": {"name": "门店登记.xlsm", "active_sheet_index": 0, "selection": "A1"},
                         "names": [], "sheets": [sheet]})
    findings = pd.DataFrame({"sheet": [COMPLAINTS], "row": [FIRST_ROW], "column": ["H"], "severity": ["error"],
                             "message_zh": ["不是有效的手机号"]})
    assert buttons._mark_cells(book, findings) == 1
    buttons._write_result_sheet(book, [[COMPLAINTS, FIRST_ROW, "H", "联系方式", "错误", "不是有效的手机号", "bad",
                                        "1380013"]], 0)
    actions = {a["func"] for a in book.json()["actions"]}
    assert {"setRangeColor", "addNote", "addSheet", "setValues", "setColumnWidth"} <= actions
