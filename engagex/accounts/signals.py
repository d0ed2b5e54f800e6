"""Audit entries for sign-in events (PRODUCT.md §A: "logins" are in the audit log).

The receivers are thin: they work out whose organizations an event concerns and call
`audit.record`. Only events that came in over HTTP are recorded (the request has a
client address): programmatic sign-ins such as the test client's `force_login` or a
shell session are not user activity.
"""

from __future__ import annotations

from typing import Any

from allauth.account import signals as account_signals
from allauth.mfa import signals as mfa_signals
from allauth.mfa.models import Authenticator
from django.contrib.auth import get_user_model
from django.contrib.auth import signals as auth_signals

from engagex import audit

# A user in very many organizations gets at most this many copies of one event.
MAX_ORGANIZATIONS = 20


def client_ip(request) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def _organizations(user) -> list:
    memberships = user.memberships.select_related("organization").order_by("created_at")
    return [membership.organization for membership in memberships[:MAX_ORGANIZATIONS]]


def record_for_user(
    request,
    user,
    action: str,
    *,
    actor=None,
    metadata: dict[str, Any] | None = None,
) -> None:
    """One entry per organization of `user` (one without organization if they have none)."""
    ip_address = client_ip(request)
    if ip_address is None:
        return
    for organization in _organizations(user) or [None]:
        audit.record(organization, actor, action, "user", user.pk, metadata, ip_address=ip_address)


def on_logged_in(sender, request, user, **kwargs) -> None:
    record_for_user(request, user, "auth.login", actor=user)


def on_logged_out(sender, request, user, **kwargs) -> None:
    if user is not None and user.is_authenticated:
        record_for_user(request, user, "auth.logout", actor=user)


def on_login_failed(sender, credentials, request=None, **kwargs) -> None:
    """A wrong password for an existing account. The address itself is never stored."""
    email = credentials.get("email") or credentials.get("username") or ""
    if not email:
        return
    user = get_user_model().objects.filter(email__iexact=email).first()
    if user is not None:
        record_for_user(request, user, "auth.login_failed", metadata={"reason": "password"})


def on_mfa_failed(sender, request, user, **kwargs) -> None:
    if kwargs.get("reauthentication"):
        return
    record_for_user(request, user, "auth.login_failed", metadata={"reason": "mfa_code"})


def on_password_changed(sender, request, user, **kwargs) -> None:
    record_for_user(request, user, "auth.password_changed", actor=user)


def on_password_reset(sender, request, user, **kwargs) -> None:
    record_for_user(
        request, user, "auth.password_changed", actor=user, metadata={"via": "reset_link"}
    )


def on_authenticator_added(sender, request, user, authenticator, **kwargs) -> None:
    if authenticator.type == Authenticator.Type.TOTP:
        record_for_user(request, user, "auth.mfa_enabled", actor=user)


def on_authenticator_removed(sender, request, user, authenticator, **kwargs) -> None:
    if authenticator.type == Authenticator.Type.TOTP:
        record_for_user(request, user, "auth.mfa_disabled", actor=user)


def connect() -> None:
    uid = "engagex.accounts.signals."
    auth_signals.user_logged_in.connect(on_logged_in, dispatch_uid=uid + "login")
    auth_signals.user_logged_out.connect(on_logged_out, dispatch_uid=uid + "logout")
    auth_signals.user_login_failed.connect(on_login_failed, dispatch_uid=uid + "login_failed")
    mfa_signals.authentication_failed.connect(on_mfa_failed, dispatch_uid=uid + "mfa_failed")
    account_signals.password_changed.connect(on_password_changed, dispatch_uid=uid + "pw")
    account_signals.password_reset.connect(on_password_reset, dispatch_uid=uid + "pw_reset")
    mfa_signals.authenticator_added.connect(on_authenticator_added, dispatch_uid=uid + "mfa_on")
    mfa_signals.authenticator_removed.connect(
        on_authenticator_removed, dispatch_uid=uid + "mfa_off"
    )
