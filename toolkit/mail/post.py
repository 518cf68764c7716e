"""Sending (or, on a dry run, writing) the letters one by one, with the send log deciding what is due.

Each letter is checked against the log first (sent already this month: skipped unless resending), then its
attachment is fitted to the size limit, then it is sent. Whatever happens to one letter is recorded and the
next one goes on; only a failure that would repeat for every letter (a refused login) stops the rest.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from ..files import atomic_path, file_part
from .letters import Letter
from .message import Attachment, compose, fit_attachments
from .sender import Mailer, SendFailed
from .sendlog import Entry, SendLog, now_text
from .settings import EmailSettings, MailError

STATUS_ZH = {"sent": "已发送", "already_sent": "此前已发送", "written": "已写出 .eml", "failed": "发送失败",
             "no_address": "没有邮箱地址"}


@dataclass(frozen=True)
class Outcome:
    letter: Letter
    status: str  # one of STATUS_ZH
    detail_zh: str = ""
    detail_en: str = ""
    attempts: int = 0
    eml: Path | None = None
    zipped: bool = False
    fatal: bool = False  # every later letter would fail the same way (a refused login)

    @property
    def delivered(self) -> bool:
        return self.status in ("sent", "already_sent", "written")


def tally(outcomes: list[Outcome]) -> str:
    """What a run did, in words: 已发送 3，发送失败 1 / sent 3, failed 1."""
    counts = {s: n for s in STATUS_ZH if (n := sum(o.status == s for o in outcomes))}
    if not counts:
        return "没有要发送的邮件 / nothing to send"
    return ("，".join(f"{STATUS_ZH[s]} {n}" for s, n in counts.items()) + " / "
            + ", ".join(f"{s.replace('_', ' ')} {n}" for s, n in counts.items()))


def deliver(letters: list[Letter], settings: EmailSettings, month: str, log: SendLog, *, dry_run: Path | None = None,
            resend: bool = False, mailer: Mailer | None = None) -> list[Outcome]:
    """Send ``letters`` through ``mailer``, or write them as .eml files into ``dry_run``; one Outcome each."""
    outcomes: list[Outcome] = []
    stopped: Outcome | None = None
    for number, letter in enumerate(letters, 1):
        outcomes.append(_one(number, letter, settings, month, log, dry_run, resend, mailer, stopped))
        if outcomes[-1].fatal and stopped is None:
            stopped = outcomes[-1]
    return outcomes


def _one(number: int, letter: Letter, settings: EmailSettings, month: str, log: SendLog, dry_run: Path | None,
         resend: bool, mailer: Mailer | None, stopped: Outcome | None) -> Outcome:
    address = letter.to[1]
    if not address:
        return Outcome(letter, "no_address", "taizhang.toml 中此门店没有 email，未发送",
                       "the store has no email in taizhang.toml: not sent")
    data = letter.workbook.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    earlier = None if resend or dry_run else log.last_sent(month, letter.kind, letter.store_code, address)
    if earlier is not None:
        changed = earlier.sha256 != digest
        return Outcome(letter, "already_sent",
                       f"{earlier.time} 已发送" + ("；此后内容有变化，需要重发请加 --resend" if changed else ""),
                       f"sent {earlier.time}" + ("; the workbook has changed since: --resend to send it again"
                                                 if changed else ""))

    def failed(zh: str, en: str, attempts: int = 0, zipped: bool = False, fatal: bool = False) -> Outcome:
        if not dry_run:
            log.record(Entry(month, letter.kind, letter.store_code, address, letter.workbook.name, digest,
                             now_text(), "failed", en))
        return Outcome(letter, "failed", zh, en, attempts, zipped=zipped, fatal=fatal)

    if stopped is not None:
        return failed(f"未发送：{stopped.detail_zh}", f"not sent: {stopped.detail_en}")
    try:
        attachments, zipped = fit_attachments([Attachment(letter.workbook.name, data)], settings.max_size_mb)
    except MailError as e:
        return failed(e.zh, e.en)
    raw = compose(settings, letter.to, letter.subject, letter.text, letter.html, attachments)
    if dry_run is not None:
        target = dry_run / f"{number:03d}_{file_part(letter.to[0] or address)}_{file_part(address)}.eml"
        with atomic_path(target) as tmp:
            tmp.write_bytes(raw)
        return Outcome(letter, "written", eml=target, zipped=zipped)
    assert mailer is not None
    try:
        attempts = mailer.send(address, raw)
    except SendFailed as e:
        return failed(e.zh, e.en, e.attempts, zipped, e.fatal)
    log.record(Entry(month, letter.kind, letter.store_code, address, attachments[0].name if zipped
                     else letter.workbook.name, digest, now_text(), "sent", f"{attempts} attempt(s)"))
    return Outcome(letter, "sent", attempts=attempts, zipped=zipped)
