"""The hidden metadata sheet that templates carry, so the reader knows a workbook without guessing.

It is a very-hidden sheet of plain rows, readable by any reader (calamine included):
``taizhang | <format version>``, ``store | <code> | <name>``, ``register | <sheet> | <id> | <version>``;
the toolkit's own outputs carry ``output | <kind>`` instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field

METADATA_SHEET = "_taizhang"
LISTS_SHEET = "_lists"
FORMAT_VERSION = 1


@dataclass
class WorkbookMetadata:
    store_code: str | None = None
    store_name: str | None = None
    registers: dict[str, tuple[str, int]] = field(default_factory=dict)  # sheet -> (register id, version)
    output: str | None = None  # set on the toolkit's own outputs (summary, overdue): never an input


def metadata_rows(meta: WorkbookMetadata) -> list[list[str | int]]:
    rows: list[list[str | int]] = [["taizhang", FORMAT_VERSION]]
    rows.append(["store", meta.store_code or "", meta.store_name or ""])
    for sheet, (reg_id, version) in meta.registers.items():
        rows.append(["register", sheet, reg_id, version])
    return rows


def output_rows(kind: str) -> list[list[str | int]]:
    """The metadata of a workbook this toolkit produced, so that a later run does not read it as input."""
    return [["taizhang", FORMAT_VERSION], ["output", kind]]


def parse_metadata(rows: list[list]) -> WorkbookMetadata | None:
    """Read the rows back; None when the sheet is not ours."""
    if not rows or not rows[0] or str(rows[0][0]).strip() != "taizhang":
        return None
    meta = WorkbookMetadata()
    for row in rows[1:]:
        cells = [_text(c) for c in row] + ["", "", "", ""]
        if cells[0] == "store":
            meta.store_code, meta.store_name = cells[1] or None, cells[2] or None
        elif cells[0] == "register" and cells[1] and cells[2]:
            version = int(float(cells[3])) if cells[3] else 1
            meta.registers[cells[1]] = (cells[2], version)
        elif cells[0] == "output":
            meta.output = cells[1] or "output"
    return meta


def _text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip() if value is not None else ""
