"""The send log: which month's workbook went to whom, when, with what result.

A rerun after a network failure must send only what did not go out, and nobody should get the same
month's workbook twice. The log is a CSV beside the outputs (UTF-8 with BOM, so Excel opens it), rewritten
whole and atomically after each message, so an interrupted run leaves every finished send recorded.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from ..files import atomic_path

LOG_NAME = "邮件发送记录.csv"


@dataclass(frozen=True)
class Entry:
    month: str
    kind: str  # "summary" or "store"
    store_code: str
    recipient: str
    attachment: str
    sha256: str
    time: str
    result: str  # "sent" or "failed"
    detail: str = ""

    @property
    def key(self) -> tuple[str, str, str, str]:
        return self.month, self.kind, self.store_code, self.recipient.lower()


class SendLog:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.entries: list[Entry] = []
        if self.path.is_file():
            with self.path.open(encoding="utf-8-sig", newline="") as fh:
                names = {f.name for f in fields(Entry)}
                self.entries = [Entry(**{k: v for k, v in row.items() if k in names}) for row in csv.DictReader(fh)]

    def last_sent(self, month: str, kind: str, store_code: str, recipient: str) -> Entry | None:
        """The latest successful send of this month's workbook of this kind (and store) to this recipient."""
        key = (month, kind, store_code, recipient.lower())
        sent = [e for e in self.entries if e.key == key and e.result == "sent"]
        return sent[-1] if sent else None

    def record(self, entry: Entry) -> None:
        self.entries.append(entry)
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, [f.name for f in fields(Entry)], lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(asdict(e) for e in self.entries)
        with atomic_path(self.path) as tmp:
            tmp.write_text(buffer.getvalue(), encoding="utf-8-sig", newline="")


def now_text() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")
