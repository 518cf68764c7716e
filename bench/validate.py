"""Benchmark: one big register sheet read from .xlsx and checked, three ways (run by hand, not a test).

    python bench/validate.py [--rows 1000000] [--data bench-data] [--skip-naive] [--openpyxl]

Writes (once; kept in --data) a complaints register of --rows rows × 18 columns as Excel saves it
(XlsxWriter, shared strings; Excel dates, text dates as staff type them, phones as numbers and as text,
a few per cent of mistakes), then times, each in a fresh process, from its imports to its count:
  (a) taizhang end to end: ``check_paths`` (what ``taizhang validate FILE`` runs): read, type every
      column, every check of the definition;
  (b) the skilled analyst: fastexcel → Arrow → polars, and the definition's checks written by hand as
      polars expressions (required, pattern, types, choices, phone, ranges, unique, the five rules);
  (c) the naive way: calamine's rows (faster than openpyxl's) and a per-row Python loop over dicts
      doing a subset of the checks; with --openpyxl also (c') the same loop over openpyxl's read-only
      rows, the way most hand-written scripts read a workbook (minutes on a million rows).
Prints each time, rows per second, what it found and its peak memory, then the ratios issue 17 sets:
(a) within 1.5× of (b), (c) at least 5× (a), peak under 2 GB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))

CLOSED = ("已解决", "已关闭")


def make_rows(n: int, seed: int = 1) -> list[list]:
    """The register's rows as staff fill them: a title row, the header, then n records."""
    import numpy as np

    from toolkit.definitions import load_registers
    from toolkit.template import header_label

    reg = load_registers()["complaints"]
    rng = np.random.default_rng(seed)
    header = [header_label(f) for f in reg.fields]
    days = rng.integers(0, 30, n)
    base = dt.date(2026, 11, 1)
    rows: list[list] = [["客户投诉登记表"], header]
    categories, statuses = ["咨询", "建议", "投诉", "諮詢", " 投诉 "], ["待处理", "处理中", "已解决", "已关闭"]
    for i in range(n):
        received = base + dt.timedelta(days=int(days[i]))
        status = statuses[i % 4]
        resolved = received + dt.timedelta(days=3) if status in CLOSED and i % 50 else ""
        phone = [f"138{i % 10**8:08d}", float(f"139{i % 10**8:08d}"), f"137 {i % 10**4:04d} {i % 10**4:04d}",
                 "12345"][i % 4 if i % 25 == 0 else 0]
        received_cell = received if i % 10 else received.strftime("%Y/%-m/%-d")
        amount = float((i * 37) % 200000) if i % 7 == 0 else ""
        approver = ("部门经理" if amount != "" and amount <= 100000 else "总经理") if amount != "" else ""
        rows.append([f"2611{i:07d}", received_cell, categories[i % 5], "电话", "服务态度", "内容", "张伟", phone,
                     "国内", "王小红", "客服部", status, "已处理", resolved, amount, approver, "", ""])
    return rows


def write_workbook(path: Path, rows: list[list]) -> None:
    """The rows saved as Excel saves them: shared strings, dates as date cells, numbers as numbers."""
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_suffix(".part.xlsx")
    book = xlsxwriter.Workbook(str(part))
    sheet = book.add_worksheet("客户投诉登记表")
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, dt.date):
                sheet.write_datetime(r, c, dt.datetime(value.year, value.month, value.day), day)
            elif isinstance(value, float):
                sheet.write_number(r, c, value)
            elif value != "":
                sheet.write_string(r, c, value)
    book.close()
    part.rename(path)


def run_taizhang(path: Path) -> int:
    from toolkit.check import check_paths
    from toolkit.definitions import load_registers

    return len(check_paths([path], load_registers(), 2026).findings)


