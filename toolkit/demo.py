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
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter
import yaml
import zhconv

from .coerce import ID_CHECK, ID_WEIGHTS
from .definitions import KEY_DATE_FORMATS, Field, Register
from .files import atomic_path
from .template import is_missing, template_filename, write_register_workbook

STORES = [("001", "朝阳店"), ("002", "海淀店"), ("003", "浦东店"), ("004", "天河店")]
HANDMADE_STORE = ("004", "天河店")
VALUES = yaml.safe_load((Path(__file__).parent / "demo_values.yaml").read_text(encoding="utf-8"))
KEY_PREFIX_LEN = 2


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

    def __init__(self, register: Register, rng: np.random.Generator, month_start: dt.date, n: int, store: str):
        self.reg, self.rng, self.n, self.store = register, rng, n, store
        self.month_start = pd.Timestamp(month_start)
        days = (self.month_start + pd.offsets.MonthEnd(0) - self.month_start).days + 1
        self.base = pd.Series(self.month_start + pd.to_timedelta(np.sort(rng.integers(0, days, n)), unit="D"))
        self.base_time = pd.Series(pd.to_timedelta(rng.integers(8 * 60, 20 * 60, n), unit="m"))

    def column(self, f: Field) -> pd.Series:
        rng, n = self.rng, self.n
        pool = _pool(f.key)
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
        for f in reg.fields:  # optional fields are often left empty
            if not f.required and f.key not in reg.key:
                df.loc[rng.random(n) < 0.25, f.key] = None
        # rules that set a choice go before rules that fill a field in because of a choice
        rules = sorted(reg.rules, key=lambda r: r.kind != "implies" or "in" not in r.params["then"])
        for kind in ("implies", "order", "ladder", "key_matches_date", "duration_matches", "max_gap"):
            for rule in rules:
                if rule.kind == kind:
                    getattr(self, f"_rule_{kind}")(df, rule.params)
        self._keys(df)
        if len(reg.key) > 1:  # a natural key made of several fields: drop the chance collisions
            df = df.drop_duplicates(subset=list(reg.key)).reset_index(drop=True)
        return df

    def _rule_order(self, df: pd.DataFrame, p: dict) -> None:
        keys = p["fields"]
        datetime = self.reg.field(keys[0]).type == "datetime"
        fallback = self.base + (self.base_time if datetime else pd.Timedelta(0))
        prev = pd.to_datetime(df[keys[0]]).fillna(fallback)
        for key in keys[1:]:
            step = pd.to_timedelta(self.rng.integers(5, 90, self.n), unit="m") if datetime else \
                pd.to_timedelta(self.rng.integers(0, 4, self.n), unit="D")
            later = pd.Series(prev + step, index=df.index)
            present = df[key].notna()
            df[key] = later.astype(object).where(present, None)
            prev = later.where(present, prev)

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
        big = self.rng.random(self.n) < 0.05
        amount = amount.where(~big, amount * 40)
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
        return rng.choice(n, size=max(1, int(n * share)), replace=False)

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
            cells.iat[rows(0.01)[0], cells.columns.get_loc(f.key)] = "12345"
        elif f.type == "date" and f.required:
            fmts = ["%Y/%-m/%-d", "%Y年%-m月%-d日", "%Y.%-m.%-d"]
            for i in rows(0.06):
                v = col.iat[i]
                if isinstance(v, dt.date):
                    cells.iat[i, cells.columns.get_loc(f.key)] = v.strftime(rng.choice(fmts))
            i = rows(0.01)[0]
            if isinstance(col.iat[i], dt.date):
                cells.iat[i, cells.columns.get_loc(f.key)] = f"{col.iat[i].month}.{col.iat[i].day}"
        elif f.type == "choice":
            for i in rows(0.04):
                v = col.iat[i]
                if isinstance(v, str):
                    cells.iat[i, cells.columns.get_loc(f.key)] = rng.choice([f" {v} ", zhconv.convert(v, "zh-hant")])
        elif f.type == "integer" and f.max is not None:
            cells.iat[rows(0.01)[0], cells.columns.get_loc(f.key)] = int(f.max) + 2
    required = [f.key for f in register.fields if f.required and f.key not in register.key]
    if required:
        cells.iat[rows(0.01)[0], cells.columns.get_loc(rng.choice(required))] = None
    if len(register.key) == 1 and n > 10:
        cells.iat[n - 3, cells.columns.get_loc(register.key[0])] = cells.iat[n // 2, cells.columns.get_loc(register.key[0])]
    for rule in register.rules:
        if rule.kind == "implies" and rule.severity == "error" and "in" in rule.params["if"]:
            hit = np.flatnonzero(cells[rule.params["if"]["field"]].isin(rule.params["if"]["in"]).to_numpy())
            if len(hit):
                cells.iat[int(rng.choice(hit)), cells.columns.get_loc(rule.params["then"]["field"])] = None
        if rule.kind == "ladder":
            amounts = pd.to_numeric(cells[rule.params["amount"]], errors="coerce")
            big = np.flatnonzero((amounts > rule.params["steps"][0].get("up_to", np.inf)).to_numpy())
            if len(big):
                cells.iat[int(big[0]), cells.columns.get_loc(rule.params["field"])] = rule.params["steps"][0]["level"]
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
                    header = zhconv.convert(header, "zh-hant")
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
    for code, name in STORES:
        folder = out_dir / f"{code}_{name}"
        handmade: list[tuple[Register, pd.DataFrame]] = []
        for register in registers.values():
            if register.is_answer_form:  # the stores' answers to lists they have not been sent yet
                continue
            n = int(rows * rng.uniform(0.7, 1.3))
            records = _RecordMaker(register, rng, month_start, n, code).make()
            cells = _sprinkle_mistakes(_to_cells(records, register), register, rng)
            if (code, name) == HANDMADE_STORE and register.id in ("complaints", "service", "repairs"):
                handmade.append((register, cells))
                continue
            path = folder / template_filename(register, code, name)
            written.append(write_register_workbook(path, [register], code, name, {register.id: cells}))
        if handmade:
            written.append(_handmade_workbook(folder / f"{name}_投诉及报修台账_{month}.xlsx", handmade[:2], name,
                                              month, rng, traditional=False))
        if handmade[2:]:
            written.append(_handmade_workbook(folder / f"{name}_售後服務登記_{month}.xlsx", handmade[2:], name,
                                              month, rng, traditional=True))
    return written


def write_store_workbook(path: Path | str, register: Register, store_code: str, store_name: str, rows: int,
                         month: str = "2026-10", seed: int = 7) -> Path:
    """One store's filled template of one register, with the usual mistakes (benchmarks, tests)."""
    rng = np.random.default_rng(seed)
    month_start = dt.date.fromisoformat(f"{month}-01")
    records = _RecordMaker(register, rng, month_start, rows, store_code).make()
    cells = _sprinkle_mistakes(_to_cells(records, register), register, rng)
    return write_register_workbook(Path(path), [register], store_code, store_name, {register.id: cells})
