"""Checking register sheets against their definitions, column by column.

Every check is a boolean mask over a sheet's rows, computed on whole columns; a mask becomes
findings in one step. The finding codes reuse the Frictionless vocabulary (type-error,
constraint-error, missing-cell, unique-error, row-constraint, missing-label, extra-label,
duplicate-label) with one of our own, ``assumed-value``, for values read by an assumption.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import pandas as pd

from .coerce import LOCAL_LANDLINE, re2, show_values
from .conditions import condition_mask
from .definitions import KEY_DATE_FORMATS, Rule
from .describe import condition_text, requirement_text
from .limits import EXCEL_MAX_TEXT
from .reader import SheetRead, column_letter
from .survey import UNCALCULATED

FINDING_COLUMNS = ["file", "sheet", "row", "column", "field", "value", "code", "severity", "message_zh", "message_en"]

TYPE_MESSAGES = {
    "text": ("无法识别", "cannot be read"),
    "integer": ("不是整数", "is not a whole number"),
    "decimal": ("不是数字", "is not a number"),
    "date": ("无法识别为日期（请填写如 2026-03-05）", "is not a date (write e.g. 2026-03-05)"),
    "datetime": ("无法识别为日期时间（请填写如 2026-03-05 09:30）", "is not a date and time (e.g. 2026-03-05 09:30)"),
    "time": ("无法识别为时间（请填写如 08:30）", "is not a time of day (e.g. 08:30)"),
    "phone": ("不是有效的手机号或座机号（座机须带区号）", "is not a valid mobile or landline number (landlines need the area code)"),
    "email": ("不是有效的电子邮箱", "is not a valid email address"),
    "id_number": ("不是有效的18位居民身份证号（格式、出生日期或校验位不符）",
                  "is not a valid 18-digit resident ID (format, birth date or check digit is wrong)"),
}


LISTED_PER_CHECK = 1000  # findings listed one by one per check and sheet; the rest are counted in one line
CODE_WORDS = {"missing-cell": ("必填项为空", "required but empty"), "type-error": ("无法按类型读取", "not readable as its type"),
              "constraint-error": ("不符合取值要求", "breaks a constraint"), "unique-error": ("编号重复", "repeats a key"),
              "row-constraint": ("不符合规则", "breaks a rule"), "formula-error": ("公式错误", "a formula error"),
              "assumed-value": ("按推断读取，请核对", "read by an assumption"), "cut-text": ("过长，已截断", "too long, cut")}
YEARS = (1900, 2100)  # dates outside these years are typing mistakes (2620 for 2026), see coerce._parse_moment


def _year_out_of_range(text: pd.Series) -> pd.Series:
    year = pd.to_numeric(text.str.extract(r"^\s*(\d{4})", expand=False), errors="coerce")
    return ((year < YEARS[0]) | (year > YEARS[1])).fillna(False).astype(bool)


def empty_findings() -> pd.DataFrame:
    """No findings, in the findings' columns: a copy of one frame built once (building it costs 3 ms)."""
    return _no_findings().copy()


@cache
def _no_findings() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="int64" if c == "row" else object) for c in FINDING_COLUMNS})


