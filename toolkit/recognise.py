"""Which register a sheet holds, when no template metadata says so, and why.

A sheet is weighed against every register: the record key and the record's own date found, the share
of the register's fields there, how many of its required fields are there, how distinctive the matched headers are (投诉日期 belongs to complaints only; 日期 or 备注 to half
of them), and whether the sheet's name or title rows (「海外客户投诉台账」) name the register. A sheet is
assigned only to a register whose key, or most of whose required fields, it has; a sheet that no
register explains is left out with the nearest registers and what they miss, so that a complaint
register is never read as a customer file because both have a 客户名称 column.

When a run is restricted to one register (``--register ID``), that register is the only candidate and
any sheet whose headers match it at all is read as it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .definitions import BUILTIN_DIR, Register
from .headers import HeaderMatch, Merges, find_header, header_key, header_lookup

TITLE_BONUS = 2.0  # the sheet or its title names the register: worth two distinctive columns
KEY_BONUS = 1.0  # times how distinctive the key's header is: 投诉编号 says more than 编号
DATE_BONUS = 1.0  # the record's own date (投诉日期, 建档日期): what a register's rows are dated by
COVERAGE_WEIGHT = 1.0  # the share of the register's own fields the sheet has: a definition made for it has all
THEME_WEIGHT = 0.5  # per header or title using one of the register's own words, up to four
_NAME_SUFFIXES = re.compile(r"(管理台账|登记表|情况登记表|记录表|报告表|资料表|台账|登记|记录|档案表|表)$")


@dataclass
class Candidate:
    """One register as an explanation of a sheet."""

    register: Register
    header: HeaderMatch
    score: float
    key_found: bool
    required_found: list[str]
    required_missing: list[str]
    named_by: str | None  # the sheet name or title text that names the register

    @property
    def eligible(self) -> bool:
        """The key, or more than half of the required fields: enough to read records of this register."""
        return self.key_found or len(self.required_found) * 2 > len(self.required_found) + len(self.required_missing)

    def matched_labels(self) -> list[str]:
        """Each matched field's label, with the header as typed where it differs (投诉编号（编号）)."""
        shown = []
        for k, col in self.header.columns.items():
            label, typed = self.register.field(k).label_zh, self.header.headers.get(col, "")
            shown.append(label if header_key(typed) == header_key(label) else f"{label}（{typed}）")
        return shown

    def missing_labels(self) -> list[str]:
        return [self.register.field(k).label_zh for k in self.required_missing]


@dataclass
class Recognition:
    """The register a sheet was read as (or None), how it was decided, and the runners-up."""

    chosen: Candidate | None
    how: str  # metadata | headers | only (the run was restricted to one register) | none
    nearest: list[Candidate]
    only: Register | None = None  # the one register the run was restricted to

    def why(self) -> tuple[str, str]:
        """Why the sheet was read as its register, or why it was not read, in Chinese and English."""
        if self.chosen is not None:
            c = self.chosen
            matched = "、".join(c.matched_labels())
            zh = {"metadata": "按模板信息", "only": "按 --register 指定", "headers": "按表头"}[self.how]
            en = {"metadata": "by the template's metadata", "only": "as --register says",
                  "headers": "by its headers"}[self.how]
            zh, en = f"{zh}识别为「{c.register.name_zh}」：匹配 {matched}", f"{en} read as {c.register.name_en}: {matched}"
            if c.named_by:
                zh, en = f"{zh}；表名/标题「{c.named_by}」", f"{en}; named by 「{c.named_by}」"
            if c.required_missing:
                zh += f"；缺少必填列 {'、'.join(c.missing_labels())}"
                en += f"; required columns missing: {'、'.join(c.missing_labels())}"
            return zh, en
        if self.only is not None:
            return (f"表头与「{self.only.name_zh}」不符（--register {self.only.id}）",
                    f"its headers do not match {self.only.name_en} (--register {self.only.id})")
        if not self.nearest:
            return ("表头与任何登记表都不符", "its headers match no register")
        parts_zh, parts_en = [], []
        for c in self.nearest:
            missing = "、".join(c.missing_labels()) or "编号"
            parts_zh.append(f"「{c.register.name_zh}」（{c.register.id}，缺少 {missing}）")
            parts_en.append(f"{c.register.name_en} ({c.register.id}, missing {missing})")
        return (f"未识别为任何登记表：最接近 {'，'.join(parts_zh)}；可用 taizhang definitions infer 生成本表的定义",
                f"not recognised as any register: nearest {', '.join(parts_en)}; "
                "`taizhang definitions infer` drafts a definition for it")


def _header_owners(registers: dict[str, Register]) -> dict[str, int]:
    """How many registers accept each header spelling: the rarer, the more a match says."""
    owners: dict[str, int] = {}
    for register in registers.values():
        for key in header_lookup(register):
            owners[key] = owners.get(key, 0) + 1
    return owners


def _title_text(rows: list[list], header: HeaderMatch) -> list[str]:
    """The texts above the header (title rows), first cells only: where a register is named."""
    texts = []
    for row in rows[:header.row]:
        texts.extend(str(v).strip() for v in row[:8] if v not in (None, "") and str(v).strip())
    return texts


def register_names(register: Register) -> list[str]:
    """The names a sheet or title may use for a register: its name, aliases and their core words
    (客户投诉登记表 → 客户投诉), as header keys."""
    names = []
    for name in (register.name_zh, register.name_en, register.id, *register.aliases):
        key = header_key(name)
        core = _NAME_SUFFIXES.sub("", key)
        names.extend(n for n in (key, core if len(core) >= 3 else "") if len(n) >= 2)
    return list(dict.fromkeys(names))


