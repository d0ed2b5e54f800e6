"""The sender against a real local SMTP server: personalization, headers, footer, faults
and retries, two senders at once, kill switch; and the unsubscribe link it puts in."""

import threading
from datetime import timedelta
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from django.db import connection
from django.utils import timezone

from engagex.contacts.tests.factories import ContactFactory
from engagex.delivery import outbox
from engagex.delivery.killswitch import killswitch_set
from engagex.delivery.models import Delivery, Mailing
from engagex.delivery.tests.helpers import drain, new_sender, queue
from engagex.delivery.tests.smtp_servers import smtp_server

# Warm-up has tests of its own (test_limits, test_sender_pacing).
pytestmark = pytest.mark.usefixtures("established_org")


def test_a_mailing_is_sent_personalized_with_headers_footer_and_faults_handled(org, sink):
    smtp, handler = sink
    org.postal_address = "1 Main Street, Springfield"
    org.save()
    ada = ContactFactory(organization=org, first_name="Ada", email="ada@example.org")
    hard = ContactFactory(organization=org, first_name="Hal", email="hard@example.org")
    soft = ContactFactory(organization=org, first_name="Sol", email="soft@example.org")
    mailing = queue(
        org,
        [ada, hard, soft],
        subject="Hello {{ first_name }}",
        html="<html><body><p>Dear {{ first_name|default('friend') }}</p></body></html>",
    )
    sender = new_sender(smtp)
    try:
        drain(sender)

        (sent,) = handler.messages
        message = message_from_bytes(sent[2], policy=default_policy)
        assert message["Subject"] == "Hello Ada" and message["To"].addresses[0].username == "ada"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert "/u/" in message["List-Unsubscribe"]
        html = message.get_body(("html",)).get_content()
        assert "Dear Ada" in html
        assert "1 Main Street, Springfield" in html and "Unsubscribe" in html  # the footer
        assert "Dear Ada" in message.get_body(("plain",)).get_content()

        states = {d.email: d for d in Delivery.objects.filter(mailing=mailing)}
        assert states["ada@example.org"].status == "sent"
        assert states["hard@example.org"].status == "failed"
        assert "No such user" in states["hard@example.org"].smtp_reply
        assert states["soft@example.org"].status == "queued"  # waiting for its retry

        # Time passes: the retry goes through, and the mailing is complete.
        Delivery.objects.filter(email="soft@example.org").update(
            next_attempt_at=timezone.now() - timedelta(seconds=1)
        )
        drain(sender)
        assert Delivery.objects.get(email="soft@example.org").status == "sent"
        assert outbox.mailings_finish() == 1
        mailing.refresh_from_db()
        assert mailing.status == Mailing.Status.DONE
    finally:
        sender.close()


def test_kill_switch_stops_the_organization_and_resuming_finishes(org, other_org, sink):
    smtp, handler = sink
    ours = queue(org, ContactFactory.create_batch(3, organization=org))
    theirs = queue(other_org, ContactFactory.create_batch(2, organization=other_org))
    sender = new_sender(smtp)
    try:
        killswitch_set(actor=None, on=True, organization=org)
        drain(sender)
        assert len(handler.messages) == 2  # the other organization still sends
        assert outbox.mailing_counts(ours)["queued"] == 3

        killswitch_set(actor=None, on=True)  # global: nothing at all
        assert sender.run_once() == 0

        killswitch_set(actor=None, on=False)
        killswitch_set(actor=None, on=False, organization=org)
        drain(sender)
        assert len(handler.messages) == 5
        assert outbox.mailing_counts(ours)["sent"] == 3
        assert outbox.mailing_counts(theirs)["sent"] == 2
    finally:
        sender.close()


