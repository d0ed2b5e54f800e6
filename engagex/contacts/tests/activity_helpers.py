"""Real email activity for the activity-segment, timeline and events API tests.

A campaign is started by the campaign service, sent by a real sender to the test SMTP
server (fixture `sink`), then opened and clicked through the real tracking endpoints —
as a person, a security scanner or Apple's privacy proxy — and rolled up by the real
roll-up. Only time is arranged: rows are moved back ("sent a while ago") so a test can
place activity inside or outside a window.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from email import message_from_bytes
from email.policy import default as default_policy

from django.db.models import F
from django.utils import timezone

from engagex.campaigns.models import Campaign
from engagex.campaigns.services import campaign_start
from engagex.campaigns.tests.factories import CampaignFactory
from engagex.contacts.models import Contact
from engagex.contacts.tests.factories import (
    ContactFactory,
    ContactListFactory,
    ListMembershipFactory,
)
from engagex.content.tests.factories import TemplateFactory
from engagex.delivery import outbox
from engagex.delivery.models import Delivery, Mailing
from engagex.delivery.tests.helpers import drain, new_sender, queue
from engagex.tracking.models import TrackingEvent
from engagex.tracking.tests.helpers import NEWSLETTER, paths

BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 Safari/605.1.15"
SCANNER = "Mozilla/5.0 (compatible; Proofpoint URL Defense)"
# Apple Mail Privacy Protection: a bare user agent from Apple's network.
PROXY = {"HTTP_USER_AGENT": "Mozilla/5.0", "REMOTE_ADDR": "17.58.1.2"}
# The newsletter's tracked links, in order (see engagex/tracking/tests/helpers.py).
SALE, NEW = 0, 1


@dataclass
class Sent:
    mailing: Mailing
    copies: dict[str, str]  # recipient's local part → the HTML they got
    campaign: Campaign | None = None

    def pixel(self, name: str) -> str:
        (pixel,) = paths(self.copies[name], "/t/o/")
        return pixel

    def link(self, name: str, index: int = SALE) -> str:
        return paths(self.copies[name], "/t/c/")[index]


def people(org, *names: str) -> dict[str, Contact]:
    return {
        name: ContactFactory(
            organization=org, email=f"{name}@example.com", first_name=name.title(), last_name=""
        )
        for name in names
    }


def _deliver(org, sink, mailing: Mailing) -> dict[str, str]:
    smtp, handler = sink
    already = len(handler.messages)
    drain(new_sender(smtp))
    outbox.mailings_finish()
    copies = {}
    for _, rcpt, data in handler.messages[already:]:
        message = message_from_bytes(data, policy=default_policy)
        copies[rcpt.split("@")[0]] = message.get_body(("html",)).get_content()
    # Delivered a while ago: a click now is a person, not a gateway scanning on arrival.
    Delivery.objects.filter(organization=org, mailing=mailing).update(
        sent_at=timezone.now() - dt.timedelta(minutes=5)
    )
    return copies


def send_campaign(org, sink, contacts, *, name: str = "Spring sale") -> Sent:
    """Start a campaign to `contacts` through the campaign service and send it."""
    if not org.postal_address:
        org.postal_address = "1 Main Street, Springfield"
        org.save(update_fields=["postal_address"])
    audience = ContactListFactory(organization=org)
    for contact in contacts:
        ListMembershipFactory(contact_list=audience, contact=contact)
    campaign = CampaignFactory(
        organization=org,
        name=name,
        template=TemplateFactory(organization=org, html=NEWSLETTER),
        lists=[audience.pk],
    )
    campaign = campaign_start(organization=org, actor=None, campaign=campaign)
    mailing = campaign.mailing
    return Sent(mailing, _deliver(org, sink, mailing), campaign)


def send_other_mailing(org, sink, contacts) -> Sent:
    """An email that isn't a campaign's (an automation step, later)."""
    mailing = queue(org, contacts, html=NEWSLETTER, owner_type="automation", owner_id="a1")
    return Sent(mailing, _deliver(org, sink, mailing))


def open_email(client, sent: Sent, name: str, **meta) -> None:
    meta.setdefault("HTTP_USER_AGENT", BROWSER)
    assert client.get(sent.pixel(name), **meta).status_code == 200


def click_link(client, sent: Sent, name: str, index: int = SALE, **meta) -> None:
    meta.setdefault("HTTP_USER_AGENT", BROWSER)
    assert client.get(sent.link(name, index), **meta).status_code == 302


def pause(seconds: int = 30) -> None:
    """Move every event so far back: what comes next is a separate act, not a scanner
    following links within a second (the roll-up flags those)."""
    TrackingEvent.objects.update(created_at=F("created_at") - dt.timedelta(seconds=seconds))


def backdate(sent: Sent, delta: dt.timedelta) -> None:
    """Make a sent email, and everything that happened to it, `delta` older."""
    org_id = sent.mailing.organization_id
    Mailing.objects.filter(pk=sent.mailing.pk).update(
        started_at=F("started_at") - delta, finished_at=F("finished_at") - delta
    )
    deliveries = Delivery.objects.filter(organization_id=org_id, mailing=sent.mailing)
    for column in ("sent_at", "opened_at", "clicked_at", "bounced_at", "unsubscribed_at"):
        deliveries.filter(**{f"{column}__isnull": False}).update(**{column: F(column) - delta})
    TrackingEvent.objects.filter(organization_id=org_id, mailing=sent.mailing).update(
        created_at=F("created_at") - delta
    )
