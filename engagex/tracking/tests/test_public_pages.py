"""The recipient's public pages, reached from a really sent message: the unsubscribe page
and RFC 8058 one-click (`/u/<token>/`), re-subscribe, the preference center
(`/p/<token>/`) and the optional confirmation email."""

from __future__ import annotations

import re
from email import message_from_bytes
from email.policy import default as default_policy
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.test import Client

from engagex.audit.models import AuditEntry
from engagex.contacts.models import Contact, ListMembership
from engagex.contacts.tests.factories import (
    ContactFactory,
    ContactListFactory,
    ListMembershipFactory,
    SuppressionFactory,
)
from engagex.delivery.identifiers import unsubscribe_token, view_online_token
from engagex.delivery.models import SendingSettings
from engagex.delivery.tests.helpers import drain, new_sender, queue
from engagex.tracking import feedback
from engagex.tracking.models import MailingStats, TrackingEvent
from engagex.tracking.public_tokens import preferences_parse, preferences_token
from engagex.tracking.rollup import events_rollup
from engagex.tracking.tests.helpers import NEWSLETTER, delivery_of, paths, send_newsletter

WITH_PREFERENCES = NEWSLETTER.replace(
    "</p>", ' <a href="{{ preferences_url }}">Email preferences</a></p>'
)
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36"


@pytest.fixture
def sent(established_org, sink):
    """Ann got the newsletter; she is on three lists of the organization."""
    mailing, copies = send_newsletter(established_org, sink, html=WITH_PREFERENCES)
    ann = Contact.objects.get(organization=established_org, email="ann@example.com")
    lists = {}
    for name in ("Events", "News", "Offers"):
        lists[name] = ContactListFactory(organization=established_org, name=name)
        ListMembershipFactory(contact_list=lists[name], contact=ann)
    (unsubscribe,) = paths(copies["ann"], "/u/")
    (preferences,) = paths(copies["ann"], "/p/")
    _, handler = sink
    message = message_from_bytes(handler.messages[0][2], policy=default_policy)
    one_click = urlsplit(message["List-Unsubscribe"].split("<")[1].split(">")[0]).path
    return {
        "mailing": mailing,
        "ann": ann,
        "lists": lists,
        "unsubscribe": unsubscribe,
        "preferences": preferences,
        "one_click": one_click,
    }


def statuses(contact) -> dict[str, str]:
    return dict(
        ListMembership.objects.filter(contact=contact).values_list("contact_list__name", "status")
    )


def snapshot(organization) -> tuple:
    """Everything a recipient page could change, to compare before and after."""
    return (
        sorted(Contact.objects.filter(organization=organization).values_list("email", "status")),
        sorted(
            ListMembership.objects.filter(organization=organization).values_list(
                "contact__email", "contact_list__name", "status"
            )
        ),
        TrackingEvent.objects.filter(organization=organization)
        .exclude(kind__in=["open", "click"])
        .count(),
    )


def events(kind: str):
    return TrackingEvent.objects.filter(kind=kind)


def unsubscribes_counted(mailing) -> int:
    events_rollup()
    stats = MailingStats.objects.filter(mailing=mailing).first()
    return stats.unsubscribes if stats else 0


def csrf_client(path: str) -> tuple[Client, str]:
    """A browser-like client that must show the CSRF token it got with the page."""
    client = Client(enforce_csrf_checks=True)
    client.get(path)
    return client, client.cookies["csrftoken"].value


# -- the unsubscribe page ---------------------------------------------------------------------


def test_the_links_in_the_message_are_the_recipients_own(sent):
    delivery = delivery_of(sent["mailing"], "ann")
    assert sent["unsubscribe"] == f"/u/{unsubscribe_token(delivery.pk)}/"
    assert sent["one_click"] == sent["unsubscribe"]
    assert sent["preferences"] == f"/p/{preferences_token(delivery.pk)}/"
    assert preferences_parse(sent["preferences"].split("/")[2]) == delivery.pk


