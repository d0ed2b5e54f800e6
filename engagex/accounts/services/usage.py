"""Plan limits: "may this organization add N contacts / send N emails now?" (PRODUCT.md §H).

Later issues call these at their enforcement points: imports and contact creation ask
`contacts_check`; the sender reserves its budget with `emails_reserve` in the same
transaction that queues the messages, so two campaigns can never both spend the last
emails of a month.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from engagex.accounts.models import EmailUsage, Organization


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""  # shown to the user when not allowed
    limit: int | None = None
    used: int = 0

    def __bool__(self) -> bool:
        return self.allowed

    @property
    def remaining(self) -> int | None:
        return None if self.limit is None else max(self.limit - self.used, 0)


def current_month(now: dt.datetime | None = None) -> dt.date:
    now = now or timezone.now()
    return now.astimezone(dt.UTC).date().replace(day=1)


def emails_sent_this_month(organization: Organization) -> int:
    row = EmailUsage.objects.filter(organization=organization, month=current_month()).first()
    return row.emails_sent if row else 0


def contacts_check(*, organization: Organization, adding: int, current: int) -> Decision:
    """May `adding` more contacts join the `current` ones under the organization's plan?"""
    limit = organization.plan.max_contacts
    if limit is not None and current + adding > limit:
        room = max(limit - current, 0)
        return Decision(
            False,
            _(
                "Your %(plan)s plan allows %(limit)s contacts and you have %(current)s, "
                "so only %(room)s more can be added. Upgrade your plan to add more."
            )
            % {"plan": organization.plan.name, "limit": limit, "current": current, "room": room},
            limit,
            current,
        )
    return Decision(True, limit=limit, used=current)


def _sending_blocked(organization: Organization) -> Decision | None:
    if organization.is_suspended:
        return Decision(
            False,
            _("This organization is suspended and cannot send email. Contact support."),
        )
    return None


def emails_check(*, organization: Organization, count: int) -> Decision:
    """May the organization send `count` emails now? Read-only; use for previews and checks."""
    blocked = _sending_blocked(organization)
    if blocked is not None:
        return blocked
    limit = organization.plan.monthly_emails
    used = emails_sent_this_month(organization)
    if limit is not None and used + count > limit:
        return _over_monthly_limit(organization, limit, used)
    return Decision(True, limit=limit, used=used)


def _over_monthly_limit(organization: Organization, limit: int, used: int) -> Decision:
    return Decision(
        False,
        _(
            "Your %(plan)s plan includes %(limit)s emails a month and %(used)s are used; "
            "this send needs more. Upgrade your plan or wait until next month."
        )
        % {"plan": organization.plan.name, "limit": limit, "used": used},
        limit,
        used,
    )


@transaction.atomic
def emails_reserve(*, organization: Organization, count: int) -> Decision:
    """Count `count` emails against this month's budget, or refuse without counting any.

    One conditional UPDATE decides and records at once, so concurrent senders cannot
    overspend. Call inside the transaction that queues the messages: a rollback returns
    the budget too.
    """
    if count < 0:
        raise ValueError("count must not be negative")
    blocked = _sending_blocked(organization)
    if blocked is not None:
        return blocked
    month = current_month()
    limit = organization.plan.monthly_emails
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO accounts_emailusage (organization_id, month, emails_sent, updated_at) "
            "VALUES (%s, %s, 0, now()) ON CONFLICT (organization_id, month) DO NOTHING",
            [organization.pk, month],
        )
        cursor.execute(
            "UPDATE accounts_emailusage SET emails_sent = emails_sent + %s, updated_at = now() "
            "WHERE organization_id = %s AND month = %s "
            "AND (%s::integer IS NULL OR emails_sent + %s <= %s::integer) "
            "RETURNING emails_sent",
            [count, organization.pk, month, limit, count, limit],
        )
        row = cursor.fetchone()
    if row is None:
        return _over_monthly_limit(organization, limit, emails_sent_this_month(organization))
    return Decision(True, limit=limit, used=row[0])


@transaction.atomic
def emails_release(*, organization: Organization, count: int) -> None:
    """Give back reserved emails that were never sent (a cancelled campaign's queue)."""
    EmailUsage.objects.filter(organization=organization, month=current_month()).update(
        emails_sent=Greatest(F("emails_sent") - Value(count), Value(0))
    )
