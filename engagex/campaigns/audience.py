"""Who a campaign goes to: included lists and segments, minus excluded ones.

- Lists count their *subscribed* members only: someone who unsubscribed from the list or
  hasn't confirmed a double opt-in yet is not in that list's audience.
- Segments are their compiled rules over live contacts (`contacts.selectors.segments`).
- Exclusions remove anyone on an excluded list (whatever their status there) or
  matching an excluded segment.
- Then the contact-level rules every send obeys: live, status subscribed, and not on
  the suppression list. `audience_count` applies all of them, so the number shown is
  exactly what `delivery.outbox.deliveries_materialize` will queue (a contact in two
  lists counts once).

All of it is one query; nothing is built from user input.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, F, Func, OuterRef, Q, QuerySet, Value

from engagex.contacts.models import Contact, ContactList, ListMembership, Segment, Suppression
from engagex.contacts.segments import RuleContext, compile_rules, validate_rules
from engagex.contacts.selectors.contacts import contacts_live


@dataclass(frozen=True)
class Audience:
    lists: list[ContactList]
    segments: list[Segment]
    excluded_lists: list[ContactList]
    excluded_segments: list[Segment]
    missing: int  # ids saved on the campaign whose list or segment no longer exists

    @property
    def is_empty_selection(self) -> bool:
        return not self.lists and not self.segments


def audience_resolve(campaign) -> Audience:
    organization_id = campaign.organization_id

    def fetch(model, ids):
        rows = list(model.objects.filter(organization_id=organization_id, pk__in=ids or []))
        return rows, len(set(ids or [])) - len(rows)

    lists, m1 = fetch(ContactList, campaign.lists)
    segments, m2 = fetch(Segment, campaign.segments)
    excluded_lists, m3 = fetch(ContactList, campaign.excluded_lists)
    excluded_segments, m4 = fetch(Segment, campaign.excluded_segments)
    return Audience(lists, segments, excluded_lists, excluded_segments, m1 + m2 + m3 + m4)


def _segments_q(segments: list[Segment], context: RuleContext) -> Q:
    q = Q(pk__in=[])
    for segment in segments:
        q |= compile_rules(validate_rules(segment.rules, context=context), context=context)
    return q


def audience_contacts(campaign, audience: Audience | None = None) -> QuerySet[Contact]:
    """The contacts the campaign would mail (suppressions are applied by the outbox)."""
    organization = campaign.organization
    audience = audience or audience_resolve(campaign)
    context = RuleContext(organization)
    include = _segments_q(audience.segments, context)
    if audience.lists:
        include |= Q(
            Exists(
                ListMembership.objects.filter(
                    organization=organization,
                    contact_id=OuterRef("pk"),
                    contact_list__in=audience.lists,
                    status=ListMembership.Status.SUBSCRIBED,
                )
            )
        )
    contacts = contacts_live(organization=organization).filter(
        include, status=Contact.Status.SUBSCRIBED
    )
    if audience.excluded_lists:
        contacts = contacts.exclude(
            Exists(
                ListMembership.objects.filter(
                    organization=organization,
                    contact_id=OuterRef("pk"),
                    contact_list__in=audience.excluded_lists,
                )
            )
        )
    if audience.excluded_segments:
        contacts = contacts.exclude(_segments_q(audience.excluded_segments, context))
    return contacts


def _email_hash():
    # The same digest as `contacts.emails.email_hash`, computed by PostgreSQL.
    utf8 = Func(F("email"), Value("UTF8"), function="convert_to")
    return Func(Func(utf8, function="sha256"), Value("hex"), function="encode")


def audience_count(campaign, audience: Audience | None = None) -> int:
    """Exactly how many people a send would reach now (suppressions and duplicates out)."""
    suppressed = Suppression.objects.filter(
        organization_id=campaign.organization_id, email_hash=OuterRef("address_hash")
    )
    return (
        audience_contacts(campaign, audience)
        .annotate(address_hash=_email_hash())
        .exclude(Exists(suppressed))
        .count()
    )
