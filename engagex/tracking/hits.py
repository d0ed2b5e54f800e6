"""The writes behind `/t/o/…` and `/t/c/…`: one statement each (DESIGN.md §6).

Each looks the delivery up and inserts the event in the same statement, so a hit costs
one round trip; everything else (first open on the delivery, counters) is the roll-up's
job. A token for a delivery that no longer exists records nothing.

Both statements are prepared once per database connection (`PREPARE`) and then run by
name with the hit's values: parsing and planning them anew on every hit was most of
PostgreSQL's work for it (measured: a click's server CPU fell from ~0.65 to ~0.2 ms, an
open's from ~0.3 to ~0.15 ms; `bench.tracking` serves ~20 % more hits per second).
Where a statement has gone missing (a proxy that hands out its server connections per
transaction, a `DISCARD ALL`), the hit runs the plain statement instead and the next one
prepares again.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from uuid import UUID

from django.db import ProgrammingError, connection

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


# name → (plain statement, its parameters in order with their types)
_STATEMENTS = {
    "engagex_hit_open": (
        _OPEN_SQL,
        {"delivery": "bigint", "ip": "inet", "agent": "text", "reason": "text"},
    ),
    "engagex_hit_click": (
        _CLICK_SQL,
        {"delivery": "bigint", "index": "integer", "ip": "inet", "agent": "text", "reason": "text"},
    ),
}


def _prepare_sql(name: str) -> str:
    sql, parameters = _STATEMENTS[name]
    for number, parameter in enumerate(parameters, start=1):
        sql = sql.replace(f"%({parameter})s", f"${number}")
    return f"PREPARE {name} ({', '.join(parameters.values())}) AS {sql}"


_PREPARE = {name: _prepare_sql(name) for name in _STATEMENTS}
_EXECUTE = {
    name: f"EXECUTE {name} ({', '.join(['%s'] * len(parameters))})"
    for name, (_, parameters) in _STATEMENTS.items()
}
# A token may name an id past bigint (13 base36 digits): no such delivery, nothing to run.
_MAX_ID = 2**63 - 1
_MISSING, _DUPLICATE = "26000", "42P05"  # SQLSTATEs: no such prepared statement; exists
# The psycopg connections (one per process and thread) on which the statements exist.
_prepared: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _sqlstate(error: Exception) -> str | None:
    return getattr(error.__cause__, "sqlstate", None)


def _execute(cursor, name: str, values: dict) -> None:
    """Run statement `name` with `values`, prepared on this connection."""
    done = _prepared.setdefault(connection.connection, set())
    recoverable = not connection.in_atomic_block  # an error would abort a transaction
    if name not in done:
        try:
            cursor.execute(_PREPARE[name])
        except ProgrammingError as error:
            if not (recoverable and _sqlstate(error) == _DUPLICATE):
                raise
        done.add(name)
    sql, parameters = _STATEMENTS[name]
    try:
        cursor.execute(_EXECUTE[name], [values[parameter] for parameter in parameters])
    except ProgrammingError as error:
        if not (recoverable and _sqlstate(error) == _MISSING):
            raise
        done.discard(name)
        cursor.execute(sql, values)


@dataclass(frozen=True)
class Click:
    url: str  # as written in the mailing (may hold merge tags)
    organization_id: UUID
    mailing_id: UUID
    contact_id: UUID | None


def open_record(*, delivery_id: int, ip: str | None, agent: str, bot_reason: str) -> bool:
    """Record an open; False when the delivery doesn't exist."""
    if delivery_id > _MAX_ID:
        return False
    with connection.cursor() as cursor:
        _execute(
            cursor,
            "engagex_hit_open",
            {"delivery": delivery_id, "ip": ip, "agent": agent[:500], "reason": bot_reason},
        )
        return cursor.rowcount == 1


def click_record(
    *, delivery_id: int, link_index: int, ip: str | None, agent: str, bot_reason: str
) -> Click | None:
    """Record a click and return where it goes; None when the delivery or the link
    doesn't exist (nothing recorded)."""
    if delivery_id > _MAX_ID:
        return None
    with connection.cursor() as cursor:
        _execute(
            cursor,
            "engagex_hit_click",
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
