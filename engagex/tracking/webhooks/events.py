"""Provider events → feedback: the receiver of anymail's `tracking` signal for our
per-organization views, the bounce classification, and provider opens and clicks."""

from __future__ import annotations

import hashlib
import ipaddress
import json
import logging

from anymail.signals import EventType, RejectReason, tracking
from django.dispatch import receiver
from django.utils import timezone

from engagex.delivery.identifiers import message_id_parse
from engagex.delivery.models import Delivery
from engagex.delivery.transports import DELIVERY_METADATA_KEY, PROVIDERS
from engagex.tracking import dsn, feedback
from engagex.tracking.bots import PRIVACY_PROXY, SCANNER, request_bot_reason
from engagex.tracking.models import TrackedLink, TrackingEvent

log = logging.getLogger(__name__)

# -- events → feedback ---------------------------------------------------------------------

H, S, P = feedback.HARD, feedback.SOFT, feedback.POLICY
ET, RR = EventType, RejectReason
K = TrackingEvent.Kind


@receiver(tracking, dispatch_uid="engagex.tracking.webhooks")
def _on_tracking(sender, event, esp_name, organization=None, provider="", **kwargs):
    if organization is None:  # not from one of our per-organization views
        return
    try:
        outcome = event_handle(organization, provider, event)
    except (AttributeError, TypeError, KeyError):
        # A field of an unexpected shape in an authenticated payload: retrying can't fix
        # it, so it is logged and acknowledged rather than failed (providers retry 5xx).
        log.exception(
            "provider event not understood",
            extra={"organization": str(organization.pk), "provider": provider},
        )
        outcome = "not understood"
    log.info(
        "provider event",
        extra={
            "organization": str(organization.pk),
            "provider": provider,
            "event": event.event_type,
            "outcome": outcome,
        },
    )


def event_handle(organization, provider: str, event) -> str:
    """Apply one normalized provider event; returns what happened (for the log)."""
    kind = event.event_type
    if kind not in _HANDLED:
        return "ignored"
    delivery = _delivery(organization, event)
    if delivery is None:
        return "unknown message"
    if event.recipient and not _same_address(event.recipient, delivery.email):
        return "recipient mismatch"
    source = f"{PROVIDERS[provider].label} webhook"
    source_id = _source_id(provider, event)
    if kind == ET.DELIVERED:
        return feedback.delivered(delivery, source=source, source_id=source_id).note or "delivered"
    if kind == ET.COMPLAINED:
        return feedback.complaint(delivery, source=source, source_id=source_id).note or "complaint"
    if kind == ET.UNSUBSCRIBED or (kind == ET.REJECTED and event.reject_reason == RR.UNSUBSCRIBED):
        return _unsubscribe(delivery, source=source, source_id=source_id)
    if kind in (ET.BOUNCED, ET.DEFERRED, ET.REJECTED):
        text = " ".join(str(part) for part in (event.mta_response, event.description) if part)
        result = feedback.bounce(
            delivery,
            severity=bounce_severity(provider, event),
            status=dsn.effective_status("", text) or dsn.reply_code(text),
            diagnostic=dsn.clean_diagnostic(text) if text else "",
            source=source,
            source_id=source_id,
        )
        return result.note or ("bounce" if result.changed else "known")
    # Opens and clicks: our own pixel and tracked links see them already when the mailing
    # tracks them; the provider's would count each one twice.
    mailing = delivery.mailing
    tracked = mailing.track_opens if kind == ET.OPENED else mailing.track_clicks
    if tracked:
        return "tracked by EngageX"
    user_agent = str(event.user_agent or "")[:500]
    ip = _ip_of(provider, event)
    added = engagement(
        delivery,
        K.OPEN if kind == ET.OPENED else K.CLICK,
        source=source,
        source_id=source_id,
        url=str(event.click_url or ""),
        ip=ip,
        user_agent=user_agent,
        bot_reason=_bot_reason(provider, event, user_agent, ip),
        at=event.timestamp,
    )
    return "engagement" if added else "replay"


_HANDLED = frozenset(
    {
        ET.DELIVERED,
        ET.BOUNCED,
        ET.DEFERRED,
        ET.REJECTED,
        ET.COMPLAINED,
        ET.UNSUBSCRIBED,
        ET.OPENED,
        ET.CLICKED,
    }
)


