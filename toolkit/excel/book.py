"""The small part of xlwings' Book API that the button handlers use, listed in one place.

Everything the handlers do to the open workbook goes through these members, so a test double that
implements exactly this (tests/book_double.py) shows their effect without Excel. Keep it small: reading
a workbook's contents is done on the saved file with the package's own reader, not through Excel.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol


class Note(Protocol):
    text: str  # read and written

    def delete(self) -> None: ...


class Range(Protocol):
    value: Any  # written: a value, or rows of values from this cell; "=…" text becomes a formula
    color: tuple[int, int, int] | None  # written: the cell's fill; None removes it
    note: Note | None  # read
    column_width: float  # written, on a cell of the column

    def add_note(self, text: str) -> Note: ...
    def clear_contents(self) -> None: ...


class Sheet(Protocol):
    name: str

    def __getitem__(self, address: str) -> Range: ...  # "A1" or "A1:I20"
    def activate(self) -> None: ...


class Sheets(Protocol):
    active: Sheet

    def __getitem__(self, key: str | int) -> Sheet: ...
    def __iter__(self) -> Iterator[Sheet]: ...
    def add(self, name: str, before: Sheet) -> Sheet: ...  # Excel then shows the new sheet


class Book(Protocol):
    fullname: str
    sheets: Sheets

    def save(self) -> None: ...


def caller() -> Book:
    """The workbook whose button was clicked (xlwings' RunPython passes it on the command line)."""
    import xlwings

    return xlwings.Book.caller()
