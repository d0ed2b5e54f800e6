"""Provider webhooks (PRODUCT.md §F): what SendGrid, Mailgun, Postmark, Brevo, SparkPost,
Mailjet and Resend report about the mail an organization sent through them.

One URL per organization and provider, shown on Settings → Sending:

    <SITE_URL>/webhooks/<provider>/<organization id hex>.<mac>/tracking

The MAC (HMAC-SHA256 over the organization id and `SendingSettings.webhook_nonce`, keyed
from SECRET_KEY and its fallbacks) makes the URL a per-organization secret: a request can
only ever touch that organization's deliveries, and a new nonce retires a leaked URL.
Nothing secret is stored; the page recomputes the URL.

Parsing is anymail's: each view subclasses the provider's anymail tracking view, which
normalizes the payload into `AnymailTrackingEvent`s sent on `anymail.signals.tracking`.
What anymail reads from global settings we take per organization instead:

- anymail's shared basic auth (ANYMAIL WEBHOOK_SECRET) is switched off for these views —
  one platform-wide password in every tenant's URL would protect nothing; the URL token
  is the credential.
- Signatures, where the provider signs, are checked with the organization's own key
  (`SendingSettings.webhook_keys_encrypted`): Mailgun's signing key and Resend's (Svix)
  signing secret are required; SendGrid's signed event webhook is opt-in at SendGrid, so
  its verification key is checked when stored. Postmark, Brevo, SparkPost and Mailjet
  don't sign: the token alone authenticates them.

Bad token → 404 (no organization revealed); bad or missing signature → 403; a payload
that isn't JSON or not the provider's shape → 400; anything else → 200, including events
for messages we don't know (providers retry on errors, and retrying can't help those).
Replays change nothing: every event is stored with the provider's event id (or, when the
provider has none, a hash of the payload) and `feedback` ignores a known one.
"""

from engagex.tracking.webhooks import events  # noqa: F401  (connects the signal receiver)
from engagex.tracking.webhooks.events import bounce_severity, engagement, event_handle
from engagex.tracking.webhooks.setup import (
    WEBHOOK_PROVIDERS,
    WebhookSetup,
    organization_for_token,
    svix_signature,
    webhook_setup,
    webhook_signing_key_set,
    webhook_token,
    webhook_url,
    webhook_url_rotate,
)
from engagex.tracking.webhooks.views import tracking_webhook

__all__ = [
    "WEBHOOK_PROVIDERS",
    "WebhookSetup",
    "bounce_severity",
    "engagement",
    "event_handle",
    "organization_for_token",
    "svix_signature",
    "tracking_webhook",
    "webhook_setup",
    "webhook_signing_key_set",
    "webhook_token",
    "webhook_url",
    "webhook_url_rotate",
]
