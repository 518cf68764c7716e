"""The torture suite: one odd input planted among good demo stores. Whatever it is, the run completes, the
odd input has its line in the manifest with the reason, and every good store's rows are all there."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import xlsxwriter
import xlwt
from click.testing import CliRunner

from tests.conftest import COMPLAINT_HEADER, complaint, libreoffice, write_workbook
from tests.torture import assert_every_row_accounted, consolidate, without_root_powers
from toolkit.cli import main
from toolkit.template import write_register_workbook

COMPLAINTS = "001_朝阳店/001_朝阳店_complaints_客户投诉登记表.xlsx"


def _keeps_every_demo_row(run, clean, but: tuple[str, ...] = ()) -> None:
    """Every good store's rows are there, exactly as in a run without the bad input."""
    for code, rows in clean.accepted_by_store().items():
        if code not in but:
            assert run.accepted_by_store().get(code) == rows, code
    assert_every_row_accounted(run)


def test_a_store_folder_nobody_may_read_is_listed_and_the_run_says_it_is_incomplete(demo, tmp_path):
    folder, clean = demo
    os.chmod(folder / "003_浦东店", 0)
    try:
        run = consolidate(folder, tmp_path / "out.xlsx", prefix=without_root_powers())
    finally:
        os.chmod(folder / "003_浦东店", 0o755)
    line = run.line("003_浦东店")
    assert line["kind"] == "folder" and line["status"] == "unusable"
    assert "无法读取：权限不足" in line["message"] and "permission denied" in line["message"]
    assert run.code == 3
    assert "003" not in run.accepted_by_store()
    _keeps_every_demo_row(run, clean, but=("003",))


def test_a_workbook_nobody_may_read_is_unusable_not_a_traceback(demo, tmp_path):
    folder, clean = demo
    os.chmod(folder / COMPLAINTS, 0)
    run = consolidate(folder, tmp_path / "out.xlsx", prefix=without_root_powers())
    line = run.line(COMPLAINTS)
    assert line["status"] == "unusable" and "权限不足" in line["message"]
    assert run.code == 3 and "Traceback" not in run.stderr
    assert run.accepted_by_store()["001"] < clean.accepted_by_store()["001"]
    _keeps_every_demo_row(run, clean, but=("001",))


def _template_of_001(path: Path, registers, numbers: list[str]) -> Path:
    """Store 001's complaints template (its metadata says 001 朝阳店), filled with other rows."""
    rows = pd.DataFrame([{"complaint_no": no, "received_date": dt.date(2026, 10, 3), "category": "投诉",
                          "subject": "安装延误", "phone": "13800138000", "status": "处理中", "region": "国内"}
                         for no in numbers])
    return write_register_workbook(path, [registers["complaints"]], "001", "朝阳店", {"complaints": rows})


def test_a_folder_named_in_gbk_from_a_windows_zip_is_read_and_shown_with_replacement_characters(demo, tmp_path,
                                                                                                registers):
    folder, clean = demo
    gbk = os.fsencode(folder) + b"/005_" + "新店".encode("gbk")
    os.mkdir(gbk)
    _template_of_001(tmp_path / "t.xlsx", registers, ["2610901", "2610902"])
    shutil.copy(tmp_path / "t.xlsx", gbk + b"/" + "投诉.xlsx".encode("gbk"))
    run = consolidate(folder, tmp_path / "out.xlsx")
    assert run.code == 0, run.stderr
    (line,) = [e for e in run.manifest["files"] if e["path"].startswith("005_")]
    assert "\ufffd" in line["path"] and line["status"] == "ok" and line["store_code"] == "005"
    assert (tmp_path / "out.xlsx").exists()
    _keeps_every_demo_row(run, clean, but=("005",))


def test_a_store_that_filled_another_stores_template_is_filed_under_the_folder_that_sent_it(demo, tmp_path,
                                                                                           registers):
    folder, clean = demo
    (folder / "005_新店").mkdir()
    numbers = ["2610001", "2610002", "2610003"]  # the same numbers as 001's own complaints
    _template_of_001(folder / "005_新店" / "投诉登记.xlsx", registers, numbers)
    run = consolidate(folder, tmp_path / "out.xlsx")
    line = run.line("005_新店/投诉登记.xlsx")
    assert line["store_code"] == "005" and line["status"] == "ok"
    assert any("门店不一致" in w and "001" in w for w in line["warnings"])
    assert run.accepted_by_store()["005"] == 3
    _keeps_every_demo_row(run, clean, but=("005",))


