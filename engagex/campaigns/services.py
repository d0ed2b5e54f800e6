"""Campaign lifecycle: create, edit, duplicate, schedule, start, pause, resume, cancel,
and following the mailing.

`campaign_start` is the one door to sending (DESIGN.md §5, step 1), all in one
transaction: the pre-send checklist must pass; the content is frozen into a delivery
`Mailing` (email-ready HTML with merge tags still in it, so the sender compiles it once);
the recipients are materialized with one set-based insert; the plan's monthly quota is
reserved for exactly that many messages (a cancel gives back what was never sent).
Either all of it happens or none.

Scheduling stores the time and passes the same checklist; `campaigns_start_due` (a
periodic job, every minute) then starts each due campaign through `campaign_start`. A
scheduled campaign whose checks fail by then becomes "failed" with the reason.
"""

from __future__ import annotations

import uuid

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
from engagex.contacts.emails import InvalidEmail, normalize_email
from engagex.contacts.models import ContactList, Segment
from engagex.content.email_html import email_ready_html
from engagex.delivery import outbox
from engagex.delivery.models import Mailing
from engagex.web.emails import absolute_url

STARTABLE = (Campaign.Status.DRAFT, Campaign.Status.SCHEDULED)
EDITABLE = STARTABLE
# What `campaign_create`/`campaign_update` accept; the audience fields are id lists.
FIELDS = (
    "name",
    "template",
    "subject",
    "preheader",
    "from_name",
    "from_email",
    "reply_to",
    "lists",
    "segments",
    "excluded_lists",
    "excluded_segments",
    "track_opens",
    "track_clicks",
)
AUDIENCE_FIELDS = {
    "lists": ContactList,
    "segments": Segment,
    "excluded_lists": ContactList,
    "excluded_segments": Segment,
}


def _cleaned(organization, changes: dict) -> dict:
    """Validate the given fields; raise ValidationError keyed by field."""
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise ValueError(f"Unknown campaign fields: {sorted(unknown)}")
    errors: dict[str, str] = {}
    cleaned = dict(changes)
    if "name" in cleaned:
        cleaned["name"] = (cleaned["name"] or "").strip()
        if not cleaned["name"]:
            errors["name"] = _("Give the campaign a name.")
        elif len(cleaned["name"]) > 200:
            errors["name"] = _("The name can be at most 200 characters.")
    for key in ("subject", "preheader"):
        if key in cleaned:
            cleaned[key] = (cleaned[key] or "").strip()
            if len(cleaned[key]) > 500:
                errors[key] = _("This can be at most 500 characters.")
    if "from_name" in cleaned:
        cleaned["from_name"] = (cleaned["from_name"] or "").strip()[:200]
    for key in ("from_email", "reply_to"):
        if cleaned.get(key):
            try:
                cleaned[key] = normalize_email(cleaned[key])
            except InvalidEmail as error:
                errors[key] = str(error)
        elif key in cleaned:
            cleaned[key] = ""
    template = cleaned.get("template")
    if template is not None and (
        template.organization_id != organization.pk or template.deleted_at is not None
    ):
        errors["template"] = _("That template doesn't exist.")
    for key, model in AUDIENCE_FIELDS.items():
        if key not in cleaned:
            continue
        try:
            ids = list(dict.fromkeys(uuid.UUID(str(value)) for value in cleaned[key] or []))
        except (ValueError, TypeError, AttributeError):
            errors[key] = _("Use the ids of lists or segments.")
            continue
        found = set(
            model.objects.filter(organization=organization, pk__in=ids).values_list("pk", flat=True)
        )
        unknown = [str(pk) for pk in ids if pk not in found]
        if unknown:
            errors[key] = _("These lists or segments don't exist: %(ids)s.") % {
                "ids": ", ".join(unknown)
            }
        cleaned[key] = ids
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def campaign_create(*, organization, actor, name: str, **fields) -> Campaign:
    """A new draft. The sender defaults come from the organization's settings."""
    cleaned = _cleaned(organization, {"name": name, **fields})
    cleaned.setdefault("from_name", organization.default_from_name)
    cleaned.setdefault("from_email", organization.default_from_email)
    cleaned.setdefault("reply_to", organization.reply_to_email)
    campaign = Campaign.objects.create(organization=organization, created_by=actor, **cleaned)
    audit.record(organization, actor, "campaigns.campaign_created", "campaign", campaign.pk)
    return campaign


