"""The capture SMTP server: accepts any message for any recipient and stores it."""

from __future__ import annotations

import structlog
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session
from asgiref.sync import sync_to_async
from django.db import connections

from engagex.devmail.services import message_store

logger = structlog.get_logger(__name__)

MAX_MESSAGE_BYTES = 25 * 1024 * 1024


class CaptureHandler:
    async def handle_DATA(self, server, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", errors="surrogateescape")
        try:
            message = await sync_to_async(_store, thread_sensitive=False)(
                raw=raw,
                mail_from=envelope.mail_from or "",
                recipients=list(envelope.rcpt_tos),
                peer=str(session.peer[0]) if session.peer else "",
            )
        except Exception:
            logger.exception("devmail_store_failed")
            return "451 Requested action aborted: could not store the message"
        logger.info(
            "devmail_captured",
            message_id=message.pk,
            recipients=len(envelope.rcpt_tos),
            size=len(raw),
        )
        return "250 Message captured"


def _store(**fields):
    # Runs in a worker thread: close its connection so none is left open between messages.
    try:
        return message_store(**fields)
    finally:
        connections.close_all()


def capture_controller(host: str, port: int) -> Controller:
    return Controller(
        CaptureHandler(),
        hostname=host,
        port=port,
        data_size_limit=MAX_MESSAGE_BYTES,
        enable_SMTPUTF8=True,
        server_hostname="engagex-devmail",
        ready_timeout=10,
    )
