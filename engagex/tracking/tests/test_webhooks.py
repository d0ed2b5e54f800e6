"""Provider webhooks: mail really sent through a provider's API (a local fake of it), then
the provider's event payloads (fixtures/webhooks/, in each provider's documented format)
posted to the organization's own URL, signed as the provider signs them.

What must hold: the right contact, suppression, delivery and event changes; wrong
signatures, forged URLs and malformed bodies change nothing; a replay has no second
effect; another organization's message can't be touched through this URL; an unknown
message is acknowledged (200) and ignored."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import itertools
import json
import secrets
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.urls import reverse

from engagex.accounts.models import Membership
from engagex.accounts.tests.factories import MembershipFactory
from engagex.audit.models import AuditEntry
from engagex.contacts.models import Contact, Suppression
from engagex.contacts.tests.factories import ContactFactory
from engagex.delivery.models import Delivery, SendingSettings
from engagex.delivery.tests.helpers import drain, new_sender, queue
from engagex.delivery.tests.provider_api import provider_api
from engagex.lib import secretbox
from engagex.tracking import webhooks
from engagex.tracking.models import TrackedLink, TrackingEvent

# anymail warns, on every SendGrid backend and view, that it no longer tests SendGrid itself.
pytestmark = pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailNotSupportedWarning")

FIXTURES = Path(__file__).parent / "fixtures" / "webhooks"
MAILGUN_KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"
RESEND_SECRET = "whsec_" + base64.b64encode(b"resend-endpoint-secret-32-bytes!").decode()
_ids = itertools.count(1)


# -- sending through a (fake) provider -----------------------------------------------------


def _answer(provider: str):
    def answer(request):
        number = next(_ids)
        if provider == "postmark":
            to = request.json()["To"]
            return 200, {
                "To": to,
                "SubmittedAt": "2026-11-30T16:33:50.0000000Z",
                "MessageID": f"b7bc2f4a-e38e-4336-af7d-{number:012d}",
                "ErrorCode": 0,
                "Message": "OK",
            }
        if provider == "sendgrid":
            return 202, ""  # anymail makes up the message id (anymail_id) itself
        if provider == "mailgun":
            return 200, {
                "id": f"<20261130163354.{number}.4D2C3E1A@mg.acme.example>",
                "message": "Queued",
            }
        if provider == "brevo":
            return 201, {"messageId": f"<202611301633.{number:011d}@smtp-relay.mailin.fr>"}
        return 200, {"id": f"56761188-7520-42d8-8898-{number:012d}"}  # resend

    return answer


@pytest.fixture
def fake_providers(settings):
    with provider_api() as api:
        settings.ANYMAIL = {
            "POSTMARK_API_URL": api.url + "/",
            "SENDGRID_API_URL": api.url + "/v3/",
            "MAILGUN_API_URL": api.url + "/v3",
            "BREVO_API_URL": api.url + "/v3/",
            "RESEND_API_URL": api.url + "/",
        }
        api.route("POST", "/email", _answer("postmark"))
        api.route("POST", "/v3/mail/send", _answer("sendgrid"))
        api.route("POST", "/v3/mg.acme.example/messages", _answer("mailgun"))
        api.route("POST", "/v3/smtp/email", _answer("brevo"))
        api.route("POST", "/emails", _answer("resend"))
        yield api


def use_provider(org, provider: str) -> SendingSettings:
    row, _ = SendingSettings.objects.get_or_create(organization=org)
    row.transport = SendingSettings.Transport.PROVIDER
    row.provider = provider
    row.warmup_exempt = True
    row.provider_api_key_encrypted = secretbox.encrypt("key-1" if provider != "mailjet" else "a:b")
    row.provider_options = {"domain": "mg.acme.example"} if provider == "mailgun" else {}
    row.save()
    return row


def send(org, provider, sink, people=("ann",), **mailing_options) -> dict[str, Delivery]:
    """A mailing sent for real through `provider`'s API; {name: delivery}."""
    use_provider(org, provider)
    contacts = [
        ContactFactory(organization=org, email=f"{name}@example.com", first_name=name.title())
        for name in people
    ]
    mailing = queue(org, contacts, **mailing_options)
    drain(new_sender(sink[0]))
    deliveries = {d.email.split("@")[0]: d for d in Delivery.objects.filter(mailing=mailing)}
    assert all(d.status == "sent" and d.provider_message_id for d in deliveries.values()), [
        (d.status, d.smtp_reply, d.provider_message_id) for d in deliveries.values()
    ]
    return deliveries


