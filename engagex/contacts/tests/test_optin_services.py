"""Double opt-in services: links, confirming, sending in batches, resending."""

import time
from datetime import timedelta

import pytest
from django.core import mail, signing
from django.core.exceptions import ValidationError
from django.utils import timezone

from engagex.audit.models import AuditEntry
from engagex.contacts.models import Contact, ListMembership
from engagex.contacts.services import optin
from engagex.contacts.services.optin import (
    OptinLinkError,
    confirmation_resend,
    confirmation_token,
    confirmations_queue,
    confirmations_send,
    optin_check,
    optin_confirm,
)
from engagex.contacts.tests.factories import (
    ContactListFactory,
    ListMembershipFactory,
    SuppressionFactory,
)


@pytest.fixture
def double_list(org):
    return ContactListFactory(organization=org, name="Weekly digest", opt_in="double")


@pytest.fixture
def pending(double_list):
    return ListMembershipFactory(
        contact_list=double_list,
        status="unconfirmed",
        contact__status="unconfirmed",
        contact__email="jane@example.com",
        contact__first_name="Jane",
    )


def old_token(membership, days: int) -> str:
    """A genuinely signed token whose timestamp lies `days` in the past."""

    class Backdated(signing.TimestampSigner):
        def timestamp(self):
            return signing.b62_encode(int(time.time()) - days * 86400)

    return Backdated(salt=optin.TOKEN_SALT).sign_object(membership.pk)


# -- confirming ----------------------------------------------------------------------------


def test_confirm_subscribes_and_records_consent(pending):
    _membership, changed = optin_confirm(
        token=confirmation_token(pending), ip_address="203.0.113.7"
    )
    assert changed
    pending.refresh_from_db()
    assert pending.status == "subscribed" and pending.confirmed_at is not None
    contact = Contact.objects.get(pk=pending.contact_id)
    assert contact.status == "subscribed"
    assert contact.consent_source == "Double opt-in confirmation"
    assert contact.consent_ip == "203.0.113.7"
    assert contact.consent_at == pending.confirmed_at
    assert "Weekly digest" in contact.consent_text and "Acme Inc" in contact.consent_text


def test_confirming_twice_changes_nothing_the_second_time(pending):
    token = confirmation_token(pending)
    optin_confirm(token=token, ip_address="203.0.113.7")
    pending.refresh_from_db()
    first_confirmed = pending.confirmed_at
    _membership, changed = optin_confirm(token=token, ip_address="198.51.100.1")
    assert not changed
    pending.refresh_from_db()
    assert pending.confirmed_at == first_confirmed
    assert Contact.objects.get(pk=pending.contact_id).consent_ip == "203.0.113.7"


def test_a_subscribed_contact_stays_subscribed(double_list):
    membership = ListMembershipFactory(contact_list=double_list, status="unconfirmed")
    optin_confirm(token=confirmation_token(membership))
    assert Contact.objects.get(pk=membership.contact_id).status == "subscribed"


@pytest.mark.parametrize(
    "token",
    ["", "garbage", "MTIz:1u0000:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"],
)
def test_forged_tokens_are_invalid_and_change_nothing(pending, token):
    with pytest.raises(OptinLinkError) as caught:
        optin_confirm(token=token)
    assert caught.value.code == "invalid"
    pending.refresh_from_db()
    assert pending.status == "unconfirmed"


def test_a_token_signed_for_another_purpose_is_invalid(pending):
    token = signing.dumps(pending.pk, salt="something.else")
    with pytest.raises(OptinLinkError) as caught:
        optin_check(token)
    assert caught.value.code == "invalid"


def test_a_token_older_than_30_days_has_expired(pending):
    assert optin_check(old_token(pending, days=29)) == pending
    with pytest.raises(OptinLinkError) as caught:
        optin_confirm(token=old_token(pending, days=31))
    assert caught.value.code == "expired"
    assert "expired" in caught.value.message
    pending.refresh_from_db()
    assert pending.status == "unconfirmed"


def test_a_link_to_a_removed_membership_is_invalid(pending):
    token = confirmation_token(pending)
    pending.delete()
    with pytest.raises(OptinLinkError) as caught:
        optin_check(token)
    assert caught.value.code == "invalid"


def test_a_deleted_contact_cannot_confirm(pending):
    Contact.objects.filter(pk=pending.contact_id).update(deleted_at=timezone.now())
    with pytest.raises(OptinLinkError) as caught:
        optin_confirm(token=confirmation_token(pending))
    assert caught.value.code == "invalid"


@pytest.mark.parametrize(
    "change",
    ["membership_unsubscribed", "contact_unsubscribed", "contact_bounced", "suppressed"],
)
def test_an_old_link_never_resubscribes_someone_who_opted_out(org, pending, change):
    if change == "membership_unsubscribed":
        ListMembership.objects.filter(pk=pending.pk).update(status="unsubscribed")
    elif change == "suppressed":
        SuppressionFactory(organization=org, email=pending.contact.email)
    else:
        Contact.objects.filter(pk=pending.contact_id).update(status=change.split("_")[1])
    with pytest.raises(OptinLinkError) as caught:
        optin_confirm(token=confirmation_token(pending))
    assert caught.value.code == "unavailable"
    assert ListMembership.objects.get(pk=pending.pk).status != "subscribed"
    assert Contact.objects.get(pk=pending.contact_id).consent_source == ""


