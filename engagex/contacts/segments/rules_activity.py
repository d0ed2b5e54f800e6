"""Activity rules: what people did with the organization's email (PRODUCT.md §B, §F).

People only, everywhere: opens and clicks flagged as scanners, link checkers or privacy
proxies never count. What each rule means:

- opened / clicked / received **the campaign X**: the campaign's delivery row for the
  contact has a first human open (a click counts as an open: images are often
  blocked) / a first human click / was sent and did not bounce. These are exactly the
  campaign report's unique numbers; the tracking roll-up sets them within a minute.
- opened / clicked **any campaign within the last N days**: a human open or click /
  a human click on a campaign's email in the last N days (N times 24 hours), whenever that email
  was sent. Answered by the tracking events' (organization, contact, created_at) index.
- received **any campaign within the last N days**: a campaign's email was sent to
  them in that time and did not bounce.
- has not opened **any email in the last N days**: was sent at least one email in that
  time (not bounced) and opened or clicked none — of any email — in that time. Someone
  we haven't mailed isn't a non-opener: this is the re-engagement / sunset audience,
  and a contact added yesterday must not land in it.

Deliveries have no index by contact (the outbox must stay fast to insert), so every
delivery condition names its mailings first — one campaign's, or the ones that can
hold a delivery sent in the window — and the (organization, mailing, contact) unique
index answers the rest.

Contacts sits below delivery, tracking and campaigns (DESIGN.md §5): their models are
looked up through the app registry when a rule runs, never imported by this module.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, ClassVar

from django.apps import apps
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from engagex.contacts.segments.registry import (
    GROUP_ACTIVITY,
    Operator,
    RuleContext,
    RuleError,
    RuleType,
    register,
)

# Campaigns own their mailings under this owner type (an A/B test's variants too), so
# "the campaign X" is every mailing the campaign sent.
CAMPAIGN_OWNER = "campaign"
# The picker offers the newest campaigns; the API accepts any of the organization's.
PICKER_LIMIT = 500

CAMPAIGN = Operator("campaign", gettext_lazy("the campaign"), "choice")
ANY_CAMPAIGN = Operator(
    "any_campaign_within_days", gettext_lazy("any campaign within the last"), "days"
)


def _model(label: str):
    return apps.get_model(label)


def _since(context: RuleContext, days: int) -> dt.datetime:
    return context.now - dt.timedelta(days=days)


def _mailings(context: RuleContext, *, campaign_id: str | None = None, campaigns_only=True):
    mailings = _model("delivery.Mailing").objects.filter(organization=context.organization)
    if campaigns_only:
        mailings = mailings.filter(owner_type=CAMPAIGN_OWNER)
    if campaign_id is not None:
        mailings = mailings.filter(owner_id=campaign_id)
    return mailings


def _deliveries(context: RuleContext, mailings: QuerySet, **conditions) -> Exists:
    return Exists(
        _model("delivery.Delivery").objects.filter(
            organization=context.organization,
            mailing__in=mailings.values("pk"),
            contact=OuterRef("pk"),
            **conditions,
        )
    )


def _received_since(context: RuleContext, since: dt.datetime, *, campaigns_only: bool) -> Exists:
    # A mailing finished before `since` holds no delivery sent after it (it is only
    # marked finished once nothing is queued or in flight, and "retry failed" clears
    # the mark again), so only the few recent or unfinished mailings are looked into.
    recent = _mailings(context, campaigns_only=campaigns_only).filter(
        Q(finished_at__isnull=True) | Q(finished_at__gte=since)
    )
    return _deliveries(context, recent, sent_at__gte=since, bounced_at__isnull=True)


def _events_since(
    context: RuleContext, since: dt.datetime, kinds: list[str], *, campaigns_only: bool
) -> Exists:
    events = _model("tracking.TrackingEvent").objects.filter(
        organization=context.organization,
        contact=OuterRef("pk"),
        created_at__gte=since,
        kind__in=kinds,
        is_bot=False,
    )
    if campaigns_only:
        events = events.filter(mailing__in=_mailings(context).values("pk"))
    return Exists(events)


# -- the campaign picker --------------------------------------------------------------


def _campaign_label(campaign, context: RuleContext) -> str:
    when = campaign.started_at or campaign.scheduled_at
    if when is None:
        return campaign.name
    day = when.astimezone(context.time_zone).date()
    return f"{campaign.name} · {formats.date_format(day, 'DATE_FORMAT')}"


def campaign_choices(context: RuleContext) -> list[tuple[str, str]]:
    """The organization's started or scheduled campaigns, newest first (drafts have
    no recipients yet, so there is nothing to ask about them)."""
    if "campaign_choices" not in context.memo:
        campaign_model = _model("campaigns.Campaign")
        campaigns = (
            campaign_model.objects.filter(organization=context.organization)
            .exclude(status=campaign_model.Status.DRAFT)
            .only("name", "started_at", "scheduled_at")
            .order_by("-created_at", "-id")[:PICKER_LIMIT]
        )
        context.memo["campaign_choices"] = [
            (str(campaign.pk), _campaign_label(campaign, context)) for campaign in campaigns
        ]
    return context.memo["campaign_choices"]


def campaign_name(context: RuleContext, campaign_id: str) -> str | None:
    names = context.memo.setdefault("campaign_names", {})
    if campaign_id not in names:
        names[campaign_id] = (
            _model("campaigns.Campaign")
            .objects.filter(organization=context.organization, pk=campaign_id)
            .values_list("name", flat=True)
            .first()
        )
    return names[campaign_id]


def clean_campaign(raw: Any, context: RuleContext) -> str:
    """The id of one of the organization's campaigns, or RuleError saying why not."""
    if raw is None or isinstance(raw, list | tuple | dict) or not str(raw).strip():
        if not campaign_choices(context):
            raise RuleError(_("Choose a campaign — none has been sent yet."))
        raise RuleError(_("Choose a campaign."))
    try:
        campaign_id = str(uuid.UUID(str(raw).strip()))
    except ValueError:
        campaign_id = ""
    if not campaign_id or campaign_name(context, campaign_id) is None:
        raise RuleError(_("That campaign does not exist (any more) in this organization."))
    return campaign_id


