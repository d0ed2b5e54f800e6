"""The roll-up (DESIGN.md §6): new tracking events into the numbers people read.

A periodic job (`tasks.tracking_rollup`, every minute) takes events not yet counted,
in batches, each batch in one transaction:

1. flags clicks that come within a second of an open or another click of the same
   message (a scanner walking the links; the endpoints flag what a single request
   shows);
2. sets each delivery's first open and first click (people only; a click counts as an
   open too, since images are often blocked), which is what "unique" counts;
3. adds the batch to the mailing's counters (`MailingStats`) and the links' click
   counts, and marks the events counted.

Nothing is updated per hit, and a crash mid-batch rolls the whole batch back, so every
event is counted exactly once.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from itertools import pairwise

from django.db import connection, transaction

from engagex.delivery.models import Delivery
from engagex.tracking.bots import SEQUENCE
from engagex.tracking.models import MailingStats, TrackedLink, TrackingEvent

BATCH = 20_000
SEQUENCE_WINDOW = dt.timedelta(seconds=1)

_EVENTS = TrackingEvent._meta.db_table
_DELIVERIES = Delivery._meta.db_table
_STATS = MailingStats._meta.db_table
_LINKS = TrackedLink._meta.db_table
K = TrackingEvent.Kind

_CLAIM = f"""
WITH picked AS MATERIALIZED (
    SELECT id FROM {_EVENTS} WHERE NOT counted ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED
)
UPDATE {_EVENTS} e SET counted = true FROM picked WHERE e.id = picked.id
RETURNING e.id, e.organization_id, e.mailing_id, e.delivery_id, e.kind, e.created_at,
          e.link_index, e.is_bot, e.detail
"""  # noqa: S608 - table names interpolated; values are parameters

_FIRST = f"""
UPDATE {_DELIVERIES} d SET {{column}} = v.at
FROM unnest(%s::bigint[], %s::timestamptz[]) AS v(id, at)
WHERE d.id = v.id AND d.{{column}} IS NULL
RETURNING d.mailing_id
"""  # noqa: S608 - table and column names are constants; values are parameters

_STATS_COLUMNS = (
    "delivered",
    "opens",
    "unique_opens",
    "clicks",
    "unique_clicks",
    "bot_opens",
    "bot_clicks",
    "hard_bounces",
    "soft_bounces",
    "complaints",
    "unsubscribes",
)
# A batch can lower a counter (a re-subscribe, a soft bounce that turned hard) whose
# raise was counted by an earlier batch; PostgreSQL checks the inserted row before ON
# CONFLICT, so the row to insert is floored at 0 and the change applied in the UPDATE.
_UPSERT_STATS = f"""
INSERT INTO {_STATS} (mailing_id, organization_id, {", ".join(_STATS_COLUMNS)}, updated_at)
VALUES (%(mailing)s, %(organization)s,
        {", ".join(f"GREATEST(%({c})s, 0)" for c in _STATS_COLUMNS)}, now())
ON CONFLICT (mailing_id) DO UPDATE SET
    {", ".join(f"{c} = GREATEST({_STATS}.{c} + %({c})s, 0)" for c in _STATS_COLUMNS)},
    updated_at = now()
"""  # noqa: S608 - table and column names are constants; values are parameters

_LINK_CLICKS = f"""
UPDATE {_LINKS} l SET clicks = l.clicks + v.clicks, bot_clicks = l.bot_clicks + v.bots,
    unique_clicks = (
        SELECT count(DISTINCT e.delivery_id) FROM {_EVENTS} e
        WHERE e.organization_id = l.organization_id AND e.mailing_id = l.mailing_id
          AND e.kind = 'click' AND e.link_index = l."index" AND NOT e.is_bot
    )
FROM unnest(%s::uuid[], %s::int[], %s::int[], %s::int[])
    AS v(mailing_id, link_index, clicks, bots)
