"""SMTP transport: a pool of persistent connections used concurrently (aiosmtplib).

`SmtpPool.send_batch` hands a batch of built messages to `size` connections at once,
each sending its share one after the other (SMTP is sequential per connection), and
returns one outcome per message:

- 2xx → sent, with the server's reply (it often names the queue id);
- 4xx → temporary (the outbox retries later with backoff);
- 5xx → permanent (failed; bounce handling takes it from there);
- the connection dropped or timed out → the connection is reopened and the message
  tried once more on it; if that fails too, temporary. A message the server may already
  have accepted before the drop can be sent twice: the unavoidable window, recognisable
  by its Message-ID.

Connections stay open between batches (opening one costs a TCP + EHLO + STARTTLS +
AUTH round trip each) and are re-opened on demand after the server closes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import ssl
from collections.abc import Sequence
from dataclasses import dataclass

import aiosmtplib

from engagex.delivery.outbox import PERMANENT, SENT, TEMPORARY, Outcome

CONNECT_TIMEOUT = 15.0
COMMAND_TIMEOUT = 60.0


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    username: str = ""
    password: str = ""
    use_tls: bool = False  # implicit TLS (port 465)
    start_tls: bool | None = None  # None: if the server offers it
    timeout: float = COMMAND_TIMEOUT
    local_hostname: str | None = None
    validate_certs: bool = True
    # Extra CA certificates (PEM file) to trust besides the system's: a private relay's CA.
    cert_bundle: str | None = None


@dataclass(frozen=True)
class Outgoing:
    delivery_id: int
    mail_from: str
    rcpt_to: str
    data: bytes
    # True when `data` is known to have CRLF line endings only (our MessageBuilder's
    # output, by construction and tested so): the line-ending scan is skipped.
    crlf: bool = False


# The connection is gone or stuck: reopen it and try the message once more.
_CONNECTION_ERRORS = (
    TimeoutError,
    ConnectionError,
    OSError,
    aiosmtplib.SMTPServerDisconnected,
    aiosmtplib.SMTPConnectError,
    aiosmtplib.SMTPTimeoutError,
)


_UTF8 = ("SMTPUTF8",)


def _reply_text(error: aiosmtplib.SMTPResponseException) -> str:
    return f"{error.code} {error.message}".strip()[:500]


def _classify(code: int) -> str:
    if 200 <= code < 300:
        return SENT
    return TEMPORARY if 400 <= code < 500 else PERMANENT


_LINE_ENDINGS = re.compile(rb"\r\n|\n|\r(?!\n)")
_LEADING_DOT = re.compile(rb"^\.", re.MULTILINE)
_ADDRESS_UNSAFE = re.compile(r"[\x00-\x20\x7f<>]")


def _wire_data(data: bytes, *, crlf: bool = False) -> bytes:
    """The DATA payload: CRLF line endings, leading dots doubled, the terminator.

    What aiosmtplib's `sendmail` does with three regular-expression passes over the
    message (~0.4 ms each for 40 KB: they were most of the sender's time), done here
    with byte counts that are nearly free when the message is already in wire form, as
    the message builder's always is (CRLF only; base64 and QP lines never start with a
    dot)."""
    if not crlf:
        pairs = data.count(b"\r\n")
        if data.count(b"\n") != pairs or data.count(b"\r") != pairs:
            data = _LINE_ENDINGS.sub(b"\r\n", data)
    if data[:1] == b"." or b"\n." in data:
        data = _LEADING_DOT.sub(b"..", data)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


def _address(address: str, encoding: str) -> bytes:
    if not address or _ADDRESS_UNSAFE.search(address):
        raise ValueError(f"address can't be sent: {address!r}")
    return b"<" + address.encode(encoding) + b">"


async def _transaction(client: aiosmtplib.SMTP, message: Outgoing, *, utf8: bool):
    """One mail transaction (MAIL, RCPT, DATA) for one recipient; returns what
    `client.sendmail` would — `({}, reply)` — and raises the same exceptions, so the
    caller handles both alike. Not `sendmail` itself: it re-parses both addresses with
    the `email` package and runs three regex passes over the body per message, which
    made the SMTP side of a 40 KB message cost more than building it."""
    if client.is_ehlo_or_helo_needed:
        try:
            await client.ehlo()
        except aiosmtplib.SMTPHeloError:
            await client.helo()
    encoding = "ascii"
    options = []
    if utf8:
        if not client.supports_extension("smtputf8"):
            raise aiosmtplib.SMTPNotSupported("SMTPUTF8 is not supported by this server")
        encoding = "utf-8"
        options.append(b"SMTPUTF8")
    sender, recipient = _address(message.mail_from, encoding), _address(message.rcpt_to, encoding)
    data = _wire_data(message.data, crlf=message.crlf)
    if client.supports_extension("size"):
        options.insert(0, b"SIZE=%d" % (len(data) - 3))
    protocol = client.protocol
    if protocol is None:
        raise aiosmtplib.SMTPServerDisconnected("Connection lost")
    # One deadline for the whole transaction instead of a timer per command (four per
    # message were a fifth of the SMTP side's time); on expiry the caller drops the
    # connection and retries on a fresh one.
    async with asyncio.timeout(client.timeout):
        response = await protocol.execute_command(b"MAIL", b"FROM:" + sender, *options)
        if response.code != 250:
            raise aiosmtplib.SMTPSenderRefused(response.code, response.message, message.mail_from)
        response = await protocol.execute_command(b"RCPT", b"TO:" + recipient)
        if response.code not in (250, 251):
            with contextlib.suppress(aiosmtplib.SMTPException, ConnectionError):
                await protocol.execute_command(b"RSET")  # leave no half envelope behind
            raise aiosmtplib.SMTPRecipientsRefused(
                [aiosmtplib.SMTPRecipientRefused(response.code, response.message, message.rcpt_to)]
            )
        response = await protocol.execute_command(b"DATA")
        if response.code != 354:
            raise aiosmtplib.SMTPDataError(response.code, response.message)
        # The body is already in wire form: straight to the transport (aiosmtplib's
        # `data` would normalize it again), then the reply to it.
        protocol.write(data)
        response = await protocol.read_response(timeout=None)
    if response.code != 250:
        raise aiosmtplib.SMTPDataError(response.code, response.message)
    return {}, response.message


class SmtpConnection:
    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._client: aiosmtplib.SMTP | None = None

    async def _connected(self) -> aiosmtplib.SMTP:
        if self._client is not None and self._client.is_connected:
            return self._client
        settings = self.settings
        client = aiosmtplib.SMTP(
            hostname=settings.host,
            port=settings.port,
            use_tls=settings.use_tls,
            start_tls=settings.start_tls,
            timeout=settings.timeout,
            local_hostname=settings.local_hostname,
            validate_certs=settings.validate_certs,
            cert_bundle=settings.cert_bundle,
        )
        await asyncio.wait_for(client.connect(), CONNECT_TIMEOUT)
        if settings.username:
            await client.login(settings.username, settings.password)
        self._client = client
        return client

    async def close(self) -> None:
        if self._client is not None:
            with contextlib.suppress(Exception):
                await self._client.quit()
            self._client = None

    async def _drop(self) -> None:
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.close()
            self._client = None

    async def send(self, message: Outgoing) -> Outcome:
        # A non-ASCII local part (the builder writes it as raw UTF-8, RFC 6532) can only
        # travel with SMTPUTF8; a server without it refuses that message, not the batch.
        options = None if message.mail_from.isascii() and message.rcpt_to.isascii() else _UTF8
        for attempt in (1, 2):
            try:
                client = await self._connected()
            except _CONNECTION_ERRORS as error:
                await self._drop()
                if attempt == 2:
                    return Outcome(
                        message.delivery_id, TEMPORARY, None, f"connection: {error}"[:500]
                    )
                continue
            except aiosmtplib.SMTPException as error:
                # Sign-in refused, STARTTLS or AUTH not offered: the settings are wrong, not
                # the recipient. Retried later, so fixed settings still send it.
                await self._drop()
                return Outcome(message.delivery_id, TEMPORARY, None, f"connection: {error}"[:500])
            try:
                errors, reply = await _transaction(client, message, utf8=options is not None)
            except (aiosmtplib.SMTPNotSupported, ValueError) as error:
                # Nothing was sent: SMTPUTF8 missing, or an address that can't go out.
                return Outcome(message.delivery_id, PERMANENT, None, f"not sent: {error}"[:500])
            except aiosmtplib.SMTPRecipientsRefused as refused:
                error = refused.recipients[0]
                return Outcome(
                    message.delivery_id, _classify(error.code), error.code, _reply_text(error)
                )
            except _CONNECTION_ERRORS as error:
                await self._drop()
                if attempt == 2:
                    return Outcome(
                        message.delivery_id, TEMPORARY, None, f"connection: {error}"[:500]
                    )
                continue
            except aiosmtplib.SMTPResponseException as error:
                # A refused MAIL FROM or DATA: the connection is still usable after RSET.
                if self._client is not None:
                    with contextlib.suppress(Exception):
                        await self._client.rset()
                return Outcome(
                    message.delivery_id, _classify(error.code), error.code, _reply_text(error)
                )
            if errors:  # a refused recipient in a multi-recipient send (not used here)
                code, text = next(iter(errors.values()))
                return Outcome(message.delivery_id, _classify(code), code, f"{code} {text}")
            return Outcome(message.delivery_id, SENT, 250, str(reply)[:500])
        raise AssertionError("unreachable")


class SmtpPool:
    """`size` persistent connections to one server; use from one event loop."""

    def __init__(self, settings: SmtpSettings, size: int = 4) -> None:
        self.connections = [SmtpConnection(settings) for _ in range(max(1, size))]

    async def send_batch(self, messages: Sequence[Outgoing]) -> list[Outcome]:
        queue: asyncio.Queue[Outgoing] = asyncio.Queue()
        for message in messages:
            queue.put_nowait(message)
        outcomes: dict[int, Outcome] = {}

        async def work(connection: SmtpConnection) -> None:
            while True:
                try:
                    message = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                outcomes[message.delivery_id] = await connection.send(message)

        await asyncio.gather(*(work(connection) for connection in self.connections))
        return [outcomes[message.delivery_id] for message in messages]

    async def close(self) -> None:
        await asyncio.gather(*(connection.close() for connection in self.connections))


def smtp_error_text(error: BaseException, settings: SmtpSettings) -> str:
    """The exact failure of a connection attempt, readable: what failed, then the server's
    or the operating system's own words."""
    where = f"{settings.host}:{settings.port}"
    if isinstance(error, aiosmtplib.SMTPAuthenticationError):
        return f"The server refused the username or password: {_reply_text(error)}"
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return f"The server answered {_reply_text(error)}"
    cause = error.__cause__ or error.__context__
    if isinstance(error, ssl.SSLCertVerificationError) or isinstance(
        cause, ssl.SSLCertVerificationError
    ):
        failure = error if isinstance(error, ssl.SSLError) else cause
        return f"The TLS certificate of {where} is not valid: {failure.verify_message or failure}"
    if isinstance(error, ssl.SSLError):
        return f"TLS failed with {where}: {error}"
    if isinstance(error, TimeoutError):
        return f"No answer from {where} in time: {error or 'timed out'}"
    code = getattr(error, "errno", None) or getattr(cause, "errno", None)
    if isinstance(error, aiosmtplib.SMTPConnectError | ConnectionError) and code:
        return f"Can't connect to {where}: {os.strerror(code)} (errno {code})"
    if isinstance(error, aiosmtplib.SMTPException):
        return str(error) if where in str(error) else f"{error} ({where})"
    if isinstance(error, OSError):
        return f"Can't connect to {where}: {error.strerror or error}"
    return f"{type(error).__name__}: {error}"


async def smtp_check(settings: SmtpSettings) -> str:
    """Connect, greet and (if configured) log in, for a "Test connection" button.

    Returns the server's greeting; raises with the exact failure otherwise.
    """
    connection = SmtpConnection(settings)
    try:
        client = await connection._connected()
        return f"{client.hostname}:{client.port} ready"
    finally:
        await connection.close()