def set_key(org, provider: str, key: str) -> None:
    row = SendingSettings.objects.get(organization=org)
    row.webhook_keys_encrypted = {**row.webhook_keys_encrypted, provider: secretbox.encrypt(key)}
    row.save()


# -- payloads ------------------------------------------------------------------------------


def payload(provider: str, name: str, delivery: Delivery | None = None, **values):
    """A fixture event with its placeholders filled in for `delivery`."""
    event = copy.deepcopy(json.loads((FIXTURES / f"{provider}.json").read_text())[name])
    if delivery is not None:
        values = {
            "MESSAGE_ID": delivery.provider_message_id,
            "DELIVERY_ID": str(delivery.pk),
            "EMAIL": delivery.email,
            **values,
        }
    values.setdefault("EVENT_ID", secrets.token_urlsafe(16))
    values.setdefault("EVENT_NUMBER", next(_ids))
    values.setdefault("URL", "https://shop.example/sale")

    def fill(value):
        if isinstance(value, dict):
            return {key: fill(item) for key, item in value.items()}
        if isinstance(value, list):
            return [fill(item) for item in value]
        if isinstance(value, str):
            for key, replacement in values.items():
                if value == f"__{key}__":
                    return replacement
                value = value.replace(f"__{key}__", str(replacement))
        return value

    return fill(event)


def url(org, provider: str) -> str:
    row = SendingSettings.objects.filter(organization=org).first()
    return urlsplit(webhooks.webhook_url(org, provider, row)).path


def post(client, org, provider, body, *, headers=None, raw: bytes | None = None):
    data = raw if raw is not None else json.dumps(body).encode()
    return client.post(
        url(org, provider), data=data, content_type="application/json", headers=headers or {}
    )


def mailgun_signed(event: dict, key: str = MAILGUN_KEY) -> dict:
    timestamp, token = str(int(time.time())), secrets.token_hex(25)
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    event["signature"] = {"timestamp": timestamp, "token": token, "signature": signature}
    return event


class SendGridSigner:
    """SendGrid's Signed Event Webhook: ECDSA P-256 over timestamp + body."""

    def __init__(self):
        self.private = ec.generate_private_key(ec.SECP256R1())
        der = self.private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.public_key = base64.b64encode(der).decode()

    def headers(self, body: bytes) -> dict:
        timestamp = str(int(time.time()))
        signature = self.private.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return {
            "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
            "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
        }


def resend_headers(body: bytes, *, secret=RESEND_SECRET, message_id=None, timestamp=None):
    message_id = message_id or f"msg_{secrets.token_hex(12)}"
    timestamp = str(timestamp or int(time.time()))
    signature = webhooks.svix_signature(secret, message_id, timestamp, body)
    return {"svix-id": message_id, "svix-timestamp": timestamp, "svix-signature": f"v1,{signature}"}


def contact(delivery: Delivery) -> Contact:
    return Contact.objects.get(pk=delivery.contact_id)


def events(org, kind=None):
    found = TrackingEvent.objects.filter(organization=org)
    return found.filter(kind=kind) if kind else found


def fresh(delivery: Delivery) -> Delivery:
    return Delivery.objects.get(pk=delivery.pk)


@pytest.fixture
def sendgrid_signer():
    return SendGridSigner()


# -- Postmark ------------------------------------------------------------------------------


