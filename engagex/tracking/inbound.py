"""The intake of mail that reaches the bounce and unsubscribe mailbox (PRODUCT.md §F).

`inbound_process(raw, source=…)` is what the inbound SMTP server (`manage.py inbound`)
and the POP3/IMAP poller (`mailbox`) call for every message: parse it
(`inbound_parse`), act on it through the feedback services, and always keep an
`InboundMessage` row saying what was done, so a person can look at what wasn't
understood:

- bounce → `feedback.bounce` for the delivery (found by VERP address or Message-ID,
  both HMAC-verified, so a forged bounce changes nothing) with the severity of the
  failed recipient (hard, soft — delays included — or policy); a success report
  ("relayed", "delivered") is ignored;
- complaint → `feedback.complaint` (a "not-spam" report changes nothing);
- unsubscribe (the List-Unsubscribe mailto, token in the subject) → `feedback.unsubscribe`
  once the token verifies;
- auto-reply → ignored; anything else → stored as "unknown" for inspection.

A failure while acting is caught and stored as outcome "error" with its message: one bad
message never stops the intake. Only a failure to store the row itself (the database is
down) reaches the caller, who then must not acknowledge or delete the message.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction

from engagex.delivery.identifiers import unsubscribe_parse
from engagex.tracking import feedback
from engagex.tracking.dsn import HARD, NONE, POLICY, SOFT
from engagex.tracking.inbound_parse import InboundReport, RecipientStatus, parse_inbound
from engagex.tracking.models import InboundMessage

log = logging.getLogger(__name__)

RAW_LIMIT = 256 * 1024  # what is kept of each message: enough to read any report
Outcome = InboundMessage.Outcome
_SEVERITY_RANK = {HARD: 3, POLICY: 2, SOFT: 1, NONE: 0}


@dataclass(frozen=True)
class _Action:
    outcome: str
    note: str
    organization_id: object = None


def inbound_process(
    raw: bytes,
    *,
    source: str,
    envelope_from: str = "",
    envelope_to: Sequence[str] = (),
) -> InboundMessage:
    """Parse one received message, act on it, and store what happened."""
    raw = bytes(raw or b"")
    envelope_to = [str(address) for address in envelope_to or ()]
    report = parse_inbound(raw, envelope_recipients=envelope_to)
    message = InboundMessage(
        source=source[:20],
        envelope_from=(envelope_from or "")[:500],
        envelope_to=", ".join(envelope_to)[:1000],
        subject=report.subject[:500],
        kind=report.kind[:20],
        raw=raw[:RAW_LIMIT],
        size=len(raw),
    )
    with transaction.atomic():
        try:
            with transaction.atomic():  # a failure undoes the action, not the record
                action = _act(report)
        except Exception as error:
            log.exception("inbound message not processed", extra={"kind": report.kind})
            action = _Action(Outcome.ERROR, f"{type(error).__name__}: {error}")
        message.outcome = action.outcome
        message.note = action.note[:500]
        message.organization_id = action.organization_id
        message.save()
    return message


def _act(report: InboundReport) -> _Action:
    if report.kind == "bounce":
        return _bounce(report)
    if report.kind == "complaint":
        return _complaint(report)
    if report.kind == "unsubscribe":
        return _unsubscribe(report)
    if report.kind == "auto_reply":
        delivery = feedback.delivery_for(report.delivery_id)  # whose mail it answers
        organization_id = delivery.organization_id if delivery else None
        return _Action(Outcome.IGNORED, f"auto-reply ({report.reason})", organization_id)
    return _Action(Outcome.UNKNOWN, report.reason or "not understood")


def _bounce(report: InboundReport) -> _Action:
    delivery = feedback.delivery_for(report.delivery_id)
    if delivery is None:
        return _not_ours(report, "bounce")
    failure = _failure_for(delivery.email, report.recipients)
    if failure is None:
        return _Action(
            Outcome.IGNORED, "delivery report without a failure", delivery.organization_id
        )
    result = feedback.bounce(
        delivery,
        severity=failure.severity,
        status=failure.status,
        diagnostic=failure.diagnostic,
        source="dsn",
    )
    note = " ".join(part for part in (failure.severity, "bounce", failure.status) if part)
    return _Action(Outcome.PROCESSED, _with_result(note, result), delivery.organization_id)


def _failure_for(email: str, recipients: Sequence[RecipientStatus]) -> RecipientStatus | None:
    """The result that concerns our recipient: theirs when the report names them, else
    the most serious one (each of our messages has one recipient; a report may list the
    addresses an alias expanded to, or none we recognise). None: nothing failed."""
    failed = [r for r in recipients if r.severity != NONE]
    if not failed:
        return None
    own = [r for r in failed if r.recipient.lower() == email.lower()]
    return max(own or failed, key=lambda r: _SEVERITY_RANK[r.severity])


def _complaint(report: InboundReport) -> _Action:
    delivery = feedback.delivery_for(report.delivery_id)
    if delivery is None:
        return _not_ours(report, "complaint")
    feedback_type = (report.complaint.feedback_type if report.complaint else "") or "abuse"
    result = feedback.complaint(delivery, feedback_type=feedback_type, source="arf")
    return _Action(
        Outcome.PROCESSED,
        _with_result(f"complaint ({feedback_type})", result),
        delivery.organization_id,
    )


def _unsubscribe(report: InboundReport) -> _Action:
    delivery_id = unsubscribe_parse(report.unsubscribe_token)
    delivery = feedback.delivery_for(delivery_id)
    if delivery is None:
        reason = "no token in the subject" if not report.unsubscribe_token else "invalid token"
        return _Action(Outcome.IGNORED, f"unsubscribe request with {reason}")
    result = feedback.unsubscribe(delivery, source="mailto")
    return _Action(
        Outcome.PROCESSED, _with_result("unsubscribed", result), delivery.organization_id
    )


def _not_ours(report: InboundReport, what: str) -> _Action:
    if report.delivery_id is None:
        # No VERP address or Message-ID of ours verified: another sender's mail, or forged.
        return _Action(Outcome.IGNORED, f"{what} for a message that isn't ours")
    return _Action(Outcome.IGNORED, f"{what} for delivery {report.delivery_id}, which is gone")


def _with_result(note: str, result: feedback.Result) -> str:
    if result.changed:
        return note + (f": {result.note}" if result.note else "")
    return f"{note}: nothing changed ({result.note})" if result.note else note