def run_analyst(path: Path) -> int:
    """The definition's checks as a skilled analyst writes them in polars, on fastexcel's Arrow columns."""
    import fastexcel
    import polars as pl

    frame = fastexcel.read_excel(str(path)).load_sheet(0, header_row=1).to_polars()
    frame = frame.rename({c: c.rstrip("*") for c in frame.columns})

    def text(name: str) -> pl.Expr:
        return pl.col(name).cast(pl.String).str.strip_chars()

    def day(name: str) -> pl.Expr:
        if frame.schema[name] in (pl.Date, pl.Datetime):
            return pl.col(name).cast(pl.Date)
        value = text(name)
        return pl.coalesce(value.str.to_date("%Y-%m-%d %H:%M:%S", strict=False),
                           value.str.to_date("%Y-%m-%d", strict=False), value.str.to_date("%Y/%m/%d", strict=False),
                           value.str.to_date("%Y年%m月%d日", strict=False))

    def present(name: str) -> pl.Expr:
        return text(name).fill_null("") != ""

    def choice(name: str, options: list[str]) -> pl.Expr:
        return present(name) & ~text(name).replace({"諮詢": "咨询"}).is_in(options)

    amount = pl.col("赔偿金额").cast(pl.Float64, strict=False)
    phone = text("联系方式").str.replace_all(r"[\s\-]", "").str.replace(r"^\+?86", "").str.replace(r"\.0$", "")
    checks = [~present(name) for name in ("投诉编号", "投诉日期", "类型", "投诉主题", "处理状态")]
    checks += [present("投诉编号") & ~text("投诉编号").str.contains(r"^\d{4}\d{3,}$")]
    checks += [present(name) & (day(name).is_null() | ~day(name).dt.year().is_between(1900, 2100))
               for name in ("投诉日期", "解决日期", "回访日期")]
    checks += [choice("类型", ["咨询", "建议", "投诉"]), choice("渠道", ["电话", "邮件", "现场", "网络", "信函"]),
               choice("区域", ["国内", "国外"]), choice("处理状态", ["待处理", "处理中", "已解决", "已关闭"]),
               choice("核决人", ["部门经理", "副总经理", "总经理"])]
    checks += [present("联系方式") & ~phone.str.contains(r"^(?:1[3-9]\d{9}|0\d{2,3}\d{7,8}|[48]00\d{7})$")]
    checks += [present("赔偿金额") & (amount.is_null() | (amount < 0))]
    checks += [present("投诉编号") & text("投诉编号").is_duplicated()]
    checks += [text("处理状态").is_in(CLOSED) & day("解决日期").is_null()]
    checks += [day("投诉日期") > day("解决日期"), day("解决日期") > day("回访日期")]
    checks += [(amount > 0) & ~present("核决人")]
    level = (pl.when(amount <= 100000).then(pl.lit("部门经理")).when(amount <= 150000).then(pl.lit("副总经理"))
             .otherwise(pl.lit("总经理")))
    checks += [(amount > 0) & present("核决人") & (text("核决人") != level)]
    checks += [present("投诉编号") & (text("投诉编号").str.slice(0, 4) != day("投诉日期").dt.strftime("%y%m"))]
    counts = frame.select([check.fill_null(False).sum().alias(str(i)) for i, check in enumerate(checks)])
    return int(counts.sum_horizontal().item())


PHONE = re.compile(r"1[3-9]\d{9}|0\d{2,3}\d{7,8}")
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日")


def calamine_rows(path: Path) -> list[list]:
    import python_calamine as calamine

    return calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()


def openpyxl_rows(path: Path):
    """The rows as openpyxl's read-only mode streams them, empty cells as '' (as calamine gives them)."""
    import openpyxl

    sheet = openpyxl.load_workbook(str(path), read_only=True, data_only=True).worksheets[0]
    for row in sheet.iter_rows(values_only=True):
        yield ["" if v is None else v for v in row]


