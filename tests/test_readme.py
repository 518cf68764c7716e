"""The README's console examples are what the commands print: each ```console block is run, command by
command, in a folder holding what the README's examples use (the demo data, the example definitions, the
company workbooks tests/company_registers.py builds), and its printed lines are compared with the README's.

In the README a line "..." stands for any lines, a line ending in "..." or "…" for any line that starts the
same, and a command shown without output is run and must end without a traceback. Rich tables are compared
as printed into a pipe (160 columns). A change of output that forgets the README fails here."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.company_registers import complaint_register

ROOT = Path(__file__).parents[1]
README = ROOT / "README.md"
ANY_LINES = "..."


@dataclass
class Example:
    line: int  # where the command is in README.md
    command: str
    expected: list[str] = field(default_factory=list)


def console_examples(text: str) -> list[Example]:
    """Every ``$ command`` of the README's console blocks with the lines shown under it."""
    examples: list[Example] = []
    inside = False
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("```"):
            inside = line.strip() == "```console"
            continue
        if not inside:
            continue
        if line.startswith("$ "):
            examples.append(Example(number, " ".join(shlex.split(line[2:], comments=True))))
        elif examples and examples[-1].line < number:
            examples[-1].expected.append(line.rstrip())
    return examples


def matches(expected: list[str], printed: list[str]) -> str | None:
    """None when the printed lines are the expected ones (with the README's "..." conventions), else what
    differs first."""
    at = 0
    for i, want in enumerate(expected):
        if want.strip() == ANY_LINES:
            following = next((w for w in expected[i + 1:] if w.strip() != ANY_LINES), None)
            if following is None:
                return None
            while at < len(printed) and not _same(following, printed[at]):
                at += 1
            continue
        if at >= len(printed):
            return f"missing: {want!r}"
        if not _same(want, printed[at]):
            return f"expected {want!r}\n     got {printed[at]!r}"
        at += 1
    return None


def _same(want: str, got: str) -> bool:
    want, got = want.rstrip(), got.rstrip()
    for ellipsis in ("...", "…"):
        if want.endswith(ellipsis) and want.strip() != ellipsis:
            return got.startswith(want[:-len(ellipsis)].rstrip())
    return want == got


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """The folder the README's commands run in."""
    here = tmp_path_factory.mktemp("readme")
    shutil.copytree(ROOT / "examples", here / "examples")
    complaint_register(here / "海外客诉.xlsx")
    done = subprocess.run([sys.executable, "-m", "toolkit.cli", "demo", "demo-data"], cwd=here,
                          capture_output=True, text=True, timeout=600, env=_env())
    assert done.returncode == 0, done.stderr
    return here


def _env() -> dict[str, str]:
    env = dict(os.environ, COLUMNS="160", PYTHONPATH=str(ROOT))
    env.pop("TAIZHANG_CONFIG", None)
    env.pop("TAIZHANG_DEFINITIONS", None)
    return env


def _run(command: str, cwd: Path) -> subprocess.CompletedProcess:
    words = shlex.split(command)
    if words[0] == "taizhang":
        words = [sys.executable, "-m", "toolkit.cli", *words[1:]]
    elif words[0] != "sed":
        raise AssertionError(f"README console example runs something unexpected: {command}")
    return subprocess.run(words, cwd=cwd, capture_output=True, text=True, timeout=900, env=_env())


EXAMPLES = console_examples(README.read_text(encoding="utf-8"))


def test_the_readme_has_console_examples_to_check():
    assert len(EXAMPLES) >= 10
    assert all(e.command for e in EXAMPLES)


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"README.md:{e.line}" for e in EXAMPLES])
def test_a_readme_console_example_prints_what_the_readme_shows(example: Example, workdir: Path):
    done = _run(example.command, workdir)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode in (0, 1), (example.command, done.returncode, done.stderr)  # 1: findings reported
    if not example.expected:
        return
    printed = [re.sub(r"\s+$", "", line) for line in done.stdout.splitlines()]
    difference = matches(example.expected, printed)
    assert difference is None, f"README.md:{example.line} `{example.command}`:\n{difference}\n--- printed ---\n" + \
        "\n".join(printed[:60])


def test_the_matching_rules_say_what_differs():
    assert matches(["a", "...", "z"], ["a", "b", "c", "z"]) is None
    assert matches(["a", "b…"], ["a", "bcd"]) is None
    assert matches(["a", "b"], ["a", "c"]) is not None
    assert matches(["a", "b"], ["a"]) == "missing: 'b'"
