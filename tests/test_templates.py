"""The Excel templates staff fill in: built from the definitions, committed, printable."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import libreoffice
from toolkit.template import build_templates

TEMPLATES = Path(__file__).parents[1] / "templates"


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}


def test_the_committed_templates_are_up_to_date_with_the_definitions(tmp_path, registers):
    fresh = build_templates(registers.values(), tmp_path)
    committed = sorted(p.name for p in TEMPLATES.glob("*.xlsx"))
    assert committed == sorted(p.name for p in fresh), "run: taizhang template build -o templates"
    for path in fresh:
        assert _members(path) == _members(TEMPLATES / path.name), f"{path.name} is stale: taizhang template build -o templates"


def test_a_template_makes_the_right_thing_easy(tmp_path, registers):
    (path,) = build_templates([registers["complaints"]], tmp_path, "001", "朝阳店")
    assert path.name == "001_朝阳店_complaints_客户投诉登记表.xlsx"
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["客户投诉登记表", "_lists", "填写说明", "_taizhang"]
    assert book["_lists"].sheet_state == "hidden" and book["_taizhang"].sheet_state == "veryHidden"
    ws = book["客户投诉登记表"]
    assert ws["A1"].value == "客户投诉登记表（001 朝阳店）"
    assert ws["A2"].value == "投诉编号*" and ws["F2"].value == "投诉内容"
    table = ws.tables["T_complaints"]
    assert table.ref.startswith("A2:")
    assert ws.freeze_panes == "A3"
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
    assert ws.print_title_rows == "$1:$2" and ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.sheet_format.customHeight and ws.sheet_format.defaultRowHeight >= 20  # room to write by hand
    validations = {str(dv.sqref).split(":")[0]: dv for dv in ws.data_validations.dataValidation}
    category = validations["C3"]
    assert category.type == "list" and category.formula1 == "选项_complaints_category"
    assert "咨询须24小时内答复" in category.prompt
    assert book.defined_names["选项_complaints_category"].attr_text == "'_lists'!$A$2:$A$4"
    assert validations["B3"].type == "date" and "请填写日期" in validations["B3"].error
    assert ws.column_dimensions["B"].number_format == "yyyy-mm-dd"
    assert ws.column_dimensions["H"].number_format == "@"  # phone numbers stay text, leading zeros kept
    instructions = book["填写说明"]
    text = "\n".join(str(c.value) for row in instructions.iter_rows() for c in row if c.value)
    assert "核决权限" in text and "投诉超期未结案" in text and "敏感信息" in text


def test_libreoffice_opens_every_template_and_prints_it_to_pdf(tmp_path):
    soffice = libreoffice()
    if soffice is None:
        pytest.skip("LibreOffice is not installed")
    templates = sorted(TEMPLATES.glob("*.xlsx"))
    result = subprocess.run(
        [soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/profile", "--convert-to", "pdf",
         "--outdir", str(tmp_path), *map(str, templates)],
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    for template in templates:
        pdf = tmp_path / f"{template.stem}.pdf"
        assert pdf.exists(), f"no PDF for {template.name}: {result.stdout} {result.stderr}"
        head = pdf.read_bytes()[:5]
        assert head == b"%PDF-" and pdf.stat().st_size > 5000


def test_a_printed_blank_template_holds_about_twenty_rows_a_page_to_fill_in_by_hand(registers):
    """At Excel's default row height a wide register, scaled to one page wide, printed 100 tiny rows."""
    from toolkit.template import HEADER_PX, PRINTABLE_PX, column_width, handwriting_row_height

    for register in registers.values():
        height_pt = handwriting_row_height(register.fields)
        width_px = sum(column_width(f) * 7 + 5 for f in register.fields)  # Excel's own column widths
        scale = min(1.0, PRINTABLE_PX[0] / width_px)
        rows = (PRINTABLE_PX[1] / scale - HEADER_PX) / (height_pt / 0.75)
        assert 15 <= rows <= 26, (register.id, rows)


def test_libreoffice_prints_a_blank_template_at_about_twenty_to_twenty_five_rows_a_page(tmp_path):
    soffice = libreoffice()
    if soffice is None:
        pytest.skip("LibreOffice is not installed")
    import pypdfium2

    template = TEMPLATES / "complaints_客户投诉登记表.xlsx"
    book = openpyxl.load_workbook(template)
    for name in book.sheetnames[1:]:
        del book[name]  # the register's sheet alone: 100 table rows
    only = tmp_path / "only.xlsx"
    book.save(only)
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/profile", "--convert-to",
                    "pdf", "--outdir", str(tmp_path), str(only)], capture_output=True, timeout=600, check=True)
    pages = len(pypdfium2.PdfDocument(tmp_path / "only.pdf"))
    assert 4 <= pages <= 6, pages  # 100 rows at 17–25 a page
