"""Registers as companies already keep them: recognised as the register they are, read as meant."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import python_calamine as calamine

from tests.company_registers import complaint_register, customer_export, duty_roster, follow_up_register
from tests.conftest import COMPLAINT_HEADER, complaint, write_workbook
from tests.torture import ROOT, consolidate
from toolkit.check import check_paths
from toolkit.definitions import load_definition


def _validate(*args: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "toolkit.cli", "validate", *args, "--json"], cwd=ROOT,
                          capture_output=True, timeout=300)
    assert done.returncode in (0, 1, 2), done.stderr.decode()[-2000:]
    return json.loads(done.stdout)


# --- recognising the register, and saying why -------------------------------------------------------
def test_a_complaint_register_kept_in_wps_with_its_own_headers_is_read_as_complaints(tmp_path, registers):
    built = complaint_register(tmp_path / "海外客诉.xlsx")
    report = _validate(str(built.path))
    (line,) = report["files"]
    assert line["registers"] == ["complaints"]
    (sheet,) = line["sheets"]
    assert sheet["sheet"] == "所有客诉" and sheet["how"] == "headers"
    assert "投诉编号（编号）" in sheet["why"] and "投诉日期" in sheet["why"]
    assert "表名/标题「所有客诉」" in sheet["why"]  # the sheet name (客诉) names the register


def test_a_complaint_register_with_customer_columns_is_never_read_as_a_customer_file(tmp_path, registers):
    """编号, 客户名称, 联系电话, 地址, 客户类型 and 备注 are all customer-file headers; 投诉日期 is what says
    these rows are complaints: the register's own date outweighs columns every register has."""
    path = write_workbook(tmp_path / "登记.xlsx", {"Sheet1": [
        ["编号", "客户名称", "联系电话", "地址", "客户类型", "备注", "投诉日期", "问题描述"],
        ["2610001", "广州甲公司", "13800138000", "天河路1号", "单位", "", "2026-10-03", "送货延误"]]})
    (workbook,) = check_paths([path], registers).workbooks
    assert [s.register.id for s in workbook.sheets] == ["complaints"]


def test_a_customer_file_typed_by_hand_stays_a_customer_file(tmp_path, registers):
    path = write_workbook(tmp_path / "客户.xlsx", {"客户资料": [
        ["客户编号", "客户名称", "联系电话", "地址", "客户类型", "备注", "建档日期"],
        ["C001", "广州甲公司", "13800138000", "天河路1号", "单位", "", "2026-10-03"]]})
    (workbook,) = check_paths([path], registers).workbooks
    assert [s.register.id for s in workbook.sheets] == ["customers"]


def test_a_contact_list_no_register_explains_is_unusable_with_the_nearest_registers_and_the_hint(tmp_path, demo):
    """客户名称, 联系电话, 备注: a customer file has them, but not its key nor most of its required fields."""
    folder, clean = demo
    write_workbook(folder / "001_朝阳店" / "通讯录.xlsx", {"通讯录": [
        ["客户名称", "联系电话", "备注"], ["广州甲公司", "13800138000", "老客户"]]})
    run = consolidate(folder, tmp_path / "out.xlsx")
    line = run.line("001_朝阳店/通讯录.xlsx")
    assert line["status"] == "unusable"
    assert "最接近" in line["message"] and "客户档案" in line["message"] and "缺少 客户编号" in line["message"]
    assert "taizhang definitions infer" in line["message"]
    assert line["sheets"] == [{"sheet": "通讯录", "register": None, "how": "none", "why": line["sheets"][0]["why"]}]
    assert run.code == 3


def test_every_sheet_of_a_template_is_on_its_manifest_line_with_how_it_was_read(tmp_path, demo):
    folder, clean = demo
    run = consolidate(folder, tmp_path / "out.xlsx")
    line = next(f for f in run.manifest["files"] if f["status"] == "ok")
    read = [s for s in line["sheets"] if s["register"]]
    assert read and all(s["how"] == "metadata" for s in read)
    others = [s for s in line["sheets"] if s["register"] is None]
    assert all("说明页" in s["why"] for s in others)


