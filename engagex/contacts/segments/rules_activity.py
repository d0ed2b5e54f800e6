"""Activity rules, registered now and switched on once tracking lands.

They show in the builder (disabled, with a note) and are refused with a clear message
when submitted. Enabling one is a small change: set `available = True`, give it a
`compile` that returns an `Exists(...)` over the delivery/event tables, and — for the
campaign operators — a `clean_value` that checks the campaign belongs to
`context.organization`.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from engagex.contacts.segments.registry import (
    GROUP_ACTIVITY,
    Operator,
    RuleContext,
    RuleType,
    register,
)

ANY_CAMPAIGN = Operator("any_campaign_within_days", _("any campaign within the last"), "days")
CAMPAIGN = Operator("campaign", _("the campaign"), "campaign")


class PendingActivityRule(RuleType):
    group = GROUP_ACTIVITY
    available = False
    unavailable_note = _("available once tracking lands")

    def compile(self, operator: Operator, value: Any, context: RuleContext) -> Q:
        raise NotImplementedError(f"{self.field} rules need tracking")


@register
class OpenedRule(PendingActivityRule):
    field = "opened"
    label = _("Opened")
    operators = (CAMPAIGN, ANY_CAMPAIGN)


@register
class ClickedRule(PendingActivityRule):
    field = "clicked"
    label = _("Clicked")
    operators = (CAMPAIGN, ANY_CAMPAIGN)


@register
class ReceivedRule(PendingActivityRule):
    field = "received"
    label = _("Received")
    operators = (CAMPAIGN, ANY_CAMPAIGN)


@register
class NoOpenRule(PendingActivityRule):
    field = "no_open"
    label = _("Has not opened")
    operators = (Operator("within_days", _("any email in the last"), "days"),)
