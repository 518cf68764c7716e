"""A real SMTP server on loopback (aiosmtpd) for the email stories: STARTTLS or implicit TLS, AUTH, and
replies a test can script per recipient (a temporary 451 twice, a permanent 550)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import socket
import ssl
from dataclasses import dataclass, field
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

USER, PASSWORD = "report@example.cn", "qq-auth-code-7f3k"


def make_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A throw-away certificate authority and a server certificate for 127.0.0.1 signed by it:
    (CA file the client trusts, server certificate, server key)."""
    now = dt.datetime.now(dt.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "taizhang test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
          .not_valid_after(now + dt.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    import ipaddress

    server = (x509.CertificateBuilder()
              .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
              .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
              .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                          x509.DNSName("localhost")]), critical=False)
              .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
              .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
              .sign(ca_key, hashes.SHA256()))
    paths = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


@dataclass
class Mailbox:
    """What the server received, and the replies it is told to give."""

    received: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    temporary: dict[str, int] = field(default_factory=dict)  # address -> how many more times to answer 451
    refused: set[str] = field(default_factory=set)  # addresses answered 550
    logins: list[str] = field(default_factory=list)
    login_connections: set = field(default_factory=set)  # client (address, port) of each connection that logged in

    def messages(self, to: str | None = None) -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(raw, policy=email.policy.default)
                for _, rcpts, raw in self.received if to is None or to in rcpts]

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refused:
            return "550 5.1.1 mailbox unavailable"
        if self.temporary.get(address, 0) > 0:
            self.temporary[address] -= 1
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 2.0.0 accepted"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword):
            login, password = auth_data.login.decode(), auth_data.password.decode()
            self.logins.append(login)
            self.login_connections.add(session.peer)
            return AuthResult(success=login == USER and password == PASSWORD, handled=False)
        return AuthResult(success=False, handled=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(folder: Path, mode: str) -> tuple[Controller, Mailbox, int, Path]:
    """A running server: mode "starttls" (587-style: STARTTLS required before AUTH) or "ssl" (465-style)."""
    ca, cert, key = make_certificates(folder)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    box, port = Mailbox(), free_port()
    common = {"authenticator": box.authenticate, "auth_required": True}
    if mode == "starttls":
        controller = Controller(box, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
                                auth_require_tls=True, **common)
    else:
        controller = Controller(box, hostname="127.0.0.1", port=port, ssl_context=context,
                                auth_require_tls=False, **common)
    controller.start()
    return controller, box, port, ca
