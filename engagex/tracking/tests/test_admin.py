"""Operators read the mail the inbound server couldn't understand; nobody edits it."""

from django.urls import reverse

from engagex.accounts.tests.factories import UserFactory
from engagex.tracking.inbound import inbound_process


def test_operators_can_read_unknown_inbound_mail_but_not_change_it(client, db):
    raw = (
        b"From: someone@example.net\r\nSubject: What is this?\r\n\r\n"
        b"Hello, this is not a bounce.\r\n"
    )
    message = inbound_process(raw, source="smtp", envelope_from="someone@example.net")
    assert message.outcome == "unknown"
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    listing = client.get(reverse("admin:tracking_inboundmessage_changelist") + "?outcome=unknown")
    assert "What is this?" in listing.content.decode()
    page = client.get(reverse("admin:tracking_inboundmessage_change", args=[message.pk]))
    assert "Hello, this is not a bounce." in page.content.decode()
    assert client.get(reverse("admin:tracking_inboundmessage_add")).status_code == 403
    response = client.post(
        reverse("admin:tracking_inboundmessage_change", args=[message.pk]), {"subject": "x"}
    )
    assert response.status_code == 403
    message.refresh_from_db()
    assert message.subject == "What is this?"


def test_people_who_are_not_staff_get_nothing(client, owner):
    client.force_login(owner)
    response = client.get(reverse("admin:tracking_inboundmessage_changelist"))
    assert response.status_code == 302  # to the admin sign-in
