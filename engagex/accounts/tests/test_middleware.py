"""request.organization / request.membership come from the session, after a membership check."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.http import HttpResponse
from django.test import RequestFactory

from engagex.accounts.middleware import ActiveOrganizationMiddleware
from engagex.accounts.models import Membership
from engagex.accounts.tenancy import ACTIVE_ORGANIZATION_SESSION_KEY
from engagex.accounts.tests.factories import MembershipFactory


def _run(user, active_id=None):
    request = RequestFactory().get("/")
    request.user = user
    request.session = SessionStore()
    if active_id is not None:
        request.session[ACTIVE_ORGANIZATION_SESSION_KEY] = str(active_id)
    seen = {}

    def view(req):
        seen["organization"] = req.organization if req.organization else None
        seen["membership"] = req.membership if req.membership else None
        return HttpResponse()

    ActiveOrganizationMiddleware(view)(request)
    return seen, request.session


@pytest.mark.django_db
def test_anonymous_has_no_organization():
    seen, _ = _run(AnonymousUser())
    assert seen == {"organization": None, "membership": None}


def test_session_organization_is_used_when_user_is_a_member(org, other_org, editor):
    MembershipFactory(organization=other_org, user=editor, role=Membership.Role.VIEWER)
    seen, _ = _run(editor, other_org.pk)
    assert seen["organization"] == other_org
    assert seen["membership"].role == Membership.Role.VIEWER


def test_foreign_organization_in_session_is_ignored(org, other_org, editor):
    seen, session = _run(editor, other_org.pk)
    assert seen["organization"] == org  # falls back to the user's own organization
    assert session[ACTIVE_ORGANIZATION_SESSION_KEY] == str(org.pk)


def test_garbage_in_session_is_ignored(org, editor):
    seen, _ = _run(editor, "'; DROP TABLE--")
    assert seen["organization"] == org


@pytest.mark.django_db
def test_user_without_membership_has_no_organization():
    from engagex.accounts.tests.factories import UserFactory

    seen, _ = _run(UserFactory())
    assert seen == {"organization": None, "membership": None}
