"""Accepting an invitation: signed in or not, good links and dead ones."""

import re
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from engagex.accounts.adapter import AccountAdapter
from engagex.accounts.invitations_session import PENDING_INVITATION_SESSION_KEY
from engagex.accounts.models import Invitation, Membership
from engagex.accounts.services import team
from engagex.accounts.tenancy import ACTIVE_ORGANIZATION_SESSION_KEY
from engagex.accounts.tests.factories import UserFactory
from engagex.audit.models import AuditEntry

PASSWORD = "correct horse battery staple"  # the UserFactory's


def accept_url(token: str) -> str:
    return reverse("accounts:invitation-accept", args=[token])


@pytest.fixture
def invitation(org, owner):
    invitation, token = team.invitation_create(
        organization=org,
        actor_membership=Membership.objects.get(organization=org, user=owner),
        email="joiner@example.com",
        role="editor",
    )
    invitation.token = token
    return invitation


@pytest.fixture
def joiner(db):
    user = UserFactory(email="joiner@example.com", full_name="Jo Iner")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


# -- anonymous visitors ----------------------------------------------------------------------


def test_anonymous_visitor_sees_who_invites_them_and_where(client, org, owner, invitation):
    response = client.get(accept_url(invitation.token))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Join Acme Inc as editor" in page
    assert owner.display_name in page
    assert "j***@example.com" in page
    assert reverse("account_signup") + "?email=joiner%40example.com" in page
    assert reverse("account_login") in page
    assert client.session[PENDING_INVITATION_SESSION_KEY] == invitation.token
    assert not Membership.objects.filter(user__email="joiner@example.com").exists()


def test_anonymous_post_changes_nothing(client, invitation):
    response = client.post(accept_url(invitation.token))
    assert response.status_code == 302 and response.url.startswith(reverse("account_login"))
    invitation.refresh_from_db()
    assert invitation.is_open


