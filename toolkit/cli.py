"""The ``taizhang`` command: a thin layer over the package's functions."""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from . import __version__

if TYPE_CHECKING:  # what a command needs is imported when it runs: `taizhang -h` stays fast
    from rich.console import Console

    from .config import Config
    from .definitions import Register


def escape(text: str) -> str:
    """Text printed as it is, not read as rich markup ([email] is a section, not a style)."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


class Context:
    def __init__(self, definition_dirs: tuple[Path, ...], config_path: Path | None = None) -> None:
        self.definition_dirs = definition_dirs
        self.config_path = config_path
        self._registers: dict[str, Register] | None = None
        self._config: Config | None = None
        self.only: str | None = None  # --register: the run reads every sheet as this one register
        self.default_store: tuple[str, str] | None = None  # --store: the store of files that name none

    @property
    def config(self) -> Config:
        """``--config FILE``, else ``taizhang.toml`` in the working folder, else an empty configuration."""
        if self._config is None:
            from .config import ConfigError, find_config

            try:
                self._config = find_config(self.config_path)
            except ConfigError as e:
                raise click.ClickException(f"配置有误 / configuration error: {e}") from None
            if self.default_store is not None:
                code, name = self.default_store
                known = self._config.stores.get(code)
                self._config.default_store = (code, name or (known.name if known else code))
        return self._config

    @property
    def registers(self) -> dict[str, Register]:
        if self._registers is None:
            from .config import ConfigError, company_registers
            from .definitions import DefinitionError

            try:
                self._registers = company_registers(self.config, self.definition_dirs)
            except DefinitionError as e:
                raise click.ClickException(f"登记表定义有误 / register definition error: {e}") from None
            except ConfigError as e:
                raise click.ClickException(f"配置有误 / configuration error: {e}") from None
            if self.only is not None:
                self._registers = {self.only: self.register(self.only)}
        return self._registers

    def register(self, reg_id: str) -> Register:
        if reg_id not in self.registers:
            known = ", ".join(self.registers)
            raise click.BadParameter(f"没有登记表 {reg_id!r} / no register {reg_id!r} (known: {known})")
        return self.registers[reg_id]


pass_context = click.make_pass_decorator(Context)


def _register_option(f):
    """``--register ID``: the run is restricted to one register, and every sheet whose headers match it
    at all is read as it (instead of being weighed against the others)."""
    def remember(ctx: click.Context, _param, value: str | None) -> None:
        if value is not None:
            ctx.find_object(Context).only = value
    return click.option("--register", "only_register", metavar="ID", expose_value=False, callback=remember,
                        help="按此登记表读取所有工作表 / read every sheet as this register (see: taizhang registers).")(f)


def _console(stderr: bool = False) -> Console:
    """Rich console; when piped, wide enough that Chinese messages are not folded mid-sentence."""
    from rich.console import Console

    console = Console(highlight=False, stderr=stderr)
    if not console.is_terminal:
        console = Console(highlight=False, stderr=stderr, width=160)
    return console


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, prog_name="taizhang")
@click.option("--definitions", "definition_dirs", multiple=True, type=click.Path(path_type=Path),
              envvar="TAIZHANG_DEFINITIONS",
              help="公司自己的登记表定义文件夹（新增或覆盖）/ a folder of the company's own register definitions.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), envvar="TAIZHANG_CONFIG",
              help="配置文件，默认当前文件夹的 taizhang.toml / the configuration file (default ./taizhang.toml).")
@click.pass_context
def main(ctx: click.Context, definition_dirs: tuple[Path, ...], config_path: Path | None) -> None:
    """taizhang: 台账 / 登记表 模板、校验与汇总 — Excel registers for service and retail chains."""
    ctx.obj = Context(definition_dirs, config_path)


@main.group("registers", invoke_without_command=True, short_help="登记表列表，show ID 看一个 / list the registers, or show one")
@pass_context
@click.pass_context
def registers_cmd(click_ctx: click.Context, ctx: Context) -> None:
    """List the registers (登记表), or show one with: taizhang registers show ID."""
    if click_ctx.invoked_subcommand is not None:
        return
    from rich.table import Table

    table = Table(title="登记表 / Registers")
    for col in ("id", "名称", "Name", "字段 fields", "规则 rules", "时限 deadlines", "版本 version"):
        table.add_column(col)
    for reg in ctx.registers.values():
        table.add_row(reg.id, reg.name_zh, reg.name_en, str(len(reg.fields)), str(len(reg.rules)),
                      str(len(reg.deadlines)), str(reg.version))
    _console().print(table)


@registers_cmd.command("show", short_help="一个登记表的字段、规则与时限 / one register in full")
@click.argument("register_id")
@pass_context
def registers_show(ctx: Context, register_id: str) -> None:
    """Print a register's fields, rules and deadlines."""
    from rich.table import Table

    from .describe import TYPE_NAMES, describe_deadline, describe_rule

    reg = ctx.register(register_id)
    console = _console()
    key = " + ".join(reg.key) or "-"
    console.print(f"[bold]{reg.name_zh}[/] / {reg.name_en}  (id: {reg.id}, 版本 version {reg.version}, 编号 key: {key})")
    console.print(f"定义文件 / definition: {reg.source}")
    table = Table(show_lines=False)
    for col in ("key", "列名", "label", "类型 type", "必填", "选项/范围 options", "别名 aliases"):
        table.add_column(col, overflow="fold")
    for f in reg.fields:
        limits = "、".join(f.option_values)
        if f.min is not None or f.max is not None:
            limits = f"{'' if f.min is None else f.min}–{'' if f.max is None else f.max}"
        if f.pattern:
            limits = f.pattern_zh or f.pattern
        flags = ("是" if f.required else "") + (" 敏感" if f.sensitive else "")
        table.add_row(f.key, f.label_zh, f.label_en, f"{TYPE_NAMES[f.type][0]} {f.type}", flags.strip(), limits,
                      "、".join(f.aliases))
    console.print(table)
    if reg.rules:
        console.print("[bold]规则 / rules[/]")
        for rule in reg.rules:
            zh, en = describe_rule(reg, rule)
            console.print(f"  [{'red' if rule.severity == 'error' else 'yellow'}]{rule.severity}[/] {zh}\n        {en}",
                          soft_wrap=True)
    if reg.deadlines:
        console.print("[bold]时限 / deadlines[/]")
        for d in reg.deadlines:
            zh, en = describe_deadline(reg, d)
            console.print(f"  {d.id}: {zh}\n        {en}", soft_wrap=True)


