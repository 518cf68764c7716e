"""A realistic month of sample store workbooks, made from the register definitions alone.

Values come from the field types, the sample pools in ``demo_values.yaml`` and the register's own
rules (dates follow the order rules, required-when rules are met, the approval ladder is respected),
so a company's own register gets sample data too. Then the mistakes staff really make are
sprinkled in: phone numbers typed as numbers or with spaces, dates typed as text or without a year,
traditional characters, blank rows, signature lines, a duplicate number, a complaint marked 已解决
without a date. One store sends hand-made workbooks: title row, renamed and traditional headers,
an extra column, two registers in one workbook, no template metadata.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter
import yaml

from .coerce import ID_CHECK, ID_WEIGHTS, chinese_script
from .definitions import KEY_DATE_FORMATS, Field, Register
from .files import atomic_path
from .template import is_missing, template_filename, write_register_workbook

STORES = [("001", "朝阳店"), ("002", "海淀店"), ("003", "浦东店"), ("004", "天河店")]
HANDMADE_STORE = ("004", "天河店")
VALUES = yaml.safe_load((Path(__file__).parent / "demo_values.yaml").read_text(encoding="utf-8"))
KEY_PREFIX_LEN = 2


MILESTONE_BLANK = 0.04  # a later milestone (到场时间 after 派工时间) left empty: the record is still open
OPTIONAL_BLANK = 0.25  # any other optional field left empty
STATUS_SLIPS = 0.02  # records whose date says done but whose status was not updated (a warning to plant)


def _spec(register_id: str) -> dict:
    """The demo's own knowledge of a register (demo_values.yaml ``_registers``): its rows and value spreads."""
    return (VALUES.get("_registers") or {}).get(register_id) or {}


def _status_rules(register: Register) -> list[tuple[str, str, list[str], list[str]]]:
    """(done date, status field, done values, open values) of each deadline ended both by a status and by a
    date (``done: {field, in}`` with ``done_date``): the pairs the demo keeps in agreement, but for slips."""
    rules = []
    for d in register.deadlines:
        cond = d.done or {}
        if d.done_date and "field" in cond and "in" in cond:
            options = register.field(cond["field"]).option_values
            rules.append((d.done_date, cond["field"], list(cond["in"]), [o for o in options if o not in cond["in"]]))
    return rules


def _pool(key: str) -> list[str] | None:
    pool = VALUES.get(key)
    if isinstance(pool, str):
        pool = VALUES[pool]
    return pool


def _id_number(rng: np.random.Generator) -> str:
    birth = dt.date(1960, 1, 1) + dt.timedelta(days=int(rng.integers(0, 15000)))
    body = f"110105{birth:%Y%m%d}{int(rng.integers(100, 999))}"
    digits = np.array([int(c) for c in body])
    return body + str(ID_CHECK[(digits * ID_WEIGHTS).sum() % 11])


