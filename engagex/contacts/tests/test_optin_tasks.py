"""End to end: adding to a double opt-in list puts a confirmation email in the dev inbox
(real worker, real SMTP to the capture server), and its link confirms."""

import re
from email import message_from_bytes, policy

from engagex.contacts.models import Contact, ListMembership
from engagex.contacts.services.lists import list_members_add
from engagex.contacts.tests.factories import ContactFactory, ContactListFactory
from engagex.devmail.models import CapturedMessage


def test_confirmation_email_reaches_the_dev_inbox_and_its_link_confirms(
    org, owner, run_jobs, capture_server, settings, client
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = capture_server.hostname
    settings.EMAIL_PORT = capture_server.port
    contact_list = ContactListFactory(organization=org, name="Weekly digest", opt_in="double")
    jane = ContactFactory(organization=org, email="jane@example.com", status="unconfirmed")
    john = ContactFactory(organization=org, email="john@example.com", status="subscribed")

    added = list_members_add(
        organization=org, actor=owner, contact_list=contact_list, contact_ids=[jane.pk, john.pk]
    )
    assert added == 2
    assert CapturedMessage.objects.count() == 0  # nothing is sent inside the request

    run_jobs()

    captured = {m.recipients: m for m in CapturedMessage.objects.all()}
    assert set(captured) == {"jane@example.com", "john@example.com"}
    message = message_from_bytes(bytes(captured["jane@example.com"].raw), policy=policy.default)
    assert message["Subject"] == "Please confirm your subscription to Acme Inc"
    text = message.get_body(preferencelist=("plain",)).get_content()
    path = re.search(r"https?://[^/\s]+(/confirm/[^\s]+/)", text).group(1)
    assert (
        ListMembership.objects.filter(contact_list=contact_list, confirmation_sent_at=None).count()
        == 0
    )

    # A scanner's GET confirms nothing; the person's click on the button does.
    client.get(path)
    assert ListMembership.objects.get(contact=jane).status == "unconfirmed"
    response = client.post(path)
    assert "Subscription confirmed" in response.content.decode()
    assert ListMembership.objects.get(contact=jane).status == "subscribed"
    assert Contact.objects.get(pk=jane.pk).status == "subscribed"
    assert ListMembership.objects.get(contact=john).status == "unconfirmed"

    # Running the queue again sends nobody a second email.
    list_members_add(
        organization=org, actor=owner, contact_list=contact_list, contact_ids=[jane.pk, john.pk]
    )
    run_jobs()
    assert CapturedMessage.objects.count() == 2