@main.group("definitions", short_help="由公司已有的台账起草定义 / draft definitions from existing registers")
def definitions_cmd() -> None:
    """Draft register definitions from the registers a company already keeps."""


@definitions_cmd.command("infer", short_help="由一个工作簿起草定义 / draft a definition from a workbook")
@click.argument("workbook", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--sheet", default=None, help="工作表名，默认第一个有数据的 / the sheet (default: the first with data).")
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="写入此文件夹的 <id>.yaml；不给则打印 / write <id>.yaml into this folder (default: print it).")
@click.option("--year", "reference_year", type=int, default=None,
              help="没写年份的日期按此年份读 / the year for dates typed without one.")
def definitions_infer(workbook: Path, sheet: str | None, out_dir: Path | None, reference_year: int | None) -> None:
    """Write a draft definition (YAML, every guess commented) for the register in WORKBOOK."""
    from .files import atomic_path
    from .infer import InferError, infer_definition

    try:
        draft = infer_definition(workbook, sheet, reference_year or dt.date.today().year)
    except InferError as e:
        raise click.ClickException(f"{workbook}: {e.zh} / {e.en}") from None
    except Exception as e:  # any other surprise in someone else's workbook: said, never a traceback
        raise click.ClickException(f"{workbook}: 无法从此工作簿生成定义（{type(e).__name__}: {e}） / "
                                   f"cannot draft a definition from this workbook ({type(e).__name__}: {e})") from None
    if out_dir is None:
        click.echo(draft.text, nl=False)
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{draft.register_id}.yaml"
    with atomic_path(target) as tmp:
        Path(tmp).write_text(draft.text, encoding="utf-8")
    click.echo(f"草稿定义 / draft definition: {target}（工作表「{draft.sheet}」，表头第{draft.header_row}行，"
               f"{draft.rows} 行数据，{len(draft.guesses)} 列）")
    click.echo(f"下一步 / next: taizhang --definitions {out_dir} registers show {draft.register_id}；"
               f"taizhang --definitions {out_dir} validate {workbook}")


@main.group("template", short_help="生成空白模板 / blank Excel templates")
def template_cmd() -> None:
    """Excel templates (模板) built from the definitions."""


@template_cmd.command("build", short_help="每个登记表一个模板 / one template per register")
@click.option("--register", "register_ids", multiple=True, help="登记表 id（可多次；默认全部）/ register id (repeatable).")
@click.option("--store-code", default=None, help="门店编号，写入模板 / store code written into the template.")
@click.option("--store-name", default=None, help="门店名称 / store name.")
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="写出模板的文件夹 / folder for the templates.")
@pass_context
def template_build(ctx: Context, register_ids: tuple[str, ...], store_code: str | None, store_name: str | None,
                   out_dir: Path) -> None:
    """Write one .xlsx template per register into OUTPUT."""
    from .template import build_templates

    registers = [ctx.register(r) for r in register_ids] if register_ids else list(ctx.registers.values())
    for path in build_templates(registers, out_dir, store_code, store_name):
        click.echo(str(path))
    for register in registers:
        if register.is_answer_form and register_ids:
            click.echo(f"{register.name_zh}（{register.id}）没有空白模板：它的表格就是各店的逾期清单工作簿"
                       f"（taizhang overdue --split-by store）/ no blank template: its form is each store's overdue "
                       "workbook", err=True)