def run_naive(path: Path, rows=None) -> int:
    """A per-row loop over dicts of a reader's rows, as hand-written validation scripts do it."""
    rows = iter(calamine_rows(path) if rows is None else rows)
    next(rows)  # the title
    header = [str(h).rstrip("*") for h in next(rows)]
    problems = 0
    seen: set[str] = set()
    for row in rows:
        rec = dict(zip(header, row, strict=False))
        for key in ("投诉编号", "投诉日期", "类型", "投诉主题", "处理状态"):
            if rec.get(key) in ("", None):
                problems += 1
        received = rec["投诉日期"]
        if isinstance(received, str):
            for fmt in DATE_FORMATS:
                try:
                    received = dt.datetime.strptime(received, fmt).date()
                    break
                except ValueError:
                    continue
            else:
                problems += 1
        phone = rec["联系方式"]
        if isinstance(phone, float):
            phone = str(int(phone))
        phone = re.sub(r"[\s\-+]", "", str(phone))
        if phone and not PHONE.fullmatch(phone):
            problems += 1
        if str(rec["类型"]).strip() not in ("咨询", "建议", "投诉"):
            problems += 1
        if rec["投诉编号"] in seen:
            problems += 1
        seen.add(rec["投诉编号"])
        if rec["处理状态"] in CLOSED and not rec["解决日期"]:
            problems += 1
        amount = rec["赔偿金额"]
        if amount != "" and amount > 100000 and rec["核决人"] == "部门经理":
            problems += 1
        if isinstance(received, dt.date) and not str(rec["投诉编号"]).startswith(received.strftime("%y%m")):
            problems += 1
    return problems


RUNS = {"taizhang": run_taizhang, "analyst": run_analyst, "naive": run_naive,
        "naive-openpyxl": lambda path: run_naive(path, openpyxl_rows(path))}


def child(kind: str, path: Path) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--run", kind, "--file", str(path)], capture_output=True,
                          text=True, check=False)
    if proc.returncode:
        raise SystemExit(f"{kind} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--data", type=Path, default=Path("bench-data"))
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--openpyxl", action="store_true", help="also the naive loop over openpyxl's rows (slow)")
    parser.add_argument("--run", choices=sorted(RUNS), help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        start = time.perf_counter()
        found = RUNS[args.run](args.file)
        print(json.dumps({"seconds": time.perf_counter() - start, "found": found,
                          "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
        return
    path = args.data / f"validate-{args.rows}.xlsx"
    if not path.exists():
        start = time.perf_counter()
        write_workbook(path, make_rows(args.rows))
        print(f"wrote {path} ({args.rows:,} rows × 18 columns, {path.stat().st_size / 1e6:.0f} MB) "
              f"in {time.perf_counter() - start:.0f} s")
    kinds = ["taizhang", "analyst"] + ([] if args.skip_naive else ["naive"]) + (["naive-openpyxl"] if args.openpyxl
                                                                              else [])
    figures = {kind: child(kind, path) for kind in kinds}
    names = {"taizhang": "(a) taizhang validate (read + every definition check)",
             "analyst": "(b) fastexcel → Arrow + polars checks by hand",
             "naive": "(c) naive: calamine rows + per-row loop",
             "naive-openpyxl": "(c') naive: openpyxl rows + the same loop"}
    for kind, run in figures.items():
        print(f"{names[kind]:<56} {run['seconds']:7.2f} s {args.rows / run['seconds']:>10,.0f} rows/s  "
              f"peak {run['peak_mb']:>6,.0f} MB  found {run['found']:,}")
    ours, analyst = figures["taizhang"], figures["analyst"]
    ratio = ours["seconds"] / analyst["seconds"]
    print(f"(a)/(b) = {ratio:.2f}× (target ≤ 1.5×: {'met' if ratio <= 1.5 else 'NOT met'})")
    for kind, name in (("naive", "(c)"), ("naive-openpyxl", "(c')")):
        if kind in figures:
            speedup = figures[kind]["seconds"] / ours["seconds"]
            print(f"{name}/(a) = {speedup:.2f}× (target ≥ 5×: {'met' if speedup >= 5 else 'NOT met'})")
    print(f"taizhang peak {ours['peak_mb']:,.0f} MB (target < 2,048 MB: "
          f"{'met' if ours['peak_mb'] < 2048 else 'NOT met'})")


if __name__ == "__main__":
    main()
