"""Head office emails the month's workbooks: a real SMTP server on loopback receives them and we read
what arrived, the way a mail client would."""

from __future__ import annotations

import csv
import email
import email.header
import email.policy
import io
import re
import zipfile
from pathlib import Path

import keyring
import keyring.backend
import pytest
import python_calamine as calamine
from click.testing import CliRunner

from tests.mail_server import PASSWORD, USER, start_server
from toolkit.cli import main
from toolkit.config import ConfigError, load_config
from toolkit.demo import write_demo
from toolkit.mail.message import Attachment, compose, encoded_size, fit_attachments
from toolkit.mail.settings import EmailSettings, MailError

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(scope="module")
def stores(tmp_path_factory, registers):
    """The demo month: four stores' workbooks."""
    folder = tmp_path_factory.mktemp("stores")
    write_demo(folder, registers, rows=20)
    return folder


@pytest.fixture(params=["starttls", "ssl"])
def server(request, tmp_path):
    controller, box, port, ca = start_server(tmp_path, request.param)
    yield request.param, box, port, ca
    controller.stop()


def write_config(folder, mode, port, ca, extra="", stores=None):
    """Head office's taizhang.toml: 朝阳店 inside the company domain, 海淀店 on QQ mail, 浦东店 without an address."""
    stores = stores if stores is not None else """
[[stores]]
code = "001"
name = "朝阳店"
manager = "李店长"
email = "li@example.cn"

[[stores]]
code = "002"
name = "海淀店"
manager = "王店长"
email = "wang@qq.com"

[[stores]]
code = "003"
name = "浦东店"
"""
    path = folder / "taizhang.toml"
    path.write_text(f"""
[company]
name = "示例连锁"
domain = "example.cn"
{stores}
[email]
host = "127.0.0.1"
port = {port}
security = "{mode}"
username = "{USER}"
sender_name = "台账汇总"
ca_file = "{ca.as_posix()}"
management = ["总经理 <gm@example.cn>", "ops@example.cn"]
retry_seconds = 0.01
timeout_seconds = 10
{extra}
""", encoding="utf-8")
    return path


def send(config, stores, out, *args, password=PASSWORD):
    env = {"TAIZHANG_SMTP_PASSWORD": password} if password else {"TAIZHANG_SMTP_PASSWORD": ""}
    return CliRunner().invoke(main, ["--config", str(config), "email", str(stores), "--month", "2026-10",
                                     "--as-of", "2026-11-05", "--jobs", "1", "-o", str(out), *args], env=env)


def attachment(message):
    (part,) = list(message.iter_attachments())
    return part


def log_rows(out):
    with (out / "邮件发送记录.csv").open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_management_gets_the_summary_with_a_chinese_subject_body_and_attachment_name(server, stores, tmp_path):
    mode, box, port, ca = server
    config = write_config(tmp_path, mode, port, ca)
    result = send(config, stores, tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert sorted(to for _, rcpts, _ in box.received for to in rcpts) == ["gm@example.cn", "ops@example.cn"]
    message = box.messages("gm@example.cn")[0]
    assert message["Subject"].startswith("【台账】示例连锁 2026年10月月度汇总：逾期 ")
    assert str(message["From"]) == "台账汇总 <report@example.cn>"
    assert str(message["To"]) == "总经理 <gm@example.cn>"
    text = message.get_body(("plain",)).get_content()
    assert "门店 4 家" in text and "逾期最久的 10 项：" in text
    assert "<table" in message.get_body(("html",)).get_content()
    part = attachment(message)
    assert part.get_content_type() == XLSX
    assert part.get_filename() == "台账汇总_2026-10.xlsx"
    sent = part.get_content()
    assert sent == (tmp_path / "out" / "邮件_2026-10" / "台账汇总_2026-10.xlsx").read_bytes()
    assert "总览" in calamine.CalamineWorkbook.from_filelike(io.BytesIO(sent)).sheet_names
    assert box.logins == [USER] and len(box.login_connections) == 1  # one connection serves the run


def test_the_raw_message_carries_the_name_both_as_rfc2231_and_as_rfc2047(tmp_path):
    name = "001_朝阳店_逾期清单_2026-11-05.xlsx"
    raw = compose(EmailSettings(username=USER, sender_name="台账汇总"), ("李店长", "li@example.cn"), "【台账】逾期清单",
                  "正文", "<p>正文</p>", [Attachment(name, b"PK\x03\x04 workbook")])
    head = raw.split(b"PK")[0].decode("ascii")  # every header is ASCII: nothing relies on SMTPUTF8
    unfolded = raw.decode("ascii").replace("\r\n ", " ")
    assert "filename*=utf-8''001_%E6%9C%9D%E9%98%B3%E5%BA%97_%E9%80%BE%E6%9C%9F%E6%B8%85%E5%8D%95_2026-11-05.xlsx" \
        in unfolded
    encoded = unfolded.split('name="', 1)[1].split('"', 1)[0]
    assert encoded.startswith("=?utf-8?b?")
    assert str(email.header.make_header(email.header.decode_header(encoded))) == name
    assert re.search(rf"Content-Type:\s+{re.escape(XLSX)};\s+name=\"=\?utf-8\?b\?", unfolded)
    assert re.search(r"Content-Disposition: attachment;\s+filename\*=utf-8''", unfolded)
    assert "Subject: =?utf-8?b?" in head and "From: =?utf-8?b?" in head
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))


