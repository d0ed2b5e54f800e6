"""The team rules (services/team.py): roles, removal, invitations, accepting."""

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.utils import timezone

from engagex.accounts.models import Invitation, Membership
from engagex.accounts.services import team
from engagex.accounts.services.team import InvitationError, TeamError
from engagex.accounts.tests.factories import MembershipFactory, UserFactory
from engagex.audit.models import AuditEntry
from engagex.lib.tokens import token_digest

pytestmark = pytest.mark.django_db(transaction=False)


def membership(org, user) -> Membership:
    return Membership.objects.select_related("user").get(organization=org, user=user)


@pytest.fixture
def admin(org):
    return MembershipFactory(organization=org, role="admin").user


def invite(org, actor, email="new.person@example.com", role="editor"):
    return team.invitation_create(
        organization=org, actor_membership=membership(org, actor), email=email, role=role
    )


# -- roles -----------------------------------------------------------------------------------


def test_owner_changes_a_role_and_it_is_audited(org, owner, editor):
    team.member_change_role(
        organization=org,
        actor_membership=membership(org, owner),
        membership=membership(org, editor),
        role="admin",
    )
    assert membership(org, editor).role == "admin"
    entry = AuditEntry.objects.get(action="member.role_changed")
    assert entry.organization == org and entry.actor == owner
    assert entry.metadata["from"] == "editor" and entry.metadata["to"] == "admin"
    assert entry.target_id == str(membership(org, editor).pk)


def test_admin_cannot_make_an_owner(org, owner, admin, editor):
    with pytest.raises(TeamError):
        team.member_change_role(
            organization=org,
            actor_membership=membership(org, admin),
            membership=membership(org, editor),
            role="owner",
        )
    assert membership(org, editor).role == "editor"
    assert not AuditEntry.objects.filter(action="member.role_changed").exists()


def test_admin_cannot_change_an_owners_role(org, owner, admin):
    with pytest.raises(TeamError):
        team.member_change_role(
            organization=org,
            actor_membership=membership(org, admin),
            membership=membership(org, owner),
            role="viewer",
        )
    assert membership(org, owner).role == "owner"


def test_admin_can_manage_editors_and_viewers(org, owner, admin, viewer):
    team.member_change_role(
        organization=org,
        actor_membership=membership(org, admin),
        membership=membership(org, viewer),
        role="editor",
    )
    assert membership(org, viewer).role == "editor"


def test_editor_cannot_change_roles(org, owner, editor, viewer):
    with pytest.raises(TeamError):
        team.member_change_role(
            organization=org,
            actor_membership=membership(org, editor),
            membership=membership(org, viewer),
            role="editor",
        )
    assert membership(org, viewer).role == "viewer"


def test_last_owner_cannot_be_demoted(org, owner):
    with pytest.raises(TeamError) as raised:
        team.member_change_role(
            organization=org,
            actor_membership=membership(org, owner),
            membership=membership(org, owner),
            role="admin",
        )
    assert raised.value.code == "last_owner"
    assert membership(org, owner).role == "owner"


def test_an_owner_can_step_down_when_another_owner_remains(org, owner):
    second = MembershipFactory(organization=org, role="owner").user
    team.member_change_role(
        organization=org,
        actor_membership=membership(org, owner),
        membership=membership(org, owner),
        role="admin",
    )
    assert membership(org, owner).role == "admin"
    assert membership(org, second).role == "owner"


def test_unknown_role_is_refused(org, owner, editor):
    with pytest.raises(TeamError):
        team.member_change_role(
            organization=org,
            actor_membership=membership(org, owner),
            membership=membership(org, editor),
            role="superuser",
        )


def test_memberships_of_another_organization_are_refused(org, owner, outsider, other_org):
    with pytest.raises(ValueError):
        team.member_change_role(
            organization=org,
            actor_membership=membership(org, owner),
            membership=membership(other_org, outsider),
            role="viewer",
        )
    assert membership(other_org, outsider).role == "owner"


# -- removal ---------------------------------------------------------------------------------


def test_owner_removes_a_member_and_it_is_audited(org, owner, editor):
    target = membership(org, editor)
    team.member_remove(organization=org, actor_membership=membership(org, owner), membership=target)
    assert not Membership.objects.filter(pk=target.pk).exists()
    entry = AuditEntry.objects.get(action="member.removed")
    assert entry.target_id == str(target.pk) and entry.metadata["role"] == "editor"
    assert "@" not in str(entry.metadata)


def test_admin_cannot_remove_an_owner(org, owner, admin):
    MembershipFactory(organization=org, role="owner")  # not the last owner either
    with pytest.raises(TeamError):
        team.member_remove(
            organization=org,
            actor_membership=membership(org, admin),
            membership=membership(org, owner),
        )
    assert Membership.objects.filter(organization=org, user=owner).exists()


def test_last_owner_cannot_be_removed_or_leave(org, owner):
    with pytest.raises(TeamError) as raised:
        team.member_remove(
            organization=org,
            actor_membership=membership(org, owner),
            membership=membership(org, owner),
        )
    assert raised.value.code == "last_owner"
    assert Membership.objects.filter(organization=org, user=owner).exists()


