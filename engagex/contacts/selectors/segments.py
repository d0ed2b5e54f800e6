"""Reads of segments and of the contacts they match.

`segment_contacts` / `rules_contacts` are what exports, the API and (later) campaigns
call: the organization's live contacts (not soft-deleted) filtered by the compiled
rules, as one lazy queryset — one SQL query for count, page or stream.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from engagex.contacts.models import Contact, Segment
from engagex.contacts.segments import RuleContext, compile_rules, validate_rules
from engagex.contacts.selectors.contacts import contacts_live


def rules_contacts(
    *, organization, rules: Any, context: RuleContext | None = None
) -> QuerySet[Contact]:
    """Live contacts matching `rules`.

    Raises ValidationError (messages name the rule) when the rules are invalid for this
    organization — e.g. a saved segment whose list or custom field was deleted since:
    better to refuse than to mail the wrong people.
    """
    context = context or RuleContext(organization)
    normalized = validate_rules(rules, context=context)
    return contacts_live(organization=organization).filter(
        compile_rules(normalized, context=context)
    )


def segment_contacts(
    *, organization, segment: Segment, context: RuleContext | None = None
) -> QuerySet[Contact]:
    if segment.organization_id != organization.pk:
        raise ValueError("The segment belongs to another organization.")
    return rules_contacts(organization=organization, rules=segment.rules, context=context)


def segment_list(*, organization, search: str = "", created_by=None) -> QuerySet[Segment]:
    segments = Segment.objects.filter(organization=organization).select_related("created_by")
    search = search.strip()
    if search:
        segments = segments.filter(Q(name__icontains=search) | Q(description__icontains=search))
    if created_by is not None:
        segments = segments.filter(created_by=created_by)
    return segments
