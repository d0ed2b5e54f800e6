"""Writes for the dev mail capture."""

from __future__ import annotations

from django.conf import settings

from engagex.devmail.models import CapturedMessage
from engagex.devmail.parsing import parse_headers


def message_store(
    *, raw: bytes, mail_from: str, recipients: list[str], peer: str = ""
) -> CapturedMessage:
    headers = parse_headers(raw)
    try:
        subject = str(headers.get("Subject", ""))
    except Exception:  # malformed encoded-word: keep the message, lose the pretty subject
        subject = "(unreadable subject)"
    message = CapturedMessage.objects.create(
        mail_from=mail_from[:320],
        recipients=", ".join(recipients),
        subject=subject[:998],
        size=len(raw),
        peer=peer[:100],
        raw=raw,
    )
    _prune()
    return message


def _prune() -> None:
    """Keep the newest DEVMAIL_MAX_MESSAGES so a send test cannot fill the disk."""
    keep = settings.DEVMAIL_MAX_MESSAGES
    newest_dropped = list(
        CapturedMessage.objects.order_by("-id").values_list("id", flat=True)[keep : keep + 1]
    )
    if newest_dropped:
        CapturedMessage.objects.filter(id__lte=newest_dropped[0]).delete()


def message_delete(*, message: CapturedMessage) -> None:
    message.delete()


def messages_clear() -> int:
    deleted, _ = CapturedMessage.objects.all().delete()
    return deleted
