"""`record()`: the one way to write the audit log.

The log holds metadata only. It must never hold email bodies, CSV rows or contact
addresses (PRODUCT.md §A), so metadata is restricted to short scalar values and
anything that looks like an email address is redacted before it is stored.
"""

from __future__ import annotations

import re
from typing import Any

from engagex.audit.models import AuditEntry

MAX_METADATA_KEYS = 20
MAX_VALUE_LENGTH = 200
REDACTED = "[redacted]"
_EMAIL_LIKE = re.compile(r"[^\s@]+@[^\s@]+")


def _clean_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, list | tuple):
        return [_clean_value(item) for item in list(value)[:MAX_METADATA_KEYS]]
    text = str(value)
    if _EMAIL_LIKE.search(text):
        return REDACTED
    return text[:MAX_VALUE_LENGTH]


def clean_metadata(metadata: dict[str, Any] | None) -> dict[str, Any]:
    """Short scalars only; nested objects, long text and email addresses never get in."""
    cleaned: dict[str, Any] = {}
    for key, value in list((metadata or {}).items())[:MAX_METADATA_KEYS]:
        if isinstance(value, dict):
            continue
        cleaned[str(key)[:50]] = _clean_value(value)
    return cleaned


def record(
    organization,
    actor,
    action: str,
    target_type: str = "",
    target_id: Any = "",
    metadata: dict[str, Any] | None = None,
    *,
    ip_address: str | None = None,
) -> AuditEntry:
    """Append one entry. Call it from services, inside their transaction."""
    actor_user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    return AuditEntry.objects.create(
        organization=organization,
        actor=actor_user,
        actor_label=actor_user.email if actor_user else "",
        action=action,
        target_type=target_type,
        target_id=str(target_id or ""),
        metadata=clean_metadata(metadata),
        ip_address=ip_address,
    )
