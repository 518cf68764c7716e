"""The company's configuration: ``taizhang.toml``.

One file says which stores exist (code, name, manager, email), which input paths belong to which
store when a workbook does not say so itself, where the company's own register definitions are,
and how the deadlines of the built-in registers are changed for this company. Every key is checked:
a misspelt key or a wrong value is reported with its dotted name, in Chinese and English.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .definitions import CALENDARS, Duration, Register, load_registers
from .limits import Limits
from .mail.settings import DEFAULT_PASSWORD_ENV, PROVIDERS, SECURITY, EmailSettings, recipients

CONFIG_NAME = "taizhang.toml"


class ConfigError(ValueError):
    def __init__(self, path: Path | str, key: str, zh: str, en: str) -> None:
        self.path, self.key, self.zh, self.en = Path(path), key, zh, en
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.path}: {self.key}: {self.zh} / {self.en}"


@dataclass(frozen=True)
class Store:
    code: str
    name: str
    manager: str = ""
    email: str = ""
    paths: tuple[str, ...] = ()  # globs, relative to the input folder, of files that belong to this store
    area_code: str = ""  # the store's telephone area code: a local landline typed without it gets it


@dataclass
class Config:
    path: Path | None = None
    company: str = ""
    domain: str = ""
    stores: dict[str, Store] = field(default_factory=dict)
    definitions: list[Path] = field(default_factory=list)
    input_dir: Path | None = None
    output_dir: Path | None = None
    soon_days: int = 3
    email: EmailSettings = field(default_factory=EmailSettings)
    rules: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # register -> deadline -> change
    limits: Limits = field(default_factory=Limits)
    not_applicable: tuple[str, ...] | None = None  # [reading] not_applicable: "/", 无 … for every register
    area_code: str = ""  # [reading] area_code: the company's area code for landlines typed without one
    default_store: tuple[str, str] | None = None  # --store: files whose store cannot be told belong to it
    days_off: frozenset = frozenset()  # [calendar] days_off: the company's own holidays (the ``company`` calendar)
    working_days: frozenset = frozenset()  # [calendar] working_days: its own extra working days

    def store_named(self, value: str) -> Store | None:
        """The store a register's store column names: by its code, its name, or "code name" (001 朝阳店)."""
        text = " ".join(str(value).split())
        for store in self.stores.values():
            if text in (store.code, store.name, f"{store.code} {store.name}", f"{store.code}{store.name}",
                        f"{store.code}_{store.name}"):
                return store
        return None

    def store_for_path(self, relative: str) -> Store | None:
        """The store whose ``paths`` globs match a file's path relative to the input folder."""
        relative = relative.replace("\\", "/")
        for store in self.stores.values():
            if any(fnmatch.fnmatch(relative, pattern) for pattern in store.paths):
                return store
        return None

    def apply_rules(self, registers: dict[str, Register]) -> dict[str, Register]:
        """The registers with this company's deadline changes applied, and its not-applicable markers for
        those whose definitions do not name their own."""
        out = dict(registers)
        if self.days_off or self.working_days:
            out = {k: replace(r, days_off=self.days_off, working_days=self.working_days) for k, r in out.items()}
        if self.not_applicable is not None:
            out = {k: r if r.not_applicable is not None else replace(r, not_applicable=self.not_applicable)
                   for k, r in out.items()}
        for reg_id, changes in self.rules.items():
            where = f"rules.{reg_id}"
            if reg_id not in out:
                raise ConfigError(self.path or CONFIG_NAME, where, "没有这个登记表", "no such register")
            reg = out[reg_id]
            deadlines = {d.id: d for d in reg.deadlines}
            for did, change in changes.items():
                if did not in deadlines:
                    known = ", ".join(deadlines) or "-"
                    raise ConfigError(self.path or CONFIG_NAME, f"{where}.{did}", f"没有这个时限规则（可用: {known}）",
                                      f"no such deadline (known: {known})")
                deadlines[did] = self._changed(deadlines[did], change, f"{where}.{did}")
            out[reg_id] = replace(reg, deadlines=tuple(deadlines.values()))
        return out

    def _changed(self, deadline, change: dict[str, Any], where: str):
        _known(self.path, change, {"limit", "limits", "calendar", "warn"}, where)
        updates: dict[str, Any] = {}
        if "warn" in change:
            updates["warn"] = _duration(self.path, change["warn"], f"{where}.warn")
        if "calendar" in change:
            if change["calendar"] not in CALENDARS:
                raise ConfigError(self.path or CONFIG_NAME, f"{where}.calendar",
                                  f"{change['calendar']!r} 不是日历（可用: {', '.join(CALENDARS)}）",
                                  f"{change['calendar']!r} is not a calendar (allowed: {', '.join(CALENDARS)})")
            updates["calendar"] = change["calendar"]
        if "limit" in change:
            updates["limit"] = _duration(self.path, change["limit"], f"{where}.limit")
        if "limits" in change:
            limits = change["limits"]
            if not isinstance(limits, dict) or not deadline.limit_by_field:
                raise ConfigError(self.path or CONFIG_NAME, f"{where}.limits",
                                  "此规则没有按字段区分的时限（limit_by），请用 limit",
                                  "this deadline has no per-value limits (limit_by); use limit")
            merged = dict(deadline.limit_by)
            for value, text in limits.items():
                merged[str(value)] = _duration(self.path, text, f"{where}.limits.{value}")
            updates["limit_by"] = merged
        return replace(deadline, **updates)