WHERE l.mailing_id = v.mailing_id AND l."index" = v.link_index
"""  # noqa: S608 - table names interpolated; values are parameters


@dataclass
class _Event:
    id: int
    organization_id: object
    mailing_id: object
    delivery_id: int | None
    kind: str
    created_at: dt.datetime
    link_index: int | None
    is_bot: bool
    detail: dict


def events_rollup(*, batch: int = BATCH) -> int:
    """Count every event not counted yet; returns how many were counted."""
    total = 0
    while True:
        counted = _rollup_batch(batch)
        total += counted
        if counted < batch:
            return total


@transaction.atomic
def _rollup_batch(batch: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM, [batch])
        events = [_Event(*row) for row in cursor.fetchall()]
        for event in events:  # Django's cursor hands jsonb over as text
            if isinstance(event.detail, str):
                event.detail = json.loads(event.detail)
        if not events:
            return 0
        _flag_sequences(cursor, events)
        people = [e for e in events if not e.is_bot and e.delivery_id is not None]
        opened = _first(cursor, "opened_at", [e for e in people if e.kind in (K.OPEN, K.CLICK)])
        clicked = _first(cursor, "clicked_at", [e for e in people if e.kind == K.CLICK])
        _add_stats(cursor, events, opened, clicked)
        _add_link_clicks(cursor, events)
    return len(events)


def _flag_sequences(cursor, events: list[_Event]) -> None:
    """A click within a second after an open or click of the same delivery: a scanner."""
    by_delivery: dict[int, list[_Event]] = defaultdict(list)
    for event in events:
        if event.delivery_id is not None and event.kind in (K.OPEN, K.CLICK):
            by_delivery[event.delivery_id].append(event)
    flagged = []
    for series in by_delivery.values():
        series.sort(key=lambda event: (event.created_at, event.id))
        for previous, event in pairwise(series):
            if (
                event.kind == K.CLICK
                and not event.is_bot
                and event.created_at - previous.created_at < SEQUENCE_WINDOW
            ):
                event.is_bot = True
                flagged.append(event.id)
    if flagged:
        cursor.execute(
            f"UPDATE {_EVENTS} SET is_bot = true, bot_reason = %s WHERE id = ANY(%s)",  # noqa: S608
            [SEQUENCE, flagged],
        )


def _first(cursor, column: str, events: list[_Event]) -> Counter:
    """Set `column` on deliveries that don't have it yet; newly set ones per mailing."""
    earliest: dict[int, dt.datetime] = {}
    for event in events:
        if event.delivery_id not in earliest or event.created_at < earliest[event.delivery_id]:
            earliest[event.delivery_id] = event.created_at
    if not earliest:
        return Counter()
    cursor.execute(_FIRST.format(column=column), [list(earliest), list(earliest.values())])
    return Counter(row[0] for row in cursor.fetchall())


def _add_stats(cursor, events: list[_Event], opened: Counter, clicked: Counter) -> None:
    per_mailing: dict[object, Counter] = defaultdict(Counter)
    organizations = {}
    for event in events:
        if event.mailing_id is None:
            continue
        organizations[event.mailing_id] = event.organization_id
        stats = per_mailing[event.mailing_id]
        if event.kind == K.OPEN:
            stats["bot_opens" if event.is_bot else "opens"] += 1
        elif event.kind == K.CLICK:
            stats["bot_clicks" if event.is_bot else "clicks"] += 1
        elif event.kind == K.BOUNCE:
            detail = event.detail or {}
            stats["hard_bounces" if detail.get("severity") == "hard" else "soft_bounces"] += 1
            if detail.get("upgraded_from"):  # soft, then hard: one bounce, now hard
                stats["soft_bounces"] -= 1
        elif event.kind == K.COMPLAINT:
            stats["complaints"] += 1
        elif event.kind == K.UNSUBSCRIBE:
            stats["unsubscribes"] += 1
        elif event.kind == K.RESUBSCRIBE:  # always after its unsubscribe (a later id)
            stats["unsubscribes"] -= 1
        elif event.kind == K.DELIVERED:
            stats["delivered"] += 1
    for mailing_id, count in opened.items():
        per_mailing[mailing_id]["unique_opens"] += count
    for mailing_id, count in clicked.items():
        per_mailing[mailing_id]["unique_clicks"] += count
    rows = [
        {
            "mailing": mailing_id,
            "organization": organizations[mailing_id],
            **{column: stats[column] for column in _STATS_COLUMNS},
        }
        for mailing_id, stats in per_mailing.items()
        if organizations.get(mailing_id) is not None
    ]
    if rows:
        cursor.executemany(_UPSERT_STATS, rows)


def _add_link_clicks(cursor, events: list[_Event]) -> None:
    clicks: Counter = Counter()
    bots: Counter = Counter()
    for event in events:
        if event.kind == K.CLICK and event.mailing_id is not None and event.link_index is not None:
            key = (event.mailing_id, event.link_index)
            clicks[key] += 0 if event.is_bot else 1
            bots[key] += 1 if event.is_bot else 0
    if not clicks:
        return
    keys = list(clicks)
    cursor.execute(
        _LINK_CLICKS,
        [
            [mailing for mailing, _ in keys],
            [index for _, index in keys],
            [clicks[key] for key in keys],
            [bots[key] for key in keys],
        ],
    )