def test_a_hidden_copy_of_the_register_in_the_same_workbook_does_not_count_twice(tmp_path, registers):
    folder = tmp_path / "in" / "001_朝阳店"
    folder.mkdir(parents=True)
    rows = [COMPLAINT_HEADER, complaint("2610001", dt.date(2026, 10, 3)), complaint("2610002", dt.date(2026, 10, 4))]
    path = folder / "投诉.xlsx"
    book = xlsxwriter.Workbook(str(path))
    for name in ("投诉", "备份"):
        ws = book.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, v in enumerate(row):
                if isinstance(v, dt.date):
                    ws.write_datetime(r, c, dt.datetime.combine(v, dt.time()), book.add_format({"num_format": "yyyy-mm-dd"}))
                elif v is not None:
                    ws.write_string(r, c, str(v))
        if name == "备份":
            ws.hide()
    book.close()
    run = consolidate(tmp_path / "in", tmp_path / "out.xlsx")
    line = run.line("001_朝阳店/投诉.xlsx")
    assert line["rows_accepted"] == 2 and line["rows_rejected"] == 2
    assert any("隐藏" in w for w in line["warnings"])
    result = CliRunner().invoke(main, ["consolidate", str(tmp_path / "in"), "-o", str(tmp_path / "o2.xlsx"),
                                       "--as-of", "2026-11-05"])
    assert result.exit_code == 0, result.output
    from toolkit.consolidate import consolidate as run_consolidation
    done = run_consolidation(tmp_path / "in", registers, jobs=1)
    assert sorted(done.records["complaints"]["complaint_no"]) == ["2610001", "2610002"]
    repeats = done.findings[done.findings["code"] == "unique-error"]
    assert list(repeats["sheet"]) == ["备份", "备份"]
    from toolkit.check import check_paths  # the store's own check says it too

    checked = check_paths([path], registers).findings
    said = checked[checked["code"] == "unique-error"]
    assert list(said["sheet"]) == ["备份", "备份"]
    assert list(said["message_zh"].str.extract(r"(与工作表「投诉」第\d行重复)")[0]) == [
        "与工作表「投诉」第2行重复", "与工作表「投诉」第3行重复"]
    assert repeats["message_zh"].str.contains("与同一文件工作表「投诉」第2行重复").any()


def _complaints_file(path: Path, rows: list[list], mtime: float) -> Path:
    write_workbook(path, {"投诉": [COMPLAINT_HEADER, *rows]})
    os.utime(path, (mtime, mtime))
    return path


def test_a_newer_file_whose_row_has_an_error_withdraws_the_older_record(tmp_path, registers):
    from toolkit.consolidate import consolidate as run_consolidation
    from toolkit.overdue import overdue_lists

    folder = tmp_path / "001_朝阳店"
    folder.mkdir()
    _complaints_file(folder / "投诉_v1.xlsx", [complaint("2610059", dt.date(2026, 10, 1), status="处理中"),
                                              complaint("2610060", dt.date(2026, 10, 1))], 1_790_000_000)
    _complaints_file(folder / "投诉_v2.xlsx", [complaint("2610059", dt.date(2026, 10, 1), status="已解决",
                                                        phone="12345", resolved=dt.date(2026, 10, 5))], 1_790_000_600)
    done = run_consolidation(tmp_path, registers, jobs=1)
    assert list(done.records["complaints"]["complaint_no"]) == ["2610060"]
    replaced = done.rejected[done.rejected["source_file"] == "001_朝阳店/投诉_v1.xlsx"]
    assert replaced["reason_zh"].str.contains("投诉_v2.xlsx 第2行相同，已由其取代（该行有错误被拒收").all()
    lists = overdue_lists(done.records, registers, dt.date(2026, 11, 5))
    assert "2610059" not in set(lists.items["key"])
    for f in done.files:
        assert f.rows_read == f.rows_accepted + f.rows_rejected


