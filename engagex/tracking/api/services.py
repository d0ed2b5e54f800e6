"""The API's unsubscribe: a developer names a contact, not a message.

`engagex.tracking.feedback.unsubscribe` handles unsubscribes that come from a message
(the page, one-click, the mailbox); this one has no delivery, so the event it records
has no mailing and counts toward no campaign's unsubscribes.
"""

from __future__ import annotations

from django.db import transaction

from engagex.contacts.models import Contact
from engagex.contacts.services.contacts import contact_update
from engagex.tracking.feedback import lists_joined
from engagex.tracking.models import TrackingEvent

API_SOURCE = "api"
SUBSCRIBABLE = (Contact.Status.SUBSCRIBED, Contact.Status.UNCONFIRMED)


@transaction.atomic
def contact_unsubscribe(*, organization, contact: Contact, source: str = API_SOURCE) -> bool:
    """Unsubscribe a live contact from everything the organization sends; False when
    there was nothing to do (already unsubscribed, bounced or complained): idempotent.

    The contact service changes the status, unsubscribes every list membership and
    writes the audit entry (no person: `actor=None`); the event records where the
    unsubscribe came from and which lists it left, for the timeline and a later
    re-subscribe.
    """
    contact = Contact.objects.select_for_update().get(
        organization=organization, pk=contact.pk, deleted_at__isnull=True
    )
    if contact.status not in SUBSCRIBABLE:
        return False
    left = lists_joined(organization.pk, contact)
    contact_update(
        organization=organization,
        actor=None,
        contact=contact,
        status=Contact.Status.UNSUBSCRIBED,
    )
    TrackingEvent.objects.create(
        organization=organization,
        contact=contact,
        kind=TrackingEvent.Kind.UNSUBSCRIBE,
        detail={"source": source, "lists": left},
    )
    return True