# -- rules ----------------------------------------------------------------------------


class CampaignActivityRule(RuleType):
    """opened / clicked / received: "the campaign X" or "any campaign within N days"."""

    group = GROUP_ACTIVITY
    operators = (CAMPAIGN, ANY_CAMPAIGN)

    def choices(self, context: RuleContext) -> list[tuple[str, str]]:
        return campaign_choices(context)

    def clean_value(self, operator: Operator, raw: Any, context: RuleContext) -> Any:
        if operator.key == CAMPAIGN.key:
            return clean_campaign(raw, context)
        return super().clean_value(operator, raw, context)

    def describe_value(self, operator: Operator, value: Any, context: RuleContext) -> str:
        if operator.key == CAMPAIGN.key:
            name = campaign_name(context, str(value))
            return f"“{name}”" if name is not None else _("a deleted campaign")
        return super().describe_value(operator, value, context)

    def compile(self, operator: Operator, value: Any, context: RuleContext) -> Q:
        if operator.key == CAMPAIGN.key:
            mailings = _mailings(context, campaign_id=str(value))
            return Q(_deliveries(context, mailings, **self.delivery_condition))
        return Q(self.recent(context, _since(context, value)))

    # What a delivery of the campaign must show, and the "within N days" condition.
    delivery_condition: ClassVar[dict[str, Any]] = {}

    def recent(self, context: RuleContext, since: dt.datetime) -> Exists:
        raise NotImplementedError


@register
class OpenedRule(CampaignActivityRule):
    field = "opened"
    label = gettext_lazy("Opened")
    help = gettext_lazy(
        "People who opened the email or clicked in it (a click counts as an open). "
        "Security scanners and privacy proxies don't count."
    )
    delivery_condition: ClassVar[dict[str, Any]] = {"opened_at__isnull": False}

    def recent(self, context: RuleContext, since: dt.datetime) -> Exists:
        kinds = ["open", "click"]
        return _events_since(context, since, kinds, campaigns_only=True)


@register
class ClickedRule(CampaignActivityRule):
    field = "clicked"
    label = gettext_lazy("Clicked")
    help = gettext_lazy("People who clicked a link in the email. Security scanners don't count.")
    delivery_condition: ClassVar[dict[str, Any]] = {"clicked_at__isnull": False}

    def recent(self, context: RuleContext, since: dt.datetime) -> Exists:
        return _events_since(context, since, ["click"], campaigns_only=True)


@register
class ReceivedRule(CampaignActivityRule):
    field = "received"
    label = gettext_lazy("Received")
    help = gettext_lazy("People the email was sent to and whose server did not bounce it.")
    delivery_condition: ClassVar[dict[str, Any]] = {
        "sent_at__isnull": False,
        "bounced_at__isnull": True,
    }

    def recent(self, context: RuleContext, since: dt.datetime) -> Exists:
        return _received_since(context, since, campaigns_only=True)


@register
class NoOpenRule(RuleType):
    field = "no_open"
    label = gettext_lazy("Has not opened")
    group = GROUP_ACTIVITY
    operators = (Operator("within_days", gettext_lazy("any email sent in the last"), "days"),)
    help = gettext_lazy(
        "People who were sent at least one email in the period and opened or clicked "
        "none in that time. Contacts who weren't mailed in the period are not included."
    )

    def compile(self, operator: Operator, value: Any, context: RuleContext) -> Q:
        since = _since(context, value)
        mailed = _received_since(context, since, campaigns_only=False)
        engaged = _events_since(context, since, ["open", "click"], campaigns_only=False)
        return Q(mailed) & ~Q(engaged)
