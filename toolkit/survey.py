"""A look at a workbook's zip members before the reader opens it: what the reader cannot see or survive.

* **Size**: a workbook is a zip of XML. A member that inflates beyond the limits (a zip bomb, or a file
  damaged so that it looks like one) refuses the file before anything is inflated into memory; members are
  counted as they are streamed, so a lying size in the zip's directory does not get past.
* **Formula errors**: python-calamine reads a cell holding ``#DIV/0!`` or ``#N/A`` as an empty string, so a
  required field would say "required but empty" and an optional one would pass. The sheet XML marks such
  cells ``t="e"``; they are collected here, by sheet, row and column.
* **Formula columns**: a column filled down with a formula (a due date computed from the received date)
  is no sign of a record in a row numbered ahead; the columns holding formulas are noted per sheet.
* **Phantom ranges**: one space typed in XFD1048576 makes the reader allocate every cell up to it (half a
  terabyte). Cells right of ``max_columns`` are taken out of the sheet before reading, and listed.

Only .xlsx/.xlsm sheets are looked into (their XML is plain); other formats get the size check only.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from .limits import Limits

BOMB = ("文件解压后过大，疑似损坏或恶意文件，未读取", "the file inflates to far more than its size: damaged or malicious; not read")
_CHUNK = 1 << 20
_SHEET_REL = re.compile(rb'<Relationship\b[^>]*?\bId="([^"]+)"[^>]*?\bTarget="([^"]+)"|'
                        rb'<Relationship\b[^>]*?\bTarget="([^"]+)"[^>]*?\bId="([^"]+)"')
_SHEET_TAG = re.compile(rb'<(?:\w+:)?sheet\b[^>]*>')
_ATTR = re.compile(rb'([\w:]+)="([^"]*)"')
_CELL_REF = re.compile(rb'\br="([A-Z]{1,3})(\d+)"')
_FAR_CELL = re.compile(rb'<c\b[^>]*?\br="([A-Z]{3})(\d+)"[^>]*?(?:/>|>.*?</c>)', re.S)
_VALUE = re.compile(rb'<v>([^<]*)</v>')
_EMPTY_VALUE = re.compile(rb"<v\s*/>|<v>\s*</v>")
_INLINE = re.compile(rb'<t[^>]*>([^<]*)</t>')


@dataclass
class Survey:
    data: bytes  # the bytes to read: the file's own, or with far-away cells taken out
    refused: tuple[str, str] | None = None
    errors: dict[str, dict[tuple[int, int], str]] = field(default_factory=dict)  # sheet -> (row, col) -> "#N/A"
    notes: list[tuple[str, str, str]] = field(default_factory=list)  # (sheet, zh, en)
    formula_columns: dict[str, set[int]] = field(default_factory=dict)  # sheet -> 0-based columns with formulas


def column_number(letters: bytes | str) -> int:
    """Excel's column letters to a 1-based number (A -> 1, XFD -> 16384)."""
    n = 0
    for ch in letters if isinstance(letters, str) else letters.decode("ascii"):
        n = n * 26 + ord(ch) - 64
    return n


