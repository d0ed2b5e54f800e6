"""The inbound intake (`inbound_process`): what a received message changes, and the record
kept of every message — processed, ignored, not understood or failed."""

from __future__ import annotations

import pytest
from django.db import connection

from engagex.contacts.models import Contact, Suppression
from engagex.delivery.identifiers import message_id_for, unsubscribe_token, verp_address
from engagex.delivery.models import Delivery
from engagex.tracking.inbound import RAW_LIMIT, inbound_process
from engagex.tracking.models import InboundMessage, TrackingEvent
from engagex.tracking.tests.helpers import delivery_of, send_newsletter
from engagex.tracking.tests.inbound_servers import fixture
from engagex.tracking.tests.test_inbound_parse import (
    BOUNCE_DOMAIN,
    FOREIGN_MESSAGE_ID,
    forged_verp,
)


@pytest.fixture
def sent(established_org, sink):
    mailing, _ = send_newsletter(established_org, sink, people=("ann", "bob"))
    return mailing


def contact_of(mailing, name):
    return Contact.objects.get(pk=delivery_of(mailing, name).contact_id)


def process(raw: bytes, **envelope) -> InboundMessage:
    message = inbound_process(raw, source="smtp", **envelope)
    message.refresh_from_db()  # what was stored, not what is in memory
    return message


def test_a_hard_bounce_is_processed_and_recorded(sent):
    ann = delivery_of(sent, "ann")
    raw = fixture("postfix_hard_511.eml", ann.pk)
    message = process(raw, envelope_from="", envelope_to=[verp_address(ann.pk, BOUNCE_DOMAIN)])

    assert (message.kind, message.outcome) == ("bounce", "processed")
    assert message.note == "hard bounce 5.1.1: suppressed"
    assert message.organization_id == sent.organization_id
    assert message.subject == "Undelivered Mail Returned to Sender"
    assert message.envelope_to == verp_address(ann.pk, BOUNCE_DOMAIN)
    assert (bytes(message.raw), message.size) == (raw, len(raw))
    ann.refresh_from_db()
    assert (ann.bounce_type, ann.bounced_at is not None) == ("hard", True)
    assert contact_of(sent, "ann").status == "bounced"
    assert contact_of(sent, "bob").status == "subscribed"
    assert Suppression.objects.get().email == "ann@example.com"


def test_the_same_bounce_twice_changes_things_once(sent):
    ann = delivery_of(sent, "ann")
    raw = fixture("gmail_511.eml", ann.pk)
    process(raw)
    again = process(raw)
    assert again.outcome == "processed"
    assert again.note == "hard bounce 5.1.1: nothing changed (already bounced)"
    assert TrackingEvent.objects.filter(kind="bounce").count() == 1
    assert InboundMessage.objects.count() == 2  # every message is recorded


def test_a_delay_warning_is_a_soft_bounce(sent):
    ann = delivery_of(sent, "ann")
    message = process(fixture("postfix_delayed_422.eml", ann.pk))
    assert message.note == "soft bounce 4.2.2"
    ann.refresh_from_db()
    assert ann.bounce_type == "soft"
    assert contact_of(sent, "ann").status == "subscribed"
    assert not Suppression.objects.exists()


def test_a_success_report_changes_nothing(sent):
    ann = delivery_of(sent, "ann")
    message = process(fixture("postfix_relayed_success.eml", ann.pk))
    assert (message.outcome, message.note) == ("ignored", "delivery report without a failure")
    assert message.organization_id == sent.organization_id
    ann.refresh_from_db()
    assert ann.bounced_at is None


def test_a_forged_bounce_changes_nothing_and_is_kept(sent):
    ann = delivery_of(sent, "ann")
    raw = fixture(
        "postfix_hard_511.eml", ann.pk, VERP=forged_verp(ann.pk), MESSAGE_ID=FOREIGN_MESSAGE_ID
    )
    message = process(raw, envelope_to=[forged_verp(ann.pk)])

    assert (message.kind, message.outcome) == ("bounce", "ignored")
    assert message.note == "bounce for a message that isn't ours"
    assert message.organization_id is None
    ann.refresh_from_db()
    assert ann.bounced_at is None
    assert contact_of(sent, "ann").status == "subscribed"
    assert not Suppression.objects.exists()
    assert not TrackingEvent.objects.filter(kind="bounce").exists()


def test_a_forged_verp_falls_back_to_a_genuine_message_id(sent):
    ann = delivery_of(sent, "ann")
    raw = fixture("postfix_hard_511.eml", ann.pk, VERP=forged_verp(ann.pk))
    assert process(raw).outcome == "processed"
    assert contact_of(sent, "ann").status == "bounced"


def test_a_bounce_for_a_delivery_that_is_gone_is_ignored(sent):
    ann = delivery_of(sent, "ann")
    raw = fixture("gmail_511.eml", ann.pk)
    Delivery.objects.filter(pk=ann.pk).delete()
    message = process(raw)
    assert (message.outcome, message.note) == (
        "ignored",
        f"bounce for delivery {ann.pk}, which is gone",
    )