def test_register_option_reads_an_export_as_the_register_named(tmp_path):
    """An ERP export that would pass as a customer file anyway, read with ``--register customers``; a
    sheet that does not match the register named is unusable with that register's name."""
    built = customer_export(tmp_path / "客户导出.xlsx")
    report = _validate(str(built.path), "--register", "customers")
    assert report["files"][0]["sheets"][0]["how"] == "only"
    write_workbook(tmp_path / "值班.xlsx", {"值班": [["日期", "值班人员", "工作内容"], ["2026-10-01", "张三", "巡检"]]})
    report = _validate(str(tmp_path / "值班.xlsx"), "--register", "customers")
    assert report["files"][0]["status"] == "unusable"
    assert "客户档案" in report["files"][0]["message"] and "--register customers" in report["files"][0]["message"]


# --- reading what the rows mean ---------------------------------------------------------------------
def _findings(path, registers):
    result = check_paths([path], registers)
    (workbook,) = result.workbooks
    return workbook, result.findings


def test_thirty_rows_numbered_ahead_with_the_due_date_formula_filled_down_are_skipped_not_errors(tmp_path, registers):
    built = complaint_register(tmp_path / "海外客诉.xlsx", real=40, placeholders=30)
    workbook, findings = _findings(built.path, registers)
    (sheet,) = workbook.sheets
    assert sheet.rows_read == 40
    assert [reason for _, reason in sheet.skipped] == ["预编号空行 / pre-numbered empty row"] * 30
    assert findings["row"].max() <= 2 + 40  # nothing on the rows numbered ahead


def test_a_slash_for_not_applicable_in_a_date_or_an_amount_is_empty_and_the_planted_mistakes_are_found(
        tmp_path, registers):
    built = complaint_register(tmp_path / "海外客诉.xlsx")
    _, findings = _findings(built.path, registers)
    typed = findings[findings["code"] == "type-error"]
    assert dict(zip(typed["row"], typed["field"], strict=True)) == {8: "received_date", 12: "compensation"}
    assert not findings["value"].astype(str).eq("/").any()


def test_not_applicable_markers_are_a_company_setting_and_text_fields_keep_them(tmp_path):
    path = write_workbook(tmp_path / "投诉.xlsx", {"投诉": [
        ["投诉编号", "投诉日期", "类型", "投诉主题", "处理状态", "解决日期", "赔偿金额", "处理结果"],
        ["2610001", "2026-10-03", "投诉", "安装延误", "处理中", "未定", "—", "/"]]})
    (tmp_path / "taizhang.toml").write_text('[reading]\nnot_applicable = ["未定", "—"]\n', encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "toolkit.cli", "--config", str(tmp_path / "taizhang.toml"),
                           "validate", str(path), "--json"], cwd=ROOT, capture_output=True, timeout=300)
    report = json.loads(done.stdout)
    assert [f for f in report["findings"] if f["row"] == 2] == []  # 未定 and — are empty; "/" stays the result text


def test_a_duty_roster_with_each_date_merged_over_that_days_staff_in_twelve_monthly_sheets(tmp_path, registers):
    built = duty_roster(tmp_path / "值班表.xlsx")
    workbook, findings = _findings(built.path, registers)
    assert len(workbook.sheets) == 12 and all(s.register.id == "duty" for s in workbook.sheets)
    assert sum(s.rows_read for s in workbook.sheets) == built.real_rows == 72
    assert not (findings["code"] == "missing-cell").any(), findings["message_zh"].tolist()[:5]
    assert all(s.data["date"].notna().all() for s in workbook.sheets)
    assert any("合并单元格的值已填入" in zh for _, zh, _ in workbook.notes)