def test_postmark_hard_bounce_suppresses_the_contact_once(
    established_org, sink, fake_providers, client
):
    org = established_org
    ann = send(org, "postmark", sink)["ann"]
    bounce = payload("postmark", "bounce", ann)

    response = post(client, org, "postmark", bounce)
    assert response.status_code == 200
    assert contact(ann).status == "bounced"
    suppression = Suppression.objects.get(organization=org)
    assert (suppression.email, suppression.reason) == ("ann@example.com", "hard_bounce")
    event = events(org, "bounce").get()
    assert event.source_id == f"postmark:{bounce['ID']}"
    assert event.detail["severity"] == "hard" and event.detail["status"] == "5.1.1"
    assert event.detail["source"] == "Postmark webhook"
    assert fresh(ann).bounce_type == "hard"

    # Postmark retries what it isn't sure we got: the same event changes nothing more.
    assert post(client, org, "postmark", bounce).status_code == 200
    assert events(org, "bounce").count() == 1
    assert Suppression.objects.filter(organization=org).count() == 1


def test_postmark_delivery_soft_bounce_complaint_and_unsubscribe(
    established_org, sink, fake_providers, client
):
    org = established_org
    sent = send(org, "postmark", sink, people=("ann", "bob", "cat"))
    ann, bob, cat = sent["ann"], sent["bob"], sent["cat"]

    delivery = payload("postmark", "delivery", ann)
    for _ in range(2):  # no event id at Postmark for deliveries: a payload hash stands in
        assert post(client, org, "postmark", delivery).status_code == 200
    assert events(org, "delivered").count() == 1

    assert post(client, org, "postmark", payload("postmark", "soft_bounce", ann)).status_code == 200
    assert fresh(ann).bounce_type == "soft" and contact(ann).status == "subscribed"

    assert (
        post(client, org, "postmark", payload("postmark", "spam_complaint", bob)).status_code == 200
    )
    assert contact(bob).status == "complained"
    assert Suppression.objects.get(organization=org, email="bob@example.com").reason == "complaint"
    assert fresh(bob).complained_at is not None

    change = payload("postmark", "subscription_change", cat)
    assert post(client, org, "postmark", change).status_code == 200
    assert contact(cat).status == "unsubscribed"
    unsubscribed = events(org, "unsubscribe").get()
    assert unsubscribed.source_id.startswith("postmark:sha256:")
    # Re-subscribed later by the contact; Postmark's retry of the old event stays old.
    Contact.objects.filter(pk=cat.contact_id).update(status="subscribed")
    assert post(client, org, "postmark", change).status_code == 200
    assert contact(cat).status == "subscribed"
    assert events(org, "unsubscribe").count() == 1


def test_opens_and_clicks_count_only_when_engagex_does_not_track_them(
    established_org, sink, fake_providers, client
):
    org = established_org
    tracked = send(org, "postmark", sink)["ann"]
    assert post(client, org, "postmark", payload("postmark", "open", tracked)).status_code == 200
    assert post(client, org, "postmark", payload("postmark", "click", tracked)).status_code == 200
    assert not events(org, "open").exists() and not events(org, "click").exists()

    untracked = send(org, "postmark", sink, people=("bob",), track_opens=False, track_clicks=False)
    bob = untracked["bob"]
    TrackedLink.objects.create(
        organization=org, mailing_id=bob.mailing_id, index=2, url="https://shop.example/sale"
    )
    assert post(client, org, "postmark", payload("postmark", "open", bob)).status_code == 200
    click = payload("postmark", "click", bob)
    assert post(client, org, "postmark", click).status_code == 200
    assert post(client, org, "postmark", click).status_code == 200  # replay
    opened, clicked = events(org, "open").get(), events(org, "click").get()
    assert (opened.delivery_id, opened.ip, opened.is_bot) == (bob.pk, "203.0.113.7", False)
    assert "Chrome/131" in opened.user_agent
    assert (clicked.link_index, clicked.ip) == (2, "198.51.100.23")


# -- SendGrid ------------------------------------------------------------------------------


