"""An organization's sending settings: read, update, test the connection (PRODUCT.md §E).

Secrets (the SMTP password, the provider API key) are write-only: stored encrypted
(`engagex.lib.secretbox`), never returned by `sending_settings_get`, never in the audit
log. A blank secret in an update means "keep the stored one".

Security: an organization's SMTP host must resolve to public addresses only
(`transports.check_public_host`; `SENDING_ALLOW_PRIVATE_HOSTS` lifts that), provider API
URLs are the operator's (anymail's settings), never the tenant's, and the connection test
is rate-limited per organization — it makes us connect somewhere on a tenant's behalf.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from engagex import audit
from engagex.delivery.models import SendingSettings
from engagex.delivery.smtp import SmtpSettings, smtp_check, smtp_error_text
from engagex.delivery.transports import (
    PROVIDERS,
    HostRefused,
    check_public_host,
    smtp_settings_from,
)
from engagex.lib import secretbox

SMTP_CONNECTIONS_MAX = 20
SECRET_MAX_LENGTH = 500
TESTS_PER_MINUTE = 10
CHECK_TIMEOUT = 10  # seconds for a provider API check
SMTP_CHECK_TIMEOUT = 15.0

FIELDS = (
    "transport",
    "smtp_host",
    "smtp_port",
    "smtp_security",
    "smtp_username",
    "smtp_password",
    "smtp_connections",
    "provider",
    "api_key",
    "provider_region",
    "provider_domain",
    "provider_message_stream",
)
SECRET_FIELDS = ("smtp_password", "api_key")
REGIONS = ("", "us", "eu")

_HOSTNAME = re.compile(
    r"(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?", re.ASCII
)
_IPV6 = re.compile(r"[0-9A-Fa-f:.]{2,45}")
_STREAM = re.compile(r"[A-Za-z0-9_-]{1,100}", re.ASCII)


@dataclass(frozen=True)
class SendingSettingsSummary:
    """What pages may show: everything but the secrets (only whether one is stored)."""

    transport: str
    smtp_host: str
    smtp_port: int
    smtp_security: str
    smtp_username: str
    smtp_connections: int
    has_smtp_password: bool
    provider: str
    has_api_key: bool
    provider_region: str
    provider_domain: str
    provider_message_stream: str
    updated_at: Any = None
    updated_by: Any = None

    @property
    def transport_label(self) -> str:
        return str(SendingSettings.Transport(self.transport).label)

    @property
    def provider_label(self) -> str:
        spec = PROVIDERS.get(self.provider)
        return spec.label if spec else ""


def _summary(row: SendingSettings) -> SendingSettingsSummary:
    options = row.provider_options or {}
    return SendingSettingsSummary(
        transport=row.transport,
        smtp_host=row.smtp_host,
        smtp_port=row.smtp_port,
        smtp_security=row.smtp_security,
        smtp_username=row.smtp_username,
        smtp_connections=row.smtp_connections,
        has_smtp_password=bool(row.smtp_password_encrypted),
        provider=row.provider,
        has_api_key=bool(row.provider_api_key_encrypted),
        provider_region=str(options.get("region", "")),
        provider_domain=str(options.get("domain", "")),
        provider_message_stream=str(options.get("message_stream", "")),
        updated_at=None if row._state.adding else row.updated_at,
        updated_by=row.updated_by if row.updated_by_id else None,
    )


def _row(organization, *, lock: bool = False) -> SendingSettings:
    queryset = SendingSettings.objects.select_related("updated_by")
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    row = queryset.filter(organization=organization).first()
    return row or SendingSettings(organization=organization)


def sending_settings_get(*, organization) -> SendingSettingsSummary:
    """The organization's settings (the platform default when it never saved any)."""
    return _summary(_row(organization))


# -- validation ---------------------------------------------------------------------------


