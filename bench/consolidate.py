"""Benchmark: the monthly consolidation end to end, beside the way people do it today (run by hand).

    python bench/consolidate.py [--stores 300] [--rows 500] [--registers complaints,service,repairs]
                                [--data bench-data] [--skip-naive] [--scaling] [--repeat 3]

Generates N stores × registers filled templates (once; kept in --data for later runs), then times
in the same run, each in a fresh process:
  1. taizhang: read (all cores), validate, consolidate, overdue lists, and write the summary workbook;
  2. naive: pandas.read_excel (openpyxl) per file, pandas.concat per register, DataFrame.to_excel.
Prints both times, the ratio and each run's peak memory (largest process; for taizhang also its
largest worker). taizhang runs --repeat times (it takes seconds; a run on this shared 2-core machine
varies by ±15%) and its median run is the one compared; every run's time is printed. The naive way
runs once (it takes minutes, so its noise is small beside its length). With --scaling, taizhang also
runs on a quarter and a half of the stores, to show how time grows with the number of rows.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))


def _generate_one(args: tuple) -> None:
    folder, code, reg_id, rows, seed = args
    name = f"{int(code)}号店"
    path = Path(folder) / f"{code}_{name}" / f"{code}_{reg_id}.xlsx"
    if path.exists():
        return
    from toolkit.definitions import load_registers
    from toolkit.demo import write_store_workbook

    write_store_workbook(path, load_registers()[reg_id], code, name, rows, seed=seed)


def generate(folder: Path, stores: int, registers: list[str], rows: int) -> None:
    jobs = [(str(folder), f"{s:03d}", reg, rows, s * 31 + i) for s in range(1, stores + 1)
            for i, reg in enumerate(registers)]
    with ProcessPoolExecutor() as pool:
        list(pool.map(_generate_one, jobs, chunksize=8))


def run_taizhang(folder: Path, out: Path) -> dict:
    import datetime as dt

    from toolkit.consolidate import consolidate
    from toolkit.definitions import load_registers
    from toolkit.overdue import overdue_lists
    from toolkit.statistics import month_of
    from toolkit.summary import write_summary

    registers = load_registers()
    start = time.perf_counter()
    result = consolidate(folder, registers)
    read = time.perf_counter() - start
    lists = overdue_lists(result.records, registers, dt.date(2026, 11, 5))
    write_summary(out, result, lists, month_of("2026-10", dt.date(2026, 11, 5)))
    total = time.perf_counter() - start
    rows = sum(f.rows_read for f in result.files)
    return {"seconds": total, "read_validate": read, "write": total - read, "rows": rows, "files": len(result.files)}


def run_naive(folder: Path, out: Path) -> dict:
    import pandas as pd

    start = time.perf_counter()
    frames: dict[str, list] = {}
    files = sorted(folder.rglob("*.xlsx"))
    for path in files:
        sheets = pd.read_excel(path, sheet_name=None, engine="openpyxl", header=1)
        for name, frame in sheets.items():
            if name.startswith("_") or name == "填写说明":
                continue
            frame.insert(0, "来源文件", path.name)
            frames.setdefault(name, []).append(frame)
    with pd.ExcelWriter(out) as writer:
        for name, parts in frames.items():
            pd.concat(parts, ignore_index=True).to_excel(writer, sheet_name=name[:31], index=False)
        engine = writer.engine
    rows = sum(len(f) for parts in frames.values() for f in parts)
    return {"seconds": time.perf_counter() - start, "rows": rows, "files": len(files), "engine": engine}


def _child(kind: str, folder: Path, out: Path) -> dict:
    """Run one approach in a fresh process; report its figures and peak memory."""
    proc = subprocess.run([sys.executable, __file__, "--run", kind, "--data", str(folder), "--out", str(out)],
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stores", type=int, default=300)
    parser.add_argument("--rows", type=int, default=500)
    parser.add_argument("--registers", default="complaints,service,repairs")
    parser.add_argument("--data", type=Path, default=Path("bench-data"))
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--scaling", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--run", choices=["taizhang", "naive"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        figures = (run_taizhang if args.run == "taizhang" else run_naive)(args.data, args.out)
        figures["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        figures["worker_peak_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(json.dumps(figures))
        return
    registers = args.registers.split(",")
    data = args.data / f"{args.stores}x{len(registers)}x{args.rows}"
    start = time.perf_counter()
    generate(data, args.stores, registers, args.rows)
    print(f"data: {data} ({args.stores} stores × {len(registers)} registers × ~{args.rows} rows; "
          f"generated/checked in {time.perf_counter() - start:.1f} s; {os.cpu_count()} cores)")
    out = args.data / "out"
    out.mkdir(parents=True, exist_ok=True)
    runs = sorted((_child("taizhang", data, out / "taizhang.xlsx") for _ in range(max(1, args.repeat))),
                  key=lambda run: run["seconds"])
    ours = runs[len(runs) // 2]
    times = ", ".join(f"{run['seconds']:.1f} s" for run in runs)
    print(f"taizhang runs: {times}; the median run:")
    print(f"taizhang: {ours['seconds']:.1f} s for {ours['rows']:,} rows in {ours['files']} files "
          f"(read+validate {ours['read_validate']:.1f} s, overdue+summary workbook {ours['write']:.1f} s), "
          f"{ours['rows'] / ours['seconds']:,.0f} rows/s, peak {ours['peak_mb']:.0f} MB "
          f"(largest worker {ours['worker_peak_mb']:.0f} MB)")
    if args.scaling:
        for share in (4, 2):
            part = args.data / f"{args.stores}x{len(registers)}x{args.rows}-1of{share}"
            if not part.exists():
                for folder in sorted(data.iterdir())[: args.stores // share]:
                    shutil.copytree(folder, part / folder.name, copy_function=os.link)
            small = _child("taizhang", part, out / f"taizhang-1of{share}.xlsx")
            print(f"  scaling: 1/{share} of the stores: {small['rows']:,} rows in {small['seconds']:.1f} s "
                  f"({small['rows'] / small['seconds']:,.0f} rows/s)")
    if not args.skip_naive:
        naive = _child("naive", data, out / "naive.xlsx")
        print(f"naive (read_excel openpyxl + concat + to_excel {naive['engine']}): {naive['seconds']:.1f} s for "
              f"{naive['rows']:,} rows, peak {naive['peak_mb']:.0f} MB")
        print(f"ratio naive / taizhang (median run): {naive['seconds'] / ours['seconds']:.1f}× "
              f"(slowest run {naive['seconds'] / runs[-1]['seconds']:.1f}×, fastest {naive['seconds'] / runs[0]['seconds']:.1f}×)")


if __name__ == "__main__":
    main()