@main.command("validate", short_help="校验门店工作簿 / check store workbooks")
@_register_option
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="只输出一个 JSON 对象 / print exactly one JSON object.")
@click.option("--annotate", is_flag=True, help="在原文件旁写出标注副本 <name>_校验结果.xlsx / write annotated copies.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="问题说明的语言 / the language of the findings shown.")
@click.option("--max-rows", default=20, show_default=True, help="每个文件最多显示的问题数（0 全部）/ findings shown per file.")
@click.option("--year", "reference_year", type=int, default=None,
              help="未写年份的日期（如 3.5）按此年份读取，默认今年 / year for dates typed without one.")
@click.option("--fail-on", type=click.Choice(["error", "warning", "never"]), default="error", show_default=True,
              help="何时以退出码1结束 / when to exit with code 1.")
@pass_context
def validate_cmd(ctx: Context, paths: tuple[Path, ...], as_json: bool, annotate: bool, lang: str, max_rows: int,
                 reference_year: int | None, fail_on: str) -> None:
    """Check workbooks (files or folders, recursively) against their register definitions.

    Exit code: 0 no errors, 1 errors found, 2 nothing could be read.
    """
    from .check import check_paths
    from .report import dumps, print_report, result_json

    result = check_paths(list(paths), ctx.registers, reference_year, ctx.config.area_code)
    console = _console(stderr=as_json)
    annotated = []
    if annotate:
        from .annotate import annotate_workbook

        for w in result.readable:
            try:
                annotated.append(annotate_workbook(w, result.findings_of(w)))
            except Exception as e:  # one file that cannot be annotated must not stop the others
                console.print(f"[red]无法写出标注副本 / cannot write the annotated copy of {escape(str(w.path))}: "
                              f"{escape(str(e))}[/]")
    if as_json:
        click.echo(dumps(result_json(result)))
    else:
        print_report(result, console, lang, max_rows or len(result.findings) or 1)
        for path in annotated:
            console.print(f"标注副本 / annotated copy: {path}")
    if not result.readable:
        sys.exit(2)
    if (fail_on == "error" and result.errors) or (fail_on == "warning" and (result.errors or result.warnings)):
        sys.exit(1)


@main.command("demo", short_help="生成一个月的样例门店数据 / write a month of sample store workbooks")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--month", default="2026-10", show_default=True, help="样例数据的月份 / month of the sample data (YYYY-MM).")
@click.option("--seed", default=7, show_default=True, help="随机种子，同一种子生成相同数据 / same seed, same data.")
@click.option("--rows", default=200, show_default=True, help="每个登记表每店的大约行数 / about this many rows per register and store.")
@pass_context
def demo_cmd(ctx: Context, out_dir: Path, month: str, seed: int, rows: int) -> None:
    """Write a month of sample store workbooks, with the usual mistakes, into OUT_DIR."""
    from .demo import write_demo

    try:
        month = _month_text(month)
    except ValueError:
        raise click.BadParameter(f"{month!r} 不是月份（可写 {MONTH_FORMS}）/ is not a month (e.g. 2026-10)",
                                 param_hint="--month") from None
    for path in write_demo(out_dir, ctx.registers, month=month, seed=seed, rows=rows):
        click.echo(str(path))


def _config_option(f):
    """``--config`` is accepted after the command too (``taizhang consolidate DIR --config FILE``)."""
    def remember(ctx: click.Context, _param, value: Path | None) -> None:
        if value is not None:
            ctx.find_object(Context).config_path = value
    return click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
                        expose_value=False, callback=remember, is_eager=True,
                        help="配置文件 taizhang.toml / the configuration file.")(f)


def _store_option(f):
    """``--store CODE[:NAME]``: files whose store cannot be told (no ``<code>_<name>`` folder, no template
    metadata, no paths in taizhang.toml) belong to this store: a register head office keeps itself."""
    def remember(ctx: click.Context, _param, value: str | None) -> None:
        if value is not None:
            code, _, name = value.partition(":")
            if not code.strip():
                raise click.BadParameter("应为 编号[:店名]，如 000:总部 / expected CODE[:NAME], e.g. 000:总部")
            ctx.find_object(Context).default_store = (code.strip(), name.strip())
    return click.option("--store", "default_store", metavar="CODE[:NAME]", expose_value=False, callback=remember,
                        help="不属于任何门店文件夹的文件记入此门店 / files with no store folder belong to this store.")(f)


def _workbook_path(value: Path | None) -> Path | None:
    """A workbook output is an .xlsx (given without a suffix, it gets one): an xlsx named .csv is
    refused, not written for Excel to reject."""
    if value is None:
        return None
    if value.suffix == "":
        return value.with_suffix(".xlsx")
    if value.suffix.lower() != ".xlsx":
        raise click.BadParameter(f"{value.name}：汇总工作簿须为 .xlsx（导出 CSV 用 taizhang export）/ the summary is an "
                                 ".xlsx workbook (CSV: taizhang export)", param_hint="-o/--output")
    return value


DAY_FORMS = "2026-11-05、2026/11/05、20261105、2026年11月5日"
MONTH_FORMS = "2026-11、2026/11、202611、2026年11月"
_DAY = re.compile(r"(\d{4})(?:[-/.](\d{1,2})[-/.](\d{1,2})|年(\d{1,2})月(\d{1,2})日?|(\d{2})(\d{2}))")
_MONTH = re.compile(r"(\d{4})(?:[-/.](\d{1,2})|年(\d{1,2})月?|(\d{2}))")


