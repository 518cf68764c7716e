"""Where things are in the two macro-enabled workbooks: the builder puts them there and the button
handlers find them there, so both read these names instead of repeating cell addresses."""

from __future__ import annotations

from dataclasses import dataclass

STORE_BOOK = "门店登记.xlsm"
OFFICE_BOOK = "总部汇总.xlsm"

# the 校验结果 sheet is annotate.RESULT_SHEET, the same as in annotated copies
OVERDUE_SHEET = "本店逾期"  # the store's overdue and due-soon items
OFFICE_SHEET = "总部汇总"

BUTTON_ROWS = 2  # rows above each register's title in the store workbook: buttons, then the status line
STATUS_CELL = "A2"  # on every register sheet of the store workbook


@dataclass(frozen=True)
class Button:
    caption: str
    macro: str  # the Sub in macros/*.bas
    handler: str  # the function of toolkit.excel.buttons it runs


STORE_BUTTONS = (
    Button("校验本表", "CheckThisSheet", "check_sheet"),
    Button("校验全部", "CheckAllSheets", "check_all"),
    Button("本店逾期", "StoreOverdue", "store_overdue"),
)
OFFICE_BUTTONS = (
    Button("月度汇总", "MonthlySummary", "monthly_summary"),
    Button("逾期清单", "OverdueLists", "overdue_lists"),
    Button("发送邮件", "SendEmail", "send_email"),
    Button("导出", "ExportData", "export_data"),
)


@dataclass(frozen=True)
class Setting:
    key: str
    label: str
    cell: str  # the value's cell on the 总部汇总 sheet
    hint: str


OFFICE_SETTINGS = (
    Setting("input_dir", "输入文件夹", "B4", "各门店工作簿所在的文件夹，如 D:\\台账\\2026-10（含子文件夹）"),
    Setting("month", "统计月份", "B5", "如 2026-10；空则为截止日期的上一个月"),
    Setting("as_of", "截止日期", "B6", "逾期按此日期计算，如 2026-11-05；空则为今天"),
    Setting("output_dir", "输出文件夹", "B7", "汇总和逾期清单写到这里；空则为本工作簿所在文件夹"),
    Setting("recipients", "收件人", "B8", "管理层邮箱，多个用分号隔开（发送邮件用）"),
    Setting("config", "配置文件", "B9", "taizhang.toml 的路径；空则用本工作簿旁的 taizhang.toml"),
)
OFFICE_BUTTON_ROW = 10  # zero-based row of the head-office buttons (Excel row 11)
OFFICE_STATUS_CELL = "B13"
OFFICE_RESULTS_CELL = "A16"  # first of the result lines: what was written, one per row
OFFICE_RESULTS_AREA = "A16:C215"  # cleared before each run's lines are written
