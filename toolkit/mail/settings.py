"""The ``[email]`` settings of taizhang.toml, the mail providers Chinese companies use, and the password.

The password (or the provider's authorization code, 授权码) is never in the configuration file: the file is
copied around and kept in shared folders. It comes from an environment variable or the system keyring
(Windows Credential Manager, macOS Keychain, Secret Service on Linux).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import formataddr, getaddresses
from pathlib import Path

KEYRING_SERVICE = "taizhang-smtp"
DEFAULT_PASSWORD_ENV = "TAIZHANG_SMTP_PASSWORD"
SECURITY = ("ssl", "starttls", "none")


class MailError(Exception):
    """Something about sending that the user must fix, said in Chinese and English."""

    def __init__(self, zh: str, en: str) -> None:
        self.zh, self.en = zh, en
        super().__init__(f"{zh} / {en}")


@dataclass(frozen=True)
class Provider:
    name_zh: str
    host: str
    port: int
    security: str
    password_zh: str  # what the password is for this provider and where to get it
    password_en: str


PROVIDERS: dict[str, Provider] = {
    "qq": Provider("QQ 邮箱", "smtp.qq.com", 465, "ssl",
                   "授权码（不是 QQ 密码）：QQ 邮箱网页版 → 设置 → 账号 → 开启「POP3/IMAP/SMTP 服务」→ 生成授权码",
                   "an authorization code, not the QQ password: Settings → Account → enable POP3/IMAP/SMTP → "
                   "generate an authorization code"),
    "exmail": Provider("腾讯企业邮", "smtp.exmail.qq.com", 465, "ssl",
                       "开启了安全登录时用「客户端专用密码」：企业邮网页版 → 设置 → 账户 → 账户安全 → 生成新密码；"
                       "否则用邮箱密码",
                       "with secure login on, a client-specific password (Settings → Account → security → "
                       "generate a new password); otherwise the mailbox password"),
    "163": Provider("网易 163 邮箱", "smtp.163.com", 465, "ssl",
                    "授权码：163 邮箱网页版 → 设置 → POP3/SMTP/IMAP → 开启「IMAP/SMTP 服务」→ 新增授权密码",
                    "an authorization code: Settings → POP3/SMTP/IMAP → enable IMAP/SMTP → add an authorization "
                    "password"),
    "aliyun": Provider("阿里邮箱（企业版）", "smtp.qiye.aliyun.com", 465, "ssl",
                       "邮箱密码；管理员开启了「三方客户端安全密码」时用该密码：网页版 → 设置 → 账户与安全",
                       "the mailbox password, or the third-party client password when the administrator requires "
                       "one (Settings → account and security)"),
    "microsoft365": Provider("Microsoft 365（国际版）", "smtp.office365.com", 587, "starttls",
                             "邮箱密码（开启多重验证时用应用密码）；管理员须为此邮箱开启「经过身份验证的 SMTP」。"
                             "微软计划在 2026 年底起对现有租户默认关闭 SMTP 基本身份验证（管理员仍可重新开启），"
                             "taizhang 不支持 OAuth",
                             "the mailbox password (an app password with multi-factor sign-in); the administrator "
                             "must enable Authenticated SMTP for the mailbox. Microsoft turns Basic auth for SMTP "
                             "AUTH off by default for existing tenants from the end of 2026 (administrators can "
                             "turn it back on); taizhang does not do OAuth"),
    "microsoft365-china": Provider("Microsoft 365（世纪互联）", "smtp.partner.outlook.cn", 587, "starttls",
                                   "同 Microsoft 365：邮箱密码，管理员须开启「经过身份验证的 SMTP」",
                                   "as Microsoft 365: the mailbox password; Authenticated SMTP must be enabled"),
}


@dataclass(frozen=True)
class EmailSettings:
    """How to reach the company's mail server and whom the summary goes to."""

    host: str = ""
    port: int = 465
    security: str = "ssl"
    username: str = ""
    sender: str = ""  # the From address; the username when not given
    sender_name: str = ""
    password_env: str = DEFAULT_PASSWORD_ENV
    management: tuple[str, ...] = ()  # "总经理 <gm@example.cn>" or plain addresses
    max_size_mb: float = 20.0
    retries: int = 3
    retry_seconds: float = 5.0
    timeout_seconds: float = 60.0
    ca_file: Path | None = None  # trust this certificate authority (an internal mail server) instead of the system's
    top_items: int = 10
    provider: str = ""

    @property
    def from_address(self) -> str:
        return self.sender or self.username

    @property
    def from_header(self) -> str:
        return formataddr((self.sender_name, self.from_address)) if self.sender_name else self.from_address

    @property
    def keyring_user(self) -> str:
        return f"{self.username}@{self.host}"

    def check_server(self) -> None:
        """Raise MailError unless there is enough to connect and send."""
        if not self.host:
            raise MailError("taizhang.toml 的 [email] 未设置 host 或 provider（如 provider = \"exmail\"）",
                            "[email] in taizhang.toml sets neither host nor provider (e.g. provider = \"exmail\")")
        if not self.from_address:
            raise MailError("[email] 未设置 username 或 sender（发件地址）",
                            "[email] sets neither username nor sender (the From address)")


def recipients(entries: tuple[str, ...] | list[str]) -> list[tuple[str, str]]:
    """(name, address) pairs from entries like "总经理 <gm@example.cn>" or "a@x.cn; b@x.cn" (staff separate
    addresses with commas, semicolons, their full-width forms or new lines)."""
    separated = [re.sub(r"[;；，、\r\n]+", ",", entry) for entry in entries]
    return [(name, address) for name, address in getaddresses(separated) if address]


def smtp_password(settings: EmailSettings, environ: Mapping[str, str] | None = None) -> str:
    """The password from the environment variable, else from the system keyring; MailError if neither has it."""
    environ = os.environ if environ is None else environ
    if environ.get(settings.password_env):
        return environ[settings.password_env]
    try:
        import keyring

        stored = keyring.get_password(KEYRING_SERVICE, settings.keyring_user)
    except Exception:  # no keyring on this machine (a server without a desktop session): as if nothing stored
        stored = None
    if stored:
        return stored
    hint = PROVIDERS.get(settings.provider)
    raise MailError(
        f"没有 SMTP 密码：请设置环境变量 {settings.password_env}，或运行 taizhang email --save-password 存入系统钥匙串"
        + (f"。{hint.name_zh} 需要的是{hint.password_zh}" if hint else ""),
        f"no SMTP password: set the environment variable {settings.password_env}, or run "
        "taizhang email --save-password to keep it in the system keyring"
        + (f". {hint.name_zh} needs {hint.password_en}" if hint else ""))


def save_password(settings: EmailSettings, password: str) -> None:
    """Keep the password in the system keyring (what ``taizhang email --save-password`` does)."""
    import keyring
    from keyring.errors import KeyringError

    try:
        keyring.set_password(KEYRING_SERVICE, settings.keyring_user, password)
    except KeyringError as e:
        raise MailError(f"无法写入系统钥匙串：{e}；请改用环境变量 {settings.password_env}",
                        f"cannot write to the system keyring: {e}; use {settings.password_env} instead") from None
