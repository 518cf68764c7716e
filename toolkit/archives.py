"""Registers sent in a .zip: its files are read as the files of a folder of that name.

Stores send a month's registers the way WeChat and mail carry them: several workbooks in one zip. Left
unread, the zip would take a whole store out of the summary. Its members get paths under the zip's own
path (``012_顺义店/十月.zip/投诉.xlsx``), so the store folder, the manifest and the configuration's paths see
them like files in a folder; their bytes are read from the zip when the run reads them, and nothing is
unpacked to disk. A member path is one whose ancestor is a file: that is how :func:`read_member` knows it.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path, PurePosixPath

ARCHIVE_SUFFIXES = (".zip",)
_UTF8_FLAG = 0x800  # the zip header bit that says a member's name is UTF-8; without it Windows wrote GBK
_ENCRYPTED_FLAG = 0x1

DAMAGED = ("压缩包已损坏或不是有效的 zip 文件，请重新压缩或直接发送工作簿",
           "the archive is damaged or not a valid zip; zip it again or send the workbooks themselves")
EMPTY = ("压缩包中没有文件", "the archive holds no files")
ENCRYPTED_MEMBER = ("压缩包中的此文件设有密码，无法读取，请不加密重新压缩",
                    "this file in the archive is password-protected; zip it again without a password")
NESTED = ("压缩包中的压缩包，未读取：请解压外层压缩包后提交",
          "an archive inside an archive, not read: unpack the outer one and send what it holds")
MAC_METADATA = ("macOS 压缩时附带的元数据，不是工作簿，已忽略", "metadata macOS adds to a zip, not a workbook; ignored")


def is_archive(path: Path) -> bool:
    return path.suffix.lower() in ARCHIVE_SUFFIXES


def member_name(info: zipfile.ZipInfo) -> str:
    """A member's name as the sender saw it: names a Windows zip tool wrote in GBK (no UTF-8 flag) are decoded
    as GBK; Python's zipfile read them as cp437."""
    if info.flag_bits & _UTF8_FLAG:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("gb18030")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def _parts(name: str) -> tuple[str, ...]:
    """The member's path inside the zip, without the parts that could lead out of it ('..', '/', drives)."""
    return tuple(p for p in PurePosixPath(name.replace("\\", "/")).parts if p not in ("", ".", "..", "/")
                 and not p.endswith(":"))


def list_members(path: Path) -> tuple[list[tuple[Path, tuple[str, str] | None, str]], tuple[str, str] | None]:
    """The files in the zip at ``path``: (member path, why it cannot be read or None, status when it cannot),
    in the zip's order; or why the zip itself cannot be read."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        return [], DAMAGED
    found: list[tuple[Path, tuple[str, str] | None, str]] = []
    for info in infos:
        parts = _parts(member_name(info))
        if info.is_dir() or not parts:
            continue
        member = path.joinpath(*parts)
        if parts[0] == "__MACOSX" or parts[-1].startswith("._"):
            found.append((member, MAC_METADATA, "ignored"))
        elif is_archive(member):
            found.append((member, NESTED, "unusable"))
        elif info.flag_bits & _ENCRYPTED_FLAG:
            found.append((member, ENCRYPTED_MEMBER, "unusable"))
        else:
            found.append((member, None, "ok"))
    if not found:
        return [], EMPTY
    return found, None


def member_of(path: Path) -> tuple[Path, tuple[str, ...]] | None:
    """The zip file a member path lies in and the member's parts, or None when no ancestor is a file."""
    for ancestor in path.parents:
        if ancestor.is_file():
            return ancestor, path.relative_to(ancestor).parts
    return None


def _find(archive: zipfile.ZipFile, parts: tuple[str, ...]) -> zipfile.ZipInfo | None:
    for info in archive.infolist():
        if not info.is_dir() and _parts(member_name(info)) == parts:
            return info
    return None


def read_member(path: Path, max_bytes: int) -> bytes | tuple[str, str] | None:
    """The bytes of the zip member at ``path`` (at most ``max_bytes``), or why they cannot be read; None when
    ``path`` lies in no file (not a member path at all)."""
    split = member_of(path)
    if split is None:
        return None
    zip_path, parts = split
    try:
        with zipfile.ZipFile(zip_path) as archive:
            info = _find(archive, parts)
            if info is None:
                return ("无法读取：压缩包中已没有此文件（读取时压缩包被替换）",
                        "cannot be read: the archive no longer holds this file (replaced during the run)")
            if info.flag_bits & _ENCRYPTED_FLAG:
                return ENCRYPTED_MEMBER
            if info.file_size > max_bytes:
                return (f"文件过大（解压后 {info.file_size / 1e6:,.0f} MB，上限 {max_bytes / 1e6:,.0f} MB），未读取",
                        f"the file is too large ({info.file_size / 1e6:,.0f} MB unpacked, limit "
                        f"{max_bytes / 1e6:,.0f} MB); not read")
            with archive.open(info) as member:
                data = member.read(max_bytes + 1)  # the size in the header may lie (a zip bomb)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, NotImplementedError):
        return DAMAGED
    if len(data) > max_bytes:
        return (f"文件过大（解压后超过上限 {max_bytes / 1e6:,.0f} MB），未读取",
                f"the file is too large (over the {max_bytes / 1e6:,.0f} MB limit unpacked); not read")
    return data


def member_modified(path: Path) -> float:
    """When the member was last saved, as the zip records it (local time, to two seconds); 0 when unknown."""
    split = member_of(path)
    if split is None:
        return 0.0
    try:
        with zipfile.ZipFile(split[0]) as archive:
            info = _find(archive, split[1])
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return 0.0
    if info is None:
        return 0.0
    try:
        return dt.datetime(*info.date_time).timestamp()
    except (ValueError, OverflowError):
        return 0.0
