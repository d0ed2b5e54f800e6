"""Campaign lifecycle: start (now), pause, resume, cancel, and following the mailing.

`campaign_start` is the one door to sending (DESIGN.md §5, step 1), all in one
transaction: the pre-send checklist must pass; the content is frozen into a delivery
`Mailing` (email-ready HTML with merge tags still in it, so the sender compiles it once);
the recipients are materialized with one set-based insert; the plan's monthly quota is
reserved for exactly that many messages (a cancel gives back what was never sent).
Either all of it happens or none.

Still to come in this issue: scheduling, the wizard pages, live progress, the REST API.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from engagex import audit
from engagex.accounts.services.usage import emails_release, emails_reserve
from engagex.accounts.tenancy import check_same_organization
from engagex.campaigns.audience import audience_contacts, audience_resolve
from engagex.campaigns.checks import campaign_checklist
from engagex.campaigns.models import Campaign
from engagex.content.email_html import email_ready_html
from engagex.delivery import outbox
from engagex.delivery.models import Mailing
from engagex.web.emails import absolute_url

STARTABLE = (Campaign.Status.DRAFT, Campaign.Status.SCHEDULED)


def _locked(campaign) -> Campaign:
    # Locks the campaign row only (the template is a nullable join: it can't be locked).
    return (
        Campaign.objects.select_for_update(of=("self",))
        .select_related("organization", "template")
        .get(pk=campaign.pk)
    )


@transaction.atomic
def campaign_start(*, organization, actor, campaign: Campaign) -> Campaign:
    """Send now. Raises ValidationError with the failing checks' messages."""
    check_same_organization(organization, campaign)
    campaign = _locked(campaign)
    if campaign.status not in STARTABLE:
        raise ValidationError(_("This campaign has already been sent or started."))
    audience = audience_resolve(campaign)
    checklist = campaign_checklist(campaign, audience)
    if not checklist.ok:
        raise ValidationError([check.message for check in checklist.failing if check.blocking])
    template = campaign.template
    preheader = campaign.preheader or template.preheader
    mailing = Mailing.objects.create(
        organization=organization,
        owner_type="campaign",
        owner_id=str(campaign.pk),
        subject=campaign.subject or template.subject,
        preheader=preheader,
        html=email_ready_html(template.html, preheader=preheader, base_url=absolute_url("/")),
        text=template.text if template.text_is_custom else "",
        from_name=campaign.from_name,
        from_email=campaign.from_email,
        reply_to=campaign.reply_to,
        track_opens=campaign.track_opens,
        track_clicks=campaign.track_clicks,
    )
    queued = outbox.deliveries_materialize(
        mailing=mailing, contacts=audience_contacts(campaign, audience)
    )
    mailing.refresh_from_db(fields=["recipients"])
    decision = emails_reserve(organization=organization, count=queued)
    if not decision:
        raise ValidationError(decision.reason)  # rolls back the mailing and its outbox
    campaign.mailing = mailing
    campaign.status = Campaign.Status.SENDING
    campaign.started_at = timezone.now()
    campaign.status_reason = ""
    campaign.save(update_fields=["mailing", "status", "started_at", "status_reason", "updated_at"])
    audit.record(
        organization,
        actor,
        "campaigns.campaign_sent",
        "campaign",
        campaign.pk,
        {"recipients": queued},
    )
    return campaign


def _set_mailing_status(campaign: Campaign, status: str) -> None:
    Mailing.objects.filter(pk=campaign.mailing_id).update(status=status)


@transaction.atomic
def campaign_pause(*, organization, actor, campaign: Campaign) -> Campaign:
    """Stop claiming new batches; what's in flight finishes. Resume picks up the rest."""
    check_same_organization(organization, campaign)
    campaign = _locked(campaign)
    if campaign.status not in (Campaign.Status.SENDING, Campaign.Status.THROTTLED):
        raise ValidationError(_("Only a campaign that is sending can be paused."))
    _set_mailing_status(campaign, Mailing.Status.PAUSED)
    campaign.status = Campaign.Status.PAUSED
    campaign.save(update_fields=["status", "updated_at"])
    audit.record(organization, actor, "campaigns.campaign_paused", "campaign", campaign.pk)
    return campaign


@transaction.atomic
def campaign_resume(*, organization, actor, campaign: Campaign) -> Campaign:
    check_same_organization(organization, campaign)
    campaign = _locked(campaign)
    if campaign.status != Campaign.Status.PAUSED:
        raise ValidationError(_("Only a paused campaign can be resumed."))
    _set_mailing_status(campaign, Mailing.Status.SENDING)
    campaign.status = Campaign.Status.SENDING
    campaign.save(update_fields=["status", "updated_at"])
    audit.record(organization, actor, "campaigns.campaign_resumed", "campaign", campaign.pk)
    return campaign


@transaction.atomic
def campaign_cancel(*, organization, actor, campaign: Campaign) -> Campaign:
    """Queued messages are dropped; already sent stay sent. Scheduled ones just stop."""
    check_same_organization(organization, campaign)
    campaign = _locked(campaign)
    if campaign.status in (Campaign.Status.SENT, Campaign.Status.CANCELLED):
        raise ValidationError(_("This campaign has already finished."))
    dropped = 0
    if campaign.mailing_id:
        dropped = outbox.deliveries_cancel(mailing=campaign.mailing)
        _set_mailing_status(campaign, Mailing.Status.CANCELLED)
        emails_release(organization=organization, count=dropped)  # reserved, never sent
    campaign.status = Campaign.Status.CANCELLED
    campaign.finished_at = timezone.now()
    campaign.save(update_fields=["status", "finished_at", "updated_at"])
    audit.record(
        organization,
        actor,
        "campaigns.campaign_cancelled",
        "campaign",
        campaign.pk,
        {"dropped": dropped},
    )
    return campaign


def campaigns_follow_mailings() -> int:
    """Periodic: campaigns whose mailing is done become "sent"."""
    finished = Campaign.objects.filter(
        status__in=(Campaign.Status.SENDING, Campaign.Status.THROTTLED),
        mailing__status=Mailing.Status.DONE,
    )
    return finished.update(status=Campaign.Status.SENT, finished_at=timezone.now())
