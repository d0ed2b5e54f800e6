"""Writes started from the campaign report.

`non_openers_resend_create` — "Resend to non-openers" (PRODUCT.md §D): a new draft
campaign like the original (content, sender, tracking, exclusions) with a new subject,
whose audience is a new static list of the people who got the original and never
opened it. It is built from the existing services, in one transaction: the list
(`list_create`), its members (`list_members_add`, one set-based INSERT … SELECT from the
deliveries, so a million non-openers never pass through Python), the copy
(`campaign_duplicate`) and its changes (`campaign_update`). Each of them writes its own
audit entry; one more ties them together. If nobody is left to mail, nothing is created.

Nothing is sent here: the draft opens in the wizard's review, where the pre-send
checklist runs as for any campaign.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from engagex import audit
from engagex.accounts.tenancy import check_same_organization
from engagex.analytics import selectors
from engagex.campaigns.models import Campaign
from engagex.campaigns.services import campaign_duplicate, campaign_update
from engagex.contacts.models import Contact, ContactList
from engagex.contacts.services.lists import NAME_MAX_LENGTH, list_create, list_members_add

# Finished campaigns only: while sending, people who haven't got it yet would look like
# non-openers.
RESENDABLE = (Campaign.Status.SENT, Campaign.Status.CANCELLED)
SUBJECT_MAX_LENGTH = 500
CAMPAIGN_NAME_MAX_LENGTH = 200


@dataclass(frozen=True)
class Resend:
    campaign: Campaign  # the new draft
    contact_list: ContactList
    contacts: int  # how many people are on the list


def can_resend(campaign: Campaign) -> bool:
    return bool(campaign.mailing_id) and campaign.status in RESENDABLE


def original_subject(campaign: Campaign) -> str:
    """What the recipients actually saw: the mailing's frozen subject."""
    if campaign.mailing_id and campaign.mailing:
        return campaign.mailing.subject
    return campaign.subject or (campaign.template.subject if campaign.template else "")


def _clip(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


def _list_name(organization, campaign: Campaign, today) -> str:
    """ "Non-openers of Spring sale (12 Mar 2025)", unique in the organization (a second
    resend the same day gets ", 2"), within the list name's length limit."""
    campaign_name = " ".join(campaign.name.split())
    date = formats.date_format(today, "j M Y")
    for attempt in range(1, 100):
        suffix = f" ({date})" if attempt == 1 else f" ({date}, {attempt})"
        prefix = _("Non-openers of %(name)s") % {"name": ""}
        room = NAME_MAX_LENGTH - len(prefix) - len(suffix)
        name = f"{prefix}{_clip(campaign_name, room)}{suffix}"
        if not ContactList.objects.filter(organization=organization, name__iexact=name).exists():
            return name
    raise ValidationError(_("Too many lists of non-openers today; rename or delete some."))


@transaction.atomic
def non_openers_resend_create(*, organization, actor, campaign: Campaign, subject: str) -> Resend:
    """Raises ValidationError (nothing created) when the campaign can't be resent, the
    subject is unusable, or nobody who didn't open can still be mailed."""
    check_same_organization(organization, campaign)
    if not can_resend(campaign):
        raise ValidationError(_("Only a campaign that has finished sending can be resent."))
    subject = " ".join((subject or "").split())
    if not subject:
        raise ValidationError({"subject": _("Write a subject line.")})
    if len(subject) > SUBJECT_MAX_LENGTH:
        raise ValidationError(
            {
                "subject": _("The subject can be at most %(n)s characters.")
                % {"n": SUBJECT_MAX_LENGTH}
            }
        )
    non_openers = selectors.campaign_non_openers(organization=organization, campaign=campaign)
    nobody = _(
        "There is nobody to resend to: everyone who received “%(name)s” opened it, "
        "or can no longer be mailed (bounced, unsubscribed or complained)."
    ) % {"name": campaign.name}
    if not non_openers.exists():
        raise ValidationError(nobody)

    today = timezone.localtime(timezone.now(), ZoneInfo(organization.time_zone or "UTC")).date()
    contact_list = list_create(
        organization=organization,
        actor=actor,
        name=_list_name(organization, campaign, today),
        description=_clip(
            _("People who received “%(name)s” and had not opened it by %(date)s.")
            % {"name": campaign.name, "date": formats.date_format(today, "j M Y")},
            300,
        ),
    )
    # A queryset, so the list service adds them with one INSERT … SELECT; it also skips
    # contacts who opted out or were suppressed since the campaign went out.
    contacts = Contact.objects.filter(
        organization=organization, pk__in=non_openers.values("contact_id")
    )
    added = list_members_add(
        organization=organization, actor=actor, contact_list=contact_list, contact_ids=contacts
    )
    if not added:
        raise ValidationError(nobody)  # rolls the list back too

    copy = campaign_duplicate(organization=organization, actor=actor, campaign=campaign)
    copy = campaign_update(
        organization=organization,
        actor=actor,
        campaign=copy,
        name=_clip(
            _("%(name)s — resend to non-openers") % {"name": campaign.name},
            CAMPAIGN_NAME_MAX_LENGTH,
        ),
        subject=subject,
        # Only the new list: the original lists and segments would mail everyone again.
        # Exclusions stay, so whoever was kept out then is kept out now.
        lists=[contact_list.pk],
        segments=[],
    )
    audit.record(
        organization,
        actor,
        "campaigns.campaign_resend_created",
        "campaign",
        copy.pk,
        {"from": str(campaign.pk), "list": str(contact_list.pk), "contacts": added},
    )
    return Resend(copy, contact_list, added)


def report_exported(*, organization, actor, campaign: Campaign, activity: str, searched: bool):
    """Audit a recipients export: addresses left the app (metadata only, never them)."""
    check_same_organization(organization, campaign)
    audit.record(
        organization,
        actor,
        "campaigns.report_exported",
        "campaign",
        campaign.pk,
        {"activity": activity, "searched": searched},
    )
