"""Masking the fields a definition marks ``sensitive`` before a workbook leaves the company.

A store manager's mailbox outside the company domain (a franchisee's QQ mail) must not receive customers'
phone numbers, ID numbers or home addresses in full. The masked forms keep what staff need to tell records
apart: a mobile keeps its first 3 and last 4 digits (138****8000), a landline its area code and last 4
(0755-****5678), an ID number its first 3 and last 4
characters, an address everything up to its district (深圳市南山区****), an email address its first
letter and domain. Other sensitive text is treated as an address; without a district in it, it is
hidden whole (****). A sensitive field of another type (a date, a number) is left empty.

Masking works on the consolidated data, before any workbook or email body is made from it, so that the
value cannot survive in a sheet, a finding's message or a rejected row's reason.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from .consolidate import Consolidation
from .definitions import Field, Register
from .overdue import OverdueLists

# Province / city / district, each optional, but at least one must match for anything to be kept.
_ADDRESS_HEAD = (r"^((?:[^省市区县旗]{1,7}?(?:省|自治区|特别行政区))?(?:[^省市区县旗]{1,7}?(?:市|自治州|州|盟|地区))?"
                 r"(?:[^省市区县旗]{1,7}?(?:区|县|旗|市))?)")


def _keep_ends(values: pd.Series, head: int, tail: int, hide: str) -> pd.Series:
    """Characters matching ``hide`` between the first ``head`` and the last ``tail`` become '*'; values too
    short to keep both ends are hidden whole."""
    length = values.str.len()
    middle = values.str.slice(head, -tail if tail else None).str.replace(hide, "*", regex=True)
    kept = values.str.slice(0, head) + middle + (values.str.slice(-tail) if tail else "")
    whole = values.str.replace(hide, "*", regex=True)
    return kept.where(length >= head + tail + 3, whole)


def _phone(values: pd.Series) -> pd.Series:
    """A mobile keeps its first 3 and last 4 digits; a landline its area code and last 4 digits."""
    area = values.str.extract(r"^(.*-)", expand=False)
    local = values.str.extract(r"([^-]*)$", expand=False)
    return (area + _keep_ends(local, 0, 4, r"\d")).fillna(_keep_ends(values, 3, 4, r"\d"))


def _address(values: pd.Series) -> pd.Series:
    head = values.str.extract(_ADDRESS_HEAD, expand=False).fillna("")
    return head.where(head.str.len() == values.str.len(), head + "****")


def _email(values: pd.Series) -> pd.Series:
    parts = values.str.extract(r"^(.)[^@]*(@.*)$")
    return (parts[0] + "***" + parts[1]).fillna(values.str.slice(0, 1) + "***")


def mask_series(values: pd.Series, field: Field) -> pd.Series:
    """One column's values masked by the field's type (empty cells stay empty)."""
    text = values.astype("string")
    if field.type == "phone":
        masked = _phone(text)
    elif field.type == "id_number":
        masked = _keep_ends(text, 3, 4, r"[0-9A-Za-z]")
    elif field.type == "email":
        masked = _email(text)
    elif field.type == "text":
        masked = _address(text)
    else:  # a sensitive date, number or choice: left empty, so the column keeps its type
        return values.where(values.isna())
    return masked.where(text.notna() & (text != ""), text).astype(values.dtype)


def mask_records(records: pd.DataFrame, register: Register) -> pd.DataFrame:
    """A register's records with its sensitive fields masked (a copy)."""
    out = records.copy()
    for field in register.fields:
        if field.sensitive and field.key in out:
            out[field.key] = mask_series(out[field.key], field)
    return out


def _value_pairs(findings: pd.DataFrame, result: Consolidation) -> tuple[pd.Series, pd.Series]:
    """Each finding's value and its masked form, where the finding is about a sensitive field."""
    where = findings[["file", "sheet", "field", "value"]].reset_index().merge(
        result.sheet_registers(), on=["file", "sheet"], how="inner")
    raw, masked = [], []
    for reg_id, register in result.registers.items():
        for field in register.fields:
            if not field.sensitive:
                continue
            hit = where[(where["register"] == reg_id) & (where["field"] == field.key) & (where["value"] != "")]
            raw.append(hit.set_index("index")["value"])
            masked.append(mask_series(hit.set_index("index")["value"], field))
    if not raw:
        return pd.Series(dtype="string"), pd.Series(dtype="string")
    return pd.concat(raw).astype("string"), pd.concat(masked).astype("string")


def _replace_all(texts: pd.Series, raw: pd.Series, masked: pd.Series) -> pd.Series:
    for old, new in dict(zip(raw, masked, strict=True)).items():
        texts = texts.str.replace(old, new, regex=False)
    return texts


def mask_consolidation(result: Consolidation) -> Consolidation:
    """The whole consolidation with sensitive values masked: in the records, in the findings (value and
    messages, which quote the value) and in the rejected rows' reasons."""
    records = {reg_id: mask_records(frame, result.registers[reg_id]) for reg_id, frame in result.records.items()}
    findings = result.findings.reset_index(drop=True)
    raw, masked = _value_pairs(findings, result)
    findings.loc[raw.index, "value"] = masked.to_numpy()
    rejected = result.rejected.copy()
    for frame, columns in ((findings, ("message_zh", "message_en")), (rejected, ("reason_zh", "reason_en"))):
        for column in columns:
            frame[column] = _replace_all(frame[column], raw, masked)
    return replace(result, records=records, findings=findings, rejected=rejected)


def mask_lists(lists: OverdueLists, registers: dict[str, Register]) -> OverdueLists:
    """Overdue, due-soon and care lists with the customer column masked where that field is sensitive."""
    def masked(frame: pd.DataFrame) -> pd.DataFrame:
        out = frame.copy()
        for reg_id, register in registers.items():
            field = register.field(register.customer) if register.customer else None
            rows = out["register"] == reg_id
            if field is not None and field.sensitive and rows.any():
                out.loc[rows, "customer"] = mask_series(out.loc[rows, "customer"], field)
        return out

    return replace(lists, items=masked(lists.items), due_soon=masked(lists.due_soon), care=masked(lists.care))
