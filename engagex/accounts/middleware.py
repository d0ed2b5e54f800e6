"""Sets request.organization and request.membership from the session (DESIGN.md §4).

The active organization id lives in the session; it is only trusted after checking
that the signed-in user is still a member. Anonymous requests get None for both.
"""

from __future__ import annotations

import zoneinfo

from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from engagex.accounts.tenancy import ACTIVE_ORGANIZATION_SESSION_KEY, active_membership


class ActiveOrganizationMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Lazy: pages that never look at the tenant (health, static, tracking) cost no query.
        membership = SimpleLazyObject(lambda: _resolve(request))
        request.membership = membership
        request.organization = SimpleLazyObject(
            lambda: membership.organization if membership else None
        )
        # Times on tenant pages read in the organization's own time zone.
        if request.user.is_authenticated and membership:
            timezone.activate(zoneinfo.ZoneInfo(membership.organization.time_zone))
        else:
            timezone.deactivate()
        return self.get_response(request)


class _NoMembership:
    """Falsy stand-in so `if request.membership:` works through the lazy object."""

    organization = None

    def __bool__(self) -> bool:
        return False


def _resolve(request):
    user = request.user
    if not user.is_authenticated:
        return _NoMembership()
    membership = active_membership(user, request.session.get(ACTIVE_ORGANIZATION_SESSION_KEY))
    if membership is None:
        request.session.pop(ACTIVE_ORGANIZATION_SESSION_KEY, None)
        return _NoMembership()
    active_id = str(membership.organization_id)
    if request.session.get(ACTIVE_ORGANIZATION_SESSION_KEY) != active_id:
        request.session[ACTIVE_ORGANIZATION_SESSION_KEY] = active_id  # a write only on change
    return membership
