"""The writes behind `/t/o/…` and `/t/c/…`: one statement each (DESIGN.md §6).

Each looks the delivery up and inserts the event in the same statement, so a hit costs
one round trip; everything else (first open on the delivery, counters) is the roll-up's
job. A token for a delivery that no longer exists records nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from django.db import connection

from engagex.delivery.models import Delivery
from engagex.tracking.bots import FAST_CLICK
from engagex.tracking.models import TrackedLink, TrackingEvent

_EVENTS = TrackingEvent._meta.db_table
_DELIVERIES = Delivery._meta.db_table
_LINKS = TrackedLink._meta.db_table
_COLUMNS = (
    "organization_id, mailing_id, delivery_id, contact_id, kind, created_at, link_index, ip,"
    " user_agent, is_bot, bot_reason, detail, source_id, counted"
)

_OPEN_SQL = f"""
INSERT INTO {_EVENTS} ({_COLUMNS})
SELECT organization_id, mailing_id, id, contact_id, 'open', now(), NULL, %(ip)s,
       %(agent)s, %(reason)s <> '', %(reason)s, '{{}}', '', false
FROM {_DELIVERIES} WHERE id = %(delivery)s
"""  # noqa: S608 - table names and constants interpolated; every value is a parameter

# A click within a second of the message being handed over is a gateway scanning it.
_CLICK_SQL = f"""
WITH target AS (
    SELECT d.organization_id, d.mailing_id, d.contact_id, l.url,
           CASE WHEN %(reason)s <> '' THEN %(reason)s
                WHEN d.sent_at > now() - interval '1 second' THEN '{FAST_CLICK}'
                ELSE '' END AS reason
    FROM {_DELIVERIES} d
    JOIN {_LINKS} l ON l.organization_id = d.organization_id
                   AND l.mailing_id = d.mailing_id AND l."index" = %(index)s
    WHERE d.id = %(delivery)s
), recorded AS (
    INSERT INTO {_EVENTS} ({_COLUMNS})
    SELECT organization_id, mailing_id, %(delivery)s, contact_id, 'click', now(), %(index)s,
           %(ip)s, %(agent)s, reason <> '', reason, '{{}}', '', false
    FROM target
)
SELECT url, organization_id, mailing_id, contact_id FROM target
"""  # noqa: S608 - table names and constants interpolated; every value is a parameter


@dataclass(frozen=True)
class Click:
    url: str  # as written in the mailing (may hold merge tags)
    organization_id: UUID
    mailing_id: UUID
    contact_id: UUID | None


def open_record(*, delivery_id: int, ip: str | None, agent: str, bot_reason: str) -> bool:
    """Record an open; False when the delivery doesn't exist."""
    with connection.cursor() as cursor:
        cursor.execute(
            _OPEN_SQL,
            {"delivery": delivery_id, "ip": ip, "agent": agent[:500], "reason": bot_reason},
        )
        return cursor.rowcount == 1


def click_record(
    *, delivery_id: int, link_index: int, ip: str | None, agent: str, bot_reason: str
) -> Click | None:
    """Record a click and return where it goes; None when the delivery or the link
    doesn't exist (nothing recorded)."""
    with connection.cursor() as cursor:
        cursor.execute(
            _CLICK_SQL,
            {
                "delivery": delivery_id,
                "index": link_index,
                "ip": ip,
                "agent": agent[:500],
                "reason": bot_reason,
            },
        )
        row = cursor.fetchone()
    return Click(*row) if row else None
