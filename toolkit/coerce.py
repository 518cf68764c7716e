"""Turning what staff typed into typed columns.

Staff type dates as ``2026/3/5``, ``2026年3月5日`` or ``3.5``, phone numbers as numbers or with
spaces and ``+86``, choices in traditional characters or full-width forms. Every column is first
turned into text (Excel dates become ISO text, numbers their shortest form) and then parsed with
vectorised pandas string operations, so the cost per row stays small on a million rows.

Each parser returns a :class:`Parsed`: the typed values, a ``bad`` mask (present but not
readable as the field's type) and a ``guessed`` mask (read, but by an assumption staff should
confirm, e.g. a date without a year).
"""

from __future__ import annotations

import sys
import unicodedata
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .definitions import Field

_SPACES = " \t\n\r\f\v\xa0\u3000"


def re2(pattern: str) -> str:
    r"""A pattern with ``\d`` and ``\s`` spelled out as ASCII digits and a fixed set of spaces.

    pandas runs a regex in Arrow's native RE2 kernels only when RE2 and Python's ``re`` would agree;
    with ``\d`` or ``\s`` on Chinese text it falls back to Python's ``re``, cell by cell (10-50× slower).
    Spelled out, the patterns mean the same in both (full-width digits are folded to ASCII before parsing).
    """
    out, in_class, i = [], False, 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            pair = pattern[i:i + 2]
            if pair in ("\\d", "\\s"):
                chars = "0-9" if pair == "\\d" else _SPACES
                out.append(chars if in_class else f"[{chars}]")
            else:
                out.append(pair)
            i += 2
            continue
        if ch == "[" and not in_class:
            in_class = True
        elif ch == "]" and in_class and out and out[-1] != "[":
            in_class = False
        out.append(ch)
        i += 1
    return "".join(out)


def arrow_strings(values: pd.Series) -> pa.Array:
    """A column as one Arrow string array (missing stays null), for work done in pyarrow's kernels."""
    arr = pa.array(values.astype("string"), type=pa.string())
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def extract(text: pd.Series, pattern: str) -> pd.DataFrame:
    """The named groups of ``pattern`` as columns, by Arrow's RE2 kernel (pandas' ``str.extract`` runs
    Python's ``re`` cell by cell on string columns). Missing where the pattern does not match; an
    optional group that took no part in a match is ''."""
    found = pc.extract_regex(arrow_strings(text), pattern)
    names = [found.type.field(i).name for i in range(found.type.num_fields)]
    return pd.DataFrame({name: pc.struct_field(found, [i]).to_pandas(types_mapper=pd.ArrowDtype)
                         .set_axis(text.index).astype("string") for i, name in enumerate(names)}, index=text.index)


@dataclass
class Parsed:
    values: pd.Series
    bad: pd.Series
    guessed: pd.Series


def chinese_script(text: str, locale: str = "zh-hans") -> str:
    """Text in simplified (zh-hans) or traditional (zh-hant) characters, by zhconv's dictionary.

    zhconv imports pkg_resources at import time only to find that dictionary beside its module (0.2 s,
    more than reading a store's workbook); without pkg_resources it opens the same file by its path."""
    zhconv = sys.modules.get("zhconv")
    if zhconv is None:
        saved = sys.modules.get("pkg_resources", _ABSENT)
        sys.modules["pkg_resources"] = None  # type: ignore[assignment]  # makes its import raise ImportError
        try:
            import zhconv
        finally:
            if saved is _ABSENT:
                del sys.modules["pkg_resources"]
            else:
                sys.modules["pkg_resources"] = saved
    return zhconv.convert(text, locale)


_ABSENT = object()


def normalize_text(value: str) -> str:
    """Full-width to half-width, traditional to simplified, inner whitespace folded."""
    text = unicodedata.normalize("NFKC", str(value))
    text = chinese_script(text)
    return " ".join(text.split())


def _map_unique(s: pd.Series, fn) -> pd.Series:
    """Apply a Python function once per distinct value: registers repeat the same few values a lot."""
    uniques = pd.unique(s.to_numpy(dtype=object))
    return s.map(dict(zip(uniques, (fn(u) for u in uniques), strict=True)))


