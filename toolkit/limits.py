"""How much one input may cost: the bounds that keep one hostile or broken file from taking the run down.

A store's workbook is a zip of XML: ten megabytes can inflate to gigabytes, and one stray space typed in
the last cell of a sheet makes its used range claim 17 billion cells. Every bound here turns such a file
into an ``unusable`` (or trimmed) line of the manifest instead of an exhausted machine. The defaults fit
every real register seen; ``[limits]`` in taizhang.toml changes them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    max_file_mb: float = 500  # a workbook larger than this is not read
    max_inflated_mb: float = 1024  # the members of a workbook may inflate to at most this much together
    max_ratio: float = 100  # ... and, above 100 MB, to at most this many times their compressed size
    max_columns: int = 1024  # columns read per sheet; cells further right are listed, not read

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1_000_000)

    @property
    def max_inflated_bytes(self) -> int:
        return int(self.max_inflated_mb * 1_000_000)


DEFAULT_LIMITS = Limits()
EXCEL_MAX_TEXT = 32_767  # characters Excel accepts in one cell: a longer text makes it refuse the file
