"""Consolidated records in forms other systems load as they are: CSV, Parquet, JSON Lines, and a
Frictionless ``datapackage.json`` whose Table Schemas come from the register definitions.

Columns are the English field keys after the source columns (store, file, sheet, row); values keep
their real types (dates as dates, amounts as numbers, times of day as times). Each file is written
atomically, so a crash never leaves half an export.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .definitions import Field, Register
from .files import atomic_path
from .records import SOURCE_COLUMNS, SOURCE_LABELS_EN, SOURCE_LABELS_ZH

FORMATS = ("csv", "parquet", "jsonl")
ENCODINGS = {"utf-8-sig": "utf-8", "utf-8": "utf-8", "gb18030": "gb18030"}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what spreadsheet programs would run as a formula
TABLE_TYPES = {"text": "string", "choice": "string", "phone": "string", "id_number": "string", "email": "string",
               "date": "date", "datetime": "datetime", "time": "time", "integer": "integer", "decimal": "number"}


def export_frame(records: pd.DataFrame, register: Register) -> pd.DataFrame:
    """The records as exported: source columns, then every field; dates as dates, times of day as times."""
    out = pd.DataFrame({c: records[c] for c in SOURCE_COLUMNS})
    for f in register.fields:
        values = records[f.key] if f.key in records else pd.Series(pd.NA, index=records.index)
        if f.type == "date":
            values = pd.to_datetime(values).dt.normalize()
        elif f.type == "datetime":
            values = pd.to_datetime(values)
        elif f.type == "time":
            minutes = pd.to_numeric(values).astype("Float64")
            values = pd.to_timedelta(minutes.astype("float64"), unit="min")
        elif f.type in ("integer",):
            values = pd.to_numeric(values).astype("Int64")
        elif f.type == "decimal":
            values = pd.to_numeric(values).astype("Float64")
        else:
            values = values.astype("string")
        out[f.key] = values
    return out.reset_index(drop=True)


def clock(times: pd.Series) -> pd.Series:
    """Times of day (durations since midnight) as date-times on 1970-01-01, to format or take ``.dt.time`` from."""
    return pd.Timestamp(0) + times.dt.round("s")


def _neutralised(text: pd.Series) -> pd.Series:
    """Text cells that a spreadsheet would run as a formula get a leading apostrophe (OWASP's advice)."""
    risky = text.str.startswith(FORMULA_STARTS).fillna(False)
    return text.where(~risky, "'" + text)


def _as_text_table(frame: pd.DataFrame, register: Register, neutralise: bool) -> pd.DataFrame:
    out = frame.copy()
    types = {f.key: f.type for f in register.fields}
    for column in out.columns:
        kind = types.get(column)
        values = out[column]
        if kind == "date":
            out[column] = values.dt.strftime("%Y-%m-%d").astype("string")
        elif kind == "datetime":
            out[column] = values.dt.strftime("%Y-%m-%dT%H:%M:%S").astype("string")
        elif kind == "time":
            out[column] = clock(values).dt.strftime("%H:%M:%S").astype("string")
        elif neutralise and pd.api.types.is_string_dtype(values):
            out[column] = _neutralised(values.astype("string"))
    return out


def write_csv(path: Path, frame: pd.DataFrame, register: Register, encoding: str = "utf-8-sig") -> Path:
    """CSV that Excel opens (UTF-8 with BOM) or, with gb18030, that legacy Chinese systems read."""
    if encoding not in ENCODINGS:
        raise ValueError(f"encoding {encoding!r}: use one of {', '.join(ENCODINGS)}")
    text = _as_text_table(frame, register, neutralise=True)
    with atomic_path(path) as tmp:
        text.to_csv(tmp, index=False, encoding=encoding, lineterminator="\r\n", float_format="%.15g")
    return path


def _arrow_table(frame: pd.DataFrame, register: Register) -> pa.Table:
    types = {f.key: f.type for f in register.fields}
    arrays, names = [], []
    for column in frame.columns:
        values = frame[column]
        kind = types.get(column)
        if kind == "date":
            array = pa.array(values.dt.date.where(values.notna(), None), type=pa.date32())
        elif kind == "datetime":
            array = pa.array(values, type=pa.timestamp("s"), from_pandas=True)
        elif kind == "time":
            seconds = values.dt.total_seconds().round()
            array = pa.array(seconds.astype("Int64"), type=pa.int32(), from_pandas=True).cast(pa.time32("s"))
        elif column == "source_row" or kind == "integer":
            array = pa.array(values.astype("Int64"), type=pa.int64(), from_pandas=True)
        elif kind == "decimal":
            array = pa.array(values.astype("Float64"), type=pa.float64(), from_pandas=True)
        else:
            array = pa.array(values.astype("string"), type=pa.string(), from_pandas=True)
        arrays.append(array)
        names.append(column)
    return pa.Table.from_arrays(arrays, names=names)


def write_parquet(path: Path, frame: pd.DataFrame, register: Register) -> Path:
    with atomic_path(path) as tmp:
        pq.write_table(_arrow_table(frame, register), tmp)
    return path


def write_jsonl(path: Path, frame: pd.DataFrame, register: Register) -> Path:
    """One JSON object per record; dates and times as ISO text, numbers as numbers, empty cells as null."""
    table = _as_text_table(frame, register, neutralise=False)
    with atomic_path(path) as tmp:
        if table.empty:  # pandas would write one empty line, which is no JSON
            tmp.write_bytes(b"")
        else:
            table.to_json(tmp, orient="records", lines=True, force_ascii=False)
    return path


def table_schema(register: Register) -> dict:
    """The register as a Frictionless Table Schema: types, required fields, options, primary key."""
    fields = [{"name": c, "type": "integer" if c == "source_row" else "string",
               "title": SOURCE_LABELS_ZH[c], "description": SOURCE_LABELS_EN[c]} for c in SOURCE_COLUMNS]
    fields += [_schema_field(f) for f in register.fields]
    return {"fields": fields, "primaryKey": ["store_code", *register.key], "missingValues": [""]}


def _schema_field(f: Field) -> dict:
    out: dict = {"name": f.key, "type": TABLE_TYPES[f.type], "title": f.label_zh, "description": f.label_en}
    if f.type == "email":
        out["format"] = "email"
    constraints: dict = {}
    if f.required:
        constraints["required"] = True
    if f.type == "choice":
        constraints["enum"] = list(f.option_values)
    if f.min is not None:
        constraints["minimum"] = f.min
    if f.max is not None:
        constraints["maximum"] = f.max
    if constraints:
        out["constraints"] = constraints
    return out


def export_register(out_dir: Path, records: pd.DataFrame, register: Register, formats: Iterable[str],
                    encoding: str = "utf-8-sig") -> list[Path]:
    frame = export_frame(records, register)
    written = []
    for fmt in formats:
        path = out_dir / f"{register.id}.{fmt}"
        if fmt == "csv":
            written.append(write_csv(path, frame, register, encoding))
        elif fmt == "parquet":
            written.append(write_parquet(path, frame, register))
        elif fmt == "jsonl":
            written.append(write_jsonl(path, frame, register))
        else:
            raise ValueError(f"format {fmt!r}: use one of {', '.join(FORMATS)}")
    return written


def write_datapackage(out_dir: Path, registers: dict[str, Register], written: dict[str, list[Path]],
                      encoding: str = "utf-8-sig", name: str = "taizhang-export") -> Path:
    """datapackage.json describing every exported file, so other tools can validate and load them."""
    resources = []
    for reg_id, paths in written.items():
        register = registers[reg_id]
        for path in paths:
            fmt = path.suffix.lstrip(".")
            resource = {"name": f"{reg_id}-{fmt}", "path": path.name, "profile": "tabular-data-resource",
                        "title": register.name_zh, "description": register.name_en, "format": fmt,
                        "schema": table_schema(register)}
            if fmt == "csv":
                resource["encoding"] = ENCODINGS[encoding]
                resource["dialect"] = {"delimiter": ",", "lineTerminator": "\r\n", "header": True}
            elif fmt == "parquet":  # described, though not every Frictionless reader opens Parquet
                resource["profile"] = "data-resource"
            resources.append(resource)
    tabular = all(r["profile"] == "tabular-data-resource" for r in resources)
    package = {"name": name, "profile": "tabular-data-package" if tabular else "data-package",
               "resources": resources}
    path = out_dir / "datapackage.json"
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(package, ensure_ascii=False, indent=2), encoding="utf-8")
    return path