def test_get_shows_who_and_which_address_and_changes_nothing(client, sent):
    before = snapshot(sent["mailing"].organization)
    response = client.get(sent["unsubscribe"], HTTP_USER_AGENT="Barracuda Sentinel")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Unsubscribe?" in page and "Acme Inc" in page
    assert "a***@example.com" in page and "ann@example.com" not in page
    assert f'href="{sent["preferences"]}"' in page  # "Manage preferences instead"
    assert client.head(sent["unsubscribe"]).status_code == 200
    assert snapshot(sent["mailing"].organization) == before
    assert delivery_of(sent["mailing"], "ann").unsubscribed_at is None


def test_the_button_unsubscribes_once_and_offers_to_come_back(client, sent):
    response = client.post(sent["unsubscribe"], HTTP_USER_AGENT=BROWSER)
    page = response.content.decode()
    assert response.status_code == 200
    assert "You have been unsubscribed" in page and "Re-subscribe" in page
    assert client.post(sent["unsubscribe"]).status_code == 200  # again: nothing more happens

    sent["ann"].refresh_from_db()
    assert sent["ann"].status == "unsubscribed"
    assert set(statuses(sent["ann"]).values()) == {"unsubscribed"}
    (event,) = events("unsubscribe")
    assert event.detail["source"] == "page" and event.user_agent == BROWSER
    assert delivery_of(sent["mailing"], "ann").unsubscribed_at is not None
    assert unsubscribes_counted(sent["mailing"]) == 1
    # Coming back to the link later shows where they stand, with the way back.
    assert "Re-subscribe" in client.get(sent["unsubscribe"]).content.decode()


def test_one_click_answers_200_plain_text_without_redirect_idempotently(client, sent):
    for _ in range(2):
        response = client.post(
            sent["one_click"],
            "List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
            REMOTE_ADDR="198.51.100.7",
        )
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/plain")
        assert "Location" not in response
    (event,) = events("unsubscribe")
    assert (event.detail["source"], event.ip) == ("one-click", "198.51.100.7")
    sent["ann"].refresh_from_db()
    assert sent["ann"].status == "unsubscribed"
    assert unsubscribes_counted(sent["mailing"]) == 1


def test_resubscribe_restores_the_lists_left_and_the_counter(sent):
    lists = sent["lists"]
    ListMembership.objects.filter(contact=sent["ann"], contact_list=lists["Offers"]).update(
        status="unsubscribed"
    )  # left before: stays left
    client, csrf = csrf_client(sent["unsubscribe"])
    client.post(sent["unsubscribe"])

    forged = client.post(sent["unsubscribe"] + "resubscribe/")  # no CSRF token: refused
    assert forged.status_code == 403
    response = client.post(sent["unsubscribe"] + "resubscribe/", {"csrfmiddlewaretoken": csrf})
    assert response.status_code == 200
    assert "You're subscribed again" in response.content.decode()
    sent["ann"].refresh_from_db()
    assert sent["ann"].status == "subscribed"
    assert statuses(sent["ann"]) == {
        "Events": "subscribed",
        "News": "subscribed",
        "Offers": "unsubscribed",
    }
    assert events("resubscribe").get().detail["source"] == "page"
    assert delivery_of(sent["mailing"], "ann").unsubscribed_at is None
    assert unsubscribes_counted(sent["mailing"]) == 0
    # GET of the action only goes back to the page.
    assert client.get(sent["unsubscribe"] + "resubscribe/")["Location"] == sent["unsubscribe"]


def test_a_suppressed_address_cant_resubscribe_and_is_told_why(sent):
    client, csrf = csrf_client(sent["unsubscribe"])
    client.post(sent["unsubscribe"])
    SuppressionFactory(organization=sent["mailing"].organization, email="ann@example.com")
    before = snapshot(sent["mailing"].organization)

    page = client.get(sent["unsubscribe"]).content.decode()
    assert "suppression list" in page and "Re-subscribe</span>" not in page
    response = client.post(sent["unsubscribe"] + "resubscribe/", {"csrfmiddlewaretoken": csrf})
    assert response.status_code == 409
    assert "couldn" in response.content.decode() and "Nothing was changed" in (
        response.content.decode()
    )
    assert snapshot(sent["mailing"].organization) == before
    assert not events("resubscribe").exists()


