"""Registers as real companies keep them, built by code: their own headers, title rows, pre-numbered empty
rows, "/" for not applicable, dropdowns as data validations, dates merged over several rows, a used range
out to column XFD. Each builder returns the path and what a person reading the workbook knows about it
(how many real rows, which mistakes were planted), so that tests can assert against that."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import xlsxwriter

COMPLAINT_REGISTER_HEADER = ["编号", "分公司", "国家或地区", "客户名称", "是否大客户", "投诉日期", "投诉渠道", "问题类型",
                             "问题描述", "跟进人", "应结案日期", "实际完成日期", "结案状态", "处理结果", "赔偿金额", "备注"]


@dataclass
class Built:
    path: Path
    real_rows: int
    placeholder_rows: int = 0
    mistakes: dict[int, str] = field(default_factory=dict)  # Excel row -> header of the planted mistake


def complaint_register(path: Path, real: int = 40, placeholders: int = 30) -> Built:
    """A complaint register kept in WPS cloud: a merged title row, its own 16 columns, ``real`` rows,
    then ``placeholders`` rows numbered ahead with the due-date formula filled down; "/" where a date or an
    amount does not apply; dropdowns for 是否大客户 and 结案状态. Two planted mistakes: a date that is not
    one (row 8) and an amount that is not a number (row 12)."""
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("所有客诉")
    date = book.add_format({"num_format": "yyyy/m/d"})
    ws.merge_range(0, 0, 0, len(COMPLAINT_REGISTER_HEADER) - 1, "海外客户投诉台账", book.add_format({"bold": True}))
    ws.write_row(1, 0, COMPLAINT_REGISTER_HEADER)
    branches = ["华南分公司", "华东分公司", "海外事业部"]
    statuses = ["已结案", "跟进中", "待处理"]
    mistakes = {}
    for i in range(real):
        r = i + 2
        received = dt.datetime(2026, 9, 1) + dt.timedelta(days=i)
        ws.write_string(r, 0, f"KS{2026}{i + 1:03d}")
        ws.write_string(r, 1, branches[i % 3])
        ws.write_string(r, 2, "越南" if i % 4 else "泰国")
        ws.write_string(r, 3, f"客户{i + 1:02d}")
        ws.write_string(r, 4, "是" if i % 5 == 0 else "否")
        ws.write_datetime(r, 5, received, date)
        ws.write_string(r, 6, ["电话", "邮件", "微信"][i % 3])
        ws.write_string(r, 7, ["产品质量", "物流", "服务态度"][i % 3])
        ws.write_string(r, 8, f"第{i + 1}批货物包装破损")
        ws.write_string(r, 9, ["李娜", "王强"][i % 2])
        ws.write_formula(r, 10, f'=IF(F{r + 1}="","",WORKDAY(F{r + 1},13))', date, received + dt.timedelta(days=17))
        status = statuses[i % 3]
        if status == "已结案":
            ws.write_datetime(r, 11, received + dt.timedelta(days=6), date)
            ws.write_string(r, 13, "已补发")
            ws.write_number(r, 14, 200 + i)
        else:
            ws.write_string(r, 11, "/")
            ws.write_string(r, 14, "/")
        ws.write_string(r, 12, status)
        if i == 5:
            ws.write_string(r, 5, "9月31日")
            mistakes[r + 1] = "投诉日期"
        if i == 9:
            ws.write_string(r, 14, "两百元")
            mistakes[r + 1] = "赔偿金额"
    for i in range(placeholders):
        r = real + 2 + i
        ws.write_string(r, 0, f"KS{2026}{real + i + 1:03d}")
        ws.write_formula(r, 10, f'=IF(F{r + 1}="","",WORKDAY(F{r + 1},13))', date, "")
    last = real + placeholders + 1
    ws.data_validation(2, 4, last, 4, {"validate": "list", "source": ["是", "否"]})
    ws.data_validation(2, 12, last, 12, {"validate": "list", "source": statuses})
    book.close()
    return Built(path, real, placeholders, mistakes)


CUSTOMER_EXPORT_HEADER = ["客户编码", "客户名称", "客户类型", "联系人", "手机", "所属区域", "建档日期", "信用额度"]


def customer_export(path: Path, rows: int = 25) -> Built:
    """A customer list exported from the ERP: its own header names, 客户类型 holding 月结/现金 (not the
    template's options), no title, every cell typed as text the way exports write them."""
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("Sheet1")
    ws.write_row(0, 0, CUSTOMER_EXPORT_HEADER)
    for i in range(rows):
        ws.write_row(i + 1, 0, [f"C{10000 + i}", f"广州市{'甲乙丙丁'[i % 4]}贸易有限公司", "月结" if i % 2 else "现金",
                                f"陈{'一二三四五'[i % 5]}", f"139{i:08d}", ["天河", "越秀", "海珠"][i % 3],
                                f"2025-{i % 12 + 1:02d}-15", str(10000 * (i % 5))])
    book.close()
    return Built(path, rows)


def duty_roster(path: Path, months: int = 12, staff: tuple[str, ...] = ("张三", "李四")) -> Built:
    """A duty roster with one sheet per month (1月 … 12月): each day's date merged over the rows of the
    staff on duty that day, who write their shift times beside it."""
    book = xlsxwriter.Workbook(str(path))
    date = book.add_format({"num_format": "yyyy-mm-dd", "valign": "vcenter"})
    rows = 0
    for month in range(1, months + 1):
        ws = book.add_worksheet(f"{month}月")
        ws.write_row(0, 0, ["日期", "值班人员", "开始时间", "交接时间", "工作内容"])
        r = 1
        for day in (1, 2, 3):
            on = dt.datetime(2026, month, day)
            ws.merge_range(r, 0, r + len(staff) - 1, 0, "", date)
            ws.write_datetime(r, 0, on, date)
            for s, person in enumerate(staff):
                ws.write_row(r + s, 1, [person, "08:00" if s == 0 else "20:00", "20:00" if s == 0 else "08:00",
                                        "巡检、接待来访"])
            r += len(staff)
            rows += len(staff)
    book.close()
    return Built(path, rows)


FOLLOW_UP_HEADER_TOP = ["日期", "客户\n名称", "区域", None, "拜访\n方式", "沟通内容", "下次回访\n日期", "拜访人"]
FOLLOW_UP_HEADER_SUB = [None, None, "省份", "城市", None, None, None, None]


def follow_up_register(path: Path, rows: int = 15) -> Built:
    """A visit follow-up register: headers with line breaks, a 区域 header merged over 省份 / 城市 sub
    columns, one note typed far right in column XFD of the first row."""
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("回访记录")
    ws.write_row(0, 0, [h or "" for h in FOLLOW_UP_HEADER_TOP])
    ws.merge_range(0, 2, 0, 3, "区域")
    for c in (0, 1, 4, 5, 6, 7):
        ws.merge_range(0, c, 1, c, FOLLOW_UP_HEADER_TOP[c])
    ws.write_string(1, 2, "省份")
    ws.write_string(1, 3, "城市")
    date = book.add_format({"num_format": "yyyy-mm-dd"})
    for i in range(rows):
        r = i + 2
        ws.write_datetime(r, 0, dt.datetime(2026, 10, 1) + dt.timedelta(days=i), date)
        ws.write_row(r, 1, [f"客户{i:02d}", "广东", ["广州", "佛山"][i % 2], ["电话", "上门"][i % 2], "了解使用情况"])
        ws.write_datetime(r, 6, dt.datetime(2026, 11, 1) + dt.timedelta(days=i), date)
        ws.write_string(r, 7, "赵六")
    ws.write_string(0, 16_383, "备用")
    book.close()
    return Built(path, rows)