def _delivery(organization, event) -> Delivery | None:
    """By our metadata (every provider we send through echoes it), our Message-ID, or
    the provider's message id — always within the organization."""
    metadata = event.metadata if isinstance(event.metadata, dict) else {}
    raw = str(metadata.get(DELIVERY_METADATA_KEY) or "")
    delivery_id = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 18 else None
    message_id = str(event.message_id or "")
    if delivery_id is None and message_id:
        delivery_id = message_id_parse(message_id)
    if delivery_id is not None:
        found = feedback.delivery_for(delivery_id, organization=organization)
        if found is not None:
            return found
    if not message_id or len(message_id) > 200:
        return None
    return (
        Delivery.objects.select_related("organization", "contact", "mailing")
        .filter(organization=organization, provider_message_id=message_id)
        .first()
    )


def _same_address(reported: str, ours: str) -> bool:
    return str(reported).strip().strip("<>").casefold() == ours.strip().casefold()


def _source_id(provider: str, event) -> str:
    """The provider's event id, or a stable hash of the event when it has none (Brevo,
    Mailjet, most Postmark events): a byte-identical retry is then recognised too."""
    if event.event_id:
        source_id = f"{provider}:{event.event_id}"
        if len(source_id) <= 200:
            return source_id
    try:
        payload = json.dumps(event.esp_event, sort_keys=True, default=str)
    except (TypeError, ValueError):
        payload = ""
    basis = "\n".join(
        [
            provider,
            str(event.event_id or ""),
            str(event.message_id or ""),
            str(event.event_type),
            event.timestamp.isoformat() if event.timestamp else "",
            payload,
        ]
    )
    return f"{provider}:sha256:{hashlib.sha256(basis.encode()).hexdigest()}"


def _unsubscribe(delivery: Delivery, *, source: str, source_id: str) -> str:
    # The event id goes on the unsubscribe event: a replay after a re-subscribe is
    # recognised and doesn't unsubscribe again.
    result = feedback.unsubscribe(delivery, source=source, source_id=source_id)
    return result.note or "unsubscribed"


# -- bounce severity -----------------------------------------------------------------------

# Provider-specific classes, where the payload says more than anymail's normalized type.
_POSTMARK_TYPES = {"HardBounce": H, "SoftBounce": S, "Transient": S, "DnsError": S}
_BREVO_EVENTS = {"hard_bounce": H, "soft_bounce": S, "invalid_email": H, "deferred": S}
_SPARKPOST_CLASSES = {
    **dict.fromkeys(("10", "30"), H),
    **dict.fromkeys(("20", "21", "22", "23", "24", "40", "70", "100"), S),
    **dict.fromkeys(("25", "26", "50", "51", "52", "53", "54"), P),
}


def _provider_severity(provider: str, event) -> str:
    esp = event.esp_event if isinstance(event.esp_event, dict) else {}
    if provider == "postmark":
        return _POSTMARK_TYPES.get(str(esp.get("Type")), "")
    if provider == "brevo":
        return _BREVO_EVENTS.get(str(esp.get("event")), "")
    if provider == "mailjet" and esp.get("event") == "bounce":
        return H if esp.get("hard_bounce") else S
    if provider == "sparkpost":
        inner = next(iter((esp.get("msys") or {}).values()), {})
        return _SPARKPOST_CLASSES.get(str(inner.get("bounce_class", "")), "")
    if provider == "resend":
        bounce = (esp.get("data") or {}).get("bounce") or {}
        return S if str(bounce.get("type", "")).lower() == "transient" else ""
    return ""


def _by_text(text: str, default: str) -> str:
    severity = dsn.classify("failed", dsn.effective_status("", text), text, default=default)
    return default if severity == dsn.NONE else severity


def bounce_severity(provider: str, event) -> str:
    """hard, soft or policy, as the DSN intake would classify the same failure."""
    reason, text = event.reject_reason, f"{event.mta_response or ''} {event.description or ''}"
    if event.event_type == ET.DEFERRED:
        return S
    if event.event_type == ET.REJECTED:  # the provider refused to send it
        if reason in (RR.BLOCKED, RR.SPAM):
            return P
        if reason in (RR.INVALID, RR.BOUNCED):
            return H
        if reason == RR.TIMED_OUT:
            return S
        return _by_text(text, P)
    hinted = _provider_severity(provider, event)
    if hinted:
        return hinted
    if reason in (RR.BLOCKED, RR.SPAM):
        return P
    if reason == RR.TIMED_OUT:
        return S
    if reason == RR.INVALID:
        return H
    severity = _by_text(text, H)
    esp = event.esp_event if isinstance(event.esp_event, dict) else {}
    if provider == "sendgrid" and esp.get("type") == "blocked" and severity == H:
        return P  # SendGrid's "blocked": the receiver refused us, not the address
    return severity