def test_sendgrid_signed_batch_is_applied_event_by_event(
    established_org, sink, fake_providers, client, sendgrid_signer
):
    org = established_org
    sent = send(org, "sendgrid", sink, people=("ann", "bob", "cat", "dan", "eve", "fay"))
    set_key(org, "sendgrid", sendgrid_signer.public_key)
    blocked = payload("sendgrid", "blocked", sent["fay"])
    by_message_id = payload("sendgrid", "delivered", sent["eve"])
    del by_message_id["engagex_delivery"]  # found by SendGrid's (anymail's) message id
    batch = [
        payload("sendgrid", "processed", sent["ann"]),
        payload("sendgrid", "delivered", sent["ann"]),
        payload("sendgrid", "open", sent["ann"]),  # EngageX tracks opens of this mailing
        payload("sendgrid", "bounce", sent["bob"]),
        payload("sendgrid", "deferred", sent["cat"]),
        payload("sendgrid", "spamreport", sent["dan"]),
        payload("sendgrid", "unsubscribe", sent["eve"]),
        by_message_id,
        blocked,
    ]
    body = json.dumps(batch).encode()

    response = post(client, org, "sendgrid", None, raw=body, headers=sendgrid_signer.headers(body))
    assert response.status_code == 200
    assert sorted(events(org).values_list("kind", flat=True)) == sorted(
        ["delivered", "delivered", "bounce", "bounce", "complaint", "unsubscribe", "bounce"]
    )
    assert contact(sent["bob"]).status == "bounced"
    assert fresh(sent["cat"]).bounce_type == "soft"
    assert contact(sent["dan"]).status == "complained"
    assert contact(sent["eve"]).status == "unsubscribed"
    assert fresh(sent["fay"]).bounce_type == "policy"  # the receiver refused us, not fay
    assert contact(sent["fay"]).status == "subscribed"
    assert set(Suppression.objects.filter(organization=org).values_list("email", flat=True)) == {
        "bob@example.com",
        "dan@example.com",
    }

    before = events(org).count()
    again = post(client, org, "sendgrid", None, raw=body, headers=sendgrid_signer.headers(body))
    assert again.status_code == 200 and events(org).count() == before


def test_sendgrid_wrong_or_missing_signature_changes_nothing(
    established_org, sink, fake_providers, client, sendgrid_signer
):
    org = established_org
    ann = send(org, "sendgrid", sink)["ann"]
    set_key(org, "sendgrid", sendgrid_signer.public_key)
    body = json.dumps([payload("sendgrid", "bounce", ann)]).encode()
    someone_else = SendGridSigner()

    assert post(client, org, "sendgrid", None, raw=body).status_code == 403
    forged = post(client, org, "sendgrid", None, raw=body, headers=someone_else.headers(body))
    assert forged.status_code == 403
    tampered = body.replace(b"5.1.1", b"5.1.2")
    signed_other = sendgrid_signer.headers(body)
    assert (
        post(client, org, "sendgrid", None, raw=tampered, headers=signed_other).status_code == 403
    )
    assert not events(org).exists()
    assert contact(ann).status == "subscribed" and fresh(ann).bounce_type == ""


def test_sendgrid_machine_opens_are_flagged_when_counted(
    established_org, sink, fake_providers, client
):
    org = established_org
    ann = send(org, "sendgrid", sink, track_opens=False, track_clicks=False)["ann"]
    batch = [payload("sendgrid", "machine_open", ann), payload("sendgrid", "open", ann)]
    assert post(client, org, "sendgrid", batch).status_code == 200  # no key stored: token only
    flagged = dict(events(org, "open").values_list("ip", "bot_reason"))
    assert flagged == {"17.58.101.1": "privacy proxy (Apple Mail)", "203.0.113.9": ""}


def test_sendgrid_payload_that_is_not_a_list_of_events_is_400(established_org, client):
    org = established_org
    use_provider(org, "sendgrid")
    assert post(client, org, "sendgrid", {"event": "bounce"}).status_code == 400
    assert post(client, org, "sendgrid", None, raw=b'[{"event": ').status_code == 400
    assert not events(org).exists()


# -- Mailgun -------------------------------------------------------------------------------