def parse_day(text: str) -> dt.date:
    """A day as people type it on the command line: one syntax for every --as-of."""
    m = _DAY.fullmatch(text.strip().replace(" ", ""))
    if m is None:
        raise ValueError(text)
    month, day = next((int(m.group(i)), int(m.group(i + 1))) for i in (2, 4, 6) if m.group(i))
    return dt.date(int(m.group(1)), month, day)


def parse_month(text: str) -> tuple[int, int]:
    """A month as people type it: one syntax for every --month."""
    m = _MONTH.fullmatch(text.strip().replace(" ", ""))
    month = int(next((g for g in m.groups()[1:] if g), 0)) if m else 0
    if not 1 <= month <= 12:
        raise ValueError(text)
    return int(m.group(1)), month


def _as_of(value: str | None) -> dt.date:
    if not value:
        return dt.date.today()
    try:
        return parse_day(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} 不是日期（可写 {DAY_FORMS}）/ is not a date (e.g. 2026-11-05)",
                                 param_hint="--as-of") from None


def _month(value: str | None, as_of: dt.date):
    """The month reported on (a pandas Period): the one given, else the month before the as-of day."""
    from .statistics import month_of

    try:
        return month_of(_month_text(value) if value else None, as_of)
    except ValueError:
        raise click.BadParameter(f"{value!r} 不是月份（可写 {MONTH_FORMS}）/ is not a month (e.g. 2026-10)",
                                 param_hint="--month") from None


def _month_text(value: str) -> str:
    year, month = parse_month(value)
    return f"{year:04d}-{month:02d}"


def _input_dir(ctx: Context, input_dir: Path | None) -> Path:
    folder = input_dir or ctx.config.input_dir
    if folder is None:
        raise click.UsageError("请给出输入文件夹，或在 taizhang.toml 的 [paths] input 中设置 / "
                               "give INPUT_DIR or set [paths] input in taizhang.toml")
    if not folder.exists():
        raise click.BadParameter(f"{folder} 不存在 / does not exist")
    return folder


@contextmanager
def _output_errors(target: Path | None = None) -> Iterator[None]:
    """An output that cannot be written (full disk, read-only folder, a file open in Excel) or a wrong
    --previous file ends the command with one bilingual line and exit code 1, not a traceback."""
    from .files import OutputError, output_error
    from .summary import PreviousError

    try:
        yield
    except PreviousError as e:
        _console(stderr=True).print(f"[red]上月汇总有误 / --previous: {escape(e.zh)} / {escape(e.en)}[/]")
        sys.exit(1)
    except OSError as e:
        error = e if isinstance(e, OutputError) else output_error(e, target or Path("."))
        _console(stderr=True).print(f"[red]{escape(str(error))}[/]")
        sys.exit(1)


@contextmanager
def _progress_bar(quiet: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A rich progress bar on stderr for a terminal (yields its callback); nothing otherwise."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    console = _console(stderr=True)
    if quiet or not console.is_terminal:
        yield None
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=console, transient=True) as shown:
        task = shown.add_task("读取 / reading", total=None)
        yield _Bar(shown, task)


class _Bar:
    """The progress callback: files read of the total, then the phases after reading (writing the summary)."""

    def __init__(self, shown, task) -> None:
        self.shown, self.task = shown, task

    def __call__(self, done: int, total: int) -> None:
        self.shown.update(self.task, completed=done, total=total)

    def phase(self, label: str) -> None:
        self.shown.update(self.task, description=label, completed=0, total=None)


def _export_options(f):
    """--format, --encoding and --database: the same for ``export`` and for ``consolidate --export``."""
    f = click.option("--database", default=None,
                     help="同时写入数据库：SQLite 文件路径，或 postgresql+psycopg://… / mysql+pymysql://… 网址 "
                          "/ also load into a database: an SQLite file, or a SQLAlchemy URL.")(f)
    f = click.option("--encoding", type=click.Choice(["utf-8-sig", "gb18030"]), default="utf-8-sig",
                     show_default=True, help="CSV 编码：utf-8-sig（Excel 可直接打开）或 gb18030（旧系统）/ CSV encoding.")(f)
    return click.option("--format", "formats", default="csv", show_default=True,
                        help="csv, parquet, jsonl（可用逗号分隔多个）/ comma-separated formats.")(f)


def _formats(formats: str) -> list[str]:
    from .export import FORMATS

    chosen = [f.strip() for f in formats.split(",") if f.strip()]
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown or not chosen:
        raise click.BadParameter(f"{', '.join(unknown) or formats!r}: 可用 / use {', '.join(FORMATS)}",
                                 param_hint="--format")
    return chosen


def _report_export(ctx: Context, run, register_ids: list[str] | None, database: str | None,
                   console: Console) -> bool:
    """Print what an export wrote and, with ``database``, load it; True if a register could not be loaded."""
    for reg_id, paths in run.written.items():
        rows = len(run.result.records[reg_id])
        console.print(f"{ctx.registers[reg_id].name_zh} ({reg_id}): {rows} 行 / rows → "
                      + ", ".join(p.name for p in paths))
    rejected = len(run.result.rejected)
    console.print(f"拒收 {rejected} 行未导出（见 taizhang consolidate 的「问题数据」）/ {rejected} rejected rows not exported")
    console.print(f"数据包说明 / data package: {run.package}")
    failed = False
    if database:
        from .database import load_records

        url = database if "://" in database else f"sqlite:///{Path(database).resolve()}"
        for loaded in load_records(url, run.result.records, ctx.registers, register_ids):
            if loaded.error:
                failed = True
                console.print(f"[red]数据库 / database {loaded.table}: 未写入 / not loaded: {escape(str(loaded.error))}[/]")
                continue
            console.print(f"数据库 / database {loaded.table}: {loaded.loaded} 行写入或更新 / rows upserted"
                          + (f"，{len(loaded.not_loaded)} 行编号不完整未写入 / rows without a complete key"
                             if len(loaded.not_loaded) else ""))
    return failed


