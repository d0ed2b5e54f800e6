"""Small template helpers for the design-system components."""

from __future__ import annotations

from django import template

register = template.Library()

# Every status word any page shows, mapped to a colour tone.
STATUS_TONES = {
    # campaigns and mailings
    "draft": "neutral",
    "scheduled": "accent-2",
    "sending": "accent",
    "throttled": "warning",
    "paused": "warning",
    "cancelled": "neutral",
    "sent": "success",
    "failed": "danger",
    # jobs
    "queued": "neutral",
    "running": "accent",
    "succeeded": "success",
    # deliveries (campaign page): out of retries
    "dead": "danger",
    # contacts
    "subscribed": "success",
    "unconfirmed": "warning",
    "unsubscribed": "neutral",
    "bounced": "danger",
    "complained": "danger",
    # organizations, domains, health
    "active": "success",
    "suspended": "danger",
    "pending": "warning",
    "verified": "success",
    "ok": "success",
    "down": "danger",
    "unknown": "neutral",
}
# Statuses that mean "work in progress": their badge dot pulses.
LIVE_STATUSES = {"sending", "running", "throttled"}


@register.filter
def status_tone(status: str) -> str:
    return STATUS_TONES.get(str(status).lower(), "neutral")


@register.filter
def status_is_live(status: str) -> bool:
    return str(status).lower() in LIVE_STATUSES


@register.filter
def health_tone(level: str) -> str:
    return {"good": "success", "warn": "warning", "bad": "danger"}.get(str(level), "neutral")


@register.filter
def initials(text: str) -> str:
    words = [word for word in str(text).replace("@", " ").split() if word]
    return "".join(word[0] for word in words[:2]).upper() or "?"
