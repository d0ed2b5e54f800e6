"""Remembers an invitation link opened by someone not signed in yet, across sign-up/in."""

from __future__ import annotations

from django.urls import reverse

PENDING_INVITATION_SESSION_KEY = "pending_invitation_token"


def remember_pending_invitation(request, token: str) -> None:
    request.session[PENDING_INVITATION_SESSION_KEY] = token


def forget_pending_invitation(request) -> None:
    request.session.pop(PENDING_INVITATION_SESSION_KEY, None)


def pending_invitation_url(request) -> str | None:
    token = request.session.get(PENDING_INVITATION_SESSION_KEY)
    if not token:
        return None
    return reverse("accounts:invitation-accept", args=[token])
