"""The outbox: materialize recipients, claim batches, record results, recover leases.

Every step is one set-based statement, whatever the batch size (DESIGN.md §5):

- `deliveries_materialize`: one `INSERT … SELECT` from an audience queryset. Contacts
  who can't be mailed are left out here, at the last moment, whatever the caller
  passed: soft-deleted ones, any status but subscribed (unsubscribed, bounced,
  complained, not yet confirmed), and addresses on the suppression list (by hash, so
  anonymized entries count). Unique per mailing and contact, so running it twice (or
  an audience listing someone twice) adds nobody twice.
- `deliveries_claim`: `WITH picked AS MATERIALIZED (SELECT … LIMIT n FOR UPDATE SKIP
  LOCKED) UPDATE …`: any number of sender processes claim disjoint batches without
  waiting on each other. The CTE is materialized on purpose: written as `WHERE id IN
  (subquery)`, PostgreSQL may re-run the subquery inside the update, and with SKIP
  LOCKED every re-run picks *other* rows — one claim could take the whole mailing. And
  the update finds the picked rows by primary key (`= ANY(ARRAY(…))`), whatever the
  planner believes about a table that just grew by a million rows.
  A claim is a lease: the row says who holds it and since when.
- `deliveries_record`: one `UPDATE … FROM unnest(…)` per batch. Only rows still leased
  to the recording sender change, so a sender that lost its lease (it stalled, the row
  was recovered and sent by someone else) can't overwrite the newer outcome.
- `deliveries_recover`: rows leased longer than the lease go back to the queue. A
  sender killed mid-batch may have handed some of them to the SMTP server already:
  that batch can be sent twice, the unavoidable window; the Message-ID is derived from
  the delivery id, so such a duplicate is recognisable.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, QuerySet
from django.db.models.functions import Greatest
from django.utils import timezone

from engagex.contacts.models import Contact
from engagex.delivery.models import Delivery, Mailing

LEASE = timedelta(minutes=5)
# Temporary failures (4xx, dropped connections): retried with exponential backoff —
# 1, 2, 4 … minutes, at most an hour apart — until the budget runs out, then "dead".
MAX_ATTEMPTS = 8
MAX_AGE = timedelta(hours=48)
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=1)

SENT, TEMPORARY, PERMANENT = "sent", "temporary", "permanent"


def backoff(attempts: int) -> timedelta:
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


_MATERIALIZE = """
INSERT INTO delivery_delivery (
    organization_id, mailing_id, contact_id, email, status, attempts, next_attempt_at,
    locked_by, created_at, smtp_reply, provider_message_id
)
SELECT {distinct}
    %s, %s, audience.id, audience.email, 'queued', 0, %s, '', %s, '', ''
