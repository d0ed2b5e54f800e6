"""Scope checks for API keys: GET/HEAD/OPTIONS need "read", changes need "write".

A view that needs another scope declares it: `required_scope = "send"` (then it
applies to every method of that view).
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS, BasePermission

from engagex.accounts.models import ApiKey


def required_scope(request, view) -> str:
    declared = getattr(view, "required_scope", None)
    if declared:
        return str(declared)
    return ApiKey.Scope.READ.value if request.method in SAFE_METHODS else ApiKey.Scope.WRITE.value


class HasApiKeyScope(BasePermission):
    def has_permission(self, request, view) -> bool:
        api_key = request.auth
        if not isinstance(api_key, ApiKey):
            raise exceptions.NotAuthenticated(
                _("No API key: send `Authorization: Bearer <API key>`.")
            )
        scope = required_scope(request, view)
        if not api_key.has_scope(scope):
            raise exceptions.PermissionDenied(
                _(
                    "This API key lacks the “%(scope)s” scope needed here. "
                    "Create a key with that scope under Settings → API keys."
                )
                % {"scope": scope}
            )
        return True
