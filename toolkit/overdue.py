"""Overdue, due-soon and care lists: the deadlines of the definitions applied to consolidated records.

A deadline says from which date a record's clock runs, for which records (``when``), what ends it
(``done``: a condition, or a later record of the same customer) and how long it may run (``limit``,
per value of a field with ``limit_by``; calendar or working days). Everything is computed on whole
columns; the only per-value work is the working-day arithmetic on the distinct start dates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .coerce import moment_text, show_values
from .conditions import condition_mask, first_present, present
from .definitions import Deadline, Duration, Register
from .describe import describe_deadline
from .records import key_text
from .workdays import WorkdayCalendar, calendar_for

ITEM_COLUMNS = ["register", "register_name", "store_code", "store_name", "key", "customer", "owner", "rule",
                "rule_name", "due", "days_overdue", "status", "data_error", "feedback", "source_file", "source_sheet",
                "source_row"]
ITEM_LABELS_ZH = {"register_name": "登记表", "store_code": "门店编号", "store_name": "门店名称", "key": "编号",
                  "customer": "客户", "owner": "负责人", "rule_name": "规则", "due": "应完成日期",
                  "days_overdue": "逾期天数", "status": "状态", "data_error": "数据有误", "feedback": "上次反馈",
                  "source_file": "来源文件",
                  "source_sheet": "工作表",
                  "source_row": "行号"}
PAUSED_COLUMNS = [*ITEM_COLUMNS, "since"]
CARE_COLUMNS = ["register", "register_name", "store_code", "store_name", "key", "customer", "phone", "owner", "rule",
                "rule_name", "date", "days_until", "source_file", "source_sheet", "source_row"]
DEFAULT_SOON_DAYS = 3


@dataclass
class OverdueLists:
    """What is late, what falls due in the next days, and who has a birthday coming."""

    as_of: dt.date
    items: pd.DataFrame
    due_soon: pd.DataFrame
    care: pd.DataFrame
    notes_zh: list[str] = field(default_factory=list)
    notes_en: list[str] = field(default_factory=list)
    paused: pd.DataFrame = field(default_factory=lambda: _empty(PAUSED_COLUMNS))  # clocks standing still (暂停)
    rules_zh: dict[tuple[str, str], str] = field(default_factory=dict)  # (register, rule) -> the rule in words

    def for_store(self, store_code: str) -> OverdueLists:
        def pick(frame: pd.DataFrame) -> pd.DataFrame:
            return frame[frame["store_code"] == store_code].reset_index(drop=True)
        return OverdueLists(self.as_of, pick(self.items), pick(self.due_soon), pick(self.care),
                            self.notes_zh, self.notes_en, pick(self.paused), self.rules_zh)

    def for_owner(self, owner: str) -> OverdueLists:
        def pick(frame: pd.DataFrame) -> pd.DataFrame:
            return frame[frame["owner"].fillna("") == owner].reset_index(drop=True)
        return OverdueLists(self.as_of, pick(self.items), pick(self.due_soon), pick(self.care),
                            self.notes_zh, self.notes_en, pick(self.paused), self.rules_zh)


def limit_series(index: pd.Index, choices: list[Duration | None], codes: np.ndarray) -> pd.Series:
    """Limits per record as a categorical of the few distinct durations (-1: none), so that grouping
    records by their limit compares small integers instead of every record's Duration."""
    categories = list(dict.fromkeys(c for c in choices if c is not None))
    remap = np.array([categories.index(c) if c is not None else -1 for c in choices])
    return pd.Series(pd.Categorical.from_codes(remap[codes], categories=categories), index=index)


def uniform_limits(index: pd.Index, limit: Duration | None) -> pd.Series:
    return limit_series(index, [limit], np.zeros(len(index), dtype=np.int64))


