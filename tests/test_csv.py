"""Registers that arrive as CSV: a till's or CRM's export, Excel's "CSV" and "Unicode text" saves."""

from __future__ import annotations

import codecs
import csv
import io

import openpyxl
import pandas as pd

from tests.conftest import COMPLAINT_HEADER
from toolkit import reader
from toolkit.annotate import annotate_workbook
from toolkit.check import check_paths
from toolkit.consolidate import consolidate

ROWS = [COMPLAINT_HEADER,
        ["2611001", "2026/11/3", "投诉", "电话", "安装延误", "", "张伟", "138 0013 8000", "国内", "王小红", "客服部",
         "处理中", "", "", "", ""],
        ["2611002", "2026年11月4日", "咨询", "现场", "保修期", "保修多久", "李娜", "010-62345678", "国内", "王小红", "客服部",
         "已解决", "已答复", "2026-11-04", "", ""],
        ["2611003", "2026-11-05", "投诉", "网络", "商品破损", "外箱破损，\n内件完好", "赵强", "1.38001E+10", "国内", "王小红",
         "客服部", "已解决", "已退款", "", "300", "部门经理"]]


def _csv(rows: list[list[str]], separator: str = ",") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=separator, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def _records(path, registers) -> tuple[pd.DataFrame, pd.DataFrame]:
    result = check_paths([path], registers)
    (workbook,) = result.workbooks
    assert workbook.status == "ok", workbook.message_en
    (sheet,) = workbook.sheets
    return sheet.data, result.findings


def test_a_complaint_register_exported_as_gbk_csv_on_chinese_windows_is_read_like_a_sheet(tmp_path, registers):
    """Dates as the till writes them, a phone with spaces, a line break inside a quoted cell, and the phone
    Excel turned into 1.38001E+10: read as typed text is read, the lost digits an error on their cell."""
    path = tmp_path / "投诉导出.csv"
    path.write_bytes(_csv(ROWS).encode("gbk"))
    data, findings = _records(path, registers)
    assert list(data["received_date"].dt.strftime("%Y-%m-%d")) == ["2026-11-03", "2026-11-04", "2026-11-05"]
    assert list(data["phone"].fillna("")) == ["13800138000", "010-62345678", ""]
    assert data["content"].iloc[2] == "外箱破损，\n内件完好"
    errors = findings[findings["severity"] == "error"]
    assert set(zip(errors["row"], errors["field"], strict=True)) == {(4, "phone"), (4, "resolved_date")}
    (lost,) = errors.loc[errors["field"] == "phone", "message_zh"]
    assert "科学计数法" in lost and "后几位已丢失" in lost
    assert set(findings["sheet"]) == {"投诉导出"}


def test_the_same_register_in_utf8_with_bom_semicolons_and_excels_unicode_text_reads_the_same(tmp_path, registers):
    gbk = tmp_path / "a.csv"
    gbk.write_bytes(_csv(ROWS).encode("gb18030"))
    expected, _ = _records(gbk, registers)
    variants = {"bom.csv": codecs.BOM_UTF8 + _csv(ROWS, ";").encode("utf-8"),
                "unicode.csv": codecs.BOM_UTF16_LE + _csv(ROWS, "\t").encode("utf-16-le"),
                "plain.tsv": _csv(ROWS, "\t").encode("utf-8")}
    for name, content in variants.items():
        (tmp_path / name).write_bytes(content)
        data, _ = _records(tmp_path / name, registers)
        pd.testing.assert_frame_equal(data, expected, check_names=False, obj=name)


def test_bytes_that_fit_no_encoding_and_cells_past_the_column_limit_are_said_not_dropped(tmp_path, registers):
    rows = [row + [""] * 3 for row in ROWS]
    rows[1][-1] = "多出来的"
    content = _csv(rows).encode("utf-8").replace("张伟".encode(), b"\xff\xfe\xfd")
    path = tmp_path / "001_朝阳店" / "坏字节.csv"
    path.parent.mkdir()
    path.write_bytes(content)
    result = consolidate(tmp_path, registers, limits=reader.Limits(max_columns=17))
    (line,) = result.files
    assert line.status == "ok" and line.rows_read == 3
    assert any("无法识别编码" in w for w in line.warnings)
    assert any("1 个非空单元格未读取" in w for w in line.warnings)


