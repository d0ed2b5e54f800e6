"""The campaign page: status, summary, live progress fragment, lifecycle actions by status,
the deliveries that did not go out with "Retry failed"; roles, tenancy and CSRF."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from engagex.accounts.tenancy import ACTIVE_ORGANIZATION_SESSION_KEY
from engagex.campaigns import services
from engagex.campaigns.models import Campaign
from engagex.campaigns.tests.factories import CampaignFactory
from engagex.campaigns.tests.test_checks import ready_campaign
from engagex.contacts.tests.factories import ListMembershipFactory
from engagex.delivery.models import Delivery, Mailing

ACTIONS = (
    "send",
    "schedule",
    "unschedule",
    "pause",
    "resume",
    "cancel",
    "duplicate",
    "delete",
    "retry",
)


def url(name, campaign):
    return reverse(f"campaigns:{name}", args=[campaign.pk])


@pytest.fixture
def sending(org, owner):
    campaign = ready_campaign(org, name="Spring sale")
    ListMembershipFactory(contact_list_id=campaign.lists[0], organization=org)
    return services.campaign_start(organization=org, actor=owner, campaign=campaign)


def give_up_on(campaign, count, *, code=421, reply="4.7.0 Try again later"):
    """Mark the first `count` queued deliveries as out of retries (as the sender would)."""
    ids = list(
        Delivery.objects.filter(mailing=campaign.mailing, status="queued")
        .order_by("id")
        .values_list("id", flat=True)[:count]
    )
    Delivery.objects.filter(id__in=ids).update(
        status="dead", smtp_code=code, smtp_reply=reply, attempts=8
    )
    Mailing.objects.filter(pk=campaign.mailing_id).update(failed_count=count)
    return ids


# --------------------------------------------------------------------------- page


def test_draft_page_offers_editing_and_delete(login, editor, org):
    draft = CampaignFactory(organization=org, name="Quiet draft")
    html = login(editor, org).get(url("detail", draft)).content.decode()
    assert "Quiet draft" in html and 'data-status="draft"' in html
    assert "Not sent yet" in html
    assert url("edit-start", draft) in html and url("delete", draft) in html
    assert url("pause", draft) not in html and "campaign-progress" not in html


def test_sending_page_shows_progress_polling_and_actions(login, editor, org, sending):
    html = login(editor, org).get(url("detail", sending)).content.decode()
    assert 'id="campaign-progress"' in html and 'hx-trigger="every 2s"' in html
    assert url("progress", sending) in html and '"status": "sending"' in html
    assert "0 / 3" in html
    assert url("pause", sending) in html and url("cancel", sending) in html
    assert url("duplicate", sending) in html
    assert url("delete", sending) not in html and url("resume", sending) not in html
    assert "Deliveries that did not go out" in html and "Nothing failed" in html


def test_viewer_sees_the_page_without_action_buttons(login, viewer, org, sending):
    html = login(viewer, org).get(url("detail", sending)).content.decode()
    assert "Spring sale" in html and 'id="campaign-progress"' in html
    for action in ("pause", "cancel", "duplicate", "retry"):
        assert url(action, sending) not in html


# --------------------------------------------------------------------------- progress


def test_progress_fragment_uses_the_previous_poll_for_the_rate(login, viewer, org, sending):
    Mailing.objects.filter(pk=sending.mailing_id).update(sent_count=2)
    client = login(viewer, org)
    at = (timezone.now() - timedelta(seconds=36)).isoformat()
    response = client.get(
        url("progress", sending),
        {"sent": "1", "at": at, "status": "sending"},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith("<section")
    assert "2 / 3" in html and "67%" in html
    # One message in 36 seconds: 100 an hour (a little less, as the test takes time).
    assert re.search(r"Sending at (9\d|10\d)/h", html)


def test_progress_with_garbage_parameters_still_answers(login, viewer, org, sending):
    response = login(viewer, org).get(
        url("progress", sending), {"sent": "-5", "at": "yesterday"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200 and "0 / 3" in response.content.decode()


def test_progress_reloads_the_page_when_the_status_changed(login, viewer, org, owner, sending):
    services.campaign_pause(organization=org, actor=owner, campaign=sending)
    response = login(viewer, org).get(
        url("progress", sending), {"status": "sending"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 204 and response["HX-Refresh"] == "true"


def test_finished_campaign_stops_polling(login, viewer, org, sending):
    Mailing.objects.filter(pk=sending.mailing_id).update(status="done", sent_count=3)
    Campaign.objects.filter(pk=sending.pk).update(status="sent", finished_at=timezone.now())
    html = login(viewer, org).get(url("detail", sending)).content.decode()
    assert "hx-trigger" not in html.split('id="campaign-progress"')[1].split(">")[0]
    assert "100%" in html and "3 / 3" in html


# --------------------------------------------------------------------------- actions


def test_send_now_starts_and_redirects_to_the_page(login, owner, org):
    campaign = ready_campaign(org)
    response = login(owner, org).post(url("send", campaign), follow=True)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENDING and campaign.mailing.recipients == 2
    assert response.redirect_chain[-1][0] == url("detail", campaign)
    assert "Sending started to 2 recipients." in response.content.decode()


def test_send_refused_by_the_checklist_says_why_and_changes_nothing(login, owner, org):
    campaign = ready_campaign(org)
    org.postal_address = ""
    org.save()
    response = login(owner, org).post(url("send", campaign), follow=True)
    assert response.redirect_chain[-1][0] == reverse("campaigns:edit", args=[campaign.pk, "review"])
    assert "no postal address" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT and campaign.mailing is None
    assert not Mailing.objects.exists()


def test_schedule_with_a_bad_time_is_refused(login, owner, org):
    campaign = ready_campaign(org)
    response = login(owner, org).post(
        url("schedule", campaign), {"send_at": "2001-01-01T10:00"}, follow=True
    )
    assert "Choose a time in the future." in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT and campaign.scheduled_at is None


def test_unschedule_makes_it_a_draft_again(login, editor, org):
    campaign = ready_campaign(org)
    services.campaign_schedule(
        organization=org, actor=editor, campaign=campaign, when=timezone.now() + timedelta(days=1)
    )
    client = login(editor, org)
    assert url("unschedule", campaign) in client.get(url("detail", campaign)).content.decode()
    client.post(url("unschedule", campaign))
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT and campaign.scheduled_at is None


def test_pause_resume_and_cancel_mid_send(login, editor, org, sending):
    Delivery.objects.filter(
        pk=Delivery.objects.filter(mailing=sending.mailing).order_by("id").first().pk
    ).update(status="sent")
    client = login(editor, org)
    client.post(url("pause", sending))
    sending.refresh_from_db()
    assert sending.status == "paused" and sending.mailing.status == "paused"
    html = client.get(url("detail", sending)).content.decode()
    assert url("resume", sending) in html and "Paused" in html

    client.post(url("resume", sending))
    sending.refresh_from_db()
    assert sending.status == "sending" and sending.mailing.status == "sending"

    response = client.post(url("cancel", sending), follow=True)
    assert "already sent stay sent" in response.content.decode()
    sending.refresh_from_db()
    assert sending.status == "cancelled"
    statuses = sorted(
        Delivery.objects.filter(mailing=sending.mailing).values_list("status", flat=True)
    )
    assert statuses == ["cancelled", "cancelled", "sent"]


def test_wrong_action_for_the_status_says_why(login, editor, org):
    draft = CampaignFactory(organization=org)
    response = login(editor, org).post(url("pause", draft), follow=True)
    assert "Only a campaign that is sending can be paused." in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_duplicate_opens_the_copy_in_the_wizard(login, editor, org, sending):
    response = login(editor, org).post(url("duplicate", sending))
    copy = Campaign.objects.exclude(pk=sending.pk).get()
    assert response.url == reverse("campaigns:edit", args=[copy.pk, "content"])
    assert copy.name == "Copy of Spring sale" and copy.status == "draft"
    assert copy.lists == sending.lists and copy.template == sending.template


def test_delete_draft_but_never_a_started_campaign(login, editor, org, sending):
    draft = CampaignFactory(organization=org)
    client = login(editor, org)
    response = client.post(url("delete", draft))
    assert response.url == reverse("campaigns:list")
    assert not Campaign.objects.filter(pk=draft.pk).exists()

    response = client.post(url("delete", sending), follow=True)
    assert "Only drafts can be deleted" in response.content.decode()
    assert Campaign.objects.filter(pk=sending.pk).exists()


# --------------------------------------------------------------------------- deliveries


def test_dead_letters_are_listed_with_reasons_and_can_be_retried(login, editor, org, sending):
    give_up_on(sending, 2)
    client = login(editor, org)
    html = client.get(url("detail", sending)).content.decode()
    assert "4.7.0 Try again later" in html and ">421<" in html
    assert 'data-status="dead"' in html and "Gave up" in html
    assert "Retry 2 failed" in html and url("retry", sending) in html

    response = client.post(url("retry", sending), follow=True)
    assert "2 messages queued again." in response.content.decode()
    assert not Delivery.objects.filter(mailing=sending.mailing, status="dead").exists()


def test_deliveries_filter_and_search(login, viewer, org, sending):
    dead_ids = give_up_on(sending, 1)
    failed = (
        Delivery.objects.filter(mailing=sending.mailing, status="queued").order_by("id").first()
    )
    Delivery.objects.filter(pk=failed.pk).update(
        status="failed", smtp_code=550, smtp_reply="5.1.1 No such user"
    )
    dead = Delivery.objects.get(pk=dead_ids[0])
    client = login(viewer, org)

    html = client.get(url("detail", sending), {"status": "failed"}).content.decode()
    assert "No such user" in html and "Try again later" not in html

    response = client.get(
        url("detail", sending),
        {"q": dead.email},
        headers={"HX-Request": "true", "HX-Target": "deliveries-results"},
    )
    html = response.content.decode()
    assert dead.email in html and failed.email not in html and "campaign-progress" not in html

    html = client.get(url("detail", sending), {"status": "bogus"}).content.decode()
    assert "No such user" in html and "Try again later" in html  # falls back to "failed or gave up"


# --------------------------------------------------------------------------- access


def test_viewer_gets_403_on_every_action(login, viewer, org, sending):
    client = login(viewer, org)
    for action in ACTIONS:
        assert client.post(url(action, sending)).status_code == 403, action
    sending.refresh_from_db()
    assert sending.status == "sending" and Campaign.objects.count() == 1


def test_outsider_gets_404(login, outsider, other_org, sending):
    client = login(outsider, other_org)
    assert client.get(url("detail", sending)).status_code == 404
    assert client.get(url("progress", sending)).status_code == 404
    for action in ACTIONS:
        assert client.post(url(action, sending)).status_code == 404, action
    sending.refresh_from_db()
    assert sending.status == "sending"


def test_actions_are_post_only(login, editor, org, sending):
    assert login(editor, org).get(url("cancel", sending)).status_code == 405


def test_actions_need_the_csrf_token(editor, org, sending):
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    session = client.session
    session[ACTIVE_ORGANIZATION_SESSION_KEY] = str(org.pk)
    session.save()
    assert client.post(url("cancel", sending)).status_code == 403
    sending.refresh_from_db()
    assert sending.status == "sending"
