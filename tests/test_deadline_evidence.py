"""What ends a deadline, as the records themselves say it: a later milestone, a date typed although the
status was not updated, a date after the day of the list. Each table is records with their known verdict
on an as-of day; the lists must hold exactly the items expected, and nothing else."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from tests.conftest import COMPLAINT_HEADER, complaint, write_workbook
from toolkit.check import check_paths
from toolkit.consolidate import consolidate
from toolkit.definitions import load_registers
from toolkit.overdue import overdue_lists

AS_OF = dt.date(2026, 11, 5)
REPAIR_HEADER = ["报修单号", "报修时间", "报修内容", "维修人员", "派工时间", "到场时间", "完成时间", "业主签字"]
VISIT_HEADER = ["日期", "客户名称", "方式", "意向级别", "下次回访日期", "拜访人"]


def _lists(tmp_path, sheets: dict[str, list[list]], registers, as_of=AS_OF):
    folder = tmp_path / "in" / "001_朝阳店"
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in sheets.items():
        write_workbook(folder / f"{name}.xlsx", {name: rows})
    result = consolidate(tmp_path / "in", registers, jobs=1)
    assert result.rows_rejected == 0, result.rejected[["source_row", "reason_zh"]].to_string()
    return overdue_lists(result.records, registers, as_of)


def _items(frame) -> set[tuple[str, str]]:
    return set(zip(frame["key"], frame["rule"], strict=True))


def at(day: int, hour: int = 9, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute)


def test_a_repair_that_was_fixed_or_is_on_site_was_dispatched_and_one_fixed_after_the_day_was_not(
        tmp_path, registers):
    rows = [
        REPAIR_HEADER,
        ["R1", at(4), "水龙头漏水", "李师傅", None, None, at(4, 10), "是"],  # fixed: dispatched and on site too
        ["R2", at(4), "灯不亮", "李师傅", None, None, None, None],  # nothing: late on all three
        ["R3", at(4), "门锁坏", "李师傅", None, at(4, 9, 40), None, None],  # on site: dispatched, not fixed
        ["R4", at(4), "空调不制冷", "李师傅", None, None, dt.datetime(2026, 11, 6, 10), "是"],  # fixed the day after
    ]
    lists = _lists(tmp_path, {"报修": rows}, registers)
    assert _items(lists.items) == {
        ("R2", "repair_respond"), ("R2", "repair_on_site"), ("R2", "repair_fixed"),
        ("R3", "repair_fixed"),
        ("R4", "repair_respond"), ("R4", "repair_on_site"), ("R4", "repair_fixed"),
    }
    assert _items(lists.due_soon) == {("R1", "repair_return_visit")}  # completed 11-04 10:00 + 3 days


def test_a_complaint_is_done_on_its_resolved_date_whatever_the_status_and_not_before_it(tmp_path, registers):
    lists = _lists(tmp_path, {"投诉": [
        COMPLAINT_HEADER,
        complaint("2610001", dt.date(2026, 10, 1), status="处理中", resolved=dt.date(2026, 10, 10)),  # done 10-10
        complaint("2610002", dt.date(2026, 10, 1), status="处理中", resolved=dt.date(2026, 11, 20)),  # done later
        complaint("2610004", dt.date(2026, 10, 1), status="处理中"),
    ]}, registers)
    overdue = lists.items.set_index("key")
    assert set(overdue.index) == {"2610002", "2610004"}
    assert overdue.loc["2610002", "due"] == "2026-10-14" and overdue.loc["2610002", "days_overdue"] == 22
    # the list of 2026-11-25 no longer has 2610002: it was resolved on 11-20
    later = _lists(tmp_path, {}, registers, dt.date(2026, 11, 25))
    assert set(later.items["key"]) == {"2610004"}


def test_the_status_left_open_beside_a_resolved_date_is_a_warning_for_the_store(tmp_path, registers):
    path = write_workbook(tmp_path / "投诉.xlsx", {"投诉": [
        COMPLAINT_HEADER, complaint("2611001", status="处理中", resolved=dt.date(2026, 11, 4))]})
    findings = check_paths([path], registers).findings
    (warning,) = findings[findings["code"] == "row-constraint"].itertuples()
    assert warning.severity == "warning" and warning.field == "status"
    assert warning.message_zh == "第2行「处理状态」: 「处理状态」为「处理中」，但已填「解决日期」，按已于该日完成计；请更新处理状态"


def test_a_planned_next_visit_stands_for_the_intent_level_cadence(tmp_path, registers):
    lists = _lists(tmp_path, {"拜访": [
        VISIT_HEADER,
        [dt.date(2026, 10, 20), "甲公司", "电话", "H", dt.date(2026, 11, 10), "赵六"],  # planned for 11-10
        [dt.date(2026, 10, 20), "乙公司", "电话", "H", None, "赵六"],  # none planned: H is 2 days
        [dt.date(2026, 10, 20), "丙公司", "电话", "B", dt.date(2026, 11, 1), "赵六"],  # planned, missed
    ]}, registers)
    assert _items(lists.items) == {("乙公司", "intent_follow_up"), ("丙公司", "next_visit_missed")}


COMPANY_COMPLAINTS = """
id: hq_complaints
name_zh: 客诉台账
name_en: Complaints register
key: record_no
date: received_date
fields:
  - {key: record_no, label_zh: 编号, label_en: No., type: text, required: true}
  - {key: received_date, label_zh: 投诉日期, label_en: Received, type: date, required: true}
  - {key: due_date, label_zh: 应结案日期, label_en: Due, type: date}
  - {key: closed_date, label_zh: 结案日期, label_en: Closed, type: date}
  - {key: status, label_zh: 结案状态, label_en: Status, type: choice, options: [跟进中, 已结案]}
