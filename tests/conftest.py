"""Shared helpers: workbooks are built by code here, the way staff would have filled them."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest
import xlsxwriter

from toolkit.definitions import load_registers


@pytest.fixture(scope="session")
def registers():
    return load_registers()


def write_workbook(path: Path, sheets: dict[str, list[list]]) -> Path:
    """A plain workbook as a store might make it by hand: each sheet's rows from A1, values as typed."""
    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_urls": False})
    date_fmt = book.add_format({"num_format": "yyyy-mm-dd"})
    stamp_fmt = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    for name, rows in sheets.items():
        ws = book.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, dt.datetime):
                    ws.write_datetime(r, c, value, stamp_fmt)
                elif isinstance(value, dt.date):
                    ws.write_datetime(r, c, dt.datetime.combine(value, dt.time()), date_fmt)
                elif isinstance(value, bool):
                    ws.write_boolean(r, c, value)
                elif isinstance(value, int | float):
                    ws.write_number(r, c, value)
                else:
                    ws.write_string(r, c, str(value))
    book.close()
    return path


COMPLAINT_HEADER = ["投诉编号", "投诉日期", "类型", "渠道", "投诉主题", "投诉内容", "投诉人", "联系方式", "区域",
                    "负责人", "责任部门", "处理状态", "处理结果", "解决日期", "赔偿金额", "核决人"]


def complaint(no="2611001", received=dt.date(2026, 11, 3), category="投诉", subject="安装延误", phone="13800138000",
              status="处理中", resolved=None, compensation=None, approver=None, region="国内") -> list:
    return [no, received, category, "电话", subject, "", "张伟", phone, region, "王小红", "客服部", status, "",
            resolved, compensation, approver]


def libreoffice() -> str | None:
    """The soffice binary; CI sets TAIZHANG_REQUIRE_LIBREOFFICE=1 so that its absence fails instead of skipping."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if not found and os.environ.get("TAIZHANG_REQUIRE_LIBREOFFICE") == "1":
        pytest.fail("LibreOffice is required here (TAIZHANG_REQUIRE_LIBREOFFICE=1) but soffice is not installed")
    return found


@pytest.fixture(scope="session")
def demo_once(tmp_path_factory, registers):
    """The demo stores (fewer rows than the README's demo) and what a clean run makes of them."""
    from tests.torture import consolidate
    from toolkit.demo import write_demo

    folder = tmp_path_factory.mktemp("demo") / "demo"
    write_demo(folder, registers, rows=20)
    clean = consolidate(folder, folder.parent / "clean.xlsx")
    assert clean.code == 0, clean.stderr
    return folder, clean


@pytest.fixture
def demo(demo_once, tmp_path):
    """A fresh copy of the demo stores to plant one bad input in, and the clean run's manifest."""
    folder, clean = demo_once
    copy = tmp_path / "in"
    shutil.copytree(folder, copy)
    os.chmod(tmp_path, 0o755)
    return copy, clean
