"""Finding the input files of a run, so that every file and folder under the input is accounted for.

``Path.rglob`` skips a folder it may not read and says nothing, so a store whose folder lost its
permissions would vanish from the summary. The walk here lists every such folder (and every file that
is not a regular file) with the reason, and gives every path a name that can be shown, written into a
workbook and printed: a folder name in GBK from a Windows zip is not valid UTF-8, and its raw bytes
would crash every later step that encodes the name.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from .archives import is_archive, list_members

# staff see these reasons next to the folder or file, in Chinese and English
_REASONS = {
    errno.EACCES: ("无法读取：权限不足", "cannot be read: permission denied"),
    errno.EPERM: ("无法读取：权限不足", "cannot be read: permission denied"),
    errno.ENOENT: ("无法读取：文件在读取时已被移走或删除", "cannot be read: it was moved or deleted during the run"),
    errno.ELOOP: ("无法读取：链接循环", "cannot be read: a loop of links"),
    errno.ENAMETOOLONG: ("无法读取：路径过长", "cannot be read: the path is too long"),
    errno.EIO: ("无法读取：磁盘读写错误", "cannot be read: an input/output error of the disk"),
}


EMPTY_FOLDER = ("文件夹是空的：没有收到任何文件", "the folder is empty: nothing was received")


def os_error_reason(error: OSError) -> tuple[str, str]:
    """An operating system error as a reason a person can act on, in Chinese and English."""
    known = _REASONS.get(error.errno or 0)
    if known:
        return known
    detail = error.strerror or type(error).__name__
    return f"无法读取：{detail}", f"cannot be read: {detail}"


def shown(text: str) -> str:
    """A path or name as it can be shown and stored: bytes that are not UTF-8 become U+FFFD."""
    return os.fsencode(text).decode("utf-8", "replace") if _undecodable(text) else text


def _undecodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


@dataclass
class InputPath:
    """A file to read, or a folder or file that could not be read (``problem`` says why)."""

    path: Path
    display: str  # relative to the input folder, always valid UTF-8
    kind: str = "file"  # file | folder
    problem: tuple[str, str] | None = None  # (zh, en) when the entry cannot be read at all
    status: str = "unusable"  # the status of a problem entry: unusable, or ignored for what is not a workbook


def relative(path: Path, root: Path) -> str:
    """The path as shown to people: relative to the input folder, '/'-separated, valid UTF-8."""
    base = root if root.is_dir() else root.parent
    try:
        text = path.relative_to(base).as_posix()
    except ValueError:
        text = path.as_posix()
    return shown(text)


def archive_inputs(path: Path, display: str) -> list[InputPath]:
    """The files in a zip as inputs under the zip's path (see :mod:`toolkit.archives`); the zip itself only
    when it cannot be read or holds nothing, with the reason."""
    members, problem = list_members(path)
    if problem is not None:
        return [InputPath(path, display, "file", problem)]
    return [InputPath(member, f"{display}/{member.relative_to(path).as_posix()}", "file", why, status)
            for member, why, status in members]


def walk_inputs(root: Path) -> list[InputPath]:
    """Every file under ``root`` (or ``root`` itself when it is a file), in a stable order, and every
    sub-folder that could not be listed or holds nothing; a zip's files stand for the zip. Links to folders are
    followed once (a loop is listed)."""
    if not root.is_dir():
        display = relative(root, root)
        return archive_inputs(root, display) if is_archive(root) and root.is_file() else [InputPath(root, display)]
    found: list[InputPath] = []
    seen: set[tuple[int, int]] = set()

    def visit(folder: Path) -> None:
        start = len(found)
        walk(folder)
        # a folder with nothing in it (a store that sent nothing) is a line too; only the outermost empty one
        if folder != root and all(e.kind == "folder" and e.problem == EMPTY_FOLDER for e in found[start:]):
            del found[start:]
            found.append(InputPath(folder, relative(folder, root), "folder", EMPTY_FOLDER, "ignored"))

    def walk(folder: Path) -> None:
        try:
            info = folder.stat()
            if (info.st_dev, info.st_ino) in seen:
                found.append(InputPath(folder, relative(folder, root), "folder",
                                       ("已跳过：此文件夹链接指向已读取过的文件夹", "skipped: a link to a folder read already"),
                                       "ignored"))
                return
            seen.add((info.st_dev, info.st_ino))
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda e: os.fsencode(e.name))
        except OSError as e:
            found.append(InputPath(folder, relative(folder, root), "folder", os_error_reason(e)))
            return
        for entry in entries:
            path = folder / entry.name
            try:
                if entry.is_dir(follow_symlinks=True):
                    visit(path)
                    continue
                mode = entry.stat(follow_symlinks=True).st_mode
            except OSError as e:
                found.append(InputPath(path, relative(path, root), "file", os_error_reason(e)))
                continue
            if stat.S_ISREG(mode) and is_archive(path):
                found.extend(archive_inputs(path, relative(path, root)))
            elif stat.S_ISREG(mode):
                found.append(InputPath(path, relative(path, root)))
            else:
                found.append(InputPath(path, relative(path, root), "file",
                                       ("不是普通文件（管道、设备或套接字），已忽略",
                                        "not a regular file (a pipe, device or socket); ignored"), "ignored"))

    visit(root)
    found.sort(key=lambda p: tuple(p.display.split("/")))
    return found
