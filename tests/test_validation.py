"""Validation findings as store clerks meet them: the message, the row, the column."""

from __future__ import annotations

import datetime as dt

from tests.conftest import COMPLAINT_HEADER, complaint, write_workbook
from toolkit.check import check_paths


def _findings(tmp_path, registers, sheets):
    return check_paths([write_workbook(tmp_path / "store.xlsx", sheets)], registers).findings


def _one(findings, **match):
    hit = findings
    for key, value in match.items():
        hit = hit[hit[key] == value]
    assert len(hit) == 1, findings[["row", "column", "code", "message_zh"]].to_string()
    return hit.iloc[0]


def test_a_complaint_marked_resolved_without_a_date(tmp_path, registers):
    f = _findings(tmp_path, registers, {"S": [COMPLAINT_HEADER, complaint(status="已解决")]})
    hit = _one(f, code="row-constraint")
    assert (hit.row, hit.column, hit.field, hit.severity) == (2, "N", "resolved_date", "error")
    assert hit.message_zh == "第2行「解决日期」: 「处理状态」为「已解决」时，「解决日期」必须填写"
    assert hit.message_en == "Row 2, Resolved date: when Status is 已解决, Resolved date must be filled in"


def test_a_bad_phone_number_reads_like_the_clerk_would_say_it(tmp_path, registers):
    rows = [COMPLAINT_HEADER] + [complaint(no=f"26110{i:02d}") for i in range(1, 11)] + [complaint(no="2611011", phone=12345)]
    hit = _one(_findings(tmp_path, registers, {"S": rows}), field="phone")
    assert hit.message_zh.startswith("第12行「联系方式」: 12345 不是有效的手机号或座机号")
    assert (hit.code, hit.column, hit.value) == ("type-error", "H", "12345")


def test_the_complaint_number_must_carry_the_month_it_was_received(tmp_path, registers):
    f = _findings(tmp_path, registers, {"S": [COMPLAINT_HEADER, complaint(no="2610007")]})
    hit = _one(f, field="complaint_no")
    assert hit.code == "row-constraint" and "2611" in hit.message_zh


def test_compensation_approved_below_the_required_level(tmp_path, registers):
    rows = [COMPLAINT_HEADER,
            complaint(no="2611001", compensation=120000, approver="部门经理"),
            complaint(no="2611002", compensation=120000, approver="副总经理"),
            complaint(no="2611003", compensation=100000, approver="部门经理"),
            complaint(no="2611004", compensation=150001, approver="副总经理"),
            complaint(no="2611005", compensation=500)]
    f = _findings(tmp_path, registers, {"S": rows})
    assert sorted(f[f["field"] == "approver_level"]["row"]) == [2, 5, 6]
    assert "须由「副总经理」或以上核决，当前为「部门经理」" in _one(f, row=2)["message_zh"]
    assert "「核决人」必须填写" in _one(f, row=6)["message_zh"]


def test_the_same_complaint_number_twice_points_at_the_first(tmp_path, registers):
    f = _findings(tmp_path, registers, {"S": [COMPLAINT_HEADER, complaint(), complaint(subject="又来了")]})
    hit = _one(f, code="unique-error")
    assert hit.row == 3 and "与第2行重复" in hit.message_zh


def test_required_values_choices_and_dates_that_cannot_be_read(tmp_path, registers):
    rows = [COMPLAINT_HEADER, complaint(subject=None, category="投拆", received="上周五")]
    f = _findings(tmp_path, registers, {"S": rows})
    assert _one(f, field="subject").code == "missing-cell"
    assert _one(f, field="category").message_zh == "第2行「类型」: 投拆 不在可选项中（可选: 咨询、建议、投诉）"
    assert _one(f, field="received_date").code == "type-error"


def test_a_date_typed_without_a_year_is_read_but_flagged(tmp_path, registers):
    rows = [COMPLAINT_HEADER, complaint(received="11.3")]
    result = check_paths([write_workbook(tmp_path / "a.xlsx", {"S": rows})], registers, reference_year=2026)
    hit = _one(result.findings, code="assumed-value")
    assert hit.severity == "warning" and "2026-11-03" in hit.message_zh


SERVICE = ["服务单号", "服务请求日期", "客户姓名", "联系电话", "服务类型", "服务完成情况", "完成日期", "服务质量评价"]


def test_service_ratings_out_of_range_and_on_unfinished_services(tmp_path, registers):
    rows = [SERVICE,
            ["S1", dt.date(2026, 11, 1), "李娜", "13900139000", "维修", "已完成", dt.date(2026, 11, 2), 11],
            ["S2", dt.date(2026, 11, 1), "李娜", "13900139000", "维修", "进行中", None, 8],
            ["S3", dt.date(2026, 11, 5), "李娜", "13900139000", "维修", "已完成", dt.date(2026, 11, 2), 9]]
    f = _findings(tmp_path, registers, {"S": rows})
    assert _one(f, row=2).message_zh == "第2行「服务质量评价」: 11 超出范围（1–10）"
    assert _one(f, row=3).severity == "warning"
    assert "早于「服务请求日期」2026-11-05" in _one(f, row=4).message_zh


