"""Writing outputs safely: a crash never leaves half a file, and sources are never written over."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(target: Path | str) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; it replaces ``target`` only if the block succeeds."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=target.suffix + ".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes it 0600: colleagues on a shared drive could not open it
        os.replace(tmp_path, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()


FILE_PART_BYTES = 80  # a part of a name; the whole name stays far below the 255 bytes file systems allow
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_part(text: str, limit: int = FILE_PART_BYTES) -> str:
    """Text made safe as part of a file name on Windows, macOS and Linux (store names, people, addresses):
    no control characters or ``<>:"/\\|?*``, no leading dot, no trailing dot or space, not a name Windows
    reserves, and at most ``limit`` bytes in UTF-8 (a 200-character store name would exceed what a file
    system allows)."""
    clean = "".join(ch for ch in str(text) if ch not in '\\/:*?"<>|' and ord(ch) >= 32 and ord(ch) != 127)
    clean = clean.encode("utf-8", "replace")[:limit].decode("utf-8", "ignore")
    clean = clean.strip().lstrip(".").rstrip(". ")
    if clean.split(".")[0].upper() in _WINDOWS_RESERVED:
        clean = f"_{clean}"
    return clean or "-"


def unique_name(name: str, used: set[str]) -> str:
    """``name``, or ``name`` with (2), (3)… before its suffix when a name that differs only in case is taken:
    two stores whose names are cut to the same text must not write over each other's file."""
    stem, dot, suffix = name.rpartition(".") if "." in name else (name, "", "")
    candidate, n = name, 1
    while candidate.casefold() in used:
        n += 1
        candidate = f"{stem}({n}){dot}{suffix}"
    used.add(candidate.casefold())
    return candidate


STAGING_PREFIX = ".taizhang-"


@contextlib.contextmanager
def staged_folder(target: Path | str) -> Iterator[Path]:
    """A hidden folder inside ``target`` to write a set of files into; when the block succeeds, each file is
    moved into ``target`` (a rename, as atomic as the file system makes it), so that a full disk or a crash
    half way never leaves half a set of lists or exports under their final names. The folder is removed
    either way; one left by a killed run is removed by the next (:func:`remove_stale`)."""
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    remove_stale(target)
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, suffix=".fill", dir=target))
    try:
        yield staging
        for path in sorted(staging.iterdir()):
            os.replace(path, target / path.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def remove_stale(folder: Path, older_than: float = 3600) -> None:
    """Temporary files and staging folders a killed run left in ``folder`` (older than an hour, so that a
    run going on at the same time keeps its own)."""
    now = time.time()
    try:
        entries = list(folder.iterdir())
    except OSError:
        return
    for path in entries:
        stale = path.name.startswith(STAGING_PREFIX) and path.name.endswith(".fill") or (
            path.name.startswith(".") and path.name.endswith(".tmp"))
        try:
            if stale and now - path.lstat().st_mtime > older_than:
                shutil.rmtree(path) if path.is_dir() else path.unlink()
        except OSError:
            continue


def is_temporary_name(name: str) -> bool:
    """Excel's ``~$`` lock files, LibreOffice's ``.~lock`` files and our own unfinished temporaries."""
    return name.startswith(("~$", ".~lock", ".~")) or name.endswith(".tmp") or (
        name.startswith(".") and ".tmp" in name
    )


class OutputError(OSError):
    """An output that cannot be written: said in one bilingual line, never as a traceback."""

    def __init__(self, path: Path | str, zh: str, en: str) -> None:
        self.path, self.zh, self.en = Path(path), zh, en
        super().__init__(f"无法写入 {path}：{zh} / cannot write {path}: {en}")


MIN_FREE_BYTES = 50_000_000


def output_error(error: OSError, path: Path | str) -> OutputError:
    """An operating system error met while writing ``path``, in the words a person needs."""
    import errno

    if isinstance(error, OutputError):
        return error
    reasons = {errno.ENOSPC: ("磁盘已满", "the disk is full"), errno.EDQUOT: ("磁盘配额已满", "the disk quota is full"),
               errno.EROFS: ("磁盘为只读", "the disk is read-only"),
               errno.EACCES: ("没有写入权限，或文件被占用（如已在 Excel 中打开）", "permission denied, or the file is in use "
                              "(open in Excel?)"),
               errno.EPERM: ("文件被占用或被锁定（如已在 Excel 中打开）", "the file is in use or locked (open in Excel?)"),
               errno.EBUSY: ("文件被占用（如已在 Excel 中打开）", "the file is in use (open in Excel?)"),
               errno.ENAMETOOLONG: ("文件名过长", "the file name is too long")}
    zh, en = reasons.get(error.errno or 0, (error.strerror or type(error).__name__, error.strerror or type(error).__name__))
    return OutputError(getattr(error, "filename", None) or path, zh, en)


def check_writable(target: Path | str, folder: bool = False) -> None:
    """Raise OutputError unless ``target`` (a file, or with ``folder`` a folder) can be written: its folder
    made and written, enough free space, an existing file not read-only or locked. Checked before a long
    read, so that an hour of reading does not end in "cannot write"."""
    target = Path(target)
    where = target if folder else target.parent
    try:
        where.mkdir(parents=True, exist_ok=True)
        remove_stale(where)
        fd, probe = tempfile.mkstemp(prefix=".taizhang-probe.", suffix=".tmp", dir=where)
        os.close(fd)
        os.unlink(probe)
        if shutil.disk_usage(where).free < MIN_FREE_BYTES:
            raise OutputError(where, "磁盘已满（剩余空间不足 50 MB）", "the disk is full (less than 50 MB free)")
        if not folder and target.exists():
            with target.open("r+b"):
                pass
    except OSError as e:
        raise output_error(e, target) from None