def test_two_versions_saved_within_two_seconds_are_ordered_by_name_and_said(tmp_path, registers):
    from toolkit.consolidate import consolidate as run_consolidation

    folder = tmp_path / "001_朝阳店"
    folder.mkdir()
    _complaints_file(folder / "b_投诉.xlsx", [complaint("2610001", dt.date(2026, 10, 1), subject="旧")], 1_790_000_001)
    _complaints_file(folder / "a_投诉.xlsx", [complaint("2610001", dt.date(2026, 10, 1), subject="新")], 1_790_000_000)
    done = run_consolidation(tmp_path, registers, jobs=1)
    assert list(done.records["complaints"]["subject"]) == ["旧"]  # b_ sorts later: kept, though a_ is older
    for f in done.files:
        assert any("无法判断哪个较新" in w and "b_投诉.xlsx" in w for w in f.warnings), f.display


def test_partial_rows_are_rejected_and_only_footer_lines_under_the_table_are_skipped(tmp_path, registers):
    from toolkit.consolidate import consolidate as run_consolidation

    folder = tmp_path / "001_朝阳店"
    folder.mkdir()
    note_row = [""] * len(COMPLAINT_HEADER)
    note_row[5], note_row[7] = "备注：客户电话未接通", "13800138000"
    subtotal = [""] * len(COMPLAINT_HEADER)
    subtotal[4], subtotal[6] = "小计", "张伟"
    dated = complaint("日期：10月5日", dt.date(2026, 10, 5))
    write_workbook(folder / "投诉.xlsx", {"投诉": [
        COMPLAINT_HEADER, complaint("2610001", dt.date(2026, 10, 1)), note_row, subtotal, dated,
        complaint("2610002", dt.date(2026, 10, 2)), [], ["合计", "", "", "", "", "", "", "", "", "", "", "", "", "",
                                                         1200],
        ["制表人：", "李四", "", "审核：", "王五"], ["备注：本月无特殊情况"]]})
    done = run_consolidation(tmp_path, registers, jobs=1)
    (f,) = done.files
    assert f.rows_accepted == 2 and f.rows_rejected == 3
    assert sorted(done.rejected["source_row"]) == [3, 4, 5]
    assert f.skipped == {"空行 / blank row": 1, "合计行 / totals line": 1,
                         "表尾签字或说明行 / signature or note line under the table": 2}
    assert f.manifest()["rows_skipped"] == 4


def test_cached_formula_errors_are_findings_not_blanks(tmp_path, registers):
    from toolkit.check import check_paths

    path = tmp_path / "投诉.xlsx"
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("投诉")
    ws.write_row(0, 0, COMPLAINT_HEADER)
    for r, no in ((1, "2610001"), (2, "2610002")):
        ws.write_row(r, 0, complaint(no, "2026-10-03"))
    ws.write_formula(1, 14, "=1/0", None, "#DIV/0!")  # 赔偿金额, optional
    ws.write_formula(2, 4, "=VLOOKUP(A3,X:Y,2,0)", None, "#N/A")  # 投诉主题, required
    book.close()
    found = check_paths([path], registers).findings
    errors = found[found["code"] == "formula-error"].set_index("row")
    assert errors.loc[2, "severity"] == "warning" and errors.loc[2, "message_zh"] == "第2行「赔偿金额」: 公式错误 #DIV/0!，按空白读取"
    assert errors.loc[3, "severity"] == "error" and "公式错误 #N/A" in errors.loc[3, "message_zh"]
    assert not ((found["row"] == 3) & (found["code"] == "missing-cell")).any()


def test_a_two_row_header_under_a_merged_group_keeps_its_columns_and_annotates(tmp_path, registers):
    from toolkit.annotate import annotate_workbook
    from toolkit.check import check_paths

    path = tmp_path / "投诉.xlsx"
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("投诉")
    for c, label in enumerate(COMPLAINT_HEADER):
        if label in ("投诉人", "联系方式"):
            ws.write_string(1, c, label)
        else:
            ws.merge_range(0, c, 1, c, label)
    ws.merge_range(0, 6, 0, 7, "联系人信息")
    ws.write_string(1, 6, "投诉人")
    ws.write_string(1, 7, "联系方式")
    ws.write_row(2, 0, complaint("2610001", "2026-10-03", phone="12345"))
    book.close()
    result = check_paths([path], registers)
    (sheet,) = result.workbooks[0].sheets
    assert sheet.data.loc[3, "complainant"] == "张伟" and "phone" in sheet.columns
    assert "phone" not in sheet.missing_fields and sheet.header_row == 2
    copy = annotate_workbook(result.workbooks[0], result.findings)
    assert copy.exists()


