"""The torture suite's bounded cases: what one file may cost in memory and time, each run in a fresh
process under a resource limit, among the good demo stores."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
import xlsxwriter

from tests.conftest import COMPLAINT_HEADER, complaint, write_workbook
from tests.test_torture import _keeps_every_demo_row
from tests.torture import ROOT, consolidate

GB = 1 << 30


def _million_rows(path: Path) -> Path:
    """A register sheet of 1,048,575 rows under its header, each row holding one value that is not the key
    (a row of nothing but its key is a pre-numbered blank, not a record): 5 MB of xlsx."""
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = book.add_worksheet("投诉")
    ws.write_row(0, 0, COMPLAINT_HEADER)
    for r in range(1, 1_048_576):
        ws.write_string(r, 1, "x")
    book.close()
    return path


@pytest.fixture(scope="module")
def million(tmp_path_factory):
    return _million_rows(tmp_path_factory.mktemp("million") / "百万行.xlsx")


def test_a_sheet_of_a_million_rows_is_read_and_every_row_rejected_within_2_gb(demo, million, tmp_path):
    """Under a 4 GB address-space limit per process, and within 2 GB resident for the whole process tree
    (parent and workers together) while the million rows are read, validated, rejected and written."""
    folder, clean = demo
    shutil.copy(million, folder / "001_朝阳店" / "百万行.xlsx")
    run = consolidate(folder, tmp_path / "out.xlsx", memory_bytes=4 * GB)
    line = run.line("001_朝阳店/百万行.xlsx")
    assert run.code == 0, run.stderr[-2000:]
    assert line["status"] == "ok" and line["rows_read"] == line["rows_rejected"] == 1_048_575
    _keeps_every_demo_row(run, clean)
    assert 0 < run.peak_tree_mb < 2048, run.peak_tree_mb


def test_a_worker_killed_half_way_costs_only_a_retry_of_its_files(demo, million, tmp_path):
    folder, clean = demo
    shutil.copy(million, folder / "002_海淀店" / "百万行.xlsx")
    command = [sys.executable, "-m", "toolkit.cli", "consolidate", str(folder), "-o", str(tmp_path / "out.xlsx"),
               "--as-of", "2026-11-05", "--json", "--jobs", "2"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    killed = None
    deadline = time.time() + 60
    while killed is None and time.time() < deadline:
        time.sleep(0.5)
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
        workers = [int(c) for c in children if "spawn_main" in Path(f"/proc/{c}/cmdline").read_text(errors="replace")]
        if len(workers) >= 2 and time.time() > deadline - 55:
            killed = workers[0]
            os.kill(killed, signal.SIGKILL)
    out, err = process.communicate(timeout=600)
    assert killed is not None, "no worker to kill"
    import json

    manifest = json.loads(out)
    assert process.returncode == 0, err.decode()[-2000:]
    assert all(f["status"] != "unusable" for f in manifest["files"])  # every file read on its retry
    assert sum(f["rows_accepted"] for f in manifest["files"]) == sum(clean.accepted_by_store().values())


def test_a_zip_bomb_is_refused_before_it_is_inflated(demo, tmp_path):
    folder, clean = demo
    bomb = folder / "003_浦东店" / "炸弹.xlsx"
    write_workbook(bomb, {"投诉": [COMPLAINT_HEADER, complaint()]})
    with zipfile.ZipFile(bomb) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    sheet = members["xl/worksheets/sheet1.xml"]
    members["xl/worksheets/sheet1.xml"] = sheet.replace(b"<sheetData>", b"<sheetData>" + b" " * 120_000_000)
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    assert bomb.stat().st_size < 1_000_000  # 120 MB of sheet in a file under 1 MB: a ratio beyond 100
    (tmp_path / "taizhang.toml").write_text("[limits]\nmax_inflated_mb = 100\n", encoding="utf-8")
    run = consolidate(folder, tmp_path / "out.xlsx", "--config", str(tmp_path / "taizhang.toml"),
                      memory_bytes=4 * GB)
    line = run.line("003_浦东店/炸弹.xlsx")
    assert line["status"] == "unusable" and "文件解压后过大" in line["message"]
    assert run.code == 3
    _keeps_every_demo_row(run, clean)


def test_one_space_in_the_last_cell_of_a_sheet_is_left_out_and_said(demo, tmp_path):
    folder, clean = demo
    path = folder / "001_朝阳店" / "最后一格.xlsx"
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("投诉")
    ws.write_row(0, 0, COMPLAINT_HEADER)
    ws.write_row(1, 0, complaint("2610901", "2026-10-03"))
    ws.write_string(1_048_575, 16_383, " ")  # XFD1048576
    book.close()
    started = time.time()
    run = consolidate(folder, tmp_path / "out.xlsx", memory_bytes=4 * GB)
    line = run.line("001_朝阳店/最后一格.xlsx")
    assert run.code == 0, run.stderr[-2000:]
    assert line["status"] == "ok" and line["rows_accepted"] == 1
    assert any("XFD1048576" in w for w in line["warnings"])
    assert time.time() - started < 300
    assert run.accepted_by_store()["001"] == clean.accepted_by_store()["001"] + 1
    _keeps_every_demo_row(run, clean, but=("001",))


def test_a_sheet_that_claims_16384_columns_or_a_million_rows_costs_what_its_cells_cost(tmp_path):
    """20 rows of a register: with notes typed across all 16,384 columns, or one space typed in A1048576."""
    for name, columns in (("narrow", 0), ("wide", 16_384), ("tall", 0)):
        folder = tmp_path / name / "001_朝阳店"
        folder.mkdir(parents=True)
        book = xlsxwriter.Workbook(str(folder / "投诉.xlsx"))
        ws = book.add_worksheet("投诉")
        ws.write_row(0, 0, COMPLAINT_HEADER)
        for r in range(1, 21):
            ws.write_row(r, 0, complaint(f"26100{r:02d}", "2026-10-03"))
            for c in range(len(COMPLAINT_HEADER), columns, 97):
                ws.write_string(r, c, "备注")
        if name == "tall":
            ws.write_string(1_048_575, 0, " ")
        book.close()
    timings = {}
    for name in ("narrow", "wide", "tall"):
        started = time.time()
        done = subprocess.run([sys.executable, "-m", "toolkit.cli", "validate", str(tmp_path / name), "--json"],
                              cwd=ROOT, capture_output=True, timeout=600)
        timings[name] = time.time() - started
        assert done.returncode in (0, 1), done.stderr.decode()[-2000:]
        assert len(done.stdout) < 2_000_000  # not megabytes of warnings
        if name == "tall":
            import json

            report = json.loads(done.stdout)
            assert any("A1048576" in f["message_zh"] for f in report["findings"])
    assert timings["wide"] < 2 * timings["narrow"] + 5
    assert timings["tall"] < 2 * timings["narrow"] + 5


def test_workers_end_with_a_run_that_is_killed(demo, million):
    folder, _ = demo
    shutil.copy(million, folder / "002_海淀店" / "百万行.xlsx")
    process = subprocess.Popen([sys.executable, "-m", "toolkit.cli", "consolidate", str(folder), "-o",
                                str(folder.parent / "out.xlsx"), "--jobs", "2", "--json"], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: list[str] = []
    deadline = time.time() + 60
    while len(workers) < 2 and time.time() < deadline:
        time.sleep(0.3)
        workers = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    assert len(workers) >= 2
    process.kill()
    process.wait()
    deadline = time.time() + 10
    while time.time() < deadline and any(Path(f"/proc/{w}").exists() and "Z" not in _state(w) for w in workers):
        time.sleep(0.2)
    assert not [w for w in workers if Path(f"/proc/{w}").exists() and "Z" not in _state(w)]
    assert not list(folder.parent.glob("*.xlsx"))  # no partial file under a final name


def _state(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return "Z"