def record_limits(records: pd.DataFrame, deadline: Deadline) -> pd.Series:
    """The limit each record runs under (its ``limit_by`` value's, else the default); missing where none."""
    codes = np.zeros(len(records), dtype=np.int64)
    choices: list[Duration | None] = [deadline.limit]
    if deadline.limit_by_field:
        values = records[deadline.limit_by_field].astype("string")
        for value, limit in deadline.limit_by.items():
            codes[(values == value).fillna(False).to_numpy(dtype=bool)] = len(choices)
            choices.append(limit)
    return limit_series(records.index, choices, codes)


def sub_day(limits: pd.Series) -> pd.Series:
    """True where a limit is in hours or minutes: such a deadline is late from its moment on,
    while one in days is met on its last day."""
    hourly = [lim for lim in limits.cat.categories if lim.unit != "days"]
    return limits.isin(hourly).astype(bool)


def due_moments(starts: pd.Series, limits: pd.Series, calendar: WorkdayCalendar) -> pd.Series:
    """``starts`` plus each record's limit; one vectorised shift per distinct limit."""
    due = pd.Series(pd.NaT, index=starts.index, dtype="datetime64[ns]")
    codes = limits.cat.codes.to_numpy()
    for code, limit in enumerate(limits.cat.categories):
        mask = codes == code
        if mask.any():
            due[mask] = calendar.shift(starts[mask], limit.amount, limit.unit, limit.working)
    return due


def _present_by(records: pd.DataFrame, name: str, end: pd.Timestamp) -> pd.Series:
    """Filled in as of a day: a date or time field only with a moment before ``end`` (a repair completed on
    11-06 had not been completed on the list of 11-05); other fields when filled at all."""
    values = records[name]
    if pd.api.types.is_datetime64_any_dtype(values):
        return (values.notna() & (values < end)).astype(bool)
    return present(values)


def _condition_by(records: pd.DataFrame, cond: dict, end: pd.Timestamp) -> pd.Series:
    if "any_present" in cond:
        done = pd.Series(False, index=records.index)
        for name in cond["any_present"]:
            done |= _present_by(records, name, end)
        return done
    if cond.get("present") is True and "field" in cond:
        return _present_by(records, cond["field"], end)
    return condition_mask(records, cond)


def _matching_text(values: pd.Series) -> pd.Series:
    return values.astype("string").str.strip().replace("", pd.NA)


def _done_elsewhere(records: pd.DataFrame, deadline: Deadline, others: dict[str, pd.DataFrame],
                    end: pd.Timestamp) -> pd.Series:
    """Where another register holds the evidence (``done_in``): a record of the same store with the same
    matched values (the customer's name), dated on or after this record's start and before the end of the
    as-of day; e.g. a return visit logged in 客户拜访回访记录 rather than in the service register's own column."""
    spec = deadline.done_in
    met = pd.Series(False, index=records.index)
    other = others.get(spec["register"]) if spec else None
    if other is None or other.empty or records.empty:
        return met
    if spec["when"]:
        other = other[condition_mask(other, spec["when"]).to_numpy(dtype=bool)]
    dates = pd.to_datetime(other[spec["date"]], errors="coerce").dt.normalize()
    keys = [f"_k{i}" for i in range(len(spec["match"]))]
    theirs = pd.DataFrame({"_store": other["store_code"].astype("string"), "_day": dates,
                           **{k: _matching_text(other[f]) for k, f in zip(keys, spec["match"].values(), strict=True)}})
    theirs = theirs[theirs["_day"].notna() & (theirs["_day"] < end)].dropna(subset=keys)
    if theirs.empty:
        return met
    latest = theirs.groupby(["_store", *keys], as_index=False)["_day"].max()
    mine = pd.DataFrame({"_store": records["store_code"].astype("string").to_numpy(),
                         **{k: _matching_text(records[f]).to_numpy() for k, f in zip(keys, spec["match"], strict=True)}})
    found = mine.merge(latest, how="left", on=["_store", *keys])["_day"]
    start = pd.to_datetime(first_present(records, list(deadline.start)), errors="coerce").dt.normalize()
    return pd.Series((found.to_numpy() >= start.to_numpy()) & found.notna().to_numpy(), index=records.index)