_WHOLE_NUMBER_RE = re2(r"-?\d+\.0")
_MIDNIGHT_RE = re2(r"\d{4}-\d{2}-\d{2} 00:00:00")


def is_string_column(values: pd.Series) -> bool:
    """A pandas string column (Arrow-backed), whose values are all text or missing: not an object column."""
    return pd.api.types.is_string_dtype(values.dtype) and not pd.api.types.is_object_dtype(values.dtype)


def as_text(raw: pd.Series) -> pd.Series:
    """Cell values as text: '' for empty cells, whole numbers without '.0', Excel dates as ISO text.

    The result is pandas' string dtype (Arrow-backed when pyarrow is installed), so that every later
    string operation runs in native code rather than once per cell in Python.
    """
    if is_string_column(raw):
        return raw.fillna("").str.strip()
    values = raw.to_numpy(dtype=object)
    try:  # typed text stays as typed: only Excel's numbers and dates are reshaped
        text = pa.array(values, type=pa.string(), from_pandas=True)
    except (pa.ArrowTypeError, pa.ArrowInvalid):  # some cells hold numbers, dates or booleans
        return pd.Series(_typed_as_text(values), index=raw.index, dtype="str")
    return pd.Series(pc.utf8_trim_whitespace(pc.fill_null(text, "")), index=raw.index, dtype="str")


def _typed_as_text(values: np.ndarray) -> pa.Array:
    """Text for a column that holds Excel numbers, dates or booleans among its text.

    Typed text goes to Arrow as it is. Excel's numbers and dates repeat a lot (a month has 31 days):
    each distinct value is written once. Booleans become text first, as True would otherwise be taken
    for the same value as 1.
    """
    kind = np.fromiter((_KIND.get(type(v), 3) for v in values), dtype=np.int8, count=len(values))
    is_text = kind == 0
    text = pc.utf8_trim_whitespace(pa.array(values[is_text], type=pa.string()))
    typed = values[kind >= 2]
    bools = kind[kind >= 2] == 2
    if bools.any():
        typed = typed.copy()
        typed[bools] = ["TRUE" if v else "FALSE" for v in typed[bools]]
    codes, uniques = pd.factorize(typed, use_na_sentinel=True)
    shown = _typed_text(uniques)
    for shape, keep in ((_WHOLE_NUMBER_RE, -2), (_MIDNIGHT_RE, 10)):
        hit = shown.str.fullmatch(shape).to_numpy(dtype=bool, na_value=False)
        if hit.any():
            shown[hit] = shown[hit].str.slice(0, keep)
    # one array of every text to show (typed text, the distinct typed values, then ''), and each cell's place in it
    empty = len(text) + len(uniques)
    place = np.full(len(values), empty, dtype=np.int64)
    place[is_text] = np.arange(len(text))
    place[kind >= 2] = np.where(codes < 0, empty, len(text) + codes)
    return pc.take(pa.concat_arrays([text, arrow_strings(shown), pa.array([""])]), pa.array(place))


def _typed_text(values: np.ndarray) -> pd.Series:
    """Distinct typed values as text. Dates and date-times are written by pandas in one pass (str() of
    each costs 1.7 µs) and to the second, as Excel shows them; numbers and the rest by Python's str()."""
    shown = pd.Series(values, dtype=object)
    moments = np.flatnonzero(np.fromiter((isinstance(v, date) for v in values), dtype=bool, count=len(values)))
    if len(moments):
        stamps = pd.to_datetime(shown.iloc[moments], errors="coerce").dt.round("s")
        known = stamps.notna().to_numpy()
        shown.iloc[moments[known]] = stamps[known].dt.strftime("%Y-%m-%d %H:%M:%S").to_numpy()
    return shown.astype("str").str.strip()


_KIND = {str: 0, type(None): 1, bool: 2}  # anything else (numbers, dates, times) is 3: Excel's typed values


def _present(text: pd.Series) -> pd.Series:
    return text != ""


