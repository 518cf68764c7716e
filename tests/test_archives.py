"""Registers that arrive in a .zip, as WeChat and mail carry a store's month: read like a folder of that name."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import COMPLAINT_HEADER, complaint, write_workbook
from tests.torture import ROOT, consolidate
from toolkit.consolidate import consolidate as consolidate_folder


def _complaints(path: Path, *numbers: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_workbook(path, {"投诉": [COMPLAINT_HEADER, *(complaint(no) for no in numbers)]})


def _windows_zip(path: Path, members: dict[str, bytes]) -> Path:
    """A zip as Windows' own zip tool and older WinRAR write it: names in GBK, without the UTF-8 flag."""
    stand_ins = {}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for i, (name, data) in enumerate(members.items()):
            raw = name.encode("gbk")
            stand_in = f"{i:0{len(raw)}d}"[-len(raw):].encode()
            stand_ins[stand_in] = raw
            archive.writestr(stand_in.decode(), data)
    content = path.read_bytes()
    for stand_in, raw in stand_ins.items():
        content = content.replace(stand_in, raw)
    path.write_bytes(content)
    return path


def _encrypted_flag(path: Path, member: str) -> None:
    """Mark one member password-protected, as a zip tool with a password would (the general-purpose bit 0)."""
    content = bytearray(path.read_bytes())
    name = member.encode()
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (at := content.find(signature, start)) >= 0:
            name_at = at + (30 if signature == b"PK\x03\x04" else 46)
            if content[name_at:name_at + len(name)] == name:
                content[at + flag_at] |= 0x1
            start = at + 4
    path.write_bytes(bytes(content))


def test_a_store_that_sends_its_month_in_a_windows_zip_is_read_and_filed_under_its_folder(tmp_path, registers):
    """顺义店 zips its registers on Windows (GBK names, a sub-folder inside): the workbooks in it are read, filed
    under the store's folder, shown with their names as the store typed them; the zip is left as it was."""
    inbox = tmp_path / "in"
    _complaints(inbox / "001_朝阳店" / "投诉.xlsx", "2611001", "2611002")
    book = _complaints(tmp_path / "work" / "投诉.xlsx", "2611001", "2611002", "2611003").read_bytes()
    (inbox / "012_顺义店").mkdir()
    archive = _windows_zip(inbox / "012_顺义店" / "十月台账.zip", {"十月/投诉登记.xlsx": book})
    before = hashlib.sha256(archive.read_bytes()).hexdigest()
    result = consolidate_folder(inbox, registers)
    lines = {f.display: f for f in result.files}
    member = lines["012_顺义店/十月台账.zip/十月/投诉登记.xlsx"]
    assert (member.status, member.store_code, member.store_name, member.rows_accepted) == ("ok", "012", "顺义店", 3)
    assert member.sha256 == hashlib.sha256(book).hexdigest()
    assert sorted(result.records["complaints"].groupby("store_code").size().items()) == [("001", 2), ("012", 3)]
    assert hashlib.sha256(archive.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in archive.parent.iterdir()) == ["十月台账.zip"]  # nothing unpacked beside it


def test_what_a_zip_holds_that_cannot_be_read_is_listed_with_the_reason_and_the_rest_is_read(tmp_path):
    """A password on one file, a zip inside the zip, macOS's __MACOSX folder, a photo, a damaged zip and an
    empty one: each is a line of the manifest saying why; the good workbook beside them is read."""
    inbox = tmp_path / "in"
    store = inbox / "012_顺义店"
    store.mkdir(parents=True)
    book = _complaints(tmp_path / "work" / "投诉.xlsx", "2611001").read_bytes()
    with zipfile.ZipFile(store / "十月.zip", "w") as archive:
        archive.writestr("投诉.xlsx", book)
        archive.writestr("报修.xlsx", book)
        archive.writestr("旧的.zip", b"PK\x05\x06" + b"\0" * 18)
        archive.writestr("__MACOSX/._投诉.xlsx", b"\0\5\26\7")
        archive.writestr("收据.jpg", b"\xff\xd8\xff\xe0")
    _encrypted_flag(store / "十月.zip", "报修.xlsx")
    (store / "坏的.zip").write_bytes(b"PK\x03\x04 this is not a whole zip")
    with zipfile.ZipFile(store / "空的.zip", "w"):
        pass
    run = consolidate(inbox, tmp_path / "out.xlsx")
    assert run.line("012_顺义店/十月.zip/投诉.xlsx")["status"] == "ok"
    assert run.line("012_顺义店/十月.zip/投诉.xlsx")["rows_accepted"] == 1
    expected = {"十月.zip/报修.xlsx": ("unusable", "设有密码"), "十月.zip/旧的.zip": ("unusable", "压缩包中的压缩包"),
                "十月.zip/__MACOSX/._投诉.xlsx": ("ignored", "macOS"), "十月.zip/收据.jpg": ("ignored", "不是Excel工作簿"),
                "坏的.zip": ("unusable", "压缩包已损坏"), "空的.zip": ("unusable", "没有文件")}
    for path, (status, words) in expected.items():
        line = run.line(f"012_顺义店/{path}")
        assert line["status"] == status and words in line["message"], (path, line)
        assert " / " in line["message"]  # said in Chinese and English
    assert run.code == 3  # unusable files make the run incomplete
    assert len(run.manifest["files"]) == 7


