"""Writes of notifications: telling a team something, and marking it read."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from engagex.accounts.models import Membership, Organization
from engagex.notifications.models import Notification
from engagex.web.emails import absolute_url, render_email

# Who is emailed: the people who can act on sending, billing and the team.
EMAILED_ROLES = (Membership.Role.OWNER, Membership.Role.ADMIN)


@transaction.atomic
def notify_owners(
    organization: Organization,
    *,
    kind: str,
    title: str,
    body: str = "",
    level: str = Notification.Level.INFO,
    link: str = "",
    not_within: dt.timedelta | None = None,
) -> Notification | None:
    """An in-app notification for the organization's team, emailed to its owners and
    admins (after commit). With `not_within`, nothing happens when a notification of the
    same `kind` was created more recently than that (returns None): an alert that fires
    on every bounce must not become a flood."""
    if not_within is not None:
        # Serializes concurrent senders of the same kind for this organization until
        # commit, so two bounces arriving together can't both pass the check below.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                [f"notify:{organization.pk}:{kind}"],
            )
        recent = Notification.objects.filter(
            organization=organization, kind=kind, created_at__gte=timezone.now() - not_within
        )
        if recent.exists():
            return None
    notification = Notification.objects.create(
        organization=organization,
        kind=kind,
        level=level,
        title=title[:200],
        body=body,
        link=link[:500],
    )
    _email_team(notification)
    return notification


def _email_team(notification: Notification) -> None:
    organization = notification.organization
    recipients = (
        Membership.objects.filter(
            organization=organization, role__in=EMAILED_ROLES, user__is_active=True
        )
        .select_related("user")
        .order_by("created_at")
    )
    # Names are user input: a line break would make the header invalid.
    subject = " ".join(f"{notification.title} · {organization.name}".split())
    context = {
        "organization": organization,
        "notification": notification,
        "link_url": absolute_url(notification.link) if notification.link else "",
        "notifications_url": absolute_url(reverse("notifications:list")),
        "preheader": notification.body[:140],
    }
    text, html = render_email("notification", {**context, "subject": subject})
    for membership in recipients:
        message = EmailMultiAlternatives(
            subject=subject,
            body=text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[membership.user.email],
        )
        message.attach_alternative(html, "text/html")
        # After commit (no email about a rolled-back change), and `robust`: a mail server
        # that is down is logged, and never fails the bounce or job that notified.
        transaction.on_commit(message.send, robust=True)


def notification_mark_read(*, organization: Organization, notification: Notification) -> bool:
    """Mark one notification read; False when it already was."""
    if notification.organization_id != organization.pk:
        raise ValueError("The notification belongs to another organization.")
    return bool(
        Notification.objects.filter(
            organization=organization, pk=notification.pk, read_at__isnull=True
        ).update(read_at=timezone.now())
    )


def notifications_mark_all_read(*, organization: Organization) -> int:
    return Notification.objects.filter(organization=organization, read_at__isnull=True).update(
        read_at=timezone.now()
    )
