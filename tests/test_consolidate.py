"""Head office's month: a messy folder of store workbooks becomes one set of records, nothing lost."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest
import python_calamine as calamine
import xlwt

from tests.conftest import COMPLAINT_HEADER, complaint, write_workbook
from toolkit.config import Config, Store
from toolkit.consolidate import consolidate
from toolkit.template import write_register_workbook

REPAIR_HEADER = ["报修单号", "报修时间", "报修人", "房号/位置", "联系电话", "报修内容", "类别"]


def _repair(no: str, when: dt.datetime) -> list:
    return [no, when, "李四", "3-201", "13900139000", "水龙头漏水", "水"]


def _old_xls(path, rows):
    book = xlwt.Workbook()
    ws = book.add_sheet("投诉")
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            if isinstance(v, dt.date):
                ws.write(r, c, dt.datetime.combine(v, dt.time()), date_style)
            elif v is not None:
                ws.write(r, c, v)
    book.save(str(path))
    return path


@pytest.fixture
def month_folder(tmp_path):
    """Three stores' October submissions, as head office really receives them."""
    root = tmp_path / "2026-10"
    for folder in ("001_朝阳店", "002_海淀店", "003_浦东店", "杂项"):
        (root / folder).mkdir(parents=True)
    # 001: a good complaints workbook with one bad row, and the same file sent again under another name
    good = write_workbook(root / "001_朝阳店" / "投诉.xlsx", {"投诉": [COMPLAINT_HEADER,
                          complaint("2610001", dt.date(2026, 10, 3)), complaint("2610002", dt.date(2026, 10, 4)),
                          complaint("2610003", dt.date(2026, 10, 5), phone="12345")]})
    shutil.copy(good, root / "001_朝阳店" / "投诉(1).xlsx")
    # 002: one workbook with two register sheets, and an old .xls
    write_workbook(root / "002_海淀店" / "投诉及报修.xlsx", {
        "投诉": [COMPLAINT_HEADER, complaint("2610001", dt.date(2026, 10, 8))],
        "报修": [REPAIR_HEADER, _repair("R1", dt.datetime(2026, 10, 9, 9, 0)),
                 _repair("R2", dt.datetime(2026, 10, 9, 10, 0))]})
    _old_xls(root / "002_海淀店" / "旧表.xls", [COMPLAINT_HEADER, complaint("2610009", dt.date(2026, 10, 9))])
    # 003: a corrupt file beside a good one
    (root / "003_浦东店" / "坏文件.xlsx").write_bytes(b"PK\x03\x04 this is not really a workbook")
    write_workbook(root / "003_浦东店" / "投诉.xlsx", {"投诉": [COMPLAINT_HEADER, complaint("2610001", dt.date(2026, 10, 10))]})
    # a workbook in a folder that names no store, and Excel's lock file
    write_workbook(root / "杂项" / "不知道哪个店.xlsx", {"投诉": [COMPLAINT_HEADER, complaint("2610077", dt.date(2026, 10, 11))]})
    (root / "003_浦东店" / "~$投诉.xlsx").write_bytes(b"lock")
    return root


def test_every_file_is_accounted_for_and_every_row_lands_somewhere(month_folder, registers):
    result = consolidate(month_folder, registers, jobs=2)
    status = {f.display: f.status for f in result.files}
    assert status == {
        "001_朝阳店/投诉(1).xlsx": "ok", "001_朝阳店/投诉.xlsx": "duplicate",
        "002_海淀店/投诉及报修.xlsx": "ok", "002_海淀店/旧表.xls": "ok",
        "003_浦东店/~$投诉.xlsx": "ignored", "003_浦东店/坏文件.xlsx": "unusable", "003_浦东店/投诉.xlsx": "ok",
        "杂项/不知道哪个店.xlsx": "unusable",
    }
    for f in result.files:
        assert f.rows_read == f.rows_accepted + f.rows_rejected, f.display
    mixed = next(f for f in result.files if f.display == "002_海淀店/投诉及报修.xlsx")
    assert mixed.registers == ["complaints", "repairs"] and mixed.store_code == "002" and mixed.store_name == "海淀店"
    complaints = result.records["complaints"]
    assert sorted(zip(complaints["store_code"], complaints["complaint_no"], strict=True)) == [
        ("001", "2610001"), ("001", "2610002"), ("002", "2610001"), ("002", "2610009"), ("003", "2610001")]
    assert len(result.records["repairs"]) == 2
    # the bad phone row is rejected with its reason, and so is every row of the file with no store
    rejected = result.rejected
    bad_phone = rejected[rejected["key"] == "2610003"]
    assert len(bad_phone) == 1 and "12345" in bad_phone["reason_zh"].iloc[0]
    nameless = rejected[rejected["source_file"] == "杂项/不知道哪个店.xlsx"]
    assert len(nameless) == 1 and "无法确定门店" in nameless["reason_zh"].iloc[0]
    corrupt = next(f for f in result.files if f.status == "unusable" and f.display.endswith("坏文件.xlsx"))
    assert "损坏" in corrupt.message_zh and "damaged" in corrupt.message_en