def test_xlsb_ods_and_wps_files_are_read_or_named_with_what_to_do(tmp_path, registers):
    store = tmp_path / "001_朝阳店"
    store.mkdir()
    book = xlwt.Workbook()
    ws = book.add_sheet("投诉")
    for r, row in enumerate([COMPLAINT_HEADER, complaint("2610001", "2026-10-03")]):
        for c, v in enumerate(row):
            if v is not None:
                ws.write(r, c, str(v))
    book.save(str(store / "投诉.et"))  # WPS saves its .et in the same binary format as .xls
    (store / "坏的.et").write_bytes(b"\x00WPS something else entirely" * 10)
    (store / "说明.txt").write_text("本月资料")
    soffice = libreoffice()
    if soffice:
        write_workbook(tmp_path / "报修.xlsx", {"报修": [["报修单号", "报修时间", "报修人", "房号/位置", "联系电话", "报修内容"],
                                                         ["R1", "2026-10-03 09:00", "李四", "3-201", "13900139000", "漏水"]]})
        subprocess.run([soffice, "--headless", "--convert-to", "ods", "--outdir", str(store), str(tmp_path / "报修.xlsx")],
                       check=True, capture_output=True, timeout=180)
    result = CliRunner().invoke(main, ["consolidate", str(tmp_path), "-o", str(tmp_path / "out.xlsx"),
                                       "--as-of", "2026-11-05"])
    assert result.exit_code == 3, result.output
    assert "ignored 001_朝阳店/说明.txt" in result.output
    assert "unusable 001_朝阳店/坏的.et" in result.output and "请用 WPS/Excel 另存为 .xlsx 后重新提交" in result.output
    from toolkit.consolidate import consolidate as run_consolidation
    done = run_consolidation(tmp_path, registers, jobs=1)
    assert list(done.records["complaints"]["complaint_no"]) == ["2610001"]
    if soffice:
        assert list(done.records["repairs"]["repair_no"]) == ["R1"]


def _one_store(tmp_path: Path) -> Path:
    """Store 001's folder under ``tmp_path/in`` with one good complaints workbook."""
    root = tmp_path / "in" / "001_朝阳店"
    root.mkdir(parents=True)
    write_workbook(root / "投诉.xlsx", {"投诉": [COMPLAINT_HEADER, complaint("2610001", dt.date(2026, 10, 1))]})
    return root


def _odd_values_store(root: Path) -> Path:
    folder = root / "001_朝阳店"
    folder.mkdir(parents=True)
    write_workbook(folder / "投诉.xlsx", {"投诉": [COMPLAINT_HEADER,
        complaint("2610001", "2620-10-05"), complaint("2610002", "1600-01-01"),
        complaint("2610003", dt.datetime(2620, 10, 5)),
        complaint("2610004", "2026-10-05", compensation="inf"), complaint("2610005", "2026-10-05", compensation="1e309"),
        complaint("2610006", "2026-10-05", subject="\x01控制\x07字符"),
        complaint("2610007", "2026-10-05", subject="_x0041_"),
        complaint("2610008", "2026-10-05", subject="长" * 100)]})
    # XlsxWriter and openpyxl keep to Excel's 32,767 characters a cell; a file made by another program may not
    path = folder / "投诉.xlsx"
    with zipfile.ZipFile(path) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    for name, data in members.items():
        members[name] = data.replace(("长" * 100).encode(), ("长" * 40_000).encode())
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return root


def test_wrong_years_infinite_amounts_and_odd_text_are_findings_and_the_summary_keeps_the_text(tmp_path, registers):
    import python_calamine as calamine

    from toolkit.check import check_paths

    root = _odd_values_store(tmp_path / "in")
    found = check_paths([root], registers).findings.set_index("row")
    for row in (2, 3, 4):
        assert "日期超出范围" in found.loc[[row]]["message_zh"].str.cat(), row
    for row in (5, 6):
        assert "不是数字" in found.loc[[row]]["message_zh"].str.cat(), row
    assert (found.loc[[9]]["code"] == "cut-text").any()
    result = CliRunner().invoke(main, ["consolidate", str(root), "-o", str(tmp_path / "汇总.xlsx"),
                                       "--as-of", "2026-11-05"])
    assert result.exit_code == 0, result.output
    book = calamine.CalamineWorkbook.from_path(str(tmp_path / "汇总.xlsx"))
    subjects = {row[5]: row[9] for row in book.get_sheet_by_name("客户投诉登记表").to_python()[1:]}
    assert subjects["2610006"] == "\x01控制\x07字符" and subjects["2610007"] == "_x0041_"
    assert len(subjects["2610008"]) == 32_767
    if libreoffice():  # Excel's limits kept: another program opens the workbook
        done = subprocess.run([libreoffice(), "--headless", "--convert-to", "csv", "--outdir", str(tmp_path),
                               str(tmp_path / "汇总.xlsx")], capture_output=True, timeout=300)
        assert done.returncode == 0 and (tmp_path / "汇总.csv").exists()