def test_the_same_workbook_sent_loose_and_in_a_zip_counts_once(tmp_path, registers):
    inbox = tmp_path / "in"
    loose = _complaints(inbox / "001_朝阳店" / "投诉.xlsx", "2611001", "2611002")
    with zipfile.ZipFile(inbox / "001_朝阳店" / "再发一次.zip", "w") as archive:
        archive.write(loose, "投诉.xlsx")
    result = consolidate_folder(inbox, registers)
    statuses = {f.display: f.status for f in result.files}  # the first in path order counts (再 before 投)
    assert statuses == {"001_朝阳店/再发一次.zip/投诉.xlsx": "ok", "001_朝阳店/投诉.xlsx": "duplicate"}
    assert len(result.records["complaints"]) == 2


def test_a_file_in_a_zip_larger_than_the_limit_when_unpacked_is_refused_before_it_is_read(tmp_path):
    """The size a zip's header gives a member can lie; the read stops at the limit either way."""
    inbox = tmp_path / "in" / "001_朝阳店"
    inbox.mkdir(parents=True)
    with zipfile.ZipFile(inbox / "大.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("投诉.xlsx", b"\0" * 3_000_000)
    (tmp_path / "taizhang.toml").write_text("[limits]\nmax_file_mb = 1\n", encoding="utf-8")
    run = consolidate(inbox.parent, tmp_path / "out.xlsx", "--config", str(tmp_path / "taizhang.toml"))
    line = run.line("001_朝阳店/大.zip/投诉.xlsx")
    assert line["status"] == "unusable" and "文件过大" in line["message"]


def test_a_store_manager_checks_the_zip_the_store_is_about_to_send(tmp_path):
    archive = tmp_path / "十月.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(_complaints(tmp_path / "投诉.xlsx", "2611001", "2611001"), "投诉.xlsx")
    done = subprocess.run([sys.executable, "-m", "toolkit.cli", "validate", str(archive), "--json"], cwd=ROOT,
                          capture_output=True, timeout=300)
    assert done.returncode == 1, done.stderr.decode()[-2000:]
    report = json.loads(done.stdout)
    (workbook,) = report["files"]
    assert workbook["path"].endswith("十月.zip/投诉.xlsx") and workbook["status"] == "ok"
    repeated = [f for f in report["findings"] if f["severity"] == "error"]
    assert [(f["file"], f["row"], f["field"]) for f in repeated] == [(workbook["path"], 3, "complaint_no")]


def test_the_annotated_copy_of_a_workbook_in_a_zip_is_written_beside_the_zip_and_replaces_it_when_sent_back(
        tmp_path, registers):
    from toolkit.annotate import annotate_workbook
    from toolkit.check import check_paths

    store = tmp_path / "in" / "012_顺义店"
    store.mkdir(parents=True)
    book = _complaints(tmp_path / "work" / "投诉.xlsx", "2611001", "2611002").read_bytes()
    info = zipfile.ZipInfo("十月/投诉.xlsx", date_time=(2026, 10, 31, 18, 0, 0))
    with zipfile.ZipFile(store / "台账.zip", "w") as archive:
        archive.writestr(info, book)
    checked = check_paths([store / "台账.zip"], registers)
    (workbook,) = checked.workbooks
    copy = annotate_workbook(workbook, checked.findings_of(workbook))
    assert copy == store / "台账_十月_投诉_校验结果.xlsx" and copy.exists()
    result = consolidate_folder(tmp_path / "in", registers)
    lines = {f.display: f for f in result.files}
    assert lines["012_顺义店/台账.zip/十月/投诉.xlsx"].status == "ignored"
    assert "台账_十月_投诉_校验结果.xlsx" in lines["012_顺义店/台账.zip/十月/投诉.xlsx"].message_zh
    assert lines["012_顺义店/台账_十月_投诉_校验结果.xlsx"].rows_accepted == 2