def test_owner_can_remove_another_owner(org, owner):
    second = MembershipFactory(organization=org, role="owner")
    team.member_remove(organization=org, actor_membership=membership(org, owner), membership=second)
    assert not Membership.objects.filter(pk=second.pk).exists()


def test_anyone_may_leave(org, owner, viewer):
    own = membership(org, viewer)
    team.member_remove(organization=org, actor_membership=own, membership=own)
    assert not Membership.objects.filter(pk=own.pk).exists()
    assert AuditEntry.objects.filter(action="member.left", actor=viewer).exists()


def test_editor_cannot_remove_others(org, owner, editor, viewer):
    with pytest.raises(TeamError):
        team.member_remove(
            organization=org,
            actor_membership=membership(org, editor),
            membership=membership(org, viewer),
        )
    assert Membership.objects.filter(organization=org, user=viewer).exists()


# -- invitations -----------------------------------------------------------------------------


def test_invitation_create_stores_a_hash_sends_email_and_audits(org, admin):
    invitation, token = invite(org, admin, email="  New.Person@Example.COM ")
    assert invitation.email == "new.person@example.com"
    assert invitation.token_hash == token_digest(token) and token not in invitation.token_hash
    assert invitation.invited_by == admin and invitation.role == "editor"
    days = (invitation.expires_at - timezone.now()).days
    assert days in (6, 7)
    entry = AuditEntry.objects.get(action="invitation.created")
    assert entry.target_id == str(invitation.pk)
    assert entry.metadata == {"role": "editor", "refreshed": False}
    assert "example.com" not in str(entry.metadata)


def test_invitation_email_is_sent_on_commit(org, admin, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _invitation, token = invite(org, admin)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new.person@example.com"]
    assert org.name in message.subject
    assert f"/invitations/{token}/" in message.body
    html = message.alternatives[0][0]
    assert f"/invitations/{token}/" in html and org.name in html and "editor" in html


def test_inviting_an_existing_member_is_refused(org, admin, editor):
    with pytest.raises(TeamError) as raised:
        invite(org, admin, email=editor.email.upper())
    assert raised.value.code == "already_member"
    assert not Invitation.objects.exists()


def test_invalid_address_is_refused(org, admin):
    with pytest.raises(TeamError):
        invite(org, admin, email="not-an-address")
    assert not Invitation.objects.exists()


def test_admin_cannot_invite_an_owner_but_an_owner_can(org, owner, admin):
    with pytest.raises(TeamError):
        invite(org, admin, role="owner")
    assert not Invitation.objects.exists()
    invitation, _token = invite(org, owner, role="owner")
    assert invitation.role == "owner"


def test_editor_cannot_invite(org, owner, editor):
    with pytest.raises(TeamError):
        invite(org, editor, role="viewer")
    assert not Invitation.objects.exists()


def test_inviting_the_same_address_again_refreshes_the_open_invitation(org, admin):
    first, old_token = invite(org, admin, email="a@example.com", role="viewer")
    sent_a_while_ago(first)
    second, new_token = invite(org, admin, email="A@example.com", role="editor")
    assert second.pk == first.pk
    assert Invitation.objects.count() == 1
    second.refresh_from_db()
    assert second.role == "editor"
    assert second.token_hash == token_digest(new_token) != token_digest(old_token)
    assert AuditEntry.objects.filter(action="invitation.created").count() == 2


def test_invitations_of_other_organizations_do_not_collide(org, admin, other_org, outsider):
    invite(org, admin, email="shared@example.com")
    invite(other_org, outsider, email="shared@example.com")
    assert Invitation.objects.filter(email="shared@example.com").count() == 2


def sent_a_while_ago(invitation):
    Invitation.objects.filter(pk=invitation.pk).update(
        last_sent_at=timezone.now() - timedelta(minutes=5)
    )


def test_resending_right_away_is_refused(org, admin):
    invitation, token = invite(org, admin)
    with pytest.raises(TeamError, match="less than a minute ago"):
        team.invitation_resend(
            organization=org, actor_membership=membership(org, admin), invitation=invitation
        )
    with pytest.raises(TeamError, match="less than a minute ago"):
        invite(org, admin, email=invitation.email)
    assert Invitation.objects.get(pk=invitation.pk).token_hash == token_digest(token)


def test_an_organization_may_send_30_invitations_an_hour(org, admin):
    for number in range(team.INVITATIONS_PER_HOUR):
        invite(org, admin, email=f"person{number}@example.com")
    with pytest.raises(TeamError, match="30 invitations in the last hour"):
        invite(org, admin, email="one-too-many@example.com")
    assert not Invitation.objects.filter(email="one-too-many@example.com").exists()
    Invitation.objects.update(last_sent_at=timezone.now() - timedelta(hours=2))
    invite(org, admin, email="one-too-many@example.com")


def test_resend_issues_a_new_token_and_extends_expiry(org, admin):
    invitation, old_token = invite(org, admin)
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(days=1),
        last_sent_at=timezone.now() - timedelta(days=8),
    )
    invitation.refresh_from_db()
    invitation, new_token = team.invitation_resend(
        organization=org, actor_membership=membership(org, admin), invitation=invitation
    )
    assert new_token != old_token
    assert not invitation.is_expired
    assert Invitation.objects.get(pk=invitation.pk).token_hash == token_digest(new_token)
    assert AuditEntry.objects.filter(action="invitation.resent").exists()


