"""Rules and deadlines in words, for staff (填写说明 sheet) and for ``taizhang registers show``."""

from __future__ import annotations

from .definitions import Deadline, Register, Rule

TYPE_NAMES = {
    "text": ("文本", "text"), "integer": ("整数", "whole number"), "decimal": ("数字", "number"),
    "date": ("日期", "date"), "datetime": ("日期时间", "date and time"), "time": ("时间", "time of day"),
    "phone": ("电话", "phone"), "email": ("电子邮箱", "email"), "id_number": ("身份证号", "resident ID"),
    "choice": ("下拉选项", "choice"),
}


def _zh(reg: Register, key: str) -> str:
    return f"「{reg.field(key).label_zh}」"


def _en(reg: Register, key: str) -> str:
    return reg.field(key).label_en


def condition_text(reg: Register, cond: dict) -> tuple[str, str]:
    if "any_present" in cond:
        return ("或".join(_zh(reg, k) for k in cond["any_present"]) + "任一已填写",
                " or ".join(_en(reg, k) for k in cond["any_present"]) + " is filled in")
    key = cond["field"]
    if "in" in cond:
        values = "/".join(map(str, cond["in"]))
        return f"{_zh(reg, key)}为「{values}」", f"{_en(reg, key)} is {values}"
    if "gt" in cond:
        return f"{_zh(reg, key)}大于{cond['gt']}", f"{_en(reg, key)} is more than {cond['gt']}"
    if "not_in" in cond:
        values = "/".join(map(str, cond["not_in"]))
        return f"{_zh(reg, key)}不为「{values}」", f"{_en(reg, key)} is not {values}"
    if cond.get("present", True) is False:
        return f"{_zh(reg, key)}未填写", f"{_en(reg, key)} is empty"
    return f"{_zh(reg, key)}已填写", f"{_en(reg, key)} is filled in"


def requirement_text(reg: Register, cond: dict) -> tuple[str, str]:
    key = cond["field"]
    if "in" in cond:
        values = "/".join(map(str, cond["in"]))
        return f"{_zh(reg, key)}应为「{values}」", f"{_en(reg, key)} must be {values}"
    if "gt" in cond:
        return f"{_zh(reg, key)}应大于{cond['gt']}", f"{_en(reg, key)} must be more than {cond['gt']}"
    if "not_in" in cond:
        values = "/".join(map(str, cond["not_in"]))
        return f"{_zh(reg, key)}不应为「{values}」", f"{_en(reg, key)} must not be {values}"
    if cond.get("present", True) is False:
        return f"{_zh(reg, key)}应为空", f"{_en(reg, key)} must be empty"
    return f"{_zh(reg, key)}必须填写", f"{_en(reg, key)} must be filled in"


def describe_rule(reg: Register, rule: Rule) -> tuple[str, str]:
    p = rule.params
    if rule.kind == "order":
        zh = " ≤ ".join(_zh(reg, k) for k in p["fields"])
        en = " ≤ ".join(_en(reg, k) for k in p["fields"])
        zh, en = f"时间先后: {zh}", f"in time order: {en}"
    elif rule.kind == "implies":
        if_zh, if_en = condition_text(reg, p["if"])
        then_zh, then_en = requirement_text(reg, p["then"])
        zh, en = f"{if_zh}时，{then_zh}", f"when {if_en}, {then_en}"
    elif rule.kind == "max_gap":
        zh = f"{_zh(reg, p['to'])}距{_zh(reg, p['from'])}不超过{p['limit'].zh}"
        en = f"{_en(reg, p['to'])} at most {p['limit']} after {_en(reg, p['from'])}"
    elif rule.kind == "ladder":
        parts_zh, parts_en, low = [], [], 0
        for step in p["steps"]:
            if "up_to" in step:
                parts_zh.append(f"≤{step['up_to']:,} {step['level']}")
                parts_en.append(f"up to {step['up_to']:,}: {step['level']}")
                low = step["up_to"]
            else:
                parts_zh.append(f">{low:,} {step['level']}")
                parts_en.append(f"above {low:,}: {step['level']}")
        zh = f"{_zh(reg, p['amount'])}的核决权限（{_zh(reg, p['field'])}不得低于）: " + "；".join(parts_zh)
        en = f"approval authority for {_en(reg, p['amount'])} ({_en(reg, p['field'])} at least): " + "; ".join(parts_en)
    elif rule.kind == "key_matches_date":
        zh = f"{_zh(reg, p['field'])}以{_zh(reg, p['date'])}的{p['format']}开头"
        en = f"{_en(reg, p['field'])} starts with the {p['format']} of {_en(reg, p['date'])}"
    elif rule.kind == "duration_matches":
        tol = p.get("tolerance", 0)
        zh = f"{_zh(reg, p['hours'])}与{_zh(reg, p['start'])}到{_zh(reg, p['end'])}的间隔相符（允许±{tol}小时）"
        en = f"{_en(reg, p['hours'])} agrees with {_en(reg, p['start'])} to {_en(reg, p['end'])} (±{tol} h)"
    else:  # pragma: no cover - the loader admits only known kinds
        zh = en = rule.kind
    if rule.message_zh:
        zh = f"{zh}（{rule.message_zh}）"
    if rule.message_en:
        en = f"{en} ({rule.message_en})"
    return zh, en