class _Collector:
    """Gathers the findings of one sheet as column-wise frames."""

    def __init__(self, sheet: SheetRead) -> None:
        self.sheet = sheet
        self.reg = sheet.register
        self.frames: list[pd.DataFrame] = []
        self.text = sheet.text
        origin = sheet.origin
        # a sheet put together from several stores' sheets of the same layout says per row where it came from
        self.rows = origin["row"] if origin is not None else pd.Series(sheet.data.index, index=sheet.data.index)
        self.files = origin["file"] if origin is not None else None
        self.sheets = origin["sheet"] if origin is not None else None
        self.part = origin["part"] if origin is not None else None
        self.omitted: list[pd.DataFrame] = []  # error rows past the listing limit: part, row, reason (a number)
        self.reasons: dict[tuple[str, str], int] = {}  # those rows' reasons, each numbered once

    def add(self, mask: pd.Series, field_key: str, code: str, severity: str,
            zh: pd.Series | str, en: pd.Series | str, value: pd.Series | None = None) -> None:
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return
        f = self.reg.field(field_key)
        if int(mask.sum()) > LISTED_PER_CHECK:
            mask = self._list_first(mask, f, code, severity)
        hit = mask.index[mask.to_numpy()]
        rows = self.rows[mask]
        # messages may be given for the flagged rows only (they are built after the check, to save work)
        values = (value if value is not None else self.text[field_key]).reindex(hit).astype(str)
        zh = zh.reindex(hit) if isinstance(zh, pd.Series) else zh
        en = en.reindex(hit) if isinstance(en, pd.Series) else en
        prefix_zh = "第" + rows.astype(str) + f"行「{f.label_zh}」: "
        prefix_en = "Row " + rows.astype(str) + f", {f.label_en}: "
        self.frames.append(pd.DataFrame({
            "file": self.files[mask] if self.files is not None else self.sheet.file,
            "sheet": self.sheets[mask] if self.sheets is not None else self.sheet.sheet, "row": rows.astype("int64"),
            "column": self.sheet.column_of(field_key), "field": field_key, "value": values,
            "code": code, "severity": severity, "message_zh": prefix_zh + zh, "message_en": prefix_en + en,
        }))

    def _list_first(self, mask: pd.Series, f, code: str, severity: str) -> pd.Series:
        """A check that fails on more than LISTED_PER_CHECK rows of one sheet lists its first rows one by one
        and the rest in one line (a sheet of a million rows with one value would otherwise make millions of
        messages). Every one of those rows still counts: rejected, with a shorter reason."""
        part = self.part if self.part is not None else pd.Series(0, index=mask.index)
        rank = mask.astype("int64").groupby(part.to_numpy()).cumsum()
        listed = mask & (rank <= LISTED_PER_CHECK)
        rest = mask & ~listed
        what_zh, what_en = CODE_WORDS.get(code, (code, code))
        if severity == "error":
            reason = self.reasons.setdefault((f"「{f.label_zh}」: {what_zh}", f"{f.label_en}: {what_en}"), len(self.reasons))
            self.omitted.append(pd.DataFrame({"part": part[rest].to_numpy(dtype="int64"),
                                              "row": self.rows[rest].to_numpy(dtype="int64"), "reason": reason}))
        rows = self.rows[rest]
        groups = pd.DataFrame({"part": part[rest].to_numpy(), "row": rows.to_numpy(),
                               "file": (self.files[rest] if self.files is not None else pd.Series(
                                   self.sheet.file, index=rows.index)).to_numpy(),
                               "sheet": (self.sheets[rest] if self.sheets is not None else pd.Series(
                                   self.sheet.sheet, index=rows.index)).to_numpy()})
        summary = groups.groupby("part", sort=False).agg(file=("file", "first"), sheet=("sheet", "first"),
                                                         first=("row", "min"), last=("row", "max"),
                                                         count=("row", "size"))
        for line in summary.itertuples():
            self.frames.append(pd.DataFrame([{
                "file": line.file, "sheet": line.sheet, "row": int(line.first), "column": self.sheet.column_of(f.key),
                "field": f.key, "value": "", "code": code, "severity": severity,
                "message_zh": f"第{line.first}–{line.last}行「{f.label_zh}」: 另有 {line.count:,} 行同样问题（{what_zh}），"
                              "不再逐行列出" + ("，均已拒收" if severity == "error" else ""),
                "message_en": f"Rows {line.first}–{line.last}, {f.label_en}: {line.count:,} more rows with the same "
                              f"problem ({what_en}), not listed one by one" + ("; all rejected" if severity == "error"
                                                                              else ""),
            }]))
        return listed

    def add_sheet_level(self, column: str, field_key: str, value: str, code: str, severity: str,
                        zh: str, en: str) -> None:
        row = self.sheet.header_row
        self.frames.append(pd.DataFrame([{
            "file": self.sheet.file, "sheet": self.sheet.sheet, "row": row, "column": column, "field": field_key,
            "value": value, "code": code, "severity": severity,
            "message_zh": f"第{row}行（表头）: {zh}", "message_en": f"Row {row} (header): {en}",
        }]))

    def result(self) -> pd.DataFrame:
        if not self.frames:
            return empty_findings()
        return pd.concat(self.frames, ignore_index=True)[FINDING_COLUMNS]


