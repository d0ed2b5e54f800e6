"""Transports: how built messages leave, per organization (PRODUCT.md §E).

A transport takes a batch of built messages (`Outgoing`: envelope + raw MIME bytes) and
returns one `Outcome` per message, in order — the same contract `SmtpPool` has:

- `SmtpPool` (smtp.py): persistent aiosmtplib connections used concurrently, to the
  platform relay or to an organization's own server (TLS/STARTTLS/AUTH from its
  settings).
- `AnymailTransport`: an email provider's HTTP API through django-anymail. Anymail's
  backends are synchronous (requests), so each message is posted from a small thread
  pool, one backend (one keep-alive HTTP session) per thread.
- `FailingTransport`: settings that can't work right now (secret no longer decryptable,
  a host refused as a private address): every message is a temporary failure with the
  reason, so nothing is lost and the messages go once the settings are fixed.

`TransportCache.get(organization_id)` hands the sender the organization's transport,
re-reading its `SendingSettings.updated_at` at most every few seconds and rebuilding the
transport when the settings changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import ipaddress
import logging
import socket
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.headerregistry import Address
from typing import Protocol, runtime_checkable

from anymail.exceptions import (
    AnymailAPIError,
    AnymailError,
    AnymailRecipientsRefused,
    AnymailRequestsAPIError,
)
from anymail.utils import get_anymail_setting
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils.module_loading import import_string

from engagex.delivery.models import SendingSettings
from engagex.delivery.outbox import PERMANENT, SENT, TEMPORARY, Outcome
from engagex.delivery.smtp import Outgoing, SmtpPool, SmtpSettings
from engagex.lib import secretbox

log = logging.getLogger(__name__)

REFRESH_SECONDS = 5.0
PROVIDER_CONCURRENCY = 8
PROVIDER_TIMEOUT = 30  # seconds per API request


@runtime_checkable
class Transport(Protocol):
    async def send_batch(self, messages: Sequence[Outgoing]) -> list[Outcome]: ...

    async def close(self) -> None: ...


# -- providers --------------------------------------------------------------------------


@dataclass(frozen=True)
class Provider:
    code: str
    label: str
    backend: str  # anymail backend class
    esp_name: str  # anymail's settings prefix: ANYMAIL["<ESP_NAME>_API_URL"] overrides
    key_kwarg: str  # the backend argument that takes the API key
    api_url: str  # anymail's default
    eu_api_url: str = ""  # the EU region's endpoint, where the provider has one
    needs_domain: bool = False
    has_message_stream: bool = False
    key_help: str = ""

    def resolved_api_url(self, options: dict) -> str:
        """The operator's override (settings.ANYMAIL["<ESP>_API_URL"]) wins, then region."""
        configured = get_anymail_setting("api_url", esp_name=self.esp_name, default=None)
        if configured:
            return configured
        if options.get("region") == "eu" and self.eu_api_url:
            return self.eu_api_url
        return self.api_url

    def backend_kwargs(self, api_key: str, options: dict) -> dict:
        kwargs: dict = {
            "api_url": self.resolved_api_url(options),
            "timeout": PROVIDER_TIMEOUT,
        }
        if self.code == "mailjet":
            public, _, secret = api_key.partition(":")
            kwargs.update(api_key=public, secret_key=secret)
        else:
            kwargs[self.key_kwarg] = api_key
        if self.needs_domain:
            kwargs["sender_domain"] = options.get("domain") or None
        if self.has_message_stream and options.get("message_stream"):
            kwargs["message_stream"] = options["message_stream"]
        return kwargs


# Providers with an HTTP API and a single API key (Amazon SES needs boto3 and an IAM key
# pair: use its SMTP interface through "Own SMTP" instead).
PROVIDERS: dict[str, Provider] = {
    provider.code: provider
    for provider in (
        Provider(
            "sendgrid",
            "SendGrid",
            "anymail.backends.sendgrid.EmailBackend",
            "SendGrid",
            "api_key",
            "https://api.sendgrid.com/v3/",
            eu_api_url="https://api.eu.sendgrid.com/v3/",
        ),
        Provider(
            "mailgun",
            "Mailgun",
            "anymail.backends.mailgun.EmailBackend",
            "Mailgun",
            "api_key",
            "https://api.mailgun.net/v3",
            eu_api_url="https://api.eu.mailgun.net/v3",
            needs_domain=True,
        ),
        Provider(
            "postmark",
            "Postmark",
            "anymail.backends.postmark.EmailBackend",
            "Postmark",
            "server_token",
            "https://api.postmarkapp.com/",
            has_message_stream=True,
            key_help="Server API token",
        ),
        Provider(
            "brevo",
            "Brevo",
            "anymail.backends.brevo.EmailBackend",
            "Brevo",
            "api_key",
            "https://api.brevo.com/v3/",
        ),
        Provider(
            "sparkpost",
            "SparkPost",
            "anymail.backends.sparkpost.EmailBackend",
            "SparkPost",
            "api_key",
            "https://api.sparkpost.com/api/v1/",
            eu_api_url="https://api.eu.sparkpost.com/api/v1/",
        ),
        Provider(
            "mailjet",
            "Mailjet",
            "anymail.backends.mailjet.EmailBackend",
            "Mailjet",
            "api_key",
            "https://api.mailjet.com/v3.1/",
            key_help="API key and secret key joined by a colon: KEY:SECRET",
        ),
        Provider(
            "resend",
            "Resend",
            "anymail.backends.resend.EmailBackend",
            "Resend",
            "api_key",
            "https://api.resend.com/",
        ),
    )
}