@dataclass
class _Resolved:
    """Settings after applying `fields` to the stored row; plaintext secrets, internal only."""

    transport: str
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_security: str = SendingSettings.Security.STARTTLS
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_connections: int = 4
    provider: str = ""
    api_key: str = ""
    options: dict = field(default_factory=dict)
    new_secrets: dict = field(default_factory=dict)  # field → plaintext entered now


def _text(fields: dict, name: str, default: str = "") -> str:
    value = fields.get(name, default)
    return "" if value is None else str(value).strip()


def _int(fields: dict, name: str, default: int, errors: dict, message: str) -> int:
    value = fields.get(name, default)
    if value in (None, ""):
        value = default
    try:
        return int(value)
    except (TypeError, ValueError):
        errors[name] = message
        return default


def _stored_secret(token: str) -> str:
    if not token:
        return ""
    try:
        return secretbox.decrypt(token)
    except secretbox.SecretDecryptError:
        return ""  # treated as not stored: the user is asked to enter it again


def _resolve(row: SendingSettings, fields: dict) -> _Resolved:
    """Validate `fields` over the stored `row`; ValidationError (per field) if invalid."""
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise TypeError(f"Unknown sending settings fields: {', '.join(sorted(unknown))}")
    errors: dict[str, str] = {}
    transport = _text(fields, "transport", row.transport)
    if transport not in SendingSettings.Transport.values:
        raise ValidationError({"transport": _("Choose how your mail is sent.")})
    resolved = _Resolved(transport=transport)

    if transport == SendingSettings.Transport.SMTP:
        host = _text(fields, "smtp_host", row.smtp_host)
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        port = _int(
            fields, "smtp_port", row.smtp_port, errors, _("Enter a port number from 1 to 65535.")
        )
        security = _text(fields, "smtp_security", row.smtp_security)
        username = _text(fields, "smtp_username", row.smtp_username)
        connections = _int(
            fields,
            "smtp_connections",
            row.smtp_connections,
            errors,
            _("Enter a number of connections from 1 to %(max)s.") % {"max": SMTP_CONNECTIONS_MAX},
        )
        if not host:
            errors["smtp_host"] = _("Enter your SMTP server's host name.")
        elif not (_HOSTNAME.fullmatch(host) or (":" in host and _IPV6.fullmatch(host))):
            errors["smtp_host"] = _("Enter a host name such as smtp.example.com, or an IP address.")
        if "smtp_port" not in errors and not 1 <= port <= 65535:
            errors["smtp_port"] = _("Enter a port number from 1 to 65535.")
        if security not in SendingSettings.Security.values:
            errors["smtp_security"] = _("Choose STARTTLS, TLS or none.")
        if len(username) > 254:
            errors["smtp_username"] = _("The username can be at most 254 characters.")
        if "smtp_connections" not in errors and not 1 <= connections <= SMTP_CONNECTIONS_MAX:
            errors["smtp_connections"] = _("Enter a number of connections from 1 to %(max)s.") % {
                "max": SMTP_CONNECTIONS_MAX
            }
        password = str(fields.get("smtp_password") or "")
        if password:
            resolved.new_secrets["smtp_password"] = password
        else:
            password = _stored_secret(row.smtp_password_encrypted)
        if len(password) > SECRET_MAX_LENGTH:
            errors["smtp_password"] = _("The password is too long.")
        elif username and not password:
            errors["smtp_password"] = _("Enter the password for this username.")
        if "smtp_host" not in errors and "smtp_port" not in errors:
            try:
                check_public_host(host, port)
            except HostRefused as error:
                errors["smtp_host"] = str(error)
        resolved.smtp_host, resolved.smtp_port, resolved.smtp_security = host, port, security
        resolved.smtp_username, resolved.smtp_password = username, password
        resolved.smtp_connections = connections

    elif transport == SendingSettings.Transport.PROVIDER:
        provider = _text(fields, "provider", row.provider)
        spec = PROVIDERS.get(provider)
        stored = row.provider_options or {}
        if spec is None:
            errors["provider"] = _("Choose one of the listed providers.")
        api_key = str(fields.get("api_key") or "").strip()
        if api_key:
            resolved.new_secrets["api_key"] = api_key
        elif provider == row.provider:
            api_key = _stored_secret(row.provider_api_key_encrypted)
        # A key stored for another provider is of no use to this one.
        if not api_key:
            errors["api_key"] = _("Enter the API key.")
        elif len(api_key) > SECRET_MAX_LENGTH or any(ch.isspace() for ch in api_key):
            errors["api_key"] = _("That doesn't look like an API key (no spaces, at most 500).")
        elif provider == "mailjet" and ":" not in api_key:
            errors["api_key"] = _("Enter Mailjet's API key and secret key as KEY:SECRET.")
        options: dict[str, str] = {}
        if spec is not None:
            region = _text(fields, "provider_region", stored.get("region", ""))
            if region not in REGIONS or (region and not spec.eu_api_url):
                errors["provider_region"] = _("Choose a region the provider offers.")
            elif region:
                options["region"] = region
            if spec.needs_domain:
                domain = _text(fields, "provider_domain", stored.get("domain", "")).lower()
                if not domain:
                    errors["provider_domain"] = _(
                        "Enter the sending domain configured at %(provider)s."
                    ) % {"provider": spec.label}
                elif not _HOSTNAME.fullmatch(domain) or "." not in domain.strip("."):
                    errors["provider_domain"] = _("Enter a domain such as mg.example.com.")
                else:
                    options["domain"] = domain.rstrip(".")
            if spec.has_message_stream:
                stream = _text(fields, "provider_message_stream", stored.get("message_stream", ""))
                if stream and not _STREAM.fullmatch(stream):
                    errors["provider_message_stream"] = _(
                        "Use letters, digits, dashes and underscores only."
                    )
                elif stream:
                    options["message_stream"] = stream
        resolved.provider, resolved.api_key, resolved.options = provider, api_key, options

    if errors:
        raise ValidationError(errors)
    return resolved


