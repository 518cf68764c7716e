"""Deadlines as the registers declare them, counted the way the stores count them."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from tests.conftest import COMPLAINT_HEADER, complaint, write_workbook
from toolkit.config import ConfigError, load_config
from toolkit.consolidate import consolidate
from toolkit.definitions import load_registers
from toolkit.overdue import overdue_lists
from toolkit.workdays import WorkdayCalendar


def _complaints(tmp_path, rows, registers, as_of, store="001_朝阳店"):
    folder = tmp_path / "in" / store
    folder.mkdir(parents=True, exist_ok=True)
    write_workbook(folder / "投诉.xlsx", {"投诉": [COMPLAINT_HEADER, *rows]})
    result = consolidate(tmp_path / "in", registers, jobs=1)
    return overdue_lists(result.records, registers, as_of)


def test_a_domestic_complaint_14_days_old_is_one_day_overdue_a_foreign_one_is_not(tmp_path, registers):
    lists = _complaints(tmp_path, [
        complaint("2610001", dt.date(2026, 10, 1), region="国内"),
        complaint("2610002", dt.date(2026, 10, 1), region="国外"),
        complaint("2610003", dt.date(2026, 10, 1), status="已解决", resolved=dt.date(2026, 10, 20)),
    ], registers, dt.date(2026, 10, 15))
    items = lists.items
    # 2610003 was resolved on 10-20: on the list of 10-15 it was still open, and late
    assert list(items["key"]) == ["2610001", "2610003"]
    row = items.iloc[0]
    assert (row["rule"], row["due"], row["days_overdue"], row["status"]) == ("complaint_close", "2026-10-14", 1, "处理中")
    assert (row["store_code"], row["store_name"], row["customer"], row["owner"]) == ("001", "朝阳店", "张伟", "王小红")
    assert list(lists.due_soon["key"]) == ["2610002"]  # due 2026-10-18, within the next 3 days


def test_an_enquiry_must_be_answered_within_24_hours(tmp_path, registers):
    lists = _complaints(tmp_path, [complaint("2610001", dt.date(2026, 10, 14), category="咨询")],
                        registers, dt.date(2026, 10, 15))
    assert list(lists.items["rule"]) == ["enquiry_answer"]
    assert lists.items.iloc[0]["due"] == "2026-10-15 00:00"


def test_working_days_skip_the_national_day_holiday_and_count_the_make_up_saturday():
    calendar = WorkdayCalendar()
    # 2026-09-30 + 3 working days: 1–7 October are holidays; 8, 9 October and the make-up Saturday 10th count
    assert calendar.add_workdays(dt.date(2026, 9, 30), 3) == dt.date(2026, 10, 10)
    assert not calendar.unknown_years


def test_a_year_the_calendar_does_not_know_yet_is_counted_monday_to_friday_and_said_so():
    calendar = WorkdayCalendar()
    assert calendar.add_workdays(dt.date(2031, 3, 7), 1) == dt.date(2031, 3, 10)  # Friday -> Monday
    assert calendar.unknown_years == {2031} and "2031" in calendar.note_zh


def test_a_company_changes_a_deadline_to_working_days_in_its_configuration(tmp_path, registers):
    config_file = tmp_path / "taizhang.toml"
    config_file.write_text('[rules.complaints.complaint_close]\nlimits = { "国内" = "5 working days" }\n',
                           encoding="utf-8")
    company = load_config(config_file).apply_rules(registers)
    folder = tmp_path / "in" / "001_朝阳店"
    folder.mkdir(parents=True)
    write_workbook(folder / "投诉.xlsx", {"投诉": [COMPLAINT_HEADER, complaint("2609001", dt.date(2026, 9, 30))]})
    result = consolidate(tmp_path / "in", company, jobs=1)
    lists = overdue_lists(result.records, company, dt.date(2026, 10, 13))
    # 8, 9, 10 (make-up Saturday), 12, 13 October: due on the 13th, so not overdue on the 13th
    assert lists.items.empty and list(lists.due_soon["due"]) == ["2026-10-13"]
    assert list(overdue_lists(result.records, company, dt.date(2026, 10, 14)).items["days_overdue"]) == [1]


def test_a_wrong_key_or_value_in_the_configuration_is_named(tmp_path, registers):
    bad = tmp_path / "taizhang.toml"
    bad.write_text('[[stores]]\ncode = "001"\nname = "朝阳店"\nemial = "a@b.cn"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_config(bad)
    assert "stores[0].emial" in str(e.value) and "未知的键" in str(e.value)
    bad.write_text('[rules.complaints.complaint_closed]\nlimit = "3 days"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_config(bad).apply_rules(registers)
    assert "rules.complaints.complaint_closed" in str(e.value) and "complaint_close" in str(e.value)
    bad.write_text('[rules.complaints.complaint_close]\nlimit = "three days"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_config(bad).apply_rules(registers)
    assert "rules.complaints.complaint_close.limit" in str(e.value)


def _records(register, rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    for f in register.fields:
        if f.key not in frame:
            frame[f.key] = pd.NA
        elif f.type in ("date", "datetime"):
            frame[f.key] = pd.to_datetime(frame[f.key])
    source = {"store_code": "001", "store_name": "朝阳店", "source_file": "f.xlsx", "source_sheet": "s"}
    return frame.assign(**source, source_row=range(2, 2 + len(frame)))


def test_a_planned_visit_is_overdue_only_when_no_later_visit_to_that_customer_was_made(registers):
    visits = _records(registers["visits"], [
        {"visit_date": "2026-10-01", "customer_id": "C1", "customer_name": "赵一", "next_visit_date": "2026-10-05",
         "staff": "李明"},
        {"visit_date": "2026-10-06", "customer_id": "C1", "customer_name": "赵一"},
        {"visit_date": "2026-10-01", "customer_id": "C2", "customer_name": "钱二", "next_visit_date": "2026-10-05",
         "staff": "李明"},
    ])
    lists = overdue_lists({"visits": visits}, registers, dt.date(2026, 10, 10))
    assert list(lists.items["key"]) == ["C2"] and list(lists.items["owner"]) == ["李明"]


def test_a_repair_not_on_site_within_two_hours_and_one_completed_without_a_return_visit(registers):
    repairs = _records(registers["repairs"], [
        {"repair_no": "R1", "reported_at": "2026-10-10 09:00", "dispatched_at": "2026-10-10 09:10",
         "technician": "张师傅"},
        {"repair_no": "R2", "reported_at": "2026-10-01 09:00", "dispatched_at": "2026-10-01 09:10",
         "arrived_at": "2026-10-01 09:20", "completed_at": "2026-10-01 10:00", "technician": "张师傅"},
    ])
    lists = overdue_lists({"repairs": repairs}, registers, dt.date(2026, 10, 10))
    assert sorted(zip(lists.items["key"], lists.items["rule"], strict=True)) == [
        ("R1", "repair_fixed"), ("R1", "repair_on_site"), ("R2", "repair_return_visit")]


def test_a_return_visit_logged_in_the_visits_register_closes_the_services_follow_up(registers):
    """Staff log the follow-up call in 客户拜访回访记录, not in the service's own 服务跟踪日期: the list must not call
    it missing. Only a visit of the same store to the same customer, on or after the completion, that is a
    回访 or of no type, counts."""
    service = _records(registers["service"], [
        {"service_no": f"S{i}", "request_date": "2026-10-01", "customer_name": name, "status": "已完成",
         "completed_date": "2026-10-02"} for i, name in enumerate(["孙三", "李四", "周五", "吴六"], 1)])
    visits = _records(registers["visits"], [
        {"visit_date": "2026-10-04", "customer_name": " 孙三", "visit_type": "回访"},  # same customer, after: done
        {"visit_date": "2026-09-30", "customer_name": "李四", "visit_type": "回访"},  # before the completion
        {"visit_date": "2026-10-20", "customer_name": "周五", "visit_type": "回访"},  # after the list's day
        {"visit_date": "2026-10-05", "customer_name": "周五", "visit_type": "转介绍"},  # a referral visit is no 回访
    ])
    elsewhere = visits.iloc[:1].assign(store_code="002", customer_name="吴六")  # another store's customer
    untyped = visits.iloc[:1].assign(customer_name="郑七", visit_type=pd.NA)  # a return-visit log without 拜访类型
    service = pd.concat([service, service.iloc[:1].assign(service_no="S5", customer_name="郑七")], ignore_index=True)
    lists = overdue_lists({"service": service, "visits": pd.concat([visits, elsewhere, untyped])}, registers,
                          dt.date(2026, 10, 15))
    follow_ups = lists.items[lists.items["rule"] == "service_follow_up"]
    assert list(follow_ups["key"]) == ["S2", "S3", "S4"]
    assert not any("未读取" in n for n in lists.notes_zh)
    alone = overdue_lists({"service": service}, registers, dt.date(2026, 10, 15))
    assert list(alone.items.loc[alone.items["rule"] == "service_follow_up", "key"]) == ["S1", "S2", "S3", "S4", "S5"]
    assert "售后服务登记表「完成后未回访」：本次未读取「客户拜访回访记录」，其中登记的记录未计入" in alone.notes_zh


def test_birthdays_in_the_next_seven_days_make_the_care_list(registers):
    customers = _records(registers["customers"], [
        {"customer_id": "C1", "name": "赵一", "birthday": "1980-11-08", "created_date": "2026-11-01",
         "last_contact_date": "2026-11-05"},
        {"customer_id": "C2", "name": "钱二", "birthday": "1990-11-20", "created_date": "2026-11-01"},
        {"customer_id": "C3", "name": "孙三", "birthday": "1988-02-29", "created_date": "2026-11-01"},
    ])
    lists = overdue_lists({"customers": customers}, registers, dt.date(2026, 11, 5))
    assert list(zip(lists.care["customer"], lists.care["date"], lists.care["days_until"], strict=True)) == [
        ("赵一", "2026-11-08", 3)]
    leap = overdue_lists({"customers": customers}, registers, dt.date(2027, 2, 25))
    assert ("孙三", "2027-02-28") in set(zip(leap.care["customer"], leap.care["date"], strict=True))


def test_a_store_answers_its_overdue_list_and_the_next_run_shows_each_answer_beside_its_item(tmp_path):
    """The store's overdue workbook is a form: 处理情况/备注 filled in and sent back are read as the register
    逾期事项反馈, and the next lists carry each answer as 上次反馈; unanswered lines are skipped with a reason,
    and the answers never count as records of the complaints register."""
    import openpyxl
    import python_calamine as calamine

    from toolkit.cli import main

    store = tmp_path / "in" / "001_朝阳店"
    store.mkdir(parents=True)
    write_workbook(store / "投诉.xlsx", {"投诉": [COMPLAINT_HEADER, complaint("2610001", dt.date(2026, 10, 1)),
                                                complaint("2610002", dt.date(2026, 10, 2)),
                                                complaint("2610003", dt.date(2026, 10, 3))]})
    runner = CliRunner()
    done = runner.invoke(main, ["overdue", str(tmp_path / "in"), "--as-of", "2026-11-05", "--split-by", "store",
                                "-o", str(tmp_path / "lists"), "--json", "--jobs", "1"])
    assert done.exit_code == 0, done.output
    first = json.loads(done.stdout)
    late = sorted(i["key"] for i in first["items"] if i["rule"] == "complaint_close")
    assert late == ["2610001", "2610002", "2610003"] and all(i["feedback"] is None for i in first["items"])
    (sent,) = (tmp_path / "lists").glob("001_*.xlsx")
    book = openpyxl.load_workbook(sent)
    ws = book["逾期清单"]
    header = [c.value for c in ws[1]]
    answered = {}
    for row in range(2, ws.max_row + 1):
        key, rule = ws.cell(row, header.index("编号") + 1).value, ws.cell(row, header.index("规则") + 1).value
        if key == "2610001":
            ws.cell(row, header.index("处理情况") + 1).value = "已致电客户，同意退款"
            ws.cell(row, header.index("备注") + 1).value = "财务11-08前退款"
            answered[(key, rule)] = "已致电客户，同意退款（财务11-08前退款）"
        elif key == "2610002":
            ws.cell(row, header.index("处理情况") + 1).value = "客户出差，11-10再联系"
            answered[(key, rule)] = "客户出差，11-10再联系"
    book.save(store / "朝阳店_逾期清单_回传.xlsx")  # the store sends it back into its folder

    done = runner.invoke(main, ["overdue", str(tmp_path / "in"), "--as-of", "2026-11-06", "--json", "--jobs", "1"])
    assert done.exit_code == 0, done.output
    again = json.loads(done.stdout)
    shown = {(i["key"], i["rule"]): i["feedback"] for i in again["items"] if i["feedback"]}
    rules = {d.name_zh: d.id for d in load_registers()["complaints"].deadlines}
    assert shown == {(key, rules[rule]): text for (key, rule), text in answered.items()}
    # in the summary: the answers beside the items, the answers' own register counted apart
    out = tmp_path / "汇总.xlsx"
    done = runner.invoke(main, ["consolidate", str(tmp_path / "in"), "-o", str(out), "--as-of", "2026-11-06",
                                "--month", "2026-10", "--json", "--jobs", "1"])
    assert done.exit_code == 0, done.output
    manifest = {Path(f["path"]).name: f for f in json.loads(done.stdout)["files"]}
    reply = manifest["朝阳店_逾期清单_回传.xlsx"]
    assert reply["status"] == "ok" and reply["registers"] == ["overdue_replies"]
    assert reply["rows_accepted"] == len(answered) and reply["rows_skipped"] >= 1
    assert any("未填写「处理情况」" in reason for reason in reply["skipped"])
    summary = calamine.CalamineWorkbook.from_path(str(out))
    listed = summary.get_sheet_by_name("逾期清单").to_python()
    column = listed[0].index("上次反馈")
    assert sorted(r[column] for r in listed[1:] if r[column]) == sorted(answered.values())
    overview = summary.get_sheet_by_name("总览").to_python()
    counts = {r[0]: r[3] for r in overview[4:] if r[1] == "001"}
    assert counts["客户投诉登记表"] == 3 and counts["逾期事项反馈"] == len(answered)


def test_a_list_copied_into_a_workbook_of_the_stores_own_is_still_read_as_its_answers(tmp_path):
    """Without taizhang's metadata the answer form is known by its sheet's name (逾期清单), never guessed from
    its headers alone: 编号, 客户, 负责人, 状态 would otherwise make it a complaint register full of errors."""
    from toolkit.check import check_paths

    header = ["登记表", "编号", "客户", "负责人", "规则", "应完成日期", "时刻", "逾期天数", "状态", "数据有误", "上次反馈",
              "处理情况", "备注", "来源文件", "工作表", "行号"]
    rows = [header, ["客户投诉登记表", "2610039", "张伟", "刘芳", "投诉超期未结案", dt.date(2026, 10, 21), None, 15, "处理中",
                     None, None, "已电话回复客户", None, "001_朝阳店/投诉.xlsx", "投诉", 41],
            ["客户投诉登记表", "2610040", "李娜", "刘芳", "投诉超期未结案", dt.date(2026, 10, 22), None, 14, "处理中",
             None, None, None, None, "001_朝阳店/投诉.xlsx", "投诉", 42]]
    registers = load_registers()
    (tmp_path / "001_朝阳店").mkdir()
    named = write_workbook(tmp_path / "001_朝阳店" / "回传.xlsx", {"逾期清单": rows})
    (read,) = check_paths([named], registers).workbooks
    assert [(s.sheet, s.register.id, s.rows_read) for s in read.sheets] == [("逾期清单", "overdue_replies", 1)]
    other = write_workbook(tmp_path / "001_朝阳店" / "台账.xlsx", {"投诉": [COMPLAINT_HEADER, complaint()]})
    (plain,) = check_paths([other], registers).workbooks
    assert [s.register.id for s in plain.sheets] == ["complaints"]  # the answer form takes nothing else
