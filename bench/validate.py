"""Benchmark: validating 1,000,000 rows of one register (run by hand, not a test).

    python bench/validate.py [--rows 1000000]

Builds the rows a reader gets from calamine for a complaints register (strings, floats, dates, as
staff type them, with a few per cent of mistakes), then times in the same run:
  1. taizhang: parse the columns into types and validate the sheet (vectorised, driven by the definition);
  2. naive: a per-row Python loop doing the same kinds of checks, the way hand-written scripts do.
Prints both times, rows per second and the ratio.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parents[1]))

from toolkit.definitions import load_registers  # noqa: E402
from toolkit.reader import find_header, read_sheet  # noqa: E402
from toolkit.template import header_label  # noqa: E402
from toolkit.validate import validate_sheet  # noqa: E402


def make_rows(n: int, seed: int = 1) -> list[list]:
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
        resolved = received + dt.timedelta(days=3) if status in ("已解决", "已关闭") and i % 50 else ""
        phone = [f"138{i % 10**8:08d}", float(f"139{i % 10**8:08d}"), f"137 {i % 10**4:04d} {i % 10**4:04d}", "12345"][i % 4 if i % 25 == 0 else 0]
        received_cell = received if i % 10 else received.strftime("%Y/%-m/%-d")
        amount = float((i * 37) % 200000) if i % 7 == 0 else ""
        approver = ("部门经理" if amount != "" and amount <= 100000 else "总经理") if amount != "" else ""
        rows.append([f"2611{i:07d}", received_cell, categories[i % 5], "电话", "服务态度", "内容", "张伟", phone,
                     "国内", "王小红", "客服部", status, "已处理", resolved, amount, approver, "", ""])
    return rows


PHONE = re.compile(r"1[3-9]\d{9}|0\d{2,3}\d{7,8}")
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日")


def naive(rows: list[list]) -> int:
    """A per-row loop over dicts, as hand-written validation scripts do it."""
    header = [h.rstrip("*") for h in rows[1]]
    problems = 0
    seen: set[str] = set()
    for row in rows[2:]:
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
        if rec["类型"].strip() not in ("咨询", "建议", "投诉"):
            problems += 1
        if rec["投诉编号"] in seen:
            problems += 1
        seen.add(rec["投诉编号"])
        if rec["处理状态"] in ("已解决", "已关闭") and not rec["解决日期"]:
            problems += 1
        amount = rec["赔偿金额"]
        if amount != "" and amount > 100000 and rec["核决人"] == "部门经理":
            problems += 1
        if isinstance(received, dt.date) and not rec["投诉编号"].startswith(received.strftime("%y%m")):
            problems += 1
    return problems


def taizhang(rows: list[list]) -> int:
    reg = load_registers()["complaints"]
    header = find_header(rows, reg)
    sheet = read_sheet(rows, "bench.xlsx", "投诉", reg, header, 2026)
    return len(validate_sheet(sheet))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    t0 = time.perf_counter()
    rows = make_rows(args.rows)
    print(f"built {args.rows:,} rows x 18 columns in {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    found = taizhang(rows)
    ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    naive_found = naive(rows)
    base = time.perf_counter() - t0
    print(f"taizhang (typed columns + all definition checks): {ours:6.2f} s  {args.rows / ours:>10,.0f} rows/s  "
          f"{found:,} findings")
    print(f"naive per-row loop (a subset of the checks):      {base:6.2f} s  {args.rows / base:>10,.0f} rows/s  "
          f"{naive_found:,} problems")
    print(f"ratio naive / taizhang: {base / ours:.2f}x")


if __name__ == "__main__":
    main()