def _known(path: Path | None, table: Any, allowed: set[str], where: str) -> None:
    if not isinstance(table, dict):
        raise ConfigError(path or CONFIG_NAME, where, "应为一个表（[...]）", "expected a table")
    for key in table:
        if key not in allowed:
            raise ConfigError(path or CONFIG_NAME, f"{where}.{key}" if where else key,
                              f"未知的键（可用: {', '.join(sorted(allowed))}）",
                              f"unknown key (allowed: {', '.join(sorted(allowed))})")


def _duration(path: Path | None, value: Any, where: str) -> Duration:
    try:
        return Duration.parse(value)
    except ValueError:
        raise ConfigError(path or CONFIG_NAME, where, f"时限 {value!r} 无法识别（如 7 days、24 hours、2 working days）",
                          f"cannot read the duration {value!r} (e.g. 7 days, 24 hours, 2 working days)") from None


def _text(path: Path, table: dict, key: str, where: str, required: bool = False) -> str:
    value = table.get(key, "")
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    name = f"{where}.{key}" if where else key
    if not isinstance(value, str) or (required and not value.strip()):
        raise ConfigError(path, name, "应为非空文本" if required else "应为文本",
                          "expected non-empty text" if required else "expected text")
    _no_control(path, name, value)
    return value.strip()


def _no_control(path: Path, name: str, value: str) -> None:
    """Line breaks and other control characters in a name or address would break an email header or a file
    name later, half way through a run: they are refused when the file is read."""
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ConfigError(path, name, "不能含换行或其他控制字符", "must not contain line breaks or other control characters")


def _days(path: Path, table: dict, key: str) -> frozenset:
    values = table.get(key, [])
    days = set()
    for i, value in enumerate(values if isinstance(values, list) else [values]):
        try:
            days.add(value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)))
        except ValueError:
            raise ConfigError(path, f"calendar.{key}[{i}]", f"{value!r} 不是日期（如 2026-12-24）",
                              f"{value!r} is not a date (e.g. 2026-12-24)") from None
    return frozenset(days)


def _area_code(path: Path, table: dict, where: str) -> str:
    code = _text(path, table, "area_code", where)
    if code and not re.fullmatch(r"0\d{2,3}", code):
        raise ConfigError(path, f"{where}.area_code", f"{code!r} 不是区号（如 \"0759\"、\"010\"）",
                          f"{code!r} is not an area code (e.g. \"0759\", \"010\")")
    return code


