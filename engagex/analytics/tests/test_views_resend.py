""" "Resend to non-openers": a new draft with a new subject, to a new list holding
exactly the people who got the campaign, didn't open it and can still be mailed.
Editors only, CSRF-protected, audited; nothing is created when nobody qualifies."""

import re
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from engagex.accounts.tenancy import ACTIVE_ORGANIZATION_SESSION_KEY
from engagex.analytics.tests.conftest import CAT, FORMULA, GUS
from engagex.analytics.tests.helpers import Recipients, sent_campaign
from engagex.audit.models import AuditEntry
from engagex.campaigns.models import Campaign
from engagex.contacts.models import Contact, ContactList, ListMembership


def resend_url(campaign):
    return reverse("campaigns:report-resend", args=[campaign.pk])


def members(contact_list):
    return sorted(
        ListMembership.objects.filter(contact_list=contact_list).values_list(
            "contact__email", flat=True
        )
    )


def nothing_new(campaign):
    assert Campaign.objects.filter(organization=campaign.organization).count() == 1
    assert not ContactList.objects.filter(name__startswith="Non-openers").exists()


def test_resend_makes_a_draft_for_exactly_the_non_openers(login, editor, established_org, story):
    client = login(editor, established_org)
    response = client.post(resend_url(story), {"subject": "Did you miss our sale?"})

    copy = Campaign.objects.exclude(pk=story.pk).get(organization=established_org)
    assert response.status_code == 302
    assert response["Location"] == reverse("campaigns:edit", args=[copy.pk, "review"])
    assert copy.status == "draft" and copy.subject == "Did you miss our sale?"
    assert copy.name == "Spring sale — resend to non-openers"
    assert copy.template_id == story.template_id and copy.from_email == story.from_email
    assert copy.segments == [] and len(copy.lists) == 1
    contact_list = ContactList.objects.get(pk=copy.lists[0])
    today = timezone.localdate(timezone=ZoneInfo(established_org.time_zone))
    assert contact_list.name == f"Non-openers of Spring sale ({today:%-d %b %Y})"
    assert members(contact_list) == sorted([CAT, GUS, FORMULA])
    actions = set(
        AuditEntry.objects.filter(organization=established_org).values_list("action", flat=True)
    )
    assert {
        "contacts.list_created",
        "contacts.list_members_added",
        "campaigns.campaign_duplicated",
        "campaigns.campaign_resend_created",
    } <= actions
    entry = AuditEntry.objects.get(action="campaigns.campaign_resend_created")
    assert entry.actor == editor and entry.target_id == str(copy.pk)
    assert entry.metadata["from"] == str(story.pk) and entry.metadata["contacts"] == 3

    toast = client.get(response["Location"]).content.decode()
    assert "Draft created for 3 people who didn" in toast


def test_a_second_resend_the_same_day_gets_its_own_list(login, editor, established_org, story):
    client = login(editor, established_org)
    client.post(resend_url(story), {"subject": "Second chance"})
    client.post(resend_url(story), {"subject": "Last chance"})
    names = sorted(
        ContactList.objects.filter(name__startswith="Non-openers").values_list("name", flat=True)
    )
    assert len(names) == 2 and names[1].endswith(", 2)")


def test_nobody_to_resend_to_says_so_and_creates_nothing(
    login, editor, established_org, owner, sink
):
    campaign, copies = sent_campaign(
        established_org, owner, sink, ["ann@example.com", "bob@example.com"]
    )
    people = Recipients(campaign, copies)
    people.open("ann@example.com")
    people.click("bob@example.com")  # images blocked: the click counts as an open
    people.roll_up()
    response = login(editor, established_org).post(resend_url(campaign), {"subject": "Again"})
    assert response.status_code == 400
    assert "There is nobody to resend to" in response.content.decode()
    nothing_new(campaign)


def test_non_openers_who_opted_out_since_are_not_mailed(
    login, editor, established_org, owner, sink
):
    campaign, _ = sent_campaign(established_org, owner, sink, ["ann@example.com"])
    Contact.objects.filter(email="ann@example.com").update(status="unsubscribed")
    response = login(editor, established_org).post(resend_url(campaign), {"subject": "Again"})
    assert response.status_code == 400
    assert "There is nobody to resend to" in response.content.decode()
    nothing_new(campaign)  # the empty list was rolled back too


def test_the_subject_is_required(login, editor, established_org, story):
    response = login(editor, established_org).post(resend_url(story), {"subject": "  "})
    assert response.status_code == 400
    assert "Write a subject line." in response.content.decode()
    nothing_new(story)


def test_the_form_page_starts_with_the_original_subject(login, editor, established_org, story):
    html = login(editor, established_org).get(resend_url(story)).content.decode()
    assert re.search(r'name="subject" value="Spring is here"', html)
    assert "That is about 5 people today." in html


def test_a_campaign_still_sending_cannot_be_resent(login, editor, established_org, story):
    Campaign.objects.filter(pk=story.pk).update(status="sending")
    response = login(editor, established_org).post(resend_url(story), {"subject": "Again"})
    assert response.status_code == 302
    assert response["Location"] == reverse("campaigns:report", args=[story.pk])
    nothing_new(story)


def test_viewers_cannot_resend(login, viewer, established_org, story):
    client = login(viewer, established_org)
    assert client.post(resend_url(story), {"subject": "Again"}).status_code == 403
    assert client.get(resend_url(story)).status_code == 403
    nothing_new(story)


def test_another_organizations_campaign_is_404(login, outsider, other_org, story):
    response = login(outsider, other_org).post(resend_url(story), {"subject": "Again"})
    assert response.status_code == 404
    nothing_new(story)


@pytest.mark.django_db
def test_resend_needs_the_csrf_token(editor, established_org, story):
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    session = client.session
    session[ACTIVE_ORGANIZATION_SESSION_KEY] = str(established_org.pk)
    session.save()
    assert client.post(resend_url(story), {"subject": "Again"}).status_code == 403
    nothing_new(story)
