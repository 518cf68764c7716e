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
) -> CheckResult:
    """Read and validate every workbook found under ``paths``."""
    workbooks = []
    for item in find_inputs(paths):
        if item.problem is not None:
            workbooks.append(WorkbookRead(item.path, item.status, *item.problem, kind=item.kind))
        else:
            workbooks.append(read_workbook(item.path, registers, reference_year, item.display))
    frames = [validate_sheets(w.sheets) for w in workbooks if w.status == "ok"]
    frames += [note_findings(w.display, w.notes) for w in workbooks if w.notes]
    frames = [f for f in frames if not f.empty]
    findings = pd.concat(frames, ignore_index=True) if frames else empty_findings()
    return CheckResult(workbooks, findings)


def summary_zh(errors: int, warnings: int) -> str:
    return f"{errors} 个错误，{warnings} 个警告" if errors or warnings else "未发现问题"


def summary_en(errors: int, warnings: int) -> str:
    return f"{errors} errors, {warnings} warnings" if errors or warnings else "no problems found"
