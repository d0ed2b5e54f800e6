"""The per-organization webhook URL, and what Settings → Sending shows and changes for it:
the URL, how each provider is authenticated, the organization's signing keys (stored
encrypted), a new URL when one leaked."""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import uuid
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from engagex import audit
from engagex.accounts.models import Organization
from engagex.delivery.models import SendingSettings
from engagex.delivery.transports import PROVIDERS
from engagex.lib import secretbox

REQUIRED, OPTIONAL, NONE = "required", "optional", "none"  # signature verification
KEY_MAX_LENGTH = 1000


@dataclass(frozen=True)
class WebhookProvider:
    """How a provider's webhooks are authenticated and set up (shown on the page)."""

    signing: str
    key_label: object = ""
    instructions: object = ""


WEBHOOK_PROVIDERS: dict[str, WebhookProvider] = {
    "sendgrid": WebhookProvider(
        OPTIONAL,
        _("Signed Event Webhook verification key"),
        _(
            "In SendGrid, open Settings → Mail Settings → Event Webhook, paste this URL as the "
            "Post URL and select Delivered, Deferred, Bounced, Dropped, Spam Reports and "
            "Unsubscribes. Turn on Signed Event Webhook and paste its "
            "verification key here."
        ),
    ),
    "mailgun": WebhookProvider(
        REQUIRED,
        _("HTTP webhook signing key"),
        _(
            "In Mailgun, open Sending → Webhooks for your sending domain and add this URL for "
            "Delivered, Permanent failure, Temporary failure, Spam complaints and "
            "Unsubscribes. Paste the HTTP webhook signing key shown on that page here."
        ),
    ),
    "postmark": WebhookProvider(
        NONE,
        instructions=_(
            "In Postmark, open your server, then the message stream you send with → "
            "Webhooks → Add webhook. Paste this URL and tick Delivery, Bounce, Spam "
            "complaint and Subscription change."
        ),
    ),
    "brevo": WebhookProvider(
        NONE,
        instructions=_(
            "In Brevo, open Transactional → Settings → Webhooks → Add a new webhook. Paste "
            "this URL and tick Delivered, Deferred, Soft bounce, Hard bounce, Invalid "
            "email, Blocked, Complaint and Unsubscribed."
        ),
    ),
    "sparkpost": WebhookProvider(
        NONE,
        instructions=_(
            "In SparkPost, open Configuration → Webhooks → New webhook. Paste this URL and "
            "select the Delivery, Bounce, Out of band, Policy rejection, Delay, Spam "
            "complaint and Unsubscribe events."
        ),
    ),
    "mailjet": WebhookProvider(
        NONE,
        instructions=_(
            "In Mailjet, open Account settings → Event notifications (webhooks). Paste this "
            "URL for the Sent, Bounce, Blocked, Spam and Unsub events."
        ),
    ),
    "resend": WebhookProvider(
        REQUIRED,
        _("Webhook signing secret (whsec_…)"),
        _(
            "In Resend, open Webhooks → Add endpoint. Paste this URL and select "
            "email.delivered, email.delivery_delayed, email.bounced and email.complained. "
            "Paste the endpoint's signing secret here."
        ),
    ),
}


# -- the per-organization URL --------------------------------------------------------------

_PURPOSE = b"engagex.tracking.webhook-url"
_MAC_CHARS = 22  # base64url of 16 bytes, without padding


@lru_cache(maxsize=16)
def _derived_key(secret: str) -> bytes:
    return hmac.digest(secret.encode(), _PURPOSE, "sha256")


def _mac(key: bytes, organization_id: uuid.UUID, nonce: str) -> str:
    digest = hmac.digest(key, f"{organization_id.hex}:{nonce}".encode(), "sha256")
    return base64.urlsafe_b64encode(digest[:16]).decode()[:_MAC_CHARS]


def webhook_token(organization_id: uuid.UUID, nonce: str) -> str:
    return (
        f"{organization_id.hex}.{_mac(_derived_key(settings.SECRET_KEY), organization_id, nonce)}"
    )


def organization_for_token(token: str) -> tuple[Organization, SendingSettings | None] | None:
    """The organization a URL token names (and its sending settings), or None when the
    token is malformed, forged or retired."""
    hex_id, _, mac = (token or "").partition(".")
    if len(hex_id) != 32 or len(mac) != _MAC_CHARS:
        return None
    try:
        organization_id = uuid.UUID(hex=hex_id)
    except ValueError:
        return None
    if organization_id.hex != hex_id:  # one spelling per organization
        return None
    row = SendingSettings.objects.filter(organization_id=organization_id).first()
    nonce = row.webhook_nonce if row else ""
    secrets_ = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", ())]
    if not any(
        hmac.compare_digest(mac, _mac(_derived_key(secret), organization_id, nonce))
        for secret in secrets_
    ):
        return None
    organization = Organization.objects.filter(pk=organization_id).first()
    return (organization, row) if organization is not None else None