@pytest.mark.django_db(transaction=True)
def test_two_senders_on_one_mailing_never_send_a_message_twice(org, sink):
    smtp, handler = sink
    queue(org, ContactFactory.create_batch(120, organization=org))

    def work(worker):
        sender = new_sender(smtp, worker)
        try:
            drain(sender, rounds=200)
        finally:
            sender.close()
            connection.close()

    threads = [threading.Thread(target=work, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    ids = handler.message_ids()
    assert len(ids) == 120 and len(set(ids)) == 120
    assert Delivery.objects.filter(status="sent").count() == 120


def test_unsubscribe_link_get_asks_and_one_click_post_unsubscribes(client, org, sink):
    smtp, handler = sink
    ada = ContactFactory(organization=org, email="ada@example.org")
    queue(org, [ada])
    sender = new_sender(smtp)
    try:
        drain(sender)
    finally:
        sender.close()
    message = message_from_bytes(handler.messages[0][2], policy=default_policy)
    link = message["List-Unsubscribe"].split("<")[1].split(">")[0]
    path = link[link.index("/u/") :]

    assert "Unsubscribe?" in client.get(path).content.decode()
    ada.refresh_from_db()
    assert ada.status == "subscribed"  # a GET (link scanners) changes nothing

    response = client.post(path, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200 and response.content == b"Unsubscribed."
    assert client.post(path, {"List-Unsubscribe": "One-Click"}).status_code == 200  # idempotent
    ada.refresh_from_db()
    assert ada.status == "unsubscribed"

    forged = path.rstrip("/")[:-3] + "aaa/"
    assert client.get(forged).status_code == 404


def test_view_online_link_shows_the_recipients_own_copy(client, org, sink):
    smtp, handler = sink
    ada = ContactFactory(organization=org, first_name="Ada", email="ada@example.org")
    queue(
        org,
        [ada],
        html='<p>Hi {{ first_name }}</p><a href="{{ view_online_url }}">View online</a>',
    )
    sender = new_sender(smtp)
    try:
        drain(sender)
    finally:
        sender.close()
    message = message_from_bytes(handler.messages[0][2], policy=default_policy)
    html = message.get_body(("html",)).get_content()
    link = html.split('href="')[1].split('"')[0]
    path = link[link.index("/m/mail/") :]

    response = client.get(path)
    assert response.status_code == 200 and "Hi Ada" in response.content.decode()
    assert "sandbox" in response["Content-Security-Policy"]
    # Another token type, or a forged one, opens nothing.
    unsubscribe = message["List-Unsubscribe"].split("<")[1].split(">")[0]
    token = unsubscribe.rstrip("/").rsplit("/", 1)[1]
    assert client.get(f"/m/mail/{token}/").status_code == 404
    assert client.get(path.rstrip("/")[:-3] + "aaa/").status_code == 404


def test_each_organization_sends_through_its_own_transport(org, other_org, sink, settings):
    from engagex.delivery.sending_settings import sending_settings_update

    settings.SENDING_ALLOW_PRIVATE_HOSTS = True  # both servers are on this machine
    smtp, platform = sink
    with smtp_server() as (own_controller, own):
        sending_settings_update(
            organization=other_org,
            actor=None,
            transport="smtp",
            smtp_host=own_controller.hostname,
            smtp_port=own_controller.port,
            smtp_security="none",
        )
        queue(org, [ContactFactory(organization=org, email="a@example.org")])
        queue(other_org, [ContactFactory(organization=other_org, email="b@example.org")])
        sender = new_sender(smtp)
        try:
            drain(sender)
        finally:
            sender.close()
    assert [rcpt for _, rcpt, _ in platform.messages] == ["a@example.org"]
    assert [rcpt for _, rcpt, _ in own.messages] == ["b@example.org"]


def test_non_ascii_template_text_goes_as_7bit_html_that_reads_the_same(org, sink):
    smtp, handler = sink
    queue(
        org,
        [ContactFactory(organization=org, first_name="Ada", email="ada@example.org")],
        html="<p>Grüße, {{ first_name }} — bis bald</p>",
    )
    sender = new_sender(smtp)
    try:
        drain(sender)
    finally:
        sender.close()
    message = message_from_bytes(handler.messages[0][2], policy=default_policy)
    html_part = message.get_body(("html",))
    assert html_part["Content-Transfer-Encoding"] == "7bit"
    assert "Gr&#252;&#223;e, Ada &#8212; bis bald" in html_part.get_content()
    assert "Grüße, Ada — bis bald" in message.get_body(("plain",)).get_content()