def sheet_members(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> zip member of its XML, from the workbook part and its relationships."""
    try:
        book = zf.read("xl/workbook.xml")
        rels = zf.read("xl/_rels/workbook.xml.rels")
    except (KeyError, zipfile.BadZipFile, zlib.error, OSError, NotImplementedError):
        return {}
    targets = {}
    for m in _SHEET_REL.finditer(rels):
        rid, target = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
        target = target.decode("utf-8", "replace").lstrip("/")
        targets[rid.decode()] = target if target.startswith("xl/") else f"xl/{target}"
    members = {}
    for tag in _SHEET_TAG.finditer(book):
        attrs = {k.split(b":")[-1] if k.startswith(b"r:") else k: v for k, v in _ATTR.findall(tag.group(0))}
        name, rid = attrs.get(b"name"), attrs.get(b"id")
        if name is not None and rid is not None and rid.decode() in targets:
            members[_unescape(name.decode("utf-8", "replace"))] = targets[rid.decode()]
    return members


def _unescape(text: str) -> str:
    return (text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'")
            .replace("&amp;", "&"))


class _TooBig(Exception):
    pass


def _stream(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: list[int]) -> bytes:
    """A member's bytes, inflated chunk by chunk against what is left of the budget, into one buffer
    (joining the chunks would hold a sheet's XML twice: a gigabyte for a million rows)."""
    out = io.BytesIO()
    with zf.open(info) as fh:
        while chunk := fh.read(_CHUNK):
            budget[0] -= len(chunk)
            if budget[0] < 0:
                raise _TooBig
            out.write(chunk)
    return out.getvalue()


def _formula_cells(xml: bytes) -> Iterator[tuple[int, bytes]]:
    """Each ``<f`` that opens a cell's formula (``<c r="B2" …><f>``), with the position of the ``<f`` and the cell's
    opening tag. Each ``<f`` is looked at where it stands (bytes.find), as the pattern ``<c …r="B2"…>\\s*<f\\b``
    would match it, without running the pattern over the whole sheet: a store's template holds a formula per row."""
    at = xml.find(b"<f")
    while at >= 0:
        after = xml[at + 2:at + 3]
        if not (after.isalnum() or after == b"_"):  # <f>, <f t="shared" …>: not <font>
            end = xml.rfind(b">", 0, at)
            if end >= 0 and not xml[end + 1:at].strip():
                tag = xml[xml.rfind(b"<", 0, end):end + 1]
                if tag.startswith(b"<c") and not (tag[2:3].isalnum() or tag[2:3] == b"_"):
                    yield at, tag
        at = xml.find(b"<f", at + 2)


def formula_columns(xml: bytes) -> set[int]:
    """0-based columns of the cells holding a formula."""
    found: set[int] = set()
    for _, tag in _formula_cells(xml):
        ref = _CELL_REF.search(tag)
        if ref:
            found.add(column_number(ref.group(1)) - 1)
    return found


UNCALCULATED = "公式无计算结果"  # the "error" of a formula cell saved without its result (no <v>)


def _uncalculated_cells(xml: bytes) -> dict[tuple[int, int], str]:
    """Formula cells saved without a result (``<c r="A2"><f>…</f></c>``, no ``<v>``), 0-based (row, column):
    files written by a program (openpyxl, a script) and never saved by Excel. python-calamine reads them as
    empty, while Excel shows the value it computes on opening: "required but empty" would be wrong."""
    found: dict[tuple[int, int], str] = {}
    for at, tag in _formula_cells(xml):
        end = xml.find(b"</c>", at)
        ref = _CELL_REF.search(tag)
        if not ref or end < 0:
            continue
        content = xml[at:end]
        # openpyxl writes <v/> or <v></v>; Excel writes an empty text result as t="str" with <v></v>
        empty = b"<v" not in content or (_EMPTY_VALUE.search(content) is not None and b't="str"' not in tag)
        if empty:
            found[(int(ref.group(2)) - 1, column_number(ref.group(1)) - 1)] = UNCALCULATED
    return found


def _error_cells(xml: bytes) -> dict[tuple[int, int], str]:
    """Cells marked as formula errors (t="e"), 0-based (row, column) -> the error as Excel shows it."""
    found: dict[tuple[int, int], str] = {}
    at = xml.find(b't="e"')
    while at >= 0:
        start, end = xml.rfind(b"<c ", 0, at), xml.find(b"</c>", at)
        if start >= 0 and end >= 0:
            cell = xml[start:end]
            ref, value = _CELL_REF.search(cell), _VALUE.search(cell)
            if ref and value:
                found[(int(ref.group(2)) - 1, column_number(ref.group(1)) - 1)] = value.group(1).decode("utf-8", "replace")
        at = xml.find(b't="e"', at + 5)
    return found


def _far_cells(zf: zipfile.ZipFile, xml: bytes, limits: Limits) -> tuple[bytes, list[tuple[str, str]]]:
    """The sheet without cells right of ``max_columns``, and each such cell (reference, value)."""
    removed: list[tuple[str, str]] = []
    shared: list[str] = []

    def drop(m: re.Match) -> bytes:
        if column_number(m.group(1)) <= limits.max_columns:
            return m.group(0)
        cell = m.group(0)
        value = _VALUE.search(cell)
        text = b"".join(_INLINE.findall(cell)).decode("utf-8", "replace") if b"inlineStr" in cell else (
            value.group(1).decode("utf-8", "replace") if value else "")
        if value and b't="s"' in cell:
            if not shared:  # the table is parsed once per sheet, not once per far cell
                shared.extend(_shared_strings(zf))
            index = int(value.group(1))
            text = shared[index] if index < len(shared) else ""
        removed.append((f"{m.group(1).decode()}{m.group(2).decode()}", _unescape(text)))
        return b""

    if not re.search(rb'r="[A-Z]{3}\d', xml):  # a quick look first (a literal start is 9× faster than \b)
        return xml, removed
    return _FAR_CELL.sub(drop, xml), removed


_ROW_NUMBER = re.compile(rb'<row\b[^>]*?\br="(\d+)"')
_CELL = re.compile(rb'<c\b[^>]*?(?:/>|>.*?</c>)', re.S)


def _blank_tail(zf: zipfile.ZipFile, xml: bytes) -> tuple[bytes, list[str]]:
    """The sheet without the rows far below the table that hold nothing but blanks (one space typed in
    A1048576 would make the reader build a million empty rows), and the references of the cells dropped.
    Only a sheet whose last row lies far beyond its number of rows is looked at."""
    last = xml.rfind(b"<row ")
    if last < 0:
        return xml, []
    number = _ROW_NUMBER.match(xml, last)
    rows = xml.count(b"<row ")
    if number is None or int(number.group(1)) <= 2 * rows + 1000:
        return xml, []
    shared: list[str] | None = None
    dropped: list[str] = []
    end = xml.rfind(b"</sheetData>")
    while last >= 0 and end > last:
        element = xml[last:end]
        texts = []
        for cell in _CELL.findall(element):
            value = _VALUE.search(cell)
            if b't="s"' in cell and value:
                if shared is None:
                    shared = _shared_strings(zf)
                index = int(value.group(1))
                texts.append(shared[index] if index < len(shared) else "")
            else:
                texts.append(b"".join(_INLINE.findall(cell)).decode("utf-8", "replace") if b"inlineStr" in cell
                             else (value.group(1).decode("utf-8", "replace") if value else ""))
        if any(t.strip() for t in texts):
            break
        dropped += [m.group(1).decode() + m.group(2).decode() for m in _CELL_REF.finditer(element)]
        xml = xml[:last] + xml[end:]
        end = last
        last = xml.rfind(b"<row ", 0, end)
    return xml, dropped


def _shared_strings(zf: zipfile.ZipFile) -> list[str]:
    try:
        table = zf.read("xl/sharedStrings.xml")
    except KeyError:
        return []
    return [_unescape(b"".join(_INLINE.findall(item)).decode("utf-8", "replace"))
            for item in re.findall(rb"<si>(.*?)</si>", table, re.S)]


def survey_workbook(data: bytes, limits: Limits) -> Survey:
    """Look into the zip members of a workbook's bytes (see the module's text). Never raises: a file that
    is not a zip, or is damaged, is left for the reader to report."""
    survey = Survey(data)
    if not data.startswith(b"PK"):
        return survey
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return survey
    declared = sum(i.file_size for i in infos)
    too_big = declared > limits.max_inflated_bytes or (
        declared > 100_000_000 and declared > limits.max_ratio * max(len(data), 1))
    if too_big:
        survey.refused = BOMB
        return survey
    budget = [min(limits.max_inflated_bytes, int(limits.max_ratio * len(data)) + 100_000_000)]
    replaced: dict[str, bytes] = {}
    try:
        for name, member in sheet_members(zf).items():
            try:
                info = zf.getinfo(member)
            except KeyError:
                continue
            xml = _stream(zf, info, budget)
            errors = _error_cells(xml)
            if b"<f" in xml:
                survey.formula_columns[name] = formula_columns(xml)
                errors = {**_uncalculated_cells(xml), **errors}
            if errors:
                survey.errors[name] = errors
            trimmed, removed = _far_cells(zf, xml, limits)
            trimmed, blank_rows = _blank_tail(zf, trimmed)
            if blank_rows:
                replaced[member] = trimmed
                survey.notes.append((name, f"已忽略表格下方很远处只有空白的单元格 {', '.join(blank_rows[:5])}"
                                           + ("等" if len(blank_rows) > 5 else ""),
                                     f"blank cells far below the table ignored: {', '.join(blank_rows[:5])}"
                                     + (" …" if len(blank_rows) > 5 else "")))
            if removed:
                replaced[member] = trimmed
                blank = [ref for ref, text in removed if not text.strip()]
                filled = [(ref, text) for ref, text in removed if text.strip()]
                if blank:
                    survey.notes.append((name, f"已忽略第{limits.max_columns}列以外的空白单元格 {', '.join(blank[:5])}"
                                               + ("等" if len(blank) > 5 else ""),
                                         f"blank cells right of column {limits.max_columns} ignored: "
                                         f"{', '.join(blank[:5])}" + (" …" if len(blank) > 5 else "")))
                for ref, text in filled[:20]:
                    survey.notes.append((name, f"单元格 {ref} 在第{limits.max_columns}列以外，未读取（内容：{text[:50]}）",
                                         f"cell {ref} is right of column {limits.max_columns}; not read "
                                         f"(it holds: {text[:50]})"))
                if len(filled) > 20:
                    survey.notes.append((name, f"另有 {len(filled) - 20} 个第{limits.max_columns}列以外的单元格未读取",
                                         f"{len(filled) - 20} more cells right of column {limits.max_columns} not read"))
    except _TooBig:
        survey.refused = BOMB
        return survey
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError, ValueError):
        return survey  # damaged: the reader says so
    if replaced:  # the declared used range would still claim the cells taken out: readers trust it
        survey.data = _rezip(zf, {m: re.sub(rb"<dimension\b[^>]*/>", b"", xml, count=1) for m, xml in replaced.items()})
    return survey


def _rezip(zf: zipfile.ZipFile, replaced: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as new:
        for info in zf.infolist():
            new.writestr(info.filename, replaced.get(info.filename) or zf.read(info))
    return out.getvalue()