def _condition_words(cond: dict) -> str:
    """A condition on another register's field, in Chinese (its labels are not at hand here)."""
    if "in" in cond:
        return f"为「{'/'.join(map(str, cond['in']))}」"
    if "not_in" in cond:
        return f"不为「{'/'.join(map(str, cond['not_in']))}」"
    if "gt" in cond:
        return f"大于 {cond['gt']}"
    return "已填写" if cond.get("present", True) else "未填写"


def describe_deadline(reg: Register, d: Deadline) -> tuple[str, str]:
    start_zh = "或".join(_zh(reg, k) for k in d.start)
    start_en = " or ".join(_en(reg, k) for k in d.start)
    if d.limit_by:
        limits_zh = "，".join(f"{k} {v.zh}" for k, v in d.limit_by.items())
        limits_en = ", ".join(f"{k} {v}" for k, v in d.limit_by.items())
        by = reg.field(d.limit_by_field)
        limit_zh = f"按{by.label_zh}: {limits_zh}" + (f"，其他 {d.limit.zh}" if d.limit else "")
        limit_en = f"by {by.label_en}: {limits_en}" + (f", otherwise {d.limit}" if d.limit else "")
    else:
        limit_zh, limit_en = d.limit.zh, str(d.limit)
    if d.kind == "anniversary":
        return (f"{d.name_zh}: {start_zh}在未来{limit_zh}内", f"{d.name_en}: {start_en} within the next {limit_en}")
    when_zh = "".join(f"{_zh(reg, k)}为「{'/'.join(v)}」时，" for k, v in d.when.items())
    when_en = "".join(f"when {_en(reg, k)} is {'/'.join(v)}, " for k, v in d.when.items())
    if d.done is None:
        done_zh, done_en = "", ""
    elif "later_record" in d.done:
        group = d.done["later_record"]["group"]
        group = group if isinstance(group, list) else [group]
        done_zh = f"，之后同一{'（或'.join(_zh(reg, g) for g in group)}{'）' * (len(group) - 1)}有新记录即为完成"
        done_en = f"; done when the same {' (or '.join(_en(reg, g) for g in group)}{')' * (len(group) - 1)} has a later record"
    else:
        c_zh, c_en = condition_text(reg, d.done)
        done_zh, done_en = f"，{c_zh}即为完成", f"; done when {c_en}"
    if d.done_in:
        spec = d.done_in
        same_zh = "、".join(_zh(reg, k) for k in spec["match"])
        same_en = ", ".join(_en(reg, k) for k in spec["match"])
        only_zh = (f"（{spec.get('when_label', spec['when']['field'])}{_condition_words(spec['when'])}）"
                   if spec["when"] else "")
        other_zh, other_en = spec.get("name_zh", spec["register"]), spec.get("name_en", spec["register"])
        done_zh += f"；「{other_zh}」中同店同一{same_zh}在{start_zh}当日或之后有记录{only_zh}也算完成"
        done_en += f"; or when {other_en} has a record of the same store and {same_en} on or after {start_en}"
    if d.due:
        done_zh += f"；已填{_zh(reg, d.due)}时以其为应完成日期"
        done_en += f"; due on {_en(reg, d.due)} where it is filled in"
    if d.warn is not None:
        done_zh += f"；提前{d.warn.zh}提醒"
        done_en += f"; due soon {d.warn} ahead"
    kind = d.calendar or reg.calendar
    if kind and any(v.working for v in (d.limit, d.warn, *d.limit_by.values()) if v is not None):
        done_zh += "；工作日按" + {"china": "国家法定节假日（含调休）", "weekdays": "周一至周五",
                                 "company": "公司日历（法定节假日加公司自定）"}[kind] + "计"
        done_en += "; working days by the " + {"china": "official calendar", "weekdays": "Monday–Friday calendar",
                                               "company": "company calendar"}[kind]
    if d.paused:
        p_zh, p_en = condition_text(reg, d.paused)
        done_zh += f"；{p_zh}时暂停计时（单独列出）"
        done_en += f"; the clock stops while {p_en} (listed apart)"
    if d.done_date:
        done_zh += f"；已填{_zh(reg, d.done_date)}即于该日完成（不论状态）"
        done_en += f"; done on {_en(reg, d.done_date)} once it is filled in, whatever the status"
    if d.replaces:
        names = {o.id: o for o in reg.deadlines}
        done_zh += "；适用时取代「" + "、".join(names[r].name_zh for r in d.replaces) + "」"
        done_en += "; where it applies it stands for " + ", ".join(names[r].name_en for r in d.replaces)
    return (f"{d.name_zh}: {when_zh}自{start_zh}起{limit_zh}{done_zh}",
            f"{d.name_en}: {when_en}{limit_en} from {start_en}{done_en}")