def _check_headers(c: _Collector) -> None:
    sheet, reg = c.sheet, c.reg
    for key in sheet.missing_fields:
        f = reg.field(key)
        if f.required:
            c.add_sheet_level("", key, "", "missing-label", "error",
                              f"缺少必填列「{f.label_zh}」", f"the required column {f.label_en} ({f.label_zh}) is missing")
    optional_missing = [reg.field(k) for k in sheet.missing_fields if not reg.field(k).required]
    if optional_missing:
        c.add_sheet_level("", "", "", "missing-label", "warning",
                          "缺少列: " + "、".join(f"「{f.label_zh}」" for f in optional_missing),
                          "missing columns: " + ", ".join(f.label_en for f in optional_missing))
    for text, col in sheet.extra_columns.items():
        c.add_sheet_level(column_letter(col), "", text, "extra-label", "warning",
                          f"「{text}」不是{reg.name_zh}的列，数据已保留但不校验",
                          f"{text!r} is not a column of {reg.name_en}; its values are kept but not checked")
    for text, col in sheet.duplicate_columns.items():
        c.add_sheet_level(column_letter(col), "", text, "duplicate-label", "warning",
                          f"「{text}」与另一列是同一字段，只读取第一列",
                          f"{text!r} is the same field as another column; only the first one is read")


def _scientific(text: pd.Series) -> pd.Series:
    """1.38001E+10: a phone Excel showed in scientific notation, as CSV exports and pasted values keep it."""
    return text.str.fullmatch(re2(r"\s*\d(?:\.\d+)?[Ee]\+?\d+\s*")).fillna(False).astype(bool)


