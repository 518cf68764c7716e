"""One email as the bytes that go to the server (and into a .eml file on a dry run).

Chinese file names are where mail clients differ most: Outlook and webmail read the RFC 2231 ``filename*=``
parameter, QQ Mail, Foxmail and older clients the RFC 2047 encoded word in the Content-Type ``name=``. Every
attachment carries both. The message is built with the ``compat32`` policy because the modern policy turns
an encoded ``name=`` back into RFC 2231 and folds long MIME types into encoded words.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import zipfile
from dataclasses import dataclass
from email import encoders, policy
from email.header import Header
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import PurePath

from .settings import EmailSettings, MailError

CONTENT_TYPES = {".xlsx": ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                 ".zip": ("application", "zip")}
MB = 1024 * 1024


@dataclass(frozen=True)
class Attachment:
    name: str
    data: bytes

    @property
    def content_type(self) -> tuple[str, str]:
        return CONTENT_TYPES.get(PurePath(self.name).suffix.lower(), ("application", "octet-stream"))


def encoded_size(size: int) -> int:
    """Bytes an attachment of ``size`` bytes takes in the message: base64, 76 characters and CRLF a line."""
    chars = 4 * math.ceil(size / 3)
    return chars + 2 * math.ceil(chars / 76)


def _zipped(attachments: list[Attachment]) -> Attachment:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for item in attachments:  # non-ASCII names get the zip's UTF-8 flag, which Windows Explorer reads
            archive.writestr(item.name, item.data)
    return Attachment(f"{PurePath(attachments[0].name).stem}.zip", buffer.getvalue())


def _mb(size: int) -> str:
    return f"{size / MB:.1f} MB"


def fit_attachments(attachments: list[Attachment], limit_mb: float) -> tuple[list[Attachment], bool]:
    """The attachments as sent: unchanged when their encoded size is within the limit, else one zip of
    them (and True); MailError when even the zip is over the limit, so that nothing is sent half."""
    limit = int(limit_mb * MB)
    size = sum(encoded_size(len(a.data)) for a in attachments)
    if size <= limit:
        return attachments, False
    archive = _zipped(attachments)
    zipped = encoded_size(len(archive.data))
    if zipped <= limit:
        return [archive], True
    names = "、".join(a.name for a in attachments)
    raise MailError(
        f"附件 {names} 编码后 {_mb(size)}，压缩后仍有 {_mb(zipped)}，超过上限 {limit_mb:g} MB（[email] max_size_mb）："
        "未发送。可调高上限（如服务商允许），或改用 --per-store 分店发送",
        f"the attachments {names} take {_mb(size)} encoded and still {_mb(zipped)} zipped, over the limit of "
        f"{limit_mb:g} MB ([email] max_size_mb): not sent. Raise the limit if the provider allows, or send per store")


def attachment_part(item: Attachment) -> MIMEBase:
    """An attachment whose Chinese name survives every client: RFC 2231 filename* and RFC 2047 name=."""
    part = MIMEBase(*item.content_type)
    part.set_payload(item.data)
    encoders.encode_base64(part)
    part.set_param("name", Header(item.name, "utf-8").encode(maxlinelen=76))
    part.add_header("Content-Disposition", "attachment", filename=("utf-8", "", item.name))
    return part


def compose(settings: EmailSettings, to: tuple[str, str], subject: str, text: str, html: str,
            attachments: list[Attachment], when: dt.datetime | None = None) -> bytes:
    """The whole message: plain text and HTML bodies, the attachments, Chinese headers encoded (RFC 2047)."""
    message = MIMEMultipart("mixed")
    message["Subject"] = Header(subject, "utf-8")
    message["From"] = formataddr((settings.sender_name, settings.from_address), charset="utf-8")
    message["To"] = formataddr(to, charset="utf-8")
    message["Date"] = format_datetime((when or dt.datetime.now()).astimezone())
    message["Message-ID"] = make_msgid("taizhang", domain=settings.from_address.rpartition("@")[2] or None)
    body = MIMEMultipart("alternative")
    body.attach(MIMEText(text, "plain", "utf-8"))
    body.attach(MIMEText(html, "html", "utf-8"))
    message.attach(body)
    for item in attachments:
        message.attach(attachment_part(item))
    return message.as_bytes(policy=policy.compat32.clone(linesep="\r\n"))