def test_a_follow_up_register_with_a_group_header_line_breaks_and_a_note_in_column_xfd(tmp_path, registers):
    built = follow_up_register(tmp_path / "回访.xlsx")
    workbook, findings = _findings(built.path, registers)
    (sheet,) = workbook.sheets
    assert sheet.register.id == "visits" and sheet.rows_read == built.real_rows
    assert set(sheet.extra_columns) == {"区域/省份", "区域/城市"}
    assert sheet.raw["区域/城市"].tolist()[:2] == ["广州", "佛山"]
    assert not (findings["severity"] == "error").any(), findings["message_zh"].tolist()[:5]
    assert findings["message_zh"].str.contains("XFD1").any()


def test_a_column_without_a_header_that_holds_data_is_kept_under_a_made_up_name(tmp_path, registers):
    path = write_workbook(tmp_path / "投诉.xlsx", {"投诉": [
        ["投诉编号", "投诉日期", "类型", "投诉主题", "处理状态", None, "赔偿金额"],
        ["2610001", "2026-10-03", "投诉", "安装延误", "处理中", "客户很着急", 100],
        ["2610002", "2026-10-04", "投诉", "安装延误", "处理中", None, None]]})
    workbook, findings = _findings(path, registers)
    (sheet,) = workbook.sheets
    assert sheet.extra_columns == {"(无列名)第F列": 5}
    assert sheet.raw["(无列名)第F列"].tolist()[0] == "客户很着急"
    assert findings["message_zh"].str.contains("(无列名)第F列", regex=False).any()


def test_a_local_landline_is_a_warning_and_read_with_the_stores_area_code_when_head_office_gives_one(tmp_path):
    for no, store in (("2611001", "001_湛江店"), ("2611002", "002_广州店")):
        (tmp_path / "in" / store).mkdir(parents=True)
        write_workbook(tmp_path / "in" / store / "投诉.xlsx", {"投诉": [COMPLAINT_HEADER, complaint(no, phone="2345678")]})
    config = tmp_path / "taizhang.toml"
    config.write_text('[[stores]]\ncode = "001"\nname = "湛江店"\narea_code = "0759"\n', encoding="utf-8")
    run = consolidate(tmp_path / "in", tmp_path / "out.xlsx", "--config", str(config))
    assert run.code == 0, run.stderr[-2000:]
    assert [f["rows_accepted"] for f in run.manifest["files"]] == [1, 1], run.manifest  # a warning, not an error
    rows = calamine.CalamineWorkbook.from_path(str(tmp_path / "out.xlsx")).get_sheet_by_name("客户投诉登记表").to_python()
    header = rows[0]
    phones = {r[header.index("门店编号")]: r[header.index("联系方式")] for r in rows[1:] if r[0]}
    assert phones == {"001": "0759-2345678", "002": "2345678"}
    report = _validate(str(tmp_path / "in" / "002_广州店" / "投诉.xlsx"))
    (finding,) = [f for f in report["findings"] if f["field"] == "phone"]
    assert finding["severity"] == "warning" and "座机缺区号" in finding["message_zh"]


HQ_DEFINITION = """
id: branch_complaints
name_zh: 分公司客诉台账
name_en: Branch complaints
key: complaint_no
store: branch
date: received_date
fields:
  - {key: complaint_no, label_zh: 编号, label_en: No., type: text, required: true}
  - {key: branch, label_zh: 分公司, label_en: Branch, type: text}
  - {key: received_date, label_zh: 投诉日期, label_en: Received, type: date, required: true}
  - {key: description, label_zh: 问题描述, label_en: Description, type: text, required: true}
"""


