"""What a check run tells people: a readable report on the terminal, or the JSON contract for scripts.

The JSON shape is a contract other systems rely on (README, "validate --json"): keep it stable.
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .check import CheckResult, summary_en, summary_zh

STATUS_ZH = {"ok": "已读取", "unusable": "无法读取", "ignored": "已忽略"}


def result_json(result: CheckResult) -> dict[str, Any]:
    files = [{
        "path": w.display, "status": w.status,
        "registers": sorted({s.register.id for s in w.sheets}),
        "message": w.message,
        "sheets": [*({"sheet": s.sheet, "register": s.register.id, "how": s.detected_by, "rows_read": s.rows_read,
                      "rows_skipped": len(s.skipped), "why": " / ".join(s.why) if s.why[0] else ""} for s in w.sheets),
                   *({"sheet": name, "register": None, "how": "none", "why": f"{zh} / {en}"}
                     for name, zh, en in w.unrecognised)],
    } for w in result.workbooks]
    findings = [
        {"file": f.file, "sheet": f.sheet, "row": int(f.row), "column": f.column, "field": f.field,
         "value": f.value, "code": f.code, "severity": f.severity, "message_zh": f.message_zh,
         "message_en": f.message_en}
        for f in result.findings.itertuples(index=False)
    ]
    return {"files": files, "findings": findings}


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2)


def print_report(result: CheckResult, console: Console, lang: str = "zh", max_rows: int = 20) -> None:
    message = "message_zh" if lang == "zh" else "message_en"
    for w in result.workbooks:
        if w.status == "ignored":
            continue
        if w.status == "unusable":
            console.print(f"[bold red]✗ {escape(w.display)}[/]: {escape(w.message_zh if lang == 'zh' else w.message_en)}")
            continue
        findings = result.findings_of(w)
        errors = int((findings["severity"] == "error").sum())
        warnings = int((findings["severity"] == "warning").sum())
        sheets = "、".join(f"{s.sheet}({s.register.id}, {s.rows_read}行)" for s in w.sheets)
        mark = "[bold red]✗" if errors else ("[yellow]!" if warnings else "[green]✓")
        summary = summary_zh(errors, warnings) if lang == "zh" else summary_en(errors, warnings)
        console.print(f"{mark} {escape(w.display)}[/]: {sheets} — {summary}")
        for s in w.sheets:
            if s.detected_by != "metadata" and s.why[0]:
                console.print(f"  [dim]{escape(s.sheet)}: {escape(s.why[0] if lang == 'zh' else s.why[1])}[/]",
                              soft_wrap=True)
        for name, zh, en in w.unrecognised:
            console.print(f"  [yellow]{escape(name)}: {escape(zh if lang == 'zh' else en)}[/]", soft_wrap=True)
        if findings.empty:
            continue
        table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        for col in ("工作表", "行", "列", "级别", "问题") if lang == "zh" else ("sheet", "row", "col", "level", "problem"):
            table.add_column(col, overflow="fold")
        for f in findings.head(max_rows).itertuples(index=False):
            level = ("错误" if f.severity == "error" else "警告") if lang == "zh" else f.severity
            style = "red" if f.severity == "error" else "yellow"
            table.add_row(escape(f.sheet), str(f.row), f.column, f"[{style}]{level}[/]", escape(getattr(f, message)))
        console.print(table)
        if len(findings) > max_rows:
            more = len(findings) - max_rows
            console.print(f"  … 另有 {more} 条，用 --max-rows 0 显示全部，或 --annotate 生成标注副本"
                          if lang == "zh" else f"  … {more} more; --max-rows 0 shows all, --annotate marks the cells")
    ok = len(result.readable)
    unusable = sum(w.status == "unusable" for w in result.workbooks)
    found_zh, found_en = summary_zh(result.errors, result.warnings), summary_en(result.errors, result.warnings)
    if unusable and not (result.errors or result.warnings):  # never "no problems" beside unread files
        found_zh = "已读取的文件中未发现问题，无法读取的文件未校验"
        found_en = "no problems in the files read; the unusable ones were not checked"
    console.print(
        f"共 {len(result.workbooks)} 个文件: {ok} 个已读取，{unusable} 个无法读取；{found_zh}"
        if lang == "zh" else f"{len(result.workbooks)} files: {ok} read, {unusable} unusable; {found_en}")