deadlines:
  - id: close
    name_zh: 超期未结案
    name_en: Not closed in time
    from: received_date
    due: due_date
    limit: 10 working days
    warn: 3 working days
    done: {field: status, in: [已结案]}
    done_date: closed_date
"""


@pytest.fixture
def company_registers(tmp_path):
    (tmp_path / "defs").mkdir()
    (tmp_path / "defs" / "hq_complaints.yaml").write_text(COMPANY_COMPLAINTS, encoding="utf-8")
    return load_registers([tmp_path / "defs"])


def test_a_typed_due_date_wins_over_the_rule_and_the_warning_window_is_three_working_days(tmp_path, company_registers):
    """As of Thursday 2026-11-05, three working days ahead is Tuesday 11-10. 10-28 + 10 working days is 11-11."""
    header = ["编号", "投诉日期", "应结案日期", "结案日期", "结案状态"]
    lists = _lists(tmp_path, {"客诉": [
        header,
        ["K1", dt.date(2026, 10, 20), dt.date(2026, 11, 4), None, "跟进中"],  # typed due 11-04: 1 day late
        ["K2", dt.date(2026, 10, 28), None, None, "跟进中"],  # due 11-11 by the rule: beyond the window
        ["K3", dt.date(2026, 11, 2), dt.date(2026, 11, 10), None, "跟进中"],  # typed 11-10: due soon
        ["K4", dt.date(2026, 10, 1), None, dt.date(2026, 10, 9), "跟进中"],  # closed 10-09 by its date
        ["K5", dt.date(2026, 10, 1), dt.date(2026, 10, 5), None, "已结案"],  # closed by status
    ]}, company_registers)
    assert [(r.key, r.due, r.days_overdue) for r in lists.items.itertuples()] == [("K1", "2026-11-04", 1)]
    assert list(lists.due_soon["key"]) == ["K3"]


def test_the_on_time_rate_counts_a_record_still_open_past_its_deadline_as_a_miss(tmp_path, registers):
    """Two repairs fixed within 4 hours, one fixed late, one open and late, one reported late on the day
    (not yet due): 2 on time of 4 counted is 50 %, and the one open late is the one 4小时内未修复 item."""
    from toolkit.statistics import measure

    rows = [
        REPAIR_HEADER,
        ["R1", at(4, 8), "漏水", "李师傅", at(4, 8, 10), at(4, 8, 20), at(4, 10), "是"],
        ["R2", at(4, 9), "灯不亮", "李师傅", at(4, 9, 10), at(4, 9, 40), at(4, 12), "是"],
        ["R3", at(4, 9), "门锁坏", "李师傅", at(4, 9, 10), at(4, 9, 40), at(4, 15), "是"],  # fixed after 6 h
        ["R4", at(4, 9), "空调", "李师傅", at(4, 9, 10), at(4, 9, 40), None, None],  # open, due 11-04 13:00
        ["R5", at(5, 23), "停电", "李师傅", at(5, 23, 10), None, None, None],  # due 11-06 03:00: not yet
    ]
    lists = _lists(tmp_path, {"报修": rows}, registers)
    fixed_items = lists.items[lists.items["rule"] == "repair_fixed"]
    assert list(fixed_items["key"]) == ["R4"]
    records = consolidate(tmp_path / "in", registers, jobs=1).records["repairs"]
    repairs = registers["repairs"]
    rate = next(v for s in repairs.summaries for v in s.values if v.name_zh == "4小时修复率")
    assert measure(records, repairs, rate, None, AS_OF).iloc[0] == pytest.approx(2 / 4)
    on_site = next(m for m in repairs.figures if m.name_zh == "15分钟到场率")
    # R1 on site 10 minutes after dispatch, R2–R4 30 minutes after (late), R5 dispatched at 23:10 and not on
    # site by the end of the day: a miss too, as on the lists (a deadline in minutes is late from its moment)
    assert measure(records, repairs, on_site, None, AS_OF).iloc[0] == pytest.approx(1 / 5)


PAUSABLE = COMPANY_COMPLAINTS.replace("""    done_date: closed_date
""", """    done_date: closed_date
    paused: {field: status, in: [暂停], since: paused_date}
