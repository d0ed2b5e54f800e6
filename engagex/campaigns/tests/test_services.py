"""Campaign lifecycle end to end through the real sender: start, pause, resume, cancel."""

import pytest
from django.core.exceptions import ValidationError

from engagex.accounts.services.usage import emails_sent_this_month
from engagex.audit.models import AuditEntry
from engagex.campaigns import services
from engagex.campaigns.models import Campaign
from engagex.campaigns.tests.test_checks import ready_campaign
from engagex.delivery import outbox
from engagex.delivery.killswitch import KillSwitchCache
from engagex.delivery.models import Delivery, Mailing
from engagex.delivery.sender import Sender
from engagex.delivery.smtp import SmtpSettings
from engagex.delivery.tests.smtp_servers import smtp_server


def test_start_freezes_content_queues_recipients_and_the_sender_delivers(org, owner):
    campaign = ready_campaign(org, subject="News for {{ first_name }}")
    campaign = services.campaign_start(organization=org, actor=owner, campaign=campaign)

    assert campaign.status == Campaign.Status.SENDING
    mailing = campaign.mailing
    assert mailing.subject == "News for {{ first_name }}" and mailing.recipients == 2
    assert emails_sent_this_month(org) == 2  # reserved against the plan
    # Editing the template now doesn't change what is being sent.
    campaign.template.html = "<p>changed</p>"
    campaign.template.save()

    with smtp_server() as (controller, handler):
        sender = Sender(
            worker="t",
            smtp=SmtpSettings(controller.hostname, controller.port),
            killswitches=KillSwitchCache(ttl=0),
        )
        try:
            while sender.run_once():
                pass
        finally:
            sender.close()
    assert len(handler.messages) == 2
    assert all(b"changed" not in data for _, _, data in handler.messages)
    assert outbox.mailings_finish() == 1
    assert services.campaigns_follow_mailings() == 1
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT
    assert AuditEntry.objects.filter(action="campaigns.campaign_sent").count() == 1

    with pytest.raises(ValidationError, match="already"):
        services.campaign_start(organization=org, actor=owner, campaign=campaign)


def test_start_refuses_when_a_check_fails_and_changes_nothing(org, owner):
    campaign = ready_campaign(org)
    org.postal_address = ""
    org.save()
    with pytest.raises(ValidationError, match="postal address"):
        services.campaign_start(organization=org, actor=owner, campaign=campaign)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT
    assert not Mailing.objects.exists() and not Delivery.objects.exists()
    assert emails_sent_this_month(org) == 0


def test_pause_resume_and_cancel(org, owner, other_org):
    campaign = services.campaign_start(organization=org, actor=owner, campaign=ready_campaign(org))
    with pytest.raises(ValueError):
        services.campaign_pause(organization=other_org, actor=owner, campaign=campaign)

    campaign = services.campaign_pause(organization=org, actor=owner, campaign=campaign)
    assert Mailing.objects.get(pk=campaign.mailing_id).status == Mailing.Status.PAUSED
    with pytest.raises(ValidationError):
        services.campaign_pause(organization=org, actor=owner, campaign=campaign)
    campaign = services.campaign_resume(organization=org, actor=owner, campaign=campaign)
    assert Mailing.objects.get(pk=campaign.mailing_id).status == Mailing.Status.SENDING

    (first,) = outbox.deliveries_claim(worker="w", mailing=campaign.mailing, limit=1)
    outbox.deliveries_record(worker="w", outcomes=[outbox.Outcome(first.id, outbox.SENT, 250)])
    campaign = services.campaign_cancel(organization=org, actor=owner, campaign=campaign)

    counts = outbox.mailing_counts(campaign.mailing)
    assert (counts["sent"], counts["cancelled"]) == (1, 1)
    assert emails_sent_this_month(org) == 1  # the dropped one was given back
    assert campaign.status == Campaign.Status.CANCELLED
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"campaigns.campaign_paused", "campaigns.campaign_resumed"} <= actions
    assert "campaigns.campaign_cancelled" in actions