# -- raw MIME → EmailMessage ------------------------------------------------------------

# Headers the EmailMessage fields carry, or that the provider sets itself: a DKIM
# signature of ours would not survive the provider re-encoding the message, and the
# provider handles bounces, so the VERP Return-Path has no use there.
_NOT_COPIED = frozenset(
    {
        "bcc",
        "cc",
        "content-transfer-encoding",
        "content-type",
        "date",
        "dkim-signature",
        "from",
        "mime-version",
        "received",
        "reply-to",
        "return-path",
        "sender",
        "subject",
        "to",
    }
)
# Metadata key that comes back in the provider's event webhooks (maps events to deliveries).
DELIVERY_METADATA_KEY = "engagex_delivery"


def email_message_from_outgoing(message: Outgoing) -> EmailMultiAlternatives:
    """Our built bytes as the EmailMessage anymail takes, keeping our headers
    (Message-ID, List-Unsubscribe, List-Unsubscribe-Post, Feedback-ID, X-…)."""
    parsed = email.message_from_bytes(message.data, policy=email.policy.default)
    text = html = None
    for part in parsed.walk():
        if part.is_multipart() or part.get_content_disposition() == "attachment":
            continue
        content_type = part.get_content_type()
        if content_type == "text/plain" and text is None:
            text = part.get_content()
        elif content_type == "text/html" and html is None:
            html = part.get_content()
    to_header = parsed["To"]
    display_name = to_header.addresses[0].display_name if to_header and to_header.addresses else ""
    headers = {
        name: str(value) for name, value in parsed.items() if name.lower() not in _NOT_COPIED
    }
    reply_to = parsed["Reply-To"]
    result = EmailMultiAlternatives(
        subject=str(parsed["Subject"] or ""),
        body=text if text is not None else "",
        from_email=str(parsed["From"]),
        to=[str(Address(display_name=display_name, addr_spec=message.rcpt_to))],
        reply_to=[str(address) for address in reply_to.addresses] if reply_to else None,
        headers=headers,
    )
    if html is not None:
        if text is None:
            result.body, result.content_subtype = html, "html"
        else:
            result.attach_alternative(html, "text/html")
    result.metadata = {DELIVERY_METADATA_KEY: str(message.delivery_id)}
    return result


# -- AnymailTransport ---------------------------------------------------------------------


def _one_line(text: str, limit: int = 500) -> str:
    return " ".join(str(text).split())[:limit]


# HTTP statuses worth retrying: the provider is busy or down, or the key is wrong or
# lacks a permission — the organization fixes its settings and the messages still go;
# failing them permanently would wrongly feed bounce handling.
_RETRYABLE_HTTP = frozenset({401, 403, 408, 409, 425, 429})


