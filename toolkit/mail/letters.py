"""Who gets which workbook, and the short Chinese letter that goes with it.

The body says what a reader needs before opening the attachment: the month, the counts, and the items
overdue longest as a small table (plain text for clients that show no HTML, HTML for the rest).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..consolidate import Consolidation
from ..overdue import OverdueLists

FOOTER_ZH = "本邮件由 taizhang 自动发送，请勿直接回复。"
MASKED_ZH = "附件和本邮件中的客户电话、证件号码、地址等敏感信息已脱敏。"
TABLE = {"store": "门店", "register_name": "登记表", "key": "编号", "customer": "客户", "owner": "负责人",
         "rule_name": "规则", "due": "应完成", "days_overdue": "逾期天数"}


@dataclass(frozen=True)
class Letter:
    kind: str  # "summary" (to management) or "store" (its overdue list, to the store's manager)
    store_code: str  # "" for the summary
    to: tuple[str, str]  # (name, address); an empty address cannot be sent
    subject: str
    text: str
    html: str
    workbook: Path
    masked: bool

    @property
    def addressee(self) -> str:
        name, address = self.to
        return f"{name} <{address}>" if name and address else address or f"{name}（没有邮箱 / no address）"

    @property
    def title(self) -> str:
        """What the letter carries, as the run's report names it."""
        what = "月度汇总" if self.kind == "summary" else f"{self.store_code} 逾期清单"
        return what + ("（脱敏）" if self.masked else "")


def top_overdue(lists: OverdueLists, count: int, with_store: bool) -> pd.DataFrame:
    """The ``count`` items overdue longest, with the columns the letter shows."""
    items = lists.items.sort_values("days_overdue", ascending=False, kind="stable").head(count)
    shown = pd.DataFrame({"store": items["store_code"].fillna("") + " " + items["store_name"].fillna("")})
    for column in list(TABLE)[1:]:
        shown[column] = items[column].astype("string").fillna("")
    return shown if with_store else shown.drop(columns="store")


def _bodies(paragraphs: list[str], table: pd.DataFrame, caption: str, masked: bool) -> tuple[str, str]:
    closing = ([MASKED_ZH] if masked else []) + [FOOTER_ZH]
    lines = [*paragraphs, ""]
    cells = ""
    if not table.empty:
        labels = [TABLE[c] for c in table.columns]
        lines += [caption, " | ".join(labels)] + [" | ".join(row) for row in table.itertuples(index=False)] + [""]
        head = "".join(f"<th style='border:1px solid #999;padding:2px 6px;background:#DDEBF7'>{html.escape(x)}</th>"
                       for x in labels)
        rows = "".join("<tr>" + "".join(f"<td style='border:1px solid #999;padding:2px 6px'>{html.escape(x)}</td>"
                                        for x in row) + "</tr>" for row in table.itertuples(index=False))
        cells = (f"<p>{html.escape(caption)}</p><table style='border-collapse:collapse;font-size:13px'>"
                 f"<tr>{head}</tr>{rows}</table>")
    text = "\r\n".join([*lines, *closing]) + "\r\n"
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs if p)
    small = "".join(f"<p style='color:#666;font-size:12px'>{html.escape(p)}</p>" for p in closing)
    page = (f"<html><body style=\"font-family:'Microsoft YaHei',sans-serif\">{body}{cells}{small}</body></html>")
    return text, page


def summary_letter(result: Consolidation, lists: OverdueLists, month: pd.Period, company: str,
                   to: tuple[str, str], workbook: Path, masked: bool, top: int) -> Letter:
    read, unusable = result.count("ok"), result.count("unusable")
    stores = len({code for code, _ in result.stores})
    accepted, rejected = result.rows_accepted, result.rows_rejected
    title = f"{month.year}年{month.month}月"
    paragraphs = [
        f"{to[0]}，您好：" if to[0] else "您好：",
        f"附件是{company or ''}{title}的台账月度汇总（逾期截至 {lists.as_of:%Y-%m-%d}）。",
        f"门店 {stores} 家，工作簿 {read} 个已读取" + (f"、{unusable} 个无法使用" if unusable else "")
        + f"；接收记录 {accepted:,} 行，拒收 {rejected:,} 行（见附件「问题数据」）。",
        f"逾期 {len(lists.items):,} 项，即将到期 {len(lists.due_soon):,} 项。",
    ]
    table = top_overdue(lists, top, with_store=True)
    text, page = _bodies(paragraphs, table, f"逾期最久的 {len(table)} 项：", masked)
    subject = (f"【台账】{company + ' ' if company else ''}{title}月度汇总：逾期 {len(lists.items):,} 项，"
               f"拒收 {rejected:,} 行")
    return Letter("summary", "", to, subject, text, page, workbook, masked)


def store_letter(code: str, name: str, manager: str, address: str, lists: OverdueLists, workbook: Path,
                 masked: bool, top: int) -> Letter:
    """A store's own overdue list (``lists`` already narrowed to the store)."""
    day = f"{lists.as_of:%Y-%m-%d}"
    paragraphs = [
        f"{manager or name + '店长'}，您好：",
        f"附件是{name}截至 {day} 的逾期清单：逾期 {len(lists.items)} 项，即将到期 {len(lists.due_soon)} 项，"
        f"近期客户生日 {len(lists.care)} 位。",
        "请尽快处理，并在登记表中更新处理状态和完成日期。" if len(lists.items) else "目前没有逾期事项，谢谢！",
    ]
    table = top_overdue(lists, top, with_store=False)
    text, page = _bodies(paragraphs, table, f"逾期最久的 {len(table)} 项：", masked)
    subject = f"【台账】{name} 逾期清单 {day}：逾期 {len(lists.items)} 项，即将到期 {len(lists.due_soon)} 项"
    return Letter("store", code, (manager or f"{name}店长", address), subject, text, page, workbook, masked)


def outside(address: str, domain: str) -> bool:
    """Whether an address is outside the company's mail domain (every address is, when none is configured)."""
    domain = domain.lower().lstrip("@")
    host = address.lower().rpartition("@")[2]
    return not domain or not (host == domain or host.endswith("." + domain))