# -- opens and clicks ----------------------------------------------------------------------


def _ip_of(provider: str, event) -> str | None:
    esp = event.esp_event if isinstance(event.esp_event, dict) else {}
    if provider == "mailgun":
        esp = esp.get("event-data") or {}
    elif provider == "sparkpost":
        esp = next(iter((esp.get("msys") or {}).values()), {})
    elif provider == "resend":
        esp = ((esp.get("data") or {}).get("click")) or {}
    for name in ("ip", "ip_address", "ipAddress"):
        value = esp.get(name) if isinstance(esp, dict) else None
        if value:
            try:
                return str(ipaddress.ip_address(str(value).strip()))
            except ValueError:
                return None
    if provider == "postmark":
        geo = esp.get("Geo") or {}
        try:
            return str(ipaddress.ip_address(str(geo.get("IP", "")).strip()))
        except ValueError:
            return None
    return None


_MAILGUN_BOTS = {"apple": PRIVACY_PROXY, "generic": SCANNER}


def _bot_reason(provider: str, event, user_agent: str, ip: str | None) -> str:
    """What the provider says about machine opens, then our own user-agent checks."""
    esp = event.esp_event if isinstance(event.esp_event, dict) else {}
    if provider == "sendgrid" and esp.get("sg_machine_open"):
        return PRIVACY_PROXY
    if provider == "brevo" and "proxy" in str(esp.get("event", "")):
        return PRIVACY_PROXY
    if provider == "mailgun":
        # Mailgun's bot detection. Its "gmail" (Google's image proxy) stays a person, as
        # on our own pixel: Gmail fetches through it when the message is opened.
        bot = str(((esp.get("event-data") or {}).get("client-info") or {}).get("bot") or "")
        if bot in _MAILGUN_BOTS:
            return _MAILGUN_BOTS[bot]
    if user_agent:  # providers often omit it: no agent is not a sign of a machine here
        reason = request_bot_reason("GET", {}, user_agent, ip)
        if reason in (SCANNER, PRIVACY_PROXY):
            return reason
    return ""


def _link_index(delivery: Delivery, url: str) -> int | None:
    if not url:
        return None
    return (
        TrackedLink.objects.filter(
            organization_id=delivery.organization_id, mailing_id=delivery.mailing_id, url=url
        )
        .order_by("index")
        .values_list("index", flat=True)
        .first()
    )


def engagement(
    delivery: Delivery,
    kind: str,
    *,
    source: str,
    source_id: str,
    url: str = "",
    ip: str | None = None,
    user_agent: str = "",
    bot_reason: str = "",
    at=None,
) -> bool:
    """An open or click a provider reported; False when it is a replay. The roll-up
    turns it into the delivery's first open/click and the counters, as for our own."""
    if kind not in (K.OPEN, K.CLICK):
        raise ValueError(f"not an engagement kind: {kind!r}")
    if TrackingEvent.objects.filter(
        organization_id=delivery.organization_id, source_id=source_id[:200]
    ).exists():
        return False
    now = timezone.now()
    TrackingEvent.objects.bulk_create(
        [
            TrackingEvent(
                organization_id=delivery.organization_id,
                mailing_id=delivery.mailing_id,
                delivery_id=delivery.pk,
                contact_id=delivery.contact_id,
                kind=kind,
                created_at=min(at, now) if at else now,
                link_index=_link_index(delivery, url) if kind == K.CLICK else None,
                ip=ip,
                user_agent=user_agent[:500],
                is_bot=bool(bot_reason),
                bot_reason=bot_reason[:60],
                detail={"source": source, **({"url": url[:2000]} if url else {})},
                source_id=source_id[:200],
            )
        ],
        ignore_conflicts=True,  # a replay racing us: the first one stays
    )
    return True
