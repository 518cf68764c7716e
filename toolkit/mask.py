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

import numpy as np
import pandas as pd

from .consolidate import Consolidation
from .definitions import Field, Register
from .overdue import OverdueLists, phone_field

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


def _mask_own_values(texts: pd.Series, places: pd.Series, pairs: pd.DataFrame) -> pd.Series:
    """Each text with the sensitive values of its own row (``places``: file, sheet, row) replaced by their
    masked forms, longest first. Never a replacement of one row's value across other rows' texts: a
    value can be part of another (1380013800 in 13800138000), and the leftover would be a whole number."""
    if pairs.empty:
        return texts
    own = pairs.assign(_len=pairs["raw"].str.len()).sort_values("_len", ascending=False, kind="stable")
    by_place = own.groupby("place", sort=False)[["raw", "masked"]].apply(lambda g: list(zip(g["raw"], g["masked"],
                                                                                           strict=True)))
    out = texts.astype(object).copy()
    hit = places.isin(by_place.index).to_numpy()
    for i in np.flatnonzero(hit):
        text = str(out.iat[i])
        for old, new in by_place[places.iat[i]]:
            text = text.replace(old, new)
        out.iat[i] = text
    if isinstance(texts.dtype, pd.CategoricalDtype):  # masked texts are new values: not among its categories
        return out.astype("str")
    return out.astype(texts.dtype)


def _record_pairs(result: Consolidation, places: set[str]) -> pd.DataFrame:
    """The sensitive values of the records that have findings, as read (canonical: 010-12345678), with
    their masked forms: a message may quote the value as read besides the value as typed."""
    frames = []
    for reg_id, register in result.registers.items():
        records = result.records[reg_id]
        if records.empty:
            continue
        where = _places(records, "source_file", "source_sheet", "source_row")
        mine = where.isin(places)
        for field in register.fields:
            if field.sensitive and field.key in records and mine.any():
                values = records.loc[mine, field.key].astype("string")
                keep = values.notna() & (values != "")
                frames.append(pd.DataFrame({"place": where[mine][keep].to_numpy(), "raw": values[keep].to_numpy(),
                                            "masked": mask_series(values[keep], field).to_numpy()}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["place", "raw", "masked"])


def _places(frame: pd.DataFrame, file: str, sheet: str, row: str) -> pd.Series:
    return frame[file].astype(str) + "\x00" + frame[sheet].astype(str) + "\x00" + frame[row].astype(str)


def mask_consolidation(result: Consolidation) -> Consolidation:
    """The whole consolidation with sensitive values masked by their field's type: in the records, in the
    findings (value and messages, which quote the value) and in the rejected rows' reasons (which are the
    row's findings' messages)."""
    records = {reg_id: mask_records(frame, result.registers[reg_id]) for reg_id, frame in result.records.items()}
    findings = result.findings.reset_index(drop=True)
    raw, masked = _value_pairs(findings, result)
    places = _places(findings, "file", "sheet", "row")
    pairs = pd.DataFrame({"place": places.loc[raw.index].to_numpy(), "raw": raw.to_numpy(), "masked": masked.to_numpy()})
    pairs = pd.concat([pairs, _record_pairs(result, set(places))], ignore_index=True)
    findings.loc[raw.index, "value"] = masked.to_numpy()
    rejected = result.rejected.copy()
    for column in ("message_zh", "message_en"):
        findings[column] = _mask_own_values(findings[column], places, pairs)
    rejected_places = _places(rejected, "source_file", "source_sheet", "source_row")
    for column in ("reason_zh", "reason_en"):
        rejected[column] = _mask_own_values(rejected[column], rejected_places, pairs)
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
            phone = register.field(phone_field(register)) if "phone" in out and phone_field(register) else None
            if phone is not None and phone.sensitive and rows.any():
                out.loc[rows, "phone"] = mask_series(out.loc[rows, "phone"], phone)
        return out

    return replace(lists, items=masked(lists.items), due_soon=masked(lists.due_soon), care=masked(lists.care),
                   paused=masked(lists.paused))
