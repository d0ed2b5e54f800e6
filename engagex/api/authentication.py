"""API key authentication: `Authorization: Bearer ex_…` (PRODUCT.md §K, DESIGN.md §4).

The key decides the tenant. On success `request.auth` is the `ApiKey`, `request.user` an
`ApiKeyUser` standing for the key (not the person who created it: keys outlive their
creators and must never carry a person's other memberships), and the underlying Django
request gets `organization` and `api_key`, so API views read `request.organization`
like HTML views do. `request.membership` is None: keys have scopes, not roles.

A request without an Authorization header is anonymous here (the public schema and docs
need that); the permission class then answers 401. A header that is present but wrong
is always a 401 with a message saying what is wrong.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from engagex.accounts.models import ApiKey
from engagex.accounts.services.api_keys import api_key_authenticate, looks_like_key

SCHEME = "Bearer"
USAGE = "Send `Authorization: Bearer <API key>`."


class ApiKeyUser:
    """`request.user` for API requests: the key itself, authenticated, with no user rights."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None
    id = None

    def __init__(self, api_key: ApiKey):
        self.api_key = api_key
        self.organization = api_key.organization

    def __str__(self) -> str:
        return f"API key {self.api_key.prefix}"

    def has_perm(self, *args, **kwargs) -> bool:
        return False


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request):
        header = get_authorization_header(request)
        if not header:
            return None
        try:
            parts = header.decode("ascii").split()
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(
                _("Invalid Authorization header: it must be plain ASCII. %(usage)s")
                % {"usage": USAGE}
            ) from None
        if not parts or parts[0].lower() != SCHEME.lower():
            raise exceptions.AuthenticationFailed(
                _("Unsupported authorization scheme: use Bearer. %(usage)s") % {"usage": USAGE}
            )
        if len(parts) == 1:
            raise exceptions.AuthenticationFailed(
                _("Invalid Authorization header: no API key after Bearer. %(usage)s")
                % {"usage": USAGE}
            )
        if len(parts) > 2:
            raise exceptions.AuthenticationFailed(
                _("Invalid Authorization header: the API key must not contain spaces.")
            )
        raw_key = parts[1]
        if not looks_like_key(raw_key):
            raise exceptions.AuthenticationFailed(
                _(
                    "Malformed API key: EngageX keys look like ex_xxxxxxxx_… "
                    "Copy the whole key shown when it was created."
                )
            )
        api_key = api_key_authenticate(raw_key)
        if api_key is None:
            raise exceptions.AuthenticationFailed(
                _("Invalid API key: it does not exist or has been revoked.")
            )
        django_request = request._request
        django_request.organization = api_key.organization
        django_request.membership = None
        django_request.api_key = api_key
        return ApiKeyUser(api_key), api_key

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 (not 403) with this challenge when authentication fails.
        return f'{SCHEME} realm="api"'