@transaction.atomic
def campaign_update(*, organization, actor, campaign: Campaign, **changes) -> Campaign:
    """Edit a draft or scheduled campaign; once sending started its content is frozen."""
    check_same_organization(organization, campaign)
    campaign = _locked(campaign)
    if campaign.status not in EDITABLE:
        raise ValidationError(_("This campaign has started; it can no longer be edited."))
    cleaned = _cleaned(organization, changes)
    for key, value in cleaned.items():
        setattr(campaign, key, value)
    campaign.save()
    if campaign.status == Campaign.Status.SCHEDULED:
        # A scheduled campaign must stay sendable: an edit that breaks a check is refused
        # (the transaction rolls back) instead of failing silently at send time.
        checklist = campaign_checklist(campaign)
        if not checklist.ok:
            raise ValidationError([c.message for c in checklist.failing if c.blocking])
    audit.record(
        organization,
        actor,
        "campaigns.campaign_updated",
        "campaign",
        campaign.pk,
        {"fields": sorted(cleaned)},
    )
    return campaign


@transaction.atomic
def campaign_duplicate(*, organization, actor, campaign: Campaign) -> Campaign:
    """A new draft with the same content, audience and settings (never the schedule)."""
    check_same_organization(organization, campaign)
    copy = Campaign.objects.create(
        organization=organization,
        created_by=actor,
        name=(_("Copy of %(name)s") % {"name": campaign.name})[:200],
        template=campaign.template
        if campaign.template and not campaign.template.deleted_at
        else None,
        **{key: getattr(campaign, key) for key in FIELDS if key not in ("name", "template")},
    )
    audit.record(
        organization,
        actor,
        "campaigns.campaign_duplicated",
        "campaign",
        copy.pk,
        {"from": str(campaign.pk)},
    )
    return copy


@transaction.atomic
def campaign_delete(*, organization, actor, campaign: Campaign) -> None:
    """Only drafts (and scheduled ones, which are unscheduled by it) can be deleted;
    a campaign that sent stays for its report."""
    check_same_organization(organization, campaign)
    campaign = _locked(campaign)
    if campaign.status not in EDITABLE:
        raise ValidationError(_("Only drafts can be deleted; cancel or keep sent campaigns."))
    audit.record(
        organization,
        actor,
        "campaigns.campaign_deleted",
        "campaign",
        campaign.pk,
        {"name": campaign.name},
    )
    campaign.delete()


@transaction.atomic
def campaign_schedule(*, organization, actor, campaign: Campaign, when) -> Campaign:
    """Send at `when` (aware datetime). The checklist must pass now, too."""
    check_same_organization(organization, campaign)
    campaign = _locked(campaign)
    if campaign.status not in STARTABLE:
        raise ValidationError(_("This campaign has already been sent or started."))
    if when is None or timezone.is_naive(when):
        raise ValueError("`when` must be an aware datetime")
    if when <= timezone.now():
        raise ValidationError({"scheduled_at": _("Choose a time in the future.")})
    if when > timezone.now() + timezone.timedelta(days=366):
        raise ValidationError({"scheduled_at": _("Choose a time within the next year.")})
    checklist = campaign_checklist(campaign)
    if not checklist.ok:
        raise ValidationError([check.message for check in checklist.failing if check.blocking])
    campaign.status = Campaign.Status.SCHEDULED
    campaign.scheduled_at = when
    campaign.status_reason = ""
    campaign.save(update_fields=["status", "scheduled_at", "status_reason", "updated_at"])
    audit.record(
        organization,
        actor,
        "campaigns.campaign_scheduled",
        "campaign",
        campaign.pk,
        {"scheduled_at": when.isoformat()},
    )
    return campaign