class AnymailTransport:
    """A provider API through django-anymail; use from one event loop."""

    def __init__(
        self,
        backend_factory: Callable[[], object],
        *,
        label: str = "provider",
        concurrency: int = PROVIDER_CONCURRENCY,
    ) -> None:
        self.label = label
        self._factory = backend_factory
        self._executor = ThreadPoolExecutor(
            max_workers=max(1, concurrency), thread_name_prefix=f"anymail-{label}"
        )
        self._local = threading.local()
        self._backends: list = []
        self._lock = threading.Lock()

    @classmethod
    def for_provider(
        cls, provider: str, api_key: str, options: dict | None = None, **kwargs
    ) -> AnymailTransport:
        spec = PROVIDERS[provider]
        backend_class = import_string(spec.backend)
        backend_kwargs = spec.backend_kwargs(api_key, options or {})
        return cls(lambda: backend_class(**dict(backend_kwargs)), label=spec.label, **kwargs)

    def _backend(self):
        backend = getattr(self._local, "backend", None)
        if backend is None:
            backend = self._local.backend = self._factory()
            backend.open()  # keep the HTTP session (and its connections) across messages
            with self._lock:
                self._backends.append(backend)
        return backend

    def send_one(self, message: Outgoing) -> Outcome:
        """Post one message (blocking); never raises."""
        delivery_id = message.delivery_id
        try:
            email_message = email_message_from_outgoing(message)
        except Exception as error:  # our bytes don't parse: they never will
            return Outcome(delivery_id, PERMANENT, None, _one_line(f"not sent: {error}"))
        try:
            self._backend().send_messages([email_message])
        except AnymailRecipientsRefused:
            status = getattr(email_message, "anymail_status", None)
            recipient = status.recipients.get(message.rcpt_to) if status else None
            what = recipient.status if recipient else "rejected"
            return Outcome(delivery_id, PERMANENT, None, f"{self.label} {what} the recipient"[:500])
        except AnymailRequestsAPIError as error:
            code = error.status_code
            result = (
                TEMPORARY if code is None or code >= 500 or code in _RETRYABLE_HTTP else PERMANENT
            )
            return Outcome(delivery_id, result, None, _one_line(f"{self.label} API: {error}"))
        except AnymailAPIError as error:
            return Outcome(delivery_id, TEMPORARY, None, _one_line(f"{self.label} API: {error}"))
        except AnymailError as error:  # invalid address, unsupported feature: won't change
            return Outcome(delivery_id, PERMANENT, None, _one_line(f"not sent: {error}"))
        except Exception as error:  # a network error outside requests, a bug: retry later
            log.warning("provider send failed", exc_info=True)
            return Outcome(
                delivery_id, TEMPORARY, None, _one_line(f"{type(error).__name__}: {error}")
            )
        status = email_message.anymail_status
        recipient = status.recipients.get(message.rcpt_to)
        if recipient is None and status.recipients:
            recipient = next(iter(status.recipients.values()))
        state = recipient.status if recipient else None
        message_id = str(recipient.message_id) if recipient and recipient.message_id else ""
        if state == "failed":
            return Outcome(delivery_id, TEMPORARY, None, f"{self.label}: failed")
        if state in {"invalid", "rejected"}:
            return Outcome(delivery_id, PERMANENT, None, f"{self.label} {state} the recipient")
        # sent, queued — or "unknown": the API accepted the request (2xx), so retrying
        # would risk a duplicate.
        reply = f"{self.label}: {state or 'accepted'}"
        return Outcome(delivery_id, SENT, None, reply, provider_message_id=message_id[:200])

    async def send_batch(self, messages: Sequence[Outgoing]) -> list[Outcome]:
        loop = asyncio.get_running_loop()
        return list(
            await asyncio.gather(
                *(loop.run_in_executor(self._executor, self.send_one, m) for m in messages)
            )
        )

    def _close_sync(self) -> None:
        self._executor.shutdown(wait=True)
        with self._lock:
            backends, self._backends = self._backends, []
        for backend in backends:
            with contextlib.suppress(Exception):
                backend.close()

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self._close_sync)


class FailingTransport:
    """Every message a temporary failure with `reason` (retried once settings are fixed)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason[:500]

    async def send_batch(self, messages: Sequence[Outgoing]) -> list[Outcome]:
        return [Outcome(m.delivery_id, TEMPORARY, None, self.reason) for m in messages]

    async def close(self) -> None:
        return None


# -- building a transport from settings ---------------------------------------------------


class HostRefused(ValueError):
    """An SMTP host we won't connect to (server-side request forgery)."""


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_public_host(host: str, port: int) -> None:
    """HostRefused unless every address `host` resolves to is public (or the operator
    allows private ones: SENDING_ALLOW_PRIVATE_HOSTS).

    The sender re-checks when it builds the transport, so a name re-pointed at an
    internal address after saving is caught too (a re-point between this check and the
    connect is the remaining window)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise HostRefused(
            f"Can't find the server {host}: {getattr(error, 'strerror', None) or error}"
        ) from None
    if getattr(settings, "SENDING_ALLOW_PRIVATE_HOSTS", False):
        return
    for info in infos:
        address = info[4][0]
        if not _is_public(address):
            raise HostRefused(
                f"{host} resolves to {address}, a private, loopback or reserved address: "
                "EngageX only connects to servers on the public internet."
            )


def smtp_settings_from(row: SendingSettings, password: str) -> SmtpSettings:
    security = row.smtp_security
    return SmtpSettings(
        host=row.smtp_host,
        port=row.smtp_port,
        username=row.smtp_username,
        password=password,
        use_tls=security == SendingSettings.Security.TLS,
        # STARTTLS chosen: required (no silent fallback to plain text); "none": never.
        start_tls=security == SendingSettings.Security.STARTTLS,
    )


def transport_for(row: SendingSettings, *, concurrency: int = 4) -> Transport | None:
    """The organization's own transport; None for the platform default."""
    if row.transport == SendingSettings.Transport.SMTP:
        try:
            check_public_host(row.smtp_host, row.smtp_port)
            password = (
                secretbox.decrypt(row.smtp_password_encrypted)
                if row.smtp_password_encrypted
                else ""
            )
        except (HostRefused, secretbox.SecretDecryptError) as error:
            return FailingTransport(f"Sending settings: {error}")
        return SmtpPool(smtp_settings_from(row, password), size=row.smtp_connections or 1)
    if row.transport == SendingSettings.Transport.PROVIDER:
        if row.provider not in PROVIDERS:
            return FailingTransport(f"Sending settings: unknown provider {row.provider!r}")
        try:
            api_key = secretbox.decrypt(row.provider_api_key_encrypted)
        except secretbox.SecretDecryptError as error:
            return FailingTransport(f"Sending settings: {error}")
        return AnymailTransport.for_provider(
            row.provider, api_key, row.provider_options or {}, concurrency=concurrency * 2
        )
    return None