def test_mailgun_failures_and_complaints_with_the_organizations_signing_key(
    established_org, sink, fake_providers, client
):
    org = established_org
    sent = send(org, "mailgun", sink, people=("ann", "bob", "cat", "dan"))
    set_key(org, "mailgun", MAILGUN_KEY)

    def mailgun(name, delivery, **values):
        event = payload("mailgun", name, delivery, **values)
        return mailgun_signed(event)

    permanent = mailgun("failed_permanent", sent["ann"])
    assert post(client, org, "mailgun", permanent).status_code == 200
    assert contact(sent["ann"]).status == "bounced"
    assert events(org, "bounce").get().source_id == f"mailgun:{permanent['signature']['token']}"
    assert post(client, org, "mailgun", permanent).status_code == 200  # replay
    assert events(org, "bounce").count() == 1

    assert post(client, org, "mailgun", mailgun("failed_temporary", sent["bob"])).status_code == 200
    assert fresh(sent["bob"]).bounce_type == "soft" and contact(sent["bob"]).status == "subscribed"

    assert post(client, org, "mailgun", mailgun("complained", sent["cat"])).status_code == 200
    assert contact(sent["cat"]).status == "complained"

    # No user-variables: found by Mailgun's message id (its header, without brackets).
    delivered = payload("mailgun", "delivered", sent["dan"])
    delivered["event-data"]["message"]["headers"]["message-id"] = sent[
        "dan"
    ].provider_message_id.strip("<>")
    del delivered["event-data"]["user-variables"]
    assert post(client, org, "mailgun", mailgun_signed(delivered)).status_code == 200
    assert events(org, "delivered").get().delivery_id == sent["dan"].pk


def test_mailgun_wrong_signature_or_no_key_is_refused(
    established_org, sink, fake_providers, client
):
    org = established_org
    ann = send(org, "mailgun", sink)["ann"]
    event = payload("mailgun", "failed_permanent", ann)

    # No signing key stored yet: Mailgun always signs, so nothing is taken unchecked.
    assert post(client, org, "mailgun", mailgun_signed(event)).status_code == 403
    set_key(org, "mailgun", MAILGUN_KEY)
    assert (
        post(client, org, "mailgun", mailgun_signed(event, key="key-of-someone-else")).status_code
        == 403
    )
    unsigned = copy.deepcopy(event)
    del unsigned["signature"]
    assert post(client, org, "mailgun", unsigned).status_code == 403
    assert post(client, org, "mailgun", None, raw=b"{not json").status_code == 400
    assert not events(org).exists()
    assert contact(ann).status == "subscribed"


def test_a_message_of_another_organization_is_not_touched_through_this_url(
    established_org, other_org, sink, fake_providers, client
):
    org = established_org
    theirs = send(other_org, "mailgun", sink)["ann"]
    ours = send(org, "mailgun", sink, people=("bob",))["bob"]
    set_key(org, "mailgun", MAILGUN_KEY)

    # Their delivery id and message id, posted (validly signed) to our URL.
    event = mailgun_signed(payload("mailgun", "failed_permanent", theirs))
    assert post(client, org, "mailgun", event).status_code == 200
    by_message_id = payload("mailgun", "complained", theirs)
    del by_message_id["event-data"]["user-variables"]
    assert post(client, org, "mailgun", mailgun_signed(by_message_id)).status_code == 200

    assert not TrackingEvent.objects.exists()
    assert contact(theirs).status == "subscribed" and fresh(theirs).bounce_type == ""
    assert not Suppression.objects.exists()
    assert contact(ours).status == "subscribed"


def test_unknown_message_is_acknowledged_and_ignored(established_org, sink, fake_providers, client):
    org = established_org
    send(org, "postmark", sink)
    bounce = payload(
        "postmark",
        "bounce",
        MESSAGE_ID="00000000-0000-0000-0000-000000000000",
        DELIVERY_ID="987654321",
        EMAIL="nobody@example.com",
    )
    assert post(client, org, "postmark", bounce).status_code == 200
    assert not events(org).exists() and not Suppression.objects.exists()


def test_an_event_for_a_different_recipient_is_ignored(
    established_org, sink, fake_providers, client
):
    org = established_org
    ann = send(org, "postmark", sink)["ann"]
    bounce = payload("postmark", "bounce", ann, EMAIL="someone-else@example.com")
    assert post(client, org, "postmark", bounce).status_code == 200
    assert contact(ann).status == "subscribed" and not events(org).exists()


def test_malformed_json_is_400_and_changes_nothing(established_org, sink, fake_providers, client):
    org = established_org
    send(org, "postmark", sink)
    for raw in (b'{"RecordType": "Bounce",', b"\xff\xfe", b""):
        assert post(client, org, "postmark", None, raw=raw).status_code == 400
    assert not events(org).exists()