def _check_fields(c: _Collector) -> None:
    sheet = c.sheet
    for f in c.reg.fields:
        if f.key not in sheet.columns:
            continue
        data, text = sheet.data[f.key], c.text[f.key]
        present = text != ""
        errors = sheet.formula_errors
        failed = (errors[f.key] != "") if errors is not None and f.key in errors else present & False
        if f.required:
            c.add(~present & ~failed, f.key, "missing-cell", "error", "必填项为空", "required but empty")
        if failed.any():
            shown = errors[f.key][failed].astype(str)
            unsaved = failed & (errors[f.key] == UNCALCULATED)
            wrong = failed & ~unsaved
            c.add(wrong, f.key, "formula-error", "error" if f.required else "warning",
                  "公式错误 " + shown[wrong[failed]] + ("，此必填项无法读取" if f.required else "，按空白读取"),
                  "formula error " + shown[wrong[failed]] + (": this required value cannot be read" if f.required
                                                             else "; read as empty"), value=shown[wrong[failed]])
            c.add(unsaved, f.key, "formula-error", "error" if f.required else "warning",
                  "公式没有保存计算结果（文件由程序写出、未经 Excel 保存）" + ("，此必填项无法读取" if f.required else "，按空白读取")
                  + "：请用 Excel 或 WPS 打开、保存后重新提交",
                  "the formula was saved without its result (the file was written by a program, never saved by "
                  "Excel)" + (": this required value cannot be read" if f.required else "; read as empty")
                  + "; open and save it in Excel or WPS and resubmit", value=pd.Series("", index=shown.index))
        bad = sheet.bad[f.key]
        if bad.any():
            t = text[bad]
            if f.type == "choice":
                options = "、".join(f.option_values)
                c.add(bad, f.key, "constraint-error", "error", t + f" 不在可选项中（可选: {options}）",
                      t + f" is not one of the options ({', '.join(f.option_values)})")
            else:
                zh, en = TYPE_MESSAGES[f.type]
                far = _year_out_of_range(t) if f.type in ("date", "datetime") else pd.Series(False, index=t.index)
                lost = _scientific(t) if f.type == "phone" else pd.Series(False, index=t.index)
                c.add(bad & ~(far | lost).reindex(bad.index, fill_value=False), f.key, "type-error", "error",
                      t + " " + zh, t + " " + en)
                c.add(lost.reindex(bad.index, fill_value=False), f.key, "type-error", "error",
                      t + " 是科学计数法，号码的后几位已丢失（Excel 把长数字存成了数字）：请把该列设为文本后重新输入号码",
                      t + " is in scientific notation, the number's last digits are lost (Excel stored the long "
                      "number as a number): format the column as text and type the number again")
                c.add(far.reindex(bad.index, fill_value=False), f.key, "constraint-error", "error",
                      t + f" 日期超出范围（{YEARS[0]}–{YEARS[1]}年），请检查年份",
                      t + f" is out of range (years {YEARS[0]}–{YEARS[1]}); check the year")
        guessed = sheet.guessed[f.key]
        if guessed.any():
            t, shown = text[guessed], show_values(data[guessed], f)
            if f.type in ("date", "datetime"):
                c.add(guessed, f.key, "assumed-value", "warning", t + " 未写年份，已按 " + shown + " 读取，请核对",
                      t + " has no year; read as " + shown + ", please check")
            else:
                coded = guessed & (f.type == "phone") & data.astype("str").str.contains("-", regex=False).fillna(False) \
                    & text.str.replace(r"[\s\-]", "", regex=True).str.fullmatch(LOCAL_LANDLINE).fillna(False)
                c.add(coded, f.key, "assumed-value", "warning",
                      t + " 座机未写区号，已按本店区号读作 " + shown + "，请核对",
                      t + " is a landline without its area code; read with the store's as " + shown + ", please check")
                c.add(guessed & ~coded, f.key, "assumed-value", "warning",
                      t + " 已按 " + shown + " 读取（Excel 把号码存成数字时会去掉开头的0），请核对",
                      t + " read as " + shown + " (Excel drops the leading 0 of numbers), please check")
        if f.type == "phone":
            local = ~sheet.guessed[f.key] & data.astype("str").str.fullmatch(LOCAL_LANDLINE).fillna(False).astype(bool)
            c.add(local, f.key, "constraint-error", "warning",
                  text[local] + " 座机缺区号（请写成 0759-2345678 的样子，或在 taizhang.toml 设 area_code）",
                  text[local] + " is a landline without its area code (write 0759-2345678, or set area_code in "
                  "taizhang.toml)")
        if f.min is not None or f.max is not None:
            low = f.min if f.min is not None else float("-inf")
            high = f.max if f.max is not None else float("inf")
            out = data.notna() & ((data.astype("Float64") < low) | (data.astype("Float64") > high))
            rng = f"{'' if f.min is None else f.min}–{'' if f.max is None else f.max}"
            t = text[out.fillna(False).astype(bool)]
            c.add(out, f.key, "constraint-error", "error", t + f" 超出范围（{rng}）", t + f" is out of range ({rng})")
        too_long = text.str.len() > EXCEL_MAX_TEXT
        if too_long.any():
            c.add(too_long, f.key, "cut-text", "warning",
                  f"超过 Excel 单元格上限 {EXCEL_MAX_TEXT:,} 字，汇总工作簿中只显示前 {EXCEL_MAX_TEXT:,} 字（导出文件保留全文）",
                  f"longer than an Excel cell holds ({EXCEL_MAX_TEXT:,} characters): cut in the summary workbook, "
                  "whole in the exports", value=text[too_long].str.slice(0, 50) + "…")
        if f.max_length is not None:
            long = text.str.len() > f.max_length
            c.add(long, f.key, "constraint-error", "error", f"超过{f.max_length}个字", f"longer than {f.max_length} characters")
        if f.pattern is not None:
            wrong = (data.notna() & ~text.str.fullmatch(f.pattern)).fillna(False).astype(bool)
            shape_zh = f.pattern_zh or f"应符合 {f.pattern}"
            shape_en = f.pattern_en or f"must match {f.pattern}"
            c.add(wrong, f.key, "constraint-error", "error", text[wrong] + f" 格式不符: {shape_zh}",
                  text[wrong] + f" has the wrong form: {shape_en}")


