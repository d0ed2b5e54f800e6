"""The Team page and its writes: who may do what, and what people see."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from engagex.accounts.models import Invitation, Membership
from engagex.accounts.services import team
from engagex.accounts.tests.factories import MembershipFactory
from engagex.audit.models import AuditEntry

TEAM_URL = reverse("accounts:team")
INVITE_URL = reverse("accounts:invitation-create")


@pytest.fixture
def admin(org):
    return MembershipFactory(organization=org, role="admin").user


def membership_of(org, user) -> Membership:
    return Membership.objects.get(organization=org, user=user)


def make_invitation(org, actor, email="invitee@example.com", role="editor"):
    return team.invitation_create(
        organization=org,
        actor_membership=membership_of(org, actor),
        email=email,
        role=role,
    )


def write_requests(org, owner, editor):
    """Every write on the Team page, aimed at `org`'s rows: (url, data)."""
    invitation, _token = make_invitation(org, owner)
    member = membership_of(org, editor)
    return [
        (reverse("accounts:member-role", args=[member.pk]), {"role": "viewer"}),
        (reverse("accounts:member-remove", args=[member.pk]), {}),
        (INVITE_URL, {"email": "someone@example.com", "role": "viewer"}),
        (reverse("accounts:invitation-resend", args=[invitation.pk]), {}),
        (reverse("accounts:invitation-revoke", args=[invitation.pk]), {}),
    ]


def snapshot(org):
    return (
        sorted(Membership.objects.filter(organization=org).values_list("user_id", "role")),
        sorted(
            Invitation.objects.filter(organization=org).values_list(
                "email", "role", "token_hash", "revoked_at"
            )
        ),
    )


# -- access ----------------------------------------------------------------------------------


def test_anonymous_is_sent_to_sign_in(client, org, owner, editor):
    for url, data in [(TEAM_URL, None), *write_requests(org, owner, editor)]:
        response = client.post(url, data) if data is not None else client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("account_login")), url


def test_outsider_gets_404_on_every_row_of_another_organization(
    login, org, owner, editor, outsider, other_org
):
    requests = write_requests(org, owner, editor)
    before = snapshot(org)
    client = login(outsider, other_org)
    for url, data in requests:
        if url == INVITE_URL:
            continue  # not row-specific: it acts on the outsider's own organization
        assert client.post(url, data).status_code == 404, url
    assert snapshot(org) == before


@pytest.mark.parametrize("role", ["viewer", "editor"])
def test_viewers_and_editors_get_403_on_every_manager_write(login, org, owner, editor, role):
    requests = write_requests(org, owner, editor)
    actor = MembershipFactory(organization=org, role=role).user
    before = snapshot(org)
    mail.outbox.clear()
    client = login(actor, org)
    for url, data in requests:
        assert client.post(url, data).status_code == 403, url
    assert client.get(INVITE_URL).status_code == 403
    assert snapshot(org) == before
    assert mail.outbox == []


