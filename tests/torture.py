"""Helpers of the torture suite: good demo stores with one bad input planted among them, and a run of
``taizhang consolidate`` over them in a fresh process (optionally under a memory limit, or without root's
power to read what its permissions forbid), read back through its ``--json`` manifest."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STORES = ("001_朝阳店", "002_海淀店", "003_浦东店", "004_天河店")


@dataclass
class Run:
    code: int
    manifest: dict
    stdout: str
    stderr: str
    peak_tree_mb: int = 0  # the largest resident memory of the run's process tree

    def line(self, path: str) -> dict:
        """The manifest line of one file or folder (by its path relative to the input folder)."""
        for entry in self.manifest["files"]:
            if entry["path"] == path:
                return entry
        raise AssertionError(f"{path} is not in the manifest: {[e['path'] for e in self.manifest['files']]}")

    def accepted_by_store(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for entry in self.manifest["files"]:
            if entry["status"] == "ok":
                counts[entry["store_code"]] = counts.get(entry["store_code"], 0) + entry["rows_accepted"]
        return counts


def without_root_powers() -> list[str]:
    """A command prefix under which permissions apply even to root (CI runs as root): the capabilities to
    read past them are dropped from the bounding set."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if not setpriv:
        pytest.skip("setpriv (util-linux) is needed to test permissions as root")
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search"]


def consolidate(folder: Path, out: Path, *extra: str, prefix: list[str] | None = None,
                memory_bytes: int | None = None, timeout: float = 600) -> Run:
    """``taizhang consolidate FOLDER --json`` in a fresh process; the manifest parsed, and the largest
    resident memory of its whole process tree (parent and workers together), sampled five times a second."""
    command = [*(prefix or []), sys.executable, "-m", "toolkit.cli", "consolidate", str(folder), "-o",
               str(out), "--month", "2026-10", "--as-of", "2026-11-05", "--json", *extra]

    def limit() -> None:  # the whole process tree: workers inherit the limit
        if memory_bytes:
            resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))

    with tempfile.TemporaryFile() as out_file, tempfile.TemporaryFile() as err_file:
        process = subprocess.Popen(command, stdout=out_file, stderr=err_file, cwd=ROOT, preexec_fn=limit,
                                   env={**os.environ, "PYTHONPATH": str(ROOT)})
        peak, deadline = 0, time.monotonic() + timeout
        while process.poll() is None:
            if time.monotonic() > deadline:
                process.kill()
                raise AssertionError(f"consolidate took more than {timeout} s")
            peak = max(peak, tree_memory_mb(process.pid))
            time.sleep(0.2)
        out_file.seek(0), err_file.seek(0)
        stdout = out_file.read().decode("utf-8", "replace")
        stderr = err_file.read().decode("utf-8", "replace")
    try:
        manifest = json.loads(stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"no manifest (exit {process.returncode}):\n{stdout[-3000:]}\n{stderr[-3000:]}") from None
    return Run(process.returncode, manifest, stdout, stderr, peak)


def tree_memory_mb(pid: int) -> int:
    """Resident memory of a process and all its descendants, in MB (0 for what ended meanwhile)."""
    total = 0
    try:
        total = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") >> 20
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except (OSError, IndexError, ValueError):
        return total
    return total + sum(tree_memory_mb(int(child)) for child in children)


def assert_every_row_accounted(run: Run) -> None:
    for entry in run.manifest["files"]:
        assert entry["rows_read"] == entry["rows_accepted"] + entry["rows_rejected"], entry
        assert entry["rows_skipped"] == sum(entry["skipped"].values()), entry
