"""allauth hooks: where people land after signing in, and which emails go out."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.urls import reverse

from engagex.accounts.invitations_session import pending_invitation_url


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request) -> str:
        # An invitation opened before signing in wins: finish accepting it first.
        invitation_url = pending_invitation_url(request)
        if invitation_url:
            return invitation_url
        if not request.user.memberships.exists():
            return reverse("accounts:onboarding")
        return super().get_login_redirect_url(request)

    def get_signup_redirect_url(self, request) -> str:
        return self.get_login_redirect_url(request)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Google sign-in follows the same landing rules as email sign-in."""