def test_every_member_sees_the_team(login, org, owner, viewer):
    response = login(viewer, org).get(TEAM_URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert owner.email in page and viewer.email in page
    # No manager controls for a viewer...
    assert "Invite teammate" not in page
    assert reverse("accounts:member-role", args=[membership_of(org, owner).pk]) not in page
    # ...but they may leave.
    assert reverse("accounts:member-remove", args=[membership_of(org, viewer).pk]) in page
    assert "Leave organization" in page


def test_managers_see_the_controls(login, org, owner, admin, editor):
    make_invitation(org, owner, email="pending@example.com")
    page = login(admin, org).get(TEAM_URL).content.decode()
    assert "Invite teammate" in page and 'id="invite-modal"' in page
    assert "pending@example.com" in page
    editor_row = membership_of(org, editor)
    assert reverse("accounts:member-role", args=[editor_row.pk]) in page
    assert reverse("accounts:member-remove", args=[editor_row.pk]) in page
    # An admin cannot touch the owner, nor grant owner.
    assert reverse("accounts:member-role", args=[membership_of(org, owner).pk]) not in page
    invite_modal = page[page.index('id="invite-modal"') : page.index("</dialog>")]
    assert 'value="admin"' in invite_modal and 'value="owner"' not in invite_modal
    editor_form = page[page.index(reverse("accounts:member-role", args=[editor_row.pk])) :]
    editor_form = editor_form[: editor_form.index("</form>")]
    assert 'value="admin"' in editor_form and 'value="owner"' not in editor_form


def test_the_team_page_search_and_role_filter(login, org, owner, editor, viewer):
    client = login(owner, org)
    page = client.get(TEAM_URL, {"role": "viewer"}).content.decode()
    assert viewer.email in page and editor.email not in page
    page = client.get(TEAM_URL, {"q": editor.email}).content.decode()
    assert editor.email in page and viewer.email not in page
    # htmx asks for the results region only.
    response = client.get(
        TEAM_URL,
        {"q": viewer.email},
        headers={"HX-Request": "true", "HX-Target": "members-results"},
    )
    assert response.status_code == 200
    assert b"<html" not in response.content and viewer.email.encode() in response.content


def test_team_page_queries_do_not_grow_with_the_team(login, org, owner):
    client = login(owner, org)

    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(TEAM_URL).status_code == 200
        return len(queries)

    MembershipFactory(organization=org, role="editor")
    make_invitation(org, owner, email="first@example.com")
    small = count_queries()
    for index in range(20):
        MembershipFactory(organization=org, role="viewer")
        make_invitation(org, owner, email=f"more{index}@example.com")
    assert count_queries() == small


# -- invitations -----------------------------------------------------------------------------


def test_admin_invites_someone(login, org, admin, django_capture_on_commit_callbacks):
    client = login(admin, org)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            INVITE_URL, {"email": "New@Example.com", "role": "editor"}, follow=True
        )
    assert response.redirect_chain[-1][0] == TEAM_URL
    assert "Invitation sent to new@example.com" in response.content.decode()
    invitation = Invitation.objects.get(organization=org)
    assert invitation.email == "new@example.com" and invitation.role == "editor"
    assert AuditEntry.objects.filter(action="invitation.created", actor=admin).exists()

    [message] = mail.outbox
    assert message.to == ["new@example.com"]
    html = message.alternatives[0][0]
    assert message.alternatives[0][1] == "text/html"
    token = re.search(r"/invitations/([\w-]+)/", message.body).group(1)
    assert f"/invitations/{token}/" in html
    assert admin.display_name in message.body and org.name in html
    # The link works.
    client.logout()
    page = client.get(reverse("accounts:invitation-accept", args=[token]))
    assert page.status_code == 200 and org.name in page.content.decode()


def test_invalid_invite_shows_the_form_again(login, org, admin):
    response = login(admin, org).post(INVITE_URL, {"email": "nope", "role": "editor"})
    assert response.status_code == 400
    assert 'name="email"' in response.content.decode()
    assert not Invitation.objects.exists()


def test_cannot_invite_an_existing_member(login, org, admin, editor):
    response = login(admin, org).post(INVITE_URL, {"email": editor.email, "role": "viewer"})
    assert response.status_code == 400
    assert "already a member" in response.content.decode()
    assert not Invitation.objects.exists() and mail.outbox == []


def test_admin_cannot_grant_owner(login, org, owner, admin):
    response = login(admin, org).post(INVITE_URL, {"email": "boss@example.com", "role": "owner"})
    assert response.status_code == 400
    assert not Invitation.objects.exists()


