"""A test double of the part of xlwings' Book API listed in toolkit/excel/book.py, on an openpyxl workbook.

It behaves as Excel does where the handlers depend on it: writing rows of values from a cell, "=…" text
becoming a formula, text that reads as a number becoming one, a leading apostrophe keeping text as text, a second note on a cell refused, a new
sheet becoming the active one. ``save`` writes the file the handlers then read back; ``keep`` writes the
workbook as it stands (with what the handlers wrote and Excel has not saved) for the test to read.
"""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
from openpyxl.comments import Comment
from openpyxl.styles import PatternFill
from openpyxl.utils import get_column_letter, range_boundaries


class NoteDouble:
    def __init__(self, cell) -> None:
        self._cell = cell

    @property
    def text(self) -> str:
        return self._cell.comment.text

    @text.setter
    def text(self, value: str) -> None:
        self._cell.comment = Comment(value, "taizhang")

    def delete(self) -> None:
        self._cell.comment = None


class RangeDouble:
    def __init__(self, ws, address: str) -> None:
        self._ws = ws
        self._bounds = range_boundaries(address.replace("$", ""))  # min_col, min_row, max_col, max_row

    def _cells(self):
        min_col, min_row, max_col, max_row = self._bounds
        return [self._ws.cell(r, c) for r in range(min_row, max_row + 1) for c in range(min_col, max_col + 1)]

    @property
    def _first(self):
        return self._ws.cell(self._bounds[1], self._bounds[0])

    @property
    def value(self):
        return self._first.value

    @value.setter
    def value(self, value) -> None:
        rows = value if isinstance(value, list) and value and isinstance(value[0], list) else \
            [value] if isinstance(value, list) else [[value]]
        for r, row in enumerate(rows):
            for c, item in enumerate(row):
                cell = self._ws.cell(self._bounds[1] + r, self._bounds[0] + c)
                if isinstance(item, str) and item.startswith("'"):
                    cell.value = item[1:]
                    cell.data_type = "s"
                elif isinstance(item, str) and re.fullmatch(r"[+-]?\d+(\.\d+)?", item.strip()):
                    cell.value = float(item)  # as Excel does with text that reads as a number
                else:
                    cell.value = None if item == "" else item

    @property
    def color(self):
        fill = self._first.fill
        if fill is None or fill.fill_type != "solid":
            return None
        rgb = fill.fgColor.rgb[-6:]
        return tuple(int(rgb[i:i + 2], 16) for i in (0, 2, 4))

    @color.setter
    def color(self, rgb) -> None:
        for cell in self._cells():
            cell.fill = PatternFill() if rgb is None else PatternFill("solid", fgColor="{:02X}{:02X}{:02X}".format(*rgb))

    @property
    def note(self) -> NoteDouble | None:
        return NoteDouble(self._first) if self._first.comment is not None else None

    def add_note(self, text: str) -> NoteDouble:
        if self._first.comment is not None:
            raise ValueError("This cell already has a note")
        self._first.comment = Comment(text, "taizhang")
        return NoteDouble(self._first)

    def clear_contents(self) -> None:
        for cell in self._cells():
            cell.value = None

    @property
    def column_width(self) -> float:
        return self._ws.column_dimensions[get_column_letter(self._bounds[0])].width

    @column_width.setter
    def column_width(self, width: float) -> None:
        self._ws.column_dimensions[get_column_letter(self._bounds[0])].width = width


class SheetDouble:
    def __init__(self, book: BookDouble, ws) -> None:
        self._book, self._ws = book, ws

    @property
    def name(self) -> str:
        return self._ws.title

    def __getitem__(self, address: str) -> RangeDouble:
        return RangeDouble(self._ws, address)

    def activate(self) -> None:
        self._book._wb.active = self._book._wb.worksheets.index(self._ws)


class SheetsDouble:
    def __init__(self, book: BookDouble) -> None:
        self._book = book

    @property
    def active(self) -> SheetDouble:
        return SheetDouble(self._book, self._book._wb.active)

    def __getitem__(self, key: str | int) -> SheetDouble:
        wb = self._book._wb
        return SheetDouble(self._book, wb.worksheets[key] if isinstance(key, int) else wb[key])

    def __iter__(self):
        return (SheetDouble(self._book, ws) for ws in self._book._wb.worksheets)

    def add(self, name: str, before: SheetDouble) -> SheetDouble:
        wb = self._book._wb
        ws = wb.create_sheet(name, wb.worksheets.index(before._ws))
        wb.active = wb.worksheets.index(ws)
        for other in wb.worksheets:
            other.sheet_view.tabSelected = other is ws
        return SheetDouble(self._book, ws)


class BookDouble:
    def __init__(self, path: Path | str, active: str | None = None) -> None:
        self.fullname = str(path)
        self._wb = openpyxl.load_workbook(path, keep_vba=str(path).endswith(".xlsm"))
        if active is not None:
            self._wb.active = self._wb.sheetnames.index(active)
        self.sheets = SheetsDouble(self)
        self.saves = 0

    def save(self) -> None:
        self._wb.save(self.fullname)
        self.saves += 1

    def keep(self, path: Path | str) -> Path:
        self._wb.save(path)
        return Path(path)

    def cell(self, sheet: str, address: str):
        """The openpyxl cell, for the test's assertions."""
        return self._wb[sheet][address]


