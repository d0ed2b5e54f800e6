"""The campaign wizard: content → audience (live exact count) → settings → schedule →
review with the checklist. Data is kept between steps; bad input is refused per field and
changes nothing; a started campaign is read-only; viewers look, outsiders get 404."""

import zoneinfo
from datetime import UTC, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from engagex.accounts.tenancy import ACTIVE_ORGANIZATION_SESSION_KEY
from engagex.campaigns import services
from engagex.campaigns.models import Campaign
from engagex.campaigns.tests.factories import CampaignFactory
from engagex.campaigns.tests.test_checks import ready_campaign
from engagex.contacts.tests.factories import (
    ContactFactory,
    ContactListFactory,
    ListMembershipFactory,
    SuppressionFactory,
)
from engagex.content.models import Template
from engagex.content.tests.factories import TemplateFactory


def step_url(campaign, step):
    return reverse("campaigns:edit", args=[campaign.pk, step])


def count_url(campaign):
    return reverse("campaigns:audience-count", args=[campaign.pk])


@pytest.fixture
def draft(org):
    return CampaignFactory(organization=org, name="March news")


# --------------------------------------------------------------------------- content


def test_starting_from_a_preset_creates_the_template_and_moves_on(login, editor, org, draft):
    client = login(editor, org)
    html = client.get(step_url(draft, "content")).content.decode()
    assert 'value="preset:newsletter"' in html and 'aria-current="step"' in html

    response = client.post(
        step_url(draft, "content"),
        {"choice": "preset:newsletter", "subject": "Hi {{ first_name }}"},
    )
    assert response.status_code == 302 and response.url == step_url(draft, "audience")
    draft.refresh_from_db()
    template = Template.objects.get(organization=org)
    assert draft.template == template and template.preset_key == "newsletter"
    assert template.name == "March news"
    assert draft.subject == "Hi {{ first_name }}"
    # Back on the step, the choice and the override are kept.
    html = client.get(step_url(draft, "content")).content.decode()
    assert f'value="template:{template.pk}" checked' in html
    assert 'value="Hi {{ first_name }}"' in html


