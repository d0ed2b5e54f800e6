"""The inbound SMTP server: where bounces, feedback-loop reports and List-Unsubscribe
mails arrive (`manage.py inbound`, started by `make run`).

It accepts mail only for addresses we hand out — the VERP return paths
(`bounce+<token>@<bounce domain>`), the unsubscribe mailbox (`unsubscribe@…`), and
`postmaster@` (RFC 5321 requires it) and `fbl@` (the address to register with mailbox
providers' feedback loops) of the bounce domain — and refuses every other recipient at
RCPT with 550 5.1.1, so it is never an open relay and spam to made-up addresses costs
nothing. With BOUNCE_DOMAIN empty (development) any domain is accepted, as VERP addresses
then use the sender's own domain.

A VERP address is accepted by its shape; whether its signature verifies is decided by
the intake, which stores a forged one as ignored (a record of the attempt, no effect).

Each message is handed to `inbound_process` in a worker thread (the ORM is synchronous)
and answered 250 only once stored; if it can't be stored the answer is 451, and the
sending server tries again later. Messages above INBOUND_MAX_MESSAGE_BYTES are refused
with 552 (aiosmtpd checks both the SIZE the client declares and the data it sends).
"""

from __future__ import annotations

import re

import structlog
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connections

from engagex.delivery.identifiers import VERP_PREFIX, ascii_domain
from engagex.tracking.inbound import inbound_process

logger = structlog.get_logger(__name__)

MAILBOXES = ("unsubscribe", "postmaster", "fbl")
# bounce+<base36 delivery id>-<10-character MAC>: the shape `identifiers.verp_address` makes.
_VERP_LOCAL = re.compile(re.escape(VERP_PREFIX) + r"[0-9a-z]{1,13}-[a-z2-7]{10}", re.IGNORECASE)


def accepts(address: str, bounce_domain: str) -> bool:
    """Whether mail to `address` is ours to take (`bounce_domain` "" = any domain)."""
    local, at, domain = address.strip().strip("<>").rpartition("@")
    if not at or not local or not domain:
        return False
    if bounce_domain:
        try:
            if ascii_domain(domain) != ascii_domain(bounce_domain):
                return False
        except ValueError:
            return False
    return local.lower() in MAILBOXES or bool(_VERP_LOCAL.fullmatch(local))


class InboundHandler:
    def __init__(self, bounce_domain: str = "") -> None:
        self.bounce_domain = bounce_domain

    async def handle_RCPT(self, server, session: Session, envelope: Envelope, address, options):
        if not accepts(address, self.bounce_domain):
            logger.info("inbound_recipient_refused", recipient=address)
            return f"550 5.1.1 <{address}>: no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", errors="surrogateescape")
        try:
            message = await sync_to_async(_process, thread_sensitive=False)(
                raw, envelope.mail_from or "", list(envelope.rcpt_tos)
            )
        except Exception:
            logger.exception("inbound_store_failed", size=len(raw))
            return "451 4.3.0 Could not store the message; try again later"
        logger.info(
            "inbound_received",
            inbound_id=message.pk,
            kind=message.kind,
            outcome=message.outcome,
            note=message.note,
            size=len(raw),
        )
        return f"250 2.0.0 Stored as {message.pk}"


def _process(raw: bytes, mail_from: str, recipients: list[str]):
    # Runs in a worker thread: close its connection so none is left open between messages.
    try:
        return inbound_process(raw, source="smtp", envelope_from=mail_from, envelope_to=recipients)
    finally:
        connections.close_all()


def inbound_controller(host: str, port: int, *, bounce_domain: str | None = None) -> Controller:
    bounce_domain = settings.BOUNCE_DOMAIN if bounce_domain is None else bounce_domain
    return Controller(
        InboundHandler(bounce_domain),
        hostname=host,
        port=port,
        data_size_limit=settings.INBOUND_MAX_MESSAGE_BYTES,
        enable_SMTPUTF8=True,
        server_hostname=bounce_domain or "engagex-inbound",
        ready_timeout=10,
    )