# -- update ---------------------------------------------------------------------------------


@transaction.atomic
def sending_settings_update(*, organization, actor, **fields) -> SendingSettingsSummary:
    """Validate and store; ValidationError (per field) changes nothing.

    Only the chosen transport's fields are taken: switching to the platform default
    keeps the stored SMTP or provider details for a later switch back."""
    row = _row(organization, lock=True)
    resolved = _resolve(row, fields)
    changed: list[str] = []

    def put(name: str, value) -> None:
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed.append(name)

    put("transport", resolved.transport)
    if resolved.transport == SendingSettings.Transport.SMTP:
        put("smtp_host", resolved.smtp_host)
        put("smtp_port", resolved.smtp_port)
        put("smtp_security", resolved.smtp_security)
        put("smtp_username", resolved.smtp_username)
        put("smtp_connections", resolved.smtp_connections)
        if "smtp_password" in resolved.new_secrets:
            row.smtp_password_encrypted = secretbox.encrypt(resolved.new_secrets["smtp_password"])
            changed.append("smtp_password")
        elif not resolved.smtp_username and row.smtp_password_encrypted:
            # No username, no authentication: don't keep a password nobody can see.
            row.smtp_password_encrypted = ""
            changed.append("smtp_password")
    elif resolved.transport == SendingSettings.Transport.PROVIDER:
        provider_changed = row.provider != resolved.provider
        put("provider", resolved.provider)
        put("provider_options", resolved.options)
        if "api_key" in resolved.new_secrets:
            row.provider_api_key_encrypted = secretbox.encrypt(resolved.new_secrets["api_key"])
            changed.append("api_key")
        elif provider_changed:  # unreachable: validation asks for a key; kept for safety
            row.provider_api_key_encrypted = ""
    if not changed:
        return _summary(row)
    row.updated_by = actor if getattr(actor, "is_authenticated", False) else None
    row.save()
    audit.record(
        organization,
        actor,
        "sending_settings.updated",
        "sending_settings",
        organization.pk,
        {
            "transport": resolved.transport,
            "provider": resolved.provider or None,
            "smtp_host": resolved.smtp_host or None,
            "fields": sorted(changed),  # names only: never a secret's value
        },
    )
    return _summary(row)