FROM ({audience}) AS audience
WHERE NOT EXISTS (
    SELECT 1 FROM contacts_suppression s
    WHERE s.organization_id = %s
      AND s.email_hash = encode(sha256(convert_to(audience.email, 'UTF8')), 'hex')
)
{conflict}
"""


def _own_mailing(mailing: Mailing) -> QuerySet[Mailing]:
    return Mailing.objects.filter(organization_id=mailing.organization_id, pk=mailing.pk)


def _rows_are_distinct(query) -> bool:
    # A contacts query without joins (filters through EXISTS, as audiences are built)
    # can't list anybody twice.
    return sum(1 for count in query.alias_refcount.values() if count) <= 1


@transaction.atomic
def deliveries_materialize(*, mailing: Mailing, contacts: QuerySet[Contact]) -> int:
    """Queue one delivery per mailable contact of `contacts`; returns how many were added.

    The common case — a new mailing, an audience without joins — is a plain INSERT …
    SELECT: no sort for de-duplication, no conflict checks. Otherwise duplicates and
    rows already queued are skipped by the unique (mailing, contact) constraint."""
    audience = (
        contacts.filter(
            organization_id=mailing.organization_id,
            deleted_at__isnull=True,
            status=Contact.Status.SUBSCRIBED,
        )
        .order_by()
        .values("id", "email")
    )
    # The audience is the ORM's own parameterized SQL: nothing here is built from input.
    audience_sql, audience_params = audience.query.sql_with_params()
    _own_mailing(mailing).select_for_update().exists()  # one at a time
    fresh = (
        _rows_are_distinct(audience.query)
        and not Delivery.objects.filter(
            organization_id=mailing.organization_id, mailing=mailing
        ).exists()
    )
    sql = (
        _MATERIALIZE.replace("{audience}", audience_sql)
        .replace("{distinct}", "" if fresh else "DISTINCT ON (audience.id)")
        .replace(
            "{conflict}",
            "" if fresh else "ON CONFLICT (organization_id, mailing_id, contact_id) DO NOTHING",
        )
    )
    now = timezone.now()
    org = mailing.organization_id
    with connection.cursor() as cursor:
        # Enough memory to hash a million-member audience without spilling to disk.
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute(sql, [org, mailing.pk, now, now, *audience_params, org])
        added = cursor.rowcount
    recipients = added if fresh else _count(mailing)
    _own_mailing(mailing).update(recipients=recipients)
    return added


def _count(mailing: Mailing) -> int:
    return Delivery.objects.filter(organization_id=mailing.organization_id, mailing=mailing).count()


@dataclass(frozen=True)
class Claimed:
    id: int
    contact_id: str | None
    email: str
    attempts: int


_CLAIM = """
WITH picked AS MATERIALIZED (
    SELECT id FROM delivery_delivery
    WHERE organization_id = %s AND mailing_id = %s AND status = 'queued'
      AND next_attempt_at <= %s
    ORDER BY next_attempt_at, id
    LIMIT %s
    FOR UPDATE SKIP LOCKED
)
UPDATE delivery_delivery d SET status = 'sending', locked_by = %s, locked_at = %s,
    attempts = d.attempts + 1
WHERE d.id = ANY (ARRAY(SELECT id FROM picked))
RETURNING d.id, d.contact_id, d.email, d.attempts
"""


def deliveries_claim(*, worker: str, mailing: Mailing, limit: int, now=None) -> list[Claimed]:
    """Lease up to `limit` due deliveries of `mailing` to `worker` (commits at once)."""
    now = now or timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_CLAIM, [mailing.organization_id, mailing.pk, now, limit, worker, now])
        rows = cursor.fetchall()
    rows.sort()
    return [Claimed(row[0], str(row[1]) if row[1] else None, row[2], row[3]) for row in rows]


@dataclass(frozen=True)
class Outcome:
    delivery_id: int
    result: str  # SENT, TEMPORARY or PERMANENT
    code: int | None = None
    reply: str = ""
    provider_message_id: str = ""


_RECORD = """
WITH done AS (
UPDATE delivery_delivery d SET
    status = CASE
        WHEN r.result = 'sent' THEN 'sent'
        WHEN r.result = 'permanent' THEN 'failed'
        WHEN d.attempts >= %(max_attempts)s OR d.created_at < %(oldest)s THEN 'dead'
        ELSE 'queued'
    END,
    sent_at = CASE WHEN r.result = 'sent' THEN %(now)s ELSE d.sent_at END,
    next_attempt_at = CASE
        WHEN r.result = 'temporary'
        THEN %(now)s + least(
            %(base)s * power(2, greatest(d.attempts - 1, 0)), %(cap)s
        ) * interval '1 second'
        ELSE d.next_attempt_at
    END,
    smtp_code = r.code,
    smtp_reply = left(r.reply, 500),
    provider_message_id = r.provider_id,
    locked_by = '',
    locked_at = NULL
FROM unnest(
    %(ids)s::bigint[], %(results)s::text[], %(codes)s::int[], %(replies)s::text[],
    %(provider_ids)s::text[]
) AS r(id, result, code, reply, provider_id)
WHERE d.id = r.id AND d.status = 'sending' AND d.locked_by = %(worker)s
RETURNING d.mailing_id, d.status
), totals AS (
    UPDATE delivery_mailing m SET
        sent_count = m.sent_count + t.sent, failed_count = m.failed_count + t.failed
    FROM (
        SELECT mailing_id,
            count(*) FILTER (WHERE status = 'sent') AS sent,
            count(*) FILTER (WHERE status IN ('failed', 'dead')) AS failed
        FROM done GROUP BY mailing_id
    ) t
    WHERE m.id = t.mailing_id
)
SELECT count(*) FROM done
"""


def deliveries_record(*, worker: str, outcomes: Iterable[Outcome], now=None) -> int:
    """Store a batch's results in one statement; returns how many rows changed."""
    outcomes = list(outcomes)
    if not outcomes:
        return 0
    now = now or timezone.now()
    params = {
        "ids": [o.delivery_id for o in outcomes],
        "results": [o.result for o in outcomes],
        "codes": [o.code for o in outcomes],
        "replies": [o.reply or "" for o in outcomes],
        "provider_ids": [o.provider_message_id or "" for o in outcomes],
        "worker": worker,
        "now": now,
        "oldest": now - MAX_AGE,
        "max_attempts": MAX_ATTEMPTS,
        "base": BACKOFF_BASE.total_seconds(),
        "cap": BACKOFF_MAX.total_seconds(),
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_RECORD, params)
        return cursor.fetchone()[0]


