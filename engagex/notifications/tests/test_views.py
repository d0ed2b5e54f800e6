"""The notifications page and the bell: one organization's notifications, shown to every
member; marked read by editors and up; nobody else's ever visible or reachable."""

import pytest
from django.urls import reverse

from engagex.notifications.models import Notification
from engagex.notifications.services import notify_owners

URL = reverse("notifications:list")


@pytest.fixture
def notifications(org, other_org):
    return {
        "paused": notify_owners(
            org,
            kind="sending_paused",
            level="danger",
            title="Sending paused",
            body="Bounce rate 7.2%",
            link="/contacts/suppressions/",
        ),
        "policy": notify_owners(
            org, kind="policy_bounce", level="warning", title="Refused as spam"
        ),
        "theirs": notify_owners(other_org, kind="x", title="Outsider secret"),
    }


def read_url(notification):
    return reverse("notifications:read", args=[notification.pk])


def test_members_see_their_organizations_notifications(login, viewer, org, notifications):
    page = login(viewer, org).get(URL).content.decode()
    assert "Sending paused" in page and "Bounce rate 7.2%" in page and "Refused as spam" in page
    assert 'href="/contacts/suppressions/"' in page
    assert "Outsider secret" not in page
    assert "2 unread notifications" in page
    assert "Mark as read" not in page  # a viewer can't


def test_the_bell_counts_unread_notifications_on_every_page(login, owner, org, notifications):
    client = login(owner, org)
    bell = client.get(reverse("web:dashboard")).content.decode()
    assert 'id="notification-bell"' in bell and 'aria-label="Notifications, 2 unread"' in bell
    client.post(read_url(notifications["paused"]))
    assert (
        'aria-label="Notifications, 1 unread"'
        in client.get(reverse("web:dashboard")).content.decode()
    )


def test_an_editor_marks_one_read(login, editor, org, notifications):
    client = login(editor, org)
    response = client.post(read_url(notifications["paused"]), {"page": "1"})
    assert response.status_code == 302 and response["Location"] == URL
    assert Notification.objects.get(pk=notifications["paused"].pk).read_at is not None
    assert Notification.objects.get(pk=notifications["policy"].pk).read_at is None
    page = client.get(URL).content.decode()
    assert "Marked as read" in page and "1 unread notification." in page


def test_mark_all_read(login, owner, org, notifications):
    client = login(owner, org)
    response = client.post(reverse("notifications:read-all"))
    assert response.status_code == 302
    assert not Notification.objects.filter(organization=org, read_at__isnull=True).exists()
    assert Notification.objects.get(pk=notifications["theirs"].pk).read_at is None
    page = client.get(URL).content.decode()
    assert "all caught up" in page and "Mark all as read" not in page


def test_a_viewer_cannot_mark_read(login, viewer, org, notifications):
    client = login(viewer, org)
    assert client.post(read_url(notifications["paused"])).status_code == 403
    assert client.post(reverse("notifications:read-all")).status_code == 403
    assert not Notification.objects.filter(read_at__isnull=False).exists()


def test_an_outsider_can_neither_see_nor_mark_them(login, outsider, other_org, notifications):
    client = login(outsider, other_org)
    page = client.get(URL).content.decode()
    assert "Outsider secret" in page and "Sending paused" not in page
    assert client.post(read_url(notifications["paused"])).status_code == 404
    client.post(reverse("notifications:read-all"))  # marks only their own
    assert Notification.objects.get(pk=notifications["paused"].pk).read_at is None


def test_signed_out_visitors_are_sent_to_sign_in(client, notifications):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.post(read_url(notifications["paused"])).status_code == 302
    assert Notification.objects.get(pk=notifications["paused"].pk).read_at is None


def test_an_empty_list_says_what_will_appear(login, owner, org):
    page = login(owner, org).get(URL).content.decode()
    assert "No notifications yet" in page
    assert 'aria-label="Notifications"' in page  # the bell, without a count


def test_long_lists_are_paginated(login, owner, org, django_assert_max_num_queries):
    for number in range(30):
        notify_owners(org, kind="x", title=f"Note {number:02d}")
    client = login(owner, org)
    with django_assert_max_num_queries(12):
        first = client.get(URL).content.decode()
    assert "Note 29" in first and "Note 05" in first and "Note 04" not in first
    second = client.get(URL, {"page": 2}).content.decode()
    assert "Note 04" in second and "Note 29" not in second
