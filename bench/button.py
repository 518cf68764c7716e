"""Benchmark: what a store's button and a newcomer's first command cost in wall time (run by hand).

    python bench/button.py [--runs 5]

Times, in the same run, the median of several runs of
  1. python -c pass                       the interpreter's own start, the floor every command pays;
  2. taizhang --help                      target 0.3 s (issue 17);
  3. taizhang validate STORE_WORKBOOK     a demo store's complaint register, target 1.0 s;
and prints each with its ratio to the interpreter's start.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).parents[1]


def wall(command: list[str], runs: int, cwd: Path) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, cwd=cwd, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as tmp:
        here = Path(tmp)
        subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {str(ROOT)!r}); "
                        "from toolkit.cli import main; main()", "demo", "demo-data"], cwd=here,
                       capture_output=True, check=True)
        store = next((here / "demo-data" / "001_朝阳店").glob("*complaints*.xlsx"))
        env_cli = [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(ROOT)!r}); "
                   "from toolkit.cli import main; main()"]
        floor = wall([sys.executable, "-c", "pass"], runs, here)
        rows = [("python -c pass", floor, None),
                ("taizhang --help", wall([*env_cli, "--help"], runs, here), 0.3),
                (f"taizhang validate {store.name}", wall([*env_cli, "validate", str(store)], runs, here), 1.0)]
    print(f"median of {runs} runs, wall time")
    for name, seconds, target in rows:
        met = "met" if target is not None and seconds <= target else "NOT met"
        verdict = "" if target is None else f" (target {target:.1f} s: {met})"
        print(f"  {name:<60} {seconds:6.2f} s  {seconds / floor:5.1f}× the interpreter's start{verdict}")


if __name__ == "__main__":
    main()
