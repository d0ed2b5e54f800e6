"""The webhook views: anymail's tracking views, per organization. The organization comes
from the URL token and the signature key from its settings; anymail parses the payload,
and the normalized events go out on anymail's `tracking` signal with the organization
attached (`events` acts on them)."""

from __future__ import annotations

import hmac
import json
import logging
import time
import warnings

from anymail.exceptions import (
    AnymailConfigurationError,
    AnymailNotSupportedWarning,
    AnymailWebhookValidationFailure,
)
from anymail.signals import tracking
from anymail.webhooks.brevo import BrevoTrackingWebhookView
from anymail.webhooks.mailgun import MailgunTrackingWebhookView
from anymail.webhooks.mailjet import MailjetTrackingWebhookView
from anymail.webhooks.postmark import PostmarkTrackingWebhookView
from anymail.webhooks.resend import ResendTrackingWebhookView
from anymail.webhooks.sendgrid import SendGridTrackingWebhookView
from anymail.webhooks.sparkpost import SparkPostTrackingWebhookView
from django.http import Http404, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt

from engagex.accounts.models import Organization
from engagex.tracking.webhooks.setup import (
    REQUIRED,
    WEBHOOK_PROVIDERS,
    organization_for_token,
    sendgrid_public_key,
    stored_key,
    svix_signature,
)

log = logging.getLogger(__name__)

# anymail warns on every SendGrid view instance that it no longer tests against SendGrid;
# the parsing we rely on is covered by our tests.
warnings.filterwarnings(
    "ignore",
    message="django-anymail has dropped official support",
    category=AnymailNotSupportedWarning,
)
SVIX_TOLERANCE = 5 * 60  # seconds: Svix's own default for replayed signatures

# -- the views -----------------------------------------------------------------------------


class _OrganizationWebhook:
    """Mixed into an anymail tracking view: the organization comes from the URL token and
    the signature key from its settings; events go out on anymail's `tracking` signal
    with the organization attached."""

    provider = ""
    organization: Organization | None = None
    signing_key = ""

    # anymail warns when basic auth is off; ours are authenticated by the URL token.
    @property
    def warn_if_no_basic_auth(self) -> bool:
        return False

    @warn_if_no_basic_auth.setter
    def warn_if_no_basic_auth(self, value) -> None:
        pass

    def use_signing_key(self, key: str) -> None:
        """Hand the organization's key to anymail's own validator (per provider)."""

    def dispatch(self, request, *args, token: str = "", **kwargs):
        found = organization_for_token(token)
        if found is None:
            raise Http404
        self.organization, row = found
        self.signing_key = stored_key(row, self.provider)
        if WEBHOOK_PROVIDERS[self.provider].signing == REQUIRED and not self.signing_key:
            log.warning(
                "webhook without signing key",
                extra={"organization": str(self.organization.pk), "provider": self.provider},
            )
            return HttpResponseForbidden(
                "Add the webhook signing key on Settings > Sending first.",
                content_type="text/plain",
            )
        self.use_signing_key(self.signing_key)
        return super().dispatch(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        if request.content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
            try:  # before the signature check, so a broken body says so (Mailgun parses it)
                json.loads(request.body)
            except ValueError:
                return HttpResponseBadRequest("Malformed JSON.", content_type="text/plain")
        try:
            self.run_validators(request)
        except AnymailWebhookValidationFailure as error:
            log.warning(
                "webhook signature refused",
                extra={"organization": str(self.organization.pk), "provider": self.provider},
            )
            return HttpResponseForbidden(str(error), content_type="text/plain")
        try:
            events = self.parse_events(request)
        except (
            ValueError,
            KeyError,
            TypeError,
            AttributeError,
            IndexError,
            AnymailConfigurationError,
        ) as error:
            return HttpResponseBadRequest(
                f"Not a {self.esp_name} tracking payload ({type(error).__name__}).",
                content_type="text/plain",
            )
        for event in events:
            tracking.send(
                sender=self.__class__,
                event=event,
                esp_name=self.esp_name,
                organization=self.organization,
                provider=self.provider,
            )
        return HttpResponse()


class SendGridWebhook(_OrganizationWebhook, SendGridTrackingWebhookView):
    provider = "sendgrid"

    def use_signing_key(self, key: str) -> None:
        self.webhook_verification_key = sendgrid_public_key(key) if key else None


class MailgunWebhook(_OrganizationWebhook, MailgunTrackingWebhookView):
    provider = "mailgun"

    def use_signing_key(self, key: str) -> None:
        self.webhook_signing_key = key.encode()


class PostmarkWebhook(_OrganizationWebhook, PostmarkTrackingWebhookView):
    provider = "postmark"


class BrevoWebhook(_OrganizationWebhook, BrevoTrackingWebhookView):
    provider = "brevo"


class SparkPostWebhook(_OrganizationWebhook, SparkPostTrackingWebhookView):
    provider = "sparkpost"


class MailjetWebhook(_OrganizationWebhook, MailjetTrackingWebhookView):
    provider = "mailjet"


class ResendWebhook(_OrganizationWebhook, ResendTrackingWebhookView):
    """anymail's Svix check needs the `svix` package; the scheme is one HMAC, so it is
    checked here with the organization's secret instead."""

    provider = "resend"

    def validate_request(self, request):
        message_id = request.headers.get("svix-id", "")
        timestamp = request.headers.get("svix-timestamp", "")
        offered = request.headers.get("svix-signature", "").split()
        try:
            fresh = abs(time.time() - int(timestamp)) <= SVIX_TOLERANCE
        except ValueError:
            fresh = False
        if not (message_id and fresh and offered):
            raise AnymailWebhookValidationFailure("Resend webhook without a fresh Svix signature")
        expected = svix_signature(self.signing_key, message_id, timestamp, request.body)
        if not any(
            version == "v1" and hmac.compare_digest(signature, expected)
            for version, _, signature in (entry.partition(",") for entry in offered)
        ):
            raise AnymailWebhookValidationFailure("Resend webhook called with incorrect signature")


VIEWS = {
    "sendgrid": SendGridWebhook.as_view(basic_auth=[], tracking_webhook_verification_key=None),
    "mailgun": MailgunWebhook.as_view(basic_auth=[], webhook_signing_key=""),
    "postmark": PostmarkWebhook.as_view(basic_auth=[]),
    "brevo": BrevoWebhook.as_view(basic_auth=[]),
    "sparkpost": SparkPostWebhook.as_view(basic_auth=[]),
    "mailjet": MailjetWebhook.as_view(basic_auth=[]),
    "resend": ResendWebhook.as_view(basic_auth=[], signing_secret=None),
}


@csrf_exempt
def tracking_webhook(request, provider: str, token: str):
    view = VIEWS.get(provider)
    if view is None:
        raise Http404
    return view(request, token=token)