def load_config(path: Path | str) -> Config:
    """Read and check one ``taizhang.toml``; relative paths in it are relative to the file."""
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(path, "-", "配置文件不存在", "no such configuration file") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(path, "-", f"TOML 格式错误: {e}", f"not valid TOML: {e}") from None
    _known(path, doc, {"company", "stores", "paths", "consolidate", "rules", "email", "limits", "reading", "calendar"},
           "")
    base = path.parent
    config = Config(path=path)
    company = doc.get("company", {})
    _known(path, company, {"name", "domain", "definitions"}, "company")
    config.company = _text(path, company, "name", "company")
    config.domain = _text(path, company, "domain", "company").lower()
    defs = company.get("definitions", [])
    for i, folder in enumerate([defs] if isinstance(defs, str) else defs):
        if not isinstance(folder, str):
            raise ConfigError(path, f"company.definitions[{i}]", "应为文件夹路径", "expected a folder path")
        config.definitions.append(base / folder)
    stores = doc.get("stores", [])
    if not isinstance(stores, list):
        raise ConfigError(path, "stores", "应为 [[stores]] 表数组", "expected an array of tables [[stores]]")
    for i, table in enumerate(stores):
        where = f"stores[{i}]"
        _known(path, table, {"code", "name", "manager", "email", "paths", "area_code"}, where)
        code = _text(path, table, "code", where, required=True)
        if code in config.stores:
            raise ConfigError(path, f"{where}.code", f"门店编号 {code} 重复", f"store code {code} appears twice")
        email = _text(path, table, "email", where)
        if email and "@" not in email:
            raise ConfigError(path, f"{where}.email", f"{email!r} 不是电子邮箱", f"{email!r} is not an email address")
        paths = table.get("paths", [])
        if isinstance(paths, str):
            paths = [paths]
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
            raise ConfigError(path, f"{where}.paths", "应为路径通配符列表", "expected a list of path patterns")
        config.stores[code] = Store(code, _text(path, table, "name", where, required=True),
                                    _text(path, table, "manager", where), email, tuple(paths),
                                    _area_code(path, table, where))
    paths_table = doc.get("paths", {})
    _known(path, paths_table, {"input", "output"}, "paths")
    if "input" in paths_table:
        config.input_dir = base / _text(path, paths_table, "input", "paths", required=True)
    if "output" in paths_table:
        config.output_dir = base / _text(path, paths_table, "output", "paths", required=True)
    cons = doc.get("consolidate", {})
    _known(path, cons, {"soon_days"}, "consolidate")
    soon = cons.get("soon_days", 3)
    if not isinstance(soon, int) or isinstance(soon, bool) or not 0 <= soon <= 60:
        raise ConfigError(path, "consolidate.soon_days", "应为 0–60 的整数", "expected a whole number 0–60")
    config.soon_days = soon
    config.email = _email(path, doc.get("email", {}))
    config.limits = _limits(path, doc.get("limits", {}))
    reading = doc.get("reading", {})
    _known(path, reading, {"not_applicable", "area_code"}, "reading")
    if "not_applicable" in reading:
        markers = reading["not_applicable"]
        if not isinstance(markers, list) or not all(isinstance(m, str) and m.strip() for m in markers):
            raise ConfigError(path, "reading.not_applicable", "应为文本列表，如 [\"/\", \"无\"]",
                              'expected a list of text, e.g. ["/", "无"]')
        config.not_applicable = tuple(markers)
    config.area_code = _area_code(path, reading, "reading")
    calendar = doc.get("calendar", {})
    _known(path, calendar, {"days_off", "working_days"}, "calendar")
    config.days_off = _days(path, calendar, "days_off")
    config.working_days = _days(path, calendar, "working_days")
    rules = doc.get("rules", {})
    _known(path, rules, set(rules) if isinstance(rules, dict) else set(), "rules")
    for reg_id, table in rules.items():
        _known(path, table, set(table) if isinstance(table, dict) else set(), f"rules.{reg_id}")
    config.rules = rules
    return config


EMAIL_KEYS = {"provider", "host", "port", "security", "username", "sender", "sender_name", "password_env",
              "management", "max_size_mb", "retries", "retry_seconds", "timeout_seconds", "ca_file", "top_items"}


def _email_number(path: Path, table: dict, key: str, default: float, low: float, high: float, whole: bool = False,
                  section: str = "email") -> float:
    value = table.get(key, default)
    kinds = int if whole else (int, float)
    if not isinstance(value, kinds) or isinstance(value, bool) or not low <= value <= high:
        raise ConfigError(path, f"{section}.{key}", f"应为 {low:g}–{high:g} 的{'整数' if whole else '数'}",
                          f"expected a {'whole ' if whole else ''}number {low:g}–{high:g}")
    return value


