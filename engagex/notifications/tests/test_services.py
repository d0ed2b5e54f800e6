"""Telling a team something: one in-app notification, an email to each owner and admin."""

import datetime as dt

from django.conf import settings
from django.core import mail
from django.utils import timezone

from engagex.accounts.tests.factories import MembershipFactory
from engagex.notifications.models import Notification
from engagex.notifications.services import (
    notification_mark_read,
    notifications_mark_all_read,
    notify_owners,
)


def test_owners_and_admins_are_emailed_and_everyone_sees_it(
    org, owner, viewer, django_capture_on_commit_callbacks
):
    admin = MembershipFactory(organization=org, role="admin").user
    MembershipFactory(organization=org, role="owner", user__is_active=False)  # left: not emailed
    with django_capture_on_commit_callbacks(execute=True):
        notification = notify_owners(
            org,
            kind="test",
            level="danger",
            title="Sending paused",
            body="Bounce rate 7.2%.\nClean your lists.",
            link="/contacts/suppressions/",
        )

    assert Notification.objects.get() == notification
    assert (notification.level, notification.read_at) == ("danger", None)
    assert sorted(m.to[0] for m in mail.outbox) == sorted([owner.email, admin.email])
    message = mail.outbox[0]
    assert message.subject == "Sending paused · Acme Inc"
    assert "Bounce rate 7.2%." in message.body
    assert f"{settings.SITE_URL}/contacts/suppressions/" in message.body
    html = message.alternatives[0][0]
    assert "Sending paused" in html and "Clean your lists." in html


def test_nothing_is_emailed_when_the_transaction_rolls_back(org, owner):
    # Without running on-commit callbacks (the test's transaction never commits).
    notify_owners(org, kind="test", title="Hello")
    assert mail.outbox == []


def test_not_within_keeps_a_recurring_alert_quiet(org, owner):
    first = notify_owners(org, kind="policy", title="A", not_within=dt.timedelta(hours=1))
    assert notify_owners(org, kind="policy", title="B", not_within=dt.timedelta(hours=1)) is None
    assert notify_owners(org, kind="other", title="C", not_within=dt.timedelta(hours=1))
    Notification.objects.filter(pk=first.pk).update(
        created_at=timezone.now() - dt.timedelta(hours=2)
    )
    assert notify_owners(org, kind="policy", title="D", not_within=dt.timedelta(hours=1))
    assert list(Notification.objects.order_by("title").values_list("title", flat=True)) == [
        "A",
        "C",
        "D",
    ]


def test_marking_read(org, other_org):
    one = notify_owners(org, kind="a", title="One")
    notify_owners(org, kind="a", title="Two")
    theirs = notify_owners(other_org, kind="a", title="Theirs")

    assert notification_mark_read(organization=org, notification=one)
    assert not notification_mark_read(organization=org, notification=one)  # already read
    assert notifications_mark_all_read(organization=org) == 1
    theirs.refresh_from_db()
    assert theirs.read_at is None
