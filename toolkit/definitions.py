"""Register definitions: the one description of a register that drives everything else.

A definition is a YAML file (see ``toolkit/registers/*.yaml``). It is checked when it is loaded,
so that a typo in a company's own definition is reported with the file and line instead of
surfacing later as a confusing validation result. Cross-field rules and deadlines are declared in
a small vocabulary (``RULE_KINDS``, ``Deadline``) that the validator and the overdue stage interpret;
no register has Python code of its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

BUILTIN_DIR = Path(__file__).parent / "registers"

FIELD_TYPES = ("text", "integer", "decimal", "date", "datetime", "time", "phone", "email", "id_number", "choice")
SEVERITIES = ("error", "warning")
DURATION_UNITS = {
    "minute": "minutes", "minutes": "minutes", "分钟": "minutes",
    "hour": "hours", "hours": "hours", "小时": "hours",
    "day": "days", "days": "days", "天": "days",
}


class DefinitionError(ValueError):
    """A register definition is wrong; the message names the file, line and key, in Chinese and English."""

    def __init__(self, path: Path | str, line: int | None, where: str, zh: str, en: str) -> None:
        self.path, self.line, self.where = str(path), line, where
        at = f"第{line}行 " if line else ""
        at_en = f"line {line}, " if line else ""
        super().__init__(f"{self.path}: {at}{where}: {zh} / {at_en}{where}: {en}")


@dataclass(frozen=True)
class Duration:
    """A deadline length such as ``7 days``, ``24 hours`` or ``2 working days``."""

    amount: float
    unit: str  # minutes | hours | days
    working: bool = False

    def __str__(self) -> str:
        amount = int(self.amount) if float(self.amount).is_integer() else self.amount
        return f"{amount} {'working ' if self.working else ''}{self.unit}"

    @property
    def zh(self) -> str:
        amount = int(self.amount) if float(self.amount).is_integer() else self.amount
        unit = {"minutes": "分钟", "hours": "小时", "days": "个工作日" if self.working else "天"}[self.unit]
        return f"{amount}{unit}"

    @classmethod
    def parse(cls, text: Any) -> Duration:
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(working\s+|工作)?\s*(\S+)\s*", str(text))
        if not m or m.group(3) not in DURATION_UNITS:
            raise ValueError(f"{text!r}")
        unit = DURATION_UNITS[m.group(3)]
        working = bool(m.group(2))
        if working and unit != "days":
            raise ValueError(f"{text!r}")
        return cls(float(m.group(1)), unit, working)


@dataclass(frozen=True)
class Option:
    """One allowed value of a choice field, with the other spellings staff use for it."""

    value: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Field:
    key: str
    label_zh: str
    label_en: str
    type: str = "text"
    required: bool = False
    aliases: tuple[str, ...] = ()
    options: tuple[Option, ...] = ()
    min: float | None = None
    max: float | None = None
    max_length: int | None = None
    pattern: str | None = None
    pattern_zh: str | None = None
    pattern_en: str | None = None
    help: str | None = None
    sensitive: bool = False

    @property
    def option_values(self) -> list[str]:
        return [o.value for o in self.options]


@dataclass(frozen=True)
class Rule:
    """A cross-field rule; ``params`` holds the kind's own keys (see ``RULE_KINDS``)."""

    kind: str
    params: dict[str, Any]
    severity: str = "error"
    message_zh: str | None = None
    message_en: str | None = None

    def fields(self) -> list[str]:
        """The field keys this rule reads, for checks and for describing the rule."""
        return _rule_fields(self.kind, self.params)


@dataclass(frozen=True)
class Deadline:
    """A deadline rule: a record is overdue when ``from`` + limit has passed and ``done`` does not hold.

    ``kind`` is ``deadline`` or ``anniversary`` (a yearly date such as a birthday coming up).
    ``done`` is a condition ({field, in|present}) or ``{later_record: {group, date}}``.
    """

    id: str
    name_zh: str
    name_en: str
    start: tuple[str, ...]
    kind: str = "deadline"
    when: dict[str, tuple[str, ...]] = field(default_factory=dict)
    done: dict[str, Any] | None = None
    limit: Duration | None = None
    limit_by_field: str | None = None
    limit_by: dict[str, Duration] = field(default_factory=dict)
    done_date: str | None = None  # when filled, the record is done on that date, whatever ``done`` says
    replaces: tuple[str, ...] = ()  # deadlines of the same record this one stands for where it applies
    due: str | None = None  # the record's own due date (应结案日期): used when filled, else from + limit
    warn: Duration | None = None  # the due-soon window of this deadline (else the run's --soon days)
    calendar: str | None = None  # china | weekdays | company (None: the register's, else china)
    paused: dict[str, Any] | None = None  # a condition under which the clock stands still (状态 暂停)
    paused_since: str | None = None  # the date field saying since when a record is paused
    # done by a record in another register: {register, match: {this field: that field}, date, when}; a return
    # visit logged in 客户拜访回访记录 (same store, same customer, dated on or after the start) closes the item
    done_in: dict[str, Any] | None = None

    def fields(self) -> set[str]:
        """Every field the deadline reads: a record whose error is in none of them can still be judged."""
        used = {*self.start, *self.when}
        done = self.done or {}
        if "later_record" in done:
            group = done["later_record"]["group"]
            used |= {*(group if isinstance(group, list) else [group]), done["later_record"]["date"]}
        used |= set(done.get("any_present", [])) | ({done["field"]} if "field" in done else set())
        for name in (self.done_date, self.due, self.limit_by_field, self.paused_since):
            if name:
                used.add(name)
        if self.paused and "field" in self.paused:
            used.add(self.paused["field"])
        if self.done_in:
            used |= set(self.done_in["match"])
        return used

    def limit_for(self, value: str | None) -> Duration | None:
        return self.limit_by.get(value, self.limit) if value is not None else self.limit


