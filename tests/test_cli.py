"""The commands as head office and store managers run them."""

from __future__ import annotations

import hashlib
import json

import openpyxl
import pytest
from click.testing import CliRunner

from tests.conftest import COMPLAINT_HEADER, complaint, write_workbook
from toolkit.cli import main

FINDING_KEYS = {"file", "sheet", "row", "column", "field", "value", "code", "severity", "message_zh", "message_en"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(main, ["demo", str(out), "--rows", "60"])
    assert result.exit_code == 0, result.output
    return out


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_validate_json_is_exactly_one_object_with_the_documented_shape(tmp_path):
    bad = write_workbook(tmp_path / "store.xlsx", {"S": [COMPLAINT_HEADER, complaint(status="已解决")]})
    (tmp_path / "broken.xlsx").write_bytes(b"not a workbook")
    result = CliRunner().invoke(main, ["validate", str(tmp_path), "--json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert set(report) == {"files", "findings"}
    files = {f["path"]: f for f in report["files"]}
    assert set(files[str(bad)]) == {"path", "status", "registers", "message", "sheets"}
    assert files[str(bad)]["sheets"][0]["register"] == "complaints" and files[str(bad)]["sheets"][0]["how"] == "headers"
    assert files[str(bad)]["status"] == "ok" and files[str(bad)]["registers"] == ["complaints"]
    assert files[str(tmp_path / "broken.xlsx")]["status"] == "unusable"
    assert {tuple(sorted(f)) for f in report["findings"]} == {tuple(sorted(FINDING_KEYS))}
    resolved = [f for f in report["findings"] if f["field"] == "resolved_date"]
    assert resolved[0]["row"] == 2 and resolved[0]["column"] == "N" and resolved[0]["severity"] == "error"


def test_exit_codes_say_clean_errors_or_nothing_readable(tmp_path):
    runner = CliRunner()
    clean = write_workbook(tmp_path / "clean.xlsx", {"S": [COMPLAINT_HEADER + ["回访日期", "回访满意度"],
                                                           complaint() + [None, None]]})
    assert runner.invoke(main, ["validate", str(clean)]).exit_code == 0
    dirty = write_workbook(tmp_path / "dirty.xlsx", {"S": [COMPLAINT_HEADER, complaint(phone="123")]})
    assert runner.invoke(main, ["validate", str(dirty)]).exit_code == 1
    assert runner.invoke(main, ["validate", str(dirty), "--fail-on", "never"]).exit_code == 0
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "x.xlsx").write_bytes(b"junk")
    result = runner.invoke(main, ["validate", str(junk)])
    assert result.exit_code == 2 and "文件已损坏" in result.output


def test_the_report_reads_like_a_list_of_things_to_fix(tmp_path):
    path = write_workbook(tmp_path / "store.xlsx", {"S": [COMPLAINT_HEADER, complaint(status="已解决")]})
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert "「处理状态」为「已解决」时，「解决日期」必须填写" in result.output
    assert "1 个错误" in result.output
    english = CliRunner().invoke(main, ["validate", str(path), "--lang", "en"])
    assert "Resolved date must be filled in" in english.output


def test_annotate_writes_a_marked_copy_beside_the_source_and_leaves_the_source_alone(tmp_path):
    path = write_workbook(tmp_path / "朝阳店.xlsx", {"投诉": [
        ["朝阳店投诉登记"], COMPLAINT_HEADER, complaint(status="已解决"), complaint(no="2611002", phone="123")]})
    before = _sha(path)
    result = CliRunner().invoke(main, ["validate", str(path), "--annotate"])
    assert result.exit_code == 1
    assert _sha(path) == before
    copy = tmp_path / "朝阳店_校验结果.xlsx"
    book = openpyxl.load_workbook(copy)
    assert book.sheetnames[0] == "校验结果"
    ws = book["投诉"]
    assert ws["N3"].fill.fgColor.rgb.endswith("FFC7CE") and "解决日期" in ws["N3"].comment.text
    assert ws["H4"].comment is not None and ws["A3"].comment is None
    results = book["校验结果"]
    assert "2 个错误" in results["A1"].value
    links = {row[0].hyperlink.location for row in results.iter_rows(min_row=3) if row[0].hyperlink}
    assert {"'投诉'!N3", "'投诉'!H4"} <= links
    # it prints: A4 landscape, one page wide, the headings on every page, the title not cut in two
    assert results.page_setup.orientation == "landscape" and results.page_setup.paperSize == 9
    assert results.sheet_properties.pageSetUpPr.fitToPage and results.page_setup.fitToHeight == 0
    assert results.print_title_rows == "$2:$2" and "A1:H1" in {str(r) for r in results.merged_cells.ranges}
    assert results["F3"].alignment.wrap_text and "&P" in results.oddFooter.right.text
    # the annotated copy is read like the store's workbook (a clerk corrects it and sends it back),
    # its 校验结果 sheet left out
    again = CliRunner().invoke(main, ["validate", str(tmp_path), "--json"])
    lines = {f["path"]: f for f in json.loads(again.stdout)["files"]}
    assert lines[str(copy)]["status"] == "ok"
    assert [s["sheet"] for s in lines[str(copy)]["sheets"] if s["register"]] == ["投诉"]


def test_an_old_xls_gets_an_annotated_xlsx_copy(tmp_path):
    import xlwt

    book = xlwt.Workbook()
    ws = book.add_sheet("投诉")
    for r, row in enumerate([COMPLAINT_HEADER, complaint(received="2026-11-03", phone="12345")]):
        for c, v in enumerate(row):
            if v is not None:
                ws.write(r, c, v)
    book.save(str(tmp_path / "old.xls"))
    CliRunner().invoke(main, ["validate", str(tmp_path / "old.xls"), "--annotate"])
    copy = openpyxl.load_workbook(tmp_path / "old_校验结果.xlsx")
    assert copy["投诉"]["H2"].comment is not None


def test_demo_is_a_month_of_stores_with_the_usual_mistakes_and_is_reproducible(demo, tmp_path):
    stores = sorted(p.name for p in demo.iterdir())
    assert stores == ["001_朝阳店", "002_海淀店", "003_浦东店", "004_天河店"]
    result = CliRunner().invoke(main, ["validate", str(demo), "--json"])
    report = json.loads(result.stdout)
    assert all(f["status"] == "ok" for f in report["files"])
    registers = {r for f in report["files"] for r in f["registers"]}
    assert len(registers) == 9
    codes = {f["code"] for f in report["findings"]}
    assert {"type-error", "missing-cell", "unique-error", "row-constraint", "assumed-value", "extra-label"} <= codes
    again = tmp_path / "again"
    CliRunner().invoke(main, ["demo", str(again), "--rows", "60"])
    assert sorted(_sha(p) for p in again.rglob("*.xlsx")) == sorted(_sha(p) for p in demo.rglob("*.xlsx"))


def test_template_build_writes_one_workbook_per_register(tmp_path):
    result = CliRunner().invoke(main, ["template", "build", "--register", "complaints", "--register", "duty",
                                       "--store-code", "001", "--store-name", "朝阳店", "-o", str(tmp_path)])
    assert result.exit_code == 0
    assert sorted(p.name for p in tmp_path.glob("*.xlsx")) == ["001_朝阳店_complaints_客户投诉登记表.xlsx",
                                                               "001_朝阳店_duty_值班情况登记表.xlsx"]