def _done(records: pd.DataFrame, register: Register, deadline: Deadline, as_of: dt.date,
          others: dict[str, pd.DataFrame] | None = None) -> pd.Series:
    """Where the deadline's obligation was met as of the day: by its ``done`` evidence (a later milestone
    included: ``any_present``), by a record in another register (``done_in``), or on its ``done_date`` when
    that is filled (whatever the status says; a date after the as-of day means not yet). A record done by
    status alone counts as done."""
    end = pd.Timestamp(as_of) + pd.Timedelta(days=1)
    done = deadline.done
    if done is None:
        met = pd.Series(False, index=records.index)
    elif "later_record" in done:
        spec = done["later_record"]
        groups = spec["group"] if isinstance(spec["group"], list) else [spec["group"]]
        group = first_present(records, groups).astype("string").str.strip()
        dates = records[spec["date"]]
        latest = dates.where(dates < end).groupby([records["store_code"], group], dropna=False).transform("max")
        met = (latest > dates).fillna(False).astype(bool)
    else:
        met = _condition_by(records, done, end)
    if deadline.done_in:
        met = met | _done_elsewhere(records, deadline, others or {}, end)
    if deadline.done_date:
        on = pd.to_datetime(records[deadline.done_date], errors="coerce")
        met = pd.Series(np.where(on.notna(), (on < end).fillna(False), met), index=records.index, dtype=bool)
    return met


def applies_to(records: pd.DataFrame, deadline: Deadline) -> pd.Series:
    """The records a deadline runs for at all: its start is known and its ``when`` holds."""
    applies = pd.to_datetime(first_present(records, list(deadline.start)), errors="coerce").notna()
    for name, values in deadline.when.items():
        applies &= condition_mask(records, {"field": name, "in": list(values)})
    return applies.astype(bool)


def _item_key(records: pd.DataFrame, register: Register, deadline: Deadline) -> pd.Series:
    if deadline.done and "later_record" in deadline.done:
        group = deadline.done["later_record"]["group"]
        groups = group if isinstance(group, list) else [group]
        return first_present(records, groups).astype("string").fillna("")
    return key_text(records, register)


def _column(records: pd.DataFrame, register: Register, name: str | None) -> pd.Series:
    if not name:
        return pd.Series("", index=records.index, dtype="string")
    return show_values(records[name], register.field(name)).astype("string").fillna("")


def _frame(records: pd.DataFrame, register: Register, deadline: Deadline, mask: pd.Series,
           columns: list[str], **extra: pd.Series) -> pd.DataFrame:
    sel = records[mask]
    status = _column(sel, register, "status" if "status" in register.field_keys else None)
    return pd.DataFrame({
        "register": register.id, "register_name": register.name_zh,
        "store_code": sel["store_code"].astype("string"), "store_name": sel["store_name"].astype("string"),
        "key": _item_key(sel, register, deadline), "customer": _column(sel, register, register.customer),
        "owner": _column(sel, register, register.owner), "rule": deadline.id, "rule_name": deadline.name_zh,
        "status": status, "source_file": sel["source_file"], "source_sheet": sel["source_sheet"],
        "data_error": (sel["_rejected"].map({True: "数据有误，见问题数据", False: ""}).astype("string")
                       if "_rejected" in sel else pd.Series("", index=sel.index, dtype="string")),
        "feedback": pd.Series("", index=sel.index, dtype="string"),
        "source_row": sel["source_row"], **{k: v.reindex(sel.index) for k, v in extra.items()},
    })[columns]


