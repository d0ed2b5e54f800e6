"""REST API: scheduling, sending, pausing, resuming, cancelling and retrying a campaign,
its progress and its deliveries — with real outbox rows (no sender runs here: the
outbox functions a sender uses stand in for one)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from engagex.accounts.services.usage import emails_sent_this_month
from engagex.audit.models import AuditEntry
from engagex.campaigns import services
from engagex.campaigns.models import Campaign
from engagex.campaigns.tests.test_checks import ready_campaign
from engagex.contacts.models import ContactList
from engagex.contacts.tests.factories import ListMembershipFactory
from engagex.delivery import outbox
from engagex.delivery.models import Delivery, Mailing

URL = "/api/v1/campaigns"


@pytest.fixture
def key(make_key):
    return make_key("read", "write", "send")[1]


def more_recipients(campaign, count: int) -> None:
    contact_list = ContactList.objects.get(pk=campaign.lists[0])
    ListMembershipFactory.create_batch(count, contact_list=contact_list)


def statuses(campaign) -> dict[str, int]:
    counts = outbox.mailing_counts(Mailing.objects.get(pk=campaign.mailing_id))
    return {status: n for status, n in counts.items() if n}


def deliver(campaign, *results, now=None):
    """What a sender does: claim messages and record one result per message."""
    mailing = Mailing.objects.get(pk=campaign.mailing_id)
    claimed = outbox.deliveries_claim(worker="w", mailing=mailing, limit=len(results), now=now)
    outcomes = [
        outbox.Outcome(item.id, result, code, reply)
        for item, (result, code, reply) in zip(claimed, results, strict=True)
    ]
    outbox.deliveries_record(worker="w", outcomes=outcomes, now=now)
    return claimed


SENT = (outbox.SENT, 250, "2.0.0 OK")
REFUSED = (outbox.PERMANENT, 550, "5.1.1 No such user")
LATER = (outbox.TEMPORARY, 451, "4.7.1 Try again later")


def test_send_pause_resume_cancel_with_real_outbox_rows(api, key, org, owner):
    campaign = ready_campaign(org)
    more_recipients(campaign, 2)
    url = f"{URL}/{campaign.pk}"

    sent = api.post(f"{url}/send", key)
    assert sent.status_code == 202, sent.json()
    body = sent.json()
    assert (body["status"], body["recipients"], body["sent"]) == ("sending", 4, 0)
    assert body["started_at"]
    campaign.refresh_from_db()
    assert statuses(campaign) == {"queued": 4}
    assert emails_sent_this_month(org) == 4
    again = api.post(f"{url}/send", key)
    assert again.status_code == 409 and again.json()["status"] == "sending"
    assert Mailing.objects.count() == 1 and Delivery.objects.count() == 4

    deliver(campaign, SENT)
    paused = api.post(f"{url}/pause", key)
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    assert Mailing.objects.get(pk=campaign.mailing_id).status == Mailing.Status.PAUSED
    # A paused mailing hands out nothing: the senders skip it.
    assert not Mailing.objects.filter(pk=campaign.mailing_id, status="sending").exists()
    assert api.post(f"{url}/pause", key).status_code == 409

    resumed = api.post(f"{url}/resume", key)
    assert resumed.status_code == 200 and resumed.json()["status"] == "sending"
    assert Mailing.objects.get(pk=campaign.mailing_id).status == Mailing.Status.SENDING
    assert api.post(f"{url}/resume", key).status_code == 409

    deliver(campaign, SENT)
    cancelled = api.post(f"{url}/cancel", key)
    assert cancelled.status_code == 200, cancelled.json()
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["finished_at"]
    assert statuses(campaign) == {"sent": 2, "cancelled": 2}
    assert emails_sent_this_month(org) == 2  # the dropped ones were given back
    assert api.post(f"{url}/cancel", key).status_code == 409
    assert api.post(f"{url}/resume", key).status_code == 409
    assert api.post(f"{url}/retry-failed", key).status_code == 409

    actions = list(
        AuditEntry.objects.filter(organization=org, action__startswith="campaigns.")
        .order_by("created_at")
        .values_list("action", flat=True)
    )
    assert actions == [
        "campaigns.campaign_sent",
        "campaigns.campaign_paused",
        "campaigns.campaign_resumed",
        "campaigns.campaign_cancelled",
    ]  # each once: the API adds no audit entries of its own


def test_send_refuses_when_a_check_fails_and_queues_nothing(api, key, org):
    campaign = ready_campaign(org)
    org.postal_address = ""
    org.save()
    response = api.post(f"{URL}/{campaign.pk}/send", key)
    assert response.status_code == 400
    assert any("postal address" in message for message in response.json()["non_field_errors"])
    campaign.refresh_from_db()
    assert campaign.status == "draft" and campaign.mailing_id is None
    assert not Mailing.objects.exists() and not Delivery.objects.exists()
    assert emails_sent_this_month(org) == 0


def test_pausing_or_cancelling_what_is_not_sending(api, key, org):
    campaign = ready_campaign(org)
    url = f"{URL}/{campaign.pk}"
    for action in ("pause", "resume", "unschedule", "retry-failed"):
        response = api.post(f"{url}/{action}", key)
        assert response.status_code == 409, action
        assert response.json()["status"] == "draft" and response.json()["detail"]
    # Cancelling a draft is allowed: it will never go out.
    assert api.post(f"{url}/cancel", key).json()["status"] == "cancelled"
    assert api.post(f"{url}/send", key).status_code == 409
    assert not Mailing.objects.exists()


def test_schedule_with_an_offset_and_unschedule(api, key, org):
    campaign = ready_campaign(org)
    url = f"{URL}/{campaign.pk}"
    when = (timezone.now() + dt.timedelta(days=3)).replace(microsecond=0)
    local = when.astimezone(ZoneInfo("America/New_York"))
    response = api.post(f"{url}/schedule", key, json={"scheduled_at": local.isoformat()})
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "scheduled"
    campaign.refresh_from_db()
    assert (campaign.status, campaign.scheduled_at) == ("scheduled", when)
    assert not Mailing.objects.exists()  # nothing queued until the time comes

    # A scheduled campaign can still be edited, and moved.
    assert api.patch(url, key, json={"subject": "Updated"}).status_code == 200
    later = when + dt.timedelta(days=1)
    moved = api.post(f"{url}/schedule", key, json={"scheduled_at": later.isoformat()})
    assert moved.status_code == 200
    campaign.refresh_from_db()
    assert (campaign.status, campaign.scheduled_at, campaign.subject) == (
        "scheduled",
        later,
        "Updated",
    )

    back = api.post(f"{url}/unschedule", key)
    assert back.status_code == 200
    assert (back.json()["status"], back.json()["scheduled_at"]) == ("draft", None)
    actions = set(AuditEntry.objects.filter(organization=org).values_list("action", flat=True))
    assert {"campaigns.campaign_scheduled", "campaigns.campaign_unscheduled"} <= actions


def test_a_time_without_offset_is_in_the_organizations_time_zone(api, key, org):
    org.time_zone = "Asia/Tokyo"
    org.save()
    campaign = ready_campaign(org)
    tokyo = ZoneInfo("Asia/Tokyo")
    wall_clock = (
        (timezone.now() + dt.timedelta(days=2))
        .astimezone(tokyo)
        .replace(hour=9, minute=30, second=0, microsecond=0, tzinfo=None)
    )
    response = api.post(
        f"{URL}/{campaign.pk}/schedule", key, json={"scheduled_at": wall_clock.isoformat()}
    )
    assert response.status_code == 200, response.json()
    campaign.refresh_from_db()
    assert campaign.scheduled_at == wall_clock.replace(tzinfo=tokyo)
    assert campaign.scheduled_at.astimezone(tokyo).hour == 9


@pytest.mark.parametrize(
    "scheduled_at",
    [
        "2001-01-01T09:00:00+00:00",  # past
        "2999-01-01T09:00:00+00:00",  # more than a year ahead
        "tomorrow at nine",
        "",
        None,
        12,
    ],
)
def test_bad_schedule_times_are_400_and_change_nothing(api, key, org, scheduled_at):
    campaign = ready_campaign(org)
    response = api.post(f"{URL}/{campaign.pk}/schedule", key, json={"scheduled_at": scheduled_at})
    assert response.status_code == 400
    assert response.json()["scheduled_at"][0]
    campaign.refresh_from_db()
    assert (campaign.status, campaign.scheduled_at) == ("draft", None)


def test_schedule_refuses_failing_checks_and_missing_time(api, key, org):
    campaign = ready_campaign(org, from_email="")
    url = f"{URL}/{campaign.pk}/schedule"
    when = (timezone.now() + dt.timedelta(days=1)).isoformat()
    response = api.post(url, key, json={"scheduled_at": when})
    assert response.status_code == 400
    assert any("sender address" in message for message in response.json()["non_field_errors"])
    assert api.post(url, key, json={}).status_code == 400
    assert api.post(url, key, json={"scheduled_at": when, "at": 1}).status_code == 400
    campaign.refresh_from_db()
    assert (campaign.status, campaign.scheduled_at) == ("draft", None)
    started = services.campaign_start(organization=org, actor=None, campaign=ready_campaign(org))
    conflict = api.post(f"{URL}/{started.pk}/schedule", key, json={"scheduled_at": when})
    assert conflict.status_code == 409


def test_progress_follows_the_mailing_counters(api, key, org):
    campaign = ready_campaign(org)
    more_recipients(campaign, 8)
    url = f"{URL}/{campaign.pk}/progress"
    before = api.get(url, key).json()
    assert before["status"] == "draft"
    assert (before["total"], before["sent"], before["percent"], before["eta_seconds"]) == (
        0,
        0,
        0,
        None,
    )

    api.post(f"{URL}/{campaign.pk}/send", key)
    campaign.refresh_from_db()
    deliver(campaign, SENT, SENT, SENT, SENT, REFUSED)
    # Started two hours ago: 4 sent makes 2/h on average, 5 left → 2.5 h.
    Mailing.objects.filter(pk=campaign.mailing_id).update(
        started_at=timezone.now() - dt.timedelta(hours=2)
    )
    mailing = Mailing.objects.get(pk=campaign.mailing_id)
    assert (mailing.sent_count, mailing.failed_count) == (4, 1)

    body = api.get(url, key).json()
    assert body["status"] == "sending"
    assert (body["total"], body["sent"], body["failed"], body["remaining"]) == (10, 4, 1, 5)
    assert body["percent"] == 50
    assert round(body["rate_per_hour"]) == 2
    assert abs(body["eta_seconds"] - 150 * 60) < 60
    assert body["throttled"] is False and "Sending at" in body["message"]
    assert body["at"]

    # The pace since the previous poll: 4 sent in the last hour → 4/h, 5 left → 75 min.
    hour_ago = (timezone.now() - dt.timedelta(hours=1)).isoformat()
    paced = api.client.get(
        url,
        {"previous_sent": 0, "previous_at": hour_ago},
        headers={"Authorization": f"Bearer {key}"},
    ).json()
    assert round(paced["rate_per_hour"]) == 4
    assert abs(paced["eta_seconds"] - 75 * 60) < 60
    bad = api.get(f"{url}?previous_sent=-1&previous_at=yesterday", key)
    assert bad.status_code == 400 and {"previous_sent", "previous_at"} <= set(bad.json())

    Mailing.objects.filter(pk=campaign.mailing_id).update(
        throttled_until=timezone.now() + dt.timedelta(minutes=10)
    )
    assert api.get(url, key).json()["throttled"] is True
    Mailing.objects.filter(pk=campaign.mailing_id).update(throttled_until=None)

    api.post(f"{URL}/{campaign.pk}/pause", key)
    paused = api.get(url, key).json()
    assert paused["status"] == "paused" and "Paused" in paused["message"]
    api.post(f"{URL}/{campaign.pk}/cancel", key)
    done = api.get(url, key).json()
    assert (done["status"], done["remaining"], done["message"]) == ("cancelled", 0, "")
    assert (done["sent"], done["failed"]) == (4, 1)


def test_deliveries_list_with_filters_and_pagination(api, key, org, make_key, other_org):
    campaign = ready_campaign(org)
    more_recipients(campaign, 3)
    url = f"{URL}/{campaign.pk}/deliveries"
    assert api.get(url, key).json()["results"] == []  # nothing before sending

    api.post(f"{URL}/{campaign.pk}/send", key)
    campaign.refresh_from_db()
    deliver(campaign, SENT, REFUSED)

    body = api.get(url, key).json()
    rows = body["results"]
    assert len(rows) == 5
    assert set(rows[0]) == {
        "id",
        "email",
        "status",
        "attempts",
        "sent_at",
        "smtp_code",
        "smtp_reply",
    }
    assert [row["id"] for row in rows] == sorted((row["id"] for row in rows), reverse=True)
    failed = api.get(f"{url}?status=failed", key).json()["results"]
    assert len(failed) == 1
    assert (failed[0]["smtp_code"], failed[0]["smtp_reply"], failed[0]["attempts"]) == (
        550,
        "5.1.1 No such user",
        1,
    )
    sent = api.get(f"{url}?status=sent", key).json()["results"]
    assert len(sent) == 1 and sent[0]["sent_at"] and sent[0]["smtp_code"] == 250
    assert len(api.get(f"{url}?status=queued", key).json()["results"]) == 3

    email = rows[2]["email"]
    found = api.get(f"{url}?q={email[:-4].upper()}", key).json()["results"]
    assert [row["email"] for row in found] == [email]
    assert api.get(f"{url}?q=nobody-at-all", key).json()["results"] == []
    bad = api.get(f"{url}?status=bounced", key)
    assert bad.status_code == 400 and "status" in bad.json()

    seen, page = [], f"{url}?limit=2"
    while page:
        body = api.get(page, key).json()
        assert len(body["results"]) <= 2
        seen += [row["id"] for row in body["results"]]
        page = body["next"]
    assert sorted(seen, reverse=True) == [row["id"] for row in rows]

    # Another organization's campaign with its own outbox never shows up here, and its
    # key sees none of ours.
    theirs = services.campaign_start(
        organization=other_org, actor=None, campaign=ready_campaign(other_org)
    )
    assert len(api.get(url, key).json()["results"]) == 5
    _, their_key = make_key("read", organization=other_org)
    assert api.get(url, their_key).status_code == 404
    assert len(api.get(f"{URL}/{theirs.pk}/deliveries", their_key).json()["results"]) == 2
    assert api.get(f"{URL}/{theirs.pk}/deliveries", key).status_code == 404


def test_retry_failed_queues_the_dead_letters_again(api, key, org):
    campaign = ready_campaign(org)
    more_recipients(campaign, 1)
    api.post(f"{URL}/{campaign.pk}/send", key)
    campaign.refresh_from_db()
    # Past the 48-hour budget a temporary failure gives up ("dead"); a 5xx stays failed.
    long_after = timezone.now() + outbox.MAX_AGE + dt.timedelta(hours=1)
    deliver(campaign, LATER, LATER, REFUSED, now=long_after)
    assert statuses(campaign) == {"dead": 2, "failed": 1}

    response = api.post(f"{URL}/{campaign.pk}/retry-failed", key)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["retried"] == 2 and body["campaign"]["status"] == "sending"
    assert body["campaign"]["failed"] == 1
    assert statuses(campaign) == {"queued": 2, "failed": 1}
    again = api.post(f"{URL}/{campaign.pk}/retry-failed", key).json()
    assert again["retried"] == 0
    assert AuditEntry.objects.filter(action="campaigns.campaign_retried").count() == 1
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENDING
