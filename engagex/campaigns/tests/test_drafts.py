"""Drafts: create, edit, duplicate, delete — validated, tenant-checked, audited."""

import pytest
from django.core.exceptions import ValidationError

from engagex.audit.models import AuditEntry
from engagex.campaigns import services
from engagex.campaigns.models import Campaign
from engagex.campaigns.tests.test_checks import ready_campaign
from engagex.contacts.tests.factories import ContactListFactory, SegmentFactory
from engagex.content.tests.factories import TemplateFactory


def test_create_takes_the_sender_defaults_and_validates_the_audience(org, owner):
    org.default_from_name, org.default_from_email = "Acme", "hello@acme.example"
    org.save()
    news = ContactListFactory(organization=org)
    vip = SegmentFactory(organization=org)
    template = TemplateFactory(organization=org)
    campaign = services.campaign_create(
        organization=org,
        actor=owner,
        name="  Spring sale  ",
        template=template,
        lists=[news.pk, str(news.pk)],  # repeated: kept once
        excluded_segments=[vip.pk],
    )
    assert campaign.name == "Spring sale" and campaign.status == Campaign.Status.DRAFT
    assert (campaign.from_name, campaign.from_email) == ("Acme", "hello@acme.example")
    assert campaign.lists == [news.pk] and campaign.excluded_segments == [vip.pk]
    assert campaign.created_by == owner
    assert AuditEntry.objects.filter(action="campaigns.campaign_created").count() == 1


@pytest.mark.parametrize(
    ("fields", "error_field"),
    [
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "ok", "from_email": "not an address"}, "from_email"),
        ({"name": "ok", "reply_to": "nope@"}, "reply_to"),
        ({"name": "ok", "lists": ["not-a-uuid"]}, "lists"),
        ({"name": "ok", "subject": "s" * 501}, "subject"),
    ],
)
def test_create_refuses_bad_input_with_a_message_per_field(org, owner, fields, error_field):
    with pytest.raises(ValidationError) as raised:
        services.campaign_create(organization=org, actor=owner, **fields)
    assert error_field in raised.value.message_dict
    assert not Campaign.objects.exists()


def test_another_organizations_lists_and_templates_are_refused(org, owner, other_org):
    theirs = ContactListFactory(organization=other_org)
    their_template = TemplateFactory(organization=other_org)
    with pytest.raises(ValidationError) as raised:
        services.campaign_create(
            organization=org, actor=owner, name="x", lists=[theirs.pk], template=their_template
        )
    assert set(raised.value.message_dict) == {"lists", "template"}
    assert not Campaign.objects.exists()


def test_update_edits_drafts_only(org, owner):
    campaign = ready_campaign(org)
    services.campaign_update(organization=org, actor=owner, campaign=campaign, subject="New")
    campaign.refresh_from_db()
    assert campaign.subject == "New"
    with pytest.raises(ValidationError):
        services.campaign_update(organization=org, actor=owner, campaign=campaign, name="")
    campaign.refresh_from_db()
    assert campaign.name  # unchanged
    services.campaign_start(organization=org, actor=owner, campaign=campaign)
    with pytest.raises(ValidationError, match="no longer be edited"):
        services.campaign_update(organization=org, actor=owner, campaign=campaign, subject="Late")
    with pytest.raises(ValidationError, match="Only drafts"):
        services.campaign_delete(organization=org, actor=owner, campaign=campaign)


def test_duplicate_copies_content_and_audience_but_not_the_history(org, owner):
    campaign = ready_campaign(org, subject="Hi", track_clicks=False)
    services.campaign_start(organization=org, actor=owner, campaign=campaign)
    copy = services.campaign_duplicate(organization=org, actor=owner, campaign=campaign)
    assert copy.pk != campaign.pk and copy.name == f"Copy of {campaign.name}"
    assert copy.status == Campaign.Status.DRAFT and copy.mailing_id is None
    assert (copy.subject, copy.template_id, copy.lists) == (
        "Hi",
        campaign.template_id,
        campaign.lists,
    )
    assert copy.track_clicks is False and copy.scheduled_at is None


def test_delete_a_draft(org, owner):
    campaign = ready_campaign(org)
    services.campaign_delete(organization=org, actor=owner, campaign=campaign)
    assert not Campaign.objects.filter(pk=campaign.pk).exists()
    assert AuditEntry.objects.filter(action="campaigns.campaign_deleted").count() == 1


def test_services_refuse_a_campaign_of_another_organization(org, owner, other_org):
    theirs = ready_campaign(other_org)
    for call in (services.campaign_duplicate, services.campaign_delete):
        with pytest.raises(ValueError):
            call(organization=org, actor=owner, campaign=theirs)
    with pytest.raises(ValueError):
        services.campaign_update(organization=org, actor=owner, campaign=theirs, name="x")
    assert Campaign.objects.filter(organization=other_org).count() == 1


def test_an_edit_that_breaks_a_scheduled_campaign_is_refused(org, owner):
    import datetime as dt

    from django.utils import timezone

    campaign = ready_campaign(org)
    services.campaign_schedule(
        organization=org, actor=owner, campaign=campaign, when=timezone.now() + dt.timedelta(days=1)
    )
    lists = list(campaign.lists)
    with pytest.raises(ValidationError, match="No list or segment"):
        services.campaign_update(organization=org, actor=owner, campaign=campaign, lists=[])
    campaign.refresh_from_db()
    assert campaign.lists == lists and campaign.status == Campaign.Status.SCHEDULED
    services.campaign_update(organization=org, actor=owner, campaign=campaign, subject="Fine")
    assert AuditEntry.objects.filter(action="campaigns.campaign_updated").count() == 1


def test_unknown_audience_ids_are_named(org, owner):
    import uuid

    missing = uuid.uuid4()
    with pytest.raises(ValidationError) as raised:
        services.campaign_create(organization=org, actor=owner, name="x", segments=[missing])
    assert str(missing) in raised.value.message_dict["segments"][0]
