"""A draft register definition for a register a company already keeps (``taizhang definitions infer``).

The workbook is read the way the reader reads a register: the header row found under title rows (two
rows where a group header is merged over the names below it), values merged down filled in, blank,
footer and pre-numbered rows left out. Then each column is looked at over its real rows:

* **type** — dates, date-times, whole and decimal numbers, phones, emails, ID numbers, by what at least
  90 % of its filled cells read as (the rest are the mistakes ``validate`` will then show), else text;
  "/", 无 … count as not applicable, not as values;
* **choice** — the options of the column's dropdown list (data validations, Excel's and WPS's x14 lists
  included), else a few short values repeated over many rows;
* **required** — filled in at least 95 % of the real rows; **key** — a column filled and unique in every
  row, preferably one named 编号/单号; formula columns are noted and never required.

Keys are English snake_case from a dictionary of the words registers use (日期 → date, 负责人 → owner),
else pinyin (marked for review). Every guess carries a comment saying what it rests on. The draft loads
as it is; ``validate`` with it reports only what is wrong in the workbook.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import python_calamine as calamine
import yaml

from .coerce import LOCAL_LANDLINE, parse_text_column, re2
from .definitions import BUILTIN_DIR, NOT_APPLICABLE, RESERVED_FIELD_KEYS, Field, Register
from .headers import HEADER_SCAN_ROWS, HeaderMatch, Merges, column_letter, header_key
from .reader import ANNOTATION_SHEET, PLACEHOLDER_ROW, fill_merged_down, open_book, read_sheet
from .survey import column_number, sheet_members

TYPE_SHARE = 0.9  # a type is guessed when this share of a column's filled cells read as it
REQUIRED_SHARE = 0.95
CHOICE_MAX_OPTIONS = 8

# the words registers are made of, longest first when a label is cut into them
WORDS = {
    "编号": "no", "序号": "seq", "单号": "no", "编码": "code", "代码": "code", "日期": "date", "时间": "time",
    "电话": "phone", "手机": "mobile", "联系方式": "phone", "邮箱": "email", "电子邮箱": "email", "地址": "address",
    "负责人": "owner", "跟进人": "follow_up_by", "处理人": "handled_by", "经办人": "handled_by", "状态": "status",
    "客户": "customer", "顾客": "customer", "名称": "name", "姓名": "name", "类型": "type", "类别": "category",
    "备注": "remark", "说明": "note", "金额": "amount", "费用": "fee", "数量": "quantity", "单价": "price",
    "投诉": "complaint", "问题": "issue", "描述": "description", "内容": "content", "分公司": "branch",
    "门店": "store", "部门": "department", "国家": "country", "地区": "region", "区域": "region", "省份": "province",
    "城市": "city", "应": "due", "实际": "actual", "完成": "completed", "结案": "closed", "处理": "handling",
    "结果": "result", "渠道": "channel", "赔偿": "compensation", "是否": "is", "大客户": "key_account",
    "联系人": "contact", "值班": "duty", "人员": "staff", "员工": "staff", "开始": "start", "结束": "end",
    "交接": "handover", "方式": "method", "下次": "next", "回访": "return_visit", "拜访": "visit",
    "信用": "credit", "额度": "limit", "建档": "created", "登记": "registered", "接收": "received",
    "归还": "returned", "报修": "repair", "维修": "repair", "满意度": "satisfaction", "评价": "rating",
    "意见": "opinion", "反馈": "feedback", "原因": "cause", "措施": "measure", "等级": "level", "级别": "level",
    "来源": "source", "项目": "project", "产品": "product", "服务": "service", "型号": "model", "品牌": "brand",
    "证件": "id", "身份证": "id_card", "号码": "number", "主题": "subject", "详情": "detail", "性别": "gender",
    "年龄": "age", "生日": "birthday", "签字": "signature", "审核": "reviewer", "审批": "approval", "核决": "approval",
    "海外": "overseas", "国内": "domestic", "国外": "overseas", "所属": "", "的": "", "或": "or", "及": "and", "和": "and", "与": "and", "/": "_",
}
_SORTED_WORDS = sorted(WORDS, key=len, reverse=True)
_ID_WORDS = ("编号", "单号", "编码", "代码", "序号", "号码", "No", "ID")
MONEY = r"金额|费用|价|额度|销售额|工资"
PEOPLE = r"人$|人员|员$|姓名|名称|客户|顾客"  # who: never a fixed list of options


@dataclass
class Guess:
    """What one column was guessed to be, and the comment saying why."""

    column: int
    label: str
    key: str
    label_en: str
    type: str = "text"
    options: list[str] = field(default_factory=list)
    required: bool = False
    notes: list[str] = field(default_factory=list)


@dataclass
class Draft:
    """A draft definition: the YAML text to write, and what it was made from."""

    register_id: str
    text: str
    sheet: str
    header_row: int  # Excel's row number
    rows: int  # real rows looked at
    guesses: list[Guess]


class InferError(ValueError):
    """The workbook gives nothing to draft from (no sheet, no header row); said in Chinese and English."""

    def __init__(self, zh: str, en: str) -> None:
        self.zh, self.en = zh, en
        super().__init__(f"{zh} / {en}")


def english_key(label: str) -> tuple[str, bool]:
    """A label as an English snake_case key, and whether pinyin had to stand in for words not in
    :data:`WORDS` (such keys are marked for review)."""
    from pypinyin import lazy_pinyin

    text, parts, pinyin = header_key(label), [], False
    i = 0
    while i < len(text):
        word = next((w for w in _SORTED_WORDS if text.startswith(w, i)), None)
        if word is not None:
            parts.append(WORDS[word])
            i += len(word)
            continue
        ch = text[i]
        if re.match(r"[a-z0-9]", ch):
            run = re.match(r"[a-z0-9]+", text[i:]).group(0)
            parts.append(run)
            i += len(run)
            continue
        if "\u4e00" <= ch <= "\u9fff":
            parts.append(lazy_pinyin(ch)[0])
            pinyin = True
        i += 1
    key = re.sub(r"_+", "_", "_".join(p for p in parts if p)).strip("_")
    if not key or not key[0].isalpha():
        key = f"field_{key}" if key else "field"
    if key in ("no", "yes", "on", "off", "true", "false", "null", "y", "n"):  # words YAML reads as booleans
        key = f"record_{key}"
    return key, pinyin


def _unique_key(key: str, taken: set[str]) -> str:
    if key in RESERVED_FIELD_KEYS:
        key = f"{key}_value"
    out, n = key, 2
    while out in taken:
        out, n = f"{key}_{n}", n + 1
    taken.add(out)
    return out


def _cells(ref: str) -> tuple[int, int, int, int]:
    """'E3:E71' (or 'E3') as 0-based (first row, first column, last row, last column)."""
    parts = [re.fullmatch(r"\$?([A-Z]{1,3})\$?(\d+)", p) for p in ref.split(":")]
    parts = [p for p in parts if p]
    if not parts:
        return (0, 0, -1, -1)
    (c0, r0), (c1, r1) = (parts[0].groups(), parts[-1].groups())
    return int(r0) - 1, column_number(c0) - 1, int(r1) - 1, column_number(c1) - 1


_VALIDATION = re.compile(rb'<(?:x14:)?dataValidation\b([^>]*)>(.*?)</(?:x14:)?dataValidation>', re.S)


def dropdown_lists(data: bytes, sheet: str, book: calamine.CalamineWorkbook) -> dict[int, list[str]]:
    """The dropdown lists of a sheet's columns (0-based column -> options), from its data validations:
    Excel's own and the x14 extension lists WPS and newer Excel write, inline ("是,否") or a range of cells
    on any sheet (=选项!$A$1:$A$5)."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        member = sheet_members(zf).get(sheet)
        xml = zf.read(member) if member else b""
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        return {}
    lists: dict[int, list[str]] = {}
    for attrs, body in _VALIDATION.findall(xml):
        if b'type="list"' not in attrs:
            continue
        formula = re.search(rb"<(?:x14:)?formula1>(?:<xm:f>)?(.*?)(?:</xm:f>)?</(?:x14:)?formula1>", body, re.S)
        sqref = re.search(rb'sqref="([^"]+)"', attrs) or re.search(rb"<xm:sqref>(.*?)</xm:sqref>", body)
        if not formula or not sqref:
            continue
        text = formula.group(1).decode("utf-8", "replace").replace("&quot;", '"').replace("&amp;", "&")
        options = _list_options(text, sheet, book)
        for ref in sqref.group(1).decode().split():
            _, c0, _, c1 = _cells(ref)
            for c in range(c0, c1 + 1):
                lists[c] = options
    return {c: o for c, o in lists.items() if o}