MEASURE_OPS = ("count", "sum", "mean", "share", "within", "mean_days")
MEASURE_FORMATS = ("integer", "decimal", "percent")


@dataclass(frozen=True)
class Measure:
    """One figure computed over a group of records (``op`` from ``MEASURE_OPS``).

    count: records; sum / mean: of a number field; share: part of the records meeting ``where``
    among those meeting ``of``; within: part of the records having both ``from`` and ``to`` whose gap is
    within ``limit`` (or within the limit of ``deadline`` for that record); mean_days: average days
    from ``from`` to ``to``.
    """

    name_zh: str
    name_en: str
    op: str
    args: dict[str, Any] = field(default_factory=dict)
    where: dict[str, Any] | None = None
    format: str = "integer"


@dataclass(frozen=True)
class Summary:
    """A statistics table of the summary workbook: records grouped ``by`` fields, optionally spread
    ``across`` the values of one more field (counts), restricted to ``where`` and to the month of
    ``in_month`` when a month is given. ``by`` may name ``store`` or ``month:<date field>``."""

    id: str
    title_zh: str
    title_en: str
    by: tuple[str, ...]
    values: tuple[Measure, ...] = ()
    across: str | None = None
    where: dict[str, Any] | None = None
    in_month: str | None = None
    chart: str | None = None


@dataclass(frozen=True)
class Register:
    id: str
    name_zh: str
    name_en: str
    version: int
    key: tuple[str, ...]
    fields: tuple[Field, ...]
    rules: tuple[Rule, ...] = ()
    deadlines: tuple[Deadline, ...] = ()
    aliases: tuple[str, ...] = ()
    source: str = ""
    owner: str | None = None  # the field naming who is responsible for a record
    customer: str | None = None  # the field naming the customer a record is about
    date: str | None = None  # the record's own date: months, "new this month"
    store: str | None = None  # a head-office register: the field naming the store each row belongs to
    open: dict[str, Any] | None = None  # condition under which a record is still open
    figures: tuple[Measure, ...] = ()  # key figures for the overview
    summaries: tuple[Summary, ...] = ()
    # what staff write for "not applicable" in a date, number, choice, phone or email cell (None: the default)
    not_applicable: tuple[str, ...] | None = None
    calendar: str | None = None  # the working-day calendar of its deadlines: china | weekdays | company
    # the company's own days off and working days (taizhang.toml [calendar]), for the ``company`` calendar
    days_off: frozenset = frozenset()
    working_days: frozenset = frozenset()
    # rows with all of these fields empty are skipped as not filled in (a list item the store did not answer)
    rows_need: tuple[str, ...] = ()
    # a register of the stores' answers to their overdue lists: which fields name the answered item
    # (register, key, rule) and hold the answer (reply, note). Its form is the store's overdue workbook,
    # so it has no blank template, no demo rows, and is recognised only where that workbook declares it.
    answers: dict[str, str] | None = None

    @property
    def is_answer_form(self) -> bool:
        return self.answers is not None

    def field(self, key: str) -> Field:
        for f in self.fields:
            if f.key == key:
                return f
        raise KeyError(key)

    @property
    def field_keys(self) -> list[str]:
        return [f.key for f in self.fields]

    @property
    def sensitive_fields(self) -> list[str]:
        return [f.key for f in self.fields if f.sensitive]


# --- the rule vocabulary -------------------------------------------------------------------------
# kind -> (required params, optional params). Params ending in "field"/"fields" name fields.
RULE_KINDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "order": (("fields",), ()),
    "implies": (("if", "then"), ()),
    "max_gap": (("from", "to", "limit"), ()),
    "ladder": (("amount", "field", "steps"), ()),
    "key_matches_date": (("field", "date", "format"), ()),
    "duration_matches": (("start", "end", "hours"), ("tolerance",)),
}
CONDITION_TESTS = ("in", "not_in", "present", "gt")
CHART_TYPES = ("column", "bar", "line", "pie")
# columns every consolidated record carries before its fields; a field may not take these names
RESERVED_FIELD_KEYS = ("store_code", "store_name", "source_file", "source_sheet", "source_row")
CALENDARS = ("china", "weekdays", "company")  # see toolkit/workdays.py
# "/" or 无 in a date, number, choice, phone or email cell: not applicable, read as empty (text keeps it)
NOT_APPLICABLE = ("/", "／", "-", "—", "——", "无", "暂无", "N/A", "NA", "不适用")
KEY_DATE_FORMATS = {"YYMM": "%y%m", "YYYYMM": "%Y%m", "YYMMDD": "%y%m%d", "YYYYMMDD": "%Y%m%d"}