_RECHECK = object()  # never equal to an updated_at


@dataclass
class _Entry:
    transport: Transport
    updated_at: object  # the settings' updated_at it was built from (None: no row)
    checked_at: float


class TransportCache:
    """The transport of each organization, for the sender.

    `get()` is synchronous (it reads the database; call it from the sender's thread, not
    the event loop); the transports it returns are used — and closed — on the sender's
    event loop. An organization's settings are re-read at most every `refresh_seconds`;
    when their `updated_at` changed, the transport is rebuilt and the old one retired:
    closed on `loop` right away if one was given, else by `close_retired()` /
    `close_all()`.
    """

    def __init__(
        self,
        *,
        refresh_seconds: float = REFRESH_SECONDS,
        platform_settings: SmtpSettings | None = None,
        platform_connections: int = 4,
        loop: asyncio.AbstractEventLoop | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.refresh_seconds = refresh_seconds
        self.platform_settings = platform_settings  # None: sender.platform_smtp()
        self.platform_connections = platform_connections
        self.loop = loop
        self.clock = clock
        self._entries: dict[str, _Entry] = {}
        self._platform: SmtpPool | None = None
        self._retired: list[Transport] = []

    @property
    def platform(self) -> SmtpPool:
        """The one pool to the platform relay shared by every organization using it."""
        if self._platform is None:
            settings_ = self.platform_settings
            if settings_ is None:
                # Imported here: the sender imports this module.
                from engagex.delivery.sender import platform_smtp

                settings_ = platform_smtp()
            self._platform = SmtpPool(settings_, size=self.platform_connections)
        return self._platform

    def get(self, organization_id) -> Transport:
        key = str(organization_id)
        now = self.clock()
        entry = self._entries.get(key)
        if entry is not None and now - entry.checked_at < self.refresh_seconds:
            return entry.transport
        updated_at = (
            SendingSettings.objects.filter(organization_id=organization_id)
            .values_list("updated_at", flat=True)
            .first()
        )
        if entry is not None and entry.updated_at == updated_at:
            entry.checked_at = now
            return entry.transport
        row = (
            SendingSettings.objects.filter(organization_id=organization_id).first()
            if updated_at is not None
            else None
        )
        transport = (transport_for(row) if row is not None else None) or self.platform
        if entry is not None:
            self._retire(entry.transport)
        # A failing transport (host refused, DNS down, undecryptable secret) is rebuilt at
        # the next refresh even without a settings change: the cause may have gone away.
        built_from = _RECHECK if isinstance(transport, FailingTransport) else updated_at
        self._entries[key] = _Entry(transport, built_from, now)
        return transport

    def _retire(self, transport: Transport) -> None:
        if transport is self._platform:
            return
        if self.loop is not None and self.loop.is_running():
            asyncio.run_coroutine_threadsafe(transport.close(), self.loop)
        else:
            self._retired.append(transport)

    async def close_retired(self) -> None:
        retired, self._retired = self._retired, []
        await asyncio.gather(*(t.close() for t in retired), return_exceptions=True)

    async def close_all(self) -> None:
        transports = [entry.transport for entry in self._entries.values()]
        if self._platform is not None:
            transports.append(self._platform)
        transports += self._retired
        self._entries, self._retired, self._platform = {}, [], None
        unique = list({id(t): t for t in transports}.values())
        await asyncio.gather(*(t.close() for t in unique), return_exceptions=True)