@main.command("consolidate", short_help="月度汇总各门店工作簿 / the monthly summary of all stores")
@_register_option
@_store_option
@click.argument("input_dir", required=False, type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              callback=lambda _ctx, _param, value: _workbook_path(value),
              help="汇总工作簿（.xlsx），默认 台账汇总_<月份>.xlsx / the summary workbook (.xlsx).")
@click.option("--as-of", "as_of", default=None, help="逾期按此日期计算，默认今天（如 2026-11-05）/ overdue as of this date.")
@click.option("--month", default=None, help="统计月份 YYYY-MM，默认截止日期的上一个月 / the month reported on.")
@click.option("--previous", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="上月的汇总工作簿，用于对比 / last month's summary, for the change column.")
@click.option("--json", "as_json", is_flag=True, help="只输出文件清单 JSON / print exactly the manifest as JSON.")
@click.option("--jobs", type=int, default=None, help="并行进程数，默认全部核心 / worker processes (default: all cores).")
@click.option("--year", "reference_year", type=int, default=None,
              help="未写年份的日期按此年份读取 / year for dates typed without one.")
@click.option("--export", "export_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="同时把这次汇总接收的记录导出到此文件夹（同 taizhang export）/ also export this run's records here.")
@_export_options
@_config_option
@pass_context
def consolidate_cmd(ctx: Context, input_dir: Path | None, output: Path | None, as_of: str | None,
                    month: str | None, previous: Path | None, as_json: bool, jobs: int | None,
                    reference_year: int | None, export_dir: Path | None, formats: str, encoding: str,
                    database: str | None) -> None:
    """Monthly consolidation: every store's workbooks under INPUT_DIR into one summary workbook; with --export,
    the same run's accepted records exported too (the rows the summary holds, read once).

    Exit code: 0 the summary was written, 1 a register could not be loaded into the database (--database),
    2 no workbook could be read, 3 the summary was written but some input could not be read (its
    unusable lines in the manifest say why).
    """
    from .jobs import monthly_summary

    chosen = _formats(formats)
    if database and export_dir is None:
        raise click.UsageError("--database 需与 --export 一起用 / --database needs --export")
    folder = _input_dir(ctx, input_dir)
    day = _as_of(as_of)
    period = _month(month, day)
    with _output_errors(output), _progress_bar(as_json) as progress:
        run = monthly_summary(folder, ctx.registers, ctx.config, day, period, output, previous, reference_year,
                              jobs, progress)
    result, lists, output = run.result, run.lists, run.output
    if as_json:
        click.echo(json.dumps(result.manifest(output), ensure_ascii=False, indent=2))
    else:
        console = _console()
        print_manifest_lines(result, console)
        accepted, rejected = result.rows_accepted, result.rows_rejected
        console.print(f"记录 {accepted} 行接收，{rejected} 行拒收（见「问题数据」）；逾期 {len(lists.items)} 项，"
                      f"即将到期 {len(lists.due_soon)} 项 / {accepted} rows accepted, {rejected} rejected; "
                      f"{len(lists.items)} overdue, {len(lists.due_soon)} due soon")
        console.print(f"汇总工作簿 / summary workbook: {output}")
    failed = False
    if export_dir is not None:
        from .jobs import export_consolidation

        with _output_errors(export_dir):
            exported = export_consolidation(result, ctx.registers, export_dir, chosen, encoding)
        failed = _report_export(ctx, exported, None, database, _console(stderr=as_json))
    if not result.readable:
        sys.exit(2)
    if failed:
        sys.exit(1)
    if not result.complete:
        sys.exit(3)


NOTICES_SHOWN = 5  # lines of one kind (unusable, duplicate, ignored, warning) printed before a count
NOTICE_KINDS_ZH = {"unusable": "无法使用", "duplicate": "重复提交", "ignored": "已忽略", "warning": "警告"}


def print_manifest_lines(result, console: Console) -> None:
    """The console's account of the input: counts by status, then every file or folder that was not read
    as it is (unusable, duplicate, ignored) and every warning, each with its reason."""
    files = result.files
    by_status = {s: result.count(s) for s in ("ok", "unusable", "duplicate", "ignored")}
    console.print(f"文件 {len(files)} 个：已读取 {by_status['ok']}，无法使用 {by_status['unusable']}，"
                  f"重复 {by_status['duplicate']}，忽略 {by_status['ignored']} / {len(files)} files: "
                  f"{by_status['ok']} read, {by_status['unusable']} unusable, {by_status['duplicate']} duplicates, "
                  f"{by_status['ignored']} ignored")
    colours = {"unusable": "red", "duplicate": "yellow", "ignored": "dim"}
    lines: dict[str, list[str]] = {}  # kind -> its lines, so that 300 duplicates make one line, not 300
    for f in files:
        if f.status in colours:
            what = "文件夹 folder " if f.kind == "folder" else ""
            lines.setdefault(f.status, []).append(
                f"  [{colours[f.status]}]{f.status}[/] {what}{escape(f.display)}: {escape(f.message)}")
        for warning in f.warnings:
            lines.setdefault("warning", []).append(f"  [yellow]warning[/] {escape(f.display)}: {escape(warning)}")
    for kind, shown in lines.items():
        for line in shown[:NOTICES_SHOWN]:
            console.print(line)
        if len(shown) > NOTICES_SHOWN:
            more = len(shown) - NOTICES_SHOWN
            console.print(f"  … 另有 {more} 条同类（{NOTICE_KINDS_ZH[kind]}），详见「文件清单」或 --json / and {more} more "
                          f"{kind} lines: see the manifest (文件清单) or --json")
    skipped = result.rows_skipped
    if skipped:
        console.print(f"跳过 {skipped} 行（空行、预编号空行、表尾签字或合计行，见「文件清单」）/ {skipped} rows skipped "
                      "(blank, pre-numbered empty, signature or totals lines; see the manifest)")


@main.command("overdue", short_help="逾期、即将到期与客户关怀清单 / overdue, due-soon and care lists")
@_register_option
@_store_option
@click.argument("input_dir", required=False, type=click.Path(path_type=Path))
@click.option("--as-of", "as_of", default=None, help="按此日期计算，默认今天（如 2026-11-05）/ as of this date.")
@click.option("--split-by", type=click.Choice(["store", "owner"]), default=None,
              help="每店（或每个负责人）一个工作簿 / one workbook per store (or owner).")
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="写出工作簿的文件夹 / folder for the workbooks.")
@click.option("--soon", "soon_days", type=int, default=None, help="即将到期的天数，默认3 / due-soon window in days.")
@click.option("--json", "as_json", is_flag=True, help="只输出一个 JSON 对象 / print exactly one JSON object.")
@click.option("--jobs", type=int, default=None, help="并行进程数 / worker processes.")
@_config_option
@pass_context
def overdue_cmd(ctx: Context, input_dir: Path | None, as_of: str | None, split_by: str | None,
                out_dir: Path | None, soon_days: int | None, as_json: bool, jobs: int | None) -> None:
    """Overdue and due-soon items, and the customer care list, from the workbooks under INPUT_DIR.

    Exit code: 0 every input was read, 1 some files could not be read (the lists are incomplete; the
    notes say which), 2 nothing could be read (an empty list would mean nothing)."""
    from .jobs import overdue_run
    from .overdue import lists_json

    folder = _input_dir(ctx, input_dir)
    day = _as_of(as_of)
    with _output_errors(out_dir), _progress_bar(as_json) as progress:
        run = overdue_run(folder, ctx.registers, ctx.config, day, soon_days, out_dir, split_by, jobs, progress)
    lists, written = run.lists, run.written
    if as_json:
        payload = lists_json(lists)
        payload["files"] = [str(p) for p in written]
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        _overdue_exit(run.result)
        return
    console = _console()
    print_manifest_lines(run.result, console)
    from rich.table import Table

    table = Table(title=f"逾期 / overdue as of {day:%Y-%m-%d}: {len(lists.items)}")
    for col in ("门店", "登记表", "编号", "客户", "负责人", "规则", "应完成", "逾期天数"):
        table.add_column(col)
    for item in lists.items.head(30).itertuples():
        table.add_row(f"{item.store_code} {item.store_name}", item.register_name, item.key, item.customer,
                      item.owner, item.rule_name, item.due, str(item.days_overdue))
    console.print(table)
    if len(lists.items) > 30:
        console.print(f"… 另有 {len(lists.items) - 30} 项 / and {len(lists.items) - 30} more (use -o or --json)")
    console.print(f"即将到期 {len(lists.due_soon)} 项，客户关怀 {len(lists.care)} 项 / "
                  f"{len(lists.due_soon)} due soon, {len(lists.care)} birthdays coming")
    for note in lists.notes_zh:
        console.print(f"[yellow]{note}[/]")
    for path in written:
        console.print(f"工作簿 / workbook: {path}")
    _overdue_exit(run.result)