# -- queueing and sending ------------------------------------------------------------------


def test_queue_counts_pending_and_defers_one_task_per_list(
    org, double_list, pending, django_capture_on_commit_callbacks
):
    from procrastinate.contrib.django.models import ProcrastinateJob

    with django_capture_on_commit_callbacks(execute=True):
        assert confirmations_queue(organization=org, contact_list=double_list) == 1
        assert confirmations_queue(organization=org, contact_list=double_list) == 1
    jobs = ProcrastinateJob.objects.filter(
        task_name="engagex.contacts.tasks.optin.send_list_confirmations"
    )
    assert jobs.count() == 1  # the second call found one already waiting


def test_queue_with_nothing_pending_defers_nothing(
    org, double_list, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert confirmations_queue(organization=org, contact_list=double_list) == 0
    assert callbacks == []


def test_send_emails_everyone_pending_in_batches_and_stamps_them(org, double_list):
    memberships = [
        ListMembershipFactory(contact_list=double_list, status="unconfirmed") for _ in range(5)
    ]
    already_sent = ListMembershipFactory(
        contact_list=double_list, status="unconfirmed", confirmation_sent_at=timezone.now()
    )
    confirmed = ListMembershipFactory(contact_list=double_list, status="subscribed")
    opted_out = ListMembershipFactory(
        contact_list=double_list, status="unconfirmed", contact__status="unsubscribed"
    )
    suppressed = ListMembershipFactory(contact_list=double_list, status="unconfirmed")
    SuppressionFactory(organization=org, email=suppressed.contact.email)

    sent = confirmations_send(organization_id=org.pk, list_id=double_list.pk, batch_size=2)

    assert sent == 5
    recipients = sorted(message.to[0] for message in mail.outbox)
    assert recipients == sorted(m.contact.email for m in memberships)
    for membership in memberships:
        membership.refresh_from_db()
        assert membership.confirmation_sent_at is not None
    for skipped in (confirmed, opted_out, suppressed):
        skipped.refresh_from_db()
        assert skipped.confirmation_sent_at is None
    assert ListMembership.objects.get(pk=already_sent.pk).confirmation_sent_at is not None
    # Nothing left: a second run sends nothing.
    assert confirmations_send(organization_id=org.pk, list_id=double_list.pk) == 0
    assert len(mail.outbox) == 5


def test_the_email_names_the_organization_and_carries_a_working_link(org, pending):
    confirmations_send(organization_id=org.pk, list_id=pending.contact_list_id)
    [message] = mail.outbox
    assert message.subject == "Please confirm your subscription to Acme Inc"
    assert message.to == ["jane@example.com"]
    assert "Hi Jane," in message.body and "Weekly digest" in message.body
    html = message.alternatives[0][0]
    assert "Confirm subscription" in html
    token = message.body.split("/confirm/")[1].split("/")[0]
    membership, changed = optin_confirm(token=token)
    assert membership.pk == pending.pk and changed


def test_a_failing_mail_server_leaves_the_batch_unstamped(org, pending, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    with pytest.raises(OSError):
        confirmations_send(organization_id=org.pk, list_id=pending.contact_list_id)
    pending.refresh_from_db()
    assert pending.confirmation_sent_at is None  # the retry will send it


# -- resending -------------------------------------------------------------------------------


def test_resend_sends_again_after_ten_minutes_only(
    org, owner, pending, django_capture_on_commit_callbacks
):
    ListMembership.objects.filter(pk=pending.pk).update(
        confirmation_sent_at=timezone.now() - timedelta(minutes=11)
    )
    with django_capture_on_commit_callbacks(execute=True):
        confirmation_resend(organization=org, actor=owner, membership=pending)
    assert [m.to for m in mail.outbox] == [["jane@example.com"]]
    assert AuditEntry.objects.filter(action="contacts.optin_resent").count() == 1
    with pytest.raises(ValidationError, match="less than 10 minutes ago"):
        confirmation_resend(organization=org, actor=owner, membership=pending)
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("confirmed", "already confirmed"),
        ("left", "unsubscribed from the list"),
        ("suppressed", "suppression list"),
    ],
)
def test_resend_refuses_when_there_is_nothing_to_confirm(org, owner, pending, setup, message):
    if setup == "confirmed":
        ListMembership.objects.filter(pk=pending.pk).update(status="subscribed")
    elif setup == "left":
        ListMembership.objects.filter(pk=pending.pk).update(status="unsubscribed")
    else:
        SuppressionFactory(organization=org, email=pending.contact.email)
    with pytest.raises(ValidationError, match=message):
        confirmation_resend(organization=org, actor=owner, membership=pending)
    assert mail.outbox == []


def test_resend_refuses_a_membership_of_another_organization(other_org, owner, pending):
    with pytest.raises(ValueError):
        confirmation_resend(organization=other_org, actor=owner, membership=pending)
