"""The buttons' VBA project, built without Excel: compression, compound file and project streams."""

from __future__ import annotations

import html
import io
import random
import re
import subprocess
import zipfile
from pathlib import Path

import olefile
import pytest
import xlsxwriter
from oletools.olevba import VBA_Parser, decompress_stream

from tests.conftest import libreoffice
from toolkit.vba.compound import compound_file
from toolkit.vba.compression import CHUNK_SIZE, compress
from toolkit.vba.project import DOCUMENT, Module, encrypt, module_source, vba_project

NORMAL_TEXT = b"#aaabcdefaaaaghijaaaaaklaaamnopqaaaaaaaaaaaarstuvwxyzaaa"
# [MS-OVBA] 3.2.2 prints these bytes; its own procedure (2.4.1.3) yields the second form, which differs
# only in how the copy tokens are packed: both expand to the same text
NORMAL_AS_PRINTED = ("01 2F B0 00 23 61 61 61 62 63 64 65 82 66 00 70 61 67 68 69 6A 01 38 08 61 6B 6C 00 30 6D 6E 6F "
                     "70 06 71 02 70 04 10 72 73 74 75 76 10 77 78 79 7A 00 3C")
NORMAL_BY_PROCEDURE = ("01 2F B0 00 23 61 61 61 62 63 64 65 82 66 00 70 61 67 68 69 6A 01 38 08 61 6B 6C 00 20 6D 6E "
                       "6F 70 06 71 02 70 04 00 72 73 74 75 76 10 77 78 79 7A 00 2C")


def expand(container: bytes) -> bytes:
    return bytes(decompress_stream(bytearray(container)))


@pytest.mark.parametrize(("text", "compressed"), [
    (b"abcdefghijklmnopqrstuv.", "01 19 B0 00 61 62 63 64 65 66 67 68 00 69 6A 6B 6C 6D 6E 6F 70 00 71 72 73 74 75 76 2E"),
    (NORMAL_TEXT, NORMAL_BY_PROCEDURE),
    (b"a" * 73, "01 03 B0 02 61 45 00"),
])
def test_the_specifications_examples_come_out_byte_for_byte(text, compressed):
    assert compress(text) == bytes.fromhex(compressed)
    assert expand(compress(text)) == text


def test_the_normal_example_as_printed_and_as_produced_expand_to_the_same_text():
    assert expand(bytes.fromhex(NORMAL_AS_PRINTED)) == expand(bytes.fromhex(NORMAL_BY_PROCEDURE)) == NORMAL_TEXT


def vba_like(size: int, seed: int) -> bytes:
    """Code-like text: repeats at every distance, so copy tokens of every offset width are used."""
    rng = random.Random(seed)
    words = ["Sub", "End", "Dim", "As", "String", "RunPython", "import", "toolkit", "(", ")", "\"", "校验", "逾期",
             "If", "Then", "Else", "ActiveSheet", "Range", ".Value", "=", "&", "\r\n", "    ", "'", "x", "1"]
    out = bytearray()
    while len(out) < size:
        out += rng.choice(words).encode("gbk") + (b" " if rng.random() < 0.6 else b"")
    return bytes(out[:size])


@pytest.mark.parametrize("size", [1, 2, 3, 656, 657, 658, 2049, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE + 17])
def test_module_source_of_any_length_expands_back_exactly(size):
    # ms-ovba-compression 1.0.1 corrupts modules of 657 bytes or more: these sizes cross every offset width
    text = vba_like(size, seed=size)
    assert expand(compress(text)) == text


def test_a_chunk_that_does_not_shrink_is_stored_raw():
    noise = random.Random(1).randbytes(CHUNK_SIZE)
    packed = compress(noise + b"Sub x()\r\nEnd Sub\r\n")
    assert packed[1:3] == bytes.fromhex("FF 3F") and packed[3:3 + CHUNK_SIZE] == noise
    assert expand(packed) == noise + b"Sub x()\r\nEnd Sub\r\n"


def read_compound(data: bytes) -> olefile.OleFileIO:
    # the strictest reading: any defect olefile knows of, even a potential one, is an error
    return olefile.OleFileIO(io.BytesIO(data), raise_defects=olefile.DEFECT_POTENTIAL)


def test_streams_of_every_size_are_read_back_from_the_compound_file():
    rng = random.Random(7)
    streams = {f"VBA/s{size}": rng.randbytes(size) for size in (0, 1, 63, 64, 65, 4095, 4096, 4097, 70_000)}
    streams |= {"PROJECT": b'ID="{0}"\r\n', "PROJECTwm": b"\x00\x00", "VBA/_VBA_PROJECT": bytes.fromhex("CC61FFFF000000")}
    ole = read_compound(compound_file(streams))
    assert sorted("/".join(p) for p in ole.listdir()) == sorted(streams)
    for path, data in streams.items():
        assert ole.openstream(path).read() == data, path