def _check_unique(c: _Collector) -> None:
    key = list(c.reg.key)
    if not key or any(k not in c.sheet.columns for k in key):
        return
    data = c.sheet.data[key]
    scope = [c.part.astype("string")] if c.part is not None else []
    parts = scope + [c.text[k].str.casefold() if c.reg.field(k).type == "text" else show_values(data[k], c.reg.field(k))
             for k in key]
    complete = pd.concat([c.sheet.data[k].notna() for k in key], axis=1).all(axis=1)
    frame = pd.concat(parts, axis=1)[complete]
    if frame.empty:
        return
    frame.columns = ["_part"] * len(scope) + key
    dup = frame.duplicated(keep="first")
    if not dup.any():
        return
    first_row = pd.Series(frame.index, index=frame.index).groupby([frame[k] for k in frame.columns]).transform("first")
    mask = pd.Series(False, index=c.rows.index)
    mask[dup[dup].index] = True
    first = first_row[mask[mask].index].map(c.rows).astype("Int64").astype(str)
    if len(key) == 1:
        typed = c.text[key[0]][mask]
        c.add(mask, key[0], "unique-error", "error", typed + " 与第" + first + "行重复", typed + " repeats row " + first)
    else:
        names_zh = "、".join(c.reg.field(k).label_zh for k in key)
        names_en = ", ".join(c.reg.field(k).label_en for k in key)
        c.add(mask, key[0], "unique-error", "error", "与第" + first + f"行重复（{names_zh}相同）",
              "repeats row " + first + f" (same {names_en})")


def _rule_order(c: _Collector, rule: Rule) -> None:
    reg, data = c.reg, c.sheet.data
    prev = pd.Series(pd.NaT, index=data.index, dtype="datetime64[ns]")
    prev_label = pd.Series("", index=data.index, dtype=object)
    prev_label_en = pd.Series("", index=data.index, dtype=object)
    for key in rule.params["fields"]:
        if key not in c.sheet.columns:
            continue
        f = reg.field(key)
        cur = data[key]
        early = (cur.notna() & prev.notna() & (cur < prev)).fillna(False).astype(bool)
        if early.any():
            shown_prev, shown_cur = show_values(prev[early], f), show_values(cur[early], f)
            c.add(early, key, "row-constraint", rule.severity,
                  shown_cur + " 早于「" + prev_label[early] + "」" + shown_prev,
                  shown_cur + " is earlier than " + prev_label_en[early] + " " + shown_prev)
        later = cur.notna() & (prev.isna() | (cur > prev))
        prev = prev.where(~later, cur)
        prev_label = prev_label.where(~later, f.label_zh)
        prev_label_en = prev_label_en.where(~later, f.label_en)


def _rule_implies(c: _Collector, rule: Rule) -> None:
    p = rule.params
    if p["if"]["field"] not in c.sheet.columns:
        return
    failing = condition_mask(c.sheet.data, p["if"]) & ~condition_mask(c.sheet.data, p["then"])
    if not failing.any():
        return
    if_f = c.reg.field(p["if"]["field"])
    actual = show_values(c.sheet.data.loc[failing, if_f.key], if_f)
    if "present" in p["if"]:
        if_zh, if_en = condition_text(c.reg, p["if"])
    else:
        if_zh = pd.Series(f"「{if_f.label_zh}」为「", index=actual.index) + actual + "」"
        if_en = pd.Series(f"{if_f.label_en} is ", index=actual.index) + actual
    then_zh, then_en = requirement_text(c.reg, p["then"])
    zh = if_zh + "时，" + then_zh + (f"（{rule.message_zh}）" if rule.message_zh else "")
    en = "when " + if_en + ", " + then_en + (f" ({rule.message_en})" if rule.message_en else "")
    c.add(failing, p["then"]["field"], "row-constraint", rule.severity, zh, en)


def _check_done_dates(c: _Collector) -> None:
    """A deadline's ``done_date`` filled while its status still says open (解决日期 typed, 处理状态 left at
    处理中): the record counts as done on that date; the contradiction is a warning, so the store fixes it."""
    seen = set()
    for d in c.reg.deadlines:
        done = d.done or {}
        if not d.done_date or "in" not in done or "field" not in done:
            continue
        pair = (done["field"], d.done_date)
        if pair in seen or not all(k in c.sheet.columns for k in pair):
            continue
        seen.add(pair)
        status, on = c.sheet.data[done["field"]], c.sheet.data[d.done_date]
        filled = status.notna() & status.astype("string").str.strip().ne("").fillna(False)
        open_ = filled & ~status.astype("string").isin([str(v) for v in done["in"]]).fillna(False) & on.notna()
        if not open_.any():
            continue
        sf, df = c.reg.field(done["field"]), c.reg.field(d.done_date)
        shown = show_values(status[open_], sf)
        c.add(open_, done["field"], "row-constraint", "warning",
              f"「{sf.label_zh}」为「" + shown + f"」，但已填「{df.label_zh}」，按已于该日完成计；请更新{sf.label_zh}",
              f"{sf.label_en} is " + shown + f" but {df.label_en} is filled in: counted as done on that date; "
              f"update the {sf.label_en}")


