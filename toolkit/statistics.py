"""Statistics of consolidated records, as the definitions declare them (``figures`` and ``summaries``).

A measure is computed for every group at once with pandas groupby; the totals line is the same
measure over all records of the table, so rates and averages in it are real rates and averages,
not sums of them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from .coerce import show_values
from .conditions import condition_mask
from .definitions import Measure, Register, Summary
from .overdue import due_moments, record_limits, sub_day, uniform_limits
from .workdays import calendar_for

TOTAL_ZH = "合计"
BLANK_ZH = "（未填）"


@dataclass
class Table:
    """A statistics table ready to be written: group columns first, then one column per figure."""

    id: str
    title_zh: str
    title_en: str
    frame: pd.DataFrame  # the last row is the totals line
    formats: dict[str, str]  # column -> integer | decimal | percent | text
    group_columns: int
    chart: str | None = None
    units: dict[str, str] = field(default_factory=dict)  # value column -> what its numbers count (one axis each)


def in_month_mask(records: pd.DataFrame, field: str, month: pd.Period) -> pd.Series:
    """True for the records whose ``field`` falls in ``month``."""
    values = pd.to_datetime(records[field], errors="coerce")
    return (values.dt.to_period("M") == month).fillna(False).astype(bool)


def in_month(records: pd.DataFrame, field: str, month: pd.Period | None) -> pd.DataFrame:
    if month is None or records.empty:
        return records
    return records[in_month_mask(records, field, month)]


def _group_values(records: pd.DataFrame, register: Register, by: str) -> pd.Series:
    if by == "store":
        return (records["store_code"].fillna("") + " " + records["store_name"].fillna("")).str.strip()
    if by.startswith("month:"):
        months = pd.to_datetime(records[by.split(":", 1)[1]], errors="coerce").dt.strftime("%Y-%m")
        return months.fillna(BLANK_ZH)
    text = show_values(records[by], register.field(by)).astype("string").str.strip()
    return text.mask(text.fillna("") == "", BLANK_ZH)


def _group_label(register: Register, by: str) -> str:
    if by == "store":
        return "门店"
    if by.startswith("month:"):
        return "月份"
    return register.field(by).label_zh


def _within(records: pd.DataFrame, register: Register, args: dict, as_of: dt.date | None = None
            ) -> tuple[pd.Series, pd.Series]:
    """(counted, on time). Counted: records whose end moment is there (by the as-of day), met on time or
    late, and records still open past their due moment at the as-of day: an open record that is already
    late is a miss, not left out (按时结案率 beside overdue complaints would read 100%). Records open and
    not yet due are not counted. Without an as-of day only records with both moments count."""
    start = pd.to_datetime(records[args["from"]], errors="coerce")
    end = pd.to_datetime(records[args["to"]], errors="coerce")
    deadline = next((d for d in register.deadlines if d.id == args["deadline"]), None) if "deadline" in args else None
    if deadline is not None:
        limits = record_limits(records, deadline)
    else:
        limits = uniform_limits(records.index, args["limit"])
    due = due_moments(start, limits, calendar_for(register, deadline, {}))
    hourly = sub_day(limits)
    known = start.notna() & limits.notna()
    if as_of is not None:
        day_end = pd.Timestamp(as_of) + pd.Timedelta(days=1)
        end = end.where(end < day_end)
        late_open = end.isna() & ((hourly & (due < day_end)) | (~hourly & (due.dt.normalize() < pd.Timestamp(as_of))))
    else:
        late_open = pd.Series(False, index=records.index)
    on_time = (hourly & (end <= due)) | (~hourly & (end.dt.normalize() <= due.dt.normalize()))
    counted = known & (end.notna() | late_open.fillna(False))
    return counted.astype(bool), (counted & end.notna() & on_time.fillna(False)).astype(bool)


def measure(records: pd.DataFrame, register: Register, m: Measure, groups: list[pd.Series] | None,
            as_of: dt.date | None = None) -> pd.Series:
    """One figure per group (or a one-element Series for all records when ``groups`` is None); ``within``
    figures count records open past their deadline at ``as_of`` as misses."""
    scope = condition_mask(records, m.where)
    keys = groups if groups is not None else [pd.Series(TOTAL_ZH, index=records.index)]

    def by(values: pd.Series):
        return values.groupby(keys, sort=False, dropna=False)

    if m.op == "count":
        return by(scope.astype("int64")).sum()
    if m.op in ("sum", "mean"):
        values = pd.to_numeric(records[m.args["field"]], errors="coerce").where(scope)
        return by(values).sum(min_count=0) if m.op == "sum" else by(values).mean()
    if m.op == "share":
        base = scope & condition_mask(records, m.args.get("of"))
        hits = base & condition_mask(records, m.args["that"])
        return by(hits.astype("int64")).sum() / by(base.astype("int64")).sum().replace(0, pd.NA)
    if m.op == "within":
        considered, on_time = _within(records, register, m.args, as_of)
        considered &= scope
        on_time &= scope
        return by(on_time.astype("int64")).sum() / by(considered.astype("int64")).sum().replace(0, pd.NA)
    start = pd.to_datetime(records[m.args["from"]], errors="coerce")
    end = pd.to_datetime(records[m.args["to"]], errors="coerce")
    days = ((end - start).dt.total_seconds() / 86400).where(scope)
    return by(days).mean()


def unit_of(m: Measure, register: Register) -> str:
    """What a measure's numbers are, as an axis title: counts, rates, days, or the field summed or
    averaged (an amount in 元, a score, a quantity). Two measures share a chart axis only when equal."""
    if m.op == "count":
        return "件数"
    if m.op in ("share", "within"):
        return "比率"
    if m.op == "mean_days":
        return "天数"
    label = register.field(m.args["field"]).label_zh
    return f"{label}（元）" if m.format == "decimal" and any(w in label for w in ("金额", "费", "额", "价")) else label


def _option_order(register: Register, name: str, seen: list[str]) -> list[str]:
    f = register.field(name)
    ordered = [o for o in f.option_values if o in seen]
    return ordered + sorted(v for v in seen if v not in ordered)


def summary_table(records: pd.DataFrame, register: Register, summary: Summary,
                  month: pd.Period | None, as_of: dt.date | None = None) -> Table:
    """One statistics table of a register, with its totals line."""
    scope = records[condition_mask(records, summary.where)] if summary.where else records
    if summary.in_month:
        scope = in_month(scope, summary.in_month, month)
    labels = [_group_label(register, b) for b in summary.by]
    groups = [_group_values(scope, register, b).rename(label) for b, label in zip(summary.by, labels, strict=True)]
    columns: dict[str, pd.Series] = {}
    totals: dict[str, object] = {}
    formats: dict[str, str] = dict.fromkeys(labels, "text")
    if summary.across:
        across = _group_values(scope, register, summary.across)
        order = _option_order(register, summary.across, list(across.unique()))
        counts = pd.crosstab(groups, across) if len(scope) else pd.DataFrame()
        for value in order:
            columns[value] = counts[value] if value in counts else pd.Series(dtype="int64")
            totals[value] = int(counts[value].sum()) if value in counts else 0
            formats[value] = "integer"
        columns["合计"] = counts.sum(axis=1) if len(scope) else pd.Series(dtype="int64")
        totals["合计"] = int(len(scope))
        formats["合计"] = "integer"
    units = dict.fromkeys([c for c in columns], "件数")
    for m in summary.values:
        units[m.name_zh] = unit_of(m, register)
        columns[m.name_zh] = measure(scope, register, m, groups, as_of) if len(scope) else pd.Series(dtype="float64")
        whole = measure(scope, register, m, None, as_of) if len(scope) else pd.Series([pd.NA])
        totals[m.name_zh] = whole.iloc[0] if len(whole) else pd.NA
        formats[m.name_zh] = m.format
    if not len(scope):  # nothing in the month (no duty rows in November): the table is its totals line
        body = pd.DataFrame({**{label: pd.Series(dtype="object") for label in labels},
                             **{name: pd.Series(dtype="float64") for name in columns}})
    else:
        body = pd.DataFrame(columns)
        if isinstance(body.index, pd.MultiIndex) or labels:
            body.index.names = labels
        body = body.reset_index()
    if len(body) and labels:
        body = body.sort_values(labels, kind="stable").reset_index(drop=True)
    total_row = dict.fromkeys(labels, "") | totals
    if labels:
        total_row[labels[0]] = TOTAL_ZH
    frame = pd.concat([body, pd.DataFrame([total_row])], ignore_index=True)
    for name, fmt in formats.items():
        if fmt != "text" and name in frame:
            frame[name] = pd.to_numeric(frame[name], errors="coerce")
            if fmt == "integer":
                frame[name] = frame[name].fillna(0).round().astype("int64")
    return Table(summary.id, summary.title_zh, summary.title_en, frame[list(formats)], formats, len(labels),
                 summary.chart, units)


def open_records(records: pd.DataFrame, register: Register, as_of: dt.date | None = None) -> pd.Series:
    """Records still open: the register's ``open`` condition, except where a deadline's ``done_date`` is
    filled in (by the as-of day): a complaint with its 解决日期 typed is not open because 处理状态 was
    left at 处理中, as on the overdue lists."""
    mask = condition_mask(records, register.open)
    end = pd.Timestamp(as_of) + pd.Timedelta(days=1) if as_of is not None else None
    for name in dict.fromkeys(d.done_date for d in register.deadlines if d.done_date):
        on = pd.to_datetime(records[name], errors="coerce")
        mask &= ~(on.notna() & (on < end if end is not None else True))
    return mask.astype(bool)


def register_figures(records: pd.DataFrame, register: Register, month: pd.Period | None,
                     by: pd.Series, as_of: dt.date | None = None) -> pd.DataFrame:
    """Per value of ``by`` (a store code per record, or one label for all): records, new in the month,
    open records and each key figure. ``new``/``open`` are missing when the register does not define them."""
    out = pd.DataFrame({"records": by.value_counts(sort=False)})
    out["new"] = (in_month_mask(records, register.date, month).groupby(by).sum()
                  if month is not None and register.date else pd.NA)
    out["open"] = open_records(records, register, as_of).groupby(by).sum() if register.open is not None else pd.NA
    for m in register.figures:
        out[m.name_zh] = measure(records, register, m, [by], as_of)
    return out


def month_of(text: str | None, as_of: dt.date) -> pd.Period:
    """``--month`` as a period; by default the month before ``as_of`` (the report is due by the 10th)."""
    if text:
        return pd.Period(text, freq="M")
    return pd.Period(as_of, freq="M") - 1


__all__ = ["Table", "summary_table", "register_figures", "month_of"]