def test_a_resident_id_with_a_wrong_check_digit(tmp_path, registers):
    header = ["客户编号", "客户名称", "联系电话", "证件号码", "建档日期"]
    rows = [header, ["C1", "张伟", "13800138000", "11010519491231002X", dt.date(2026, 11, 1)],
            ["C2", "王芳", "13800138001", "110105194912310021", dt.date(2026, 11, 1)]]
    f = _findings(tmp_path, registers, {"S": rows})
    hit = _one(f, field="id_number")
    assert hit.row == 3 and "校验位" in hit.message_zh


def test_a_customer_file_created_ten_days_after_first_contact_is_a_warning(tmp_path, registers):
    header = ["客户编号", "客户名称", "联系电话", "首次接触日期", "建档日期"]
    rows = [header, ["C1", "张伟", "13800138000", dt.date(2026, 11, 1), dt.date(2026, 11, 11)],
            ["C2", "王芳", "13800138001", dt.date(2026, 11, 1), dt.date(2026, 11, 8)]]
    hit = _one(_findings(tmp_path, registers, {"S": rows}), code="row-constraint")
    assert hit.row == 2 and hit.severity == "warning" and "一周内建档" in hit.message_zh


def test_repairs_out_of_time_order_and_a_late_arrival(tmp_path, registers):
    header = ["报修单号", "报修时间", "报修内容", "派工时间", "到场时间", "完成时间", "业主签字"]
    t = dt.datetime(2026, 11, 5, 9, 0)
    rows = [header,
            ["R1", t, "漏水", t + dt.timedelta(minutes=10), t + dt.timedelta(minutes=30), t + dt.timedelta(hours=2), "是"],
            ["R2", t, "漏水", t + dt.timedelta(minutes=10), t + dt.timedelta(minutes=5), None, None]]
    f = _findings(tmp_path, registers, {"S": rows})
    late = _one(f, row=2)
    assert late.severity == "warning" and late.field == "arrived_at" and "20 分钟" in late.message_zh
    early = _one(f, row=3)
    assert early.severity == "error" and "早于「派工时间」2026-11-05 09:10" in early.message_zh


def test_duty_hours_must_agree_with_start_and_handover(tmp_path, registers):
    header = ["日期", "值班人员", "开始时间", "交接时间", "工作时长"]
    rows = [header, [dt.date(2026, 11, 1), "张伟", "08:00", "16:30", 8.5],
            [dt.date(2026, 11, 1), "王芳", "20:00", "08:00", 12],
            [dt.date(2026, 11, 2), "张伟", "08:00", "16:00", 9]]
    hit = _one(_findings(tmp_path, registers, {"S": rows}), code="row-constraint")
    assert hit.row == 4 and "08:00–16:00" in hit.message_zh


def test_fee_needs_chargeable_and_lost_property_needs_a_remark(tmp_path, registers):
    repairs = ["报修单号", "报修时间", "报修内容", "是否收费", "费用"]
    prop = ["登记编号", "顾客姓名", "财产描述", "接收日期", "状态", "备注"]
    f = _findings(tmp_path, registers, {
        "报修": [repairs, ["R1", dt.datetime(2026, 11, 1, 9), "换锁", "否", 80]],
        "财产": [prop, ["P1", "张伟", "车钥匙", dt.date(2026, 11, 1), "遗失/损坏", None]],
    })
    assert _one(f, field="chargeable").message_zh.endswith("「是否收费」应为「是」")
    assert "「备注」必须填写" in _one(f, field="remarks").message_zh


def test_a_clean_register_only_hears_about_the_optional_columns_it_left_out(tmp_path, registers):
    f = _findings(tmp_path, registers, {"S": [COMPLAINT_HEADER] + [complaint(no=f"261100{i}") for i in range(5)]})
    hit = _one(f, code="missing-label")
    assert hit.severity == "warning" and "「回访日期」" in hit.message_zh
    full = COMPLAINT_HEADER + ["回访日期", "回访满意度"]
    assert _findings(tmp_path, registers, {"S": [full, complaint() + [None, None]]}).empty


def test_a_company_rule_with_not_in_and_present_false_is_checked_and_described(tmp_path, registers):
    from dataclasses import replace

    from toolkit.definitions import Rule
    from toolkit.describe import describe_rule

    rule = Rule("implies", {"if": {"field": "status", "not_in": ["已解决", "已关闭"]},
                            "then": {"field": "resolved_date", "present": False}})
    company = {"complaints": replace(registers["complaints"], rules=(rule,))}
    path = write_workbook(tmp_path / "a.xlsx", {"投诉": [COMPLAINT_HEADER,
                          complaint(status="处理中", resolved=dt.date(2026, 11, 4)),
                          complaint(no="2611002", status="处理中")]})
    findings = check_paths([path], company).findings
    broken = findings[(findings["code"] == "row-constraint") & (findings["severity"] == "error")]
    assert list(broken["row"]) == [2]  # (row 2 also gets the warning that its status is left open beside 解决日期)
    zh, en = describe_rule(company["complaints"], rule)
    assert "不为「已解决/已关闭」" in zh and "应为空" in zh and "must be empty" in en