def test_store_and_owner_names_of_200_characters_make_safe_unique_file_names(tmp_path):
    root = tmp_path / "in"
    for code, name in (("001", "朝阳店"), ("002", "海淀店")):
        folder = root / f"{code}_{name}"
        folder.mkdir(parents=True)
        rows = [complaint(f"2610{code}", dt.date(2026, 10, 1)), complaint("2610999", dt.date(2026, 10, 1))]
        rows[0][9] = "负责人" * 70 + "甲"  # two owners whose names are the same for their first 200 characters
        rows[1][9] = "负责人" * 70 + "乙"
        write_workbook(folder / "投诉.xlsx", {"投诉": [COMPLAINT_HEADER, *rows]})
    (tmp_path / "taizhang.toml").write_text(
        '[[stores]]\ncode = "001"\nname = ".' + "店" * 200 + '"\n[[stores]]\ncode = "002"\nname = "CON"\n',
        encoding="utf-8")
    result = CliRunner().invoke(main, ["overdue", str(root), "--as-of", "2026-11-05", "--split-by", "owner",
                                       "-o", str(tmp_path / "lists"), "--config", str(tmp_path / "taizhang.toml")])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "lists").iterdir())
    assert len(names) == 4 and len(set(names)) == 4
    assert all(len(n.encode()) < 255 and not n.startswith(".") for n in names)
    assert sum(n.startswith("002_CON") for n in names) == 2


def test_a_line_break_in_a_manager_name_is_refused_when_the_configuration_is_read(tmp_path):
    (tmp_path / "taizhang.toml").write_text('[[stores]]\ncode = "001"\nname = "朝阳店"\nmanager = "张三\\r\\nBcc: x@y.cn"\n',
                                            encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(tmp_path / "taizhang.toml"), "registers"])
    assert result.exit_code == 1
    assert "stores[0].manager" in result.output and "不能含换行" in result.output


@pytest.mark.parametrize("what", ["csv", "store workbook", "garbage"])
def test_previous_pointing_at_the_wrong_file_is_said_before_anything_is_read(tmp_path, what):
    root = _one_store(tmp_path)
    previous = tmp_path / "last.xlsx"
    if what == "csv":
        previous = tmp_path / "last.csv"
        previous.write_text("登记表,记录数\n", encoding="utf-8")
    elif what == "store workbook":
        shutil.copy(root / "投诉.xlsx", previous)
    else:
        previous.write_bytes(os.urandom(2000))
    result = CliRunner().invoke(main, ["consolidate", str(tmp_path / "in"), "-o", str(tmp_path / "汇总.xlsx"),
                                       "--previous", str(previous)])
    assert result.exit_code == 1 and "--previous" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "汇总.xlsx").exists()


def test_a_read_only_output_folder_is_one_bilingual_line_before_the_long_read(demo, tmp_path):
    folder, _ = demo
    out = tmp_path / "只读"
    out.mkdir()
    os.chmod(out, 0o555)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    done = subprocess.run([*without_root_powers(), "python3", "-m", "toolkit.cli", "consolidate", str(folder), "-o",
                           str(out / "汇总.xlsx"), "--as-of", "2026-11-05"], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parent.parent, timeout=300)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "无法写入" in done.stderr and "cannot write" in done.stderr and "Traceback" not in done.stderr
    assert "文件" not in done.stdout  # stopped before reading: no manifest lines
    assert list(out.iterdir()) == []


def test_a_summary_open_in_excel_is_said_and_nothing_is_left_behind(tmp_path):
    """On Windows, a workbook open in Excel cannot be replaced; a read-only file stands in for it here."""
    _one_store(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "汇总.xlsx").write_bytes(b"last month")
    os.chmod(out / "汇总.xlsx", 0o444)
    done = subprocess.run([*without_root_powers(), "python3", "-m", "toolkit.cli", "consolidate", str(tmp_path / "in"),
                           "-o", str(out / "汇总.xlsx")], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parent.parent, timeout=300)
    assert done.returncode == 1 and "被占用" in done.stderr, done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["汇总.xlsx"]
    assert (out / "汇总.xlsx").read_bytes() == b"last month"


