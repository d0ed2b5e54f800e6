"""Template context for the top bar: the user's organizations for the switcher."""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject


def organizations(request):
    def memberships():
        user = getattr(request, "user", None)
        if not user or not user.is_authenticated:
            return []
        return list(user.memberships.select_related("organization").order_by("organization__name"))

    return {"user_memberships": SimpleLazyObject(memberships)}