def _rule_fields(kind: str, p: dict[str, Any]) -> list[str]:
    if kind == "order":
        return list(p["fields"])
    if kind == "implies":
        return [p["if"]["field"], p["then"]["field"]]
    if kind == "max_gap":
        return [p["from"], p["to"]]
    if kind == "ladder":
        return [p["amount"], p["field"]]
    if kind == "key_matches_date":
        return [p["field"], p["date"]]
    if kind == "duration_matches":
        return [p["start"], p["end"], p["hours"]]
    return []


# --- YAML with line numbers ----------------------------------------------------------------------
class _LineDict(dict):
    """A mapping that remembers the line of each key, for error messages."""

    line: int = 0
    key_lines: dict[str, int]


class _LineList(list):
    line: int = 0
    item_lines: list[int]


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml's parser: 10× faster on the definitions
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> _LineDict:
    loader.flatten_mapping(node)
    d = _LineDict()
    d.line = node.start_mark.line + 1
    d.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in d:
            raise yaml.MarkedYAMLError("while reading a mapping", node.start_mark,
                                       f"duplicate key {key!r}", key_node.start_mark)
        d[key] = loader.construct_object(value_node, deep=True)
        d.key_lines[key] = key_node.start_mark.line + 1
    return d


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> _LineList:
    lst = _LineList(loader.construct_object(n, deep=True) for n in node.value)
    lst.line = node.start_mark.line + 1
    lst.item_lines = [n.start_mark.line + 1 for n in node.value]
    return lst


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def _line(obj: Any, key: str | None = None) -> int | None:
    if key is not None and isinstance(obj, _LineDict):
        return obj.key_lines.get(key, obj.line)
    return getattr(obj, "line", None)