def _list_options(formula: str, sheet: str, book: calamine.CalamineWorkbook) -> list[str]:
    formula = formula.strip().lstrip("=")
    if formula.startswith('"'):
        return [o.strip() for o in re.split(r"[,，]", formula.strip('"')) if o.strip()]
    m = re.fullmatch(r"(?:'?([^'!]+)'?!)?(\$?[A-Z]{1,3}\$?\d+(?::\$?[A-Z]{1,3}\$?\d+)?)", formula)
    if not m:
        return []
    try:
        rows = book.get_sheet_by_name(m.group(1) or sheet).to_python(skip_empty_area=False)
    except Exception:  # a named range or a sheet that is not there: no options from it
        return []
    r0, c0, r1, c1 = _cells(m.group(2))
    values = [str(row[c]).strip() for row in rows[r0:r1 + 1] for c in range(c0, c1 + 1) if c < len(row)]
    return [v for v in dict.fromkeys(values) if v]


def _header_row(rows: list[list], merges: Merges) -> tuple[int, int, dict[int, str]]:
    """The header: the first row within the first rows with the most short text cells (a title row has
    one), two rows where a group header is merged across columns above names. Returns its 0-based row,
    its depth and the label of each column."""
    def texts(row: list) -> dict[int, str]:  # a label typed over two lines (客户\n名称) is one word
        return {c: re.sub(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])", "", " ".join(str(v).split()))
                for c, v in enumerate(row) if isinstance(v, str) and v.strip() and len(v.strip()) <= 30}

    scored = [(len(texts(row)), -i) for i, row in enumerate(rows[:HEADER_SCAN_ROWS])]
    if not scored or max(scored)[0] < 2:
        raise InferError("找不到表头行：前 30 行中没有一行有两个以上的列名",
                         "no header row: none of the first 30 rows has two or more column names")
    i = -max(scored)[1]
    labels = texts(rows[i])
    group = [m for m in merges if m[0][0] == i and m[1][0] == i and m[1][1] > m[0][1]]
    below = texts(rows[i + 1]) if i + 1 < len(rows) else {}
    if group and below and all(c in below for (_, c0), (_, c1) in group for c in range(c0, c1 + 1)):
        for (_, c0), (_, c1) in group:
            top_label = labels.get(c0, "")
            for c in range(c0, c1 + 1):
                labels[c] = f"{top_label}/{below[c]}".strip("/")
        for c, text in below.items():
            labels.setdefault(c, text)
        return i, 2, labels
    return i, 1, labels


