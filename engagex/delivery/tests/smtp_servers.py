"""Real SMTP servers for tests (aiosmtpd on a free local port): a sink that records every
message, with optional fault injection by recipient address."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections import Counter
from email import message_from_bytes

from aiosmtpd.controller import Controller


def free_port() -> int:
    with contextlib.closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class FaultyHandler:
    """Accepts everything, except by recipient local part:

    - `soft…`: 451 on the first `soft_failures` attempts, then accepted;
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
            return "451 4.7.1 Greylisted, try again later"
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


@contextlib.contextmanager
def smtp_server(handler=None):
    handler = handler or FaultyHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, handler
    finally:
        controller.stop()
