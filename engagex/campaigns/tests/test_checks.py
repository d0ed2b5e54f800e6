"""The pre-send checklist blocks what must be fixed and says how."""

from engagex.campaigns.checks import campaign_checklist
from engagex.campaigns.tests.factories import CampaignFactory
from engagex.contacts.tests.factories import ContactListFactory, ListMembershipFactory
from engagex.content.tests.factories import TemplateFactory
from engagex.delivery.killswitch import killswitch_set


def ready_campaign(org, **overrides):
    org.postal_address = "1 Main Street, Springfield"
    org.save()
    news = ContactListFactory(organization=org)
    ListMembershipFactory.create_batch(2, contact_list=news)
    template = TemplateFactory(organization=org)
    return CampaignFactory(organization=org, template=template, lists=[news.pk], **overrides)


def by_key(checklist):
    return {check.key: check for check in checklist.checks}


def test_a_complete_campaign_passes_every_check(org):
    checklist = campaign_checklist(ready_campaign(org))
    assert checklist.ok, [check.message for check in checklist.failing]
    assert checklist.recipients == 2


def test_missing_postal_address_blocks_with_a_fix(org):
    campaign = ready_campaign(org)
    org.postal_address = ""
    org.save()
    checklist = campaign_checklist(campaign)
    assert not checklist.ok
    check = by_key(checklist)["postal_address"]
    assert not check.ok and check.fix_url == "/settings/"


def test_each_problem_is_reported(org):
    campaign = ready_campaign(org, from_email="not an address")
    campaign.template.html = "<p>{{ frist_name }}</p>"
    campaign.template.save()
    campaign.lists = []
    checks = by_key(campaign_checklist(campaign))
    assert not checks["sender"].ok
    assert not checks["merge_tags"].ok and "frist_name" in checks["merge_tags"].message
    assert not checks["audience"].ok
    # No unsubscribe link in the template: not blocking, the footer adds one.
    assert checks["unsubscribe"].ok and not checks["unsubscribe"].blocking


def test_kill_switch_and_plan_quota_block(org):
    campaign = ready_campaign(org)
    killswitch_set(actor=None, on=True, organization=org)
    assert not by_key(campaign_checklist(campaign))["sending_allowed"].ok
    killswitch_set(actor=None, on=False, organization=org)

    org.plan.monthly_emails = 1
    org.plan.save()
    assert not by_key(campaign_checklist(campaign))["quota"].ok


def test_a_high_bounce_or_complaint_rate_blocks_new_sends(org):
    from engagex.delivery.tests.factories import MailingFactory

    campaign = ready_campaign(org)
    MailingFactory(organization=org, sent_count=950, failed_count=40)  # 4%: fine
    assert by_key(campaign_checklist(campaign))["reputation"].ok
    MailingFactory(organization=org, sent_count=0, failed_count=30)  # 70 of 1,020: 6.9%
    check = by_key(campaign_checklist(campaign))["reputation"]
    assert not check.ok and check.blocking and "6.9% of your messages bounced" in check.message


def test_complaints_above_three_per_thousand_block(org):
    from engagex.contacts.tests.factories import ContactFactory
    from engagex.delivery.tests.factories import MailingFactory

    campaign = ready_campaign(org)
    MailingFactory(organization=org, sent_count=1000)
    ContactFactory.create_batch(3, organization=org, status="complained")
    assert by_key(campaign_checklist(campaign))["reputation"].ok  # 0.3%: at the limit
    ContactFactory(organization=org, status="complained")
    assert not by_key(campaign_checklist(campaign))["reputation"].ok


def test_a_segment_whose_rules_no_longer_hold_fails_the_audience_check(org):
    from engagex.contacts.tests.factories import SegmentFactory

    campaign = ready_campaign(org)
    broken = SegmentFactory(
        organization=org,
        rules={
            "match": "all",
            "rules": [{"field": "field:gone", "operator": "equals", "value": "x"}],
        },
    )
    campaign.segments = [broken.pk]
    campaign.save()
    checklist = campaign_checklist(campaign)
    check = by_key(checklist)["audience"]
    assert not checklist.ok and not check.ok
    assert "can't be evaluated" in check.message and check.fix_url == "/contacts/segments/"
