"""Header rows: which row of a sheet names the columns, and which field each column holds.

Headers are compared as keys (no spaces or line breaks, half-width, simplified, no 必填 marks), against
every spelling a register accepts (labels, English labels, keys, aliases). A group header merged over
the names under it (联系人信息 over 投诉人 / 联系方式) makes a two-row header, read as one.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from .coerce import normalize_text
from .definitions import Register

HEADER_SCAN_ROWS = 30
MIN_HEADER_MATCHES = 3
# a column staff keep for numbering the lines (almost every hand-made 台账 starts with one); not a field
ROW_NUMBER_HEADERS = ("序号", "序", "行号", "行次", "顺序号", "No", "Nr", "#")


def column_letter(index: int) -> str:
    """0-based column index to Excel's letters (0 -> A, 27 -> AB)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def header_key(text: object) -> str:
    """A header as a comparable key: no whitespace or line breaks, half-width, simplified, no '*'/必填."""
    return _header_key(str(text))


@functools.lru_cache(maxsize=1 << 16)
def _header_key(text: str) -> str:
    # every sheet's first rows are compared with every register's headers: the same few texts, many times
    key = normalize_text(text).casefold()
    key = re.sub(r"\s+", "", key)
    key = re.sub(r"[*＊]|[(（\[【]?必填[)）\]】]?|[:：]$", "", key)
    return key


def is_row_number_header(text: str) -> bool:
    """序号, No., ＮＯ．, 序 号 …: a header that names the lines' numbering, not something recorded."""
    key = _without_brackets(header_key(text)).rstrip(".")
    return key in _ROW_NUMBER_KEYS


def _without_brackets(key: str) -> str:
    return re.sub(r"[(（\[【].*?[)）\]】]", "", key)


def header_lookup(register: Register) -> dict[str, str]:
    """Every accepted header spelling of a register, as header keys, to the field key."""
    lookup: dict[str, str] = {}
    for f in register.fields:
        for spelling in (f.label_zh, f.label_en, f.key, *f.aliases):
            lookup.setdefault(header_key(spelling), f.key)
    # labels win over aliases of other fields: put them last so they overwrite
    for f in register.fields:
        lookup[header_key(f.label_zh)] = f.key
    return lookup


_ROW_NUMBER_KEYS = frozenset(header_key(h) for h in ROW_NUMBER_HEADERS)


@dataclass
class HeaderMatch:
    row: int  # 0-based index in the sheet's rows
    columns: dict[str, int]  # field key -> 0-based column
    headers: dict[int, str]  # column -> header text as typed
    extra: dict[int, str]  # unknown column -> header text
    duplicates: dict[int, str]  # column -> field key matched a second time
    depth: int = 1  # rows the header takes: 2 for a group header merged over the names below it

    @property
    def score(self) -> int:
        return len(self.columns)


def match_header_row(row: list, lookup: dict[str, str], index: int) -> HeaderMatch:
    columns: dict[str, int] = {}
    headers: dict[int, str] = {}
    extra: dict[int, str] = {}
    dupes: dict[int, str] = {}
    for col, cell in enumerate(row):
        text = str(cell).strip() if cell not in (None, "") else ""
        if not text:
            continue
        headers[col] = text
        key = header_key(text)
        fkey = lookup.get(key) or lookup.get(_without_brackets(key))
        if fkey is None:
            extra[col] = text
        elif fkey in columns:
            dupes[col] = fkey
        else:
            columns[fkey] = col
    return HeaderMatch(index, columns, headers, extra, dupes)


Merges = list[tuple[tuple[int, int], tuple[int, int]]]


def _two_row_header(rows: list[list], i: int, lookup: dict[str, str], merges: Merges) -> list[str]:
    """Row ``i`` and the row under it read as one header: a group header merged over several columns
    (联系人信息 over 投诉人 / 联系方式) names nothing itself, the names under it do; a name merged down
    over both rows stands for its column. A pair that names no field is kept under its full name."""
    upper = [str(v).strip() if v not in (None, "") else "" for v in rows[i]]
    lower = [str(v).strip() if v not in (None, "") else "" for v in rows[i + 1]]
    width = max(len(upper), len(lower))
    upper += [""] * (width - len(upper))
    lower += [""] * (width - len(lower))
    for (r0, c0), (r1, c1) in merges:
        if r0 <= i <= r1 and c0 < width:
            for c in range(c0 + 1, min(c1, width - 1) + 1):
                upper[c] = upper[c0]
    combined = []
    for u, low in zip(upper, lower, strict=True):
        if u and low and low != u and not _known(low, lookup):
            combined.append(u + low if _known(u + low, lookup) else f"{u}/{low}")
        else:
            combined.append(low or u)
    return combined


def _known(text: str, lookup: dict[str, str]) -> bool:
    key = header_key(text)
    return key in lookup or _without_brackets(key) in lookup


def find_header(rows: list[list], register: Register, merges: Merges | None = None) -> HeaderMatch | None:
    """The row within the first rows of a sheet that matches most of the register's headers, or two rows
    read as one header where a group header is merged over the names under it."""
    lookup = header_lookup(register)
    best: HeaderMatch | None = None

    def rank(m: HeaderMatch) -> tuple[int, int, int]:  # most fields; a one-row header, then the first, on a tie
        return m.score, -m.depth, -m.row

    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        candidates = [match_header_row(row, lookup, i)]
        if merges and i + 1 < len(rows) and any(r0 <= i < r1 or (r0 == i and c1 > c0)
                                                 for (r0, c0), (r1, c1) in merges):
            pair = match_header_row(_two_row_header(rows, i, lookup, merges), lookup, i)
            pair.depth = 2
            if any(r0 == i and r1 > i and c0 == c1 for (r0, c0), (r1, c1) in merges):
                candidates = [pair]  # names merged down over both rows: the row under them is header, not data
            else:
                candidates.append(pair)
        for m in candidates:
            if best is None or rank(m) > rank(best):
                best = m
        if best.score == len(register.fields) and not best.extra and not best.duplicates and best.depth == 1:
            break  # every field and nothing else: no later row can match better
    if best is None or best.score < min(MIN_HEADER_MATCHES, len(register.fields)):
        return None
    return best
