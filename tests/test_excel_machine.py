"""Setting a user's machine up for the buttons, and the doctor's checks, for Windows and macOS users.

The machine (platform, environment, home folder, interpreter) is passed in, so each user's situation is
built here: a fresh machine, a conda environment, a workbook with another xlwings' VBA, OneDrive.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from toolkit.excel import machine as m
from toolkit.excel.build import build_workbooks
from toolkit.excel.layout import OFFICE_BOOK


def windows(tmp_path: Path, **env: str) -> m.Machine:
    return m.Machine(platform="win32", env={"APPDATA": str(tmp_path / "AppData"), **env}, home=tmp_path / "home",
                     python=sys.executable)


def by_name(checks: list[m.Check], start: str) -> m.Check:
    return next(c for c in checks if c.name.startswith(start))


def test_on_a_fresh_machine_the_doctor_says_to_run_setup(tmp_path):
    checks = m.doctor(windows(tmp_path), [])
    assert by_name(checks, "xlwings 配置").state == m.FAIL
    assert by_name(checks, "Python 解释器").fix == "taizhang excel setup"


def test_setup_writes_this_interpreter_and_the_package_folder_and_keeps_other_settings(tmp_path):
    machine = windows(tmp_path)
    machine.config_file.parent.mkdir(parents=True)
    machine.config_file.write_text('"INTERPRETER","C:\\\\old\\\\python.exe"\n"LICENSE_KEY","abc"\n', encoding="utf-8")
    path, values = m.setup(machine)
    conf = m.read_conf(path)
    assert conf["INTERPRETER_WIN"] == sys.executable and "INTERPRETER" not in conf
    assert conf["PYTHONPATH"] == str(Path(m.__file__).resolve().parents[2]) and conf["LICENSE_KEY"] == "abc"
    checks = m.doctor(machine, [])
    assert by_name(checks, "Python 解释器").state == m.OK
    assert by_name(checks, "导入 toolkit").state == m.OK  # the interpreter really imports the handlers


def test_a_conda_environment_on_windows_is_started_through_conda(tmp_path):
    conda = windows(tmp_path, CONDA_DEFAULT_ENV="taizhang", CONDA_EXE="C:\\Miniconda3\\Scripts\\conda.exe")
    assert by_name(m.doctor(conda, []), "conda").state == m.FAIL
    _, values = m.setup(conda)
    assert values["CONDA ENV"] == "taizhang" and values["CONDA PATH"] == "C:\\Miniconda3"
    assert "INTERPRETER_WIN" not in values
    assert by_name(m.doctor(conda, []), "conda").state == m.OK


def test_macos_settings_go_to_excels_sandbox_folder(tmp_path):
    mac = m.Machine(platform="darwin", env={}, home=tmp_path, python=sys.executable)
    (tmp_path / "Library/CloudStorage/OneDrive-Personal").mkdir(parents=True)
    path, values = m.setup(mac)
    assert path == tmp_path / "Library/Containers/com.microsoft.Excel/Data/xlwings.conf"
    assert values["INTERPRETER_MAC"] == sys.executable
    assert values["ONEDRIVE_CONSUMER_MAC"] == str(tmp_path / "Library/CloudStorage/OneDrive-Personal")
    assert by_name(m.doctor(mac, []), "macOS AppleScript").fix == "xlwings runpython install"


def test_a_workbook_with_another_xlwings_version_is_caught(tmp_path, registers, monkeypatch):
    monkeypatch.setattr(m, "installed_xlwings", lambda: ("0.37.9", tmp_path))  # the package was upgraded
    office = build_workbooks(tmp_path / "wb", [registers["complaints"]], standalone=True)[1]
    check = by_name(m.doctor(windows(tmp_path), [office]), f"工作簿 {OFFICE_BOOK}")
    assert check.state == m.FAIL and "0.37.8" in check.detail and "--standalone" in check.fix


def test_a_workbook_using_the_add_in_needs_the_add_in_of_the_same_version(tmp_path, registers):
    pytest.importorskip("xlwings")
    machine = windows(tmp_path)
    office = build_workbooks(tmp_path / "wb", [registers["complaints"]])[1]
    assert by_name(m.doctor(machine, [office]), "xlwings 加载项").state == m.FAIL
    _, package = m.installed_xlwings()
    xlstart = tmp_path / "AppData/Microsoft/Excel/XLSTART"
    xlstart.mkdir(parents=True)
    (xlstart / "xlwings.xlam").write_bytes(b"an older add-in")
    assert "不是同一版本" in by_name(m.doctor(machine, [office]), "xlwings 加载项").detail
    (xlstart / "xlwings.xlam").write_bytes((package / "addin/xlwings.xlam").read_bytes())
    assert by_name(m.doctor(machine, [office]), "xlwings 加载项").state == m.OK


def test_a_workbook_in_onedrive_needs_the_local_folder_setting(tmp_path, registers):
    synced = tmp_path / "OneDrive - 公司"
    office = build_workbooks(synced, [registers["complaints"]])[1]
    machine = windows(tmp_path, OneDriveCommercial=str(synced))
    assert by_name(m.doctor(machine, [office]), "OneDrive").state == m.FAIL
    _, values = m.setup(machine)
    assert values["ONEDRIVE_COMMERCIAL_WIN"] == str(synced)
    assert by_name(m.doctor(machine, [office]), "OneDrive").state == m.OK