def test_sign_in_brings_the_visitor_back_to_the_invitation(client, invitation, joiner):
    client.get(accept_url(invitation.token))
    response = client.post(reverse("account_login"), {"login": joiner.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == accept_url(invitation.token)
    page = client.get(response.url).content.decode()
    assert "Accept and join Acme Inc" in page


def test_the_adapter_prefers_a_pending_invitation(client, invitation, joiner):
    client.get(accept_url(invitation.token))
    request = RequestFactory().get("/")
    request.session = client.session
    request.user = joiner
    assert AccountAdapter().get_login_redirect_url(request) == accept_url(invitation.token)


def test_sign_up_with_email_verification_comes_back_and_joins(client, org, invitation):
    client.get(accept_url(invitation.token))
    signup_page = client.get(reverse("account_signup"), {"email": invitation.email})
    assert b'value="joiner@example.com"' in signup_page.content  # prefilled
    mail.outbox.clear()
    response = client.post(
        reverse("account_signup"),
        {
            "email": "joiner@example.com",
            "password1": "a long and fine password 42",
            "full_name": "Jo",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    code_email = mail.outbox[-1]
    code = re.search(r"^\s+([A-Z0-9-]{4,12})\s*$", code_email.body, re.MULTILINE).group(1)
    response = client.post(response.url, {"code": code})
    assert response.status_code == 302
    assert response.url == accept_url(invitation.token)
    response = client.post(response.url)
    assert response.status_code == 302 and response.url == reverse("web:dashboard")
    membership = Membership.objects.get(user__email="joiner@example.com")
    assert membership.organization == org and membership.role == "editor"


# -- signed-in users -------------------------------------------------------------------------


def test_signed_in_user_sees_the_accept_button(client, invitation, joiner):
    client.force_login(joiner)
    page = client.get(accept_url(invitation.token)).content.decode()
    assert "Join Acme Inc as editor" in page
    assert "Accept and join Acme Inc" in page
    assert not Membership.objects.filter(user=joiner).exists()  # GET never joins


def test_accepting_joins_and_switches_the_active_organization(
    client, org, other_org, invitation, joiner
):
    Membership.objects.create(organization=other_org, user=joiner, role="owner")
    client.force_login(joiner)
    session = client.session
    session[ACTIVE_ORGANIZATION_SESSION_KEY] = str(other_org.pk)
    session[PENDING_INVITATION_SESSION_KEY] = invitation.token
    session.save()

    response = client.post(accept_url(invitation.token), follow=True)
    assert response.redirect_chain[0][0] == reverse("web:dashboard")
    assert "Welcome to Acme Inc! You joined as editor." in response.content.decode()
    membership = Membership.objects.get(organization=org, user=joiner)
    assert membership.role == "editor"
    assert client.session[ACTIVE_ORGANIZATION_SESSION_KEY] == str(org.pk)
    assert PENDING_INVITATION_SESSION_KEY not in client.session
    invitation.refresh_from_db()
    assert invitation.accepted_by == joiner
    assert AuditEntry.objects.filter(action="invitation.accepted", actor=joiner).exists()


def test_a_used_link_does_not_work_twice(client, invitation, joiner):
    client.force_login(joiner)
    client.post(accept_url(invitation.token))
    response = client.post(accept_url(invitation.token))
    assert response.status_code == 410
    assert "already been used" in response.content.decode()
    assert Membership.objects.filter(user=joiner).count() == 1


def test_a_different_account_is_told_which_address_to_use(client, org, invitation):
    stranger = UserFactory(email="mallory@example.com")
    client.force_login(stranger)
    page = client.get(accept_url(invitation.token))
    assert page.status_code == 200
    text = page.content.decode()
    assert "j***@example.com" in text and "joiner@example.com" not in text
    assert "Sign out and switch account" in text
    response = client.post(accept_url(invitation.token))
    assert response.status_code == 403
    assert not Membership.objects.filter(user=stranger).exists()
    invitation.refresh_from_db()
    assert invitation.is_open
    # Kept, so that signing in with the right account comes back here.
    assert client.session[PENDING_INVITATION_SESSION_KEY] == invitation.token


def test_an_existing_member_keeps_their_role(client, org, invitation, joiner):
    Membership.objects.create(organization=org, user=joiner, role="admin")
    client.force_login(joiner)
    assert "already a member" in client.get(accept_url(invitation.token)).content.decode()
    response = client.post(accept_url(invitation.token), follow=True)
    assert "already a member of Acme Inc, as admin" in response.content.decode()
    assert Membership.objects.get(organization=org, user=joiner).role == "admin"


# -- dead links ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "status", "says"),
    [
        ("expired", 410, "has expired"),
        ("revoked", 410, "was withdrawn"),
        ("used", 410, "already been used"),
        ("garbage", 404, "not valid"),
    ],
)
@pytest.mark.parametrize("signed_in", [False, True])
def test_dead_links_explain_and_change_nothing(
    client, owner, invitation, joiner, state, status, says, signed_in
):
    token = invitation.token
    if state == "expired":
        Invitation.objects.filter(pk=invitation.pk).update(
            expires_at=timezone.now() - timedelta(minutes=1)
        )
    elif state == "revoked":
        Invitation.objects.filter(pk=invitation.pk).update(revoked_at=timezone.now())
    elif state == "used":
        Invitation.objects.filter(pk=invitation.pk).update(
            accepted_at=timezone.now(), accepted_by=owner
        )
    else:
        token = "not-a-real-token"
    if signed_in:
        client.force_login(joiner)
    session = client.session
    session[PENDING_INVITATION_SESSION_KEY] = token
    session.save()

    for method in (client.get, client.post):
        response = method(accept_url(token))
        assert response.status_code == status
        page = response.content.decode()
        assert says in page
        if state != "garbage":
            assert "Ask" in page and "Acme Inc" in page
    assert not Membership.objects.filter(user=joiner).exists()
    # The adapter stops sending people back to a dead link.
    assert PENDING_INVITATION_SESSION_KEY not in client.session
