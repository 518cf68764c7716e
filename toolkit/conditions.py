"""Conditions of the definitions (``{field, in | not_in | present | gt}``, ``{any_present: [...]}``)
evaluated on typed records.

The overdue stage and the statistics both ask "which records are open / done / in scope"; they
share this one reading of a condition so that a definition means the same thing everywhere.
"""

from __future__ import annotations

from typing import Any

import pandas as pd


def present(values: pd.Series) -> pd.Series:
    """True where a typed value is filled in (not NA, not blank text)."""
    mask = values.notna()
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        mask &= values.astype("string").str.strip().fillna("").ne("")
    return mask.astype(bool)


def condition_mask(data: pd.DataFrame, cond: dict[str, Any] | None) -> pd.Series:
    """Where ``cond`` holds for each record; everywhere when there is no condition."""
    if cond is None:
        return pd.Series(True, index=data.index)
    if "any_present" in cond:
        filled = pd.Series(False, index=data.index)
        for name in cond["any_present"]:
            filled |= present(data[name])
        return filled
    values = data[cond["field"]]
    if "in" in cond:
        return values.astype("string").isin([str(v) for v in cond["in"]]).fillna(False).astype(bool)
    if "not_in" in cond:
        return (~values.astype("string").isin([str(v) for v in cond["not_in"]]).fillna(False)).astype(bool)
    if "gt" in cond:
        return values.astype("Float64").gt(cond["gt"]).fillna(False).astype(bool)
    filled = present(values)
    return filled if cond.get("present", True) else ~filled


def first_present(data: pd.DataFrame, fields: tuple[str, ...] | list[str]) -> pd.Series:
    """For each record, the value of the first of ``fields`` that is filled in."""
    result = data[fields[0]].copy()
    for name in fields[1:]:
        result = result.where(present(result), data[name])
    return result