def _email(path: Path, table: Any) -> EmailSettings:
    """The [email] table; a password in it is refused, whatever its key."""
    if isinstance(table, dict) and any("password" in key and key != "password_env" for key in table):
        raise ConfigError(path, "email.password", "密码或授权码不能写在配置文件里：请用环境变量或系统钥匙串"
                          "（taizhang email --save-password）", "the password must not be in the configuration "
                          "file: use an environment variable or the system keyring (taizhang email --save-password)")
    _known(path, table, EMAIL_KEYS, "email")
    provider = _text(path, table, "provider", "email").lower()
    if provider and provider not in PROVIDERS:
        raise ConfigError(path, "email.provider", f"未知的邮件服务商（可用: {', '.join(PROVIDERS)}）",
                          f"unknown provider (known: {', '.join(PROVIDERS)})")
    preset = PROVIDERS.get(provider)
    security = _text(path, table, "security", "email") or (preset.security if preset else "ssl")
    if security not in SECURITY:
        raise ConfigError(path, "email.security", f"应为 {' / '.join(SECURITY)}", f"expected {' / '.join(SECURITY)}")
    default_port = preset.port if preset and security == preset.security else {"ssl": 465, "starttls": 587}.get(
        security, 25)
    management = table.get("management", [])
    if isinstance(management, str):
        management = [management]
    if not isinstance(management, list) or not all(isinstance(m, str) for m in management):
        raise ConfigError(path, "email.management", "应为邮箱地址列表", "expected a list of email addresses")
    for entry in management:
        _no_control(path, "email.management", entry)
        if not recipients([entry]) or any("@" not in address for _, address in recipients([entry])):
            raise ConfigError(path, "email.management", f"{entry!r} 不是电子邮箱", f"{entry!r} is not an email address")
    ca_file = _text(path, table, "ca_file", "email")
    return EmailSettings(
        host=_text(path, table, "host", "email") or (preset.host if preset else ""),
        port=int(_email_number(path, table, "port", default_port, 1, 65535, whole=True)), security=security,
        username=_text(path, table, "username", "email"), sender=_text(path, table, "sender", "email"),
        sender_name=_text(path, table, "sender_name", "email"),
        password_env=_text(path, table, "password_env", "email") or DEFAULT_PASSWORD_ENV,
        management=tuple(management), max_size_mb=float(_email_number(path, table, "max_size_mb", 20, 0.001, 1000)),
        retries=int(_email_number(path, table, "retries", 3, 0, 10, whole=True)),
        retry_seconds=float(_email_number(path, table, "retry_seconds", 5, 0, 600)),
        timeout_seconds=float(_email_number(path, table, "timeout_seconds", 60, 1, 600)),
        ca_file=path.parent / ca_file if ca_file else None,
        top_items=int(_email_number(path, table, "top_items", 10, 0, 100, whole=True)), provider=provider)


LIMIT_RANGES = {"max_file_mb": (1, 100_000), "max_inflated_mb": (10, 1_000_000), "max_ratio": (10, 100_000),
                "max_columns": (50, 16_384)}


def _limits(path: Path, table: Any) -> Limits:
    """The [limits] table: how much one input may cost (see toolkit/limits.py)."""
    _known(path, table, set(LIMIT_RANGES), "limits")
    values = {}
    for key, (low, high) in LIMIT_RANGES.items():
        if key in table:
            whole = key == "max_columns"
            values[key] = int(_email_number(path, table, key, 0, low, high, whole=whole, section="limits"))
    return Limits(**values)


def find_config(explicit: Path | str | None, folder: Path | str = ".") -> Config:
    """The configuration given with ``--config``, else ``taizhang.toml`` in the working folder, else none."""
    if explicit:
        return load_config(explicit)
    candidate = Path(folder) / CONFIG_NAME
    return load_config(candidate) if candidate.is_file() else Config()


def company_registers(config: Config, extra_dirs: tuple[Path, ...] = ()) -> dict[str, Register]:
    """The built-in registers plus the company's own definitions, with its deadline changes: what every
    command and button checks against. Raises DefinitionError or ConfigError."""
    return config.apply_rules(load_registers([*config.definitions, *extra_dirs]))
