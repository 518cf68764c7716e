"""Talking to the SMTP server: SSL (465) or STARTTLS (587), login, retries with back-off.

One connection serves the whole run and is opened again when the server drops it. A 4xx reply or a broken
connection is worth retrying; a 5xx reply for one recipient fails that message only. A refused login, a
certificate that does not verify or a server that cannot be reached at all fail every remaining message,
since retrying them one by one would only repeat the same error.
"""

from __future__ import annotations

import smtplib
import ssl
import time
from collections.abc import Callable

from .settings import EmailSettings, MailError


class SendFailed(MailError):
    def __init__(self, zh: str, en: str, attempts: int, fatal: bool = False) -> None:
        super().__init__(zh, en)
        self.attempts, self.fatal = attempts, fatal


def _transient(error: Exception) -> bool:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    return isinstance(error, smtplib.SMTPServerDisconnected | OSError) and not isinstance(error, ssl.SSLError)


def _reply(error: Exception) -> str:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{code} {text.decode(errors='replace')}" for code, text in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        text = error.smtp_error.decode(errors="replace") if isinstance(error.smtp_error, bytes) else error.smtp_error
        return f"{error.smtp_code} {text}"
    return f"{type(error).__name__}: {error}"


class Mailer:
    """Sends messages through the configured server; ``sleep`` is how it waits between attempts."""

    def __init__(self, settings: EmailSettings, password: str, sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings, self.password, self.sleep = settings, password, sleep
        self.connection: smtplib.SMTP | None = None

    def _context(self) -> ssl.SSLContext:
        cafile = str(self.settings.ca_file) if self.settings.ca_file else None
        return ssl.create_default_context(cafile=cafile)

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.security == "ssl":
            connection = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_seconds, context=self._context())
        else:
            connection = smtplib.SMTP(s.host, s.port, timeout=s.timeout_seconds)
            if s.security == "starttls":
                connection.starttls(context=self._context())
        try:
            if s.username:
                connection.login(s.username, self.password)
        except Exception:
            connection.close()
            raise
        return connection

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.quit()
            except (smtplib.SMTPException, OSError):
                self.connection.close()
            self.connection = None

    def send(self, recipient: str, message: bytes) -> int:
        """Send one message to one address; the number of attempts it took, or SendFailed."""
        attempts, attempt = self.settings.retries + 1, 0
        while True:
            attempt += 1
            try:
                if self.connection is None:
                    self.connection = self._connect()
                self.connection.sendmail(self.settings.from_address, [recipient], message)
                return attempt
            except smtplib.SMTPAuthenticationError as e:
                self.close()
                raise SendFailed(f"登录被拒绝（用户名或密码/授权码不对，或未开启 SMTP 服务）：{_reply(e)}",
                                 f"login refused (wrong user name or password/authorization code, or SMTP not "
                                 f"enabled for the mailbox): {_reply(e)}", attempt, fatal=True) from None
            except ssl.SSLCertVerificationError as e:
                self.close()
                raise SendFailed(f"服务器证书无法验证（内部邮件服务器请设置 [email] ca_file）：{e}",
                                 f"the server's certificate does not verify (set [email] ca_file for an internal "
                                 f"server): {e}", attempt, fatal=True) from None
            except (smtplib.SMTPException, OSError) as e:
                connected = self.connection is not None
                if not isinstance(e, smtplib.SMTPRecipientsRefused | smtplib.SMTPDataError):
                    self.close()  # the connection may be half-way through a command
                if _transient(e) and attempt < attempts:
                    self.sleep(self.settings.retry_seconds * 2 ** (attempt - 1))
                    continue
                where = f"{self.settings.host}:{self.settings.port}"
                if not connected:
                    raise SendFailed(f"无法连接邮件服务器 {where}（试了 {attempt} 次）：{_reply(e)}",
                                     f"cannot reach the mail server {where} ({attempt} attempts): {_reply(e)}",
                                     attempt, fatal=True) from None
                raise SendFailed(f"发送失败（试了 {attempt} 次）：{_reply(e)}",
                                 f"not sent ({attempt} attempts): {_reply(e)}", attempt) from None