@transaction.atomic
def campaign_unschedule(*, organization, actor, campaign: Campaign) -> Campaign:
    """Back to draft; nothing was queued yet."""
    check_same_organization(organization, campaign)
    campaign = _locked(campaign)
    if campaign.status != Campaign.Status.SCHEDULED:
        raise ValidationError(_("This campaign is not scheduled."))
    campaign.status = Campaign.Status.DRAFT
    campaign.scheduled_at = None
    campaign.save(update_fields=["status", "scheduled_at", "updated_at"])
    audit.record(organization, actor, "campaigns.campaign_unscheduled", "campaign", campaign.pk)
    return campaign


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
    Mailing.objects.filter(organization_id=campaign.organization_id, pk=campaign.mailing_id).update(
        status=status
    )


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


@transaction.atomic
def campaign_retry_failed(*, organization, actor, campaign: Campaign) -> int:
    """Send again the messages that ran out of retries (dead letters); returns how many."""
    check_same_organization(organization, campaign)
    campaign = _locked(campaign)
    if not campaign.mailing_id or campaign.status == Campaign.Status.CANCELLED:
        raise ValidationError(_("Only a campaign that has sent can retry failed messages."))
    retried = outbox.deliveries_retry_dead(mailing=campaign.mailing)
    if retried:
        if campaign.status in (Campaign.Status.SENT, Campaign.Status.FAILED):
            campaign.status = Campaign.Status.SENDING
            campaign.finished_at = None
            campaign.save(update_fields=["status", "finished_at", "updated_at"])
        elif campaign.status == Campaign.Status.PAUSED:
            _set_mailing_status(campaign, Mailing.Status.PAUSED)  # stays paused
        audit.record(
            organization,
            actor,
            "campaigns.campaign_retried",
            "campaign",
            campaign.pk,
            {"retried": retried},
        )
    return retried


def campaigns_follow_mailings() -> int:
    """Periodic: campaigns follow their mailing — "sent" when it is done, "throttled"
    while the organization's hourly/daily limit holds it back, "sending" again after."""
    now = timezone.now()
    active = Campaign.objects.filter(
        status__in=(Campaign.Status.SENDING, Campaign.Status.THROTTLED)
    )
    changed = active.filter(mailing__status=Mailing.Status.DONE).update(
        status=Campaign.Status.SENT, finished_at=now
    )
    changed += active.filter(
        status=Campaign.Status.SENDING,
        mailing__status=Mailing.Status.SENDING,
        mailing__throttled_until__gt=now,
    ).update(status=Campaign.Status.THROTTLED)
    changed += (
        active.filter(status=Campaign.Status.THROTTLED, mailing__status=Mailing.Status.SENDING)
        .exclude(mailing__throttled_until__gt=now)
        .update(status=Campaign.Status.SENDING)
    )
    return changed


def campaigns_start_due(now=None) -> int:
    """Periodic: start every scheduled campaign whose time has come.

    Each one starts in its own transaction; one that can no longer pass its checks
    (the list was emptied, the quota used up …) becomes "failed" with the reason, so
    the page says why instead of the campaign silently never going out."""
    now = now or timezone.now()
    started = 0
    due = Campaign.objects.filter(
        status=Campaign.Status.SCHEDULED, scheduled_at__lte=now
    ).select_related("organization", "created_by")
    for campaign in due:
        try:
            campaign_start(
                organization=campaign.organization, actor=campaign.created_by, campaign=campaign
            )
            started += 1
        except ValidationError as error:
            reason = "; ".join(error.messages)[:300]
            Campaign.objects.filter(
                organization_id=campaign.organization_id,
                pk=campaign.pk,
                status=Campaign.Status.SCHEDULED,
            ).update(status=Campaign.Status.FAILED, status_reason=reason, finished_at=now)
            audit.record(
                campaign.organization,
                None,
                "campaigns.campaign_failed",
                "campaign",
                campaign.pk,
                {"reason": reason},
            )
    return started