def test_picking_an_existing_template(login, editor, org, draft):
    template = TemplateFactory(organization=org, name="House style")
    client = login(editor, org)
    response = client.post(step_url(draft, "content"), {"choice": f"template:{template.pk}"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.template == template and Template.objects.count() == 1


@pytest.mark.parametrize("choice", ["", "preset:nope", "template:not-a-uuid", "other"])
def test_bad_content_choice_is_refused_and_changes_nothing(login, editor, org, draft, choice):
    response = login(editor, org).post(step_url(draft, "content"), {"choice": choice})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Pick one of your templates" in html or "exist any more: pick another" in html
    draft.refresh_from_db()
    assert draft.template is None and not Template.objects.exists()


def test_another_organizations_template_cannot_be_chosen(login, editor, org, other_org, draft):
    theirs = TemplateFactory(organization=other_org)
    response = login(editor, org).post(
        step_url(draft, "content"), {"choice": f"template:{theirs.pk}"}
    )
    assert response.status_code == 400
    draft.refresh_from_db()
    assert draft.template is None


# --------------------------------------------------------------------------- audience


def test_audience_is_saved_and_the_live_count_is_exact(login, editor, org, draft):
    news = ContactListFactory(organization=org, name="News")
    vip = ContactListFactory(organization=org, name="VIP")
    blocked = ContactListFactory(organization=org, name="Blocked")
    both = ContactFactory(organization=org)
    ListMembershipFactory(contact_list=news, contact=both)
    ListMembershipFactory(contact_list=vip, contact=both)  # counted once
    ListMembershipFactory.create_batch(2, contact_list=news)
    suppressed = ContactFactory(organization=org, email="gone@example.org")
    ListMembershipFactory(contact_list=news, contact=suppressed)
    SuppressionFactory(organization=org, email="gone@example.org")
    ListMembershipFactory(
        contact_list=news, contact=ContactFactory(organization=org, status="unsubscribed")
    )
    left_out = ListMembershipFactory(contact_list=vip).contact
    ListMembershipFactory(contact_list=blocked, contact=left_out)
    client = login(editor, org)

    html = client.get(step_url(draft, "audience")).content.decode()
    assert "News" in html and "VIP" in html and "Choose at least one list or segment." in html

    count = client.get(
        count_url(draft), {"lists": [news.pk, vip.pk], "excluded_lists": [blocked.pk]}
    )
    assert "data-recipient-count>3<" in count.content.decode()
    count = client.get(count_url(draft), {"lists": [news.pk, vip.pk]})
    assert "data-recipient-count>4<" in count.content.decode()

    response = client.post(
        step_url(draft, "audience"),
        {"lists": [news.pk, vip.pk], "excluded_lists": [blocked.pk]},
    )
    assert response.status_code == 302 and response.url == step_url(draft, "settings")
    draft.refresh_from_db()
    assert {str(pk) for pk in draft.lists} == {str(news.pk), str(vip.pk)}
    assert [str(pk) for pk in draft.excluded_lists] == [str(blocked.pk)]
    html = client.get(step_url(draft, "audience")).content.decode()
    assert f'value="{news.pk}" checked' in html
    assert "data-recipient-count>3<" in html


def test_audience_needs_a_selection_and_refuses_foreign_lists(login, editor, org, other_org, draft):
    theirs = ContactListFactory(organization=other_org)
    client = login(editor, org)
    response = client.post(step_url(draft, "audience"), {})
    assert response.status_code == 400
    assert "Choose at least one list or segment to send to." in response.content.decode()

    response = client.post(step_url(draft, "audience"), {"lists": [theirs.pk]})
    assert response.status_code == 400
    assert "That list doesn" in response.content.decode()
    count = client.get(count_url(draft), {"lists": [theirs.pk]}).content.decode()
    assert "data-recipient-count" not in count and "That list doesn" in count
    draft.refresh_from_db()
    assert draft.lists == []


# --------------------------------------------------------------------------- settings


def test_settings_are_saved_and_bad_addresses_refused(login, editor, org, draft):
    client = login(editor, org)
    html = client.get(step_url(draft, "settings")).content.decode()
    assert f'value="{draft.from_email}"' in html  # the organization's default sender

    response = client.post(
        step_url(draft, "settings"),
        {"from_name": "Acme", "from_email": "not an address", "reply_to": "nope@"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Enter a valid email address, like news@example.com." in html
    assert "Enter a valid email address, like hello@example.com." in html
    draft.refresh_from_db()
    assert draft.from_name == "Acme News"

    response = client.post(
        step_url(draft, "settings"),
        {"from_name": "Acme team", "from_email": "Team@Acme.example", "track_opens": "on"},
    )
    assert response.status_code == 302 and response.url == step_url(draft, "schedule")
    draft.refresh_from_db()
    assert (draft.from_name, draft.from_email) == ("Acme team", "team@acme.example")
    assert draft.track_opens and not draft.track_clicks


def test_back_saves_and_goes_to_the_previous_step(login, editor, org, draft):
    client = login(editor, org)
    response = client.post(
        step_url(draft, "settings"),
        {"from_name": "Kept", "from_email": "kept@acme.example", "back": "1"},
    )
    assert response.url == step_url(draft, "audience")
    draft.refresh_from_db()
    assert draft.from_name == "Kept"


# --------------------------------------------------------------------------- schedule


def test_schedule_later_is_read_in_the_organizations_time_zone(login, owner, org):
    campaign = ready_campaign(org)
    client = login(owner, org)
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    local = (
        (timezone.now() + timedelta(days=3))
        .astimezone(berlin)
        .replace(hour=9, minute=30, second=0, microsecond=0)
    )
    response = client.post(
        step_url(campaign, "schedule"),
        {"when": "later", "send_at": local.strftime("%Y-%m-%dT%H:%M")},
    )
    assert response.status_code == 302 and response.url == step_url(campaign, "review")
    html = client.get(step_url(campaign, "review")).content.decode()
    assert f"Schedule for {local:%-d %b %Y}, 09:30" in html
    assert "Europe/Berlin" in html

    # The review's button schedules it at that instant.
    response = client.post(
        reverse("campaigns:schedule", args=[campaign.pk]),
        {"send_at": local.strftime("%Y-%m-%dT%H:%M")},
    )
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SCHEDULED
    assert campaign.scheduled_at == local.astimezone(UTC)


@pytest.mark.parametrize(
    ("send_at", "error"),
    [
        ("", "Choose the date and time to send at."),
        ("2001-01-01T10:00", "Choose a time in the future."),
        ("2999-01-01T10:00", "Choose a time within the next year."),
        ("tomorrow-ish", "Enter a date and time"),
    ],
)
def test_bad_schedule_is_refused(login, editor, org, draft, send_at, error):
    client = login(editor, org)
    response = client.post(step_url(draft, "schedule"), {"when": "later", "send_at": send_at})
    assert response.status_code == 400
    assert error in response.content.decode()
    assert "Schedule for" not in client.get(step_url(draft, "review")).content.decode()


# --------------------------------------------------------------------------- review


def test_review_shows_failing_checks_with_fix_and_blocks_sending(login, owner, org):
    campaign = ready_campaign(org)
    org.postal_address = ""
    org.save()
    client = login(owner, org)
    html = client.get(step_url(campaign, "review")).content.decode()
    assert "Your organization has no postal address." in html
    assert "Add it in the organization settings." in html
    assert f'href="{reverse("accounts:settings")}"' in html
    assert "Needs fixing" in html
    assert 'aria-describedby="send-blocked"' in html and " disabled " in html
    assert "2 recipients" in html

    org.postal_address = "1 Main Street"
    org.save()
    html = client.get(step_url(campaign, "review")).content.decode()
    assert "Ready to send" in html and 'aria-describedby="send-blocked"' not in html
    assert "Send now" in html and reverse("campaigns:send", args=[campaign.pk]) in html


def test_the_stepper_marks_finished_steps(login, owner, org):
    campaign = ready_campaign(org)
    html = login(owner, org).get(step_url(campaign, "settings")).content.decode()
    assert html.count("cmp-stepper__step--done") == 2  # content and audience; settings is current
    assert 'href="{}" aria-current="step"'.format(step_url(campaign, "settings")) in html


# --------------------------------------------------------------------------- access


def test_started_campaign_is_read_only(login, owner, org):
    campaign = ready_campaign(org)
    services.campaign_start(organization=org, actor=owner, campaign=campaign)
    client = login(owner, org)
    html = client.get(step_url(campaign, "content")).content.decode()
    assert "its content can no longer be edited" in html
    assert " disabled" in html and 'name="back"' not in html
    response = client.post(
        step_url(campaign, "settings"), {"from_name": "Changed", "from_email": "x@y.example"}
    )
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.from_name == "Acme News"


def test_viewer_can_look_but_not_change(login, viewer, org, draft):
    client = login(viewer, org)
    html = client.get(step_url(draft, "settings")).content.decode()
    assert "only editors can change it" in html and " disabled" in html
    assert (
        client.post(
            step_url(draft, "settings"), {"from_name": "V", "from_email": "v@v.example"}
        ).status_code
        == 403
    )
    assert (
        client.post(step_url(draft, "content"), {"choice": "preset:newsletter"}).status_code == 403
    )
    draft.refresh_from_db()
    assert draft.from_name == "Acme News" and draft.template is None


def test_outsider_gets_404_everywhere(login, outsider, other_org, draft):
    client = login(outsider, other_org)
    for step in ("content", "audience", "review"):
        assert client.get(step_url(draft, step)).status_code == 404
    assert (
        client.post(
            step_url(draft, "settings"), {"from_name": "X", "from_email": "x@x.example"}
        ).status_code
        == 404
    )
    assert client.get(count_url(draft)).status_code == 404
    draft.refresh_from_db()
    assert draft.from_name == "Acme News"


def test_unknown_step_is_404(login, editor, org, draft):
    assert login(editor, org).get(f"/campaigns/{draft.pk}/edit/launch/").status_code == 404


def test_steps_need_the_csrf_token(editor, org, draft):
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    session = client.session
    session[ACTIVE_ORGANIZATION_SESSION_KEY] = str(org.pk)
    session.save()
    response = client.post(
        step_url(draft, "settings"), {"from_name": "F", "from_email": "f@f.example"}
    )
    assert response.status_code == 403
    draft.refresh_from_db()
    assert draft.from_name == "Acme News"