def test_each_store_gets_its_own_list_and_one_bad_address_does_not_stop_the_others(server, stores, tmp_path):
    mode, box, port, ca = server
    box.refused.add("li@example.cn")
    config = write_config(tmp_path, mode, port, ca)
    out = tmp_path / "out"
    result = send(config, stores, out, "--per-store", "--no-summary")
    assert result.exit_code == 1, result.output
    assert [to for _, rcpts, _ in box.received for to in rcpts] == ["wang@qq.com"]
    part = attachment(box.messages("wang@qq.com")[0])
    assert part.get_filename() == "002_海淀店_逾期清单_2026-11-05.xlsx"
    assert "550" in result.output and "没有邮箱地址" in result.output  # 朝阳店 refused, 浦东店 has no address
    rows = log_rows(out)
    assert [(r["store_code"], r["recipient"], r["result"]) for r in rows] == [
        ("001", "li@example.cn", "failed"), ("002", "wang@qq.com", "sent")]
    assert rows[1]["sha256"] and rows[1]["month"] == "2026-10"

    box.refused.clear()  # the mailbox is fixed; the rerun sends only what did not go out
    again = send(config, stores, out, "--per-store", "--no-summary", "--to-store", "001", "--to-store", "002")
    assert again.exit_code == 0, again.output
    assert [to for _, rcpts, _ in box.received for to in rcpts] == ["wang@qq.com", "li@example.cn"]
    assert "此前已发送" in again.output
    third = send(config, stores, out, "--per-store", "--no-summary", "--to-store", "001", "--to-store", "002", "--resend")
    assert third.exit_code == 0
    assert len(box.received) == 4


def test_a_server_that_says_try_again_later_is_retried_with_back_off(server, stores, tmp_path):
    mode, box, port, ca = server
    box.temporary["gm@example.cn"] = 2
    config = write_config(tmp_path, mode, port, ca)
    result = send(config, stores, tmp_path / "out", "--to", "gm@example.cn")
    assert result.exit_code == 0, result.output
    assert len(box.received) == 1
    assert log_rows(tmp_path / "out")[0]["detail"] == "3 attempt(s)"


def test_a_server_still_busy_after_every_retry_fails_that_letter_only(server, stores, tmp_path):
    mode, box, port, ca = server
    box.temporary["gm@example.cn"] = 10
    config = write_config(tmp_path, mode, port, ca, extra="retries = 2")
    result = send(config, stores, tmp_path / "out")
    assert result.exit_code == 1
    assert [to for _, rcpts, _ in box.received for to in rcpts] == ["ops@example.cn"]
    assert "试了 3 次" in result.output and "451" in result.output


def test_a_wrong_authorization_code_fails_every_letter_after_one_login(server, stores, tmp_path):
    mode, box, port, ca = server
    config = write_config(tmp_path, mode, port, ca)
    result = send(config, stores, tmp_path / "out", "--per-store", password="wrong-code")
    assert result.exit_code == 1
    assert box.received == [] and set(box.logins) == {USER}
    assert len(box.login_connections) == 1  # smtplib tries each mechanism once, then no letter tries again
    assert "登录被拒绝" in result.output
    assert {r["result"] for r in log_rows(tmp_path / "out")} == {"failed"}


def test_a_workbook_too_large_even_zipped_is_not_sent_and_says_why(server, stores, tmp_path):
    mode, box, port, ca = server
    config = write_config(tmp_path, mode, port, ca, extra="max_size_mb = 0.01")
    result = send(config, stores, tmp_path / "out", "--to", "gm@example.cn")
    assert result.exit_code == 1
    assert box.received == []
    assert "压缩后仍有" in result.output and "max_size_mb" in result.output


def test_an_attachment_over_the_limit_that_compresses_goes_as_a_zip_of_the_same_file():
    data = ("门店,编号,客户\n" * 20000).encode("utf-8")
    limit = (encoded_size(len(data)) - 1) / (1024 * 1024)
    (sent,), zipped = fit_attachments([Attachment("台账汇总_2026-10.xlsx", data)], limit)
    assert zipped and sent.name == "台账汇总_2026-10.zip" and sent.content_type == ("application", "zip")
    with zipfile.ZipFile(io.BytesIO(sent.data)) as archive:
        assert archive.namelist() == ["台账汇总_2026-10.xlsx"]
        assert archive.infolist()[0].flag_bits & 0x800  # UTF-8 name flag: Windows shows the Chinese name
        assert archive.read("台账汇总_2026-10.xlsx") == data
    assert fit_attachments([Attachment("a.xlsx", data)], 1000)[1] is False
    with pytest.raises(MailError, match="max_size_mb"):
        fit_attachments([Attachment("a.xlsx", data)], 0.001)


