"""What a recipient does on the public pages of a message (no login): unsubscribe,
re-subscribe, and choose their lists in the preference center (PRODUCT.md §F).

The pages are authorized by a signed token naming one delivery; everything here acts
on that delivery's contact, inside that delivery's organization, and nothing else.
Contact-level changes go through `feedback` (the contact, the lists they left, the
delivery, a tracking event for the campaign counters and the timeline); per-list
choices change list memberships and are audited as system changes (no acting user).

With UNSUBSCRIBE_CONFIRMATION_EMAIL on, an unsubscribe made here (page, one-click,
preference center) is confirmed by a short email with a way back; bounces and
complaints never send one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from engagex import audit
from engagex.accounts.services.team import mask_email
from engagex.contacts.models import Contact, ListMembership
from engagex.contacts.selectors.suppressions import is_suppressed
from engagex.contacts.services.contacts import contact_update
from engagex.delivery.identifiers import unsubscribe_token
from engagex.delivery.models import Delivery
from engagex.tracking import feedback
from engagex.tracking.models import TrackingEvent
from engagex.web.emails import absolute_url, render_email

log = logging.getLogger(__name__)

# Where an unsubscribe came from (the tracking event's `detail.source`).
PAGE, ONE_CLICK, PREFERENCES = "page", "one-click", "preferences"
CONFIRMATION_TEMPLATE = "unsubscribe_confirmation"

Status = Contact.Status
Membership = ListMembership.Status
K = TrackingEvent.Kind


# -- reads ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListChoice:
    """One list the recipient is on, as the preference center shows it."""

    membership: ListMembership

    @property
    def list_id(self) -> str:
        return str(self.membership.contact_list_id)

    @property
    def name(self) -> str:
        return self.membership.contact_list.name

    @property
    def description(self) -> str:
        return self.membership.contact_list.description

    @property
    def active(self) -> bool:
        return self.membership.status != Membership.UNSUBSCRIBED

    @property
    def awaiting_confirmation(self) -> bool:
        return self.membership.status == Membership.UNCONFIRMED


class Recipient:
    """The person behind a delivery, as the public pages see them now."""

    GONE, BLOCKED, UNSUBSCRIBED, SUBSCRIBED = "gone", "blocked", "unsubscribed", "subscribed"

    def __init__(self, delivery: Delivery):
        self.delivery = delivery
        self.organization = delivery.organization
        # Deleted or purged since the message went out: nobody left to mail.
        self.contact = (
            Contact.objects.filter(
                organization_id=delivery.organization_id,
                pk=delivery.contact_id,
                deleted_at__isnull=True,
            ).first()
            if delivery.contact_id
            else None
        )

    @cached_property
    def suppressed(self) -> bool:
        return self.contact is not None and is_suppressed(
            organization=self.organization, email=self.contact.email
        )

    @property
    def masked_email(self) -> str:
        return mask_email(self.contact.email if self.contact else self.delivery.email)

    @property
    def organization_initial(self) -> str:
        return next((char.upper() for char in self.organization.name if char.isalnum()), "?")

    @property
    def state(self) -> str:
        if self.contact is None:
            return self.GONE
        if self.contact.status in (Status.BOUNCED, Status.COMPLAINED):
            return self.BLOCKED  # the address doesn't work, or reported spam: system-owned
        if self.contact.status == Status.UNSUBSCRIBED:
            return self.UNSUBSCRIBED
        return self.SUBSCRIBED

    @property
    def can_subscribe(self) -> bool:
        """Whether this person may (again) get mail: not bounced, complained or suppressed."""
        return self.state in (self.SUBSCRIBED, self.UNSUBSCRIBED) and not self.suppressed

    @property
    def can_resubscribe(self) -> bool:
        return self.state == self.UNSUBSCRIBED and self.can_subscribe

    @property
    def has_choices(self) -> bool:
        """Whether any box can change: a list to leave, or one to join."""
        return any(choice.active or self.can_subscribe for choice in self.lists)

    @cached_property
    def lists(self) -> list[ListChoice]:
        """The lists of the organization this person is on (or left), by name."""
        if self.contact is None:
            return []
        memberships = (
            ListMembership.objects.filter(
                organization_id=self.organization.pk, contact_id=self.contact.pk
            )
            .select_related("contact_list")
            .order_by("contact_list__name")
        )
        return [ListChoice(membership) for membership in memberships]


# -- unsubscribe and re-subscribe -----------------------------------------------------------


def unsubscribe(
    delivery: Delivery, *, source: str, ip: str | None = None, user_agent: str = ""
) -> feedback.Result:
    """Unsubscribe from everything the organization sends (idempotent)."""
    with transaction.atomic():
        result = feedback.unsubscribe(delivery, source=source, ip=ip, user_agent=user_agent)
        if result.changed and settings.UNSUBSCRIBE_CONFIRMATION_EMAIL:
            _confirmation_email(delivery)
    return result


def _unsubscribed_through(delivery: Delivery, contact: Contact) -> Delivery | None:
    """The message the contact last unsubscribed from, unless they came back since."""
    last = (
        TrackingEvent.objects.filter(
            organization_id=delivery.organization_id,
            contact_id=contact.pk,
            kind__in=(K.UNSUBSCRIBE, K.RESUBSCRIBE),
        )
        .order_by("-created_at", "-id")
        .values("kind", "delivery_id")
        .first()
    )
    if last is None or last["kind"] != K.UNSUBSCRIBE or last["delivery_id"] is None:
        return None
    return feedback.delivery_for(last["delivery_id"], organization=delivery.organization)


@transaction.atomic
def resubscribe(delivery: Delivery, *, source: str) -> feedback.Result:
    """Undo the recipient's unsubscribe. Raises ValidationError for a suppressed address.

    It goes through the message they unsubscribed from — often this one, but the link
    may be in an older or newer email — so that message's report counts one unsubscribe
    fewer and the lists they left then are restored. Unsubscribed some other way (by the
    organization, an import): only the contact comes back, recorded on no campaign.
    """
    contact = feedback.live_contact(delivery)
    if contact is None:
        return feedback.Result(False, "no contact")
    if contact.status != Status.UNSUBSCRIBED:
        return feedback.Result(False, "not unsubscribed")
    through = _unsubscribed_through(delivery, contact)
    if through is not None:
        return feedback.resubscribe(through, source=source)
    contact_update(
        organization=delivery.organization, actor=None, contact=contact, status="subscribed"
    )
    TrackingEvent.objects.create(
        organization_id=delivery.organization_id,
        contact_id=contact.pk,
        kind=K.RESUBSCRIBE,
        detail={"source": source},
    )
    return feedback.Result(True, "contact only")


# -- the preference center -------------------------------------------------------------------


@dataclass(frozen=True)
class PreferencesChange:
    joined: list[str]  # list ids
    left: list[str]

    @property
    def changed(self) -> bool:
        return bool(self.joined or self.left)


def _blocked_message(organization) -> str:
    return _(
        "This address can't be subscribed again: emails to it bounced, it reported an email "
        "as spam, or %(org)s took it off their mailing. You can still leave lists."
    ) % {"org": organization.name}


@transaction.atomic
def preferences_save(delivery: Delivery, *, list_ids) -> PreferencesChange:
    """Make the recipient's active lists exactly `list_ids` (the ticked boxes).

    Only the contact's own memberships can be chosen; any other id is a ValidationError
    and nothing changes. Joining needs an address that may get mail (not bounced,
    complained or suppressed); an unsubscribed contact who ticks a list is subscribed
    again. A list awaiting double opt-in confirmation stays so while it's ticked.
    """
    contact = feedback.live_contact(delivery)
    if contact is None:
        raise ValidationError(_("This address is no longer on the mailing."))
    organization = delivery.organization
    memberships = {
        str(membership.contact_list_id): membership
        for membership in ListMembership.objects.select_for_update().filter(
            organization_id=organization.pk, contact_id=contact.pk
        )
    }
    wanted = {str(list_id) for list_id in list_ids}
    if wanted - memberships.keys():
        raise ValidationError(_("Unknown list."))
    active = {key for key, m in memberships.items() if m.status != Membership.UNSUBSCRIBED}
    joined, left = sorted(wanted - active), sorted(active - wanted)
    if joined:
        may_join = contact.status not in (Status.BOUNCED, Status.COMPLAINED) and not (
            is_suppressed(organization=organization, email=contact.email)
        )
        if not may_join:
            raise ValidationError(_blocked_message(organization))
        if contact.status == Status.UNSUBSCRIBED:
            # Restores the contact (and the lists left with them); the memberships are
            # set to exactly the choice below.
            resubscribe(delivery, source=PREFERENCES)
    now = timezone.now()
    ListMembership.objects.filter(
        organization_id=organization.pk, contact_id=contact.pk, contact_list_id__in=wanted
    ).filter(status=Membership.UNSUBSCRIBED).update(
        status=Membership.SUBSCRIBED, unsubscribed_at=None
    )
    ListMembership.objects.filter(organization_id=organization.pk, contact_id=contact.pk).exclude(
        contact_list_id__in=wanted
    ).exclude(status=Membership.UNSUBSCRIBED).update(
        status=Membership.UNSUBSCRIBED, unsubscribed_at=now
    )
    for action, changed_ids in (("tracking.list_joined", joined), ("tracking.list_left", left)):
        for list_id in changed_ids:
            audit.record(
                organization,
                None,
                action,
                "contact",
                contact.pk,
                {"list": list_id, "source": PREFERENCES, "mailing": str(delivery.mailing_id)},
            )
    return PreferencesChange(joined=joined, left=left)


# -- the confirmation email ------------------------------------------------------------------


def _confirmation_email(delivery: Delivery) -> None:
    contact = Contact.objects.filter(
        organization_id=delivery.organization_id, pk=delivery.contact_id
    ).first()
    if contact is None:
        return
    organization = delivery.organization
    subject = _("You've been unsubscribed from %(org)s") % {"org": organization.name}
    subject = " ".join(subject.split())  # names are user input: no header injection
    resubscribe_url = absolute_url(
        reverse("delivery_public:unsubscribe", args=[unsubscribe_token(delivery.pk)])
    )
    text, html = render_email(
        CONFIRMATION_TEMPLATE,
        {
            "subject": subject,
            "organization": organization,
            "contact": contact,
            "resubscribe_url": resubscribe_url,
        },
    )
    message = EmailMultiAlternatives(
        subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[contact.email]
    )
    message.attach_alternative(html, "text/html")
    transaction.on_commit(lambda: _send_quietly(message, delivery.pk))


def _send_quietly(message: EmailMultiAlternatives, delivery_id: int) -> None:
    # The unsubscribe has happened whatever the mail relay does: a failing confirmation
    # must not turn it into an error page, nor fail a mail client's one-click POST.
    try:
        message.send()
    except Exception:
        log.warning("unsubscribe confirmation not sent (delivery %s)", delivery_id, exc_info=True)