# -- connection test -----------------------------------------------------------------------


@dataclass(frozen=True)
class ConnectionTestResult:
    ok: bool
    message: str
    checked: bool = True  # False: nothing could be verified (said so in the message)
    rate_limited: bool = False


def _take_test_slot(organization) -> bool:
    """Fixed one-minute window per organization in the shared (database) cache."""
    key = f"sending-test:{organization.pk}:{int(time.time() // 60)}"
    cache.add(key, 0, timeout=120)
    try:
        used = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=120)
        used = 1
    return used <= TESTS_PER_MINUTE


def _run_async(make_coroutine):
    """Run a coroutine to completion on a thread of its own (views are synchronous and may
    run where an event loop is already set)."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(make_coroutine())
        except BaseException as error:
            outcome["error"] = error

    thread = threading.Thread(target=target, name="sending-check")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _check_smtp(resolved: _Resolved) -> ConnectionTestResult:
    row = SendingSettings(
        smtp_host=resolved.smtp_host,
        smtp_port=resolved.smtp_port,
        smtp_security=resolved.smtp_security,
        smtp_username=resolved.smtp_username,
    )
    base = smtp_settings_from(row, resolved.smtp_password)
    smtp = SmtpSettings(**{**base.__dict__, "timeout": SMTP_CHECK_TIMEOUT})
    try:
        greeting = _run_async(lambda: smtp_check(smtp))
    except Exception as error:
        return ConnectionTestResult(False, smtp_error_text(error, smtp))
    how = {
        SendingSettings.Security.TLS: _("over TLS"),
        SendingSettings.Security.STARTTLS: _("with STARTTLS"),
    }.get(resolved.smtp_security, _("without encryption"))
    signed_in = _(", signed in as %(user)s") % {"user": resolved.smtp_username}
    return ConnectionTestResult(
        True,
        _("Connected to %(server)s %(how)s%(auth)s.")
        % {
            "server": greeting.removesuffix(" ready"),
            "how": how,
            "auth": signed_in if resolved.smtp_username else "",
        },
    )


def _provider_message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        body = None
    text = ""
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            text = str(errors[0].get("message") or errors[0].get("field") or "")
        text = text or str(body.get("message") or body.get("Message") or body.get("error") or "")
    if not text:
        text = response.text.strip() or response.reason or ""
    return " ".join(text.split())[:300]


def _http_check(label: str, url: str, **kwargs) -> tuple[requests.Response | None, str]:
    """(response, "") when it answered 2xx, else (response or None, the exact failure)."""
    host = urlsplit(url).netloc
    try:
        response = requests.get(url, timeout=CHECK_TIMEOUT, allow_redirects=False, **kwargs)
    except requests.RequestException as error:
        return None, _("Can't reach %(provider)s at %(host)s: %(error)s") % {
            "provider": label,
            "host": host,
            "error": error.__class__.__name__
            + (f" ({error.args[0]})" if error.args and isinstance(error.args[0], str) else ""),
        }
    if 200 <= response.status_code < 300:
        return response, ""
    detail = _provider_message(response)
    return response, _("%(provider)s answered %(status)s%(detail)s") % {
        "provider": label,
        "status": response.status_code,
        "detail": f": {detail}" if detail else "",
    }


def _check_provider(resolved: _Resolved) -> ConnectionTestResult:
    spec = PROVIDERS[resolved.provider]
    api_url = spec.resolved_api_url(resolved.options)
    key = resolved.api_key
    if spec.code == "sendgrid":
        response, failure = _http_check(
            spec.label, urljoin(api_url, "scopes"), headers={"Authorization": f"Bearer {key}"}
        )
        if failure:
            return ConnectionTestResult(False, failure)
        try:
            scopes = response.json().get("scopes") or []
        except (ValueError, AttributeError):
            scopes = []
        if "mail.send" not in scopes:
            return ConnectionTestResult(
                False, _("SendGrid accepted the key, but it lacks the “Mail Send” permission.")
            )
        return ConnectionTestResult(True, _("SendGrid accepted the API key; it may send mail."))
    if spec.code == "postmark":
        response, failure = _http_check(
            spec.label,
            urljoin(api_url, "server"),
            headers={"X-Postmark-Server-Token": key, "Accept": "application/json"},
        )
        if failure:
            return ConnectionTestResult(False, failure)
        try:
            name = str(response.json().get("Name") or "")[:100]
        except (ValueError, AttributeError):
            name = ""
        return ConnectionTestResult(
            True,
            _("Postmark accepted the server token (server “%(name)s”).") % {"name": name}
            if name
            else _("Postmark accepted the server token."),
        )
    if spec.code == "mailgun":
        domain = resolved.options.get("domain", "")
        response, failure = _http_check(
            spec.label, f"{api_url.rstrip('/')}/domains/{domain}", auth=("api", key)
        )
        if failure:
            if response is not None and response.status_code == 404:
                failure = _("Mailgun has no domain %(domain)s in this account (%(detail)s).") % {
                    "domain": domain,
                    "detail": failure,
                }
            return ConnectionTestResult(False, failure)
        try:
            state = str((response.json().get("domain") or {}).get("state") or "")[:40]
        except (ValueError, AttributeError):
            state = ""
        message = _("Mailgun accepted the API key for %(domain)s.") % {"domain": domain}
        if state and state != "active":
            message += " " + _("The domain's state is “%(state)s”: mail may not go out yet.") % {
                "state": state
            }
        return ConnectionTestResult(True, message)
    if spec.code == "brevo":
        _response, failure = _http_check(
            spec.label,
            urljoin(api_url, "account"),
            headers={"api-key": key, "Accept": "application/json"},
        )
        if failure:
            return ConnectionTestResult(False, failure)
        return ConnectionTestResult(True, _("Brevo accepted the API key."))
    return ConnectionTestResult(
        True,
        _(
            "EngageX can't check a %(provider)s key without sending an email. "
            "Save the settings, then send a test email to yourself."
        )
        % {"provider": spec.label},
        checked=False,
    )


def sending_connection_test(
    *, organization, actor, draft_settings: dict | None = None
) -> ConnectionTestResult:
    """Connect (and sign in) with the stored settings, or with `draft_settings` — unsaved
    form values over the stored ones, blank secrets meaning the stored ones. Never raises
    for a failure: the result carries the exact reason."""
    if not _take_test_slot(organization):
        return ConnectionTestResult(
            False,
            _("That's %(count)s connection tests in a minute: wait a moment and try again.")
            % {"count": TESTS_PER_MINUTE},
            checked=False,
            rate_limited=True,
        )
    row = _row(organization)
    try:
        resolved = _resolve(row, draft_settings or {})
    except ValidationError as error:
        problems = " ".join(
            message for messages in error.message_dict.values() for message in messages
        )
        return ConnectionTestResult(
            False, _("Fix the settings first: %(problems)s") % {"problems": problems}
        )
    if resolved.transport == SendingSettings.Transport.SMTP:
        result = _check_smtp(resolved)
    elif resolved.transport == SendingSettings.Transport.PROVIDER:
        result = _check_provider(resolved)
    else:
        result = ConnectionTestResult(
            True,
            _("Mail goes through EngageX's own servers, which the platform operator runs."),
            checked=False,
        )
    audit.record(
        organization,
        actor,
        "sending_settings.tested",
        "sending_settings",
        organization.pk,
        {"transport": resolved.transport, "provider": resolved.provider or None, "ok": result.ok},
    )
    return result