def test_a_store_that_sent_a_corrected_file_has_its_newer_records_win(tmp_path, registers):
    store = tmp_path / "in" / "001_朝阳店"
    store.mkdir(parents=True)
    first = write_workbook(store / "投诉_第一版.xlsx", {"投诉": [COMPLAINT_HEADER,
                           complaint("2610001", dt.date(2026, 10, 3), subject="旧的主题"),
                           complaint("2610002", dt.date(2026, 10, 4))]})
    second = write_workbook(store / "投诉_更正.xlsx", {"投诉": [COMPLAINT_HEADER,
                            complaint("2610001", dt.date(2026, 10, 3), subject="更正后的主题")]})
    os.utime(first, (1_700_000_000, 1_700_000_000))
    os.utime(second, (1_700_100_000, 1_700_100_000))
    result = consolidate(tmp_path / "in", registers, jobs=1)
    records = result.records["complaints"].set_index("complaint_no")
    assert records.loc["2610001", "subject"] == "更正后的主题"
    assert records.loc["2610002", "source_file"] == "001_朝阳店/投诉_第一版.xlsx"
    replaced = result.rejected
    assert list(replaced["key"]) == ["2610001"] and "投诉_更正.xlsx" in replaced["reason_zh"].iloc[0]
    old = next(f for f in result.files if f.display.endswith("第一版.xlsx"))
    assert (old.rows_read, old.rows_accepted, old.rows_rejected) == (2, 1, 1)


def test_store_comes_from_the_configuration_then_the_folder_then_the_template(tmp_path, registers):
    root = tmp_path / "in"
    (root / "收件箱").mkdir(parents=True)
    write_register_workbook(root / "收件箱" / "a.xlsx", [registers["complaints"]], "009", "西湖店",
                            {"complaints": {}})
    write_workbook(root / "收件箱" / "b.xlsx", {"投诉": [COMPLAINT_HEADER, complaint()]})
    config = Config(stores={"010": Store("010", "滨江店", paths=("收件箱/b.xlsx",)),
                            "009": Store("009", "西湖店（总部登记名）")})
    result = consolidate(root, registers, config, jobs=1)
    stores = {f.display: (f.store_code, f.store_name) for f in result.files}
    assert stores == {"收件箱/a.xlsx": ("009", "西湖店（总部登记名）"), "收件箱/b.xlsx": ("010", "滨江店")}


def _sheet_values(path):
    book = calamine.CalamineWorkbook.from_path(str(path))
    return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}


def test_same_inputs_same_output_and_a_rerun_after_one_store_changed_touches_only_that_store(
        month_folder, registers, tmp_path):
    from toolkit.overdue import overdue_lists
    from toolkit.summary import write_summary

    def run(out):
        result = consolidate(month_folder, registers, jobs=1)
        lists = overdue_lists(result.records, registers, dt.date(2026, 11, 5))
        write_summary(out, result, lists, None)
        return _sheet_values(out)

    first, again = run(tmp_path / "a.xlsx"), run(tmp_path / "b.xlsx")
    assert first == again
    write_workbook(month_folder / "003_浦东店" / "投诉.xlsx",
                   {"投诉": [COMPLAINT_HEADER, complaint("2610001", dt.date(2026, 10, 10), subject="浦东改过的")]})
    changed = run(tmp_path / "c.xlsx")
    before = [row for row in first["客户投诉登记表"][1:]]
    after = [row for row in changed["客户投诉登记表"][1:]]
    assert [r for r in before if r[0] != "003"] == [r for r in after if r[0] != "003"]
    subject = changed["客户投诉登记表"][0].index("投诉主题")
    assert [r[subject] for r in after if r[0] == "003"] == ["浦东改过的"]


def test_reading_stores_sheets_together_finds_exactly_what_checking_each_file_alone_finds(tmp_path, registers):
    from toolkit.check import check_paths
    from toolkit.demo import write_demo

    write_demo(tmp_path / "in", registers, rows=30)
    together = consolidate(tmp_path / "in", registers, jobs=1).findings
    alone = check_paths([tmp_path / "in"], registers).findings
    alone["file"] = alone["file"].map(lambda f: str(Path(f).relative_to(tmp_path / "in")))
    columns = ["file", "sheet", "row", "column", "code", "message_zh", "message_en"]

    def rows(frame):
        return sorted(map(tuple, frame[columns].astype(str).to_numpy().tolist()))

    assert len(alone) > 20 and rows(together) == rows(alone)