def theme_words(registers: dict[str, Register]) -> dict[str, list[str]]:
    """Each register's own words: a two-character start shared by two or more of its labels and by no
    other register's labels (投诉 for complaints, 值班 for duty). A header or title that uses one says
    which register it belongs to even when its column is not one of the register's fields."""
    starts: dict[str, dict[str, int]] = {}
    for register in registers.values():
        for f in register.fields:
            word = header_key(f.label_zh)[:2]
            if len(word) == 2:
                starts.setdefault(word, {}).setdefault(register.id, 0)
                starts[word][register.id] += 1
    themes: dict[str, list[str]] = {r: [] for r in registers}
    for word, counts in starts.items():
        if len(counts) == 1:
            (reg_id, n), = counts.items()
            if n >= 2:
                themes[reg_id].append(word)
    return themes


def _named_by(sheet_name: str, titles: list[str], register: Register) -> str | None:
    names = register_names(register)
    for text in (sheet_name, *titles):
        key = header_key(text)
        if any(name in key for name in names):
            return text
    return None


_UNNAMED_SHEET = re.compile(r"^(sheet|工作表|表|页)\s*\d*(\s*\(\d+\))?$", re.IGNORECASE)


def candidate(rows: list[list], sheet_name: str, register: Register, merges: Merges,
              owners: dict[str, int], themes: list[str] = (), file_name: str = "") -> Candidate | None:
    """How well ``register`` explains the sheet (None when its headers are not there at all). The file's name
    (顾客物品寄存登记.xlsx) names the register in place of a sheet name that says nothing (Sheet1, 工作表1)."""
    header = find_header(rows, register, merges)
    if header is None:
        return None
    lookup = header_lookup(register)
    reverse: dict[str, list[str]] = {}
    for spelling, fkey in lookup.items():
        reverse.setdefault(fkey, []).append(spelling)
    weight = 0.0
    for fkey, col in header.columns.items():
        typed = header_key(header.headers.get(col, ""))
        weight += 1.0 / max(owners.get(typed, 0) or min(owners.get(s, 1) for s in reverse[fkey]), 1)
    required = [f.key for f in register.fields if f.required]
    found = [k for k in required if k in header.columns]
    key_found = bool(register.key) and all(k in header.columns for k in register.key)
    titles = _title_text(rows, header)
    if file_name and _UNNAMED_SHEET.match(sheet_name.strip()):
        titles.append(file_name)
    named = _named_by(sheet_name, titles, register)
    themed = sum(any(w in header_key(t) for w in themes) for t in (*header.headers.values(), sheet_name, *titles))
    key_weight = min((1.0 / max(owners.get(header_key(header.headers.get(header.columns[k], "")), 1), 1)
                      for k in register.key), default=0.0) if key_found else 0.0
    dated = register.date in header.columns if register.date else False
    date_weight = 1.0 / max(owners.get(header_key(header.headers.get(header.columns[register.date], "")), 1), 1) \
        if dated else 0.0
    coverage = len(header.columns) / len(register.fields)
    score = (weight + (TITLE_BONUS if named else 0.0) + KEY_BONUS * key_weight + DATE_BONUS * date_weight
             + THEME_WEIGHT * min(themed, 4) + COVERAGE_WEIGHT * coverage)
    return Candidate(register, header, score, key_found, found, [k for k in required if k not in found], named)


def _is_company(register: Register) -> bool:
    return not str(register.source).startswith(str(BUILTIN_DIR))


def recognise(rows: list[list], sheet_name: str, registers: dict[str, Register], merges: Merges,
              declared: str | None = None, file_name: str = "") -> Recognition:
    """The register the sheet holds: the one its metadata declares when its headers are there, else the
    best-explaining eligible one (company definitions before built-ins on a tie)."""
    # an answer form (the store's overdue workbook) is known by its metadata, or else only by a sheet named
    # as its lists are (逾期清单, 即将到期: the list copied into a workbook of the store's own), never by headers
    # alone; nor do its common headers (编号, 状态, 备注) weigh on how rare a header is among the registers
    guessable = {k: r for k, r in registers.items() if not r.is_answer_form} or registers
    owners = _header_owners(guessable)
    if declared and declared in registers:
        header = find_header(rows, registers[declared], merges)
        if header is not None:
            found = candidate(rows, sheet_name, registers[declared], merges, owners)
            if found is not None:
                return Recognition(found, "metadata", [])
    themes = theme_words(guessable)
    named_forms = [r for r in registers.values() if r.is_answer_form and r.id not in guessable
                   and any(name in sheet_name for name in (r.name_zh, *r.aliases))]
    candidates = [c for r in [*guessable.values(), *named_forms]
                  if (c := candidate(rows, sheet_name, r, merges, owners, themes.get(r.id, []), file_name))]
    if len(registers) == 1:
        return Recognition(candidates[0] if candidates else None, "only" if candidates else "none", [],
                           next(iter(registers.values())))

    def rank(c: Candidate) -> tuple:
        return (c.score, _is_company(c.register), len(c.header.columns) / len(c.register.fields))

    candidates.sort(key=rank, reverse=True)
    eligible = [c for c in candidates if c.eligible]
    if eligible:
        return Recognition(eligible[0], "headers", [])
    return Recognition(None, "none", candidates[:2])
