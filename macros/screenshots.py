"""Render the README's pictures of the two workbooks, without Excel: LibreOffice → PDF → PNG.

    python3 macros/screenshots.py            # writes docs/images/*.png

The workbooks are built as ``taizhang excel build`` builds them; the pictures after a click are made by
running the buttons' handlers on the test double of the Book API (tests/book_double.py) over the sample
data, exactly as the tests do. Needs LibreOffice (soffice) and poppler (pdftoppm).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import openpyxl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.book_double import BookDouble  # noqa: E402
from toolkit.annotate import RESULT_SHEET  # noqa: E402
from toolkit.config import Config, company_registers  # noqa: E402
from toolkit.demo import write_demo  # noqa: E402
from toolkit.excel import buttons  # noqa: E402
from toolkit.excel.build import build_workbooks  # noqa: E402
from toolkit.excel.layout import OFFICE_BOOK, OFFICE_SETTINGS, OFFICE_SHEET, STORE_BOOK  # noqa: E402


def soffice(args: list[str], profile: Path) -> None:
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{profile}", *args],
                   check=True, capture_output=True, timeout=600)


def printable_ods(xlsm: Path, work: Path, full_size: bool) -> Path:
    """The workbook as .ods with its buttons printable and no print area, so the picture shows them."""
    soffice(["--convert-to", "ods", "--outdir", str(work), str(xlsm)], work / "profile")
    ods = work / xlsm.with_suffix(".ods").name
    patched = work / ("printable_" + ods.name)
    with zipfile.ZipFile(ods) as src, zipfile.ZipFile(patched, "w") as out:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "content.xml":
                text = data.decode("utf-8").replace('form:printable="false"', 'form:printable="true"')
                data = re.sub(r' table:print-ranges="[^"]*"', "", text).encode("utf-8")
            elif item.filename == "styles.xml" and full_size:  # full size (not fitted to the page), as on screen
                data = re.sub(r' style:scale-to(-X|-Y|-pages)?="[^"]*"', "", data.decode("utf-8")).encode("utf-8")
            out.writestr(item, data, zipfile.ZIP_STORED if item.filename == "mimetype" else zipfile.ZIP_DEFLATED)
    return patched


def only_sheet(xlsx: Path, sheet: str, out: Path, full_size: bool = True) -> Path:
    """A copy holding one sheet, printed landscape at full size (as on screen), without a print area."""
    book = openpyxl.load_workbook(xlsx)
    for ws in list(book.worksheets):
        if ws.title != sheet:
            book.remove(ws)
    ws = book[sheet]
    ws.print_area = None
    ws.page_setup.orientation = "landscape"
    ws.sheet_properties.pageSetUpPr.fitToPage = False
    ws.page_setup.scale = 100
    ws.page_setup.paperSize = ws.PAPERSIZE_A3 if full_size else ws.PAPERSIZE_A4
    if not full_size:  # the head office's sheet, on one page as it prints
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    book.save(out)
    return out


def picture(source: Path, png: Path, work: Path, height: int, width: int = 1290) -> None:
    """Page 1 of the source's PDF, the top left ``width`` × ``height`` pixels at 110 dpi."""
    soffice(["--convert-to", "pdf", "--outdir", str(work), str(source)], work / "profile")
    pdf = work / source.with_suffix(".pdf").name
    subprocess.run(["pdftoppm", "-png", "-r", "110", "-f", "1", "-l", "1", "-singlefile", "-x", "0", "-y", "0",
                    "-W", str(width), "-H", str(height), str(pdf), str(png.with_suffix(""))], check=True)
    print(png)


def fill_from_demo(store_book: Path, demo_file: Path, sheet: str, rows: int) -> None:
    """The store's sample complaints typed into the store workbook (below its buttons and title), with two
    everyday mistakes near the top: a phone number short of digits and a date that does not exist."""
    sample = openpyxl.load_workbook(demo_file)[sheet]
    sample["H4"].value = "1380013"
    sample["B6"].value = "10月35日"
    book = openpyxl.load_workbook(store_book, keep_vba=True)
    for r, row in enumerate(sample.iter_rows(min_row=3, max_row=2 + rows), start=5):
        for c, typed in enumerate(row, start=1):
            book[sheet].cell(r, c, typed.value).number_format = typed.number_format
    book.save(store_book)


def main(out_dir: Path = ROOT / "docs" / "images") -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    registers = company_registers(Config())
    complaints = registers["complaints"].name_zh
    with tempfile.TemporaryDirectory(prefix="taizhang-shots-") as tmp:
        work = Path(tmp)
        os.chdir(work)
        write_demo(work / "demo-data", registers)
        built = build_workbooks(work / "built", list(registers.values()), store_code="001", store_name="朝阳店")
        picture(printable_ods(built[0], work, True), out_dir / "store-workbook.png", work, 520)
        picture(printable_ods(built[1], work, False), out_dir / "office-workbook.png", work, 560)

        store = work / "001_朝阳店" / STORE_BOOK
        store.parent.mkdir()
        shutil.copyfile(built[0], store)
        demo = next((work / "demo-data").glob(f"001_*/*complaints_{complaints}.xlsx"))
        fill_from_demo(store, demo, complaints, 25)
        book = BookDouble(store, active=complaints)
        buttons.check_book(book, whole=False)
        kept = book.keep(work / "after-check.xlsx")
        picture(only_sheet(kept, complaints, work / "store-after-check.xlsx"), out_dir / "store-after-check.png",
                work, 560, 1800)
        picture(only_sheet(kept, RESULT_SHEET, work / "check-results.xlsx"), out_dir / "check-results.png", work, 420)

        office = work / OFFICE_BOOK
        shutil.copyfile(built[1], office)
        book = BookDouble(office)
        cells = {s.key: s.cell for s in OFFICE_SETTINGS}
        for key, value in (("input_dir", "demo-data"), ("month", "2026-10"), ("as_of", "2026-11-05"),
                           ("output_dir", "汇总输出")):
            book.sheets[OFFICE_SHEET][cells[key]].value = value
        buttons.run_office(book, "summary")
        kept = book.keep(work / "after-summary.xlsx")
        picture(only_sheet(kept, OFFICE_SHEET, work / "office-after-summary.xlsx", full_size=False),
                out_dir / "office-after-summary.png", work, 560)


if __name__ == "__main__":
    main()