def test_a_complaint_suppresses(sent):
    bob = delivery_of(sent, "bob")
    message = process(fixture("arf_generic_abuse.eml", bob.pk))
    assert (message.kind, message.outcome, message.note) == (
        "complaint",
        "processed",
        "complaint (abuse)",
    )
    assert contact_of(sent, "bob").status == "complained"
    assert Suppression.objects.get().reason == "complaint"


def test_a_not_spam_report_changes_nothing(sent):
    bob = delivery_of(sent, "bob")
    message = process(fixture("arf_not_spam_headers_only.eml", bob.pk))
    assert message.note == "complaint (not-spam): nothing changed (not a complaint)"
    assert contact_of(sent, "bob").status == "subscribed"


def test_an_auto_reply_is_ignored(sent):
    ann = delivery_of(sent, "ann")
    message = process(fixture("auto_reply_out_of_office.eml", ann.pk))
    assert (message.kind, message.outcome) == ("auto_reply", "ignored")
    assert message.note.startswith("auto-reply (")
    assert contact_of(sent, "ann").status == "subscribed"
    assert not TrackingEvent.objects.filter(kind="bounce").exists()


def test_a_mailto_unsubscribe_unsubscribes(sent):
    ann = delivery_of(sent, "ann")
    raw = fixture("unsubscribe_request.eml", ann.pk)
    message = process(raw, envelope_to=[f"unsubscribe@{BOUNCE_DOMAIN}"])
    assert (message.kind, message.outcome, message.note) == (
        "unsubscribe",
        "processed",
        "unsubscribed",
    )
    assert contact_of(sent, "ann").status == "unsubscribed"
    event = TrackingEvent.objects.get(kind="unsubscribe")
    assert (event.delivery_id, event.detail["source"]) == (ann.pk, "mailto")


@pytest.mark.parametrize(
    ("token", "note"),
    [
        ("garbage", "unsubscribe request with invalid token"),
        ("forged", "unsubscribe request with invalid token"),
        ("", "unsubscribe request with no token in the subject"),
    ],
)
def test_a_forged_unsubscribe_token_does_nothing(sent, token, note):
    ann = delivery_of(sent, "ann")
    if token == "forged":  # our format, another delivery's MAC
        token = (
            unsubscribe_token(ann.pk).split("-")[0] + "-" + unsubscribe_token(10**9).split("-")[1]
        )
    raw = fixture("unsubscribe_request.eml", ann.pk, UNSUBSCRIBE_TOKEN=token)
    message = process(raw, envelope_to=[f"unsubscribe@{BOUNCE_DOMAIN}"])
    assert (message.outcome, message.note) == ("ignored", note)
    assert contact_of(sent, "ann").status == "subscribed"


def test_mail_nobody_understands_is_kept_as_unknown(db):
    raw = b"From: someone@example.net\r\nSubject: Hello there\r\n\r\nHow are you?\r\n"
    message = process(raw, envelope_from="someone@example.net", envelope_to=["postmaster@x.test"])
    assert (message.kind, message.outcome) == ("unknown", "unknown")
    assert message.note  # says why
    assert message.envelope_from == "someone@example.net"


def test_only_the_first_256_kb_are_kept(sent):
    ann = delivery_of(sent, "ann")
    raw = fixture("gmail_511.eml", ann.pk) + b"x" * (2 * RAW_LIMIT)
    message = process(raw)
    assert message.outcome == "processed"
    assert len(bytes(message.raw)) == RAW_LIMIT
    assert message.size == len(raw)


@pytest.fixture
def broken_event_table(db):
    """Recording a tracking event fails inside the database (a disk error, a bug): real
    failure, no mock. Rolled back with the test's transaction."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION test_broken() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'disk on fire'; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER test_broken BEFORE INSERT ON tracking_trackingevent "
            "FOR EACH ROW EXECUTE FUNCTION test_broken()"
        )


def test_a_failure_while_acting_is_stored_as_error_and_undone(sent, broken_event_table):
    ann = delivery_of(sent, "ann")
    message = process(fixture("gmail_511.eml", ann.pk))

    assert (message.kind, message.outcome) == ("bounce", "error")
    assert "disk on fire" in message.note
    ann.refresh_from_db()
    assert ann.bounced_at is None  # the half-done bounce was rolled back
    assert contact_of(sent, "ann").status == "subscribed"
    # The intake carries on with the next message.
    assert process(b"Subject: hi\r\n\r\nhello\r\n").outcome == "unknown"


def test_message_ids_of_another_installation_are_not_trusted(sent):
    ann = delivery_of(sent, "ann")
    other_key_id = message_id_for(ann.pk, "mail.acme.example").replace("<d", "<d1")
    raw = fixture(
        "sendmail_generic_status.eml", ann.pk, MESSAGE_ID=other_key_id, VERP=forged_verp(ann.pk)
    )
    assert process(raw).outcome == "ignored"
    assert contact_of(sent, "ann").status == "subscribed"
