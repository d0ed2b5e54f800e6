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


@dataclass(frozen=True)
class Outgoing:
    delivery_id: int
    mail_from: str
    rcpt_to: str
    data: bytes


# The connection is gone or stuck: reopen it and try the message once more.
_CONNECTION_ERRORS = (
    TimeoutError,
    ConnectionError,
    OSError,
    aiosmtplib.SMTPServerDisconnected,
    aiosmtplib.SMTPConnectError,
    aiosmtplib.SMTPTimeoutError,
)


def _reply_text(error: aiosmtplib.SMTPResponseException) -> str:
    return f"{error.code} {error.message}".strip()[:500]


def _classify(code: int) -> str:
    if 200 <= code < 300:
        return SENT
    return TEMPORARY if 400 <= code < 500 else PERMANENT


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
        for attempt in (1, 2):
            try:
                client = await self._connected()
                errors, reply = await client.sendmail(
                    message.mail_from, [message.rcpt_to], message.data
                )
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