class _Checker:
    """Turns one parsed YAML document into a Register, raising DefinitionError at the first problem."""

    REGISTER_KEYS = {"id", "name_zh", "name_en", "version", "key", "aliases", "fields", "rules", "deadlines",
                     "owner", "customer", "date", "open", "figures", "summaries", "not_applicable", "store",
                     "calendar", "rows_need", "answers"}
    MEASURE_KEYS = {"name_zh", "name_en", "where", "format", *MEASURE_OPS, "of", "from", "to", "limit", "deadline"}
    SUMMARY_KEYS = {"id", "title_zh", "title_en", "by", "values", "across", "where", "in_month", "chart"}
    FIELD_KEYS = {"key", "label_zh", "label_en", "type", "required", "aliases", "options", "min", "max",
                  "max_length", "pattern", "pattern_zh", "pattern_en", "help", "sensitive"}
    DEADLINE_KEYS = {"id", "kind", "name_zh", "name_en", "from", "when", "done", "limit", "limit_by", "done_date",
                     "replaces", "due", "warn", "calendar", "paused", "done_in"}

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, obj: Any, where: str, zh: str, en: str, key: str | None = None) -> DefinitionError:
        return DefinitionError(self.path, _line(obj, key), where, zh, en)

    def mapping(self, obj: Any, where: str) -> _LineDict:
        if not isinstance(obj, dict):
            raise self.fail(obj, where, "应为键值映射", "expected a mapping")
        return obj

    def known_keys(self, obj: dict, allowed: set[str], where: str) -> None:
        for k in obj:
            if k not in allowed:
                raise self.fail(obj, f"{where}.{k}", f"未知的键（可用: {', '.join(sorted(allowed))}）",
                                f"unknown key (allowed: {', '.join(sorted(allowed))})", key=k)

    def text(self, obj: dict, key: str, where: str, required: bool = True) -> str | None:
        value = obj.get(key)
        if value is None:
            if required:
                raise self.fail(obj, f"{where}.{key}", "缺少必填项", "missing")
            return None
        if not isinstance(value, str | int | float) or isinstance(value, bool) or str(value).strip() == "":
            raise self.fail(obj, f"{where}.{key}", "应为非空文本", "expected non-empty text", key=key)
        return str(value)

    def names(self, obj: dict, key: str, where: str) -> tuple[str, ...]:
        value = obj.get(key) or []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
            raise self.fail(obj, f"{where}.{key}", "应为文本列表", "expected a list of text", key=key)
        return tuple(str(v) for v in value)

    def duration(self, obj: dict, key: str, value: Any, where: str) -> Duration:
        try:
            return Duration.parse(value)
        except ValueError:
            raise self.fail(obj, f"{where}", f"时限 {value!r} 无法识别（如 7 days、24 hours、2 working days）",
                            f"cannot read the duration {value!r} (e.g. 7 days, 24 hours, 2 working days)",
                            key=key) from None

    def register(self, doc: Any) -> Register:
        doc = self.mapping(doc, "<root>")
        self.known_keys(doc, self.REGISTER_KEYS, "register")
        reg_id = self.text(doc, "id", "register")
        if not re.fullmatch(r"[a-z][a-z0-9_]*", reg_id):
            raise self.fail(doc, "id", "应为英文小写 snake_case", "must be lower-case snake_case", key="id")
        version = doc.get("version", 1)
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise self.fail(doc, "version", "应为正整数", "must be a positive whole number", key="version")
        raw_fields = doc.get("fields")
        if not isinstance(raw_fields, list) or not raw_fields:
            raise self.fail(doc, "fields", "至少需要一个字段", "needs at least one field", key="fields")
        fields = tuple(self.field(f, f"fields[{i}]") for i, f in enumerate(raw_fields))
        seen: dict[str, str] = {}
        for f in fields:
            if f.key in seen:
                raise self.fail(raw_fields, f"fields.{f.key}", "字段键重复", "duplicate field key")
            seen[f.key] = f.key
        keys = set(seen)
        key = doc.get("key")
        key_fields = tuple([key] if isinstance(key, str) else (key or []))
        for k in key_fields:
            if k not in keys:
                raise self.fail(doc, "key", f"编号字段 {k!r} 不在字段列表中", f"record key {k!r} is not a field",
                                key="key")
        rules = tuple(self.rule(r, f"rules[{i}]", keys) for i, r in enumerate(doc.get("rules") or []))
        deadlines = tuple(self.deadline(d, f"deadlines[{i}]", keys) for i, d in enumerate(doc.get("deadlines") or []))
        deadline_ids = {d.id for d in deadlines}
        for i, d in enumerate(deadlines):
            for other in d.replaces:
                if other not in deadline_ids or other == d.id:
                    raise self.fail(doc["deadlines"][i], f"deadlines.{d.id}.replaces",
                                    f"没有可取代的时限规则 {other!r}", f"no other deadline {other!r} to replace",
                                    key="replaces")
        figures = tuple(self.measure(m, f"figures[{i}]", keys, deadline_ids)
                        for i, m in enumerate(doc.get("figures") or []))
        summaries = tuple(self.summary(m, f"summaries[{i}]", keys, deadline_ids)
                          for i, m in enumerate(doc.get("summaries") or []))
        return Register(
            id=reg_id, name_zh=self.text(doc, "name_zh", "register"), name_en=self.text(doc, "name_en", "register"),
            version=version, key=key_fields, fields=fields, rules=rules, deadlines=deadlines,
            aliases=self.names(doc, "aliases", "register"), source=str(self.path),
            owner=self.field_role(doc, "owner", keys), customer=self.field_role(doc, "customer", keys),
            date=self.field_role(doc, "date", keys), store=self.field_role(doc, "store", keys),
            open=self.condition(doc["open"], "open", keys) if "open" in doc else None,
            figures=figures, summaries=summaries,
            not_applicable=self.names(doc, "not_applicable", "register") if "not_applicable" in doc else None,
            calendar=self.calendar(doc, "register"),
            rows_need=self.field_list(doc, "rows_need", keys),
            answers=self.answers(doc, keys),
        )

    def field_list(self, doc: dict, name: str, keys: set[str]) -> tuple[str, ...]:
        names = self.names(doc, name, "register")
        for k in names:
            if k not in keys:
                raise self.fail(doc, name, f"{name} 中的 {k!r} 不是字段", f"{name}: {k!r} is not a field", key=name)
        return names

    def answers(self, doc: dict, keys: set[str]) -> dict[str, str] | None:
        value = doc.get("answers")
        if value is None:
            return None
        roles = ("register", "key", "rule", "reply")
        if not isinstance(value, dict) or any(r not in value for r in roles):
            raise self.fail(doc, "answers", "answers 须写明 register、key、rule、reply 各是哪个字段（可加 note、previous）",
                            "answers must name the fields of register, key, rule and reply (note, previous optional)",
                            key="answers")
        for role, k in value.items():
            if role not in (*roles, "note", "previous") or k not in keys:
                raise self.fail(value, f"answers.{role}", f"answers.{role}: {k!r} 不是字段",
                                f"answers.{role}: {k!r} is not a field", key=role)
        return {str(r): str(k) for r, k in value.items()}

    def calendar(self, obj: dict, where: str) -> str | None:
        value = obj.get("calendar")
        if value is not None and value not in CALENDARS:
            raise self.fail(obj, f"{where}.calendar", f"{value!r} 不是日历（可用: {', '.join(CALENDARS)}）",
                            f"{value!r} is not a calendar (allowed: {', '.join(CALENDARS)})", key="calendar")
        return value

    def field(self, obj: Any, where: str) -> Field:
        obj = self.mapping(obj, where)
        self.known_keys(obj, self.FIELD_KEYS, where)
        key = self.text(obj, "key", where)
        if key in RESERVED_FIELD_KEYS:
            raise self.fail(obj, f"fields.{key}", "此键留给汇总数据的来源列使用，请换一个字段键",
                            "this key is reserved for the source columns of consolidated data; choose another",
                            key="key")
        where = f"fields.{key}"
        if not re.fullmatch(r"[a-z][a-z0-9_]*", key):
            raise self.fail(obj, where, "字段键应为英文小写 snake_case", "field key must be lower-case snake_case",
                            key="key")
        ftype = obj.get("type", "text")
        if ftype not in FIELD_TYPES:
            raise self.fail(obj, f"{where}.type", f"{ftype!r} 不是有效类型（可用: {', '.join(FIELD_TYPES)}）",
                            f"{ftype!r} is not a field type (allowed: {', '.join(FIELD_TYPES)})", key="type")
        options: list[Option] = []
        for opt in obj.get("options") or []:
            if isinstance(opt, dict):
                options.append(Option(str(opt.get("value")), self.names(opt, "aliases", f"{where}.options")))
            else:
                options.append(Option(str(opt)))
        if ftype == "choice" and not options:
            raise self.fail(obj, f"{where}.options", "选项字段需要 options 列表", "a choice field needs options",
                            key="type")
        if options and ftype != "choice":
            raise self.fail(obj, f"{where}.options", "只有 choice 类型可以有 options",
                            "only choice fields take options", key="options")
        for bound in ("min", "max", "max_length"):
            v = obj.get(bound)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)):
                raise self.fail(obj, f"{where}.{bound}", "应为数字", "expected a number", key=bound)
        pattern = obj.get("pattern")
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as e:
                raise self.fail(obj, f"{where}.pattern", f"正则表达式无效: {e}", f"invalid regular expression: {e}",
                                key="pattern") from None
        for flag in ("required", "sensitive"):
            if not isinstance(obj.get(flag, False), bool):
                raise self.fail(obj, f"{where}.{flag}", "应为 true 或 false", "expected true or false", key=flag)
        return Field(
            key=key, label_zh=self.text(obj, "label_zh", where), label_en=self.text(obj, "label_en", where),
            type=ftype, required=obj.get("required", False), aliases=self.names(obj, "aliases", where),
            options=tuple(options), min=obj.get("min"), max=obj.get("max"), max_length=obj.get("max_length"),
            pattern=pattern, pattern_zh=obj.get("pattern_zh"), pattern_en=obj.get("pattern_en"),
            help=obj.get("help"), sensitive=obj.get("sensitive", False),
        )

    def field_ref(self, obj: dict, key: str, value: Any, where: str, keys: set[str]) -> None:
        for v in value if isinstance(value, list) else [value]:
            if v not in keys:
                raise self.fail(obj, f"{where}.{key}", f"字段 {v!r} 不存在", f"no field {v!r}", key=key)

    def condition(self, obj: Any, where: str, keys: set[str]) -> dict[str, Any]:
        obj = self.mapping(obj, where)
        if "any_present" in obj:  # {any_present: [f1, f2]}: one of these fields is filled in
            self.known_keys(obj, {"any_present"}, where)
            fields = obj["any_present"]
            if not isinstance(fields, list) or not fields:
                raise self.fail(obj, f"{where}.any_present", "应为字段列表", "expected a list of fields",
                                key="any_present")
            self.field_ref(obj, "any_present", fields, where, keys)
            return {"any_present": [str(f) for f in fields]}
        self.known_keys(obj, {"field", *CONDITION_TESTS}, where)
        self.field_ref(obj, "field", obj.get("field"), where, keys)
        tests = [t for t in CONDITION_TESTS if t in obj]
        if len(tests) != 1:
            raise self.fail(obj, where, "条件须有且只有一个: in / not_in / present / gt",
                            "a condition needs exactly one of: in / not_in / present / gt")
        return dict(obj)

    def field_role(self, doc: dict, key: str, keys: set[str]) -> str | None:
        value = doc.get(key)
        if value is None:
            return None
        self.field_ref(doc, key, value, "register", keys)
        return str(value)

    def measure(self, obj: Any, where: str, keys: set[str], deadlines: set[str]) -> Measure:
        obj = self.mapping(obj, where)
        self.known_keys(obj, self.MEASURE_KEYS, where)
        ops = [op for op in MEASURE_OPS if op in obj]
        if len(ops) != 1:
            raise self.fail(obj, where, f"须有且只有一个计算方式: {' / '.join(MEASURE_OPS)}",
                            f"needs exactly one of: {' / '.join(MEASURE_OPS)}")
        op = ops[0]
        args: dict[str, Any] = {}
        if op in ("sum", "mean"):
            self.field_ref(obj, op, obj[op], where, keys)
            args["field"] = obj[op]
        elif op == "share":
            args["of"] = self.condition(obj["of"], f"{where}.of", keys) if "of" in obj else None
            args["that"] = self.condition(obj["share"], f"{where}.share", keys)
        elif op in ("within", "mean_days"):
            spec = self.mapping(obj[op], f"{where}.{op}")
            self.known_keys(spec, {"from", "to", "limit", "deadline"}, f"{where}.{op}")
            for k in ("from", "to"):
                if k not in spec:
                    raise self.fail(spec, f"{where}.{op}.{k}", "缺少必填项", "missing")
                self.field_ref(spec, k, spec[k], f"{where}.{op}", keys)
                args[k] = spec[k]
            if op == "within":
                if "deadline" in spec:
                    if spec["deadline"] not in deadlines:
                        raise self.fail(spec, f"{where}.within.deadline", f"没有时限规则 {spec['deadline']!r}",
                                        f"no deadline {spec['deadline']!r}", key="deadline")
                    args["deadline"] = spec["deadline"]
                elif "limit" in spec:
                    args["limit"] = self.duration(spec, "limit", spec["limit"], f"{where}.within.limit")
                else:
                    raise self.fail(spec, f"{where}.within", "需要 limit 或 deadline", "needs limit or deadline")
        cond = self.condition(obj["where"], f"{where}.where", keys) if "where" in obj else None
        default_format = {"share": "percent", "within": "percent", "mean": "decimal", "mean_days": "decimal"}
        fmt = obj.get("format", default_format.get(op, "integer"))
        if fmt not in MEASURE_FORMATS:
            raise self.fail(obj, f"{where}.format", f"应为 {' / '.join(MEASURE_FORMATS)}",
                            f"must be one of {' / '.join(MEASURE_FORMATS)}", key="format")
        return Measure(self.text(obj, "name_zh", where), self.text(obj, "name_en", where), op, args, cond, fmt)

    def summary(self, obj: Any, where: str, keys: set[str], deadlines: set[str]) -> Summary:
        obj = self.mapping(obj, where)
        self.known_keys(obj, self.SUMMARY_KEYS, where)
        sid = self.text(obj, "id", where)
        where = f"summaries.{sid}"
        by = obj.get("by") or []
        by = tuple([by] if isinstance(by, str) else by)
        for b in by:
            name = b.split(":", 1)[1] if str(b).startswith("month:") else b
            if name != "store" and name not in keys:
                raise self.fail(obj, f"{where}.by", f"字段 {name!r} 不存在（可用 store 或 month:日期字段）",
                                f"no field {name!r} (store and month:<date field> are also allowed)", key="by")
        across = obj.get("across")
        if across is not None:
            self.field_ref(obj, "across", across, where, keys)
        values = tuple(self.measure(m, f"{where}.values[{i}]", keys, deadlines)
                       for i, m in enumerate(obj.get("values") or []))
        if not values and across is None:
            raise self.fail(obj, where, "需要 values 或 across", "needs values or across")
        chart = obj.get("chart")
        if chart is not None and chart not in CHART_TYPES:
            raise self.fail(obj, f"{where}.chart", f"应为 {' / '.join(CHART_TYPES)}",
                            f"must be one of {' / '.join(CHART_TYPES)}", key="chart")
        in_month = obj.get("in_month")
        if in_month is not None:
            self.field_ref(obj, "in_month", in_month, where, keys)
        cond = self.condition(obj["where"], f"{where}.where", keys) if "where" in obj else None
        return Summary(sid, self.text(obj, "title_zh", where), self.text(obj, "title_en", where), by, values,
                       across, cond, in_month, chart)

    def rule(self, obj: Any, where: str, keys: set[str]) -> Rule:
        obj = self.mapping(obj, where)
        kind = obj.get("kind")
        if kind not in RULE_KINDS:
            raise self.fail(obj, f"{where}.kind", f"{kind!r} 不是规则类型（可用: {', '.join(RULE_KINDS)}）",
                            f"{kind!r} is not a rule kind (allowed: {', '.join(RULE_KINDS)})", key="kind")
        required, optional = RULE_KINDS[kind]
        self.known_keys(obj, {"kind", "severity", "message_zh", "message_en", *required, *optional}, where)
        for k in required:
            if k not in obj:
                raise self.fail(obj, f"{where}.{k}", f"{kind} 规则缺少 {k}", f"a {kind} rule needs {k}")
        severity = obj.get("severity", "error")
        if severity not in SEVERITIES:
            raise self.fail(obj, f"{where}.severity", "应为 error 或 warning", "must be error or warning",
                            key="severity")
        params = {k: obj[k] for k in (*required, *optional) if k in obj}
        if kind == "implies":
            params["if"] = self.condition(obj["if"], f"{where}.if", keys)
            params["then"] = self.condition(obj["then"], f"{where}.then", keys)
        elif kind == "max_gap":
            params["limit"] = self.duration(obj, "limit", obj["limit"], f"{where}.limit")
        elif kind == "key_matches_date" and obj["format"] not in KEY_DATE_FORMATS:
            raise self.fail(obj, f"{where}.format", f"可用: {', '.join(KEY_DATE_FORMATS)}",
                            f"allowed: {', '.join(KEY_DATE_FORMATS)}", key="format")
        elif kind == "ladder":
            steps = obj["steps"]
            if not isinstance(steps, list) or not steps or any(not isinstance(s, dict) or "level" not in s
                                                               for s in steps):
                raise self.fail(obj, f"{where}.steps", "每一级需要 level（最后一级可不写 up_to）",
                                "every step needs a level (the last may omit up_to)", key="steps")
            params["steps"] = [dict(s) for s in steps]
        elif kind == "order" and (not isinstance(obj["fields"], list) or len(obj["fields"]) < 2):
            raise self.fail(obj, f"{where}.fields", "至少需要两个字段", "needs at least two fields", key="fields")
        for f in _rule_fields(kind, params):
            if f not in keys:
                raise self.fail(obj, where, f"字段 {f!r} 不存在", f"no field {f!r}")
        return Rule(kind, params, severity, obj.get("message_zh"), obj.get("message_en"))

    def deadline(self, obj: Any, where: str, keys: set[str]) -> Deadline:
        obj = self.mapping(obj, where)
        self.known_keys(obj, self.DEADLINE_KEYS, where)
        did = self.text(obj, "id", where)
        where = f"deadlines.{did}"
        kind = obj.get("kind", "deadline")
        if kind not in ("deadline", "anniversary"):
            raise self.fail(obj, f"{where}.kind", "应为 deadline 或 anniversary", "must be deadline or anniversary",
                            key="kind")
        start = obj.get("from")
        start = tuple(start) if isinstance(start, list) else (start,)
        self.field_ref(obj, "from", list(start), where, keys)
        when = {}
        for k, v in (obj.get("when") or {}).items():
            self.field_ref(obj["when"], k, k, f"{where}.when", keys)
            when[k] = tuple(str(x) for x in (v if isinstance(v, list) else [v]))
        done = obj.get("done")
        if done is not None:
            done = self.mapping(done, f"{where}.done")
            if "later_record" in done:
                lr = self.mapping(done["later_record"], f"{where}.done.later_record")
                self.known_keys(lr, {"group", "date"}, f"{where}.done.later_record")
                self.field_ref(lr, "group", lr.get("group"), f"{where}.done.later_record", keys)
                self.field_ref(lr, "date", lr.get("date"), f"{where}.done.later_record", keys)
                done = {"later_record": dict(lr)}
            else:
                done = self.condition(done, f"{where}.done", keys)
        limit = self.duration(obj, "limit", obj["limit"], f"{where}.limit") if "limit" in obj else None
        by_field, by = None, {}
        if "limit_by" in obj:
            lb = self.mapping(obj["limit_by"], f"{where}.limit_by")
            self.known_keys(lb, {"field", "limits"}, f"{where}.limit_by")
            by_field = lb.get("field")
            self.field_ref(lb, "field", by_field, f"{where}.limit_by", keys)
            limits = self.mapping(lb.get("limits"), f"{where}.limit_by.limits")
            by = {str(k): self.duration(limits, k, v, f"{where}.limit_by.limits.{k}") for k, v in limits.items()}
        if limit is None and not by:
            raise self.fail(obj, where, "需要 limit 或 limit_by", "needs limit or limit_by")
        done_date, due = obj.get("done_date"), obj.get("due")
        for role in ("done_date", "due"):
            if obj.get(role) is not None:
                self.field_ref(obj, role, obj[role], where, keys)
        warn = self.duration(obj, "warn", obj["warn"], f"{where}.warn") if "warn" in obj else None
        return Deadline(id=did, name_zh=self.text(obj, "name_zh", where), name_en=self.text(obj, "name_en", where),
                        start=start, kind=kind, when=when, done=done, limit=limit, limit_by_field=by_field,
                        limit_by=by, done_date=done_date, replaces=self.names(obj, "replaces", where), due=due,
                        warn=warn, calendar=self.calendar(obj, where),
                        paused=self.condition(_with_line({k: v for k, v in self.mapping(obj["paused"], f"{where}.paused")
                                                          .items() if k != "since"}, obj["paused"]),
                                              f"{where}.paused", keys) if "paused" in obj else None,
                        paused_since=self._paused_since(obj, where, keys),
                        done_in=self._done_in(obj, where, keys))

    def _done_in(self, obj: dict, where: str, keys: set[str]) -> dict[str, Any] | None:
        """``done_in: {register, match: {this field: that field}, date, when}``; the other register's fields are
        checked once every register is loaded (:func:`check_references`)."""
        if obj.get("done_in") is None:
            return None
        spec = self.mapping(obj["done_in"], f"{where}.done_in")
        self.known_keys(spec, {"register", "match", "date", "when"}, f"{where}.done_in")
        register = self.text(spec, "register", f"{where}.done_in")
        match = self.mapping(spec.get("match"), f"{where}.done_in.match")
        if not match:
            raise self.fail(spec, f"{where}.done_in.match", "至少要对应一个字段", "needs at least one field to match")
        self.field_ref(spec, "match", list(match), f"{where}.done_in", keys)
        date = self.text(spec, "date", f"{where}.done_in")
        when = None
        if spec.get("when") is not None:  # a condition on the other register's records: {field, in|not_in|present}
            when = self.mapping(spec["when"], f"{where}.done_in.when")
            self.known_keys(when, {"field", *CONDITION_TESTS}, f"{where}.done_in.when")
            if "field" not in when or sum(t in when for t in CONDITION_TESTS) != 1:
                raise self.fail(when, f"{where}.done_in.when", "条件须有 field 和一个 in / not_in / present / gt",
                                "a condition needs a field and exactly one of: in / not_in / present / gt")
            when = dict(when)
        return {"register": register, "match": {str(k): str(v) for k, v in match.items()}, "date": date,
                "when": when, "line": _line(obj, "done_in")}

    def _paused_since(self, obj: dict, where: str, keys: set[str]) -> str | None:
        since = obj["paused"].get("since") if isinstance(obj.get("paused"), dict) else None
        if since is not None:
            self.field_ref(obj["paused"], "since", since, f"{where}.paused", keys)
        return since


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506 - SafeLoader subclass
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        raise DefinitionError(path, mark.line + 1 if mark else None, "YAML", f"格式错误: {e.problem}",
                              f"syntax error: {e.problem}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise DefinitionError(path, None, "file", f"无法读取: {e}", f"cannot read: {e}") from None


def load_definition(path: Path | str) -> Register:
    """Load and check one full definition file."""
    path = Path(path)
    return _Checker(path).register(_read_yaml(path))


def _apply_override(base: Register, doc: dict, path: Path) -> Register:
    """A company's file with ``override: true`` changes a built-in register's fields (every field key but
    ``key`` and ``type``), its deadlines, its aliases and its not-applicable markers.

    It is applied to the built-in definition and the result is checked as a whole, so an override
    cannot produce an inconsistent register.
    """
    checker = _Checker(path)
    checker.known_keys(doc, {"id", "override", "version", "fields", "deadlines", "aliases", "not_applicable"},
                       "override")
    fields = {f.key: f for f in base.fields}
    for key, changes in (doc.get("fields") or {}).items():
        if key not in fields:
            raise checker.fail(doc["fields"], f"fields.{key}", f"内置登记表 {base.id} 没有此字段",
                               f"the built-in register {base.id} has no such field", key=key)
        changes = checker.mapping(changes, f"fields.{key}")
        checker.known_keys(changes, _Checker.FIELD_KEYS - {"key", "type"}, f"fields.{key}")
        merged = _field_to_dict(fields[key]) | dict(changes)
        fields[key] = checker.field(_with_line(merged, changes), f"fields.{key}")
    deadlines = {d.id: d for d in base.deadlines}
    keys = set(fields)
    for did, changes in (doc.get("deadlines") or {}).items():
        if did not in deadlines:
            raise checker.fail(doc["deadlines"], f"deadlines.{did}", f"内置登记表 {base.id} 没有此时限规则",
                               f"the built-in register {base.id} has no such deadline", key=did)
        changes = checker.mapping(changes, f"deadlines.{did}")
        merged = _deadline_to_dict(deadlines[did]) | dict(changes)
        deadlines[did] = checker.deadline(_with_line(merged, changes), f"deadlines.{did}", keys)
    return replace(base, fields=tuple(fields.values()), deadlines=tuple(deadlines.values()),
                   version=doc.get("version", base.version),
                   aliases=base.aliases + checker.names(doc, "aliases", "override"),
                   not_applicable=(checker.names(doc, "not_applicable", "override") if "not_applicable" in doc
                                   else base.not_applicable),
                   source=f"{base.source} + {path}")


def _with_line(d: dict, like: Any) -> _LineDict:
    out = _LineDict(d)
    out.line = getattr(like, "line", 0)
    out.key_lines = getattr(like, "key_lines", {})
    return out


def _field_to_dict(f: Field) -> dict[str, Any]:
    d: dict[str, Any] = {k: getattr(f, k) for k in _Checker.FIELD_KEYS if getattr(f, k) not in (None, (), False)}
    d["aliases"] = list(f.aliases)
    if f.options:
        d["options"] = [{"value": o.value, "aliases": list(o.aliases)} for o in f.options]
    return d


def _deadline_to_dict(d: Deadline) -> dict[str, Any]:
    out: dict[str, Any] = {"id": d.id, "kind": d.kind, "name_zh": d.name_zh, "name_en": d.name_en,
                           "from": list(d.start), "when": {k: list(v) for k, v in d.when.items()}}
    if d.done is not None:
        out["done"] = d.done
    if d.limit is not None:
        out["limit"] = str(d.limit)
    if d.limit_by_field:
        out["limit_by"] = {"field": d.limit_by_field, "limits": {k: str(v) for k, v in d.limit_by.items()}}
    if d.done_date:
        out["done_date"] = d.done_date
    if d.replaces:
        out["replaces"] = list(d.replaces)
    if d.due:
        out["due"] = d.due
    if d.warn is not None:
        out["warn"] = str(d.warn)
    if d.calendar:
        out["calendar"] = d.calendar
    if d.paused is not None:
        out["paused"] = dict(d.paused) | ({"since": d.paused_since} if d.paused_since else {})
    return out


def load_registers(extra_dirs: Iterable[Path | str] = ()) -> dict[str, Register]:
    """The built-in registers plus, in order, each company folder's new registers and overrides."""
    registers: dict[str, Register] = {}
    for path in sorted(BUILTIN_DIR.glob("*.yaml")):
        reg = load_definition(path)
        registers[reg.id] = reg
    for folder in extra_dirs:
        folder = Path(folder)
        if not folder.is_dir():
            raise DefinitionError(folder, None, "folder", "登记表定义文件夹不存在", "no such definitions folder")
        for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
            doc = _read_yaml(path)
            if isinstance(doc, dict) and doc.get("override"):
                base_id = doc.get("id")
                if base_id not in registers:
                    raise DefinitionError(path, _line(doc, "id"), "id", f"没有可覆盖的登记表 {base_id!r}",
                                          f"no register {base_id!r} to override")
                registers[base_id] = _apply_override(registers[base_id], doc, path)
            else:
                reg = _Checker(path).register(doc)
                registers[reg.id] = reg
    check_references(registers)
    return registers


def check_references(registers: dict[str, Register]) -> None:
    """What one register's deadlines read from another (``done_in``) exists there."""
    for reg in registers.values():
        for d in reg.deadlines:
            spec = d.done_in
            if not spec:
                continue
            where = f"deadlines.{d.id}.done_in"
            other = registers.get(spec["register"])
            if other is None:
                raise DefinitionError(reg.source, spec.get("line"), where, f"没有登记表 {spec['register']!r}",
                                      f"no register {spec['register']!r}")
            for name in (*spec["match"].values(), spec["date"], *([spec["when"]["field"]] if spec["when"] else [])):
                if name not in other.field_keys:
                    raise DefinitionError(reg.source, spec.get("line"), where,
                                          f"登记表 {other.id} 没有字段 {name!r}", f"register {other.id} has no field {name!r}")
            spec["name_zh"], spec["name_en"] = other.name_zh, other.name_en  # for describing the rule
            if spec["when"]:
                spec["when_label"] = f"「{other.field(spec['when']['field']).label_zh}」"