def test_a_dry_run_writes_eml_files_a_mail_client_opens_and_needs_no_password(stores, tmp_path):
    config = write_config(tmp_path, "ssl", 1, tmp_path / "none.pem")
    out = tmp_path / "out"
    result = send(config, stores, out, "--per-store", "--dry-run", password=None)
    assert result.exit_code == 1, result.output  # 浦东店 has no address
    emls = sorted((out / "邮件_2026-10" / "eml").glob("*.eml"))
    assert len(emls) == 4
    letters = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in emls]
    assert [str(m["To"]) for m in letters] == ["总经理 <gm@example.cn>", "ops@example.cn", "李店长 <li@example.cn>",
                                                "王店长 <wang@qq.com>"]
    assert attachment(letters[3]).get_filename() == "002_海淀店_逾期清单_2026-11-05.xlsx"
    assert not (out / "邮件发送记录.csv").exists()


def test_a_store_outside_the_company_domain_gets_a_masked_list_and_mask_hides_phones_in_the_summary(
        stores, tmp_path):
    config = write_config(tmp_path, "ssl", 1, tmp_path / "none.pem")
    out = tmp_path / "out"
    result = send(config, stores, out, "--per-store", "--dry-run", "--mask", password=None)
    letters = {p.name: email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
               for p in (out / "邮件_2026-10" / "eml").glob("*.eml")}
    assert "已脱敏" in next(m for n, m in letters.items() if "gm@" in n).get_body(("plain",)).get_content()
    book = calamine.CalamineWorkbook.from_path(str(out / "邮件_2026-10" / "台账汇总_2026-10.xlsx"))
    rows = book.get_sheet_by_name("客户档案").to_python()
    column = rows[0].index("联系电话")
    phones = [row[column] for row in rows[1:] if row[column]]
    assert phones and all("****" in p for p in phones), rows[:3]
    default = send(config, stores, tmp_path / "out2", "--per-store", "--dry-run", password=None)
    assert "002 逾期清单（脱敏）" in default.output and "001 逾期清单（脱敏）" not in default.output
    assert result.exit_code == default.exit_code == 1


def test_the_readmes_example_configuration_gives_the_demo_month_its_letters(stores, tmp_path):
    example = Path(__file__).parents[1] / "examples" / "taizhang.toml"
    result = send(example, stores, tmp_path / "邮件", "--per-store", "--dry-run", password=None)
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "邮件" / "邮件_2026-10" / "eml").glob("*.eml"))) == 6
    assert "003 逾期清单（脱敏）" in result.output and "001 逾期清单（脱敏）" not in result.output


def test_without_a_password_nothing_is_read_or_sent_and_the_message_names_the_variable(stores, tmp_path):
    config = write_config(tmp_path, "ssl", 1, tmp_path / "none.pem")
    result = send(config, stores, tmp_path / "out", password=None)
    assert result.exit_code == 2
    assert "TAIZHANG_SMTP_PASSWORD" in result.output and "--save-password" in result.output
    assert not (tmp_path / "out").exists()


class MemoryKeyring(keyring.backend.KeyringBackend):
    """The system keyring's place, for the test: keyring's own API, kept in memory."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.stored: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.stored.get((service, username))

    def set_password(self, service, username, password):
        self.stored[(service, username)] = password

    def delete_password(self, service, username):
        self.stored.pop((service, username), None)


def test_a_password_saved_in_the_keyring_is_used_when_no_variable_is_set(server, stores, tmp_path):
    mode, box, port, ca = server
    config = write_config(tmp_path, mode, port, ca)
    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    try:
        saved = CliRunner().invoke(main, ["--config", str(config), "email", "--save-password"],
                                   input=f"{PASSWORD}\n{PASSWORD}\n")
        assert saved.exit_code == 0, saved.output
        result = send(config, stores, tmp_path / "out", "--to", "gm@example.cn", password=None)
    finally:
        keyring.set_keyring(previous)
    assert result.exit_code == 0, result.output
    assert len(box.received) == 1


def test_a_password_written_into_the_configuration_file_is_refused(tmp_path):
    path = tmp_path / "taizhang.toml"
    path.write_text('[email]\nprovider = "qq"\nusername = "a@qq.com"\npassword = "abcd"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="password"):
        load_config(path)
    path.write_text('[email]\nprovider = "qq"\nusername = "a@qq.com"\n', encoding="utf-8")
    settings = load_config(path).email
    assert (settings.host, settings.port, settings.security) == ("smtp.qq.com", 465, "ssl")
