"""Demo data for `make run`: a list of demo contacts, a template and a ready-to-send
campaign, so "send a campaign to the demo contacts" works on a fresh machine and the
messages land in the dev inbox."""

from __future__ import annotations

from engagex.campaigns.models import Campaign
from engagex.campaigns.services import campaign_create
from engagex.contacts.models import ContactList
from engagex.contacts.services.contacts import contact_create
from engagex.contacts.services.lists import list_create
from engagex.content.services import template_create_from_preset
from engagex.delivery.models import SendingSettings

DEMO_LIST = "Demo newsletter"
DEMO_PEOPLE = [
    ("Ada", "Lovelace"),
    ("Grace", "Hopper"),
    ("Alan", "Turing"),
    ("Katherine", "Johnson"),
    ("Linus", "Torvalds"),
    ("Margaret", "Hamilton"),
    ("Tim", "Berners-Lee"),
    ("Barbara", "Liskov"),
    ("Dennis", "Ritchie"),
    ("Frances", "Allen"),
    ("Ken", "Thompson"),
    ("Radia", "Perlman"),
]


def demo_campaign_ensure(organization, actor) -> bool:
    """Add the demo list, contacts, template and draft campaign if the organization has
    no campaigns yet; returns whether it added them."""
    # Development sends to the dev inbox: no reputation to protect with a warm-up.
    SendingSettings.objects.get_or_create(
        organization=organization, defaults={"warmup_exempt": True}
    )
    if Campaign.objects.filter(organization=organization).exists():
        return False
    contact_list = ContactList.objects.filter(organization=organization, name=DEMO_LIST).first()
    if contact_list is None:
        contact_list = list_create(organization=organization, actor=actor, name=DEMO_LIST)
        for first, last in DEMO_PEOPLE:
            contact_create(
                organization=organization,
                actor=actor,
                email=f"{first}.{last}@example.com".lower(),
                first_name=first,
                last_name=last,
                list_ids=[contact_list.pk],
                consent_source="demo data",
            )
    template = template_create_from_preset(
        organization=organization, actor=actor, preset_key="newsletter", name="Demo newsletter"
    ).template
    campaign_create(
        organization=organization,
        actor=actor,
        name="Welcome to EngageX (demo)",
        template=template,
        subject="Hello {{ first_name|default('there') }}, here is our news",
        lists=[contact_list.pk],
    )
    return True