def _gap_in_unit(later: pd.Series, earlier: pd.Series, unit: str) -> pd.Series:
    seconds = (later - earlier).dt.total_seconds()
    return seconds / {"minutes": 60, "hours": 3600, "days": 86400}[unit]


def _rule_max_gap(c: _Collector, rule: Rule) -> None:
    p, data = rule.params, c.sheet.data
    if p["from"] not in c.sheet.columns or p["to"] not in c.sheet.columns:
        return
    limit = p["limit"]
    gap = _gap_in_unit(data[p["to"]], data[p["from"]], limit.unit)
    too_long = (gap.notna() & (gap > limit.amount)).fillna(False).astype(bool)
    if not too_long.any():
        return
    data, gap = data[too_long], gap[too_long]
    f_from, f_to = c.reg.field(p["from"]), c.reg.field(p["to"])
    shown_gap = gap.round(1).astype(str).str.replace(r"\.0$", "", regex=True)
    unit_zh = {"minutes": "分钟", "hours": "小时", "days": "天"}[limit.unit]
    zh = (show_values(data[p["to"]], f_to) + f" 距「{f_from.label_zh}」" + show_values(data[p["from"]], f_from) + " 已 "
          + shown_gap + f" {unit_zh}，超过{limit.zh}" + (f"：{rule.message_zh}" if rule.message_zh else ""))
    en = (show_values(data[p["to"]], f_to) + " is " + shown_gap + f" {limit.unit} after {f_from.label_en} "
          + show_values(data[p["from"]], f_from) + f", more than {limit}" + (f": {rule.message_en}" if rule.message_en else ""))
    c.add(too_long, p["to"], "row-constraint", rule.severity, zh, en)


def _rule_ladder(c: _Collector, rule: Rule) -> None:
    p, data = rule.params, c.sheet.data
    levels = [s["level"] for s in p["steps"]]
    amount = data[p["amount"]].astype("Float64")
    needed = pd.Series(len(levels) - 1, index=data.index, dtype="Int64")
    for i in reversed(range(len(levels))):
        up_to = p["steps"][i].get("up_to")
        if up_to is not None:
            needed = needed.mask(amount <= up_to, i)
    rank = data[p["field"]].map({lv: i for i, lv in enumerate(levels)}).astype("Int64")
    too_low = (amount.notna() & rank.notna() & (rank < needed)).fillna(False).astype(bool)
    if not too_low.any():
        return
    needed_level = needed[too_low].map(dict(enumerate(levels))).astype(object)
    actual = show_values(data.loc[too_low, p["field"]])
    shown_amount = show_values(amount[too_low]).str.replace(r"\.0$", "", regex=True)
    f_amount = c.reg.field(p["amount"])
    c.add(too_low, p["field"], "row-constraint", rule.severity,
          f"{f_amount.label_zh} " + shown_amount + " 须由「" + needed_level + "」或以上核决，当前为「" + actual + "」",
          f"{f_amount.label_en} " + shown_amount + " needs approval by " + needed_level + " or above, not " + actual)


def _rule_key_matches_date(c: _Collector, rule: Rule) -> None:
    p, data = rule.params, c.sheet.data
    fmt = KEY_DATE_FORMATS[p["format"]]
    dates = data[p["date"]]
    days = dates.dropna().unique()  # a register's dates repeat: each is formatted once (strftime is per value)
    expected = dates.map(pd.Series(pd.DatetimeIndex(days).strftime(fmt), index=days, dtype=object))
    key = data[p["field"]].astype(object).where(data[p["field"]].notna(), "").astype(str)
    width = len(pd.Timestamp(2000, 1, 1).strftime(fmt))
    wrong = (expected.notna() & (key != "") & (key.str[:width] != expected)).fillna(False).astype(bool)
    if not wrong.any():
        return
    key, expected = key[wrong], expected[wrong]
    f_date = c.reg.field(p["date"])
    shown = show_values(data.loc[wrong, p["date"]], f_date)
    c.add(wrong, p["field"], "row-constraint", rule.severity,
          key + f" 应以「{f_date.label_zh}」的年月 " + expected.fillna("") + " 开头（" + shown + "）",
          key + f" should start with {p['format']} of {f_date.label_en}: " + expected.fillna("") + " (" + shown + ")")


