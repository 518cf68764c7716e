"""The month's summary workbook and the stores' overdue workbooks, as head office gets them."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import zipfile

import openpyxl
import pandas as pd
import pytest
import python_calamine as calamine
from click.testing import CliRunner

from tests.conftest import libreoffice
from toolkit import xlsx
from toolkit.cli import main
from toolkit.statistics import Table
from toolkit.summary import SummaryWriter
from toolkit.xlsx import Book, Column

MANIFEST_KEYS = {"path", "status", "store_code", "store_name", "registers", "sha256", "rows_read", "rows_accepted",
                 "rows_rejected", "message", "kind", "rows_skipped", "skipped", "warnings", "sheets"}


@pytest.fixture(scope="module")
def month(tmp_path_factory):
    """The demo month (four stores, nine registers) consolidated once through the command line."""
    root = tmp_path_factory.mktemp("month")
    runner = CliRunner()
    assert runner.invoke(main, ["demo", str(root / "in"), "--rows", "40"]).exit_code == 0
    out = root / "汇总.xlsx"
    result = runner.invoke(main, ["consolidate", str(root / "in"), "-o", str(out), "--month", "2026-10",
                                  "--as-of", "2026-11-05", "--json", "--jobs", "2"])
    assert result.exit_code == 0, result.output
    return root, out, json.loads(result.stdout)


def test_consolidate_json_is_exactly_the_manifest(month):
    root, out, manifest = month
    assert set(manifest) == {"files", "output"} and manifest["output"] == str(out)
    assert len(manifest["files"]) == 35
    for f in manifest["files"]:
        assert set(f) == MANIFEST_KEYS
        assert f["status"] == "ok" and f["store_code"] in {"001", "002", "003", "004"}
        assert f["rows_read"] == f["rows_accepted"] + f["rows_rejected"]
        assert len(f["sha256"]) == 64


def test_the_summary_workbook_has_every_sheet_a_manager_expects(month):
    _, out, manifest = month
    book = calamine.CalamineWorkbook.from_path(str(out))
    names = book.sheet_names
    for expected in ("总览", "客户投诉登记表统计", "逾期清单", "即将到期", "客户关怀", "问题数据", "问题明细", "文件清单",
                     "客户投诉登记表", "报修登记表"):
        assert expected in names
    overview = book.get_sheet_by_name("总览").to_python()
    header = overview[3]
    assert header[:4] == ["登记表", "门店编号", "门店名称", "记录数"]
    subtotal = next(r for r in overview if r[0] == "客户投诉登记表" and r[1] == "小计")
    accepted = sum(f["rows_accepted"] for f in manifest["files"] if f["registers"] == ["complaints"])
    complaints_rows = book.get_sheet_by_name("客户投诉登记表").to_python()
    assert subtotal[3] == len(complaints_rows) - 1
    assert accepted <= subtotal[3]  # store 004 sends complaints inside a two-register workbook
    rejected = book.get_sheet_by_name("问题数据").to_python()
    assert len(rejected) - 1 == sum(f["rows_rejected"] for f in manifest["files"])
    stats = book.get_sheet_by_name("客户投诉登记表统计").to_python()
    assert any(r and r[0] == "客户投诉案件统计表（按类型）" for r in stats)


def test_records_have_source_columns_real_dates_a_table_and_a_frozen_header(month):
    _, out, _ = month
    book = openpyxl.load_workbook(out)
    ws = book["客户投诉登记表"]
    assert [c.value for c in ws[1]][:6] == ["门店编号", "门店名称", "来源文件", "工作表", "行号", "投诉编号"]
    assert isinstance(ws["G2"].value, dt.datetime) and ws["G2"].number_format == "yyyy-mm-dd"
    assert ws.freeze_panes == "A2"
    (table,) = ws.tables.values()
    assert table.ref == f"A1:{ws.cell(1, ws.max_column).column_letter}{ws.max_row}"
    assert book["_taizhang"].sheet_state == "veryHidden"


def test_a_rerun_over_a_folder_holding_last_runs_summary_ignores_it(month, tmp_path):
    root, out, _ = month
    inside = root / "in" / "汇总_上次.xlsx"
    inside.write_bytes(out.read_bytes())
    try:
        result = CliRunner().invoke(main, ["consolidate", str(root / "in"), "-o", str(tmp_path / "again.xlsx"),
                                           "--month", "2026-10", "--as-of", "2026-11-05", "--json", "--jobs", "1"])
        files = {f["path"]: f for f in json.loads(result.stdout)["files"]}
        assert files["汇总_上次.xlsx"]["status"] == "ignored"
    finally:
        inside.unlink()


def test_last_months_summary_gives_the_change_columns(month, tmp_path):
    root, out, _ = month
    again = tmp_path / "11月.xlsx"
    result = CliRunner().invoke(main, ["consolidate", str(root / "in"), "-o", str(again), "--month", "2026-10",
                                       "--as-of", "2026-11-05", "--previous", str(out), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    overview = calamine.CalamineWorkbook.from_path(str(again)).get_sheet_by_name("总览").to_python()
    header = overview[3]
    assert "记录数变化" in header and "逾期变化" in header
    changes = [r[header.index("记录数变化")] for r in overview[4:] if r[1] not in ("", None)]
    assert changes and all(c == 0 for c in changes)


def test_overdue_split_by_store_writes_one_workbook_per_store_and_json_lists_them(month, tmp_path):
    root, _, _ = month
    result = CliRunner().invoke(main, ["overdue", str(root / "in"), "--as-of", "2026-11-05", "--split-by", "store",
                                       "-o", str(tmp_path), "--json", "--jobs", "1"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["as_of"] == "2026-11-05" and payload["items"]
    assert set(payload["items"][0]) == {"register", "store_code", "store_name", "key", "customer", "owner", "rule",
                                        "due", "days_overdue", "status", "data_error", "feedback"}
    names = sorted(p.name for p in tmp_path.glob("*.xlsx"))
    assert names == [f"{s}_逾期清单_2026-11-05.xlsx" for s in ("001_朝阳店", "002_海淀店", "003_浦东店", "004_天河店")]
    book = calamine.CalamineWorkbook.from_path(str(tmp_path / names[0]))
    store = book.get_sheet_by_name("逾期清单").to_python()
    expected = [i for i in payload["items"] if i["store_code"] == "001"]
    header = store[0]
    assert len(store) - 1 == len(expected)
    assert {(r[header.index("编号")], r[header.index("规则")]) for r in store[1:]} == {
        (i["key"], _rule_name(i)) for i in expected}
    # the store's own list: no store columns, something to fill in and send back
    assert "门店编号" not in header and "门店名称" not in header
    assert header.index("处理情况") == header.index("上次反馈") + 1 and "备注" in header
    # dates are date cells, days counted forward on both lists
    assert all(isinstance(r[header.index("应完成日期")], dt.date) for r in store[1:])
    assert all(r[header.index("逾期天数")] > 0 for r in store[1:])
    soon = book.get_sheet_by_name("即将到期").to_python()
    if len(soon) > 1:
        assert all(r[soon[0].index("还有几天")] >= 0 for r in soon[1:])
    # grouped by register, then by owner, the longest overdue first
    order = [(r[header.index("登记表")], r[header.index("负责人")], -r[header.index("逾期天数")]) for r in store[1:]]
    groups = [o[0] for o in order]
    assert all(groups.index(g) == i or groups[i - 1] == g for i, g in enumerate(groups))
    for a, b in zip(order, order[1:], strict=False):
        if a[0] == b[0] and a[1] == b[1]:
            assert a[2] <= b[2]
    cover = [" ".join(str(c) for c in row) for row in book.get_sheet_by_name("说明").to_python()]
    text = "\n".join(cover)
    assert "门店：001 朝阳店" in text and "统计截至 2026-11-05" in text and "处理情况" in text and "前将本工作簿回传" in text
    assert "按登记表和规则" in text and "按负责人" in text and "逾期最久的三项" in text and "规则说明" in text
    oldest = max(expected, key=lambda i: i["days_overdue"])
    assert oldest["key"] in text


def _rule_name(item: dict) -> str:
    from toolkit.definitions import load_registers

    register = load_registers()[item["register"]]
    return next(d.name_zh for d in register.deadlines if d.id == item["rule"])


def test_a_register_longer_than_an_excel_sheet_continues_on_a_second_sheet(tmp_path, monkeypatch):
    monkeypatch.setattr(xlsx, "EXCEL_MAX_ROWS", 11)
    frame = pd.DataFrame({"n": range(25), "t": [f"第{i}行" for i in range(25)]})
    book = Book(tmp_path / "long.xlsx")
    names = book.bulk_sheet("记录", frame, [Column("n", "序号", "number", "0"), Column("t", "内容", "text")])
    book.close()
    assert names == ["记录", "记录(2)", "记录(3)"]
    read = calamine.CalamineWorkbook.from_path(str(tmp_path / "long.xlsx"))
    rows = [r for name in names for r in read.get_sheet_by_name(name).to_python()[1:]]
    assert [int(r[0]) for r in rows] == list(range(25)) and rows[-1][1] == "第24行"


def test_text_that_looks_like_markup_or_a_formula_is_written_as_plain_text(tmp_path):
    frame = pd.DataFrame({"t": ["<b>&amp;</b>", "=1+1", "line\x01break", None, "_x0041_"]})
    book = Book(tmp_path / "t.xlsx")
    book.bulk_sheet("记录", frame, [Column("t", "内容", "text")])
    book.close()
    ws = openpyxl.load_workbook(tmp_path / "t.xlsx")["记录"]
    assert ws.cell(3, 1).data_type == "s" and ws.cell(3, 1).value == "=1+1"
    # a control character is kept as Excel keeps it (_x0001_), and text that looks like that escape as typed
    rows = calamine.CalamineWorkbook.from_path(str(tmp_path / "t.xlsx")).get_sheet_by_name("记录").to_python()
    assert [r[0] for r in rows[1:]] == ["<b>&amp;</b>", "=1+1", "line\x01break", "", "_x0041_"]


def test_a_store_name_on_every_row_is_stored_once_as_excel_stores_text(tmp_path):
    stores = pd.DataFrame({"store": ["朝阳店", "海淀店", None] * 400, "n": range(1200)})
    visits = pd.DataFrame({"who": ["海淀店", "张三 "] * 10})
    book = Book(tmp_path / "shared.xlsx")
    book.add_sheet("说明").write(0, 0, "朝阳店")
    book.bulk_sheet("记录", stores, [Column("store", "门店", "text"), Column("n", "序号", "number", "0")])
    book.bulk_sheet("回访", visits, [Column("who", "对象", "text")])
    book.close()
    with zipfile.ZipFile(tmp_path / "shared.xlsx") as z:
        table = z.read("xl/sharedStrings.xml").decode()
    texts = re.findall(r"<si><t[^>]*>(.*?)</t></si>", table)
    assert sorted(t for t in texts if t in ("朝阳店", "海淀店", "张三 ")) == ["张三 ", "朝阳店", "朝阳店", "海淀店"]
    assert int(re.search(r'uniqueCount="(\d+)"', table).group(1)) == len(texts)
    read = openpyxl.load_workbook(tmp_path / "shared.xlsx")
    assert [read["记录"].cell(r, 1).value for r in range(2, 6)] == ["朝阳店", "海淀店", None, "朝阳店"]
    assert read["记录"].cell(1201, 2).value == 1199 and read["回访"].cell(3, 1).value == "张三 "


def test_libreoffice_opens_the_summary_and_the_overdue_workbooks(month, tmp_path):
    soffice = libreoffice()
    if soffice is None:
        pytest.skip("LibreOffice is not installed")
    _, out, _ = month
    result = subprocess.run(
        [soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/profile", "--convert-to", "pdf",
         "--outdir", str(tmp_path), str(out)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    pdf = tmp_path / f"{out.stem}.pdf"
    assert pdf.exists() and pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 20000


def test_a_months_parts_sales_in_the_millions_fit_their_column_instead_of_showing_hashes(tmp_path, registers):
    frame = pd.DataFrame({"服务类型": ["维修", "安装", "合计"], "服务次数": [1200, 800, 2000],
                          "配件销售额": [1_023_456.5, 350_000.55, 1_373_457.05]})
    table = Table("by_type", "售后服务统计", "Service statistics", frame,
                  {"服务类型": "text", "服务次数": "integer", "配件销售额": "decimal"}, 1)
    writer = SummaryWriter(tmp_path / "s.xlsx")
    writer.statistics(registers["service"], [table])
    writer.close("summary")
    ws = openpyxl.load_workbook(tmp_path / "s.xlsx")["售后服务登记表统计"]
    assert ws.cell(7, 1).value == "合计" and ws.cell(7, 3).value == 1_373_457.05
    width = next(d.width for d in ws.column_dimensions.values() if d.min <= 3 <= d.max)  # ranges share one entry
    assert width >= len("1,373,457.05") + 1


def test_a_summary_is_written_for_every_month_every_single_register_and_the_whole_demo(tmp_path, registers):
    """Months before the data, the data's month, months after it (no duty rows in November: the default
    month on 2026-12-01 used to crash) × each register alone and all of them together."""
    from toolkit.consolidate import consolidate
    from toolkit.demo import write_demo
    from toolkit.overdue import overdue_lists
    from toolkit.summary import write_summary

    subsets = [dict(registers)] + [{reg_id: register} for reg_id, register in registers.items()]
    for i, chosen in enumerate(subsets):
        write_demo(tmp_path / f"demo{i}", chosen, rows=8)
        result = consolidate(tmp_path / f"demo{i}", chosen, jobs=1)
        lists = overdue_lists(result.records, chosen, dt.date(2026, 12, 1))
        for month in ("2026-08", "2026-09", "2026-10", "2026-11", "2026-12"):
            out = write_summary(tmp_path / f"{month}_{i}.xlsx", result, lists, pd.Period(month))
            assert "总览" in calamine.CalamineWorkbook.from_path(str(out)).sheet_names, (month, list(chosen))


def _chart_parts(path) -> list[dict]:
    """Each chart of a workbook: its kind, its value axes' titles, its series' header names and the
    number of categories it plots."""
    charts = []
    with zipfile.ZipFile(path) as z:
        for name in sorted(n for n in z.namelist() if n.startswith("xl/charts/chart")):
            xml = z.read(name).decode()
            kinds = re.findall(r"<c:(barChart|lineChart|pieChart|areaChart|scatterChart)>", xml)
            axes = re.findall(r"<c:valAx>.*?</c:valAx>", xml, re.S)
            charts.append({
                "kinds": kinds,
                "axis_titles": [re.findall(r"<a:t>([^<]*)</a:t>", a) for a in axes],
                "series": re.findall(r"<c:tx><c:strRef><c:f>[^<]*</c:f><c:strCache><c:ptCount val=\"1\"/>"
                                     r"<c:pt idx=\"0\"><c:v>([^<]*)</c:v>", xml),
                "points": [int(n) for n in re.findall(r"<c:cat>.*?<c:ptCount val=\"(\d+)\"", xml, re.S)],
            })
    return charts


def test_a_chart_never_puts_counts_rates_and_money_on_one_axis(month, registers):
    """结案件数 138, 平均处理天数 1.51 and 赔偿金额 553,618 on one axis showed only the money."""
    from toolkit.statistics import unit_of

    _, out, _ = month
    units: dict[str, set[str]] = {}
    for register in registers.values():
        for s in register.summaries:
            for m in s.values:
                units.setdefault(m.name_zh, set()).add(unit_of(m, register))
    charts = _chart_parts(out)
    assert charts
    for chart in charts:
        assert len(chart["kinds"]) == 1 and len(chart["axis_titles"]) <= 1
        shown = set().union(*(units.get(name, {"件数"}) for name in chart["series"]))
        assert len(shown) == 1, chart
        if chart["axis_titles"]:
            assert chart["axis_titles"][0] == [shown.pop()]
    rates = [c for c in charts if c["axis_titles"] == [["比率"]]]
    assert any("15分钟到场率" in c["series"] for c in rates)  # the repairs' 到场及时率 chart plots the rate


def test_a_trend_of_one_month_is_not_an_empty_line(month):
    """不良事件按月分布 over a single month was a line plot with one point: nothing to see."""
    _, out, _ = month
    for chart in _chart_parts(out):
        if chart["kinds"] == ["lineChart"]:
            assert min(chart["points"]) >= 2


def test_complaints_by_responsible_department_have_their_chart(month):
    _, out, _ = month
    assert any(c["series"] == ["结案件数"] for c in _chart_parts(out))
    titles = []
    with zipfile.ZipFile(out) as z:
        for n in z.namelist():
            if n.startswith("xl/charts/"):
                titles += re.findall(r"<a:t>([^<]*)</a:t>", z.read(n).decode())
    assert any(t.startswith("客户投诉案件统计表（按责任部门）") for t in titles)


def test_every_sheet_of_the_summary_prints_on_a4_landscape_one_page_wide(month):
    _, out, _ = month
    with zipfile.ZipFile(out) as z:
        workbook = z.read("xl/workbook.xml").decode()
        names = re.findall(r'<sheet name="([^"]+)" sheetId="\d+" (?:state="\w+" )?r:id="rId(\d+)"', workbook)
        defined = re.findall(r'<definedName name="_xlnm\.(Print_Titles|Print_Area)" localSheetId="(\d+)"[^>]*>'
                             r"([^<]*)<", workbook)
        for index, (name, rid) in enumerate(names):
            xml = z.read(f"xl/worksheets/sheet{rid}.xml").decode()
            if name == "_taizhang":
                continue
            setup = re.search(r"<pageSetup[^>]*/>", xml).group(0)
            assert 'paperSize="9"' in setup and 'orientation="landscape"' in setup, name
            assert 'fitToHeight="0"' in setup and "<pageSetUpPr fitToPage=\"1\"/>" in xml, name
            assert "&amp;A" in xml and "&amp;P" in xml and "&amp;N" in xml, name  # sheet name, page of pages
            mine = {kind: ref for kind, sheet, ref in defined if int(sheet) == index}
            if name in ("总览", "逾期清单", "即将到期", "问题数据", "问题明细", "文件清单"):
                assert "Print_Titles" in mine, name  # the header row on every page
            if name in ("客户投诉登记表", "报修登记表"):  # records: for filtering, printed when chosen
                assert mine["Print_Area"].endswith("$1"), name


def test_long_messages_wrap_in_their_column_and_rows_grow_to_hold_them(month):
    _, out, _ = month
    book = openpyxl.load_workbook(out)
    ws = book["问题明细"]
    header = [c.value for c in ws[1]]
    message = header.index("问题说明") + 1
    assert ws.cell(2, message).alignment.wrap_text
    assert ws.column_dimensions[openpyxl.utils.get_column_letter(message)].width <= 41
    long = next(r for r in range(2, ws.max_row + 1) if len(str(ws.cell(r, message).value or "")) > 40)
    assert ws.row_dimensions[long].height and ws.row_dimensions[long].height >= 30
    lists = book["逾期清单"]
    header = [c.value for c in lists[1]]
    source = header.index("来源文件") + 1
    widest = max(len(str(lists.cell(r, source).value or "")) for r in range(2, lists.max_row + 1))
    assert lists.column_dimensions[openpyxl.utils.get_column_letter(source)].width >= widest  # one line, not cut


def test_the_overview_notes_wrap_within_the_table_so_a_few_stores_print_at_a_readable_size(tmp_path, registers):
    """A note left to run on past the table makes the page as wide as the note (fit to one page wide): the
    overview of one store then prints in a tiny font. Each note is merged across the table's columns, wrapped."""
    from tests.conftest import COMPLAINT_HEADER, complaint, write_workbook
    from toolkit.consolidate import consolidate
    from toolkit.overdue import overdue_lists
    from toolkit.summary import write_summary

    (tmp_path / "in" / "001_朝阳店").mkdir(parents=True)
    write_workbook(tmp_path / "in" / "001_朝阳店" / "投诉.xlsx", {"投诉": [COMPLAINT_HEADER, complaint()]})
    result = consolidate(tmp_path / "in", registers)
    out = write_summary(tmp_path / "汇总.xlsx", result, overdue_lists(result.records, registers, dt.date(2026, 11, 5)),
                        None)
    sheet = openpyxl.load_workbook(out)["总览"]
    notes = [r for r in sheet.merged_cells.ranges if str(sheet.cell(r.min_row, 1).value or "").startswith(("说明", "打印"))]
    header = next(c for c in sheet[4] if c.value == "登记表").row
    width = max(c.column for c in sheet[header] if c.value)
    assert len(notes) == 2 and all(r.min_col == 1 and r.max_col == width for r in notes)
    assert all(sheet.cell(r.min_row, 1).alignment.wrap_text for r in notes)
