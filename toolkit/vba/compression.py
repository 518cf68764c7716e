"""MS-OVBA compression ([MS-OVBA] 2.4.1): how a VBA project stores its source code and its dir stream.

A compressed container is a signature byte (1) and chunks, each holding up to 4,096 bytes of the
input: a two-byte header (size, signature 0b011, compressed flag), then token sequences of a flag byte
and eight tokens, each a literal byte or a copy token (offset, length) back into the chunk. A chunk that
does not get smaller is stored raw, padded to 4,096 bytes as the specification says (text such as VBA
source always gets smaller). This follows the specification's own procedure, so its examples (section
3.2) come out byte for byte; reading back is left to oletools' decompressor, which the tests use.
"""

from __future__ import annotations

CHUNK_SIZE = 4096
_SIGNATURE = 0x01
_COMPRESSED = 0xB000  # chunk signature 0b011 and the compressed flag
_RAW = 0x3FFF  # a raw chunk: size field 4095 (4,098 bytes with the header), signature 0b011, flag clear


def compress(data: bytes) -> bytes:
    """``data`` as a compressed container."""
    out = bytearray([_SIGNATURE])
    for start in range(0, len(data), CHUNK_SIZE):
        out += _chunk(data[start:start + CHUNK_SIZE])
    return bytes(out)


def _chunk(chunk: bytes) -> bytes:
    body = bytearray()
    pos = 0
    while pos < len(chunk):
        flag_at = len(body)
        body.append(0)
        for bit in range(8):
            if pos >= len(chunk):
                break
            offset, length = _longest_match(chunk, pos)
            if length >= 3:
                bits = _bit_count(pos)
                body += (((offset - 1) << (16 - bits)) | (length - 3)).to_bytes(2, "little")
                body[flag_at] |= 1 << bit
                pos += length
            else:
                body.append(chunk[pos])
                pos += 1
    if len(body) > CHUNK_SIZE:  # compression did not help: the chunk is stored as it is
        return _RAW.to_bytes(2, "little") + chunk.ljust(CHUNK_SIZE, b"\x00")
    return (_COMPRESSED | (len(body) + 2 - 3)).to_bytes(2, "little") + bytes(body)


def _bit_count(pos: int) -> int:
    """Bits of a copy token's offset at ``pos`` in the chunk: enough to reach its start, at least 4."""
    return max((pos - 1).bit_length(), 4)


def _longest_match(chunk: bytes, pos: int) -> tuple[int, int]:
    """The longest earlier match for the bytes at ``pos`` (the nearest one on a tie), as (offset, length),
    its length capped at what a copy token can hold here. Matches may run into the bytes being matched."""
    end = len(chunk)
    if pos == 0 or end - pos < 3:
        return 0, 0
    prefix = chunk[pos:pos + 3]
    best_at, best_length = -1, 0
    candidate = chunk.rfind(prefix, 0, pos + 2)  # every candidate starts before pos
    while candidate >= 0 and best_length < end - pos:
        length = 3
        while pos + length < end and chunk[candidate + length] == chunk[pos + length]:
            length += 1
        if length > best_length:
            best_at, best_length = candidate, length
        candidate = chunk.rfind(prefix, 0, candidate + 2)
    if best_at < 0:
        return 0, 0
    return pos - best_at, min(best_length, (0xFFFF >> _bit_count(pos)) + 3)