def _guess_type(text: pd.Series, raw: pd.Series, label: str, year: int) -> tuple[str, list[str]]:
    """The type most of a column's filled cells read as, and what the guess rests on."""
    filled = text[text != ""]
    if filled.empty:
        return "text", ["列中没有数据，按文本 / no values: text"]
    n = len(filled)

    def share(ftype: str) -> tuple[float, pd.Series]:
        parsed = parse_text_column(filled, Field(key="x", label_zh=label, label_en=label, type=ftype), year)
        return 1 - parsed.bad.mean(), parsed.values

    identifier = any(w.lower() in label.lower() for w in _ID_WORDS)
    typed = raw[text != ""]
    is_moment = typed.map(lambda v: hasattr(v, "year")).mean() if len(typed) else 0
    date_share, values = share("date")
    if is_moment >= TYPE_SHARE or (date_share >= TYPE_SHARE and not identifier):
        stamp_share, stamps = share("datetime")
        with_time = stamps.dropna()
        if len(with_time) and (with_time.dt.hour.ne(0) | with_time.dt.minute.ne(0)).any():
            return "datetime", [f"{stamp_share:.0%} 的值是日期时间 / {stamp_share:.0%} read as date-times"]
        return "date", [f"{date_share:.0%} 的值是日期 / {date_share:.0%} read as dates"]
    if filled.str.fullmatch(re2(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")).mean() >= TYPE_SHARE:
        return "email", ["值为电子邮箱 / the values are email addresses"]
    if filled.str.fullmatch(re2(r"\d{17}[\dXx]")).mean() >= TYPE_SHARE:
        return "id_number", ["值为18位证件号码 / the values are 18-character ID numbers"]
    digits = filled.str.replace(re2(r"[\s\-()（）+]"), "", regex=True)
    phone_like = digits.str.fullmatch(re2(r"(?:86)?1[3-9]\d{9}|0\d{9,11}|" + LOCAL_LANDLINE + r"|[48]00\d{7}"))
    if phone_like.mean() >= TYPE_SHARE and not identifier:
        return "phone", ["值为手机或座机号 / the values are phone numbers"]
    number_share, numbers = share("decimal")
    if number_share >= TYPE_SHARE and not identifier:
        whole = numbers.dropna()
        if len(whole) and (whole == whole.round()).all():
            return "integer", [f"{number_share:.0%} 的值是整数 / {number_share:.0%} read as whole numbers"]
        return "decimal", [f"{number_share:.0%} 的值是数字 / {number_share:.0%} read as numbers"]
    return "text", [f"{n} 个值，按文本 / {n} values: text"]


def _draft_register(labels: dict[int, str], reg_id: str, name: str) -> Register:
    fields = tuple(Field(key=f"c{c}", label_zh=label, label_en=label, type="text") for c, label in labels.items())
    return Register(id=reg_id, name_zh=name, name_en=name, version=1, key=(), fields=fields, not_applicable=())


def infer_definition(path: Path | str, sheet: str | None = None, reference_year: int = 2026) -> Draft:
    """A draft definition for the register on ``sheet`` of a workbook (else its first sheet with data)."""
    path = Path(path)
    opened = open_book(path)
    if isinstance(opened[0], str):
        raise InferError(*opened)
    book, survey = opened
    names = [n for n in book.sheet_names if n != ANNOTATION_SHEET and not n.startswith("_")]
    if sheet is not None and sheet not in book.sheet_names:
        raise InferError(f"没有工作表「{sheet}」（有: {'、'.join(book.sheet_names)}）",
                         f"no sheet {sheet!r} (there are: {', '.join(book.sheet_names)})")
    chosen = sheet or next((n for n in names if len(book.get_sheet_by_name(n).to_python()) > 1), None)
    if chosen is None:
        raise InferError("工作簿中没有有数据的工作表", "the workbook has no sheet with data")
    worksheet = book.get_sheet_by_name(chosen)
    rows = worksheet.to_python(skip_empty_area=False)
    try:
        merges = [tuple(map(tuple, m)) for m in (worksheet.merged_cell_ranges or [])]
    except Exception:  # a format without merge information
        merges = []
    top, depth, labels = _header_row(rows, merges)
    fill_merged_down(rows, merges, top + depth)
    title = next((str(v).strip() for row in rows[:top] for v in row if isinstance(v, str) and v.strip()), "")
    name = title or (path.stem if re.fullmatch(r"(?i)sheet\d*|\d{1,2}月|\d{4}(年|-)?\d{0,2}月?", chosen) else chosen)
    reg_id, id_pinyin = english_key(_strip_register_words(name))
    if reg_id in BUILTIN_IDS():  # the same id would replace the built-in register, not stand beside it
        reg_id = f"company_{reg_id}"
    register = _draft_register(labels, reg_id, name)
    header = HeaderMatch(top, {f"c{c}": c for c in labels}, dict(labels), {}, {}, depth)
    formulas = survey.formula_columns.get(chosen, set())
    read = read_sheet(rows, path.name, chosen, register, header, reference_year, survey.errors.get(chosen, {}),
                      formula_columns=formulas)
    dropdowns = dropdown_lists(survey.data, chosen, book)
    markers = {m.casefold() for m in NOT_APPLICABLE}
    text = read.text.apply(lambda col: col.where(~col.str.casefold().isin(markers), ""))
    key_col = _key_column(text, labels, formulas)
    real = _real_rows(text, key_col, formulas, labels)
    guesses, taken = [], set()
    for c, label in labels.items():
        key, pinyin = english_key(label)
        column = text[f"c{c}"][real]
        guess = Guess(c, label, _unique_key(key, taken), _english_label(label))
        if pinyin:
            guess.notes.append("键含拼音，请改成英文 / the key is pinyin: give it an English name")
        guess.type, why = _guess_type(column, read.raw[f"c{c}"][real], label, reference_year)
        if guess.type == "integer" and re.search(MONEY, label):
            guess.type, why = "decimal", [*why, "金额按小数 / an amount: decimal"]
        counts = column[column != ""].value_counts()
        if c in dropdowns:
            guess.type, guess.options = "choice", dropdowns[c]
            why = ["选项取自下拉列表 / options from the column's dropdown list"]
        elif guess.type == "text" and c != key_col and not re.search(PEOPLE, label) \
                and 1 < len(counts) <= CHOICE_MAX_OPTIONS and counts.sum() >= 5 * len(counts) \
                and counts.index.str.len().max() <= 6:
            guess.type, guess.options = "choice", list(counts.index)
            why = [f"只有 {len(counts)} 种值，各出现多次，按选项 / {len(counts)} distinct values, each repeated: "
                   "a choice"]
        guess.notes.extend(why)
        fill = float((column != "").mean()) if len(column) else 0.0
        guess.required = fill >= REQUIRED_SHARE and c not in formulas
        guess.notes.append(f"填写率 {fill:.0%} / filled in {fill:.0%} of the rows")
        if c in formulas:
            guess.notes.append("公式列，不设必填 / a formula column: not required")
        guesses.append(guess)
    key = next((g.key for g in guesses if g.column == key_col), None)
    ahead = int((~real).sum())
    text_out = _yaml(reg_id, name, chosen, path.name, top + depth, int(real.sum()), guesses, key,
                     len(read.skipped) + ahead, sum(r == PLACEHOLDER_ROW for _, r in read.skipped) + ahead,
                     id_pinyin)
    return Draft(reg_id, text_out, chosen, top + depth, int(real.sum()), guesses)


def BUILTIN_IDS() -> set[str]:  # noqa: N802 - a constant, computed when asked
    return {p.stem for p in BUILTIN_DIR.glob("*.yaml")}


def _strip_register_words(name: str) -> str:
    return re.sub(r"(管理)?(台账|登记表|登记|记录表|记录|表)$", "", name) or name


def _english_label(label: str) -> str:
    key, _ = english_key(label)
    return " ".join(key.split("_")).capitalize()


def _key_column(text: pd.DataFrame, labels: dict[int, str], formulas: set[int]) -> int | None:
    """A column named like an identifier (编号, 单号 …) that no row repeats; the most filled one. (A date
    or a name that happens to be unique in one month's rows is no key.)"""
    candidates = []
    for c, label in labels.items():
        column = text[f"c{c}"]
        filled = column[column != ""]
        named = any(w.lower() in label.lower() for w in _ID_WORDS)
        if c in formulas or len(filled) < 2 or not filled.is_unique or not named:
            continue
        candidates.append((-len(filled), c))
    return min(candidates)[1] if candidates else None


def _real_rows(text: pd.DataFrame, key_col: int | None, formulas: set[int], labels: dict[int, str]) -> np.ndarray:
    """Rows with something typed besides the key and formula columns (the reader has left out blank and
    footer rows already, but it could not tell the key of a register it did not know)."""
    content = [f"c{c}" for c in labels if c != key_col and c not in formulas]
    if not content:
        return np.ones(len(text), dtype=bool)
    return (text[content] != "").any(axis=1).to_numpy()


def _yaml(reg_id: str, name: str, sheet: str, file: str, header_row: int, rows: int, guesses: list[Guess],
          key: str | None, skipped: int, placeholders: int, id_pinyin: bool) -> str:
    def scalar(value) -> str:
        return yaml.safe_dump(value, allow_unicode=True, default_flow_style=True, width=1000).strip().removesuffix(
            "\n...").strip()

    lines = [
        f"# 草稿：由 taizhang definitions infer 从 {file} 的工作表「{sheet}」生成（表头在第{header_row}行，",
        f"# 看了 {rows} 行数据，跳过 {skipped} 行，其中预编号空行 {placeholders} 行）。每个猜测后面都有依据，请逐项核对。",
        f"# Draft from sheet {sheet!r} of {file} (header on row {header_row}, {rows} rows looked at, {skipped} skipped).",
        "# Every guess says what it rests on: check each, then `taizhang registers show` and `taizhang validate`.",
        f"id: {reg_id}" + ("  # 含拼音，可改成英文 / pinyin: an English id reads better" if id_pinyin else ""),
        f"name_zh: {scalar(name)}",
        f"name_en: {scalar(_english_label(_strip_register_words(name)))}",
        "version: 1",
    ]
    if key:
        lines.append(f"key: {scalar(key)}  # 每行都有且不重复 / filled and unique in every row")
    else:
        lines.append("# key: 没有每行都填且不重复的列，请指定编号列 / no column is filled and unique: name the key")
    dates = [g for g in guesses if g.type in ("date", "datetime") and g.required]
    if dates:
        lines.append(f"date: {dates[0].key}  # 记录自己的日期（按月统计用）/ the record's own date")
    owner = next((g for g in guesses if re.search("负责人|跟进人|处理人|经办人", g.label)), None)
    if owner:
        lines.append(f"owner: {owner.key}  # 负责人 / who is responsible")
    branch = next((g for g in guesses if re.search("分公司|门店|网点", g.label)), None)
    if branch:
        lines.append(f"# store: {branch.key}  # 总部台账：若每行属于该列写的门店，去掉本行开头的 #"
                     " / a head-office register: uncomment if each row belongs to the store this column names")
    lines.append("fields:")
    for g in guesses:
        lines.append(f"  - key: {scalar(g.key)}  # 第{column_letter(g.column)}列 / column {column_letter(g.column)}")
        lines.append(f"    label_zh: {scalar(g.label)}")
        lines.append(f"    label_en: {scalar(g.label_en)}")
        lines.append(f"    type: {g.type}  # {'；'.join(g.notes)}")
        if g.options:
            lines.append(f"    options: {scalar(g.options)}")
        if g.required:
            lines.append("    required: true")
    return "\n".join(lines) + "\n"