def _with_answers(frame: pd.DataFrame, records: dict[str, pd.DataFrame], registers: dict[str, Register]
                  ) -> pd.DataFrame:
    """Each item with the store's last answer to it (上次反馈): what the store wrote in 处理情况 (and 备注) on
    the overdue workbook it sent back, read as an answer-form register (逾期事项反馈)."""
    answers = []
    for reg_id, register in registers.items():
        got = records.get(reg_id)
        if not register.is_answer_form or got is None or got.empty:
            continue
        a = register.answers
        text = got[a["reply"]].astype("string").fillna("").str.strip()
        if a.get("note"):
            note = got[a["note"]].astype("string").fillna("").str.strip()
            text = text.where(note == "", text + "（" + note + "）")
        answers.append(pd.DataFrame({
            "store_code": got["store_code"].astype("string"), "register_name": got[a["register"]].astype("string"),
            "key": got[a["key"]].astype("string"), "rule_name": got[a["rule"]].astype("string"), "answer": text}))
    if not answers or frame.empty:
        return frame
    known = pd.concat(answers, ignore_index=True).drop_duplicates(
        ["store_code", "register_name", "key", "rule_name"], keep="last")
    joined = frame.merge(known, how="left", on=["store_code", "register_name", "key", "rule_name"])
    joined["feedback"] = joined["answer"].fillna("").astype("string")
    return joined.drop(columns="answer")


def _deadline_items(records: pd.DataFrame, register: Register, deadline: Deadline, as_of: dt.date,
                    soon_days: int, calendar: WorkdayCalendar, replaced: pd.Series | None = None,
                    others: dict[str, pd.DataFrame] | None = None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The records late on the deadline, those due within its warning window, and those whose clock
    stands still (``paused``: listed apart, never overdue). ``replaced``: records for which another
    deadline stands (``replaces:``), so that one obligation gives one item."""
    starts = pd.to_datetime(first_present(records, list(deadline.start)), errors="coerce")
    applies = applies_to(records, deadline)
    if replaced is not None:
        applies &= ~replaced
    limits = record_limits(records, deadline)
    own_due = (pd.to_datetime(records[deadline.due], errors="coerce") if deadline.due
               else pd.Series(pd.NaT, index=records.index, dtype="datetime64[ns]"))
    applies &= limits.notna() | own_due.notna()
    applies &= ~_done(records, register, deadline, as_of, others)
    due = due_moments(starts, limits, calendar).where(own_due.isna(), own_due)
    due_day = due.dt.normalize()
    today = pd.Timestamp(as_of)
    hourly = sub_day(limits) & own_due.isna()
    late = (hourly & (due < today + pd.Timedelta(days=1))) | (~hourly & (due_day < today))
    stopped = condition_mask(records, deadline.paused) & applies if deadline.paused else applies & False
    applies &= ~stopped
    overdue = applies & late.fillna(False)
    if deadline.warn is not None:
        horizon = calendar.shift(pd.Series([today]), deadline.warn.amount, deadline.warn.unit,
                                 deadline.warn.working).iloc[0].normalize()
    else:
        horizon = today + pd.Timedelta(days=soon_days)
    soon = applies & ~overdue & (due_day <= horizon).fillna(False)
    listed = (overdue | soon).to_numpy(dtype=bool)  # due dates are written out for the listed records only
    due_listed = due[listed]
    shown_due = moment_text(due_listed, with_time=True).where(hourly[listed], moment_text(due_listed))
    days = (today - due_day[listed]).dt.days.astype("Int64")
    late_items, soon_items = (
        _frame(records, register, deadline, mask, ITEM_COLUMNS, due=shown_due, days_overdue=days)
        for mask in (overdue, soon))
    held = stopped.to_numpy(dtype=bool)
    since = (moment_text(pd.to_datetime(records[deadline.paused_since], errors="coerce")[held])
             if deadline.paused_since else pd.Series("", index=records.index[held], dtype="string"))
    paused_items = _frame(records, register, deadline, stopped, PAUSED_COLUMNS,
                          due=moment_text(due_day[held]), days_overdue=(today - due_day[held]).dt.days.astype("Int64"),
                          since=since)
    return late_items, soon_items, paused_items


def _anniversaries(records: pd.DataFrame, register: Register, deadline: Deadline, as_of: dt.date) -> pd.DataFrame:
    """Records whose yearly date (a birthday) comes within the limit from ``as_of`` (today included)."""
    dates = pd.to_datetime(first_present(records, list(deadline.start)), errors="coerce")
    known = dates.notna()
    month, day = dates.dt.month, dates.dt.day
    today = pd.Timestamp(as_of)

    def occurrence(year: int) -> pd.Series:
        leap = pd.Series([pd.Timestamp(year, 1, 1).is_leap_year] * len(dates), index=dates.index)
        d = day.where(~((month == 2) & (day == 29) & ~leap), 28)
        return pd.to_datetime(pd.DataFrame({"year": year, "month": month, "day": d})[known], errors="coerce")

    this_year = occurrence(today.year)
    next_year = occurrence(today.year + 1)
    upcoming = this_year.where(this_year >= today, next_year)
    days_until = (upcoming - today).dt.days
    limit = deadline.limit or Duration(7, "days")
    mask = known & (days_until <= limit.amount).reindex(dates.index, fill_value=False)
    return _frame(records, register, deadline, mask, CARE_COLUMNS, phone=_column(records, register, phone_field(register)),
                  date=moment_text(upcoming), days_until=days_until.astype("Int64"))


def phone_field(register: Register) -> str | None:
    """The field to call the customer on: the register's first phone field."""
    return next((f.key for f in register.fields if f.type == "phone"), None)


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="int64" if c in ("days_overdue", "days_until", "source_row")
                                      else "string") for c in columns})