def test_resubscribing_from_a_later_message_undoes_the_unsubscribe_where_it_happened(
    client, sent, sink
):
    ann = sent["ann"]
    later = queue(sent["mailing"].organization, [ann])
    smtp, _ = sink
    drain(new_sender(smtp))
    client.post(sent["unsubscribe"])  # left from the first message
    later_path = f"/u/{unsubscribe_token(delivery_of(later, 'ann').pk)}/"

    client.post(later_path + "resubscribe/")
    ann.refresh_from_db()
    assert ann.status == "subscribed"
    assert set(statuses(ann).values()) == {"subscribed"}
    assert unsubscribes_counted(sent["mailing"]) == 0
    assert unsubscribes_counted(later) == 0  # never went negative


def test_a_deleted_contact_gets_a_friendly_page_and_nothing_changes(client, sent):
    Contact.objects.filter(pk=sent["ann"].pk).update(deleted_at="2024-01-01T00:00:00Z")
    before = snapshot(sent["mailing"].organization)
    for response in (client.get(sent["unsubscribe"]), client.post(sent["unsubscribe"])):
        page = response.content.decode()
        assert response.status_code == 200
        assert "You won't receive emails from Acme Inc" in page
        assert "Re-subscribe" not in page
    page = client.get(sent["preferences"]).content.decode()
    assert "no longer on the mailing" in page and 'type="checkbox"' not in page
    assert client.post(sent["preferences"], {"action": "unsubscribe"}).status_code == 200
    assert snapshot(sent["mailing"].organization) == before


# -- tokens ---------------------------------------------------------------------------------


