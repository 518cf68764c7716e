"""Reading what staff really send: title rows, renamed and traditional headers, footers, odd files."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import msoffcrypto.format.ooxml
import pandas as pd
import pytest
import xlsxwriter
import xlwt

from tests.conftest import COMPLAINT_HEADER, complaint, write_workbook
from toolkit.check import check_paths
from toolkit.reader import read_workbook
from toolkit.template import write_register_workbook


def test_a_store_that_kept_the_title_row_and_a_blank_line_above_the_header(tmp_path, registers):
    path = write_workbook(tmp_path / "朝阳店投诉.xlsx", {"十月": [
        ["朝阳店客户投诉登记表（2026年11月）"], [], COMPLAINT_HEADER, complaint(), complaint(no="2611002")]})
    book = read_workbook(path, registers)
    assert book.status == "ok"
    (sheet,) = book.sheets
    assert sheet.register.id == "complaints" and sheet.header_row == 3
    assert list(sheet.data.index) == [4, 5]  # Excel's row numbers
    assert sheet.data.loc[4, "received_date"] == dt.datetime(2026, 11, 3)


def test_a_renamed_column_and_an_extra_column_are_matched_and_kept(tmp_path, registers):
    header = [("电话" if h == "联系方式" else "投诉类型" if h == "类型" else h) for h in COMPLAINT_HEADER] + ["录入人"]
    path = write_workbook(tmp_path / "a.xlsx", {"Sheet1": [header, complaint() + ["小张"]]})
    (sheet,) = read_workbook(path, registers).sheets
    assert sheet.columns["phone"] == 7 and sheet.columns["category"] == 2
    assert sheet.extra_columns == {"录入人": 16}
    assert sheet.raw.loc[2, "录入人"] == "小张"
    findings = check_paths([path], registers).findings
    extra = findings[findings["code"] == "extra-label"]
    assert list(extra["column"]) == ["Q"] and "录入人" in extra["message_zh"].iloc[0]


def test_headers_in_traditional_characters_full_width_and_with_line_breaks(tmp_path, registers):
    header = list(COMPLAINT_HEADER)
    header[0] = "投訴\n編號"
    header[7] = "聯繫電話"
    header[11] = "處理　狀態 *"
    header[14] = "赔偿金额（元）"
    path = write_workbook(tmp_path / "a.xlsx", {"Sheet1": [header, complaint(category="諮詢", status=" 處理中 ")]})
    (sheet,) = read_workbook(path, registers).sheets
    assert {"complaint_no", "phone", "status", "compensation"} <= set(sheet.columns)
    assert sheet.data.loc[2, "category"] == "咨询" and sheet.data.loc[2, "status"] == "处理中"
    assert sheet.missing_fields == ["return_visit_date", "return_visit_result"]


def test_a_missing_required_column_is_reported_once_on_the_header(tmp_path, registers):
    header = [h for h in COMPLAINT_HEADER if h != "投诉主题"]
    row = complaint()
    del row[4]
    path = write_workbook(tmp_path / "a.xlsx", {"Sheet1": [header, row]})
    findings = check_paths([path], registers).findings
    missing = findings[(findings["code"] == "missing-label") & (findings["severity"] == "error")]
    assert len(missing) == 1 and missing["field"].iloc[0] == "subject" and missing["row"].iloc[0] == 1
    assert "缺少必填列「投诉主题」" in missing["message_zh"].iloc[0]


def test_blank_rows_signature_lines_and_totals_are_skipped_and_accounted_for(tmp_path, registers):
    rows = [COMPLAINT_HEADER, complaint(), [], complaint(no="2611002"), [None] * 5, ["合计", None, None, 2],
            ["制表人：王芳", None, None, "审核：李明"], ["注：本表每月5日前报总部"]]
    path = write_workbook(tmp_path / "a.xlsx", {"Sheet1": rows})
    (sheet,) = read_workbook(path, registers).sheets
    assert sheet.rows_read == 2
    assert [r for r, _ in sheet.skipped] == [3, 5, 6, 7, 8]
    assert sheet.rows_read + len(sheet.skipped) == len(rows) - 1
    assert check_paths([path], registers).errors == 0


def test_dates_phones_and_numbers_as_staff_type_them(tmp_path, registers):
    typed = [("2026/11/5", "138 0013 8000"), ("2026-11-05", "138-0013-8000"), ("2026.11.5", "+86 138 0013 8000"),
             ("2026年11月5日", 13800138000), (dt.datetime(2026, 11, 5, 9, 30), "１３８００１３８０００"),
             (46331, "010-12345678")]
    rows = [COMPLAINT_HEADER] + [complaint(no=f"261100{i}", received=d, phone=p, compensation="1,200", approver="部门经理")
                                 for i, (d, p) in enumerate(typed)]
    path = write_workbook(tmp_path / "a.xlsx", {"Sheet1": rows})
    (sheet,) = read_workbook(path, registers).sheets
    assert set(sheet.data["received_date"]) == {dt.datetime(2026, 11, 5)}
    assert list(sheet.data["phone"]) == ["13800138000"] * 5 + ["010-12345678"]
    assert list(sheet.data["compensation"]) == [1200.0] * 6
    result = check_paths([path], registers)
    assert result.findings[result.findings["severity"] == "error"].empty, result.findings["message_zh"].tolist()


def test_dates_as_staff_say_them_20hao_a_weekday_and_2_in_the_afternoon(tmp_path, registers):
    """号 for 日, the weekday written after the date, 下午/晚上 before a 12-hour time, spaces or a last dot as the
    separators: the day (and the time) they mean, not a rejected row. What has no year is read with this year
    and said; what cannot be told (12-31-2026) stays an error."""
    said = ["2026年11月5号", "2026年11月5日 星期四", "2026-11-05（周四）", "2026 11 5", "2026.11.5.", "11-5"]
    rows = [COMPLAINT_HEADER] + [complaint(no=f"261100{i}", received=d) for i, d in enumerate(said)]
    repairs = [["报修单号", "报修时间", "报修内容"], ["R1", "2026/11/5 下午2:30", "漏水"], ["R2", "2026年11月5日 晚上9点", "停电"],
               ["R3", "2026-11-05 中午12:10", "门锁"], ["R4", "2026-11-05 上午9:05", "电梯"], ["R5", "12-31-2026", "灯"]]
    duty = [["日期", "值班人员", "开始时间", "交接时间"], ["2026-11-05", "王强", "下午2:30", "晚上10点"]]
    path = write_workbook(tmp_path / "a.xlsx", {"投诉": rows, "报修": repairs, "值班": duty})
    complaints, repair, shifts = read_workbook(path, registers, reference_year=2026).sheets
    assert set(complaints.data["received_date"]) == {dt.datetime(2026, 11, 5)}
    assert list(complaints.guessed["received_date"]) == [False] * 5 + [True]
    assert list(repair.data["reported_at"][:4]) == [dt.datetime(2026, 11, 5, 14, 30), dt.datetime(2026, 11, 5, 21),
                                                   dt.datetime(2026, 11, 5, 12, 10), dt.datetime(2026, 11, 5, 9, 5)]
    assert list(repair.bad["reported_at"]) == [False] * 4 + [True]
    assert (shifts.data["start"].iloc[0], shifts.data["handover"].iloc[0]) == (14 * 60 + 30, 22 * 60)


def test_pages_of_a_printed_register_pasted_one_under_another_repeat_the_header_which_is_skipped(tmp_path, registers):
    """The header repeated above each pasted page (as typed, or with the template's * marks) is a line that
    names the columns, not a complaint with every value wrong; a record whose 类型 is 投诉 is still a record."""
    marked = ["投诉编号*", "投诉日期*", "类型*", *COMPLAINT_HEADER[3:]]
    rows = [COMPLAINT_HEADER, complaint("2611001"), complaint("2611002"), COMPLAINT_HEADER, complaint("2611003"),
            marked, complaint("2611004"), ["投诉编号", "2026-11-05", "投诉", "电话", "安装延误"]]
    (sheet,) = read_workbook(write_workbook(tmp_path / "a.xlsx", {"投诉": rows}), registers).sheets
    assert sheet.rows_read == 5
    assert sheet.skipped == [(4, "重复的表头行 / the header row repeated"), (6, "重复的表头行 / the header row repeated")]
    result = check_paths([tmp_path / "a.xlsx"], registers)
    assert set(result.findings.loc[result.findings["severity"] == "error", "row"]) == {8}  # 投诉编号 as a number


def test_formulas_a_script_saved_without_their_results_are_said_to_lack_them_not_to_be_empty(tmp_path, registers):
    """A colleague's script (openpyxl) fills the register with formulas and never opens it in Excel: the cells
    hold no result (<v/>), which the reader sees as empty while Excel would show a value. The finding says so
    and what to do; a formula whose result is an empty text, as Excel saves it, is simply empty."""
    import openpyxl
    import xlsxwriter

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(COMPLAINT_HEADER)
    sheet.append(complaint("2611001"))
    sheet["A2"] = '="2611"&"001"'
    sheet["F2"] = '="说明"'  # 投诉内容, not required: a warning
    book.save(tmp_path / "脚本.xlsx")
    result = check_paths([tmp_path / "脚本.xlsx"], registers)
    said = result.findings[result.findings["code"] == "formula-error"].set_index("column")
    assert set(said.index) == {"A", "F"}
    assert said.loc["A", "severity"] == "error" and "公式没有保存计算结果" in said.loc["A", "message_zh"]
    assert said.loc["F", "severity"] == "warning" and "按空白读取" in said.loc["F", "message_zh"]
    assert not (result.findings["code"] == "missing-cell").any()

    excel = xlsxwriter.Workbook(str(tmp_path / "excel.xlsx"))
    ws = excel.add_worksheet()
    for c, v in enumerate(COMPLAINT_HEADER):
        ws.write(0, c, v)
    for c, v in enumerate(complaint("2611001")):
        if v is not None:
            ws.write(1, c, v)
    ws.write_formula(1, 5, '=IF(1>2,"x","")', None, "")
    excel.close()
    with zipfile.ZipFile(tmp_path / "excel.xlsx") as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    sheet_xml = members["xl/worksheets/sheet1.xml"]
    assert b'<c r="F2"><f>' in sheet_xml
    members["xl/worksheets/sheet1.xml"] = sheet_xml.replace(b'<c r="F2"><f>', b'<c r="F2" t="str"><f>')  # as Excel saves it
    with zipfile.ZipFile(tmp_path / "excel.xlsx", "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    result = check_paths([tmp_path / "excel.xlsx"], registers)
    assert not (result.findings["code"] == "formula-error").any()


def test_a_workbook_with_two_register_sheets_beside_an_instructions_sheet(tmp_path, registers):
    service_header = ["服务单号", "服务请求日期", "客户姓名", "联系电话", "服务类型", "服务完成情况"]
    path = write_workbook(tmp_path / "a.xlsx", {
        "说明": [["填写说明"], ["字段", "含义"], ["投诉编号", "年月+流水号"]],
        "投诉": [COMPLAINT_HEADER, complaint()],
        "售后": [service_header, ["S001", dt.date(2026, 11, 2), "李娜", "13900139000", "维修", "进行中"]],
    })
    book = read_workbook(path, registers)
    assert [(s.sheet, s.register.id) for s in book.sheets] == [("投诉", "complaints"), ("售后", "service")]
    assert book.other_sheets == ["说明"]


def test_a_template_filled_by_a_store_is_recognised_by_its_metadata(tmp_path, registers):
    import pandas as pd

    records = pd.DataFrame({"complaint_no": ["2611001"], "received_date": [dt.date(2026, 11, 3)],
                            "category": ["投诉"], "subject": ["服务态度"], "status": ["待处理"]})
    path = write_register_workbook(tmp_path / "t.xlsx", [registers["complaints"]], "001", "朝阳店",
                                   {"complaints": records})
    book = read_workbook(path, registers)
    (sheet,) = book.sheets
    assert sheet.detected_by == "metadata" and (sheet.store_code, sheet.store_name) == ("001", "朝阳店")
    assert book.other_sheets == ["填写说明"]
    assert sheet.rows_read == 1


def test_an_old_xls_workbook_is_read(tmp_path, registers):
    book = xlwt.Workbook()
    ws = book.add_sheet("投诉")
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for c, h in enumerate(COMPLAINT_HEADER):
        ws.write(0, c, h)
    for c, v in enumerate(complaint(received=None)):
        if v is not None:
            ws.write(1, c, v)
    ws.write(1, 1, dt.datetime(2026, 11, 3), date_style)
    path = tmp_path / "old.xls"
    book.save(str(path))
    (sheet,) = read_workbook(path, registers).sheets
    assert sheet.register.id == "complaints"
    assert sheet.data.loc[2, "received_date"] == dt.datetime(2026, 11, 3)
    assert sheet.data.loc[2, "phone"] == "13800138000"


def _encrypt(source, target, password="1234"):
    with open(source, "rb") as plain, open(target, "wb") as locked:
        office = msoffcrypto.format.ooxml.OOXMLFile(plain)
        office.encrypt(password, locked)


def test_a_password_protected_file_is_explained_and_does_not_stop_the_others(tmp_path, registers):
    good = write_workbook(tmp_path / "good.xlsx", {"Sheet1": [COMPLAINT_HEADER, complaint()]})
    _encrypt(good, tmp_path / "locked.xlsx")
    result = check_paths([tmp_path], registers)
    status = {w.path.name: w for w in result.workbooks}
    assert status["good.xlsx"].status == "ok"
    assert status["locked.xlsx"].status == "unusable"
    assert "文件已加密，请去除密码后重新提交" in status["locked.xlsx"].message
    assert "password-protected" in status["locked.xlsx"].message


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("broken.xlsx", b"PK\x03\x04 this zip stops here", "文件已损坏"),
    ("notes.xlsx", "这不是Excel文件".encode(), "文件已损坏"),
    ("empty.xlsx", b"", "文件为空"),
])
def test_files_that_are_not_workbooks_get_a_reason(tmp_path, registers, name, content, expected):
    (tmp_path / name).write_bytes(content)
    book = read_workbook(tmp_path / name, registers)
    assert book.status == "unusable" and expected in book.message_zh and book.message_en


def test_excel_lock_files_are_ignored_and_an_annotated_copy_is_read_without_its_results_sheet(tmp_path, registers):
    write_workbook(tmp_path / "a.xlsx", {"Sheet1": [COMPLAINT_HEADER, complaint()]})
    (tmp_path / "~$a.xlsx").write_bytes(b"lock")
    write_workbook(tmp_path / "a_校验结果.xlsx", {
        "校验结果": [["工作表", "行", "列", "字段", "级别", "问题"], ["Sheet1", 2, "N", "resolved_date", "错误", "…"]],
        "Sheet1": [COMPLAINT_HEADER, complaint()]})
    result = check_paths([tmp_path], registers)
    assert {w.path.name: w.status for w in result.workbooks} == {
        "a.xlsx": "ok", "a_校验结果.xlsx": "ok", "~$a.xlsx": "ignored"}
    copy = next(w for w in result.workbooks if w.path.name == "a_校验结果.xlsx")
    assert [s.sheet for s in copy.sheets] == ["Sheet1"] and copy.unrecognised[0][0] == "校验结果"


def test_a_sheet_with_nothing_like_a_register_makes_the_file_unusable(tmp_path, registers):
    path = write_workbook(tmp_path / "a.xlsx", {"Sheet1": [["品名", "数量", "单价"], ["苹果", 3, 5.5]]})
    book = read_workbook(path, registers)
    assert book.status == "unusable" and "未找到登记表" in book.message_zh


def test_reading_in_memory_encrypted_detection_does_not_touch_the_source(tmp_path, registers):
    good = write_workbook(tmp_path / "good.xlsx", {"Sheet1": [COMPLAINT_HEADER, complaint()]})
    before = good.read_bytes()
    read_workbook(good, registers)
    assert good.read_bytes() == before
    assert io.BytesIO(before).read(2) == b"PK"


def test_excel_numbers_and_dates_become_plain_text_but_typed_text_stays_as_typed(tmp_path, registers):
    rows = [COMPLAINT_HEADER,
            complaint(no=2611001.0, received=dt.date(2026, 11, 5), subject="12.0"),
            complaint(no="2611002", received=dt.datetime(2026, 11, 5), subject=True),
            complaint(no="2611003", received=dt.datetime(2026, 11, 5, 9, 30), subject="2026-11-05 00:00:00")]
    path = write_workbook(tmp_path / "a.xlsx", {"Sheet1": rows})
    (sheet,) = read_workbook(path, registers).sheets
    assert list(sheet.text["complaint_no"]) == ["2611001", "2611002", "2611003"]
    assert list(sheet.text["received_date"]) == ["2026-11-05", "2026-11-05", "2026-11-05 09:30:00"]
    assert list(sheet.text["subject"]) == ["12.0", "TRUE", "2026-11-05 00:00:00"]


def test_an_excel_time_with_a_fraction_of_a_second_is_read_to_the_second_as_excel_shows_it(tmp_path, registers):
    # =NOW() or a computed time keeps milliseconds that nobody sees in the cell
    rows = [COMPLAINT_HEADER,
            complaint(no="2611001", received=dt.datetime(2026, 11, 5, 9, 30, 0, 364000)),
            complaint(no="2611002", received=dt.datetime(2026, 11, 5, 23, 59, 59, 700000))]
    path = write_workbook(tmp_path / "a.xlsx", {"Sheet1": rows})
    (sheet,) = read_workbook(path, registers).sheets
    assert list(sheet.text["received_date"]) == ["2026-11-05 09:30:00", "2026-11-06"]


def test_the_columns_holding_formulas_are_told_by_the_cells_that_start_with_one():
    """A due date filled down as a formula marks its column; a font, a value before a formula or a data
    validation's <xm:f> marks none (the survey looks at each <f where it stands)."""
    from toolkit.survey import formula_columns

    xml = (b'<sheetData><row r="2"><c r="A2" t="s"><v>0</v></c><c r="C2" s="3">\n  <f>A2+13</f><v>46000</v></c>'
           b'<c r="AB2"><f t="shared" ref="AB2:AB9" si="0"/><v>1</v></c><c r="D2"><v>1</v><f>X</f></c></row>'
           b'<row r="3"><c r="E3"><font/></c><c r="F3" t="str"><f>"a"</f></c></row></sheetData>'
           b'<x14:dataValidation><x14:formula1><xm:f>"a,b"</xm:f></x14:formula1></x14:dataValidation>')
    assert formula_columns(xml) == {2, 27, 5}
    assert formula_columns(b'<c r="A1"><v>1</v></c>') == set()


def _tall_register(path):
    """A complaints register as a store keeps it: a title above, the table starting in column B, a date
    merged down over several rows, text dates, phones as numbers, a formula error, blank and footer lines."""
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("投诉台账")
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write(0, 1, "海外客户投诉台账")
    for c, label in enumerate(COMPLAINT_HEADER):
        sheet.write_string(1, c + 1, label)
    r = 2
    for i in range(40):
        row = complaint(f"26110{i:02d}", dt.date(2026, 11, 1 + i % 28), phone=13800138000 + i if i % 3 else
                        f"138 0013 {i:04d}", status="已解决" if i % 4 == 0 else "处理中",
                        resolved=dt.date(2026, 11, 28) if i % 4 == 0 and i % 8 else None)
        for c, value in enumerate(row):
            if isinstance(value, dt.date):
                sheet.write_datetime(r, c + 1, dt.datetime.combine(value, dt.time()), day)
            elif isinstance(value, int | float):
                sheet.write_number(r, c + 1, value)
            elif value is not None:
                sheet.write_string(r, c + 1, str(value) if i % 9 else f" {value} ")
        r += 1
        if i == 12:
            r += 1  # a blank line between records
    for top in (6, 29):  # 投诉日期 merged down over seven rows, the second time across two blocks of the read
        sheet.merge_range(top, 2, top + 6, 2, dt.datetime(2026, 11, 5), day)
    sheet.write_string(20, 2, "2026/11/7")
    sheet.write_formula(21, 15, "=1/0", None, "#DIV/0!")
    sheet.write_string(r + 1, 1, "制表人：王小红")
    book.close()
    return path


def test_a_tall_sheet_made_text_block_by_block_reads_exactly_as_one_held_whole(tmp_path, registers, monkeypatch):
    """A sheet of a million rows is turned into text a block at a time (its Python cells would not fit in
    memory at once): the records, their types, the skipped lines, the merged values and the findings are
    the same as when the sheet is held whole. Tried here on 40 rows with blocks of 7 rows (after the first
    rows, which are read whole to find the header)."""
    import toolkit.reader as reader
    from toolkit.consolidate import consolidate

    (tmp_path / "001_朝阳店").mkdir()
    path = _tall_register(tmp_path / "001_朝阳店" / "投诉.xlsx")
    whole = reader.read_workbook(path, registers, 2026)
    whole_check = check_paths([path], registers, 2026).findings
    whole_run = consolidate(tmp_path, registers, jobs=1)
    monkeypatch.setattr(reader, "STREAM_ROWS", 10)
    monkeypatch.setattr(reader, "BLOCK_ROWS", 7)
    assert reader.scan_workbook(path, registers).sheets[0].columns is not None  # the streamed path is taken
    streamed = reader.read_workbook(path, registers, 2026)
    a, b = whole.sheets[0], streamed.sheets[0]
    for frame in ("text", "data", "bad", "guessed", "formula_errors"):
        pd.testing.assert_frame_equal(getattr(a, frame), getattr(b, frame), check_index_type=False)
    assert a.skipped == b.skipped and whole.notes == streamed.notes and a.header_row == b.header_row
    assert any("合并单元格" in zh for _, zh, _ in streamed.notes)
    pd.testing.assert_frame_equal(whole_check, check_paths([path], registers, 2026).findings)
    run = consolidate(tmp_path, registers, jobs=1)
    pd.testing.assert_frame_equal(whole_run.records["complaints"], run.records["complaints"])
    pd.testing.assert_frame_equal(whole_run.findings, run.findings)
    assert [e.manifest() for e in whole_run.files] == [e.manifest() for e in run.files]
