"""The streams of a VBA project ([MS-OVBA] 2.2–2.3), from module source text, in a vbaProject.bin.

The project carries no compiled code (``_VBA_PROJECT`` version 0xFFFF, no performance cache): Office
compiles the modules from their source when the workbook is opened. Document modules (ThisWorkbook,
Sheet1…) belong to the workbook and its sheets; standard modules hold the buttons' macros; class modules
(``.cls``) come from exported source files such as xlwings' standalone Dictionary class.
"""

from __future__ import annotations

import hashlib
import re
import struct
from dataclasses import dataclass
from pathlib import Path

from .compound import compound_file
from .compression import compress

DOCUMENT, STANDARD, CLASS = "document", "standard", "class"
_HOST_EXTENDER = "&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000"
_WORKBOOK_BASE = "0{00020819-0000-0000-C000-000000000046}"
_SHEET_BASE = "0{00020820-0000-0000-C000-000000000046}"
_VISIBLE = bytes([0xFF])  # the project can be seen in the VBA editor


@dataclass(frozen=True)
class Module:
    """One VBA module: its name, kind (standard, class, or a document module of the workbook or a sheet)
    and code (without the ``Attribute`` lines, which are written here; a class keeps its own)."""

    name: str
    code: str
    kind: str = STANDARD
    workbook: bool = False  # for a document module: the workbook's own (ThisWorkbook) rather than a sheet's
    attributes: tuple[str, ...] = ()  # a class module's ``Attribute`` lines after VB_Name


class ModuleFileError(ValueError):
    """A .bas or .cls file that is not an exported VBA module."""


def read_module_file(path: Path | str) -> Module:
    """A module from its exported source (.bas standard, .cls class), as the VBA editor writes them:
    an optional class header (``VERSION 1.0 CLASS`` … ``END``), ``Attribute`` lines, then the code.
    Read as UTF-8 (how this project keeps them in git), else as the Chinese ANSI code page (GBK)."""
    path = Path(path)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("gb18030")
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[0].strip().upper().startswith("VERSION "):
        end = next((i for i, line in enumerate(lines) if line.strip().upper() == "END"), None)
        if end is None:
            raise ModuleFileError(f"{path}: 类模块头缺少 END / class header without END")
        lines = lines[end + 1:]
    attributes = []
    while lines and lines[0].startswith("Attribute "):
        attributes.append(lines.pop(0).strip())
    name = next((m.group(1) for a in attributes if (m := re.fullmatch(r'Attribute VB_Name = "([^"]+)"', a))), None)
    if name is None:
        raise ModuleFileError(f'{path}: 第一行应为 Attribute VB_Name = "模块名" / '
                              'the file must start with Attribute VB_Name = "ModuleName"')
    kind = CLASS if path.suffix.lower() == ".cls" else STANDARD
    others = tuple(a for a in attributes if not a.startswith("Attribute VB_Name ")) if kind == CLASS else ()
    return Module(name, "\n".join(lines), kind, attributes=others)


def vba_project(modules: list[Module], name: str = "VBAProject", codepage: int = 936) -> bytes:
    """vbaProject.bin holding ``modules``; deterministic (same modules, same bytes)."""
    project_id = "{" + _guid(name, modules) + "}"
    streams = {
        "PROJECT": _project_stream(modules, name, project_id).encode(_codec(codepage)),
        "PROJECTwm": _name_map(modules, codepage),
        "VBA/_VBA_PROJECT": bytes.fromhex("CC61FFFF000000"),
        "VBA/dir": compress(_dir_stream(modules, name, codepage)),
    }
    for m in modules:
        streams[f"VBA/{m.name}"] = compress(module_source(m).encode(_codec(codepage)))
    return compound_file(streams)


def module_source(m: Module) -> str:
    """The module's text as VBA stores it: its attributes, then the code, lines ending in CRLF."""
    lines = [f'Attribute VB_Name = "{m.name}"', *m.attributes]
    if m.kind == DOCUMENT:
        lines += [f'Attribute VB_Base = "{_WORKBOOK_BASE if m.workbook else _SHEET_BASE}"',
                  "Attribute VB_GlobalNameSpace = False", "Attribute VB_Creatable = False",
                  "Attribute VB_PredeclaredId = True", "Attribute VB_Exposed = True",
                  "Attribute VB_TemplateDerived = False", "Attribute VB_Customizable = True"]
    code = m.code.replace("\r\n", "\n").strip("\n").split("\n") if m.code.strip() else []
    return "\r\n".join(lines + code) + "\r\n"


def _codec(codepage: int) -> str:
    return f"cp{codepage}"