def _nfkc(text: pd.Series) -> pd.Series:
    """Full-width digits and letters to half-width, only for the cells that need it."""
    wide = text.str.contains("[\u3000\uff01-\uff5e]", regex=True)
    if not wide.any():
        return text
    out = text.copy()
    out[wide] = _map_unique(text[wide], lambda v: unicodedata.normalize("NFKC", v))
    return out


def parse_text(text: pd.Series, f: Field) -> Parsed:
    values = text.where(_present(text), None)
    return Parsed(values, pd.Series(False, index=text.index), pd.Series(False, index=text.index))


def _to_number(text: pd.Series) -> pd.Series:
    cleaned = _nfkc(text).str.replace(re2(r"[\s,，¥￥元]"), "", regex=True)
    number = pd.to_numeric(cleaned.where(cleaned != "", None), errors="coerce").astype("float64")
    return number.where(np.isfinite(number))  # "inf", "nan" and 1e309 are not amounts anyone typed


def parse_decimal(text: pd.Series, f: Field) -> Parsed:
    present = _present(text)
    num = _to_number(text).astype("Float64")
    bad = present & num.isna()
    return Parsed(num, bad.astype(bool), pd.Series(False, index=text.index))


def parse_integer(text: pd.Series, f: Field) -> Parsed:
    present = _present(text)
    num = _to_number(text)
    whole = num.notna() & (num == np.floor(num.fillna(0)))
    bad = present & ~whole
    values = num.where(whole).astype("Float64").round().astype("Int64")
    return Parsed(values, bad.astype(bool), pd.Series(False, index=text.index))