def _overdue_exit(result) -> None:
    """2 when nothing could be read (the lists would be empty for that reason alone), 1 when some input
    could not be: the lists are incomplete."""
    if not result.readable:
        sys.exit(2)
    if not result.complete:
        sys.exit(1)


@main.command("export", short_help="导出给其他系统 / export for other systems")
@_store_option
@click.argument("input_dir", required=False, type=click.Path(path_type=Path))
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="写出文件的文件夹 / folder for the exported files.")
@_export_options
@click.option("--register", "register_ids", multiple=True, help="只导出这些登记表（默认全部）/ registers to export.")
@click.option("--year", "reference_year", type=int, default=None,
              help="未写年份的日期按此年份读取 / year for dates typed without one.")
@click.option("--jobs", type=int, default=None, help="并行进程数 / worker processes.")
@_config_option
@pass_context
def export_cmd(ctx: Context, input_dir: Path | None, out_dir: Path, formats: str, encoding: str,
               register_ids: tuple[str, ...], database: str | None, reference_year: int | None,
               jobs: int | None) -> None:
    """Export every register's accepted records under INPUT_DIR (English keys, real types) with a datapackage.json,
    and with --database load them (upserts: a rerun updates rather than duplicates).

    Exit code: 0 done, 1 a register could not be loaded into the database, 2 no workbook could be read,
    3 some input could not be read.
    """
    from .jobs import export_run

    chosen = _formats(formats)
    for reg_id in register_ids:
        ctx.register(reg_id)
    folder = _input_dir(ctx, input_dir)
    with _output_errors(out_dir), _progress_bar(False) as progress:
        run = export_run(folder, ctx.registers, ctx.config, out_dir, chosen, encoding, list(register_ids) or None,
                         reference_year, jobs, progress)
    print_manifest_lines(run.result, _console())
    failed = _report_export(ctx, run, list(register_ids) or None, database, _console())
    if not run.result.readable:
        sys.exit(2)
    if failed:
        sys.exit(1)
    if not run.result.complete:
        sys.exit(3)