def _with_evaluable(frame: pd.DataFrame, rejected: pd.DataFrame | None, deadline: Deadline
                    ) -> tuple[pd.DataFrame, int]:
    """The records plus the rejected rows this deadline can still judge (no error in a field it reads),
    marked ``_rejected``; and how many rejected rows it cannot judge."""
    if rejected is None or rejected.empty:
        return frame, 0
    used = deadline.fields()
    bad = rejected["_bad_fields"].astype(str)
    verdict = {b: b != "*" and not (set(filter(None, b.split(","))) & used) for b in bad.unique()}  # few distinct
    judged = bad.map(verdict).to_numpy(dtype=bool)
    extra = rejected[judged].drop(columns="_bad_fields").assign(_rejected=True)
    both = pd.concat([frame.assign(_rejected=False), extra], ignore_index=True) if len(extra) else frame
    return both, int((~judged).sum())


def overdue_lists(records: dict[str, pd.DataFrame], registers: dict[str, Register], as_of: dt.date,
                  soon_days: int = DEFAULT_SOON_DAYS, rejected: dict[str, pd.DataFrame] | None = None
                  ) -> OverdueLists:
    """Apply every register's deadlines to its consolidated records, as of the given day. Rows rejected
    for an error in a field a deadline does not read (``rejected``, see Consolidation.rejected_records)
    are judged too and marked 数据有误; those it cannot judge are counted in the notes."""
    calendars: dict[str, WorkdayCalendar] = {}
    items, soon, care = [_empty(ITEM_COLUMNS)], [_empty(ITEM_COLUMNS)], [_empty(CARE_COLUMNS)]
    paused = [_empty(PAUSED_COLUMNS)]
    unjudged: dict[str, int] = {}
    unread: set[tuple[str, ...]] = set()  # deadlines whose evidence lies in a register this run did not read
    rules_zh: dict[tuple[str, str], str] = {}
    for reg_id, accepted in records.items():
        register = registers[reg_id]
        if accepted.empty and not (rejected or {}).get(reg_id, pd.DataFrame()).shape[0]:
            continue
        mine = (rejected or {}).get(reg_id)
        for deadline in register.deadlines:
            rules_zh[(reg_id, deadline.id)] = describe_deadline(register, deadline)[0]
            frame, cannot = _with_evaluable(accepted, mine, deadline)
            if cannot:
                unjudged[register.name_zh] = max(unjudged.get(register.name_zh, 0), cannot)
            if frame.empty:
                continue
            stands_for: dict[str, pd.Series] = {}
            for other_deadline in register.deadlines:
                if deadline.id in other_deadline.replaces:
                    mask = applies_to(frame, other_deadline)
                    stands_for[deadline.id] = stands_for[deadline.id] | mask if deadline.id in stands_for else mask
            if deadline.kind == "anniversary":
                care.append(_anniversaries(frame, register, deadline, as_of))
            else:
                late, coming, held = _deadline_items(frame, register, deadline, as_of, soon_days,
                                                     calendar_for(register, deadline, calendars),
                                                     stands_for.get(deadline.id), records)
                if deadline.done_in and deadline.done_in["register"] not in records:
                    other = registers.get(deadline.done_in["register"])
                    unread.add((register.name_zh, deadline.name_zh, other.name_zh if other else deadline.done_in["register"],
                                register.name_en, deadline.name_en, other.name_en if other else deadline.done_in["register"]))
                items.append(late)
                soon.append(coming)
                paused.append(held)

    def combine(frames: list[pd.DataFrame], order: list[str], ascending: list[bool]) -> pd.DataFrame:
        frames = [f for f in frames[1:] if not f.empty] or frames[:1]
        out = pd.concat(frames, ignore_index=True)
        return out.sort_values(order, ascending=ascending, kind="stable").reset_index(drop=True)

    result = OverdueLists(
        as_of,
        _with_answers(combine(items, ["store_code", "days_overdue", "register", "key"], [True, False, True, True]),
                      records, registers),
        _with_answers(combine(soon, ["store_code", "due", "register", "key"], [True, True, True, True]),
                      records, registers),
        combine(care, ["store_code", "days_until", "customer"], [True, True, True]),
        paused=combine(paused, ["store_code", "register", "key"], [True, True, True]),
        rules_zh=rules_zh,
    )
    for name, count in unjudged.items():
        result.notes_zh.append(f"{name}：{count} 行数据有误且时限所需的字段无法读取，无法判断时限（见问题数据）")
        result.notes_en.append(f"{name}: {count} rejected rows cannot be judged (a field their deadlines read has an "
                               "error; see the rejected rows)")
    for name, rule, other, name_en, rule_en, other_en in sorted(unread):
        result.notes_zh.append(f"{name}「{rule}」：本次未读取「{other}」，其中登记的记录未计入")
        result.notes_en.append(f"{name_en}, {rule_en}: {other_en} was not read in this run; what it records was not "
                               "taken into account")
    for calendar in calendars.values():
        if calendar.unknown_years:
            result.notes_zh.append(calendar.note_zh)
            result.notes_en.append(calendar.note_en)
    return result


def lists_json(lists: OverdueLists) -> dict:
    """The ``--json`` contract of ``taizhang overdue``."""
    keys = ["register", "store_code", "store_name", "key", "customer", "owner", "rule", "due", "days_overdue",
            "status", "data_error", "feedback"]

    def rows(frame: pd.DataFrame) -> list[dict]:
        out = frame[keys].astype(object).where(frame[keys].notna(), None)
        return [{k: (int(v) if k == "days_overdue" else bool(v) if k == "data_error" else (v or None)
                     if k == "feedback" else v) for k, v in r.items()} for r in out.to_dict("records")]

    care_keys = ["register", "store_code", "store_name", "key", "customer", "owner", "rule", "date", "days_until"]
    care = lists.care[care_keys].astype(object)
    return {"as_of": lists.as_of.isoformat(), "items": rows(lists.items), "due_soon": rows(lists.due_soon),
            "paused": [r | {"since": s or None} for r, s in zip(rows(lists.paused), lists.paused["since"], strict=True)],
            "care": [{k: (int(v) if k == "days_until" else v) for k, v in r.items()} for r in care.to_dict("records")],
            "notes": lists.notes_en}