def _base36(number: int) -> str:
    digits = ""
    while True:
        number, digit = divmod(number, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[digit] + digits
        if not number:
            return digits


def _tampered(path: str) -> list[str]:
    token = path.split("/")[2]
    delivery_id, mac = token.split("-")
    flipped = mac[:-1] + ("a" if mac[-1] != "a" else "b")
    other_id = _base36(int(delivery_id, 36) + 1)  # a neighbour, same MAC
    return [
        f"{delivery_id}-{flipped}",  # altered
        token[:-4],  # truncated
        token + "a",  # extended
        f"{other_id}-{mac}",
        f"{delivery_id}-{mac.upper()}",  # one spelling only
        "not-a-token",
    ]


def test_forged_altered_and_truncated_tokens_get_a_404_and_change_nothing(client, sent):
    before = snapshot(sent["mailing"].organization)
    for prefix, real in (("u", sent["unsubscribe"]), ("p", sent["preferences"])):
        for token in _tampered(real):
            path = f"/{prefix}/{token}/"
            assert client.get(path).status_code == 404, path
            assert "This link doesn't work" in client.get(path).content.decode()
            assert client.post(path, {"List-Unsubscribe": "One-Click"}).status_code == 404
            assert client.post(path, {"action": "unsubscribe"}).status_code == 404
        assert client.post(f"/u/{_tampered(real)[0]}/resubscribe/").status_code == 404
    assert snapshot(sent["mailing"].organization) == before


def test_each_token_opens_only_its_own_page(client, sent):
    delivery = delivery_of(sent["mailing"], "ann")
    unsubscribe = unsubscribe_token(delivery.pk)
    preferences = preferences_token(delivery.pk)
    assert client.get(f"/p/{unsubscribe}/").status_code == 404
    assert client.get(f"/p/{view_online_token(delivery.pk)}/").status_code == 404
    assert client.post(f"/u/{preferences}/").status_code == 404
    assert client.get(f"/m/mail/{preferences}/").status_code == 404
    sent["ann"].refresh_from_db()
    assert sent["ann"].status == "subscribed"


def test_a_token_reaches_only_its_own_organizations_contact_and_lists(
    client, sent, other_org, sink
):
    """Another organization has the same person on its own lists: Ann's link from Acme
    shows and changes Acme's lists only, and posting the other list's id changes nothing."""
    SendingSettings.objects.create(organization=other_org, warmup_exempt=True)
    theirs = ContactFactory(organization=other_org, email="ann@example.com")
    their_list = ContactListFactory(organization=other_org, name="Outsider news")
    ListMembershipFactory(contact_list=their_list, contact=theirs)
    other_mailing = queue(other_org, [theirs])
    drain(new_sender(sink[0]))
    other_before = snapshot(other_org)

    page = client.get(sent["preferences"]).content.decode()
    assert "Outsider" not in page and "Offers" in page
    response = client.post(sent["preferences"], {"action": "save", "lists": [str(their_list.pk)]})
    assert response.status_code == 400
    assert "isn&#x27;t one of yours" in response.content.decode()
    assert set(statuses(sent["ann"]).values()) == {"subscribed"}

    client.post(sent["unsubscribe"])
    client.post(sent["preferences"], {"action": "unsubscribe"})
    assert snapshot(other_org) == other_before
    assert Contact.objects.get(pk=theirs.pk).status == "subscribed"
    assert unsubscribes_counted(other_mailing) == 0
    # And their own link only ever touches their contact.
    their_path = f"/p/{preferences_token(delivery_of(other_mailing, 'ann').pk)}/"
    assert "Offers" not in client.get(their_path).content.decode()


# -- the preference center ---------------------------------------------------------------------


def test_the_preference_center_lists_the_memberships_and_get_changes_nothing(client, sent):
    ListMembership.objects.filter(contact=sent["ann"], contact_list=sent["lists"]["Offers"]).update(
        status="unsubscribed"
    )
    before = snapshot(sent["mailing"].organization)
    page = client.get(sent["preferences"]).content.decode()
    assert "Email preferences" in page and "a***@example.com" in page
    boxes = re.findall(r'<input type="checkbox" name="lists" value="([^"]+)"( checked)?', page)
    checked = {value: bool(mark) for value, mark in boxes}
    lists = sent["lists"]
    assert checked == {
        str(lists["Events"].pk): True,
        str(lists["News"].pk): True,
        str(lists["Offers"].pk): False,
    }
    assert snapshot(sent["mailing"].organization) == before


def test_saving_changes_exactly_the_chosen_memberships(sent):
    lists = sent["lists"]
    client, csrf = csrf_client(sent["preferences"])
    assert client.post(sent["preferences"], {"lists": [str(lists["News"].pk)]}).status_code == 403

    response = client.post(
        sent["preferences"],
        {
            "csrfmiddlewaretoken": csrf,
            "action": "save",
            "lists": [str(lists["News"].pk), str(lists["Events"].pk)],
        },
    )
    assert response.status_code == 302 and response["Location"].endswith("?done=saved")
    assert statuses(sent["ann"]) == {
        "Events": "subscribed",
        "News": "subscribed",
        "Offers": "unsubscribed",
    }
    sent["ann"].refresh_from_db()
    assert sent["ann"].status == "subscribed"  # leaving a list isn't leaving everything
    assert not events("unsubscribe").exists()
    (left,) = AuditEntry.objects.filter(action="tracking.list_left")
    assert (left.actor_id, left.target_id, left.metadata["list"]) == (
        None,
        str(sent["ann"].pk),
        str(lists["Offers"].pk),
    )
    page = client.get(response["Location"]).content.decode()
    assert "Your preferences are saved." in page

    client.post(
        sent["preferences"],
        {"csrfmiddlewaretoken": csrf, "lists": [str(lists["Offers"].pk)]},
    )
    assert statuses(sent["ann"]) == {
        "Events": "unsubscribed",
        "News": "unsubscribed",
        "Offers": "subscribed",
    }
    assert AuditEntry.objects.filter(action="tracking.list_joined").count() == 1
    assert AuditEntry.objects.filter(action="tracking.list_left").count() == 3


def test_an_unsubscribed_contact_who_ticks_a_list_is_subscribed_again(client, sent):
    lists = sent["lists"]
    client.post(sent["unsubscribe"])
    page = client.get(sent["preferences"]).content.decode()
    assert "unsubscribed from all emails" in page

    client.post(sent["preferences"], {"lists": [str(lists["News"].pk)]})
    sent["ann"].refresh_from_db()
    assert sent["ann"].status == "subscribed"
    assert statuses(sent["ann"]) == {
        "Events": "unsubscribed",
        "News": "subscribed",
        "Offers": "unsubscribed",
    }
    assert events("resubscribe").get().detail["source"] == "preferences"
    assert unsubscribes_counted(sent["mailing"]) == 0


def test_a_bounced_address_can_leave_lists_but_not_join_them(client, sent):
    lists = sent["lists"]
    feedback.bounce(delivery_of(sent["mailing"], "ann"), severity="hard", source="dsn")
    ListMembership.objects.filter(contact=sent["ann"], contact_list=lists["Offers"]).update(
        status="unsubscribed"
    )
    page = client.get(sent["preferences"]).content.decode()
    assert "can't be subscribed again here" in page
    before = snapshot(sent["mailing"].organization)

    response = client.post(sent["preferences"], {"lists": [str(lists["Offers"].pk)]})
    assert response.status_code == 409
    assert snapshot(sent["mailing"].organization) == before

    client.post(sent["preferences"], {"lists": [str(lists["News"].pk)]})
    assert statuses(sent["ann"]) == {
        "Events": "unsubscribed",
        "News": "subscribed",
        "Offers": "unsubscribed",
    }
    sent["ann"].refresh_from_db()
    assert sent["ann"].status == "bounced"


def test_unsubscribe_from_all_and_back_from_the_preference_center(client, sent):
    response = client.post(sent["preferences"], {"action": "unsubscribe"})
    assert response["Location"].endswith("?done=unsubscribed")
    assert "You have been unsubscribed from all emails" in (
        client.get(response["Location"]).content.decode()
    )
    sent["ann"].refresh_from_db()
    assert sent["ann"].status == "unsubscribed"
    assert events("unsubscribe").get().detail["source"] == "preferences"

    response = client.post(sent["preferences"], {"action": "resubscribe"})
    assert response["Location"].endswith("?done=resubscribed")
    sent["ann"].refresh_from_db()
    assert sent["ann"].status == "subscribed"
    assert set(statuses(sent["ann"]).values()) == {"subscribed"}
    assert unsubscribes_counted(sent["mailing"]) == 0


# -- the confirmation email ----------------------------------------------------------------


def test_no_confirmation_email_unless_switched_on(client, sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(sent["unsubscribe"])
    assert mail.outbox == []


def test_the_confirmation_email_links_back_to_re_subscribe(
    client, sent, settings, django_capture_on_commit_callbacks
):
    settings.UNSUBSCRIBE_CONFIRMATION_EMAIL = True
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            sent["one_click"],
            "List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        )
        client.post(sent["unsubscribe"])  # already unsubscribed: no second email
    (email,) = mail.outbox
    assert email.to == ["ann@example.com"]
    assert email.subject == "You've been unsubscribed from Acme Inc"
    link = re.search(r"https?://\S+/u/\S+/", email.body).group(0)
    assert urlsplit(link).path == sent["unsubscribe"]
    assert "Re-subscribe" in client.get(urlsplit(link).path).content.decode()
    assert link in email.alternatives[0][0]


def test_bounces_and_complaints_never_send_a_confirmation(
    sent, settings, django_capture_on_commit_callbacks
):
    settings.UNSUBSCRIBE_CONFIRMATION_EMAIL = True
    with django_capture_on_commit_callbacks(execute=True):
        feedback.complaint(delivery_of(sent["mailing"], "ann"), source="arf")
    assert mail.outbox == []
