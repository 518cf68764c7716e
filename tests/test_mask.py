"""Masking customers' phones, ID numbers and addresses before a workbook leaves the company."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pandas as pd
import pytest
import python_calamine as calamine

from tests.conftest import COMPLAINT_HEADER, complaint, write_workbook
from toolkit.config import Config
from toolkit.consolidate import consolidate
from toolkit.definitions import Field
from toolkit.demo import write_demo
from toolkit.mask import mask_consolidation, mask_lists, mask_series
from toolkit.overdue import overdue_lists
from toolkit.summary import write_overdue_book, write_summary


def masked(values: list, kind: str) -> list:
    return list(mask_series(pd.Series(values, dtype="str"), Field("k", "字段", "Field", type=kind)).fillna("<NA>"))


def test_a_mobile_keeps_its_first_three_and_last_four_digits_and_a_landline_its_area_code():
    assert masked(["13812348000", "0755-12345678", "021-5432", "", None], "phone") == [
        "138****8000", "0755-****5678", "021-****", "", "<NA>"]


def test_an_id_number_keeps_its_first_three_and_last_four_characters():
    assert masked(["110105199910216040", "11010519760821271X"], "id_number") == [
        "110***********6040", "110***********271X"]


def test_an_address_keeps_everything_up_to_its_district():
    assert masked(["广东省深圳市南山区科技园路1号", "北京市朝阳区建国路88号", "上海市浦东新区世纪大道100号",
                   "广西壮族自治区南宁市青秀区民族大道", "江苏省昆山市玉山镇人民路", "南山区"], "text") == [
        "广东省深圳市南山区****", "北京市朝阳区****", "上海市浦东新区****", "广西壮族自治区南宁市青秀区****",
        "江苏省昆山市****", "南山区"]


def test_a_location_without_a_district_is_hidden_whole_and_an_email_keeps_its_domain():
    assert masked(["5栋2单元1101", "会所大堂"], "text") == ["****", "****"]
    assert masked(["wang.li@qq.com"], "email") == ["w***@qq.com"]


def cells(path) -> list[str]:
    book = calamine.CalamineWorkbook.from_path(str(path))
    return [str(v) for name in book.sheet_names for row in book.get_sheet_by_name(name).to_python() for v in row]


@pytest.fixture(scope="module")
def month(tmp_path_factory, registers):
    folder = tmp_path_factory.mktemp("month")
    write_demo(folder, registers, rows=30)
    return consolidate(folder, registers, Config(), 2026, 2, None)


def test_no_customers_phone_id_or_address_survives_anywhere_in_a_masked_summary_workbook(month, tmp_path):
    secrets = set()
    for reg_id, register in month.registers.items():
        for key in register.sensitive_fields:
            values = month.records[reg_id][key].dropna().astype(str)
            secrets |= {v for v in values if len(v) >= 8 and register.field(key).type != "text"}
            secrets |= {v[-6:] for v in values if len(v) >= 10 and register.field(key).type == "text"}
    assert len(secrets) > 100
    lists = overdue_lists(month.records, month.registers, dt.date(2026, 11, 5))
    plain = cells(write_summary(tmp_path / "plain.xlsx", month, lists, pd.Period("2026-10", "M")))
    assert any(secret in cell for cell in plain for secret in secrets)
    # the lists are masked with the records, as `taizhang email` does: the care list carries the phone
    assert lists.care["phone"].str.fullmatch(r"1\d{10}").any()
    shown = cells(write_summary(tmp_path / "masked.xlsx", mask_consolidation(month), mask_lists(lists, month.registers),
                                pd.Period("2026-10", "M")))
    assert [(secret, cell) for cell in shown for secret in secrets if secret in cell] == []
    customers = mask_consolidation(month).records["customers"]
    assert customers["phone"].dropna().str.fullmatch(r"1\d\d\*{4}\d{4}").all()
    assert len(customers) == len(month.records["customers"])


def test_a_wrong_phone_quoted_in_a_finding_and_a_rejected_rows_reason_is_masked_there_too(tmp_path, registers):
    store = tmp_path / "in" / "001_朝阳店"
    store.mkdir(parents=True)
    write_workbook(store / "投诉.xlsx", {"客户投诉登记表": [COMPLAINT_HEADER, complaint(phone="13800138000"),
                                                            complaint(no="2611002", phone="1380013800012")]})
    result = consolidate(tmp_path / "in", registers, Config(), 2026, 1, None)
    assert result.findings["message_zh"].str.contains("1380013800012").any()
    assert result.rejected["reason_zh"].str.contains("1380013800012").any()
    shown = mask_consolidation(result)
    assert not shown.findings["message_zh"].str.contains("1380013800012").any()
    assert not shown.rejected["reason_zh"].str.contains("1380013800012").any()
    assert shown.rejected["reason_zh"].str.contains("138******0012", regex=False).any()
    assert list(shown.records["complaints"]["phone"]) == ["138****8000"]


def test_a_company_that_marks_the_complainant_sensitive_gets_the_name_masked_in_a_stores_overdue_list(
        tmp_path, registers):
    store = tmp_path / "in" / "001_朝阳店"
    store.mkdir(parents=True)
    write_workbook(store / "投诉.xlsx", {"客户投诉登记表": [COMPLAINT_HEADER,
                                                            complaint(no="2610001", received=dt.date(2026, 10, 1))]})
    complaints = registers["complaints"]
    marked = replace(complaints, fields=tuple(replace(f, sensitive=True) if f.key == "complainant" else f
                                              for f in complaints.fields))
    result = consolidate(tmp_path / "in", {"complaints": marked}, Config(), 2026, 1, None)
    lists = overdue_lists(result.records, result.registers, dt.date(2026, 11, 5))
    assert list(lists.items["customer"]) == ["张伟"]
    hidden = mask_lists(lists, result.registers)
    assert list(hidden.items["customer"]) == ["****"]
    assert "张伟" not in cells(write_overdue_book(tmp_path / "逾期.xlsx", hidden, "朝阳店 逾期清单"))
    assert list(lists.items["customer"]) == ["张伟"]  # the unmasked lists are left as they were


def test_a_phone_that_is_part_of_another_rows_phone_leaves_neither_in_the_masked_summary(tmp_path, registers):
    import re

    folder = tmp_path / "001_朝阳店"
    folder.mkdir()
    write_workbook(folder / "投诉.xlsx", {"投诉": [COMPLAINT_HEADER,
                   complaint("2610001", dt.date(2026, 10, 3), phone="1380013800"),
                   complaint("2610002", dt.date(2026, 10, 4), phone="13800138000 13900139000"),
                   complaint("2610003", dt.date(2026, 10, 5), phone="13700137000")]})
    result = consolidate(tmp_path, registers, jobs=1)
    assert len(result.rejected) == 1  # 1380013800 is read as the landline 013-80013800 (a warning)
    masked = mask_consolidation(result)
    lists = overdue_lists(masked.records, registers, dt.date(2026, 11, 5))
    out = write_summary(tmp_path / "masked.xlsx", masked, mask_lists(lists, registers), pd.Period("2026-10"))
    book = calamine.CalamineWorkbook.from_path(str(out))
    cells = [str(v) for name in book.sheet_names for row in book.get_sheet_by_name(name).to_python() for v in row]
    cells = [c for c in cells if not re.fullmatch(r"[0-9a-f]{64}", c)]  # a file's sha256 is no phone number
    leaks = [c for c in cells if re.search(r"1[3-9]\d{9}", c.replace(" ", "")) or "80013800" in c]
    assert not leaks, leaks