def test_a_head_office_register_files_each_row_under_the_branch_its_column_names(tmp_path):
    (tmp_path / "defs").mkdir()
    (tmp_path / "defs" / "branch_complaints.yaml").write_text(HQ_DEFINITION, encoding="utf-8")
    config = tmp_path / "taizhang.toml"
    config.write_text('[company]\ndefinitions = ["defs"]\n\n[[stores]]\ncode = "001"\nname = "华南分公司"\n\n'
                      '[[stores]]\ncode = "002"\nname = "华东分公司"\n', encoding="utf-8")
    (tmp_path / "in").mkdir()
    write_workbook(tmp_path / "in" / "总部客诉台账.xlsx", {"客诉": [
        ["编号", "分公司", "投诉日期", "问题描述"],
        ["K1", "华南分公司", "2026-10-02", "包装破损"], ["K2", "002", "2026-10-03", "物流慢"],
        ["K3", "华南分公司", "2026-10-04", "少发一件"], ["K4", "西北分公司", "2026-10-05", "错发"],
        ["K5", None, "2026-10-06", "发票"]]})
    run = consolidate(tmp_path / "in", tmp_path / "out.xlsx", "--config", str(config))
    line = run.line("总部客诉台账.xlsx")
    assert line["status"] == "ok" and line["registers"] == ["branch_complaints"]
    assert (line["rows_read"], line["rows_accepted"], line["rows_rejected"]) == (5, 3, 2)
    book = calamine.CalamineWorkbook.from_path(str(tmp_path / "out.xlsx"))
    rows = book.get_sheet_by_name("分公司客诉台账").to_python()
    stores = sorted((r[rows[0].index("编号")], r[rows[0].index("门店编号")]) for r in rows[1:] if r[0])
    assert stores == [("K1", "001"), ("K2", "002"), ("K3", "001")]
    problems = [" ".join(map(str, r)) for r in book.get_sheet_by_name("问题数据").to_python()]
    assert any("西北分公司" in p and "不是 taizhang.toml 中的门店" in p for p in problems)
    assert any("门店为空" in p for p in problems)


def test_a_register_head_office_keeps_without_a_store_folder_is_filed_under_store_option(tmp_path):
    (tmp_path / "in").mkdir()
    write_workbook(tmp_path / "in" / "投诉.xlsx", {"投诉": [COMPLAINT_HEADER, complaint()]})
    run = consolidate(tmp_path / "in", tmp_path / "out.xlsx")
    assert run.line("投诉.xlsx")["status"] == "unusable" and "无法确定门店" in run.line("投诉.xlsx")["message"]
    run = consolidate(tmp_path / "in", tmp_path / "out.xlsx", "--store", "000:总部")
    line = run.line("投诉.xlsx")
    assert (line["status"], line["store_code"], line["store_name"], line["rows_accepted"]) == ("ok", "000", "总部", 1)


def test_a_corrected_annotated_copy_sent_back_replaces_its_original(tmp_path):
    """The store checks its workbook, gets 投诉_校验结果.xlsx, fixes the red cell and deletes a row it had
    typed twice, and sends the copy back beside the original."""
    import openpyxl

    store = tmp_path / "in" / "001_朝阳店"
    store.mkdir(parents=True)
    original = write_workbook(store / "投诉.xlsx", {"投诉": [
        COMPLAINT_HEADER, complaint("2611001", phone="12345"), complaint("2611002"), complaint("2611003")]})
    done = subprocess.run([sys.executable, "-m", "toolkit.cli", "validate", str(original), "--annotate"], cwd=ROOT,
                          capture_output=True, timeout=300)
    copy = store / "投诉_校验结果.xlsx"
    assert done.returncode == 1 and copy.exists()
    before = _validate(str(copy))  # the copy is checked as the store's workbook, not skipped
    assert before["files"][0]["status"] == "ok"
    assert [f["row"] for f in before["findings"] if f["field"] == "phone" and f["severity"] == "error"] == [2]
    book = openpyxl.load_workbook(copy)
    sheet = book["投诉"]
    sheet["H2"] = "13800138000"
    sheet.delete_rows(4)  # 2611003 was typed by mistake
    book.save(copy)
    report = _validate(str(copy))
    assert [f for f in report["findings"] if f["severity"] == "error"] == []
    run = consolidate(tmp_path / "in", tmp_path / "out.xlsx")
    assert run.line("001_朝阳店/投诉_校验结果.xlsx")["rows_accepted"] == 2
    line = run.line("001_朝阳店/投诉.xlsx")
    assert line["status"] == "ignored" and "已由较新的 001_朝阳店/投诉_校验结果.xlsx 整体取代" in line["message"]
    assert run.accepted_by_store() == {"001": 2}