def test_exports_land_whole_or_not_at_all_and_with_the_users_umask(tmp_path, registers):
    from toolkit.consolidate import consolidate as run_consolidation
    from toolkit.jobs import export_consolidation

    _one_store(tmp_path)
    result = run_consolidation(tmp_path / "in", registers, jobs=1)
    old = os.umask(0o002)
    try:
        run = export_consolidation(result, registers, tmp_path / "导出", ["csv", "parquet"])
    finally:
        os.umask(old)
    files = sorted(p.name for p in (tmp_path / "导出").iterdir())
    assert "datapackage.json" in files and len(files) == 2 * len(registers) + 1
    assert all((tmp_path / "导出" / f).stat().st_mode & 0o777 == 0o664 for f in files)
    assert run.package == tmp_path / "导出" / "datapackage.json"
    # a failure half way (an unknown format after the first register) leaves nothing under a final name
    with pytest.raises(ValueError):
        export_consolidation(result, registers, tmp_path / "再导出", ["csv", "xml"])
    assert list((tmp_path / "再导出").iterdir()) == []


def test_the_rows_read_come_from_the_same_bytes_as_the_hash(tmp_path, registers):
    """A file swapped (atomic rename) while the run reads it: hash and rows describe the bytes read once."""
    import hashlib

    from toolkit.limits import DEFAULT_LIMITS
    from toolkit.reader import read_bytes, scan_workbook

    path = _complaints_file(tmp_path / "投诉.xlsx", [complaint("2610001", dt.date(2026, 10, 1))], 1_790_000_000)
    first = read_bytes(path, DEFAULT_LIMITS)
    _complaints_file(tmp_path / "新.xlsx", [complaint("2610001", dt.date(2026, 10, 1)),
                                           complaint("2610002", dt.date(2026, 10, 2))], 1_790_000_000)
    os.replace(tmp_path / "新.xlsx", path)  # the store's sync client swaps the file now
    scan = scan_workbook(path, registers, first)
    assert len(scan.sheets[0].rows) == 2  # header + the one row of the bytes that were hashed
    assert hashlib.sha256(first).hexdigest() != hashlib.sha256(path.read_bytes()).hexdigest()


def test_temporary_files_a_killed_run_left_are_removed_by_the_next(tmp_path):
    _one_store(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    stale = [out / ".汇总.abc123.xlsx.tmp", out / ".taizhang-x1.fill"]
    stale[0].write_bytes(b"half a workbook")
    stale[1].mkdir()
    fresh = out / ".汇总.def456.xlsx.tmp"  # another run's, going on now: kept
    fresh.write_bytes(b"")
    for path in stale:
        os.utime(path, (1_700_000_000, 1_700_000_000))
    result = CliRunner().invoke(main, ["consolidate", str(tmp_path / "in"), "-o", str(out / "汇总.xlsx"),
                                       "--as-of", "2026-11-05"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted([fresh.name, "汇总.xlsx"])


@pytest.fixture
def small_disk(tmp_path):
    """A 100 kB file system of its own (tmpfs), to fill up; skipped where this machine lets no one mount."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=100k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small file system here: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", str(mount)], check=False)


def test_a_full_disk_is_said_before_the_read_and_leaves_no_half_set_of_exports(small_disk, demo_once, registers):
    from toolkit.consolidate import consolidate as run_consolidation
    from toolkit.files import OutputError
    from toolkit.jobs import export_consolidation

    folder, _ = demo_once
    result = CliRunner().invoke(main, ["consolidate", str(folder), "-o", str(small_disk / "汇总.xlsx"),
                                       "--as-of", "2026-11-05"])
    said = " ".join(result.output.split())  # the console wraps long lines where the path's length puts them
    assert result.exit_code == 1 and "磁盘已满" in said and "the disk is full" in said
    assert list(small_disk.iterdir()) == []
    done = run_consolidation(folder, registers, jobs=1)
    with pytest.raises(OSError) as failed:  # the disk fills up half way through the CSV files
        export_consolidation(done, registers, small_disk / "导出", ["csv", "jsonl"])
    assert not isinstance(failed.value, OutputError) or "磁盘已满" in str(failed.value)
    assert list((small_disk / "导出").iterdir()) == []  # nothing under a final name, no staging folder left