@pytest.mark.parametrize("count", [1, 2, 3, 4, 7, 8, 13, 20])
def test_the_siblings_of_a_storage_form_a_red_black_tree_in_name_order(count):
    names = [f"Module{i}" for i in range(count)]
    ole = read_compound(compound_file({f"VBA/{n}": n.encode() for n in names}))
    entries = {e.sid: e for e in ole.direntries if e is not None}
    vba = next(e for e in entries.values() if e.name == "VBA")

    def walk(sid: int, parent_red: bool) -> tuple[list[str], set[int]]:
        """Names in order and the black heights of every path below ``sid``."""
        if sid == olefile.NOSTREAM:
            return [], {0}
        e = entries[sid]
        red = e.color == 0
        assert not (red and parent_red), "a red node under a red node"
        left, left_heights = walk(e.sid_left, red)
        right, right_heights = walk(e.sid_right, red)
        return left + [e.name] + right, {h + (not red) for h in left_heights | right_heights}

    assert entries[vba.sid_child].color == 1
    ordered, heights = walk(vba.sid_child, False)
    assert ordered == sorted(names, key=lambda n: (len(n), n.upper())) and len(heights) == 1


BUTTONS = Module("Buttons", 'Sub CheckSheet()\n    RunPython "import toolkit; toolkit.check()"\nEnd Sub\n' * 40)
PROJECT_MODULES = [Module("ThisWorkbook", "", DOCUMENT, workbook=True), Module("Sheet1", "", DOCUMENT), BUTTONS]


def macro_workbook(path: Path, modules: list[Module]) -> Path:
    (path.parent / "vbaProject.bin").write_bytes(vba_project(modules))
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet().insert_button("B2", {"macro": "CheckSheet", "caption": "校验本表"})
    book.add_vba_project(str(path.parent / "vbaProject.bin"))
    book.close()
    return path


def test_olevba_reads_every_module_back_with_its_source(tmp_path):
    parser = VBA_Parser(str(macro_workbook(tmp_path / "b.xlsm", PROJECT_MODULES)))
    found = {name.rsplit(".", 1)[0]: code for _, _, name, code in parser.extract_macros()}
    assert found == {m.name: module_source(m) for m in PROJECT_MODULES}
    assert found["Buttons"].count("Sub CheckSheet()") == 40


def test_libreoffice_imports_the_modules_with_their_code_and_kinds(tmp_path):
    soffice = libreoffice()
    if soffice is None:
        pytest.skip("LibreOffice is not installed")
    book = macro_workbook(tmp_path / "b.xlsm", PROJECT_MODULES)
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/profile", "--convert-to", "ods",
                    "--outdir", str(tmp_path), str(book)], capture_output=True, timeout=300, check=True)
    with zipfile.ZipFile(tmp_path / "b.ods") as ods:
        imported = {Path(n).stem: ods.read(n).decode() for n in ods.namelist()
                    if n.startswith("Basic/VBAProject/") and not n.endswith("script-lb.xml")}
    assert set(imported) == {"ThisWorkbook", "Sheet1", "Buttons"}  # an empty import would fail here
    assert 'script:moduleType="document"' in imported["ThisWorkbook"] and 'moduleType="normal"' in imported["Buttons"]
    code = html.unescape(re.search(r"Option VBASupport 1\n(.*)</script:module>", imported["Buttons"], re.S).group(1))
    assert code.strip() == BUTTONS.code.strip()


def decrypt(text: str, project_id: str) -> bytes:
    """[MS-OVBA] 2.4.3.3, written from the specification independently of the encryption under test."""
    data = bytes.fromhex(text)
    seed, version_enc, key_enc = data[0], data[1], data[2]
    assert seed ^ version_enc == 2 and seed ^ key_enc == sum(project_id.encode()) & 0xFF
    plain_1, enc_1, enc_2 = seed ^ key_enc, key_enc, version_enc
    plain = bytearray()
    for enc in data[3:]:
        byte = enc ^ ((enc_2 + plain_1) & 0xFF)
        plain.append(byte)
        enc_2, enc_1, plain_1 = enc_1, enc, byte
    ignored = (seed & 6) // 2
    length = int.from_bytes(plain[ignored:ignored + 4], "little")
    return bytes(plain[ignored + 4:ignored + 4 + length])


def test_the_project_is_unprotected_and_visible_and_rebuilds_to_the_same_bytes():
    built = vba_project(PROJECT_MODULES)
    assert built == vba_project(PROJECT_MODULES)
    text = read_compound(built).openstream("PROJECT").read().decode("cp936")
    values = dict(re.findall(r'^(\w+)="([^"]*)"', text, re.M))
    assert decrypt(values["CMG"], values["ID"]) == bytes(4)
    assert decrypt(values["DPB"], values["ID"]) == b"\x00"
    assert decrypt(values["GC"], values["ID"]) == b"\xff"
    assert "Document=ThisWorkbook/&H00000000" in text and "Module=Buttons" in text
    for seed in (0, 2, 6):  # 0 to 3 ignored bytes before the length
        assert decrypt(encrypt(values["ID"], b"\x01\x02", seed=seed), values["ID"]) == b"\x01\x02"