class _RecordMaker:
    """Generates the records of one register for one store, column by column, then applies its rules."""

    def __init__(self, register: Register, rng: np.random.Generator, month_start: dt.date, n: int, store: str,
                 made: dict[str, pd.DataFrame] | None = None):
        self.reg, self.rng, self.n, self.store = register, rng, n, store
        self.specs: dict[str, dict] = _spec(register.id).get("fields") or {}
        self.made = made or {}  # this store's records of the registers made before (a visit's customer file)
        self.month_start = pd.Timestamp(month_start)
        self.month_end = self.month_start + pd.offsets.MonthEnd(0)
        days = (self.month_start + pd.offsets.MonthEnd(0) - self.month_start).days + 1
        self.base = pd.Series(self.month_start + pd.to_timedelta(np.sort(rng.integers(0, days, n)), unit="D"))
        self.base_time = pd.Series(pd.to_timedelta(rng.integers(8 * 60, 20 * 60, n), unit="m"))

    def column(self, f: Field) -> pd.Series:
        rng, n = self.rng, self.n
        pool = _pool(f.key)
        spec = self.specs.get(f.key) or {}
        if f.type == "choice" and "weights" in spec:
            options = [o for o in spec["weights"] if o in f.option_values]
            weights = np.array([spec["weights"][o] for o in options], dtype=float)
            return pd.Series(rng.choice(options, n, p=weights / weights.sum()), dtype=object)
        if f.type in ("integer", "decimal") and "range" in spec:
            low, high = spec["range"]
            values = rng.uniform(low, high, n)
            if "tail" in spec:
                big = rng.random(n) < spec["tail"]["share"]
                values = np.where(big, rng.uniform(*spec["tail"]["range"], n), values)
            values = np.round(values) if f.type == "integer" else np.round(values, 2)
            return pd.Series(values).astype(object)
        if f.type == "date" and "days_back" in spec:
            back = rng.integers(spec["days_back"][0], spec["days_back"][1] + 1, n)
            return pd.Series(self.month_end - pd.to_timedelta(back, unit="D"))
        if f.type == "choice":
            return pd.Series(rng.choice(f.option_values, n), dtype=object)
        if f.type == "date":
            if f.key == "birthday":
                return pd.Series(pd.Timestamp("1965-01-01") + pd.to_timedelta(rng.integers(0, 13000, n), unit="D"))
            return pd.Series(self.base)
        if f.type == "datetime":
            return pd.Series(self.base + self.base_time)
        if f.type == "time":
            return pd.Series(rng.choice([8 * 60, 9 * 60, 14 * 60, 20 * 60], n)).astype(float)
        if f.type == "phone":
            return pd.Series([f"1{rng.choice([3, 5, 8])}{rng.integers(0, 10)}{rng.integers(10**7, 10**8)}"
                              for _ in range(n)], dtype=object)
        if f.type == "email":
            return pd.Series([f"user{rng.integers(1000, 9999)}@example.cn" for _ in range(n)], dtype=object)
        if f.type == "id_number":
            return pd.Series([_id_number(rng) for _ in range(n)], dtype=object)
        if f.type in ("integer", "decimal"):
            low = f.min if f.min is not None else 0
            high = f.max if f.max is not None else (5 if f.type == "integer" else 5000)
            if f.type == "integer":
                return pd.Series(rng.integers(int(low), int(high) + 1, n)).astype(object)
            return pd.Series(np.round(rng.uniform(low, high, n), 2)).astype(object)
        if pool:
            return pd.Series(rng.choice(pool, n), dtype=object)
        return pd.Series([f"{f.label_zh}{i + 1}" for i in range(n)], dtype=object)

    def make(self) -> pd.DataFrame:
        reg, rng, n = self.reg, self.rng, self.n
        df = pd.DataFrame({f.key: self.column(f) for f in reg.fields})
        self._taken_from_other_registers(df)
        milestones = {k for r in reg.rules if r.kind == "order" for k in r.params["fields"][1:]}
        milestones |= {d.done["field"] for d in reg.deadlines if d.done and "field" in d.done}  # 处理状态 is kept
        taken = {k for key, spec in self.specs.items() if "from" in spec for k in (key, *(spec.get("with") or {}))}
        for f in reg.fields:  # optional fields are often left empty; a later milestone seldom is
            if f.required or f.key in reg.key or f.key in taken or {"when", "share"} & set(self.specs.get(f.key, {})):
                continue
            df.loc[rng.random(n) < (MILESTONE_BLANK if f.key in milestones else OPTIONAL_BLANK), f.key] = None
        for key, spec in self.specs.items():  # compensation only on 投诉, and not on every one
            if ("when" in spec or "share" in spec) and key in df:
                on = pd.Series(rng.random(n) < spec.get("share", 1.0), index=df.index)
                for field, values in (spec.get("when") or {}).items():
                    on &= df[field].isin(values)
                df[key] = df[key].where(on, None)
        # rules that set a choice go before rules that fill a field in because of a choice
        rules = sorted(reg.rules, key=lambda r: r.kind != "implies" or "in" not in r.params["then"])
        for kind in ("implies", "order", "ladder", "key_matches_date", "duration_matches", "max_gap"):
            for rule in rules:
                if rule.kind == kind:
                    getattr(self, f"_rule_{kind}")(df, rule.params)
        self._still_in_order(df)
        self._status_agrees_with_dates(df)
        self._keys(df)
        if len(reg.key) > 1:  # a natural key made of several fields: drop the chance collisions
            df = df.drop_duplicates(subset=list(reg.key)).reset_index(drop=True)
        return df

    def _rule_order(self, df: pd.DataFrame, p: dict) -> None:
        """Milestones in time order, and each present only when the one before it is: a completed repair has
        its dispatch and arrival times."""
        keys = p["fields"]
        datetime = self.reg.field(keys[0]).type == "datetime"
        fallback = self.base + (self.base_time if datetime else pd.Timedelta(0))
        prev = pd.to_datetime(df[keys[0]]).fillna(fallback)
        reached = df[keys[0]].notna()
        for key in keys[1:]:
            step = pd.to_timedelta(self.rng.integers(5, 90, self.n), unit="m") if datetime else \
                pd.to_timedelta(self.rng.integers(0, 4, self.n), unit="D")
            spec = self.specs.get(key) or {}
            if "after" in spec:  # a next visit planned a week or more ahead, not the next day
                step = pd.to_timedelta(self.rng.integers(spec["after"][0], spec["after"][1] + 1, self.n), unit="D")
            later = pd.Series(prev + step, index=df.index)
            if "days_back" in spec:  # a date drawn for itself (a file built over years) stays when in order
                own = pd.to_datetime(df[key])
                later = own.where(own >= prev, later)
            if self.reg.field(key).type == "date":
                later = later.dt.normalize()
            present = df[key].notna() & (reached | self.reg.field(key).required)
            df[key] = later.astype(object).where(present, None)
            prev = later.where(present, prev)
            reached = present

    def _still_in_order(self, df: pd.DataFrame) -> None:
        """A gap rule applied after the order rules (建档 within 7 days of first contact) may move a date past
        the next one in its order: that next one moves up to it."""
        for rule in self.reg.rules:
            if rule.kind != "order":
                continue
            fields = rule.params["fields"]
            for earlier, later in zip(fields, fields[1:], strict=False):
                a, b = pd.to_datetime(df[earlier]), pd.to_datetime(df[later])
                behind = a.notna() & b.notna() & (b < a)
                if behind.any():
                    df.loc[behind, later] = a[behind].astype(object)

    def _taken_from_other_registers(self, df: pd.DataFrame) -> None:
        """Fields taken from the store's records of another register (``from:``): a visit's customer id and
        name are those of a customer in the store's customer file."""
        for key, spec in self.specs.items():
            if "from" not in spec or key not in df:
                continue
            reg_id, field = spec["from"].split(".", 1)
            source = self.made.get(reg_id)
            if source is None or source.empty:
                continue
            picked = source.iloc[self.rng.integers(0, len(source), self.n)].reset_index(drop=True)
            df[key] = picked[field].astype(object).to_numpy()
            for mine, theirs in (spec.get("with") or {}).items():
                df[mine] = picked[theirs].astype(object).to_numpy()

    def _status_agrees_with_dates(self, df: pd.DataFrame) -> None:
        """A record whose done date is typed has a done status, one without has an open one (the deadlines
        say which: ``done: {field, in}`` with ``done_date``)."""
        for done_date, status, done_values, open_values in _status_rules(self.reg):
            current = df[status]
            if "weights" in self.specs.get(status, {}):  # the status is drawn as stores see it: the date follows
                df[done_date] = df[done_date].where(current.isin(done_values), None)
                continue
            closed = current.where(current.isin(done_values), done_values[0])
            still = current.where(current.isin(open_values), open_values[0] if open_values else None)
            df[status] = closed.where(df[done_date].notna(), still)

    def _rule_implies(self, df: pd.DataFrame, p: dict) -> None:
        cond, then = p["if"], p["then"]
        col = df[cond["field"]]
        if "in" in cond:
            hit = col.isin(cond["in"])
        elif "gt" in cond:
            hit = pd.to_numeric(col, errors="coerce").fillna(0) > cond["gt"]
        else:
            hit = col.notna()
        target = df[then["field"]]
        if "in" in then:
            df.loc[hit, then["field"]] = then["in"][0]
        else:
            fill = self.column(self.reg.field(then["field"]))  # dates are then placed by the order rules
            df[then["field"]] = target.where(~hit | target.notna(), fill.astype(object))

    def _rule_max_gap(self, df: pd.DataFrame, p: dict) -> None:
        """Most records keep within the limit; about one in ten is late, as in real registers."""
        start, end = pd.to_datetime(df[p["from"]]), pd.to_datetime(df[p["to"]])
        limit = pd.Timedelta(**{p["limit"].unit: p["limit"].amount})
        late = (end - start) > limit
        keep_late = self.rng.random(self.n) < 0.1
        fixed = start + limit * pd.Series(self.rng.uniform(0.2, 1.0, self.n), index=df.index)
        if self.reg.field(p["to"]).type == "date":
            fixed = fixed.dt.normalize()
        df[p["to"]] = df[p["to"]].where(~late | keep_late, fixed.astype(object))

    def _rule_ladder(self, df: pd.DataFrame, p: dict) -> None:
        amount = pd.to_numeric(df[p["amount"]], errors="coerce")
        df[p["amount"]] = amount.round(2).where(amount.notna(), None).astype(object)
        level = pd.Series(p["steps"][-1]["level"], index=df.index, dtype=object)
        for step in reversed(p["steps"]):
            if "up_to" in step:
                level = level.mask(amount <= step["up_to"], step["level"])
        df[p["field"]] = level.where(amount.notna() & (amount > 0), None)

    def _rule_key_matches_date(self, df: pd.DataFrame, p: dict) -> None:
        fmt = KEY_DATE_FORMATS[p["format"]]
        serial = pd.Series(range(1, self.n + 1)).astype(str).str.zfill(3)
        df[p["field"]] = pd.to_datetime(df[p["date"]]).dt.strftime(fmt) + serial

    def _rule_duration_matches(self, df: pd.DataFrame, p: dict) -> None:
        hours = pd.Series(self.rng.choice([8.0, 8.5, 12.0], self.n))
        df[p["start"]] = df[p["start"]].fillna(8 * 60)
        df[p["end"]] = (df[p["start"]].astype(float) + hours * 60) % 1440
        df[p["hours"]] = hours.astype(object)

    def _keys(self, df: pd.DataFrame) -> None:
        key_rules = [r for r in self.reg.rules if r.kind == "key_matches_date"]
        if len(self.reg.key) == 1 and not key_rules and self.reg.field(self.reg.key[0]).type == "text":
            prefix = self.reg.id[:KEY_PREFIX_LEN].upper()
            df[self.reg.key[0]] = [f"{prefix}{self.store}{i:04d}" for i in range(1, self.n + 1)]