def _rule_duration(c: _Collector, rule: Rule) -> None:
    p, data = rule.params, c.sheet.data
    tol = float(p.get("tolerance", 0))
    start, end = data[p["start"]].astype("Float64"), data[p["end"]].astype("Float64")
    hours = data[p["hours"]].astype("Float64")
    span = ((end - start) % 1440) / 60
    span = span.mask((span == 0) & (hours == 24), 24.0)
    wrong = (span.notna() & hours.notna() & ((span - hours).abs() > tol + 1e-9)).fillna(False).astype(bool)
    if not wrong.any():
        return
    data, span = data[wrong], span[wrong]
    f_start, f_end = c.reg.field(p["start"]), c.reg.field(p["end"])
    shown_span = span.round(2).astype(str).str.replace(r"\.0$", "", regex=True)
    times = show_values(data[p["start"]], f_start) + "–" + show_values(data[p["end"]], f_end)
    typed = c.text[p["hours"]][wrong]
    c.add(wrong, p["hours"], "row-constraint", rule.severity,
          typed + " 与 " + times + " 的 " + shown_span + f" 小时不符（允许±{tol:g}小时）",
          typed + " does not agree with " + times + " = " + shown_span + f" h (±{tol:g} h)")


RULE_CHECKS = {
    "order": _rule_order, "implies": _rule_implies, "max_gap": _rule_max_gap, "ladder": _rule_ladder,
    "key_matches_date": _rule_key_matches_date, "duration_matches": _rule_duration,
}


def validate_sheet(sheet: SheetRead) -> pd.DataFrame:
    """All findings of one register sheet, sorted by row and column."""
    return validate_sheet_rows(sheet)[0]


@dataclass
class OmittedRows:
    """Error rows a check counted instead of listing (see _Collector._list_first): the member sheet
    (``part``), Excel row and reason number of each, and the reasons (zh, en) by number."""

    rows: pd.DataFrame
    reasons: list[tuple[str, str]]


def validate_sheet_rows(sheet: SheetRead) -> tuple[pd.DataFrame, OmittedRows]:
    """The findings of one register sheet, and the error rows they do not list one by one: together, every
    row that has an error."""
    c = _Collector(sheet)
    _check_headers(c)
    _check_fields(c)
    _check_unique(c)
    for rule in sheet.register.rules:
        if all(k in sheet.columns for k in rule.fields()) or rule.kind == "order":
            RULE_CHECKS[rule.kind](c, rule)
    _check_done_dates(c)
    findings = c.result()
    omitted = OmittedRows(pd.concat(c.omitted, ignore_index=True) if c.omitted
                          else pd.DataFrame({k: pd.Series(dtype="int64") for k in ("part", "row", "reason")}),
                          list(c.reasons))
    if findings.empty:
        return findings, omitted
    findings["_width"] = findings["column"].str.len()
    findings = findings.sort_values(["row", "_width", "column"], kind="stable").drop(columns="_width")
    return findings.reset_index(drop=True), omitted


def validate_sheets(sheets: list[SheetRead]) -> pd.DataFrame:
    frames = [validate_sheet(s) for s in sheets]
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else empty_findings()



def note_findings(file: str, notes: list[tuple[str, str, str]]) -> pd.DataFrame:
    """What reading a workbook changed (cells far right of the data left out), as warnings on its sheets."""
    if not notes:
        return empty_findings()
    return pd.DataFrame([{"file": file, "sheet": sheet, "row": 0, "column": "", "field": "", "value": "",
                          "code": "ignored-cells", "severity": "warning", "message_zh": zh, "message_en": en}
                         for sheet, zh, en in notes])[FINDING_COLUMNS]