def test_an_empty_csv_is_unusable_and_one_that_is_no_register_is_ignored_each_with_the_reason(tmp_path, registers):
    (tmp_path / "空.csv").write_bytes(b"")
    (tmp_path / "没有表头.csv").write_text("只是一些文字\n没有登记表\n", encoding="utf-8")
    result = check_paths([tmp_path / "空.csv", tmp_path / "没有表头.csv"], registers)
    reasons = {w.path.name: (w.status, w.message_zh) for w in result.workbooks}
    assert reasons["空.csv"][0] == "unusable" and "文件为空" in reasons["空.csv"][1]
    # a CSV that is no register (a price list, another system's export) is named with the reason, not a failure
    assert reasons["没有表头.csv"][0] == "ignored" and "未找到登记表" in reasons["没有表头.csv"][1]


def test_a_tall_csv_made_text_block_by_block_reads_exactly_as_one_held_whole(tmp_path, registers, monkeypatch):
    path = tmp_path / "投诉.csv"
    path.write_bytes(_csv([ROWS[0], *(ROWS[1:] * 5)]).encode("gbk"))
    whole, whole_findings = _records(path, registers)
    monkeypatch.setattr(reader, "STREAM_ROWS", 4)
    monkeypatch.setattr(reader, "BLOCK_ROWS", 3)
    streamed, streamed_findings = _records(path, registers)
    pd.testing.assert_frame_equal(streamed, whole)
    pd.testing.assert_frame_equal(streamed_findings.reset_index(drop=True), whole_findings.reset_index(drop=True))
    assert len(whole) == 15


def test_the_annotated_copy_of_a_csv_is_a_workbook_with_the_bad_cells_marked(tmp_path, registers):
    path = tmp_path / "投诉导出[10月].csv"
    path.write_bytes(_csv(ROWS).encode("gbk"))
    result = check_paths([path], registers)
    (workbook,) = result.workbooks
    copy = annotate_workbook(workbook, result.findings_of(workbook))
    assert copy == tmp_path / "投诉导出[10月]_校验结果.xlsx"
    book = openpyxl.load_workbook(copy)
    assert book.sheetnames == ["校验结果", "投诉导出_10月_"]
    sheet = book["投诉导出_10月_"]
    assert sheet["H4"].value == "1.38001E+10" and sheet["H4"].comment is not None
    assert sheet["A2"].value == "2611001" and sheet["A2"].comment is None
    assert sheet.column_dimensions["H"].width >= len("1.38001E+10")  # readable: a CSV brings no widths
    assert path.read_bytes() == _csv(ROWS).encode("gbk")  # the source is never modified


def test_the_csv_files_taizhang_exported_are_not_read_back_as_a_stores_register(tmp_path, registers):
    """Head office keeps this month's export under the same folder as the stores' workbooks: read back, its
    rows would count twice. Its header (store and source columns, then the fields' keys) says what it is."""
    from toolkit.export import export_register

    store = tmp_path / "in" / "001_朝阳店"
    store.mkdir(parents=True)
    (store / "投诉.csv").write_bytes(_csv(ROWS).encode("gbk"))
    first = consolidate(tmp_path / "in", registers)
    export_register(tmp_path / "in" / "导出", first.records["complaints"], registers["complaints"], ["csv"])
    again = consolidate(tmp_path / "in", registers)
    lines = {f.display: f for f in again.files}
    assert lines["导出/complaints.csv"].status == "ignored" and "导出" in lines["导出/complaints.csv"].message_zh
    assert len(again.records["complaints"]) == len(first.records["complaints"]) == 2  # row 4 is rejected