def _to_cells(df: pd.DataFrame, register: Register) -> pd.DataFrame:
    """Typed demo values as the Python values a clerk's workbook would hold."""
    out = df.copy().astype(object)
    for f in register.fields:
        col = df[f.key]
        if f.type == "date":
            out[f.key] = [v.date() if isinstance(v, pd.Timestamp) else v for v in pd.to_datetime(col)]
            out[f.key] = out[f.key].where(col.notna(), None)
        elif f.type == "datetime":
            out[f.key] = [v.to_pydatetime().replace(second=0) if isinstance(v, pd.Timestamp) else v
                          for v in pd.to_datetime(col)]
            out[f.key] = out[f.key].where(col.notna(), None)
        elif f.type == "time":
            out[f.key] = [dt.time(int(v) // 60, int(v) % 60) if pd.notna(v) else None for v in col]
    return out


def _sprinkle_mistakes(cells: pd.DataFrame, register: Register, rng: np.random.Generator) -> pd.DataFrame:
    """The mistakes REGISTERS.md lists, a few of each, in random rows."""
    n = len(cells)

    def rows(share: float) -> np.ndarray:
        """Rows for a mistake made on ``share`` of the rows: a three-row register seldom gets any."""
        return rng.choice(n, size=min(n, int(rng.binomial(n, share))), replace=False) if n else np.array([], int)

    for f in register.fields:
        col = cells[f.key]
        if f.type == "phone":
            for i in rows(0.05):
                if col.iat[i]:
                    cells.iat[i, cells.columns.get_loc(f.key)] = float(col.iat[i])
            for i in rows(0.05):
                v = col.iat[i]
                if isinstance(v, str):
                    cells.iat[i, cells.columns.get_loc(f.key)] = f"{v[:3]} {v[3:7]} {v[7:]}"
            for i in rows(0.02):
                cells.iat[i, cells.columns.get_loc(f.key)] = "+86 " + str(col.iat[i]) if col.iat[i] else None
            for i in rows(0.01)[:1]:
                cells.iat[i, cells.columns.get_loc(f.key)] = "12345"
        elif f.type == "date" and f.required:
            fmts = ["%Y/%-m/%-d", "%Y年%-m月%-d日", "%Y.%-m.%-d"]
            for i in rows(0.06):
                v = col.iat[i]
                if isinstance(v, dt.date):
                    cells.iat[i, cells.columns.get_loc(f.key)] = v.strftime(rng.choice(fmts))
            for i in rows(0.01)[:1]:
                if isinstance(col.iat[i], dt.date):
                    cells.iat[i, cells.columns.get_loc(f.key)] = f"{col.iat[i].month}.{col.iat[i].day}"
        elif f.type == "choice":
            for i in rows(0.04):
                v = col.iat[i]
                if isinstance(v, str):
                    cells.iat[i, cells.columns.get_loc(f.key)] = rng.choice([f" {v} ", chinese_script(v, "zh-hant")])
        elif f.type == "integer" and f.max is not None:
            for i in rows(0.01)[:1]:
                cells.iat[i, cells.columns.get_loc(f.key)] = int(f.max) + 2
    required = [f.key for f in register.fields if f.required and f.key not in register.key]
    if required:
        for i in rows(0.01)[:1]:
            cells.iat[i, cells.columns.get_loc(rng.choice(required))] = None
    if len(register.key) == 1 and n > 10:
        cells.iat[n - 3, cells.columns.get_loc(register.key[0])] = cells.iat[n // 2, cells.columns.get_loc(register.key[0])]
    planted = rng.random() < n / 50  # a rule broken on purpose: seldom in a register of a few rows
    for rule in register.rules if planted else ():
        if rule.kind == "implies" and rule.severity == "error" and "in" in rule.params["if"]:
            hit = np.flatnonzero(cells[rule.params["if"]["field"]].isin(rule.params["if"]["in"]).to_numpy())
            if len(hit):
                cells.iat[int(rng.choice(hit)), cells.columns.get_loc(rule.params["then"]["field"])] = None
        if rule.kind == "ladder":  # one large amount approved below the level it needs
            first = rule.params["steps"][0]
            amounts = pd.to_numeric(cells[rule.params["amount"]], errors="coerce")
            paid = np.flatnonzero(amounts.notna().to_numpy())
            if "up_to" in first and len(paid):
                i = int(rng.choice(paid))
                cells.iat[i, cells.columns.get_loc(rule.params["amount"])] = round(first["up_to"] * 1.2, 2)
                cells.iat[i, cells.columns.get_loc(rule.params["field"])] = first["level"]
    for done_date, status, _, open_values in _status_rules(register):  # a date typed, the status not updated
        done = np.flatnonzero(cells[done_date].notna().to_numpy())
        if open_values and len(done):
            slips = rng.choice(done, size=int(rng.binomial(len(done), STATUS_SLIPS)), replace=False)
            cells.iloc[slips, cells.columns.get_loc(status)] = open_values[0]
    blank = pd.DataFrame([[None] * len(cells.columns)], columns=cells.columns)
    cut = int(rng.integers(n // 3, 2 * n // 3)) if n > 3 else n
    return pd.concat([cells.iloc[:cut], blank, cells.iloc[cut:]], ignore_index=True)


def _handmade_workbook(path: Path, parts: list[tuple[Register, pd.DataFrame]], store_name: str, month: str,
                       rng: np.random.Generator, traditional: bool) -> Path:
    """A workbook a store made by hand: title row, renamed headers, an extra column, a signature line."""
    with atomic_path(path) as tmp:
        book = xlsxwriter.Workbook(str(tmp), {"strings_to_numbers": False, "strings_to_urls": False})
        book.set_properties({"created": dt.datetime(2026, 1, 1)})
        date_fmt = book.add_format({"num_format": "yyyy/m/d"})
        time_fmt = book.add_format({"num_format": "yyyy/m/d h:mm"})
        clock_fmt = book.add_format({"num_format": "h:mm"})
        for register, cells in parts:
            ws = book.add_worksheet(register.name_zh[:31])
            ws.write(0, 0, f"{store_name}{register.name_zh}（{month}）")
            for col, f in enumerate(register.fields):
                header = f.aliases[0] if f.aliases and rng.random() < 0.4 else f.label_zh
                if traditional:
                    header = chinese_script(header, "zh-hant")
                if col == 1:
                    header = header[:1] + "\n" + header[1:]
                ws.write_string(2, col, header)
                for r, value in enumerate(cells[f.key].tolist(), start=3):
                    if is_missing(value):
                        continue
                    if isinstance(value, dt.datetime):
                        ws.write_datetime(r, col, value, time_fmt)
                    elif isinstance(value, dt.date):
                        ws.write_datetime(r, col, dt.datetime.combine(value, dt.time()), date_fmt)
                    elif isinstance(value, dt.time):
                        ws.write_datetime(r, col, dt.datetime.combine(dt.date(1899, 12, 31), value), clock_fmt)
                    elif isinstance(value, int | float):
                        ws.write_number(r, col, value)
                    else:
                        ws.write_string(r, col, str(value))
            extra = len(register.fields)
            ws.write_string(2, extra, "录入人")
            for r in range(3, 3 + len(cells)):
                if cells.iloc[r - 3].notna().any():
                    ws.write_string(r, extra, "小张")
            last = 3 + len(cells) + 1
            ws.write_string(last, 0, "制表人：王芳")
            ws.write_string(last, 3, "审核：")
            ws.write_string(last + 1, 0, "注：本表每月5日前报总部客服部")
        book.close()
    return path


def write_demo(out_dir: Path | str, registers: dict[str, Register], month: str = "2026-10", seed: int = 7,
               rows: int = 200) -> list[Path]:
    """Write every store's workbooks for ``month`` under ``out_dir/<code>_<name>/``; same seed, same files."""
    out_dir = Path(out_dir)
    month_start = dt.date.fromisoformat(f"{month}-01")
    rng = np.random.default_rng(seed)
    written: list[Path] = []
    # registers whose values come from another's records (visits from the customer file) are made after it
    order = sorted((r for r in registers.values() if not r.is_answer_form),  # answer forms: lists not yet sent
                   key=lambda r: any("from" in f for f in (_spec(r.id).get("fields") or {}).values()))
    for code, name in STORES:
        folder = out_dir / f"{code}_{name}"
        handmade: list[tuple[Register, pd.DataFrame]] = []
        made: dict[str, pd.DataFrame] = {}
        for register in order:
            n = max(1, int(rows * _spec(register.id).get("rows", 1.0) * rng.uniform(0.7, 1.3)))
            records = _RecordMaker(register, rng, month_start, n, code, made).make()
            made[register.id] = records
            cells = _sprinkle_mistakes(_to_cells(records, register), register, rng)
            if (code, name) == HANDMADE_STORE and register.id in ("complaints", "service", "repairs"):
                handmade.append((register, cells))
                continue
            path = folder / template_filename(register, code, name)
            written.append(_saved_in_month(write_register_workbook(path, [register], code, name,
                                                                   {register.id: cells}), month_start, rng))
        if handmade:
            written.append(_saved_in_month(_handmade_workbook(folder / f"{name}_投诉及报修台账_{month}.xlsx",
                                                              handmade[:2], name, month, rng, traditional=False),
                                           month_start, rng))
        if handmade[2:]:
            written.append(_saved_in_month(_handmade_workbook(folder / f"{name}_售後服務登記_{month}.xlsx",
                                                              handmade[2:], name, month, rng, traditional=True),
                                           month_start, rng))
    return written


def _saved_in_month(path: Path, month_start: dt.date, rng: np.random.Generator) -> Path:
    """A store saves its month's workbook in the month's last days: the file's time says so (the reader
    tells the newer of two versions by it)."""
    end = pd.Timestamp(month_start) + pd.offsets.MonthEnd(0)
    saved = end - pd.Timedelta(days=int(rng.integers(0, 3))) + pd.Timedelta(hours=int(rng.integers(17, 21)))
    stamp = saved.tz_localize("Asia/Shanghai").timestamp()
    os.utime(path, (stamp, stamp))
    return path


def write_store_workbook(path: Path | str, register: Register, store_code: str, store_name: str, rows: int,
                         month: str = "2026-10", seed: int = 7) -> Path:
    """One store's filled template of one register, with the usual mistakes (benchmarks, tests)."""
    rng = np.random.default_rng(seed)
    month_start = dt.date.fromisoformat(f"{month}-01")
    records = _RecordMaker(register, rng, month_start, rows, store_code).make()
    cells = _sprinkle_mistakes(_to_cells(records, register), register, rng)
    return write_register_workbook(Path(path), [register], store_code, store_name, {register.id: cells})
