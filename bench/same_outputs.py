"""Same outputs before and after a speed change (run by hand, beside the benchmarks).

    python bench/same_outputs.py --base HEAD~1 [--this HEAD] INPUT_DIR [INPUT_DIR ...] [--work /tmp/same-outputs]

Checks out ``--base`` into a git worktree and runs, with that code and with the code of this checkout
(or of the commit ``--this``, checked out beside it, so that work can go on meanwhile),
in fresh processes over every INPUT_DIR:
  taizhang validate DIR --json --year 2026
  taizhang consolidate DIR --json --month 2026-10 --as-of 2026-11-05 -o summary.xlsx   (+ every cell
      value of every sheet of the summary workbook, read back with calamine)
  taizhang overdue DIR --json --as-of 2026-11-05
then compares what they printed, the exit codes and the summary's cells. Run times and the output path
are the only parts blanked before comparing. Prints one line per input and command, and the first
differences; exits 1 when anything differs.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = {
    "validate": ["validate", "{input}", "--json", "--year", "2026"],
    "consolidate": ["consolidate", "{input}", "--json", "--month", "2026-10", "--as-of", "2026-11-05",
                    "-o", "{out}"],
    "overdue": ["overdue", "{input}", "--json", "--as-of", "2026-11-05"],
}
# what differs between two runs of the same code: the moment and length of a run, where its outputs went
_VOLATILE = re.compile(r'"(?:seconds|elapsed|duration|started|finished|generated_at|run_at)": [^,}\]]+')


def worktree(base: str, work: Path) -> Path:
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", base], capture_output=True, text=True,
                            check=True).stdout.strip()
    tree = work / f"base-{commit[:10]}"
    if not tree.exists():
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), commit],
                       capture_output=True, check=True)
    return tree


def cells(path: Path) -> str:
    """Every cell value of every sheet, one line per row, as calamine reads them back."""
    if not path.exists():
        return "(no summary written)"
    import python_calamine as calamine

    book = calamine.CalamineWorkbook.from_path(str(path))
    lines = []
    for name in book.sheet_names:
        lines.append(f"== {name}")
        lines += [json.dumps(row, ensure_ascii=False, default=str)
                  for row in book.get_sheet_by_name(name).to_python(skip_empty_area=False)]
    return "\n".join(lines)


def run(tree: Path, command: str, input_dir: Path, out: Path) -> str:
    args = [a.format(input=input_dir, out=out) for a in COMMANDS[command]]
    code = f"import sys; sys.path.insert(0, {str(tree)!r}); from toolkit.cli import main; main()"
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          cwd=input_dir.parent, env={"PATH": "/usr/bin:/bin", "HOME": str(out.parent),
                                                     "LANG": "C.UTF-8", "TZ": "Asia/Shanghai"})
    printed = _VOLATILE.sub(lambda m: m.group(0).split(":")[0] + ": _", proc.stdout).replace(str(out), "OUT")
    text = f"exit {proc.returncode}\n{printed}"
    if command == "consolidate":
        text += "\n" + cells(out)
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inputs", nargs="+", type=Path)
    parser.add_argument("--base", default="HEAD")
    parser.add_argument("--this", default=None, help="a commit to compare instead of this checkout's files")
    parser.add_argument("--work", type=Path, default=Path("/tmp/same-outputs"))
    parser.add_argument("--commands", default="validate,consolidate,overdue")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    base = worktree(args.base, args.work)
    this = worktree(args.this, args.work) if args.this else ROOT
    differ = 0
    for input_dir in (p.resolve() for p in args.inputs):
        for command in args.commands.split(","):
            outputs = []
            for label, tree in (("base", base), ("this", this)):
                out = args.work / label / f"{input_dir.name}-{command}.xlsx"
                out.parent.mkdir(parents=True, exist_ok=True)
                out.unlink(missing_ok=True)
                outputs.append(run(tree, command, input_dir, out))
            same = outputs[0] == outputs[1]
            differ += not same
            print(f"{'same' if same else 'DIFFERENT':9} {command:12} {input_dir} ({len(outputs[1]):,} characters)")
            if not same:
                diff = difflib.unified_diff(outputs[0].splitlines(), outputs[1].splitlines(), "base", "this",
                                            lineterm="", n=1)
                print("\n".join(list(diff)[:40]))
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