@main.command("email", short_help="发送汇总与各店逾期清单 / email the summary and store lists")
@_register_option
@_store_option
@click.argument("input_dir", required=False, type=click.Path(path_type=Path))
@click.option("--month", default=None, help="统计月份 YYYY-MM，默认截止日期的上一个月 / the month reported on.")
@click.option("--as-of", "as_of", default=None, help="逾期按此日期计算，默认今天 / overdue as of this date.")
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="附件工作簿和发送记录的文件夹，默认 [paths] output / folder for the workbooks and the send log.")
@click.option("--per-store", is_flag=True, help="同时给每家门店的店长发本店逾期清单 / also send each store its list.")
@click.option("--to-store", "stores", multiple=True, metavar="CODE",
              help="只给这些门店发（门店编号，可多次）/ only these stores' letters (with --per-store; repeatable).")
@click.option("--to", "to", multiple=True, help="汇总发给这些地址，代替 [email] management / send the summary here.")
@click.option("--no-summary", is_flag=True, help="不发月度汇总 / do not send the summary.")
@click.option("--mask/--no-mask", default=None,
              help="附件脱敏；默认只对公司域名以外的门店邮箱脱敏 / mask sensitive fields (default: per-store "
                   "letters to addresses outside the company domain).")
@click.option("--dry-run", is_flag=True, help="不发送，写出 .eml 文件 / write .eml files instead of sending.")
@click.option("--resend", is_flag=True, help="已发送过的也再发一次 / send again what the log says was sent.")
@click.option("--save-password", is_flag=True, help="把 SMTP 密码/授权码存入系统钥匙串 / keep the password in the "
              "system keyring, then stop.")
@click.option("--jobs", type=int, default=None, help="并行进程数 / worker processes.")
@_config_option
@pass_context
def email_cmd(ctx: Context, input_dir: Path | None, month: str | None, as_of: str | None, out_dir: Path | None,
              per_store: bool, stores: tuple[str, ...], to: tuple[str, ...], no_summary: bool, mask: bool | None,
              dry_run: bool, resend: bool, save_password: bool, jobs: int | None) -> None:
    """Email the month's summary workbook to management and (--per-store) each store its overdue list.

    Exit code: 0 every letter sent (or sent before), 1 a letter was not sent, 2 nothing could be sent
    (settings, password, no recipients, no readable workbook).
    """
    from .jobs import email_run
    from .mail.post import STATUS_ZH, tally
    from .mail.settings import MailError, smtp_password
    from .mail.settings import save_password as keep

    settings = ctx.config.email
    console = _console()
    try:
        if save_password:
            settings.check_server()
            keep(settings, click.prompt(f"{settings.username or settings.from_address} @ {settings.host} 的密码或授权码 "
                                        "/ password or authorization code", hide_input=True,
                                        confirmation_prompt=True))
            console.print("已存入系统钥匙串 / kept in the system keyring")
            return
        password = None
        if not dry_run:
            settings.check_server()
            password = smtp_password(settings)
    except MailError as e:
        if ctx.config.path is None:
            console.print("[red]未找到配置文件 taizhang.toml（当前文件夹，或用 --config 指定）/ no taizhang.toml found "
                          "(in this folder, or give --config)[/]")
        console.print(f"[red]{escape(e.zh)}[/]\n{escape(e.en)}")
        sys.exit(2)
    if no_summary and not per_store:
        raise click.UsageError("--no-summary 需与 --per-store 一起用 / --no-summary needs --per-store")
    if not no_summary and not (to or settings.management):
        raise click.UsageError("没有汇总收件人：在 taizhang.toml 的 [email] management 中设置，或用 --to / "
                               "no summary recipients: set [email] management in taizhang.toml, or use --to")
    folder = _input_dir(ctx, input_dir)
    day = _as_of(as_of)
    period = _month(month, day)
    with _progress_bar(False) as progress:
        run = email_run(folder, ctx.registers, ctx.config, day, period, out_dir or ctx.config.output_dir or Path("."),
                        summary=not no_summary, per_store=per_store, stores=list(stores) or None,
                        to=list(to) or None, mask=mask, dry_run=dry_run, resend=resend, password=password, jobs=jobs,
                        progress=progress)
    if not run.result.readable:
        console.print("[red]没有可读取的工作簿，未发送 / no workbook could be read: nothing sent[/]")
        sys.exit(2)
    from rich.table import Table

    table = Table(title=f"邮件 / email {period}" + ("（试运行 / dry run）" if dry_run else ""))
    for column in ("收件人 / to", "内容 / what", "结果 / result", "说明 / detail"):
        table.add_column(column)
    for o in run.outcomes:
        detail = o.detail_zh or (str(o.eml) if o.eml else "") or (f"{o.attempts} 次 / attempts" if o.attempts > 1 else "")
        detail += "；附件已压缩 / zipped" if o.zipped else ""
        colour = "green" if o.delivered else "red"
        table.add_row(o.letter.addressee, o.letter.title, f"[{colour}]{STATUS_ZH[o.status]} {o.status}[/]",
                      detail)
    console.print(table)
    console.print(tally(run.outcomes))
    console.print(f"附件 / workbooks: {run.outbox}；" + ("试运行不写发送记录 / a dry run is not logged" if dry_run
                                                        else f"发送记录 / send log: {run.log}"))
    if not all(o.delivered for o in run.outcomes):
        sys.exit(1)