# -- the URL -------------------------------------------------------------------------------


def test_forged_retired_and_unknown_urls_are_404(
    established_org, other_org, sink, fake_providers, client
):
    org = established_org
    ann = send(org, "postmark", sink)["ann"]
    bounce = payload("postmark", "bounce", ann)
    good = url(org, "postmark")
    hex_id, mac = good.split("/")[3].split(".")

    altered = good.replace(mac, ("A" if mac[0] != "A" else "B") + mac[1:])
    theirs_with_our_mac = good.replace(hex_id, other_org.pk.hex)
    for path in (altered, theirs_with_our_mac, good.replace("/postmark/", "/mandrill/")):
        response = client.post(path, data=json.dumps(bounce), content_type="application/json")
        assert response.status_code == 404
    assert client.get(good).status_code == 405  # providers POST (HEAD is answered, too)
    assert client.head(good).status_code == 200

    webhooks.webhook_url_rotate(organization=org, actor=None)
    old = client.post(good, data=json.dumps(bounce), content_type="application/json")
    assert old.status_code == 404
    assert not events(org).exists()
    assert post(client, org, "postmark", bounce).status_code == 200  # the new URL
    assert contact(ann).status == "bounced"


def test_urls_differ_per_organization_and_provider(org, other_org):
    ours = webhooks.webhook_url(org, "postmark")
    assert ours.startswith("http") and ours.endswith("/tracking")
    assert ours != webhooks.webhook_url(other_org, "postmark")
    assert (
        ours.split("/webhooks/postmark/")[1]
        == webhooks.webhook_url(org, "sendgrid").split("/webhooks/sendgrid/")[1]
    )
    assert webhooks.organization_for_token(ours.split("/")[-2])[0] == org


# -- Brevo and Resend ----------------------------------------------------------------------


def test_brevo_bounces_by_message_id_and_replays_without_an_event_id(
    established_org, sink, fake_providers, client
):
    org = established_org
    sent = send(org, "brevo", sink, people=("ann", "bob"), track_opens=False)
    hard = payload("brevo", "hard_bounce", sent["ann"])
    hard.pop("X-Mailin-custom")  # found by Brevo's message-id
    for _ in range(2):
        assert post(client, org, "brevo", hard).status_code == 200
    assert events(org, "bounce").count() == 1
    assert contact(sent["ann"]).status == "bounced"

    assert (
        post(client, org, "brevo", payload("brevo", "soft_bounce", sent["bob"])).status_code == 200
    )
    assert fresh(sent["bob"]).bounce_type == "soft"
    assert (
        post(client, org, "brevo", payload("brevo", "unique_proxy_open", sent["bob"])).status_code
        == 200
    )
    assert events(org, "open").get().bot_reason == "privacy proxy (Apple Mail)"


def test_resend_svix_signature_is_checked_with_the_organizations_secret(
    established_org, sink, fake_providers, client
):
    org = established_org
    ann = send(org, "resend", sink)["ann"]
    body = json.dumps(payload("resend", "bounced", ann)).encode()

    assert (
        post(client, org, "resend", None, raw=body, headers=resend_headers(body)).status_code == 403
    )
    set_key(org, "resend", RESEND_SECRET)
    other_secret = "whsec_" + base64.b64encode(b"another-endpoint-secret-32-bytes").decode()
    stale = resend_headers(body, timestamp=int(time.time()) - 3600)
    for headers in ({}, resend_headers(body, secret=other_secret), stale):
        assert post(client, org, "resend", None, raw=body, headers=headers).status_code == 403
    assert not events(org).exists()

    headers = resend_headers(body)
    assert post(client, org, "resend", None, raw=body, headers=headers).status_code == 200
    assert contact(ann).status == "bounced"
    assert events(org, "bounce").get().source_id == f"resend:{headers['svix-id']}"
    # Svix redelivers with the same svix-id (and a new signature): nothing more happens.
    again = resend_headers(body, message_id=headers["svix-id"])
    assert post(client, org, "resend", None, raw=body, headers=again).status_code == 200
    assert events(org, "bounce").count() == 1


