"""The shape of consolidated records, shared by every stage after reading.

Each register's records are one DataFrame: the source columns first (which store, which file,
sheet and Excel row a record came from), then the register's field keys with typed values.
"""

from __future__ import annotations

import pandas as pd

from .coerce import show_values
from .conditions import present
from .definitions import RESERVED_FIELD_KEYS, Register

SOURCE_COLUMNS = list(RESERVED_FIELD_KEYS)
SOURCE_LABELS_ZH = {"store_code": "门店编号", "store_name": "门店名称", "source_file": "来源文件",
                    "source_sheet": "工作表", "source_row": "行号"}
SOURCE_LABELS_EN = {"store_code": "Store code", "store_name": "Store", "source_file": "Source file",
                    "source_sheet": "Sheet", "source_row": "Row"}
KEY_SEPARATOR = " / "


def empty_records(register: Register) -> pd.DataFrame:
    columns = {c: pd.Series(dtype="int64" if c == "source_row" else "string") for c in SOURCE_COLUMNS}
    return pd.DataFrame(columns | {f.key: pd.Series(dtype=object) for f in register.fields})


def key_text(records: pd.DataFrame, register: Register, fields: tuple[str, ...] | None = None) -> pd.Series:
    """The record key as staff write it ("2610007", or "2026-10-03 / 张三 / 电话" for a composite key)."""
    fields = fields or register.key
    if not fields:
        return pd.Series("", index=records.index, dtype="string")
    parts = [show_values(records[k], register.field(k)).astype("string").str.strip() for k in fields]
    text = parts[0]
    for part in parts[1:]:
        text = text + KEY_SEPARATOR + part
    return text


def key_complete(records: pd.DataFrame, register: Register) -> pd.Series:
    """True where every key field is filled in, so the record can be matched across files."""
    mask = pd.Series(bool(register.key), index=records.index)
    for k in register.key:
        mask &= present(records[k])
    return mask