@main.group("excel", short_help="Excel 按钮：宏工作簿与本机设置 / the Excel buttons")
def excel_cmd() -> None:
    """Excel 按钮：生成宏工作簿，设置与检查本机 / the macro workbooks and this machine's setup."""


@excel_cmd.command("build", short_help="生成宏工作簿 / build the macro workbooks")
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("workbooks"),
              show_default=True, help="写出 门店登记.xlsm 与 总部汇总.xlsm 的文件夹 / output folder.")
@click.option("--register", "register_ids", multiple=True, help="门店工作簿包含的登记表（默认全部）/ registers.")
@click.option("--store-code", default=None, help="门店编号，写入门店工作簿 / store code.")
@click.option("--store-name", default=None, help="门店名称 / store name.")
@click.option("--standalone", is_flag=True,
              help="嵌入本机 xlwings 的 VBA，无需加载项 / embed the installed xlwings' VBA (no add-in needed).")
@click.option("--macros", "macros_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="VBA 源代码文件夹，默认仓库中的 macros/ / the .bas sources.")
@pass_context
def excel_build(ctx: Context, out_dir: Path, register_ids: tuple[str, ...], store_code: str | None,
                store_name: str | None, standalone: bool, macros_dir: Path | None) -> None:
    """Build 门店登记.xlsm and 总部汇总.xlsm from macros/*.bas and the register definitions (no Excel needed)."""
    from .excel.build import MACROS_DIR, BuildError, build_workbooks

    registers = [ctx.register(r) for r in register_ids] or list(ctx.registers.values())
    try:
        paths = build_workbooks(out_dir, registers, macros_dir or MACROS_DIR, store_code, store_name, standalone)
    except BuildError as e:
        raise click.ClickException(str(e)) from None
    for path in paths:
        click.echo(str(path))


def _print_checks(checks) -> bool:
    console = _console()
    colours = {"ok": "green", "warning": "yellow", "fail": "red"}
    for check in checks:
        console.print(f"[{colours[check.state]}]{check.state:>7}[/] {check.name}: {check.detail}")
        if check.fix and check.state != "ok":
            console.print(f"          修复 / fix: {check.fix}")
    return not any(c.state == "fail" for c in checks)


def _workbooks_option(f):
    return click.argument("workbooks", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))(f)


@excel_cmd.command("setup", short_help="设置本机的 xlwings / set up xlwings on this machine")
@_workbooks_option
def excel_setup(workbooks: tuple[Path, ...]) -> None:
    """Write xlwings' settings for this Python (interpreter or conda environment, PYTHONPATH, OneDrive folders),
    then check this machine and the given workbooks as doctor does. Exit code 1 if a check fails."""
    from .excel.machine import Machine, doctor, setup

    machine = Machine()
    path, values = setup(machine)
    click.echo(f"已写入 / written: {path}")
    for key, value in values.items():
        click.echo(f"  {key} = {value}")
    if not _print_checks(doctor(machine, list(workbooks) or _default_workbooks())):
        sys.exit(1)


@excel_cmd.command("doctor", short_help="检查按钮所需 / check what the buttons need")
@_workbooks_option
def excel_doctor(workbooks: tuple[Path, ...]) -> None:
    """Check what the buttons need, each with its fix. Exit code 1 if a check fails."""
    from .excel.machine import Machine, doctor

    if not _print_checks(doctor(Machine(), list(workbooks) or _default_workbooks())):
        sys.exit(1)


def _default_workbooks() -> list[Path]:
    """The workbooks in ./workbooks, when none are named."""
    folder = Path("workbooks")
    return sorted(folder.glob("*.xlsm")) if folder.is_dir() else []


if __name__ == "__main__":  # pragma: no cover
    main()