# 2026-10-20, 2026/10/20, 2026.10.20., 2026 10 20, 2026年10月20日 (or 20号), a weekday after it (星期二, （周二）),
# a time after that (14:30, 14时30分, 下午2:30)
_DATE_RE = re2(
    r"^(?P<y>\d{4})(?:\s*[-/.年]\s*|\s+)(?P<m>\d{1,2})(?:\s*[-/.月]\s*|\s+)(?P<d>\d{1,2})\s*[日号.]?"
    r"(?:\s*[(（]?\s*(?:星期|周|礼拜)[一二三四五六日天]\s*[)）]?)?"
    r"(?:[\sT]*(?P<ap>上午|早上|中午|下午|晚上)?\s*(?P<H>\d{1,2})\s*[:时点]\s*(?P<M>\d{1,2})?\s*分?"
    r"(?:\s*[:]\s*(?P<S>\d{1,2}(?:\.\d+)?))?\s*秒?)?$"
)
_AFTERNOON = ("中午", "下午", "晚上")  # 下午2:30 is 14:30; 中午12点 stays 12:00
_ISO_DATE_RE = re2(r"\d{4}-\d{2}-\d{2}")
_ISO_MOMENT_RE = re2(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
_COMPACT_RE = re2(r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$")
_NO_YEAR_RE = re2(r"^(?P<m>\d{1,2})\s*[./月-]\s*(?P<d>\d{1,2})\s*[日号]?$")
_SERIAL_RE = re2(r"^\d{3,5}(?:\.\d+)?$")
_TIME_RE = re2(r"^(?P<ap>上午|早上|中午|下午|晚上)?\s*(?P<H>\d{1,2})\s*[:时点]\s*(?P<M>\d{1,2})?\s*分?(?:\s*:\s*(?P<S>\d{1,2})(?:\.\d+)?)?$")


def _assemble(parts: pd.DataFrame) -> pd.Series:
    cols = {"year": parts["y"], "month": parts["m"], "day": parts["d"]}
    for name, key in (("hour", "H"), ("minute", "M"), ("second", "S")):
        if key in parts:
            cols[name] = parts[key]
    frame = pd.DataFrame({k: pd.to_numeric(v, errors="coerce") for k, v in cols.items()})
    if "ap" in parts and "hour" in frame:
        afternoon = parts["ap"].isin(_AFTERNOON) & (frame["hour"] < 12)
        frame["hour"] = frame["hour"].where(~afternoon.to_numpy(dtype=bool), frame["hour"] + 12)
    frame = frame.fillna({k: 0 for k in ("hour", "minute", "second") if k in frame})
    ok = frame[["year", "month", "day"]].notna().all(axis=1)
    out = pd.Series(pd.NaT, index=parts.index, dtype="datetime64[us]")
    if ok.any():
        out[ok] = pd.to_datetime(frame[ok], errors="coerce")
    return out


def _parse_moment(text: pd.Series, reference_year: int) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Dates and date-times in every form staff type; returns values, bad mask, guessed-year mask.

    Each form is tried only on the cells no earlier form read, by position (numpy masks): a register
    sheet's date column is mostly Excel's own dates, and the costly forms then see a handful of cells."""
    present = _present(text).to_numpy(dtype=bool)
    # microseconds while parsing: a year typed as 2620 or 1600 must become a finding, not overflow nanoseconds
    out = np.full(len(text), np.datetime64("NaT"), dtype="datetime64[us]")
    guessed = np.zeros(len(text), dtype=bool)
    todo = present.copy()
    t = _nfkc(text) if todo.any() else text
    # Excel's own dates arrive as ISO text (see as_text): parsed by pandas' C parser, without a regex
    for shape, fmt in ((_ISO_DATE_RE, "%Y-%m-%d"), (_ISO_MOMENT_RE, "%Y-%m-%d %H:%M:%S")):
        if not todo.any():
            break
        iso = todo & t.str.fullmatch(shape).to_numpy(dtype=bool, na_value=False)
        if iso.any():
            out[iso] = pd.to_datetime(t[iso], format=fmt, errors="coerce").to_numpy(dtype="datetime64[us]")
            todo &= ~iso
    for pattern in (_DATE_RE, _COMPACT_RE):
        if not todo.any():
            break
        at = np.flatnonzero(todo)
        found = extract(t.iloc[at], pattern)
        hit = found["y"].notna().to_numpy(dtype=bool)
        if hit.any():
            out[at[hit]] = _assemble(found[hit]).to_numpy(dtype="datetime64[us]")
            todo[at[hit]] = False
    if todo.any():
        at = np.flatnonzero(todo)
        serial = t.iloc[at].str.fullmatch(_SERIAL_RE).to_numpy(dtype=bool, na_value=False)
        if serial.any():
            num = pd.to_numeric(t.iloc[at[serial]], errors="coerce")
            num = num.where((num >= 367) & (num < 2958466))  # 1901-01-01 .. 9999-12-31
            out[at[serial]] = (pd.to_datetime(num, unit="D", origin="1899-12-30", errors="coerce").dt.round("s")
                               .to_numpy(dtype="datetime64[us]"))
            todo[at[serial]] = False
    if todo.any():
        at = np.flatnonzero(todo)
        no_year = extract(t.iloc[at], _NO_YEAR_RE)
        hit = no_year["m"].notna().to_numpy(dtype=bool)
        if hit.any():
            read = _assemble(no_year[hit].assign(y=str(reference_year))).to_numpy(dtype="datetime64[us]")
            out[at[hit]] = read
            guessed[at[hit]] = ~np.isnat(read)
    values = pd.Series(out, index=text.index)
    years = values.dt.year
    values = values.where((years >= 1900) & (years <= 2100)).astype("datetime64[ns]")
    bad = pd.Series(present, index=text.index) & values.isna()
    return values, bad, pd.Series(guessed, index=text.index)


def parse_date(text: pd.Series, f: Field, reference_year: int) -> Parsed:
    values, bad, guessed = _parse_moment(text, reference_year)
    return Parsed(values.dt.normalize(), bad, guessed)


def parse_datetime(text: pd.Series, f: Field, reference_year: int) -> Parsed:
    values, bad, guessed = _parse_moment(text, reference_year)
    return Parsed(values, bad, guessed)


def parse_time(text: pd.Series, f: Field) -> Parsed:
    """Times of day as minutes after midnight (Excel stores them as a fraction of a day)."""
    present = _present(text)
    t = _nfkc(text)
    t = t.str.replace(re2(r"^\d{4}-\d{2}-\d{2}[ T]"), "", regex=True)  # a date-time cell: keep the time
    parts = t.pipe(extract, _TIME_RE)
    hours = pd.to_numeric(parts["H"], errors="coerce")
    hours = hours.where(~(parts["ap"].isin(_AFTERNOON) & (hours < 12)).to_numpy(dtype=bool), hours + 12)
    minutes = pd.to_numeric(parts["M"], errors="coerce").fillna(0)
    value = hours * 60 + minutes
    fraction = pd.to_numeric(t.where(t.str.fullmatch(re2(r"0?\.\d+|0|1")), None), errors="coerce")
    value = value.fillna((fraction * 1440).round())
    value = value.where((value >= 0) & (value <= 1440) & (minutes < 60))
    bad = present & value.isna()
    return Parsed(value.astype("Float64"), bad, pd.Series(False, index=text.index))


def _canonical_phones(text: pd.Series) -> pd.Series:
    """Phones in canonical form (13800138000, 010-12345678, 400-123-4567), missing where not a phone."""
    digits = text.str.replace(re2(r"[^\d+]"), "", regex=True).str.replace(re2(r"^(?:\+86|0086)"), "", regex=True)
    prefixed = (digits.str.len() == 13) & digits.str.startswith("86")
    digits = digits.where(~prefixed, digits.str.slice(2))
    out = pd.Series(pd.NA, index=text.index, dtype="str")
    mobile = digits.str.fullmatch(re2(r"1[3-9]\d{9}"))
    out[mobile] = digits[mobile]
    for shape, area in ((re2(r"0[12]\d[1-9]\d{6,7}"), 3), (re2(r"0[3-9]\d{2}[1-9]\d{6,7}"), 4)):
        land = digits.str.fullmatch(shape) & ~mobile
        out[land] = digits[land].str.slice(0, area) + "-" + digits[land].str.slice(area)
    service = digits.str.fullmatch(re2(r"[48]00\d{7}"))
    out[service] = (digits[service].str.slice(0, 3) + "-" + digits[service].str.slice(3, 6) + "-"
                    + digits[service].str.slice(6))
    return out


def parse_phone(text: pd.Series, f: Field) -> Parsed:
    """Mainland mobiles (11 digits) and landlines with area code, written canonically (010-12345678)."""
    present = _present(text)
    t = _nfkc(text)
    allowed = t.str.fullmatch(re2(r"[\d\s\-+()（）—.]+(?:\s*(?:转|ext\.?|x)\s*\d+)?"), case=False)
    core = t.str.replace(re2(r"\s*(?:转|ext\.?|x|X|EXT\.?)\s*\d+$"), "", regex=True)
    values = _canonical_phones(core.where(present & allowed, ""))
    # A landline typed as a number loses its leading zero in Excel: 1012345678 was 010-12345678.
    lost_zero = values.isna() & present & core.str.fullmatch(re2(r"[1-9]\d{8,10}"))
    if lost_zero.any():
        values[lost_zero] = _canonical_phones("0" + core[lost_zero])
    # a local landline typed without its area code (2345678): kept as typed, the check warns 座机缺区号
    local = values.isna() & present & core.str.replace(re2(r"[\s\-]"), "", regex=True).str.fullmatch(LOCAL_LANDLINE)
    if local.any():
        values[local] = core[local].str.replace(re2(r"[\s\-]"), "", regex=True)
    bad = present & values.isna()
    guessed = lost_zero & values.notna()
    return Parsed(values.astype("str"), bad, guessed)


LOCAL_LANDLINE = r"[2-9]\d{6,7}"


def with_area_code(values: pd.Series, codes: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Local landlines (7 or 8 digits) with the area code of their row's store (``codes``, '' where none):
    0759-2345678. Returns the values and where a code was assumed."""
    local = values.str.fullmatch(re2(LOCAL_LANDLINE)).fillna(False).astype(bool) & (codes != "").to_numpy()
    if not local.any():
        return values, local
    out = values.copy()
    out[local] = codes[local] + "-" + values[local]
    return out, local


def parse_email(text: pd.Series, f: Field) -> Parsed:
    present = _present(text)
    t = _nfkc(text).str.strip()
    ok = t.str.fullmatch(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
    values = t.where(present & ok, None)
    return Parsed(values, present & ~ok.fillna(False), pd.Series(False, index=text.index))


ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
ID_CHECK = np.array(list("10X98765432"))


def id_number_valid(ids: pd.Series) -> pd.Series:
    """GB 11643 resident ID: 18 characters, a real birth date, and the ISO 7064 MOD 11-2 check digit."""
    shaped = ids.str.fullmatch(re2(r"\d{17}[\dX]")).fillna(False)
    ok = pd.Series(False, index=ids.index)
    if shaped.any():
        s = ids[shaped]
        digits = np.frombuffer("".join(s.str[:17]).encode("ascii"), dtype=np.uint8).reshape(-1, 17) - 48
        check = ID_CHECK[(digits * ID_WEIGHTS).sum(axis=1) % 11]
        birth = pd.to_datetime(s.str[6:14], format="%Y%m%d", errors="coerce")
        ok[shaped] = (check == s.str[17].to_numpy()) & birth.notna().to_numpy() & (birth.dt.year >= 1900).to_numpy()
    return ok


def parse_id_number(text: pd.Series, f: Field) -> Parsed:
    present = _present(text)
    t = _nfkc(text).str.replace(re2(r"\s"), "", regex=True).str.upper()
    ok = id_number_valid(t) & present
    return Parsed(t.where(ok, None), present & ~ok, pd.Series(False, index=text.index))


def choice_lookup(f: Field) -> dict[str, str]:
    """Every accepted spelling of each option, normalised, to the option's canonical value."""
    lookup: dict[str, str] = {}
    for opt in f.options:
        for spelling in (opt.value, *opt.aliases):
            lookup[normalize_text(spelling).casefold().replace(" ", "")] = opt.value
    return lookup


def parse_choice(text: pd.Series, f: Field) -> Parsed:
    present = _present(text)
    lookup = choice_lookup(f)
    values = _map_unique(text, lambda v: lookup.get(normalize_text(v).casefold().replace(" ", "")) if v else None)
    values = values.astype("str")
    return Parsed(values, present & values.isna(), pd.Series(False, index=text.index))


def parse_text_column(text: pd.Series, f: Field, reference_year: int | None = None) -> Parsed:
    """Parse a column already turned into text by :func:`as_text`."""
    year = reference_year or date.today().year
    if f.type == "text":
        return parse_text(text, f)
    if f.type in ("date", "datetime"):
        return (parse_date if f.type == "date" else parse_datetime)(text, f, year)
    parser = {
        "integer": parse_integer, "decimal": parse_decimal, "time": parse_time, "phone": parse_phone,
        "email": parse_email, "id_number": parse_id_number, "choice": parse_choice,
    }[f.type]
    return parser(text, f)


def moment_text(values: pd.Series, with_time: bool = False) -> pd.Series:
    """'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM' ('' where missing), cut from pandas' own ISO text: ``strftime``
    with a format formats each value in Python, 3× slower on a month's long overdue lists."""
    text = values.astype("str")
    if with_time:  # a column of midnights is written as dates only
        text = text.where(text.str.len() != 10, text + " 00:00")
    return text.str.slice(0, 16 if with_time else 10).fillna("")


def show_values(values: pd.Series, f: Field | None = None) -> pd.Series:
    """Typed values as staff would write them: for messages, record keys and overdue lists."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return moment_text(values, with_time=f is not None and f.type == "datetime")
    if f is not None and f.type == "time":
        minutes = values.astype("Float64")
        return ((minutes // 60).astype("Int64").astype(str).str.zfill(2) + ":" +
                (minutes % 60).astype("Int64").astype(str).str.zfill(2)).fillna("")
    if is_string_column(values):
        return values.astype("str").fillna("")
    return values.astype(object).where(values.notna(), "").astype(str)
