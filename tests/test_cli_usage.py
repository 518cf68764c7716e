"""The command line the way people use it: -h, help texts that say what each thing does in Chinese and
English, one date syntax, outputs refused before a run rather than after it, and a console summary in
words."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil

import click
import pytest
from click.testing import CliRunner

from tests.conftest import COMPLAINT_HEADER, complaint, write_workbook
from toolkit.cli import main, parse_day, parse_month
from toolkit.definitions import load_registers
from toolkit.template import build_templates


def _commands(command: click.Command, path: tuple[str, ...] = ()):
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _commands(sub, (*path, name))


def test_every_command_answers_dash_h_and_every_option_says_what_it_does():
    runner = CliRunner()
    for path, command in _commands(main):
        shown = runner.invoke(main, [*path, "-h"])
        assert shown.exit_code == 0, (path, shown.output)
        assert "Usage:" in shown.output and "-h, --help" in shown.output
        for param in command.params:
            if isinstance(param, click.Option) and param.name != "version":
                assert param.help, f"taizhang {' '.join(path)} {param.opts[0]} has no help text"
        texts = [command.help or "", command.short_help or ""] + [
            p.help or "" for p in command.params if isinstance(p, click.Option)]
        for text in texts:
            assert "``" not in text and not re.search(r"`[^`]+`", text), (path, text)  # no RST markup


def test_the_command_list_gives_each_command_a_whole_bilingual_summary():
    listing = CliRunner().invoke(main, ["--help"]).output
    commands = listing[listing.index("Commands:"):].splitlines()[1:]
    assert len(commands) >= 10
    for line in commands:
        assert "..." not in line and "…" not in line, line
        assert " / " in line and re.search(r"[\u4e00-\u9fff]", line), line


@pytest.mark.parametrize("text", ["2026-11-05", "2026/11/05", "20261105", "2026年11月5日", "2026-11-5", "2026.11.05"])
def test_a_day_is_read_however_staff_type_it(text):
    assert parse_day(text) == dt.date(2026, 11, 5)


@pytest.mark.parametrize("text", ["2026-10", "2026/10", "202610", "2026年10月", "2026年10"])
def test_a_month_is_read_however_staff_type_it(text):
    assert parse_month(text) == (2026, 10)


@pytest.mark.parametrize("text", ["11/05/2026", "2026-13-01", "2026-02-30", "明天", "2026-1105"])
def test_a_day_that_is_not_one_is_refused_with_the_forms_that_work(tmp_path, text):
    done = CliRunner().invoke(main, ["overdue", str(tmp_path), "--as-of", text])
    assert done.exit_code == 2
    assert "--as-of" in done.output and "2026年11月5日" in done.output and "Traceback" not in done.output


def _store(tmp_path):
    folder = tmp_path / "in" / "001_朝阳店"
    folder.mkdir(parents=True)
    write_workbook(folder / "投诉.xlsx", {"投诉": [COMPLAINT_HEADER, complaint("2610001", dt.date(2026, 10, 1))]})
    return tmp_path / "in"


def test_the_same_run_gives_the_same_lists_whichever_way_the_day_is_written(tmp_path):
    folder = _store(tmp_path)
    runner = CliRunner()
    seen = set()
    for text in ("2026-11-05", "2026/11/05", "20261105", "2026年11月5日"):
        done = runner.invoke(main, ["overdue", str(folder), "--as-of", text, "--json", "--jobs", "1"])
        assert done.exit_code == 0, done.output
        payload = json.loads(done.stdout)
        seen.add((payload["as_of"], json.dumps(payload["items"], ensure_ascii=False)))
    assert len(seen) == 1 and next(iter(seen))[0] == "2026-11-05"
    done = runner.invoke(main, ["consolidate", str(folder), "-o", str(tmp_path / "s.xlsx"), "--month", "2026年10月",
                                "--as-of", "20261105", "--jobs", "1"])
    assert done.exit_code == 0, done.output
    assert (tmp_path / "s.xlsx").exists()


def test_a_summary_named_csv_is_refused_before_anything_is_read(tmp_path):
    folder = _store(tmp_path)
    done = CliRunner().invoke(main, ["consolidate", str(folder), "-o", str(tmp_path / "汇总.csv"), "--month", "2026-10"])
    assert done.exit_code == 2 and ".xlsx" in done.output and "taizhang export" in done.output
    assert not (tmp_path / "汇总.csv").exists()
    done = CliRunner().invoke(main, ["consolidate", str(folder), "-o", str(tmp_path / "汇总"), "--month", "2026-10",
                                     "--jobs", "1"])
    assert done.exit_code == 0 and (tmp_path / "汇总.xlsx").exists()


def test_the_console_counts_in_words_and_never_says_no_problems_beside_an_unread_file(tmp_path):
    folder = _store(tmp_path)
    (folder / "001_朝阳店" / "坏.xlsx").write_bytes(b"not a workbook")
    done = CliRunner().invoke(main, ["consolidate", str(folder), "-o", str(tmp_path / "s.xlsx"), "--month", "2026-10",
                                     "--as-of", "2026-11-05", "--jobs", "1"])
    assert "{'" not in done.output and "2 files: 1 read, 1 unusable" in done.output
    clean = tmp_path / "clean"
    clean.mkdir()
    build_templates([load_registers()["complaints"]], clean, "001", "朝阳店")  # a blank register: nothing wrong
    (clean / "坏.xlsx").write_bytes(b"not a workbook")
    checked = CliRunner().invoke(main, ["validate", str(clean)])
    last = checked.output.strip().splitlines()[-1]
    assert "1 个无法读取" in last and "0 个错误" not in last
    assert last.endswith("已读取的文件中未发现问题，无法读取的文件未校验")  # never a bare "未发现问题"


def test_three_hundred_duplicate_files_make_a_few_lines_and_a_count_not_three_hundred(tmp_path):
    folder = _store(tmp_path)
    for i in range(12):
        shutil.copy(folder / "001_朝阳店" / "投诉.xlsx", folder / "001_朝阳店" / f"投诉 副本{i}.xlsx")
    done = CliRunner().invoke(main, ["consolidate", str(folder), "-o", str(tmp_path / "s.xlsx"), "--month", "2026-10",
                                     "--as-of", "2026-11-05", "--jobs", "1"])
    assert done.exit_code == 0, done.output
    duplicates = [line for line in done.output.splitlines() if line.strip().startswith("duplicate")]
    assert len(duplicates) == 5
    assert "另有 7 条同类（重复提交）" in done.output


def test_email_without_a_configuration_says_which_section_and_that_no_file_was_found(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = _store(tmp_path)
    done = CliRunner().invoke(main, ["email", str(folder), "--month", "2026-10"])
    assert done.exit_code == 2
    assert "[email]" in done.output and "未找到配置文件 taizhang.toml" in done.output


def test_overdue_says_its_exit_codes():
    shown = CliRunner().invoke(main, ["overdue", "-h"]).output
    assert "Exit code" in shown and "1 some files could not be read" in shown and "2 nothing" in shown


def test_asking_for_help_loads_none_of_the_heavy_libraries():
    """`taizhang -h` is what a newcomer types first: it imports only click (bench/button.py times it)."""
    import subprocess
    import sys

    from tests.torture import ROOT

    probe = ("import sys, runpy; sys.argv = ['taizhang', '--help']\n"
             "try:\n    runpy.run_module('toolkit.cli', run_name='__main__')\nexcept SystemExit:\n    pass\n"
             "heavy = ('pandas', 'pyarrow', 'numpy', 'yaml', 'rich', 'openpyxl', 'python_calamine', 'xlsxwriter')\n"
             "print('LOADED', sorted(m for m in heavy if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert "Commands:" in done.stdout
    assert "LOADED []" in done.stdout, done.stdout[-300:]


def test_a_stores_button_check_loads_no_writer_and_no_pkg_resources(tmp_path):
    """The store's button runs `taizhang validate FILE`: checking a workbook writes none, so XlsxWriter and
    openpyxl stay unloaded, and zhconv is loaded without pkg_resources (0.2 s of a 1 s budget)."""
    import subprocess
    import sys

    from tests.torture import ROOT
    from toolkit.definitions import load_registers
    from toolkit.demo import write_store_workbook

    store = write_store_workbook(tmp_path / "投诉.xlsx", load_registers()["complaints"], "001", "朝阳店", 40)
    probe = (f"import sys, runpy; sys.argv = ['taizhang', 'validate', {str(store)!r}]\n"
             "try:\n    runpy.run_module('toolkit.cli', run_name='__main__')\nexcept SystemExit:\n    pass\n"
             "unwanted = ('xlsxwriter', 'openpyxl', 'pkg_resources')\n"
             "print('LOADED', sorted(m for m in unwanted if m in sys.modules), 'zhconv' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert "LOADED [] True" in done.stdout, done.stdout[-500:] + done.stderr[-500:]


def test_asking_for_the_answer_forms_template_says_where_its_form_is(tmp_path):
    done = CliRunner().invoke(main, ["template", "build", "--register", "overdue_replies", "-o", str(tmp_path)])
    assert done.exit_code == 0 and not list(tmp_path.glob("*.xlsx"))
    assert "没有空白模板" in done.output and "taizhang overdue --split-by store" in done.output
