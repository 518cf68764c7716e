"""Checking files and folders: read every workbook, validate every register sheet.

This is the one function the CLI's ``validate`` and the Excel buttons call. One bad workbook never
stops the others: it is listed with its status and the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .definitions import Register
from .reader import WorkbookRead, find_inputs, read_workbook
from .records import key_complete, key_text
from .validate import empty_findings, note_findings, validate_sheets


@dataclass
class CheckResult:
    workbooks: list[WorkbookRead]
    findings: pd.DataFrame

    @property
    def errors(self) -> int:
        return int((self.findings["severity"] == "error").sum())

    @property
    def warnings(self) -> int:
        return int((self.findings["severity"] == "warning").sum())

    @property
    def readable(self) -> list[WorkbookRead]:
        return [w for w in self.workbooks if w.status == "ok"]

    def findings_of(self, workbook: WorkbookRead) -> pd.DataFrame:
        return self.findings[self.findings["file"] == workbook.display]


def check_paths(
    paths: list[Path | str], registers: dict[str, Register], reference_year: int | None = None,
    area_code: str = "",
) -> CheckResult:
    """Read and validate every workbook found under ``paths``; local landlines read with ``area_code``
    (the company's) when one is given."""
    workbooks = []
    for item in find_inputs(paths):
        if item.problem is not None:
            workbooks.append(WorkbookRead(item.path, item.status, *item.problem, kind=item.kind))
        else:
            workbooks.append(read_workbook(item.path, registers, reference_year, item.display, area_code))
    frames = [validate_sheets(w.sheets) for w in workbooks if w.status == "ok"]
    frames += [repeats_across_sheets(w) for w in workbooks if w.status == "ok" and len(w.sheets) > 1]
    frames += [note_findings(w.display, w.notes) for w in workbooks if w.notes]
    frames = [f for f in frames if not f.empty]
    findings = pd.concat(frames, ignore_index=True) if frames else empty_findings()
    return CheckResult(workbooks, findings)


def repeats_across_sheets(workbook: WorkbookRead) -> pd.DataFrame:
    """Keys that a second sheet of the same register in one workbook repeats (a hidden backup copy): the
    consolidation counts them once, so the check says so on each repeat, as ``unique-error``."""
    frames = []
    for register in {s.register.id: s.register for s in workbook.sheets}.values():
        sheets = [s for s in workbook.sheets if s.register.id == register.id]
        if len(sheets) < 2 or not register.key:
            continue
        keyed = pd.concat([pd.DataFrame({"sheet": s.sheet, "row": s.data.index.to_numpy(),
                                         "key": key_text(s.data, register).to_numpy(),
                                         "complete": key_complete(s.data, register).to_numpy(),
                                         "column": s.column_of(register.key[0])})
                           for s in sheets], ignore_index=True)
        keyed = keyed[keyed["complete"]].assign(_fold=lambda f: f["key"].str.casefold())
        first = keyed.drop_duplicates("_fold").set_index("_fold")
        later = keyed[keyed.duplicated("_fold") & (keyed["sheet"] != keyed["_fold"].map(first["sheet"]))]
        if later.empty:
            continue
        where, row = later["_fold"].map(first["sheet"]), later["_fold"].map(first["row"]).astype(str)
        label = "、".join(register.field(k).label_zh for k in register.key)
        label_en = ", ".join(register.field(k).label_en for k in register.key)
        frames.append(pd.DataFrame({
            "file": workbook.display, "sheet": later["sheet"], "row": later["row"].astype("int64"),
            "column": later["column"], "field": register.key[0], "value": later["key"], "code": "unique-error",
            "severity": "error",
            "message_zh": "第" + later["row"].astype(str) + f"行「{label}」: " + later["key"] + " 与工作表「" + where
                          + "」第" + row + "行重复，汇总时只计一次",
            "message_en": "Row " + later["row"].astype(str) + f", {label_en}: " + later["key"] + " repeats sheet "
                          + where + " row " + row + "; counted once when consolidated"}))
    return pd.concat(frames, ignore_index=True) if frames else empty_findings()


def summary_zh(errors: int, warnings: int) -> str:
    return f"{errors} 个错误，{warnings} 个警告" if errors or warnings else "未发现问题"


def summary_en(errors: int, warnings: int) -> str:
    return f"{errors} errors, {warnings} warnings" if errors or warnings else "no problems found"
