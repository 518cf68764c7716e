"""Setting up a user's machine for the buttons, and telling what is wrong with it.

The problems xlwings users report most: Excel cannot find the Python interpreter (or finds another one),
conda environments that are not activated, the xlwings VBA in the workbook (or the add-in) from another
xlwings version than the Python package, and workbooks in OneDrive/SharePoint folders whose name Excel
reports as a web address. ``setup`` writes xlwings' user configuration for this interpreter; ``doctor``
checks each of these and says how to fix what fails. Platform, environment and home folder are passed
in, so every branch is tested on any machine.
"""

from __future__ import annotations

import filecmp
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .build import ADDIN, XLWINGS_PROPERTY

OK, WARN, FAIL = "ok", "warning", "fail"


@dataclass(frozen=True)
class Check:
    name: str
    state: str  # ok | warning | fail
    detail: str
    fix: str = ""


@dataclass(frozen=True)
class Machine:
    """What the checks look at: by default this machine, this interpreter."""

    platform: str = sys.platform
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    home: Path = field(default_factory=Path.home)
    python: str = sys.executable

    @property
    def suffix(self) -> str:
        return "MAC" if self.platform == "darwin" else "WIN"

    @property
    def config_file(self) -> Path:
        """Where xlwings reads its user configuration (the sandboxed container folder on macOS)."""
        if self.platform == "darwin":
            return self.home / "Library/Containers/com.microsoft.Excel/Data/xlwings.conf"
        return self.home / ".xlwings" / "xlwings.conf"

    def conda(self) -> tuple[str, str] | None:
        """(conda installation folder, environment name) when this interpreter runs in a conda environment."""
        env, exe = self.env.get("CONDA_DEFAULT_ENV"), self.env.get("CONDA_EXE")
        if env and exe:  # xlwings wants the installation folder, without Scripts\conda.exe (bin/conda)
            sep = "\\" if self.platform.startswith("win") else "/"
            return sep.join(exe.split(sep)[:-2]), env
        if (Path(self.python).parent / "conda-meta").is_dir() or (Path(self.python).parents[1] / "conda-meta").is_dir():
            return "", Path(self.python).parent.name
        return None

    def onedrive(self) -> dict[str, str]:
        """The local folders of OneDrive (personal, business) and SharePoint, as xlwings' settings."""
        found = {}
        if self.platform == "darwin":
            storage = self.home / "Library" / "CloudStorage"
            for folder in sorted(storage.glob("OneDrive-*")) if storage.is_dir() else []:
                key = "ONEDRIVE_CONSUMER_MAC" if folder.name == "OneDrive-Personal" else "ONEDRIVE_COMMERCIAL_MAC"
                found.setdefault(key, str(folder))
        else:
            for key, variable in (("ONEDRIVE_CONSUMER_WIN", "OneDriveConsumer"),
                                  ("ONEDRIVE_COMMERCIAL_WIN", "OneDriveCommercial")):
                if self.env.get(variable):
                    found[key] = self.env[variable]
        return found