""").replace("""  - {key: status, label_zh: 结案状态, label_en: Status, type: choice, options: [跟进中, 已结案]}""",
             """  - {key: status, label_zh: 结案状态, label_en: Status, type: choice, options: [跟进中, 已结案, 暂停]}
  - {key: paused_date, label_zh: 暂停日期, label_en: Paused on, type: date}""")


@pytest.mark.parametrize("calendar, extra, due", [
    ("china", "", "2026-10-10"),  # 10-01…10-07 off (国庆), Saturday 10-10 a make-up working day
    ("weekdays", "", "2026-10-05"),  # Monday to Friday, as Excel's WORKDAY
    ("company", "[calendar]\ndays_off = [\"2026-10-09\"]\n", "2026-10-12"),  # its own day off on 10-09: 10-08, 10-10, 10-12
])
def test_working_days_by_the_calendar_the_company_names(tmp_path, calendar, extra, due):
    (tmp_path / "defs").mkdir()
    text = COMPANY_COMPLAINTS.replace("limit: 10 working days", f"limit: 3 working days\n    calendar: {calendar}")
    (tmp_path / "defs" / "hq_complaints.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "taizhang.toml").write_text(extra, encoding="utf-8")
    from toolkit.config import company_registers, load_config

    registers = company_registers(load_config(tmp_path / "taizhang.toml"), (tmp_path / "defs",))
    lists = _lists(tmp_path, {"客诉": [["编号", "投诉日期", "应结案日期", "结案日期", "结案状态"],
                                     ["K1", dt.date(2026, 9, 30), None, None, "跟进中"]]}, registers)
    assert [(r.key, r.due) for r in lists.items.itertuples()] == [("K1", due)]


def test_a_paused_record_is_not_overdue_and_is_listed_apart_with_since_when(tmp_path):
    (tmp_path / "defs").mkdir()
    (tmp_path / "defs" / "hq_complaints.yaml").write_text(PAUSABLE, encoding="utf-8")
    registers = load_registers([tmp_path / "defs"])
    lists = _lists(tmp_path, {"客诉": [
        ["编号", "投诉日期", "应结案日期", "结案日期", "结案状态", "暂停日期"],
        ["K1", dt.date(2026, 10, 1), None, None, "暂停", dt.date(2026, 10, 8)],
        ["K2", dt.date(2026, 10, 1), None, None, "跟进中", None],
    ]}, registers)
    assert list(lists.items["key"]) == ["K2"] and lists.due_soon.empty
    (held,) = lists.paused.itertuples()
    assert (held.key, held.since, held.due) == ("K1", "2026-10-08", "2026-10-20")  # 10 working days after 国庆


def test_a_row_rejected_for_a_typo_the_deadline_does_not_read_stays_on_the_list_marked_data_error(tmp_path, registers):
    folder = tmp_path / "in" / "001_朝阳店"
    folder.mkdir(parents=True)
    write_workbook(folder / "投诉.xlsx", {"投诉": [
        COMPLAINT_HEADER,
        complaint("2610001", dt.date(2026, 10, 1), phone="12345"),  # a bad phone: the deadline reads no phone
        complaint("2610002", "10月32日"),  # a received date that is no date: the deadline cannot be judged
        complaint("2610003", dt.date(2026, 10, 2)),
    ]})
    result = consolidate(tmp_path / "in", registers, jobs=1)
    assert result.rows_rejected == 2
    lists = overdue_lists(result.records, registers, AS_OF, rejected=result.rejected_records)
    marks = dict(zip(lists.items["key"], lists.items["data_error"], strict=True))
    assert marks == {"2610001": "数据有误，见问题数据", "2610003": ""}
    assert any("1 行数据有误且时限所需的字段无法读取" in note for note in lists.notes_zh)


def test_overdue_names_the_files_it_could_not_read_and_counts_the_rejected_rows(tmp_path):
    import json
    import subprocess
    import sys

    from tests.torture import ROOT

    folder = tmp_path / "in" / "001_朝阳店"
    folder.mkdir(parents=True)
    write_workbook(folder / "投诉.xlsx", {"投诉": [COMPLAINT_HEADER, complaint("2610001", dt.date(2026, 10, 1),
                                                                             phone="12345")]})
    (folder / "坏.xlsx").write_bytes(b"not a workbook")
    done = subprocess.run([sys.executable, "-m", "toolkit.cli", "overdue", str(tmp_path / "in"), "--as-of",
                           "2026-11-05", "--json"], cwd=ROOT, capture_output=True, timeout=300)
    report = json.loads(done.stdout)
    assert done.returncode == 1  # the lists are incomplete
    assert any("could not be read" in n and "坏.xlsx" in n for n in report["notes"])
    assert any("1 rows were rejected" in n for n in report["notes"])
    assert [(i["key"], i["data_error"]) for i in report["items"]] == [("2610001", True)]
    (folder / "投诉.xlsx").unlink()
    done = subprocess.run([sys.executable, "-m", "toolkit.cli", "overdue", str(tmp_path / "in"), "--as-of",
                           "2026-11-05", "--json"], cwd=ROOT, capture_output=True, timeout=300)
    assert done.returncode == 2  # nothing could be read: "逾期 0" would mean nothing


D = dt.date
TABLES = {
    "incidents": (["事件编号", "发生日期", "登记日期", "事件描述", "影响程度", "状态", "关闭日期", "原因分析", "纠正措施"], [
        ["E1", D(2026, 10, 30), D(2026, 10, 30), "摔倒", "严重", "处理中", None, None, None],  # 7 days: due 11-06
        ["E2", D(2026, 10, 20), D(2026, 10, 20), "摔倒", "严重", "处理中", None, None, None],
        ["E3", D(2026, 10, 20), D(2026, 10, 20), "摔倒", "严重", "处理中", D(2026, 10, 25), None, None],
        ["E4", D(2026, 10, 20), D(2026, 10, 20), "划伤", "轻微", "处理中", None, None, None],  # 30 days
    ], {"E2": "incident_open"}, {"E1": "incident_open"}),
    "customers": (["客户编号", "客户名称", "联系电话", "客户等级", "建档日期", "最近联系日期", "档案更新日期"], [
        ["C1", "甲公司", "13800138000", "A", D(2026, 8, 1), D(2026, 11, 3), D(2026, 10, 1)],  # A: 1 day, due 11-04
        ["C2", "乙公司", "13800138001", "B", D(2026, 8, 1), D(2026, 11, 3), D(2026, 10, 1)],  # B: 4 days, due 11-07
        ["C3", "丙公司", "13800138002", "D", D(2026, 7, 1), D(2026, 10, 1), None],  # review from 建档 07-01 + 90
        ["C4", "丁公司", "13800138003", "C", D(2026, 10, 1), None, D(2026, 10, 1)],  # no contact: 15 from 建档
    ], {"C1": "contact_cadence", "C3": "file_review", "C4": "contact_cadence"}, {"C2": "contact_cadence"}),
    "property": (["登记编号", "顾客姓名", "财产描述", "接收日期", "预计归还日期", "归还日期", "状态"], [
        ["P1", "王女士", "雨伞", D(2026, 10, 1), D(2026, 11, 1), None, "在保管"],
        ["P2", "王女士", "手机", D(2026, 10, 1), D(2026, 11, 1), D(2026, 11, 2), "在保管"],  # returned by date
        ["P3", "李先生", "外套", D(2026, 10, 1), D(2026, 11, 7), None, "在保管"],
    ], {"P1": "custody_overdue"}, {"P3": "custody_overdue"}),
    "service": (["服务单号", "服务请求日期", "客户姓名", "服务类型", "服务完成情况", "完成日期", "服务跟踪日期"], [
        ["S1", D(2026, 10, 30), "赵女士", "安装", "进行中", None, None],  # 3 days: due 11-02
        ["S2", D(2026, 10, 30), "赵女士", "维修", "进行中", None, None],  # 7 days: due 11-06
        ["S3", D(2026, 10, 20), "钱先生", "维修", "进行中", D(2026, 10, 24), None],  # done by date
        ["S4", D(2026, 10, 20), "钱先生", "维修", "已完成", D(2026, 10, 24), None],  # no follow-up: 7 days
        ["S5", D(2026, 10, 20), "钱先生", "维修", "已完成", D(2026, 10, 24), D(2026, 10, 26)],
    ], {"S1": "service_open", "S4": "service_follow_up"}, {"S2": "service_open"}),
    "referrals": (["登记日期", "推荐人", "被推荐人", "状态", "签单日期", "奖励发放日期"], [
        [D(2026, 9, 1), "张三", "李四", "已签单", D(2026, 9, 20), None],  # 30 days: due 10-20
        [D(2026, 9, 1), "张三", "王五", "已签单", D(2026, 9, 20), D(2026, 10, 1)],
        [D(2026, 10, 1), "张三", "赵六", "已签单", D(2026, 10, 7), None],  # due 11-06: soon
        [D(2026, 10, 1), "张三", "钱七", "已到店", None, None],
    ], {"李四": "reward_unpaid"}, {"赵六": "reward_unpaid"}),
}


@pytest.mark.parametrize("register_id", sorted(TABLES))
def test_truth_table_of_a_built_in_deadline(tmp_path, registers, register_id):
    header, rows, late, soon = TABLES[register_id]
    lists = _lists(tmp_path, {registers[register_id].name_zh: [header, *rows]}, registers)
    keyed = "customer" if register_id == "referrals" else "key"  # a referral is named by whom it brought
    mine = lists.items[lists.items["register"] == register_id]
    coming = lists.due_soon[lists.due_soon["register"] == register_id]
    assert dict(zip(mine[keyed], mine["rule"], strict=True)) == late
    assert dict(zip(coming[keyed], coming["rule"], strict=True)) == soon


STORY = """
id: overseas_complaints
name_zh: 海外客诉台账
name_en: Overseas complaints
key: record_no
date: received_date
fields:
  - {key: record_no, label_zh: 编号, label_en: No., type: text, required: true}
  - {key: key_account, label_zh: 是否大客户, label_en: Key account, type: choice, options: [是, 否]}
  - {key: received_date, label_zh: 投诉日期, label_en: Received, type: date, required: true}
  - {key: due_date, label_zh: 应结案日期, label_en: Due, type: date}
  - {key: closed_date, label_zh: 实际完成日期, label_en: Closed, type: date}
  - {key: status, label_zh: 结案状态, label_en: Status, type: choice, options: [跟进中, 已结案, 暂停]}