def test_a_row_with_two_mistakes_is_rejected_once_with_both_reasons(tmp_path, registers):
    store = tmp_path / "in" / "001_朝阳店"
    store.mkdir(parents=True)
    write_workbook(store / "投诉.xlsx", {"投诉": [COMPLAINT_HEADER, complaint("2610001", dt.date(2026, 10, 3)),
                                                complaint("2610002", dt.date(2026, 10, 4), phone="12345",
                                                          category="不知道")]})
    result = consolidate(tmp_path / "in", registers, jobs=1)
    (row,) = result.rejected.itertuples()
    assert row.key == "2610002" and row.reason_zh.count("；") == 1
    assert "12345" in row.reason_zh and "不知道" in row.reason_zh and "; " in row.reason_en
    assert list(result.records["complaints"]["complaint_no"]) == ["2610001"]


def test_rows_one_store_numbered_ahead_are_skipped_while_another_stores_alike_rows_are_records(tmp_path, registers):
    """Sheets of one layout from several stores are read as one table, but what counts as a default filled
    down (one value all through a sheet) is judged store by store: 朝阳店's 20 rows numbered ahead with its
    处理中 filled down are empty rows, although 海淀店's complaints in the same table say 待处理; and
    海淀店's three real complaints that all say 待处理 are three records."""
    root = tmp_path / "2026-10"
    for folder in ("001_朝阳店", "002_海淀店"):
        (root / folder).mkdir(parents=True)
    ahead = [[f"26100{i:02d}"] + [None] * 10 + ["处理中"] for i in range(4, 24)]
    write_workbook(root / "001_朝阳店" / "投诉.xlsx", {"投诉": [
        COMPLAINT_HEADER, *[complaint(f"261000{i}", dt.date(2026, 10, 2 + i)) for i in range(1, 4)], *ahead]})
    write_workbook(root / "002_海淀店" / "投诉.xlsx", {"投诉": [
        COMPLAINT_HEADER, *[complaint(f"261000{i}", dt.date(2026, 10, 3 + i), status="待处理") for i in range(1, 4)]]})
    done = consolidate(root, registers, jobs=1)
    lines = {Path(e.display).parent.name: e for e in done.files}
    assert [lines[s].rows_accepted for s in ("001_朝阳店", "002_海淀店")] == [3, 3]
    assert dict(lines["001_朝阳店"].skipped) == {"预编号空行 / pre-numbered empty row": 20}
    assert not lines["002_海淀店"].skipped and lines["002_海淀店"].rows_rejected == 0


def test_a_store_that_sent_nothing_is_a_line_of_the_manifest_and_a_row_of_the_overview(tmp_path, registers):
    """昌平店's folder came back empty (its files forgotten, only a sub-folder made): head office must see that
    store with nothing, not a summary that silently lacks it."""
    inbox = tmp_path / "in"
    (inbox / "001_朝阳店").mkdir(parents=True)
    write_workbook(inbox / "001_朝阳店" / "投诉.xlsx", {"投诉": [COMPLAINT_HEADER, complaint("2611001")]})
    (inbox / "013_昌平店" / "十月").mkdir(parents=True)
    result = consolidate(inbox, registers)
    lines = {f.display: f for f in result.files}
    empty = lines["013_昌平店"]
    assert (empty.kind, empty.status, empty.store_code, empty.store_name) == ("folder", "ignored", "013", "昌平店")
    assert "没有收到任何文件" in empty.message_zh and "nothing was received" in empty.message_en
    assert "013_昌平店/十月" not in lines  # the outermost empty folder only
    assert result.all_stores() == {"001": "朝阳店", "013": "昌平店"}


def test_a_store_that_sent_only_a_scan_and_a_damaged_workbook_is_in_the_overview_with_nothing(tmp_path, registers):
    inbox = tmp_path / "in"
    (inbox / "001_朝阳店").mkdir(parents=True)
    write_workbook(inbox / "001_朝阳店" / "投诉.xlsx", {"投诉": [COMPLAINT_HEADER, complaint("2611001")]})
    (inbox / "015_密云店").mkdir()
    (inbox / "015_密云店" / "投诉登记扫描件.pdf").write_bytes(b"%PDF-1.4")
    (inbox / "015_密云店" / "投诉.xlsx").write_bytes(b"PK\x03\x04 not a whole workbook")
    result = consolidate(inbox, registers)
    lines = {f.display: (f.status, f.store_code) for f in result.files}
    assert lines["015_密云店/投诉登记扫描件.pdf"] == ("ignored", "015")
    assert lines["015_密云店/投诉.xlsx"] == ("unusable", "015")
    assert result.all_stores() == {"001": "朝阳店", "015": "密云店"}