def test_the_invite_form_page_without_javascript(login, org, admin):
    response = login(admin, org).get(INVITE_URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="email"' in page and 'value="admin"' in page and 'value="owner"' not in page


def test_resend_kills_the_old_link(login, client, org, admin, django_capture_on_commit_callbacks):
    invitation, old_token = make_invitation(org, admin)
    Invitation.objects.filter(pk=invitation.pk).update(
        last_sent_at=timezone.now() - timedelta(minutes=5)
    )
    mail.outbox.clear()
    signed_in = login(admin, org)
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(
            reverse("accounts:invitation-resend", args=[invitation.pk]), follow=True
        )
    assert "Invitation sent again" in response.content.decode()
    [message] = mail.outbox
    new_token = re.search(r"/invitations/([\w-]+)/", message.body).group(1)
    assert new_token != old_token
    client.logout()
    assert client.get(reverse("accounts:invitation-accept", args=[old_token])).status_code == 404
    assert client.get(reverse("accounts:invitation-accept", args=[new_token])).status_code == 200


def test_revoke_kills_the_link(login, client, org, admin):
    invitation, token = make_invitation(org, admin)
    response = login(admin, org).post(
        reverse("accounts:invitation-revoke", args=[invitation.pk]), follow=True
    )
    assert "revoked" in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert AuditEntry.objects.filter(action="invitation.revoked").exists()
    client.logout()
    assert client.get(reverse("accounts:invitation-accept", args=[token])).status_code == 410


# -- members ---------------------------------------------------------------------------------


def test_role_change_works_and_is_audited(login, org, owner, editor):
    target = membership_of(org, editor)
    response = login(owner, org).post(
        reverse("accounts:member-role", args=[target.pk]), {"role": "admin"}, follow=True
    )
    assert "is now admin" in response.content.decode()
    target.refresh_from_db()
    assert target.role == "admin"
    entry = AuditEntry.objects.get(action="member.role_changed")
    assert entry.metadata["from"] == "editor" and entry.metadata["to"] == "admin"


def test_admin_cannot_make_an_owner_through_the_page(login, org, owner, admin, editor):
    target = membership_of(org, editor)
    response = login(admin, org).post(
        reverse("accounts:member-role", args=[target.pk]), {"role": "owner"}, follow=True
    )
    assert "Choose a valid role" in response.content.decode()
    target.refresh_from_db()
    assert target.role == "editor"


def test_last_owner_cannot_be_demoted_through_the_page(login, org, owner):
    own = membership_of(org, owner)
    response = login(owner, org).post(
        reverse("accounts:member-role", args=[own.pk]), {"role": "viewer"}, follow=True
    )
    assert "only owner" in response.content.decode()
    own.refresh_from_db()
    assert own.role == "owner"


def test_removal_works_and_is_audited(login, org, owner, editor):
    target = membership_of(org, editor)
    response = login(owner, org).post(
        reverse("accounts:member-remove", args=[target.pk]), follow=True
    )
    assert "was removed from the team" in response.content.decode()
    assert not Membership.objects.filter(pk=target.pk).exists()
    assert AuditEntry.objects.filter(action="member.removed", target_id=str(target.pk)).exists()


def test_last_owner_cannot_be_removed_or_leave(login, org, owner, admin):
    own = membership_of(org, owner)
    client = login(owner, org)
    response = client.post(reverse("accounts:member-remove", args=[own.pk]), follow=True)
    assert "only owner" in response.content.decode()
    assert Membership.objects.filter(pk=own.pk).exists()
    # An admin cannot remove the owner either.
    response = login(admin, org).post(reverse("accounts:member-remove", args=[own.pk]))
    assert Membership.objects.filter(pk=own.pk).exists()


def test_a_viewer_leaves_the_organization(login, org, owner, viewer):
    own = membership_of(org, viewer)
    response = login(viewer, org).post(reverse("accounts:member-remove", args=[own.pk]))
    assert response.status_code == 302 and response.url == reverse("web:dashboard")
    assert not Membership.objects.filter(pk=own.pk).exists()
    assert AuditEntry.objects.filter(action="member.left", actor=viewer).exists()