# --- adopting a company's own register: definitions infer ----------------------------------------------
def _infer(workbook, out_dir) -> Path:
    done = subprocess.run([sys.executable, "-m", "toolkit.cli", "definitions", "infer", str(workbook), "-o", str(out_dir)],
                          cwd=ROOT, capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    (draft,) = out_dir.glob("*.yaml")
    return draft


def _validate_with(definitions, workbook) -> dict:
    done = subprocess.run([sys.executable, "-m", "toolkit.cli", "--definitions", str(definitions), "validate",
                           str(workbook), "--json"], cwd=ROOT, capture_output=True, timeout=300)
    return json.loads(done.stdout)


@pytest.mark.parametrize("build", [complaint_register, customer_export, duty_roster, follow_up_register],
                         ids=["wps-complaints", "erp-customers", "duty-roster", "follow-up"])
def test_a_drafted_definition_loads_and_validate_with_it_reports_only_the_planted_mistakes(tmp_path, build):
    built = build(tmp_path / "register.xlsx")
    draft = _infer(built.path, tmp_path / "defs")
    register = load_definition(draft)  # loads as it is
    report = _validate_with(tmp_path / "defs", built.path)
    (line,) = report["files"]
    assert line["registers"] == [register.id]  # the company's own definition explains it best
    errors = {(f["row"], next(fl.label_zh for fl in register.fields if fl.key == f["field"]))
              for f in report["findings"] if f["severity"] == "error"}
    assert errors == set(built.mistakes.items())
    assert sum(s["rows_read"] for s in line["sheets"] if s["register"]) == built.real_rows


def test_a_draft_says_what_each_guess_rests_on(tmp_path):
    built = complaint_register(tmp_path / "海外客诉.xlsx")
    text = _infer(built.path, tmp_path / "defs").read_text(encoding="utf-8")
    register = load_definition(next((tmp_path / "defs").glob("*.yaml")))
    fields = {f.label_zh: f for f in register.fields}
    assert register.key == ("record_no",) and register.date == "complaint_date"
    assert fields["投诉日期"].type == "date" and fields["投诉日期"].required
    assert fields["实际完成日期"].type == "date" and not fields["实际完成日期"].required  # "/" while open
    assert fields["赔偿金额"].type == "decimal"
    assert fields["结案状态"].option_values == ["已结案", "跟进中", "待处理"]  # the dropdown's own order
    assert fields["跟进人"].type == "text"  # people are never a fixed list
    assert not fields["应结案日期"].required and "公式列" in text
    assert "预编号空行 30 行" in text and "选项取自下拉列表" in text and "# store: branch" in text


def test_dropdowns_written_as_x14_lists_as_wps_saves_them_give_the_options(tmp_path):
    """WPS (and Excel for lists on another sheet) write dropdowns in the x14 extension, not as
    <dataValidation> of the sheet itself."""
    import re
    import zipfile

    built = complaint_register(tmp_path / "海外客诉.xlsx")
    with zipfile.ZipFile(built.path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    xml = members["xl/worksheets/sheet1.xml"]
    xml = re.sub(rb"<dataValidations.*?</dataValidations>", b"", xml, flags=re.S)
    ext = (b'<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" '
           b'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"><x14:dataValidations '
           b'xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main" count="1"><x14:dataValidation '
           b'type="list" allowBlank="1"><x14:formula1><xm:f>"' + "已结案,跟进中,待处理,已撤诉".encode() +
           b'"</xm:f></x14:formula1><xm:sqref>M3:M71</xm:sqref></x14:dataValidation></x14:dataValidations></ext>'
           b"</extLst>")
    members["xl/worksheets/sheet1.xml"] = xml.replace(b"</worksheet>", ext + b"</worksheet>")
    with zipfile.ZipFile(built.path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    _infer(built.path, tmp_path / "defs")
    register = load_definition(next((tmp_path / "defs").glob("*.yaml")))
    assert next(f for f in register.fields if f.label_zh == "结案状态").option_values == ["已结案", "跟进中", "待处理", "已撤诉"]


def test_infer_on_a_file_that_is_not_a_workbook_says_so_without_a_traceback(tmp_path):
    (tmp_path / "坏.xlsx").write_bytes(b"not a workbook")
    done = subprocess.run([sys.executable, "-m", "toolkit.cli", "definitions", "infer", str(tmp_path / "坏.xlsx")],
                          cwd=ROOT, capture_output=True, timeout=300)
    assert done.returncode == 1 and b"Traceback" not in done.stderr and "已损坏".encode() in done.stderr


def test_an_erp_customer_export_is_a_customer_file_whose_own_customer_types_are_findings(tmp_path, demo):
    """客户编码 is the ERP's 客户编号, 手机 its phone; its 客户类型 月结/现金 are not the template's options: every row
    is read and rejected for it (until the company's definition says 月结/现金), the rest of the demo untouched."""
    folder, clean = demo
    built = customer_export(folder / "002_海淀店" / "客户导出.xlsx")
    run = consolidate(folder, tmp_path / "out.xlsx")
    line = run.line("002_海淀店/客户导出.xlsx")
    assert line["registers"] == ["customers"] and line["sheets"][0]["how"] == "headers"
    assert "客户编号（客户编码）" in line["sheets"][0]["why"]
    assert (line["rows_read"], line["rows_skipped"], line["rows_accepted"], line["rows_rejected"]) == (
        built.real_rows, 0, 0, built.real_rows)
    rows = calamine.CalamineWorkbook.from_path(str(tmp_path / "out.xlsx")).get_sheet_by_name("问题数据").to_python()
    mine = [" ".join(map(str, r)) for r in rows if "客户导出.xlsx" in " ".join(map(str, r))]
    assert len(mine) == built.real_rows and all("不在可选项中" in r for r in mine)
    assert run.accepted_by_store() == clean.accepted_by_store()


def test_records_typed_alike_but_for_their_numbers_are_records_not_rows_numbered_ahead(tmp_path, registers):
    """Every column but the key holds the same value in both rows (the same kind of complaint twice): the
    columns look like defaults filled down, yet rows with that much typed are records."""
    path = write_workbook(tmp_path / "投诉.xlsx", {"投诉": [
        COMPLAINT_HEADER, complaint("2611001", resolved="2026-11-04", status="已解决"), complaint("2611002"),
        complaint("2611003"), ["2611004"], ["2611005", *[None] * 8, "王小红"]]})  # 负责人 as every row has it
    workbook, _ = _findings(path, registers)
    (sheet,) = workbook.sheets
    assert sheet.rows_read == 3
    assert [(row, reason) for row, reason in sheet.skipped] == [(5, "预编号空行 / pre-numbered empty row"),
                                                                 (6, "预编号空行 / pre-numbered empty row")]


def test_lines_numbered_ahead_in_a_serial_number_column_are_skipped_not_rejected(tmp_path, registers):
    """Almost every hand-made 台账 starts with a 序号 column, numbered 1 … 50 before anything is typed. That
    column is no field of the register; a line with nothing but its number is a blank line, however the
    column is headed (序号, ＮＯ．, or nothing, with the numbers 1, 2, 3 … running down it)."""
    def numbered(header: str) -> list[list]:
        records = [complaint("2611001"), complaint("2611002", status="已解决", resolved="2026-11-05"),
                   complaint("2611003")]
        lines = [[1, *records[0]], [2, *records[1]], [3], [4, *records[2]], *[[n] for n in range(5, 11)]]
        return [[header, *COMPLAINT_HEADER], *lines]
    for header in ("序号", "ＮＯ．", "序 号", None):
        path = write_workbook(tmp_path / f"投诉{header}.xlsx", {"投诉": numbered(header)})
        workbook, findings = _findings(path, registers)
        (sheet,) = workbook.sheets
        assert sheet.rows_read == 3, header
        assert sheet.skipped == [(row, "预编号空行 / pre-numbered empty row") for row in (4, *range(6, 12))], header
        assert not (findings["severity"] == "error").any(), header


def test_a_template_numbered_to_50_with_nothing_typed_yet_has_no_records_and_no_errors(tmp_path, registers):
    path = write_workbook(tmp_path / "投诉.xlsx", {"投诉": [["序号", *COMPLAINT_HEADER], *[[n] for n in range(1, 51)]]})
    workbook, findings = _findings(path, registers)
    (sheet,) = workbook.sheets
    assert (sheet.rows_read, len(sheet.skipped)) == (0, 50)
    assert not (findings["severity"] == "error").any()


def test_a_line_with_only_a_number_that_does_not_count_the_lines_is_a_record_with_its_fields_missing(
        tmp_path, registers):
    """A column outside the register holding 5, 12, 30 (an amount, a quantity) is not numbering: a line with
    only such a value was typed on purpose and is rejected with what it lacks, not skipped."""
    rows = [["件数", *COMPLAINT_HEADER], [5, *complaint("2611001")], [12, *complaint("2611002")], [30]]
    workbook, findings = _findings(write_workbook(tmp_path / "投诉.xlsx", {"投诉": rows}), registers)
    (sheet,) = workbook.sheets
    assert sheet.rows_read == 3 and sheet.skipped == []
    assert set(findings.loc[findings["severity"] == "error", "row"]) == {4}


HAND_MADE = {
    "物品寄存.xlsx": ("Sheet1", [["日期", "姓名", "电话", "物品", "数量", "领取日期", "经手人"],
                               ["2026-10-05", "赵六", "13600136000", "雨伞", 1, "", "小李"]], "property"),
    "售后维修登记表.xlsx": ("Sheet1", [["售后维修登记表"], ["单号", "日期", "客户", "电话", "产品", "故障描述", "维修人员", "完成日期", "状态"],
                                  ["W001", "2026-10-03", "张三", "13800138000", "空调", "不制冷", "李师傅", "2026-10-05", "已完成"]],
                       "service"),
    "事故登记.xlsx": ("Sheet1", [["日期", "事件", "处理", "责任人", "结果"], ["2026-10-07", "顾客摔倒", "送医", "小刘", "已处理"]],
                    "incidents"),
    "值班表.xlsx": ("十月", [["日期", "星期", "值班人", "时间", "备注"], ["2026-10-06", "二", "小张", "9:00-18:00", ""]], "duty"),
    # a sheet with a name of its own is judged by it and its headers, not by the file's name
    "客户投诉登记表.xlsx": ("回访", [["回访日期", "客户姓名", "联系电话", "回访方式", "回访内容", "回访人"],
                                ["2026-10-04", "李四", "13900139000", "电话", "安装满意吗", "小王"]], "visits"),
}


@pytest.mark.parametrize("file_name", list(HAND_MADE))
def test_registers_kept_by_hand_with_everyday_headers_are_filed_as_the_register_they_are(tmp_path, registers, file_name):
    """物品寄存 with 日期/姓名/电话/数量 is customer property, not after-sales service (whose 日期, 姓名, 电话 and
    数量 it also matches); 售后维修 is after-sales service; 事故登记 an adverse event. A sheet called Sheet1 is
    named by its file."""
    sheet, rows, expected = HAND_MADE[file_name]
    workbook, _ = _findings(write_workbook(tmp_path / file_name, {sheet: rows}), registers)
    assert [s.register.id for s in workbook.sheets] == [expected], workbook.message_en
