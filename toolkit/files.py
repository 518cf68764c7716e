"""Writing outputs safely: a crash never leaves half a file, and sources are never written over."""

from __future__ import annotations

import contextlib
import os
import tempfile
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
        os.replace(tmp_path, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()


def file_part(text: str) -> str:
    """Text made safe as part of a file name on Windows and macOS (store names, people, addresses)."""
    return "".join(ch for ch in text if ch not in '\\/:*?"<>|').strip() or "-"


def is_temporary_name(name: str) -> bool:
    """Excel's ``~$`` lock files, LibreOffice's ``.~lock`` files and our own unfinished temporaries."""
    return name.startswith(("~$", ".~lock", ".~")) or name.endswith(".tmp") or (
        name.startswith(".") and ".tmp" in name
    )
