"""Double opt-in: confirmation emails with a signed link, and the confirmation itself.

Adding someone to a double opt-in list makes their membership "unconfirmed";
`confirmations_queue` then has a background task email every unconfirmed membership of
the list that was not emailed yet, in batches (imports can add many thousands at once).
The link carries a signed, time-stamped membership id; POSTing the public page behind it
subscribes the membership and records the consent on the contact. GET only shows the
page, so mail scanners that prefetch links confirm nothing.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from procrastinate.exceptions import AlreadyEnqueued

from engagex import audit
from engagex.contacts.models import Contact, ContactList, ListMembership
from engagex.contacts.selectors.suppressions import is_suppressed, suppressed_exists
from engagex.web.emails import absolute_url, render_email, send_email

TOKEN_SALT = "engagex.contacts.optin"  # noqa: S105 - a signing namespace, not a secret
TOKEN_MAX_AGE = timedelta(days=30)
RESEND_INTERVAL = timedelta(minutes=10)
# Emails per claimed batch: one SMTP connection and one short transaction each.
SEND_BATCH_SIZE = 200
CONSENT_SOURCE = "Double opt-in confirmation"
EMAIL_TEMPLATE = "optin_confirm"
# A contact with one of these statuses asked (or the system decided) not to be mailed:
# no confirmation emails, and an old link does not resubscribe them.
OPTED_OUT = (
    Contact.Status.UNSUBSCRIBED,
    Contact.Status.BOUNCED,
    Contact.Status.COMPLAINED,
)


class OptinLinkError(Exception):
    """The confirmation link cannot be used; `message` is for the person who clicked it.

    `code`: "invalid" (forged, mangled, or the membership is gone → 404), "expired" (→ 410),
    "unavailable" (they unsubscribed, bounced or are suppressed since → 410).
    """

    def __init__(self, message: str, *, code: str, membership: ListMembership | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.membership = membership


# -- links -------------------------------------------------------------------------------


def confirmation_token(membership: ListMembership) -> str:
    return signing.dumps(membership.pk, salt=TOKEN_SALT)


def confirmation_url(membership: ListMembership) -> str:
    token = confirmation_token(membership)
    return absolute_url(reverse("contacts-public:confirm", args=[token]))


def _membership_from_token(token: str) -> ListMembership:
    try:
        membership_id = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE.total_seconds())
    except signing.SignatureExpired:
        raise OptinLinkError(
            _(
                "This confirmation link has expired. Sign up again, or ask the sender to "
                "send you a new confirmation email."
            ),
            code="expired",
        ) from None
    except signing.BadSignature:
        raise OptinLinkError(_("This confirmation link is not valid."), code="invalid") from None
    if not isinstance(membership_id, int):
        raise OptinLinkError(_("This confirmation link is not valid."), code="invalid")
    membership = (
        ListMembership.objects.select_related("contact", "contact_list", "organization")
        .filter(pk=membership_id)
        .first()
    )
    if membership is None or membership.contact.deleted_at is not None:
        raise OptinLinkError(
            _("This subscription no longer exists, so there is nothing to confirm."),
            code="invalid",
        )
    return membership


def _check_confirmable(membership: ListMembership) -> None:
    contact = membership.contact
    if (
        membership.status == ListMembership.Status.UNSUBSCRIBED
        or contact.status in OPTED_OUT
        or is_suppressed(organization=membership.organization, email=contact.email)
    ):
        raise OptinLinkError(
            _(
                "This address was unsubscribed or can't receive emails from %(org)s any more, "
                "so this old link can't subscribe it again."
            )
            % {"org": membership.organization.name},
            code="unavailable",
            membership=membership,
        )


def optin_check(token: str) -> ListMembership:
    """The membership behind a confirmation link (for the page); raises OptinLinkError."""
    membership = _membership_from_token(token)
    if membership.status != ListMembership.Status.SUBSCRIBED:
        _check_confirmable(membership)
    return membership


@transaction.atomic
def optin_confirm(*, token: str, ip_address: str | None = None) -> tuple[ListMembership, bool]:
    """Confirm the subscription behind a link. Idempotent: returns (membership, changed);
    an already confirmed membership is returned unchanged with changed=False.

    Confirming subscribes the membership, turns an unconfirmed contact into a subscribed
    one and records the consent (source, time, IP, wording) on the contact.
    """
    membership = _membership_from_token(token)
    # Lock both rows: two clicks at once must confirm once, and an unsubscribe racing
    # with the click must not be overwritten.
    membership = (
        ListMembership.objects.select_for_update()
        .select_related("contact", "contact_list", "organization")
        .get(pk=membership.pk)
    )
    contact = Contact.objects.select_for_update().get(pk=membership.contact_id)
    membership.contact = contact
    if membership.status == ListMembership.Status.SUBSCRIBED:
        return membership, False
    _check_confirmable(membership)
    now = timezone.now()
    membership.status = ListMembership.Status.SUBSCRIBED
    membership.confirmed_at = now
    membership.unsubscribed_at = None
    membership.save(update_fields=["status", "confirmed_at", "unsubscribed_at"])
    if contact.status == Contact.Status.UNCONFIRMED:
        contact.status = Contact.Status.SUBSCRIBED
    contact.consent_source = CONSENT_SOURCE
    contact.consent_at = now
    contact.consent_ip = ip_address or None
    contact.consent_text = (
        f"Confirmed the subscription to the list “{membership.contact_list.name}” of "
        f"{membership.organization.name} with the link in the confirmation email."
    )
    contact.save(
        update_fields=[
            "status",
            "consent_source",
            "consent_at",
            "consent_ip",
            "consent_text",
            "updated_at",
        ]
    )
    return membership, True


# -- sending -----------------------------------------------------------------------------


def _subject(organization) -> str:
    subject = _("Please confirm your subscription to %(org)s") % {"org": organization.name}
    return " ".join(subject.split())  # names are user input: no header injection


def _email_context(membership: ListMembership) -> dict:
    return {
        "organization": membership.organization,
        "contact_list": membership.contact_list,
        "contact": membership.contact,
        "confirm_url": confirmation_url(membership),
        "expires_at": timezone.now() + TOKEN_MAX_AGE,
    }


def _pending(organization_id, list_id):
    """Unconfirmed memberships of a list never emailed, whose contact may be mailed."""
    return (
        ListMembership.objects.filter(
            organization_id=organization_id,
            contact_list_id=list_id,
            status=ListMembership.Status.UNCONFIRMED,
            confirmation_sent_at__isnull=True,
            contact__deleted_at__isnull=True,
        )
        .exclude(contact__status__in=OPTED_OUT)
        .exclude(suppressed_exists(email_ref="contact__email"))
    )


def confirmations_queue(*, organization, contact_list: ContactList) -> int:
    """Queue confirmation emails for every unconfirmed, never-emailed membership of the list.

    Returns how many are waiting. The task is deferred when the surrounding transaction
    commits and does the work in batches, so this stays cheap for any number of rows. At
    most one task per list waits in the queue; it sends to everyone pending when it runs.
    """
    if contact_list.organization_id != organization.pk:
        raise ValueError("The list belongs to another organization.")
    pending = _pending(organization.pk, contact_list.pk).count()
    if pending:
        organization_id, list_id = str(organization.pk), str(contact_list.pk)
        transaction.on_commit(lambda: _defer_send(organization_id, list_id))
    return pending


def _defer_send(organization_id: str, list_id: str) -> None:
    from engagex.contacts.tasks.optin import send_list_confirmations

    try:
        # A savepoint, so a refused duplicate cannot break a surrounding transaction.
        with transaction.atomic():
            send_list_confirmations.configure(queueing_lock=f"optin-list-{list_id}").defer(
                organization_id=organization_id, list_id=list_id
            )
    except AlreadyEnqueued:
        pass  # the waiting task will pick these rows up too


def confirmations_send(*, organization_id, list_id, batch_size: int = SEND_BATCH_SIZE) -> int:
    """Email every pending membership of a list (the task's body). Returns how many were sent.

    Each batch is claimed with `FOR UPDATE SKIP LOCKED` (two workers never email the same
    person), sent over one SMTP connection, and stamped in the same transaction. If sending
    fails, the batch's stamps roll back and a retry sends it again: a duplicate confirmation
    email is better than none.
    """
    sent = 0
    last_id = 0  # keyset: each batch starts after the previous one, never rescans
    while True:
        with transaction.atomic():
            batch = list(
                _pending(organization_id, list_id)
                .filter(pk__gt=last_id)
                .select_for_update(skip_locked=True, of=("self",))
                .select_related("contact", "contact_list", "organization")
                .order_by("id")[:batch_size]
            )
            if not batch:
                return sent
            messages = []
            for membership in batch:
                subject = _subject(membership.organization)
                text, html = render_email(
                    EMAIL_TEMPLATE, {**_email_context(membership), "subject": subject}
                )
                message = EmailMultiAlternatives(
                    subject=subject,
                    body=text,
                    from_email=settings.DEFAULT_FROM_EMAIL,
                    to=[membership.contact.email],
                )
                message.attach_alternative(html, "text/html")
                messages.append(message)
            with get_connection() as smtp:
                smtp.send_messages(messages)
            ListMembership.objects.filter(pk__in=[m.pk for m in batch]).update(
                confirmation_sent_at=timezone.now()
            )
            sent += len(batch)
            last_id = batch[-1].pk


@transaction.atomic
def confirmation_resend(*, organization, actor, membership: ListMembership) -> None:
    """Send one membership's confirmation email again (a button on the contact's page).

    At most once per RESEND_INTERVAL per membership, and only while it awaits confirmation.
    """
    if membership.organization_id != organization.pk:
        raise ValueError("The membership belongs to another organization.")
    membership = (
        ListMembership.objects.select_for_update(of=("self",))
        .select_related("contact", "contact_list", "organization")
        .get(pk=membership.pk)
    )
    contact = membership.contact
    if membership.status == ListMembership.Status.SUBSCRIBED:
        raise ValidationError(_("This subscription is already confirmed."))
    if membership.status == ListMembership.Status.UNSUBSCRIBED:
        raise ValidationError(
            _("This contact unsubscribed from the list: no confirmation email is sent.")
        )
    if contact.deleted_at is not None:
        raise ValidationError(_("This contact is deleted."))
    if contact.status in OPTED_OUT or is_suppressed(organization=organization, email=contact.email):
        raise ValidationError(
            _(
                "This contact is unsubscribed, bounced, complained or on the suppression list: "
                "no confirmation email is sent."
            )
        )
    now = timezone.now()
    sent_at = membership.confirmation_sent_at
    if sent_at and now - sent_at < RESEND_INTERVAL:
        raise ValidationError(
            _(
                "A confirmation email went to this address less than %(minutes)s minutes ago. "
                "Give it time to arrive before sending another."
            )
            % {"minutes": int(RESEND_INTERVAL.total_seconds() // 60)}
        )
    send_email(
        to=contact.email,
        subject=_subject(membership.organization),
        name=EMAIL_TEMPLATE,
        context=_email_context(membership),
    )
    membership.confirmation_sent_at = now
    membership.save(update_fields=["confirmation_sent_at"])
    audit.record(
        organization,
        actor,
        "contacts.optin_resent",
        "list_membership",
        membership.pk,
        {"list_id": str(membership.contact_list_id)},
    )
