"""Real SMTP servers for tests (aiosmtpd on a free local port): a sink that records every
message, with optional fault injection by recipient address, and optionally STARTTLS or
implicit TLS (with a throw-away CA) and AUTH."""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import socket
import ssl
import threading
from collections import Counter
from dataclasses import dataclass
from email import message_from_bytes
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


def free_port() -> int:
    with contextlib.closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class FaultyHandler:
    """Accepts everything, except by recipient local part:

    - `soft…`: 450 (mailbox busy) on the first `soft_failures` attempts, then accepted;
    - `slow…`: 421 4.7.0 ("slow down", a throttling deferral) on the first
      `soft_failures` attempts, then accepted;
    - `hard…`: 550 always;
    - `drop…`: the connection is closed at DATA the first time (nothing stored).
    """

    def __init__(self, soft_failures: int = 1) -> None:
        self.soft_failures = soft_failures
        self.attempts: Counter[str] = Counter()
        self.messages: list[tuple[str, str, bytes]] = []  # (mail_from, rcpt, data)
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0]
        with self.lock:
            self.attempts[address] += 1
            attempt = self.attempts[address]
        if local.startswith("hard"):
            return "550 5.1.1 No such user here"
        if local.startswith("soft") and attempt <= self.soft_failures:
            return "450 4.2.1 Mailbox busy, try again later"
        if local.startswith("slow") and attempt <= self.soft_failures:
            return "421 4.7.0 Too many messages from you, slow down"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        rcpt = envelope.rcpt_tos[0]
        if rcpt.split("@")[0].startswith("drop") and self.attempts[rcpt] == 1:
            server.transport.close()
            return "421 closing"
        with self.lock:
            self.messages.append((envelope.mail_from, rcpt, envelope.original_content))
        return "250 2.0.0 Ok: queued"

    def message_ids(self) -> list[str]:
        return [message_from_bytes(data)["Message-ID"] for _, _, data in self.messages]


@dataclass(frozen=True)
class TlsFiles:
    ca_file: str  # the test CA clients must trust (SmtpSettings.cert_bundle)
    cert_file: str
    key_file: str

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


def tls_files(directory: Path) -> TlsFiles:
    """A throw-away CA and a server certificate for 127.0.0.1 / localhost signed by it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)

    def name(common_name: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("EngageX test CA"))
        .issuer_name(name("EngageX test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name("localhost"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([x509.OID_SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    files = TlsFiles(
        str(directory / "ca.pem"), str(directory / "server.pem"), str(directory / "server.key")
    )
    Path(files.ca_file).write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    Path(files.cert_file).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    Path(files.key_file).write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


class PasswordAuthenticator:
    """aiosmtpd authenticator accepting one username/password (LOGIN and PLAIN)."""

    def __init__(self, username: str, password: str) -> None:
        self.username, self.password = username.encode(), password.encode()
        self.attempts: list[str] = []

    def __call__(self, server, session, envelope, mechanism, auth_data):
        login = getattr(auth_data, "login", b"")
        self.attempts.append(login.decode(errors="replace"))
        ok = login == self.username and getattr(auth_data, "password", b"") == self.password
        return AuthResult(success=ok, handled=False)


@contextlib.contextmanager
def smtp_server(handler=None, **smtp_parameters):
    """A sink on a free port. `smtp_parameters` go to aiosmtpd: `tls_context` and
    `require_starttls` for STARTTLS, `authenticator` and `auth_required` for AUTH,
    `ssl_context` for implicit TLS (SMTPS)."""
    handler = handler or FaultyHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **smtp_parameters)
    controller.start()
    try:
        yield controller, handler
    finally:
        controller.stop()