def read_conf(path: Path) -> dict[str, str]:
    """xlwings.conf: one ``"KEY","VALUE"`` per line."""
    if not path.is_file():
        return {}
    out = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        m = re.fullmatch(r'\s*"([^"]+)"\s*,\s*"(.*)"\s*', line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


def write_conf(path: Path, values: Mapping[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(f'"{k}","{v}"\n' for k, v in values.items()), encoding="utf-8")
    os.replace(tmp, path)


def package_root() -> Path:
    """The folder that holds the ``toolkit`` package: what the interpreter Excel starts must find."""
    return Path(__file__).resolve().parents[2]


def settings_for(machine: Machine) -> dict[str, str]:
    """The xlwings settings this interpreter needs (conda on Windows is started through conda itself)."""
    values: dict[str, str] = {}
    conda = machine.conda()
    if conda and conda[0] and machine.platform.startswith("win"):
        values["CONDA PATH"], values["CONDA ENV"] = conda
    else:
        values[f"INTERPRETER_{machine.suffix}"] = machine.python
    values["PYTHONPATH"] = str(package_root())
    values |= machine.onedrive()
    return values


def setup(machine: Machine) -> tuple[Path, dict[str, str]]:
    """Write this interpreter's settings into xlwings' user configuration, keeping the other keys there."""
    path = machine.config_file
    values = read_conf(path)
    stale = [k for k in ("INTERPRETER", "INTERPRETER_WIN", "INTERPRETER_MAC", "CONDA PATH", "CONDA ENV")
             if k in values]
    for key in stale:
        del values[key]
    values |= settings_for(machine)
    write_conf(path, values)
    return path, values


def workbook_xlwings(path: Path) -> str | None:
    """The xlwings the workbook's buttons use, from its custom document property: "add-in" or a version."""
    try:
        with zipfile.ZipFile(path) as z:
            xml = z.read("docProps/custom.xml").decode("utf-8")
    except (OSError, KeyError, zipfile.BadZipFile):
        return None
    m = re.search(rf'name="{XLWINGS_PROPERTY}"[^>]*>\s*<vt:lpwstr>([^<]*)</vt:lpwstr>', xml)
    return m.group(1) if m else None


def installed_xlwings() -> tuple[str, Path] | None:
    try:
        import xlwings
    except ImportError:
        return None
    return xlwings.__version__, Path(xlwings.__file__).parent


def addin_folders(machine: Machine) -> list[Path]:
    """Excel's XLSTART folders where ``xlwings addin install`` puts the add-in."""
    if machine.platform == "darwin":
        return [machine.home / "Library/Group Containers/UBF8T346G9.Office/User Content.localized/Startup.localized/Excel"]
    appdata = machine.env.get("APPDATA")
    return [Path(appdata) / "Microsoft" / "Excel" / "XLSTART"] if appdata else []


def _interpreter_check(machine: Machine, conf: dict[str, str]) -> Check:
    key = f"INTERPRETER_{machine.suffix}"
    if "CONDA ENV" in conf:
        return Check("Python 解释器 / interpreter", OK, f"conda 环境 {conf['CONDA ENV']}（{conf.get('CONDA PATH', '')}）")
    chosen = conf.get(key) or conf.get("INTERPRETER")
    if not chosen:
        return Check("Python 解释器 / interpreter", FAIL, "xlwings 配置中没有解释器，Excel 会找 PATH 上的 python "
                     "/ no interpreter set: Excel would run whatever 'python' is on PATH",
                     "taizhang excel setup")
    if not Path(chosen).is_file():
        return Check("Python 解释器 / interpreter", FAIL, f"{chosen} 不存在 / does not exist", "taizhang excel setup")
    if Path(chosen).resolve() != Path(machine.python).resolve():
        return Check("Python 解释器 / interpreter", WARN, f"Excel 将使用 {chosen}，不是本解释器 {machine.python} "
                     "/ Excel runs another interpreter than this one",
                     "在要使用的环境中运行 taizhang excel setup / run setup from the environment to use")
    return Check("Python 解释器 / interpreter", OK, chosen)


def _import_check(machine: Machine, conf: dict[str, str]) -> Check:
    """Does the configured interpreter import the handlers, with the configured PYTHONPATH?"""
    python = conf.get(f"INTERPRETER_{machine.suffix}") or machine.python
    if not Path(python).is_file():
        return Check("导入 toolkit / import", FAIL, f"{python} 不存在 / does not exist", "taizhang excel setup")
    env = dict(machine.env)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (conf.get("PYTHONPATH", ""), env.get("PYTHONPATH", "")) if p)
    done = subprocess.run([python, "-c", "import xlwings, toolkit.excel.buttons"], capture_output=True, text=True,
                          env=env, timeout=120)
    if done.returncode:
        last = (done.stderr.strip().splitlines() or ["?"])[-1]
        return Check("导入 toolkit / import", FAIL, f"{python}: {last}",
                     f'{python} -m pip install -e "{package_root()}[excel]"，再运行 taizhang excel setup')
    return Check("导入 toolkit / import", OK, f"{python} 能导入 xlwings 与 toolkit.excel.buttons")


def _conda_check(machine: Machine, conf: dict[str, str]) -> Check | None:
    conda = machine.conda()
    if conda is None or not machine.platform.startswith("win"):
        return None
    if "CONDA ENV" not in conf:
        return Check("conda 环境 / conda", FAIL, f"本解释器在 conda 环境 {conda[1]} 中，但 xlwings 配置没有 CONDA PATH/CONDA ENV："
                     "Excel 直接启动它时 DLL 找不到 / conda environments must be started through conda",
                     "在 Anaconda Prompt 中 conda activate 该环境后运行 taizhang excel setup")
    return Check("conda 环境 / conda", OK, f"{conf['CONDA ENV']}")


def _version_checks(machine: Machine, workbooks: list[Path]) -> list[Check]:
    installed = installed_xlwings()
    if installed is None:
        return [Check("xlwings", FAIL, "未安装 / not installed", f'{machine.python} -m pip install "xlwings>=0.37,<0.38"')]
    version, package = installed
    checks = [Check("xlwings", OK, f"Python 包 {version} / package {version}")]
    uses_addin = False
    for book in workbooks:
        embedded = workbook_xlwings(book)
        if embedded is None:
            checks.append(Check(f"工作簿 {book.name}", WARN, "不是 taizhang excel build 生成的工作簿 / not built by taizhang",
                                "taizhang excel build"))
        elif embedded == ADDIN:
            uses_addin = True
            checks.append(Check(f"工作簿 {book.name}", OK, "使用 xlwings 加载项 / uses the xlwings add-in"))
        elif embedded != version:
            checks.append(Check(f"工作簿 {book.name}", FAIL, f"内含 xlwings {embedded} 的 VBA，已安装的是 {version} "
                                f"/ its VBA is xlwings {embedded}, the package is {version}",
                                f"taizhang excel build --standalone -o \"{book.parent}\""))
        else:
            checks.append(Check(f"工作簿 {book.name}", OK, f"内含 xlwings {version} 的 VBA / standalone, same version"))
    if uses_addin:
        checks.append(_addin_check(machine, package, version))
    return checks


def _addin_check(machine: Machine, package: Path, version: str) -> Check:
    shipped = package / "addin" / "xlwings.xlam"
    installed = [folder / "xlwings.xlam" for folder in addin_folders(machine) if (folder / "xlwings.xlam").is_file()]
    if not installed:
        return Check("xlwings 加载项 / add-in", FAIL, "未安装 / not installed", "xlwings addin install（然后重启 Excel）")
    if shipped.is_file() and not filecmp.cmp(installed[0], shipped, shallow=False):
        return Check("xlwings 加载项 / add-in", FAIL, f"{installed[0]} 与已安装的 xlwings {version} 不是同一版本 "
                     f"/ the add-in is not the one of xlwings {version}", "xlwings addin install（然后重启 Excel）")
    return Check("xlwings 加载项 / add-in", OK, f"{installed[0]}（xlwings {version}）")


def _cloud_checks(machine: Machine, conf: dict[str, str], workbooks: list[Path]) -> list[Check]:
    checks = []
    for book in workbooks:
        text = str(book.resolve())
        if "OneDrive" in text or "SharePoint" in text:
            wanted = [k for k in machine.onedrive() if k not in conf]
            if wanted or not any(k.startswith(("ONEDRIVE", "SHAREPOINT")) for k in conf):
                checks.append(Check(f"OneDrive {book.name}", FAIL,
                                    "工作簿在 OneDrive/SharePoint 同步文件夹中，Excel 报告的是网址；xlwings 需要本地文件夹设置 "
                                    "/ in a synced folder Excel reports a web address; xlwings needs the local folder",
                                    "taizhang excel setup（写入 ONEDRIVE_*/SHAREPOINT_* 设置），或把工作簿放到本地文件夹"))
            else:
                checks.append(Check(f"OneDrive {book.name}", OK, "已设置本地同步文件夹 / local folder set"))
    return checks


def _mac_check(machine: Machine) -> Check | None:
    if machine.platform != "darwin":
        return None
    installed = installed_xlwings()
    version = installed[0] if installed else "?"
    script = machine.home / "Library/Application Scripts/com.microsoft.Excel" / f"xlwings-{version}.applescript"
    if not script.is_file():
        return Check("macOS AppleScript", FAIL, f"{script} 不存在：Excel 无法启动 Python / Excel cannot start Python",
                     "xlwings runpython install")
    return Check("macOS AppleScript", OK, str(script))


def doctor(machine: Machine, workbooks: list[Path]) -> list[Check]:
    """Every check, in the order a user would fix them."""
    conf = read_conf(machine.config_file)
    checks = [Check("xlwings 配置 / configuration", OK if conf else FAIL,
                    str(machine.config_file) if conf else f"{machine.config_file} 不存在 / does not exist",
                    "" if conf else "taizhang excel setup")]
    checks += [_interpreter_check(machine, conf)]
    checks += [c for c in (_conda_check(machine, conf), _mac_check(machine)) if c is not None]
    checks += _version_checks(machine, workbooks)
    checks += [_import_check(machine, conf)]
    checks += _cloud_checks(machine, conf, workbooks)
    if not (machine.platform.startswith("win") or machine.platform == "darwin"):
        checks.append(Check("Excel", WARN, f"{machine.platform} 上没有 Excel：按钮只能在 Windows/macOS 的 Excel 中使用 "
                            "/ no Excel on this system: the buttons work in Excel on Windows or macOS"))
    return checks
