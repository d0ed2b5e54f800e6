"""The open pixel and click redirect, hit the way mail clients and scanners hit them."""

import datetime as dt

import pytest
from django.utils import timezone

from engagex.delivery.models import Delivery
from engagex.tracking.models import TrackingEvent
from engagex.tracking.tests.helpers import delivery_of, paths, send_newsletter
from engagex.tracking.tokens import click_token, open_token

BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 Safari/605.1.15"


@pytest.fixture
def sent(established_org, sink):
    mailing, copies = send_newsletter(established_org, sink, people=("ann", "bob"))
    # Delivered a while ago: a click now is a person, not a gateway scanning on arrival.
    Delivery.objects.filter(mailing=mailing).update(
        sent_at=timezone.now() - dt.timedelta(minutes=5)
    )
    return mailing, copies


def test_a_click_redirects_to_the_link_and_is_recorded(client, sent):
    mailing, copies = sent
    sale, new, _, yours = paths(copies["ann"], "/t/c/")

    response = client.get(sale, HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 302
    assert response["Location"] == "https://shop.example/sale?a=1&b=2"
    assert client.get(new, HTTP_USER_AGENT=BROWSER)["Location"] == "https://shop.example/new"
    # A link with a merge tag goes to the clicking recipient's own address.
    assert client.get(yours, HTTP_USER_AGENT=BROWSER)["Location"] == "https://shop.example/for/Ann"

    event = TrackingEvent.objects.filter(kind="click").order_by("id").first()
    ann = delivery_of(mailing, "ann")
    assert (event.delivery_id, event.mailing_id, event.contact_id) == (
        ann.pk,
        mailing.pk,
        ann.contact_id,
    )
    assert (event.organization_id, event.link_index) == (mailing.organization_id, 0)
    assert (event.ip, event.user_agent, event.is_bot) == ("203.0.113.9", BROWSER, False)


def test_the_pixel_answers_a_gif_and_records_an_open(client, sent):
    mailing, copies = sent
    (pixel,) = paths(copies["bob"], "/t/o/")
    response = client.get(pixel, HTTP_USER_AGENT=BROWSER)
    assert response.status_code == 200 and response["Content-Type"] == "image/gif"
    assert "no-cache" in response["Cache-Control"]
    assert TrackingEvent.objects.get(kind="open").delivery_id == delivery_of(mailing, "bob").pk


@pytest.mark.parametrize(
    ("headers", "method", "reason"),
    [
        ({"HTTP_USER_AGENT": "Mozilla/5.0 (compatible; Barracuda Sentinel)"}, "get", "scanner"),
        ({"HTTP_USER_AGENT": "python-requests/2.31"}, "get", "scanner"),
        ({"HTTP_USER_AGENT": BROWSER}, "head", "HEAD"),
        ({"HTTP_USER_AGENT": BROWSER, "HTTP_SEC_PURPOSE": "prefetch"}, "get", "prefetch"),
        ({}, "get", "no user agent"),
    ],
)
def test_scanners_and_prefetches_are_recorded_as_bots(client, sent, headers, method, reason):
    _, copies = sent
    link = paths(copies["ann"], "/t/c/")[1]
    response = getattr(client, method)(link, **headers)
    assert response.status_code == 302  # a scanner still gets where the link goes
    event = TrackingEvent.objects.get(kind="click")
    assert event.is_bot and reason in event.bot_reason


def test_apple_privacy_proxy_opens_are_flagged(client, sent):
    _, copies = sent
    (pixel,) = paths(copies["ann"], "/t/o/")
    client.get(pixel, HTTP_USER_AGENT="Mozilla/5.0", REMOTE_ADDR="17.58.1.2")
    assert TrackingEvent.objects.get(kind="open").bot_reason == "privacy proxy (Apple Mail)"


def test_a_click_right_after_delivery_is_a_scanner(client, sent):
    mailing, copies = sent
    Delivery.objects.filter(mailing=mailing).update(sent_at=timezone.now())
    client.get(paths(copies["ann"], "/t/c/")[1], HTTP_USER_AGENT=BROWSER)
    assert TrackingEvent.objects.get(kind="click").bot_reason == "click within 1 s of delivery"


@pytest.mark.parametrize(
    "token",
    [
        "nope",
        "1.0.AAAAAAAAAAA",
        lambda ann: click_token(ann.pk, 0)[:-2],  # truncated
        lambda ann: click_token(ann.pk, 0)[:-1] + "Q",  # altered
        lambda ann: click_token(ann.pk, 9),  # genuine, but the mailing has no link 9
        lambda ann: click_token(ann.pk + 1000, 0),  # genuine, no such delivery
    ],
)
def test_bad_click_tokens_get_a_friendly_404_and_record_nothing(client, sent, token):
    mailing, _ = sent
    if callable(token):
        token = token(delivery_of(mailing, "ann"))
    response = client.get(f"/t/c/{token}", HTTP_USER_AGENT=BROWSER)
    assert response.status_code == 404
    assert "Location" not in response
    assert "link doesn" in response.content.decode()
    assert not TrackingEvent.objects.exists()


def test_bad_open_tokens_record_nothing(client, sent):
    mailing, _ = sent
    ann = delivery_of(mailing, "ann")
    for token in ("x", open_token(ann.pk)[:-1] + "Z", open_token(ann.pk + 1000)):
        assert client.get(f"/t/o/{token}").status_code == 404
    assert not TrackingEvent.objects.exists()


def test_a_replayed_click_redirects_again_and_counts_each_hit(client, sent):
    _, copies = sent
    link = paths(copies["ann"], "/t/c/")[1]
    for _ in range(3):
        assert client.get(link, HTTP_USER_AGENT=BROWSER).status_code == 302
    assert TrackingEvent.objects.filter(kind="click").count() == 3


def test_a_link_with_a_merge_tag_never_leaves_http(client, established_org, sink):
    html = '<p><a href="{{ fields.site }}">My site</a></p>'
    mailing, copies = send_newsletter(established_org, sink, html=html)
    Delivery.objects.filter(mailing=mailing).update(sent_at=timezone.now() - dt.timedelta(hours=1))
    ann = delivery_of(mailing, "ann")
    (link,) = paths(copies["ann"], "/t/c/")
    ann.contact.fields = {"site": "javascript:alert(1)"}
    ann.contact.save()
    assert client.get(link, HTTP_USER_AGENT=BROWSER).status_code == 404
    ann.contact.fields = {"site": "https://ann.example/"}
    ann.contact.save()
    assert client.get(link, HTTP_USER_AGENT=BROWSER)["Location"] == "https://ann.example/"


def test_tracking_endpoints_set_no_cookies(client, sent):
    _, copies = sent
    response = client.get(paths(copies["ann"], "/t/c/")[0], HTTP_USER_AGENT=BROWSER)
    assert not response.cookies
