"""A campaign sent for real (campaign_start → sender → local SMTP sink), and what its
recipients then do — opens and clicks through the real tracking endpoints — counted by
the real roll-up. What the report shows is read from exactly that."""

from __future__ import annotations

import datetime as dt
from email import message_from_bytes
from email.policy import default as default_policy

from django.test import Client
from django.utils import timezone

from engagex.campaigns.models import Campaign
from engagex.campaigns.services import campaign_start, campaigns_follow_mailings
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
from engagex.delivery.tests.helpers import drain, new_sender
from engagex.tracking.models import TrackingEvent
from engagex.tracking.rollup import events_rollup
from engagex.tracking.tests.helpers import NEWSLETTER, paths

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0"
SCANNER = "Mozilla/5.0 (compatible; Proofpoint URL Defense)"
APPLE_PROXY_IP = "17.58.0.1"  # Apple Mail Privacy Protection fetches from 17.0.0.0/8
SUBJECT = "Spring is here"


def sent_campaign(org, actor, sink, emails, *, name="Spring sale", html=NEWSLETTER, **fields):
    """Send a campaign to one new contact per address; returns (campaign, {email: html})."""
    org.postal_address = org.postal_address or "1 Main Street, Springfield"
    org.save()
    audience = ContactListFactory(organization=org, name=f"{name} audience")
    for email in emails:
        contact = ContactFactory(
            organization=org, email=email, first_name=email.split("@")[0].title(), last_name=""
        )
        ListMembershipFactory(contact_list=audience, contact=contact)
    template = TemplateFactory(organization=org, html=html, subject=SUBJECT)
    campaign = CampaignFactory(
        organization=org, name=name, template=template, lists=[audience.pk], **fields
    )
    campaign = campaign_start(organization=org, actor=actor, campaign=campaign)
    smtp, handler = sink
    already = len(handler.messages)
    sender = new_sender(smtp)
    try:
        drain(sender)
    finally:
        sender.close()
    outbox.mailings_finish()
    campaigns_follow_mailings()
    campaign.refresh_from_db()
    # Sent a while ago: a click "within a second of delivery" would be a scanner's.
    started = timezone.now() - dt.timedelta(hours=3)
    Mailing.objects.filter(pk=campaign.mailing_id).update(started_at=started)
    Delivery.objects.filter(mailing_id=campaign.mailing_id).update(sent_at=started)
    campaign = Campaign.objects.select_related("mailing").get(pk=campaign.pk)
    copies = {}
    for _, rcpt, data in handler.messages[already:]:
        message = message_from_bytes(data, policy=default_policy)
        copies[rcpt] = message.get_body(("html",)).get_content()
    return campaign, copies


class Recipients:
    """What the recipients of one campaign do, each act through the real code path."""

    def __init__(self, campaign, copies):
        self.campaign, self.copies = campaign, copies
        self.client = Client()

    def delivery(self, email) -> Delivery:
        return Delivery.objects.get(mailing_id=self.campaign.mailing_id, email=email)

    def open(self, email, *, agent=BROWSER, ip="203.0.113.5"):
        (pixel,) = paths(self.copies[email], "/t/o/")
        assert self.client.get(pixel, HTTP_USER_AGENT=agent, REMOTE_ADDR=ip).status_code == 200

    def proxy_open(self, email):
        self.open(email, agent="Mozilla/5.0", ip=APPLE_PROXY_IP)

    def click(self, email, link=0, *, agent=BROWSER):
        path = paths(self.copies[email], "/t/c/")[link]
        assert self.client.get(path, HTTP_USER_AGENT=agent).status_code == 302

    # Bounces, unsubscribes and complaints arrive through the tracking app's intake (DSNs,
    # ARF reports, the unsubscribe page), tested there. Here only what that intake leaves
    # behind matters to the report: the event the roll-up counts, the mark on the
    # delivery, the contact's new status.
    def _feedback(self, email, kind, *, contact_status, detail=None, **marks):
        delivery = self.delivery(email)
        TrackingEvent.objects.create(
            organization_id=delivery.organization_id,
            mailing_id=delivery.mailing_id,
            delivery=delivery,
            contact_id=delivery.contact_id,
            kind=kind,
            detail=detail or {},
        )
        Delivery.objects.filter(pk=delivery.pk).update(**marks)
        Contact.objects.filter(pk=delivery.contact_id).update(status=contact_status)

    def hard_bounce(self, email):
        self._feedback(
            email,
            "bounce",
            contact_status="bounced",
            detail={"severity": "hard", "status": "5.1.1"},
            bounced_at=timezone.now(),
            bounce_type="hard",
        )

    def unsubscribe(self, email):
        self._feedback(
            email, "unsubscribe", contact_status="unsubscribed", unsubscribed_at=timezone.now()
        )

    def complain(self, email):
        self._feedback(
            email, "complaint", contact_status="complained", complained_at=timezone.now()
        )

    def at(self, when: dt.datetime):
        """Date the events recorded since the last call to `when` (the endpoints stamp
        them "now"; a report over time needs them spread out)."""
        TrackingEvent.objects.filter(
            mailing_id=self.campaign.mailing_id, counted=False, created_at__gt=when
        ).update(created_at=when)

    def roll_up(self):
        events_rollup()