def _guid(name: str, modules: list[Module]) -> str:
    """A project ID derived from the project's content, so that a rebuild gives the same file."""
    digest = hashlib.sha256((name + "".join(m.name + m.code for m in modules)).encode("utf-8")).hexdigest().upper()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def _project_stream(modules: list[Module], name: str, project_id: str) -> str:
    """The PROJECT stream ([MS-OVBA] 2.3.1): module list, name, and the unprotected, visible state."""
    lines = [f'ID="{project_id}"']
    lines += [_project_line(m) for m in modules]
    lines += [f'Name="{name}"', 'HelpContextID="0"', 'VersionCompatible32="393222000"',
              f'CMG="{encrypt(project_id, bytes(4))}"',  # protection state: none
              f'DPB="{encrypt(project_id, bytes(1))}"',  # password: none
              f'GC="{encrypt(project_id, _VISIBLE)}"',
              "", "[Host Extender Info]", _HOST_EXTENDER, "", "[Workspace]"]
    lines += [f"{m.name}=0, 0, 0, 0, C" for m in modules]
    return "\r\n".join(lines) + "\r\n"


def _project_line(m: Module) -> str:
    if m.kind == DOCUMENT:
        return f"Document={m.name}/&H00000000"
    return f"Class={m.name}" if m.kind == CLASS else f"Module={m.name}"


def encrypt(project_id: str, data: bytes, seed: int = 0) -> str:
    """[MS-OVBA] 2.4.3.2 data encryption of the PROJECT stream's CMG, DPB and GC values, as hex text.
    The seed (and so the number of ignored bytes) is fixed, for a reproducible file."""
    key = sum(project_id.encode("ascii")) & 0xFF
    version_enc, key_enc = seed ^ 2, seed ^ key
    out = bytearray([seed, version_enc, key_enc])
    plain_1, enc_1, enc_2 = key, key_enc, version_enc
    for byte in bytes((seed & 6) // 2) + struct.pack("<I", len(data)) + data:
        enc = byte ^ ((enc_2 + plain_1) & 0xFF)
        out.append(enc)
        enc_2, enc_1, plain_1 = enc_1, enc, byte
    return out.hex().upper()


def _name_map(modules: list[Module], codepage: int) -> bytes:
    """PROJECTwm ([MS-OVBA] 2.3.3): each module's name in the code page and in UTF-16."""
    out = bytearray()
    for m in modules:
        out += m.name.encode(_codec(codepage)) + b"\x00" + m.name.encode("utf-16-le") + b"\x00\x00"
    return bytes(out + b"\x00\x00")


def _record(record_id: int, data: bytes) -> bytes:
    return struct.pack("<HI", record_id, len(data)) + data


def _dir_stream(modules: list[Module], name: str, codepage: int) -> bytes:
    """The dir stream ([MS-OVBA] 2.3.4.2), before compression: project information, no references, modules."""
    text = _codec(codepage)
    info = (_record(0x0001, struct.pack("<I", 1))  # SysKind: 32-bit Windows
            + _record(0x0002, struct.pack("<I", 0x0409)) + _record(0x0014, struct.pack("<I", 0x0409))
            + _record(0x0003, struct.pack("<H", codepage))
            + _record(0x0004, name.encode(text))
            + _record(0x0005, b"") + _record(0x0040, b"")  # doc string, and its UTF-16 form
            + _record(0x0006, b"") + _record(0x003D, b"")  # help file (two copies)
            + _record(0x0007, struct.pack("<I", 0)) + _record(0x0008, struct.pack("<I", 0))
            + struct.pack("<HIIH", 0x0009, 4, 1, 0)  # version 1.0
            + _record(0x000C, b"") + _record(0x003C, b""))  # constants, and UTF-16
    out = bytearray(info)
    out += _record(0x000F, struct.pack("<H", len(modules))) + _record(0x0013, struct.pack("<H", 0xFFFF))
    for m in modules:
        out += (_record(0x0019, m.name.encode(text)) + _record(0x0047, m.name.encode("utf-16-le"))
                + _record(0x001A, m.name.encode(text)) + _record(0x0032, m.name.encode("utf-16-le"))
                + _record(0x001C, b"") + _record(0x0048, b"")
                + _record(0x0031, struct.pack("<I", 0))  # the source starts at 0: no compiled code before it
                + _record(0x001E, struct.pack("<I", 0)) + _record(0x002C, struct.pack("<H", 0xFFFF))
                + struct.pack("<HI", 0x0021 if m.kind == STANDARD else 0x0022, 0)
                + struct.pack("<HI", 0x002B, 0))
    out += struct.pack("<HI", 0x0010, 0)
    return bytes(out)
