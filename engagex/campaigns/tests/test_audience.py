"""The audience: lists (subscribed members), segments, exclusions, and the exact count."""

from engagex.campaigns.audience import audience_contacts, audience_count, audience_resolve
from engagex.campaigns.tests.factories import CampaignFactory
from engagex.contacts.emails import email_hash
from engagex.contacts.models import Contact, Suppression
from engagex.contacts.tests.factories import (
    ContactFactory,
    ContactListFactory,
    ListMembershipFactory,
    SegmentFactory,
)
from engagex.delivery import outbox
from engagex.delivery.tests.factories import MailingFactory


def vip_segment(org):
    rule = {"field": "tags", "operator": "has_any", "value": "vip"}
    return SegmentFactory(organization=org, rules={"match": "all", "rules": [rule]})


def test_lists_segments_and_exclusions_make_one_deduplicated_audience(org, other_org):
    news = ContactListFactory(organization=org)
    partners = ContactListFactory(organization=org)
    blocked = ContactListFactory(organization=org)
    ada = ListMembershipFactory(contact_list=news).contact
    grace = ListMembershipFactory(contact_list=news).contact
    ListMembershipFactory(contact_list=partners, contact=grace)  # on two lists: counted once
    ListMembershipFactory(contact_list=news, status="unsubscribed")  # left this list
    ListMembershipFactory(contact_list=news, status="unconfirmed")  # never confirmed
    linus = ContactFactory(organization=org, tags=["vip"])  # only through the segment
    excluded = ListMembershipFactory(contact_list=news).contact
    ListMembershipFactory(contact_list=blocked, contact=excluded, status="unsubscribed")
    gone = ListMembershipFactory(contact_list=news).contact
    Suppression.objects.create(organization=org, email_hash=email_hash(gone.email), reason="manual")
    ContactFactory(organization=other_org, tags=["vip"])

    campaign = CampaignFactory(
        organization=org,
        lists=[news.pk, partners.pk],
        segments=[vip_segment(org).pk],
        excluded_lists=[blocked.pk],
    )

    people = set(audience_contacts(campaign).values_list("email", flat=True))
    assert people == {ada.email, grace.email, linus.email, gone.email}
    assert audience_count(campaign) == 3  # the suppressed address is not counted

    # The count is exactly what the outbox queues.
    mailing = MailingFactory(organization=org)
    assert outbox.deliveries_materialize(
        mailing=mailing, contacts=audience_contacts(campaign)
    ) == audience_count(campaign)


def test_excluded_segment_and_deleted_ids_are_reported(org):
    news = ContactListFactory(organization=org)
    ListMembershipFactory(contact_list=news, contact__tags=["vip"])
    plain = ListMembershipFactory(contact_list=news).contact
    segment = vip_segment(org)
    campaign = CampaignFactory(organization=org, lists=[news.pk], excluded_segments=[segment.pk])

    assert list(audience_contacts(campaign).values_list("email", flat=True)) == [plain.email]

    segment_id = segment.pk
    segment.delete()
    campaign.segments = [segment_id]
    assert audience_resolve(campaign).missing == 2


def test_other_organizations_lists_never_count(org, other_org):
    theirs = ContactListFactory(organization=other_org)
    ListMembershipFactory(contact_list=theirs)
    campaign = CampaignFactory(organization=org, lists=[theirs.pk])
    audience = audience_resolve(campaign)
    assert audience.lists == [] and audience.missing == 1
    assert audience_count(campaign) == 0
    assert Contact.objects.filter(organization=other_org).count() == 1
