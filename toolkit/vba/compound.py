"""A writer for the Compound File Binary format ([MS-CFB], version 3): the container of vbaProject.bin.

Only what a VBA project needs: storages and streams written once, 512-byte sectors, streams under 4,096
bytes in the mini stream, at most 109 FAT sectors (about 7 MB). Directory siblings form a red-black tree
as the format requires: a balanced tree whose deepest, incomplete level is red.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

SECTOR = 512
MINI_SECTOR = 64
MINI_CUTOFF = 4096
_FREE, _END, _FATSECT, _NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")
_STORAGE, _STREAM, _ROOT = 1, 2, 5
_RED, _BLACK = 0, 1


@dataclass
class _Entry:
    name: str
    kind: int
    data: bytes = b""
    children: dict[str, _Entry] = field(default_factory=dict)
    index: int = 0
    left: int = _NOSTREAM
    right: int = _NOSTREAM
    child: int = _NOSTREAM
    color: int = _BLACK
    start: int = _END


def _order(name: str) -> tuple[int, str]:
    """Siblings are ordered by name length, then by the upper-case name ([MS-CFB] 2.6.4)."""
    return len(name), name.upper()


def compound_file(streams: dict[str, bytes]) -> bytes:
    """A compound file holding ``streams``, keyed by path ("VBA/dir"): storages are made for the folders."""
    root = _Entry("Root Entry", _ROOT)
    for path, data in streams.items():
        *folders, name = path.split("/")
        node = root
        for folder in folders:
            node = node.children.setdefault(folder, _Entry(folder, _STORAGE))
        if len(name) > 31 or name in node.children:
            raise ValueError(f"stream name too long or repeated: {path}")
        node.children[name] = _Entry(name, _STREAM, data)
    entries = _number(root)

    small = [e for e in entries if e.kind == _STREAM and len(e.data) < MINI_CUTOFF]
    large = [e for e in entries if e.kind == _STREAM and len(e.data) >= MINI_CUTOFF]
    mini_stream, mini_fat = bytearray(), []
    for e in small:
        e.start = len(mini_stream) // MINI_SECTOR if e.data else _END
        count = -(-len(e.data) // MINI_SECTOR)
        mini_fat += [len(mini_fat) + i + 1 for i in range(count - 1)] + ([_END] if count else [])
        mini_stream += e.data.ljust(count * MINI_SECTOR, b"\x00")

    sectors: list[bytes] = []
    fat: list[int] = []

    def place(data: bytes, marker: int | None = None) -> int:
        count = max(1, -(-len(data) // SECTOR))
        first = len(sectors)
        for i in range(count):
            sectors.append(data[i * SECTOR:(i + 1) * SECTOR].ljust(SECTOR, b"\x00"))
            fat.append(marker if marker is not None else (first + i + 1 if i < count - 1 else _END))
        return first

    for e in large:
        e.start = place(e.data)
    root.start = place(bytes(mini_stream)) if mini_stream else _END
    mini_fat_start, mini_fat_count = _END, 0
    if mini_fat:  # unused mini FAT slots are free (0xFFFFFFFF)
        table = struct.pack(f"<{len(mini_fat)}I", *mini_fat)
        mini_fat_count = -(-len(table) // SECTOR)
        mini_fat_start = place(table.ljust(mini_fat_count * SECTOR, b"\xff"))
    unused = -len(entries) % (SECTOR // 128)  # a directory sector holds four entries
    directory_start = place(b"".join(_directory_entry(e, len(mini_stream)) for e in entries) + _EMPTY_ENTRY * unused)
    fat_count = 1
    while fat_count * (SECTOR // 4) < len(sectors) + fat_count:
        fat_count += 1
    if fat_count > 109:
        raise ValueError("compound file too large for a header-only FAT index (over ~7 MB)")
    fat_start = len(sectors)
    fat += [_FATSECT] * fat_count
    fat += [_FREE] * (fat_count * (SECTOR // 4) - len(fat))
    fat_bytes = struct.pack(f"<{len(fat)}I", *fat)
    sectors += [fat_bytes[i * SECTOR:(i + 1) * SECTOR] for i in range(fat_count)]

    difat = [fat_start + i for i in range(fat_count)] + [_FREE] * (109 - fat_count)
    header = struct.pack("<8s16sHHHHH6sIIIIIIIII", _SIGNATURE, b"\x00" * 16, 0x3E, 3, 0xFFFE, 9, 6, b"\x00" * 6,
                         0, fat_count, directory_start, 0, MINI_CUTOFF, mini_fat_start, mini_fat_count, _END, 0)
    header += struct.pack("<109I", *difat)
    return header + b"".join(sectors)


def _number(root: _Entry) -> list[_Entry]:
    """Every entry in directory order (root first), with its siblings' tree and its first child set."""
    entries = [root]

    def visit(node: _Entry) -> None:
        children = sorted(node.children.values(), key=lambda e: _order(e.name))
        for child in children:
            child.index = len(entries)
            entries.append(child)
        if children:
            node.child = _tree(children, 0, len(children), 0, _depth(len(children)))
        for child in children:
            visit(child)

    visit(root)
    return entries


def _depth(count: int) -> int:
    """The number of levels of a complete binary tree that ``count`` nodes fill completely."""
    return (count + 1).bit_length() - 1


def _tree(siblings: list[_Entry], lo: int, hi: int, level: int, full_levels: int) -> int:
    """A balanced tree over siblings[lo:hi] (middle as root); nodes below the full levels are red."""
    if lo >= hi:
        return _NOSTREAM
    mid = (lo + hi) // 2
    node = siblings[mid]
    node.color = _RED if level >= full_levels else _BLACK
    node.left = _tree(siblings, lo, mid, level + 1, full_levels)
    node.right = _tree(siblings, mid + 1, hi, level + 1, full_levels)
    return node.index


def _directory_entry(e: _Entry, mini_stream_size: int) -> bytes:
    name = (e.name + "\x00").encode("utf-16-le")
    size = mini_stream_size if e.kind == _ROOT else len(e.data)
    return struct.pack("<64sHBBIII16sIQQIQ", name, len(name), e.kind, e.color, e.left, e.right, e.child,
                       b"\x00" * 16, 0, 0, 0, e.start if (e.kind != _STORAGE) else 0, size)


_EMPTY_ENTRY = struct.pack("<64sHBBIII16sIQQIQ", b"", 0, 0, _RED, _NOSTREAM, _NOSTREAM, _NOSTREAM,
                           b"\x00" * 16, 0, 0, 0, 0, 0)