def webhook_url(organization, provider: str, row: SendingSettings | None = None) -> str:
    nonce = row.webhook_nonce if row else ""
    path = reverse("webhooks:tracking", args=[provider, webhook_token(organization.pk, nonce)])
    return settings.SITE_URL.rstrip("/") + path


# -- settings: what the page shows and what admins change ----------------------------------


@dataclass(frozen=True)
class WebhookSetup:
    provider: str
    label: str
    url: str
    signing: str  # REQUIRED, OPTIONAL or NONE
    key_label: str
    has_key: bool
    instructions: str


def stored_key(row: SendingSettings | None, provider: str) -> str:
    token = ((row.webhook_keys_encrypted or {}) if row else {}).get(provider) or ""
    if not token:
        return ""
    try:
        return secretbox.decrypt(token)
    except secretbox.SecretDecryptError:
        return ""  # treated as missing: the page asks for the key again


def webhook_setup(*, organization, provider: str) -> WebhookSetup | None:
    """What Settings → Sending shows for the organization's provider."""
    spec = WEBHOOK_PROVIDERS.get(provider)
    if spec is None:
        return None
    row = SendingSettings.objects.filter(organization=organization).first()
    return WebhookSetup(
        provider=provider,
        label=PROVIDERS[provider].label,
        url=webhook_url(organization, provider, row),
        signing=spec.signing,
        key_label=str(spec.key_label),
        has_key=bool(stored_key(row, provider)),
        instructions=str(spec.instructions),
    )


def _checked_key(provider: str, key: str) -> str:
    key = key.strip()
    if len(key) > KEY_MAX_LENGTH:
        raise ValidationError(_("That key is too long."))
    if provider == "sendgrid":
        armor = ("-----BEGIN PUBLIC KEY-----", "-----END PUBLIC KEY-----")
        key = "".join(key.replace(armor[0], "").replace(armor[1], "").split())
        try:
            sendgrid_public_key(key)
        except ValueError:
            raise ValidationError(
                _("That isn't SendGrid's verification key (a base64 public key).")
            ) from None
    elif provider == "resend":
        try:
            _svix_secret(key)
        except ValueError:
            raise ValidationError(_("Resend's signing secret starts with whsec_.")) from None
    elif any(ch.isspace() for ch in key):
        raise ValidationError(_("A signing key has no spaces."))
    return key


@transaction.atomic
def webhook_signing_key_set(*, organization, actor, provider: str, key: str) -> None:
    """Store (or, with an empty key, remove) the key `provider`'s signatures are checked
    with. ValidationError changes nothing."""
    spec = WEBHOOK_PROVIDERS.get(provider)
    if spec is None or spec.signing == NONE:
        raise ValidationError(_("This provider doesn't sign its webhooks."))
    key = _checked_key(provider, key) if key.strip() else ""
    row, _created = SendingSettings.objects.select_for_update().get_or_create(
        organization=organization
    )
    keys = dict(row.webhook_keys_encrypted or {})
    if key:
        keys[provider] = secretbox.encrypt(key)
    else:
        keys.pop(provider, None)
    row.webhook_keys_encrypted = keys
    row.save(update_fields=["webhook_keys_encrypted", "updated_at"])
    audit.record(
        organization,
        actor,
        "sending_settings.webhook_key_set" if key else "sending_settings.webhook_key_removed",
        "sending_settings",
        organization.pk,
        {"provider": provider},  # never the key
    )


@transaction.atomic
def webhook_url_rotate(*, organization, actor) -> None:
    """A new webhook URL for every provider; the old one stops working at once."""
    row, _created = SendingSettings.objects.select_for_update().get_or_create(
        organization=organization
    )
    row.webhook_nonce = secrets.token_hex(16)
    row.save(update_fields=["webhook_nonce", "updated_at"])
    audit.record(
        organization,
        actor,
        "sending_settings.webhook_url_rotated",
        "sending_settings",
        organization.pk,
    )


# -- signature helpers ---------------------------------------------------------------------


def sendgrid_public_key(key: str):
    pem = f"-----BEGIN PUBLIC KEY-----\n{key}\n-----END PUBLIC KEY-----".encode()
    return serialization.load_pem_public_key(pem)


def _svix_secret(secret: str) -> bytes:
    if not secret.startswith("whsec_"):
        raise ValueError("not a Svix secret")
    try:
        return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except binascii.Error:
        raise ValueError("not a Svix secret") from None


def svix_signature(secret: str, message_id: str, timestamp: str, body: bytes) -> str:
    """Svix's v1 signature (what Resend sends in `svix-signature`)."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    return base64.b64encode(hmac.digest(_svix_secret(secret), signed, "sha256")).decode()
