"""Exporting consolidated records for other systems: CSV that Excel and legacy systems open, Parquet and
JSON Lines with real types, and a datapackage.json that describes them."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3

import pandas as pd
import pyarrow.parquet as pq
import pytest
import python_calamine as calamine

from tests.conftest import COMPLAINT_HEADER, complaint, write_workbook
from toolkit.config import Config
from toolkit.consolidate import consolidate
from toolkit.export import export_register, table_schema, write_datapackage


@pytest.fixture
def consolidated(tmp_path, registers):
    folder = tmp_path / "in" / "001_朝阳店"
    folder.mkdir(parents=True)
    write_workbook(folder / "投诉.xlsx", {"客户投诉登记表": [
        COMPLAINT_HEADER,
        complaint(no="2611001", subject="=HYPERLINK(\"http://x\")", compensation=1234.5, approver="部门经理"),
        complaint(no="2611002", subject="-客户说明", phone="075512345678"),
    ]})
    return consolidate(tmp_path / "in", registers, Config(), 2026, 1)


def test_a_csv_opens_in_excel_with_chinese_intact_and_formulas_neutralised(consolidated, registers, tmp_path):
    path = export_register(tmp_path, consolidated.records["complaints"], registers["complaints"], ["csv"])[0]
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    table = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(table.columns[:6]) == ["store_code", "store_name", "source_file", "source_sheet", "source_row",
                                       "complaint_no"]
    assert table["subject"].tolist() == ["'=HYPERLINK(\"http://x\")", "'-客户说明"]
    assert table["phone"].tolist() == ["13800138000", "0755-12345678"]  # text stays text, leading zero kept
    assert table["received_date"].tolist() == ["2026-11-03", "2026-11-03"]
    assert table["compensation"].tolist() == ["1234.5", ""]


def test_a_legacy_system_gets_gb18030(consolidated, registers, tmp_path):
    path = export_register(tmp_path, consolidated.records["complaints"], registers["complaints"], ["csv"],
                           encoding="gb18030")[0]
    assert "朝阳店" in path.read_bytes().decode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")


def test_parquet_and_json_lines_keep_real_types(consolidated, registers, tmp_path):
    parquet, jsonl = export_register(tmp_path, consolidated.records["complaints"], registers["complaints"],
                                     ["parquet", "jsonl"])
    table = pq.read_table(parquet)
    assert str(table.schema.field("received_date").type) == "date32[day]"
    assert str(table.schema.field("compensation").type) == "double"
    assert table.column("received_date").to_pylist() == [dt.date(2026, 11, 3)] * 2
    assert table.column("subject").to_pylist()[0] == "=HYPERLINK(\"http://x\")"  # data, not a spreadsheet
    lines = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    assert lines[0]["compensation"] == 1234.5 and lines[1]["compensation"] is None
    assert lines[0]["source_row"] == 2 and lines[0]["received_date"] == "2026-11-03"


def test_a_duty_rosters_times_of_day_are_times(tmp_path, registers):
    records = pd.DataFrame({"store_code": ["001"], "store_name": ["朝阳店"], "source_file": ["a.xlsx"],
                            "source_sheet": ["值班"], "source_row": [3], "date": [pd.Timestamp("2026-10-01")],
                            "staff": ["赵磊"], "start": [1200.0], "handover": [480.0]})
    parquet, csv = export_register(tmp_path, records, registers["duty"], ["parquet", "csv"])
    assert pq.read_table(parquet).column("start").to_pylist() == [dt.time(20, 0)]
    assert "20:00:00,08:00:00" in csv.read_text(encoding="utf-8-sig")


def test_the_datapackage_describes_every_file_with_the_definitions_schema(consolidated, registers, tmp_path):
    written = {"complaints": export_register(tmp_path, consolidated.records["complaints"], registers["complaints"],
                                             ["csv", "parquet"])}
    package = json.loads(write_datapackage(tmp_path, registers, written).read_text(encoding="utf-8"))
    csv = package["resources"][0]
    assert csv["path"] == "complaints.csv" and csv["encoding"] == "utf-8"
    assert csv["schema"] == table_schema(registers["complaints"])
    fields = {f["name"]: f for f in csv["schema"]["fields"]}
    assert fields["received_date"]["type"] == "date" and fields["received_date"]["constraints"]["required"]
    assert "投诉" in fields["category"]["constraints"]["enum"]
    assert csv["schema"]["primaryKey"] == ["store_code", "complaint_no"]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_frictionless_validates_the_exported_package_against_its_schemas(tmp_path, registers, encoding):
    from click.testing import CliRunner
    from frictionless import Package

    from toolkit.cli import main
    from toolkit.demo import write_demo

    write_demo(tmp_path / "demo", {k: registers[k] for k in ("complaints", "duty", "repairs")}, rows=40)
    out = tmp_path / "export"
    done = CliRunner().invoke(main, ["export", str(tmp_path / "demo"), "-o", str(out), "--format", "csv,jsonl,parquet",
                                     "--encoding", encoding])
    assert done.exit_code == 0, done.output
    assert "datapackage.json" in done.output
    package = Package(str(out / "datapackage.json"))
    described = [r for r in package.resources if r.format in ("csv", "jsonl")]
    assert len(described) == 2 * len(registers)  # every register, even those with no records here
    empty = [r for r in described if r.format == "jsonl" and (out / r.path).stat().st_size == 0]
    assert len(empty) == len(registers) - 3  # no records, no lines (Frictionless 5 cannot open an empty file)
    for resource in (r for r in described if r not in empty):
        report = resource.validate()
        assert report.valid, (resource.name, report.flatten(["rowNumber", "fieldName", "note"])[:5])


def test_an_unknown_export_format_is_refused(tmp_path):
    from click.testing import CliRunner

    from toolkit.cli import main

    done = CliRunner().invoke(main, ["export", str(tmp_path), "-o", str(tmp_path / "x"), "--format", "xml"])
    assert done.exit_code == 2 and "csv, parquet, jsonl" in done.output


def test_a_consolidation_run_exports_the_very_records_its_summary_workbook_holds(tmp_path, registers):
    from click.testing import CliRunner

    from toolkit.cli import main
    from toolkit.demo import write_demo

    write_demo(tmp_path / "demo", {k: registers[k] for k in ("complaints", "repairs")}, rows=30)
    done = CliRunner().invoke(main, ["consolidate", str(tmp_path / "demo"), "-o", str(tmp_path / "汇总.xlsx"),
                                     "--month", "2026-10", "--as-of", "2026-11-05", "--export", str(tmp_path / "run"),
                                     "--database", str(tmp_path / "台账.db")])
    assert done.exit_code == 0, done.output
    book = calamine.CalamineWorkbook.from_path(str(tmp_path / "汇总.xlsx"))
    for reg_id in ("complaints", "repairs"):
        in_summary = len(book.get_sheet_by_name(registers[reg_id].name_zh).to_python()) - 1
        exported = pd.read_csv(tmp_path / "run" / f"{reg_id}.csv", dtype=str)
        assert len(exported) == in_summary > 0
        keyed = exported[list(registers[reg_id].key)].notna().all(axis=1).sum()  # rows with a whole record key
        with sqlite3.connect(tmp_path / "台账.db") as db:
            assert db.execute(f"select count(*) from {reg_id}").fetchone()[0] == keyed
    again = CliRunner().invoke(main, ["export", str(tmp_path / "demo"), "-o", str(tmp_path / "folder")])
    assert again.exit_code == 0
    assert (tmp_path / "run" / "repairs.csv").read_bytes() == (tmp_path / "folder" / "repairs.csv").read_bytes()
    refused = CliRunner().invoke(main, ["consolidate", str(tmp_path / "demo"), "--database", "x.db"])
    assert refused.exit_code == 2 and "--export" in refused.output