def deliveries_recover(*, lease: timedelta = LEASE, now=None) -> int:
    """Return deliveries leased for longer than `lease` to the queue.

    Across all organizations on purpose (sender housekeeping, not a tenant's read)."""
    now = now or timezone.now()
    return Delivery.objects.filter(
        status=Delivery.Status.SENDING, locked_at__lt=now - lease
    ).update(status=Delivery.Status.QUEUED, locked_by="", locked_at=None)


def deliveries_cancel(*, mailing: Mailing) -> int:
    """Drop what hasn't been handed to a sender; sent stays sent, in-flight finishes."""
    return Delivery.objects.filter(
        organization_id=mailing.organization_id, mailing=mailing, status=Delivery.Status.QUEUED
    ).update(status=Delivery.Status.CANCELLED)


_DEFER = """
UPDATE delivery_delivery d SET
    status = 'queued', attempts = greatest(d.attempts - 1, 0), next_attempt_at = r.due,
    locked_by = '', locked_at = NULL
FROM unnest(%(ids)s::bigint[], %(dues)s::timestamptz[]) AS r(id, due)
WHERE d.id = r.id AND d.status = 'sending' AND d.locked_by = %(worker)s
"""


def deliveries_defer(*, worker: str, due: dict[int, object]) -> int:
    """Put claimed deliveries back, unsent and without using up a retry, due at the
    given times (a recipient domain asked us to slow down)."""
    if not due:
        return 0
    params = {"ids": list(due), "dues": list(due.values()), "worker": worker}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_DEFER, params)
        return cursor.rowcount


@transaction.atomic
def deliveries_retry_dead(*, mailing: Mailing, now=None) -> int:
    """Give the deliveries that ran out of retries a fresh budget ("retry failed").

    Permanent failures (5xx) stay failed: the receiving server refused them for good.
    A mailing that had finished goes back to sending."""
    now = now or timezone.now()
    retried = Delivery.objects.filter(
        organization_id=mailing.organization_id, mailing=mailing, status=Delivery.Status.DEAD
    ).update(
        status=Delivery.Status.QUEUED,
        attempts=0,
        next_attempt_at=now,
        created_at=now,  # the age budget starts again, too
        smtp_code=None,
        smtp_reply="",
    )
    if retried:
        _own_mailing(mailing).update(
            failed_count=Greatest(F("failed_count") - retried, 0),
            status=Mailing.Status.SENDING,
            finished_at=None,
        )
    return retried


def mailing_counts(mailing: Mailing) -> dict[str, int]:
    rows = (
        Delivery.objects.filter(organization_id=mailing.organization_id, mailing=mailing)
        .values("status")
        .annotate(n=Count("id"))
    )
    counts = {status: 0 for status in Delivery.Status.values}
    counts.update({row["status"]: row["n"] for row in rows})
    return counts


def mailings_finish(now=None) -> int:
    """Mark sending mailings with nothing queued or in flight as done (all organizations:
    sender housekeeping)."""
    now = now or timezone.now()
    active = Delivery.objects.filter(
        organization_id=OuterRef("organization_id"),
        mailing_id=OuterRef("pk"),
        status__in=[Delivery.Status.QUEUED, Delivery.Status.SENDING],
    )
    return (
        Mailing.objects.filter(status=Mailing.Status.SENDING)
        .exclude(Exists(active))
        .update(status=Mailing.Status.DONE, finished_at=now)
    )
