"""The demo is the first month every newcomer sees: its records must agree with themselves, look like a real
store's month, and still carry the mistakes staff make, planted on purpose."""

from __future__ import annotations

import datetime as dt
import os

import pandas as pd
import pytest

from toolkit.consolidate import consolidate
from toolkit.definitions import load_registers
from toolkit.demo import write_demo
from toolkit.overdue import applies_to, overdue_lists

AS_OF = dt.date(2026, 11, 5)


@pytest.fixture(scope="module")
def month(tmp_path_factory):
    registers = load_registers()
    root = tmp_path_factory.mktemp("demo")
    files = write_demo(root / "demo-data", registers, rows=120)
    result = consolidate(root / "demo-data", registers, jobs=2)
    return registers, files, result


def _clean(result, reg_id: str) -> pd.DataFrame:
    """The records of a register without the rows a mistake was planted in (a date typed without its year
    is read in this year, out of order on purpose)."""
    records = result.records[reg_id]
    marked = set(zip(result.findings["file"], result.findings["row"], strict=True))
    return records[[(f, r) not in marked for f, r in zip(records["source_file"], records["source_row"], strict=True)]]


def test_a_later_milestone_is_there_only_with_the_ones_before_it_and_in_time_order(month):
    registers, _, result = month
    for reg_id, register in registers.items():
        records = _clean(result, reg_id)
        for rule in register.rules:
            if rule.kind != "order" or records.empty:
                continue
            fields = rule.params["fields"]
            for earlier, later in zip(fields, fields[1:], strict=False):
                if register.field(later).required:
                    continue
                a, b = pd.to_datetime(records[earlier]), pd.to_datetime(records[later])
                assert not (b.notna() & a.isna()).any(), (reg_id, earlier, later)
                assert (b[b.notna() & a.notna()] >= a[b.notna() & a.notna()]).all(), (reg_id, earlier, later)


def test_statuses_agree_with_done_dates_but_for_the_few_slips_planted(month):
    registers, _, result = month
    for reg_id, register in registers.items():
        records = result.records[reg_id]
        for d in register.deadlines:
            cond = d.done or {}
            if not d.done_date or "in" not in cond or records.empty:
                continue
            dated = records[d.done_date].notna()
            done = records[cond["field"]].isin(cond["in"])
            slips = int((dated & ~done).sum())
            assert slips <= max(2, 0.05 * dated.sum()), (reg_id, slips)  # the planted 待处理-with-a-date
            assert int((~dated & done).sum()) <= max(2, 0.06 * done.sum()), reg_id  # done by status, no date


def test_compensation_is_only_on_complaints_and_the_size_of_real_ones(month):
    _, _, result = month
    complaints = result.records["complaints"]
    paid = pd.to_numeric(complaints["compensation"], errors="coerce")
    assert set(complaints.loc[paid.notna(), "category"]) == {"投诉"}
    assert paid.dropna().between(100, 20000).all()
    assert 500 <= paid.median() <= 3000


def test_a_store_holds_keys_and_papers_not_houses_and_loses_a_few_per_cent(month):
    _, _, result = month
    held = result.records["property"]
    assert not held["property_type"].isin(["房产", "车辆"]).any()
    assert held["status"].eq("遗失/损坏").mean() < 0.08
    incidents = result.records["incidents"].groupby("store_code").size()
    assert incidents.max() <= 6  # a few adverse events per store in a month, not hundreds


def test_visits_are_to_customers_in_the_stores_own_customer_file(month):
    _, _, result = month
    visits, customers = result.records["visits"], result.records["customers"]
    known = set(zip(customers["store_code"], customers["customer_id"], strict=True))
    ids = visits.dropna(subset=["customer_id"])
    assert len(ids) > 0.9 * len(visits)
    found = [(s, c) in known for s, c in zip(ids["store_code"], ids["customer_id"], strict=True)]
    assert sum(found) >= 0.97 * len(found)  # but for customers whose row was rejected for a planted mistake


def test_the_files_were_saved_in_the_months_last_days(month):
    _, files, _ = month
    for path in files:
        saved = dt.datetime.fromtimestamp(os.stat(path).st_mtime, dt.timezone(dt.timedelta(hours=8)))
        assert dt.date(2026, 10, 29) <= saved.date() <= dt.date(2026, 10, 31), (path, saved)


def test_about_one_record_in_ten_is_late_by_rule_not_a_third_of_them(month):
    registers, _, result = month
    lists = overdue_lists(result.records, registers, AS_OF, 3, result.rejected_records)
    late = lists.items.groupby(["register", "rule"]).size()
    for reg_id in ("complaints", "repairs", "service", "property", "referrals", "incidents"):
        for d in registers[reg_id].deadlines:
            records = result.records[reg_id]
            applies = int(applies_to(records, d).sum())
            if applies >= 20:
                assert late.get((reg_id, d.id), 0) / applies <= 0.2, (reg_id, d.id)


def test_the_mistakes_staff_make_are_still_there(month):
    _, _, result = month
    codes = set(result.findings["code"])
    assert {"type-error", "missing-cell", "row-constraint"} <= codes
    assert result.rows_rejected > 0
    assert result.findings["message_zh"].str.contains("但已填").any()  # the status not updated