def test_admin_cannot_resend_an_owner_invitation(org, owner, admin):
    invitation, token = invite(org, owner, role="owner")
    with pytest.raises(TeamError):
        team.invitation_resend(
            organization=org, actor_membership=membership(org, admin), invitation=invitation
        )
    assert Invitation.objects.get(pk=invitation.pk).token_hash == token_digest(token)


def test_revoke_closes_the_invitation(org, admin):
    invitation, _token = invite(org, admin)
    team.invitation_revoke(
        organization=org, actor_membership=membership(org, admin), invitation=invitation
    )
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None and invitation.state == "revoked"
    assert AuditEntry.objects.filter(action="invitation.revoked").exists()
    with pytest.raises(TeamError):
        team.invitation_revoke(
            organization=org, actor_membership=membership(org, admin), invitation=invitation
        )
    # A closed invitation frees the address for a new one.
    new, _token = invite(org, admin)
    assert new.pk != invitation.pk


# -- accepting -------------------------------------------------------------------------------


def test_accept_creates_the_membership_with_the_invited_role(org, admin):
    _invitation, token = invite(org, admin, email="Joiner@Example.com", role="viewer")
    joiner = UserFactory(email="joiner@example.com")
    created = team.invitation_accept(token=token, user=joiner)
    assert created.organization == org and created.user == joiner and created.role == "viewer"
    invitation = Invitation.objects.get()
    assert invitation.accepted_by == joiner and invitation.state == "accepted"
    entry = AuditEntry.objects.get(action="invitation.accepted")
    assert entry.actor == joiner and entry.metadata["role"] == "viewer"


@pytest.mark.parametrize("state", ["expired", "revoked", "used", "garbage"])
def test_dead_links_raise_and_change_nothing(org, admin, state):
    invitation, token = invite(org, admin, email="joiner@example.com")
    joiner = UserFactory(email="joiner@example.com")
    if state == "expired":
        Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    elif state == "revoked":
        Invitation.objects.filter(pk=invitation.pk).update(revoked_at=timezone.now())
    elif state == "used":
        Invitation.objects.filter(pk=invitation.pk).update(
            accepted_at=timezone.now(), accepted_by=admin
        )
    else:
        token = "x" * 43
    with pytest.raises(InvitationError) as raised:
        team.invitation_accept(token=token, user=joiner)
    assert raised.value.code == ("invalid" if state == "garbage" else state)
    assert raised.value.message
    assert not Membership.objects.filter(user=joiner).exists()
    assert not AuditEntry.objects.filter(action="invitation.accepted").exists()


def test_accepting_with_another_address_is_refused_with_a_masked_hint(org, admin):
    invitation, token = invite(org, admin, email="jane@example.com")
    stranger = UserFactory(email="mallory@example.com")
    with pytest.raises(InvitationError) as raised:
        team.invitation_accept(token=token, user=stranger)
    assert raised.value.code == "email_mismatch"
    assert "j***@example.com" in raised.value.message
    assert "jane@" not in raised.value.message
    assert not Membership.objects.filter(user=stranger).exists()
    invitation.refresh_from_db()
    assert invitation.is_open


def test_a_verified_secondary_address_may_accept(org, admin):
    _invitation, token = invite(org, admin, email="work@example.com")
    user = UserFactory(email="home@example.com")
    EmailAddress.objects.create(user=user, email="work@example.com", verified=True)
    assert team.invitation_accept(token=token, user=user).organization == org


def test_an_unverified_secondary_address_may_not(org, admin):
    _invitation, token = invite(org, admin, email="work@example.com")
    user = UserFactory(email="home@example.com")
    EmailAddress.objects.create(user=user, email="work@example.com", verified=False)
    with pytest.raises(InvitationError):
        team.invitation_accept(token=token, user=user)


def test_accepting_when_already_a_member_keeps_the_role(org, owner, admin):
    invitation, token = invite(org, admin, email="later@example.com", role="viewer")
    user = UserFactory(email="later@example.com")
    MembershipFactory(organization=org, user=user, role="admin")
    result = team.invitation_accept(token=token, user=user)
    assert result.role == "admin"
    assert Membership.objects.filter(organization=org, user=user).count() == 1
    invitation.refresh_from_db()
    assert invitation.state == "accepted"


def test_a_token_works_once(org, admin):
    _invitation, token = invite(org, admin, email="once@example.com")
    user = UserFactory(email="once@example.com")
    team.invitation_accept(token=token, user=user)
    with pytest.raises(InvitationError) as raised:
        team.invitation_accept(token=token, user=user)
    assert raised.value.code == "used"


def test_mask_email():
    assert team.mask_email("jane.doe@example.com") == "j***@example.com"
    assert team.mask_email("nonsense") == "***"