# -- classification ------------------------------------------------------------------------


def _event(**fields):
    from anymail.signals import AnymailTrackingEvent

    return AnymailTrackingEvent(**{"event_type": "bounced", "esp_event": {}, **fields})


@pytest.mark.parametrize(
    ("provider", "fields", "expected"),
    [
        ("mailgun", {"mta_response": "550 5.1.1 no such user"}, "hard"),
        ("mailgun", {"mta_response": "452 4.2.2 mailbox full"}, "soft"),
        ("mailgun", {"mta_response": "550 5.7.1 rejected by policy: spamhaus"}, "policy"),
        ("mailgun", {}, "hard"),  # a bounce that says nothing more
        ("mailgun", {"event_type": "deferred"}, "soft"),
        ("sendgrid", {"event_type": "rejected", "reject_reason": "blocked"}, "policy"),
        ("sendgrid", {"event_type": "rejected", "reject_reason": "spam"}, "policy"),
        ("sendgrid", {"event_type": "rejected", "reject_reason": "invalid"}, "hard"),
        ("sendgrid", {"event_type": "rejected", "reject_reason": "bounced"}, "hard"),
        ("sparkpost", {"esp_event": {"msys": {"message_event": {"bounce_class": "22"}}}}, "soft"),
        ("sparkpost", {"esp_event": {"msys": {"message_event": {"bounce_class": "51"}}}}, "policy"),
        ("mailjet", {"esp_event": {"event": "bounce", "hard_bounce": False}}, "soft"),
        ("postmark", {"esp_event": {"Type": "HardBounce"}, "mta_response": "452 4.2.2"}, "hard"),
    ],
)
def test_bounce_severity(provider, fields, expected):
    assert webhooks.bounce_severity(provider, _event(**fields)) == expected


# -- Settings → Sending --------------------------------------------------------------------


@pytest.fixture
def admin(org):
    return MembershipFactory(organization=org, role=Membership.Role.ADMIN).user


PAGE = reverse("delivery:sending-settings")


def test_admins_see_copy_and_secure_the_webhook_url(org, admin, viewer, login, sendgrid_signer):
    use_provider(org, "sendgrid")
    client = login(admin, org)
    page = client.get(PAGE).content.decode()
    assert (
        webhooks.webhook_url(org, "sendgrid", SendingSettings.objects.get(organization=org)) in page
    )
    assert 'data-copy-target="#webhook-url"' in page and "Signed Event Webhook" in page

    bad = client.post(PAGE, {"action": "webhook_key", "webhook_key": "not a key"}, follow=True)
    assert "verification key" in bad.content.decode()
    assert SendingSettings.objects.get(organization=org).webhook_keys_encrypted == {}

    client.post(PAGE, {"action": "webhook_key", "webhook_key": sendgrid_signer.public_key})
    stored = SendingSettings.objects.get(organization=org).webhook_keys_encrypted["sendgrid"]
    assert sendgrid_signer.public_key not in stored
    assert secretbox.decrypt(stored) == sendgrid_signer.public_key
    entry = AuditEntry.objects.get(organization=org, action="sending_settings.webhook_key_set")
    assert sendgrid_signer.public_key not in json.dumps(entry.metadata)
    assert "•••• stored" in client.get(PAGE).content.decode()

    before = webhooks.webhook_url(org, "sendgrid", SendingSettings.objects.get(organization=org))
    client.post(PAGE, {"action": "webhook_rotate"})
    after = webhooks.webhook_url(org, "sendgrid", SendingSettings.objects.get(organization=org))
    assert after != before and after in client.get(PAGE).content.decode()

    viewer_client = login(viewer, org)
    assert viewer_client.post(PAGE, {"action": "webhook_rotate"}).status_code == 403
    assert (
        webhooks.webhook_url(org, "sendgrid", SendingSettings.objects.get(organization=org))
        == after
    )


def test_no_webhook_card_without_a_provider(org, admin, login):
    page = login(admin, org).get(PAGE).content.decode()
    assert "/webhooks/" not in page and 'id="webhook-url"' not in page
