"""Tenancy helpers (DESIGN.md §4): the active organization, scoped lookups, role checks."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from typing import TypeVar

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import Http404
from django.shortcuts import redirect

ACTIVE_ORGANIZATION_SESSION_KEY = "active_organization_id"

M = TypeVar("M", bound=models.Model)


def active_membership(user, organization_id: str | None):
    """The user's membership in the session's organization, else their oldest one."""
    from engagex.accounts.models import Membership

    memberships = Membership.objects.select_related("organization").filter(user=user)
    if organization_id:
        try:
            return memberships.get(organization_id=uuid.UUID(str(organization_id)))
        except (ValueError, Membership.DoesNotExist):
            pass
    return memberships.order_by("created_at").first()


def check_same_organization(organization, *objects) -> None:
    """Where objects meet in a service, they must belong to `organization` (DESIGN.md §4).

    A mismatch is a programming error (views look objects up with `get_for_org`), so it
    raises ValueError rather than a user-facing message.
    """
    for item in objects:
        if item.organization_id != organization.pk:
            raise ValueError(f"{type(item).__name__} belongs to another organization.")


def get_for_org(model: type[M] | models.QuerySet[M], organization, pk) -> M:
    """Fetch a tenant-owned row by primary key, or 404 if it belongs to anyone else.

    A row of another organization is indistinguishable from a missing one: never
    reveal that it exists.
    """
    if not organization:
        raise Http404
    queryset = model if isinstance(model, models.QuerySet) else model._default_manager.all()
    try:
        return queryset.get(organization=organization, pk=pk)
    except (queryset.model.DoesNotExist, ValidationError, ValueError):
        raise Http404 from None


def organization_required(*, write: bool = False, role: str | None = None) -> Callable:
    """View decorator for tenant pages.

    Anonymous users are sent to sign in; signed-in users without an organization go to
    onboarding. `write=True` needs editor or above, `role="admin"` (or "owner") that role
    or above; a lower role gets 403.
    """
    minimum = role or ("editor" if write else "viewer")

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not request.membership:
                return redirect("accounts:onboarding")
            if not request.membership.has_role(minimum):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
