"""The ``taizhang`` command: a thin layer over the package's functions."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from . import __version__
from .definitions import DefinitionError, Register, load_registers
from .describe import TYPE_NAMES, describe_deadline, describe_rule


class Context:
    def __init__(self, definition_dirs: tuple[Path, ...]) -> None:
        self.definition_dirs = definition_dirs
        self._registers: dict[str, Register] | None = None

    @property
    def registers(self) -> dict[str, Register]:
        if self._registers is None:
            try:
                self._registers = load_registers(self.definition_dirs)
            except DefinitionError as e:
                raise click.ClickException(f"登记表定义有误 / register definition error: {e}") from None
        return self._registers

    def register(self, reg_id: str) -> Register:
        if reg_id not in self.registers:
            known = ", ".join(self.registers)
            raise click.BadParameter(f"没有登记表 {reg_id!r} / no register {reg_id!r} (known: {known})")
        return self.registers[reg_id]


pass_context = click.make_pass_decorator(Context)


def _console(stderr: bool = False) -> Console:
    """Rich console; when piped, wide enough that Chinese messages are not folded mid-sentence."""
    console = Console(highlight=False, stderr=stderr)
    if not console.is_terminal:
        console = Console(highlight=False, stderr=stderr, width=160)
    return console


@click.group()
@click.version_option(__version__, prog_name="taizhang")
@click.option("--definitions", "definition_dirs", multiple=True, type=click.Path(path_type=Path),
              envvar="TAIZHANG_DEFINITIONS",
              help="公司自己的登记表定义文件夹（新增或覆盖）/ a folder of the company's own register definitions.")
@click.pass_context
def main(ctx: click.Context, definition_dirs: tuple[Path, ...]) -> None:
    """taizhang: 台账 / 登记表 模板、校验与汇总 — Excel registers for service and retail chains."""
    ctx.obj = Context(definition_dirs)


@main.group("registers", invoke_without_command=True)
@pass_context
@click.pass_context
def registers_cmd(click_ctx: click.Context, ctx: Context) -> None:
    """List the registers (登记表), or show one with ``show ID``."""
    if click_ctx.invoked_subcommand is not None:
        return
    table = Table(title="登记表 / Registers")
    for col in ("id", "名称", "Name", "字段 fields", "规则 rules", "时限 deadlines", "版本 version"):
        table.add_column(col)
    for reg in ctx.registers.values():
        table.add_row(reg.id, reg.name_zh, reg.name_en, str(len(reg.fields)), str(len(reg.rules)),
                      str(len(reg.deadlines)), str(reg.version))
    _console().print(table)


@registers_cmd.command("show")
@click.argument("register_id")
@pass_context
def registers_show(ctx: Context, register_id: str) -> None:
    """Print a register's fields, rules and deadlines."""
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
            console.print(f"  [{'red' if rule.severity == 'error' else 'yellow'}]{rule.severity}[/] {zh}\n        {en}")
    if reg.deadlines:
        console.print("[bold]时限 / deadlines[/]")
        for d in reg.deadlines:
            zh, en = describe_deadline(reg, d)
            console.print(f"  {d.id}: {zh}\n        {en}")


@main.group("template")
def template_cmd() -> None:
    """Excel templates (模板) built from the definitions."""


@template_cmd.command("build")
@click.option("--register", "register_ids", multiple=True, help="登记表 id（可多次；默认全部）/ register id (repeatable).")
@click.option("--store-code", default=None, help="门店编号，写入模板 / store code written into the template.")
@click.option("--store-name", default=None, help="门店名称 / store name.")
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@pass_context
def template_build(ctx: Context, register_ids: tuple[str, ...], store_code: str | None, store_name: str | None,
                   out_dir: Path) -> None:
    """Write one .xlsx template per register into OUTPUT."""
    from .template import build_templates

    registers = [ctx.register(r) for r in register_ids] if register_ids else list(ctx.registers.values())
    for path in build_templates(registers, out_dir, store_code, store_name):
        click.echo(str(path))


@main.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="只输出一个 JSON 对象 / print exactly one JSON object.")
@click.option("--annotate", is_flag=True, help="在原文件旁写出标注副本 <name>_校验结果.xlsx / write annotated copies.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
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

    result = check_paths(list(paths), ctx.registers, reference_year)
    console = _console(stderr=as_json)
    annotated = []
    if annotate:
        from .annotate import annotate_workbook

        for w in result.readable:
            try:
                annotated.append(annotate_workbook(w, result.findings_of(w)))
            except Exception as e:  # one file that cannot be annotated must not stop the others
                console.print(f"[red]无法写出标注副本 / cannot write the annotated copy of {w.path}: {e}[/]")
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


@main.command("demo")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--month", default="2026-10", show_default=True, help="样例数据的月份 / month of the sample data (YYYY-MM).")
@click.option("--seed", default=7, show_default=True, help="随机种子，同一种子生成相同数据 / same seed, same data.")
@click.option("--rows", default=200, show_default=True, help="每个登记表每店的大约行数 / about this many rows per register and store.")
@pass_context
def demo_cmd(ctx: Context, out_dir: Path, month: str, seed: int, rows: int) -> None:
    """Write a month of sample store workbooks, with the usual mistakes, into OUT_DIR."""
    from .demo import write_demo

    for path in write_demo(out_dir, ctx.registers, month=month, seed=seed, rows=rows):
        click.echo(str(path))


if __name__ == "__main__":  # pragma: no cover
    main()