deadlines:
  - id: close
    name_zh: 超期未结案
    name_en: Not closed in time
    from: received_date
    due: due_date
    limit_by: {field: key_account, limits: {是: 7 working days, 否: 10 working days}}
    warn: 3 working days
    done: {field: status, in: [已结案]}
    done_date: closed_date
    paused: {field: status, in: [暂停]}
"""


def _oracle(rows: list[list], day: dt.date) -> tuple[set[str], set[str], set[str]]:
    """The lists of one day worked out record by record, the way a clerk would with a calendar."""
    import chinese_calendar

    def add_workdays(start: dt.date, n: int) -> dt.date:
        while n:
            start += dt.timedelta(days=1)
            n -= chinese_calendar.is_workday(start)
        return start

    horizon = add_workdays(day, 3)
    late, soon, paused = set(), set(), set()
    for no, key_account, received, due, closed, status in rows:
        if closed is not None and closed <= day or closed is None and status == "已结案":
            continue
        if status == "暂停":
            paused.add(no)
            continue
        due = due or add_workdays(received, 7 if key_account == "是" else 10)
        if due < day:
            late.add(no)
        elif due <= horizon:
            soon.add(no)
    return late, soon, paused


def test_a_company_complaint_register_gives_the_lists_a_clerk_would_make_every_day_of_a_month(tmp_path):
    import random

    (tmp_path / "defs").mkdir()
    (tmp_path / "defs" / "overseas_complaints.yaml").write_text(STORY, encoding="utf-8")
    registers = load_registers([tmp_path / "defs"])
    rng = random.Random(11)
    rows = []
    for i in range(60):
        received = D(2026, 10, 1) + dt.timedelta(days=rng.randrange(0, 45))
        due = received + dt.timedelta(days=rng.choice([10, 14, 20])) if rng.random() < 0.7 else None  # typed on most
        closed = received + dt.timedelta(days=rng.randrange(2, 30)) if rng.random() < 0.5 else None
        status = rng.choice(["跟进中", "跟进中", "暂停"]) if closed is None else rng.choice(["已结案", "跟进中"])
        rows.append([f"K{i:03d}", rng.choice(["是", "否"]), received, due, closed, status])
    header = ["编号", "是否大客户", "投诉日期", "应结案日期", "实际完成日期", "结案状态"]
    folder = tmp_path / "in" / "001_朝阳店"
    folder.mkdir(parents=True)
    write_workbook(folder / "客诉.xlsx", {"客诉": [header, *rows]})
    result = consolidate(tmp_path / "in", registers, jobs=1)
    assert result.rows_rejected == 0
    for offset in range(30):
        day = D(2026, 11, 1) + dt.timedelta(days=offset)
        lists = overdue_lists(result.records, registers, day)
        late, soon, paused = _oracle(rows, day)
        assert set(lists.items["key"]) == late, day
        assert set(lists.due_soon["key"]) == soon, day
        assert set(lists.paused["key"]) == paused, day


def test_no_item_on_the_demos_lists_is_contradicted_by_its_own_record(tmp_path, registers):
    """Every overdue item of the demo checked against its record: no date that ends its deadline on or
    before the as-of day (its done_date, or any milestone of an any_present), no done status without a
    done_date to overrule it."""
    from toolkit.demo import write_demo

    write_demo(tmp_path / "demo", registers, rows=40)
    result = consolidate(tmp_path / "demo", registers, jobs=1)
    lists = overdue_lists(result.records, registers, AS_OF, rejected=result.rejected_records)
    end = pd.Timestamp(AS_OF) + pd.Timedelta(days=1)
    assert len(lists.items) > 50
    for item in lists.items.itertuples():
        register = registers[item.register]
        deadline = next(d for d in register.deadlines if d.id == item.rule)
        frame = result.records[item.register]
        if item.data_error:
            frame = result.rejected_records[item.register]
        record = frame[(frame["source_file"] == item.source_file) & (frame["source_row"] == item.source_row)].iloc[0]
        done = deadline.done or {}
        if deadline.done_date:
            assert pd.isna(record[deadline.done_date]) or record[deadline.done_date] >= end, item
        for name in done.get("any_present", []):
            assert pd.isna(record[name]) or record[name] >= end, item
        if "in" in done and not deadline.done_date:
            assert str(record[done["field"]]) not in done["in"], item


def test_registers_show_says_every_part_of_a_rule_in_words(tmp_path):
    import subprocess
    import sys

    from tests.torture import ROOT

    (tmp_path / "defs").mkdir()
    (tmp_path / "defs" / "overseas_complaints.yaml").write_text(
        STORY.replace("    warn: 3 working days\n", "    warn: 3 working days\n    calendar: weekdays\n"), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "toolkit.cli", "--definitions", str(tmp_path / "defs"), "registers",
                           "show", "overseas_complaints"], cwd=ROOT, capture_output=True, timeout=120,
                          env={"COLUMNS": "400", "PATH": "/usr/bin:/bin"})
    text = " ".join(done.stdout.decode().split())
    for words in ("已填「应结案日期」时以其为应完成日期", "提前3个工作日提醒", "工作日按周一至周五计",
                  "「结案状态」为「暂停」时暂停计时", "已填「实际完成日期」即于该日完成"):
        assert words in text, (words, text[-800:])


def test_a_complaint_with_its_resolved_date_typed_is_not_counted_open_in_the_overview(tmp_path, registers):
    from toolkit.statistics import register_figures

    folder = tmp_path / "in" / "001_朝阳店"
    folder.mkdir(parents=True)
    write_workbook(folder / "投诉.xlsx", {"投诉": [
        COMPLAINT_HEADER,
        complaint("2610001", dt.date(2026, 10, 1), status="处理中", resolved=dt.date(2026, 10, 10)),  # done 10-10
        complaint("2610002", dt.date(2026, 10, 1), status="处理中", resolved=dt.date(2026, 11, 20)),  # not yet
        complaint("2610003", dt.date(2026, 10, 2), status="处理中")]})
    records = consolidate(tmp_path / "in", registers, jobs=1).records["complaints"]
    figures = register_figures(records, registers["complaints"], None,
                               records["store_code"].astype("string"), AS_OF)
    assert int(figures.loc["001", "open"]) == 2


def test_the_same_late_complaint_rejected_in_two_versions_of_a_file_is_one_item(tmp_path, registers):
    import os

    folder = tmp_path / "in" / "001_朝阳店"
    folder.mkdir(parents=True)
    for name, when in (("投诉_v1.xlsx", 1_780_000_000), ("投诉_v2.xlsx", 1_780_086_400)):
        write_workbook(folder / name, {"投诉": [COMPLAINT_HEADER, complaint("2610001", dt.date(2026, 10, 1),
                                                                          subject=name, phone="12345")]})
        os.utime(folder / name, (when, when))
    result = consolidate(tmp_path / "in", registers, jobs=1)
    lists = overdue_lists(result.records, registers, AS_OF, rejected=result.rejected_records)
    assert list(zip(lists.items["key"], lists.items["source_file"], strict=True)) == [
        ("2610001", "001_朝阳店/投诉_v2.xlsx")]


@pytest.mark.parametrize("calendar, due", [("china", "2026-02-25"), ("weekdays", "2026-02-18")])
def test_three_working_days_across_the_spring_festival(tmp_path, calendar, due):
    """2026-02-13 (Friday) + 3 working days: by the official calendar Saturday 02-14 is a make-up working
    day and 02-15…02-23 are off, so 02-14, 02-24, 02-25; Monday to Friday it is 02-16, 17, 18."""
    (tmp_path / "defs").mkdir()
    text = COMPANY_COMPLAINTS.replace("limit: 10 working days", f"limit: 3 working days\n    calendar: {calendar}")
    (tmp_path / "defs" / "hq_complaints.yaml").write_text(text, encoding="utf-8")
    registers = load_registers([tmp_path / "defs"])
    lists = _lists(tmp_path, {"客诉": [["编号", "投诉日期", "应结案日期", "结案日期", "结案状态"],
                                     ["K1", D(2026, 2, 13), None, None, "跟进中"]]}, registers, D(2026, 3, 2))
    assert [(r.key, r.due) for r in lists.items.itertuples()] == [("K1", due)]


def test_a_repair_fixed_three_days_ago_without_a_return_visit_is_late_one_visited_is_not(tmp_path, registers):
    header = [*REPAIR_HEADER, "回访时间"]
    lists = _lists(tmp_path, {"报修": [
        header,
        ["R1", at(1, 8), "漏水", "李师傅", at(1, 8, 10), at(1, 8, 20), at(1, 10), "是", None],  # due 11-04 10:00
        ["R2", at(1, 8), "灯不亮", "李师傅", at(1, 8, 10), at(1, 8, 20), at(1, 10), "是", at(3, 15)],
        ["R3", at(1, 8), "门锁", "李师傅", at(1, 8, 10), at(1, 8, 20), at(1, 10), "是", at(6, 9)],  # visited after
    ]}, registers)
    assert {k for k, r in _items(lists.items) if r == "repair_return_visit"} == {"R1", "R3"}
