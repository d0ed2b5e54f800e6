"""The team: members' roles, leaving and removal, and email invitations with their accept flow.

Rules (PRODUCT.md §A, roles.py):
- Admins and owners manage the team; only owners make or touch owners.
- An organization always keeps at least one owner: the last owner can be neither demoted
  nor removed, and cannot leave.
- Anyone may leave an organization (remove their own membership), except its last owner.
- Invitation links carry a random token; only its SHA-256 is stored, so a database leak
  does not hand out working links. Resending issues a new token: the old link dies.
- Accepting needs a signed-in user whose email address is the invited one
  (case-insensitive; the user's primary address or any verified address of theirs).
  Someone else holding the link is refused with a message naming the right account,
  masked ("j***@example.com"), and nothing changes.
- Accepting when already a member marks the invitation used and keeps the current role:
  roles change on the Team page, never silently through an old link.

Audit metadata holds ids and roles only, never addresses.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from engagex import audit
from engagex.accounts.models import Invitation, Membership, Organization, User
from engagex.accounts.roles import roles_assignable_by
from engagex.lib.tokens import token_digest
from engagex.web.emails import absolute_url, send_email

Role = Membership.Role


class TeamError(Exception):
    """A team change that the rules refuse; `message` is safe to show to the user."""

    def __init__(self, message: str, *, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.code = code


class InvitationError(TeamError):
    """An invitation link that cannot be used. `code`: invalid, expired, revoked, used,
    email_mismatch. `invitation` is set when the token matched one."""

    def __init__(self, message: str, *, code: str, invitation: Invitation | None = None):
        super().__init__(message, code=code)
        self.invitation = invitation


# -- helpers ---------------------------------------------------------------------------------


def new_token() -> tuple[str, str]:
    """(token for the link, hash to store)."""
    token = secrets.token_urlsafe(32)
    return token, token_digest(token)


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def mask_email(email: str) -> str:
    """'jane@example.com' → 'j***@example.com': enough to recognise, not to harvest."""
    local, _at, domain = (email or "").partition("@")
    if not domain:
        return "***"
    return f"{local[:1]}***@{domain}"


def role_label(role: str) -> str:
    return str(Role(role).label)


def _check_same_organization(organization: Organization, *memberships_or_invitations) -> None:
    # Where two objects meet, they must belong to the same tenant (DESIGN.md §4).
    for item in memberships_or_invitations:
        if item.organization_id != organization.pk:
            raise ValueError("Object belongs to another organization")


def _require_manager(actor_membership: Membership) -> None:
    if not actor_membership.can_manage:
        raise TeamError(_("Only admins and owners can manage the team."), code="forbidden")


def _lock_owners(organization: Organization) -> int:
    """Lock the organization's owner rows and count them, so two concurrent demotions or
    removals cannot both pass the "not the last owner" check."""
    owners = Membership.objects.select_for_update().filter(
        organization=organization, role=Role.OWNER
    )
    return len(list(owners.values_list("pk", flat=True)))


def _refetch_for_update(membership: Membership) -> Membership:
    return Membership.objects.select_for_update().select_related("user").get(pk=membership.pk)


# -- members ---------------------------------------------------------------------------------


@transaction.atomic
def member_change_role(
    *,
    organization: Organization,
    actor_membership: Membership,
    membership: Membership,
    role: str,
) -> Membership:
    _check_same_organization(organization, actor_membership, membership)
    _require_manager(actor_membership)
    if role not in Role.values:
        raise TeamError(_("Choose a valid role."))
    owner_count = _lock_owners(organization)
    membership = _refetch_for_update(membership)
    if membership.role == role:
        return membership
    if not actor_membership.is_owner and (
        membership.role == Role.OWNER or role not in roles_assignable_by(actor_membership.role)
    ):
        raise TeamError(_("Only an owner can make someone an owner or change an owner's role."))
    if membership.role == Role.OWNER and owner_count <= 1:
        raise TeamError(
            _("%(name)s is the only owner. Make someone else an owner first.")
            % {"name": membership.user.display_name},
            code="last_owner",
        )
    previous = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit.record(
        organization,
        actor_membership.user,
        "member.role_changed",
        "membership",
        membership.pk,
        {"user_id": str(membership.user_id), "from": previous, "to": role},
    )
    return membership


@transaction.atomic
def member_remove(
    *, organization: Organization, actor_membership: Membership, membership: Membership
) -> None:
    """Remove a member, or leave the organization when `membership` is the actor's own."""
    _check_same_organization(organization, actor_membership, membership)
    leaving = membership.pk == actor_membership.pk
    if not leaving:
        _require_manager(actor_membership)
    owner_count = _lock_owners(organization)
    membership = _refetch_for_update(membership)
    if membership.role == Role.OWNER:
        if not leaving and not actor_membership.is_owner:
            raise TeamError(_("Only an owner can remove another owner."))
        if owner_count <= 1:
            if leaving:
                message = _("You are the only owner. Make someone else an owner before you leave.")
            else:
                message = _("%(name)s is the only owner and cannot be removed.") % {
                    "name": membership.user.display_name
                }
            raise TeamError(message, code="last_owner")
    audit.record(
        organization,
        actor_membership.user,
        "member.left" if leaving else "member.removed",
        "membership",
        membership.pk,
        {"user_id": str(membership.user_id), "role": membership.role},
    )
    membership.delete()


# -- invitations -----------------------------------------------------------------------------


def _check_can_invite(actor_membership: Membership, role: str) -> None:
    _require_manager(actor_membership)
    if role not in Role.values:
        raise TeamError(_("Choose a valid role."))
    if role not in roles_assignable_by(actor_membership.role):
        raise TeamError(_("Only an owner can invite another owner."))


# Invitation emails go to addresses the inviter typed: cap them so a compromised or
# careless account cannot use us to spam. Per organization per hour, and per invitation.
INVITATIONS_PER_HOUR = 30
RESEND_INTERVAL = timedelta(minutes=1)


def _check_send_budget(organization: Organization, invitation: Invitation | None = None) -> None:
    now = timezone.now()
    if invitation is not None and invitation.pk and now - invitation.last_sent_at < RESEND_INTERVAL:
        raise TeamError(
            _("That invitation was sent less than a minute ago. Give it a moment to arrive."),
            code="rate_limited",
        )
    sent_recently = Invitation.objects.filter(
        organization=organization, last_sent_at__gte=now - timedelta(hours=1)
    ).count()
    if sent_recently >= INVITATIONS_PER_HOUR:
        raise TeamError(
            _("You have sent %(count)s invitations in the last hour. Try again later.")
            % {"count": sent_recently},
            code="rate_limited",
        )


def _send_invitation_email(invitation: Invitation, token: str, inviter: User) -> None:
    organization = invitation.organization
    context = {
        "organization": organization,
        "inviter_name": inviter.display_name,
        "role": invitation.role,
        "role_label": role_label(invitation.role),
        "accept_url": absolute_url(reverse("accounts:invitation-accept", args=[token])),
        "expires_at": invitation.expires_at,
        "expiry_days": settings.INVITATION_EXPIRY_DAYS,
        "preheader": _("%(name)s invited you to join %(org)s on EngageX.")
        % {"name": inviter.display_name, "org": organization.name},
    }
    subject = _("%(name)s invited you to join %(org)s on EngageX") % {
        "name": inviter.display_name,
        "org": organization.name,
    }
    # Names are user input: a line break would make the header invalid.
    send_email(
        to=invitation.email, subject=" ".join(subject.split()), name="invitation", context=context
    )


def _issue(invitation: Invitation) -> str:
    """Give the invitation a fresh token and expiry; returns the token for the link."""
    token, token_hash = new_token()
    now = timezone.now()
    invitation.token_hash = token_hash
    invitation.expires_at = now + timedelta(days=settings.INVITATION_EXPIRY_DAYS)
    invitation.last_sent_at = now
    return token


def _open_invitation_for_update(organization: Organization, email: str) -> Invitation | None:
    return (
        Invitation.objects.select_for_update()
        .filter(
            organization=organization,
            email__iexact=email,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
        )
        .first()
    )


@transaction.atomic
def invitation_create(
    *, organization: Organization, actor_membership: Membership, email: str, role: str
) -> tuple[Invitation, str]:
    """Invite `email` with `role` and send the email; returns (invitation, token).

    An open invitation for the same address is refreshed (new token, expiry, role and
    inviter) rather than duplicated: the old link stops working.
    """
    _check_same_organization(organization, actor_membership)
    _check_can_invite(actor_membership, role)
    email = normalize_email(email)
    try:
        validate_email(email)
    except ValidationError:
        raise TeamError(_("Enter a valid email address."), code="invalid_email") from None
    if Membership.objects.filter(organization=organization, user__email__iexact=email).exists():
        raise TeamError(
            _("%(email)s is already a member of %(org)s.")
            % {"email": email, "org": organization.name},
            code="already_member",
        )
    inviter = actor_membership.user
    invitation = _open_invitation_for_update(organization, email)
    _check_send_budget(organization, invitation)
    refreshed = invitation is not None
    if invitation is None:
        invitation = Invitation(organization=organization, email=email)
    invitation.role = role
    invitation.invited_by = inviter
    token = _issue(invitation)
    try:
        with transaction.atomic():  # savepoint: a concurrent invite may win the race
            invitation.save()
    except IntegrityError:
        invitation = _open_invitation_for_update(organization, email)
        if invitation is None:
            raise
        refreshed = True
        invitation.role = role
        invitation.invited_by = inviter
        token = _issue(invitation)
        invitation.save()
    audit.record(
        organization,
        inviter,
        "invitation.created",
        "invitation",
        invitation.pk,
        {"role": role, "refreshed": refreshed},
    )
    _send_invitation_email(invitation, token, inviter)
    return invitation, token


def _lock_invitation(invitation: Invitation) -> Invitation:
    return Invitation.objects.select_for_update().get(pk=invitation.pk)


@transaction.atomic
def invitation_resend(
    *, organization: Organization, actor_membership: Membership, invitation: Invitation
) -> tuple[Invitation, str]:
    """A new link (the old one stops working), a new expiry, and the email again."""
    _check_same_organization(organization, actor_membership, invitation)
    invitation = _lock_invitation(invitation)
    _check_can_invite(actor_membership, invitation.role)
    if not invitation.is_open:
        raise TeamError(_("This invitation was already used or revoked."), code="closed")
    _check_send_budget(organization, invitation)
    token = _issue(invitation)
    invitation.invited_by = actor_membership.user
    invitation.save(update_fields=["token_hash", "expires_at", "last_sent_at", "invited_by"])
    audit.record(
        organization,
        actor_membership.user,
        "invitation.resent",
        "invitation",
        invitation.pk,
        {"role": invitation.role},
    )
    _send_invitation_email(invitation, token, actor_membership.user)
    return invitation, token


@transaction.atomic
def invitation_revoke(
    *, organization: Organization, actor_membership: Membership, invitation: Invitation
) -> Invitation:
    _check_same_organization(organization, actor_membership, invitation)
    _require_manager(actor_membership)
    invitation = _lock_invitation(invitation)
    if not invitation.is_open:
        raise TeamError(_("This invitation was already used or revoked."), code="closed")
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit.record(
        organization,
        actor_membership.user,
        "invitation.revoked",
        "invitation",
        invitation.pk,
        {"role": invitation.role},
    )
    return invitation


def invitation_check(invitation: Invitation | None) -> Invitation:
    """Raise InvitationError unless the invitation can still be accepted."""
    if invitation is None:
        raise InvitationError(
            _("This invitation link is not valid. Check that you copied the whole link."),
            code="invalid",
        )
    org = invitation.organization.name
    if invitation.accepted_at:
        raise InvitationError(
            _("This invitation to %(org)s has already been used.") % {"org": org},
            code="used",
            invitation=invitation,
        )
    if invitation.revoked_at:
        raise InvitationError(
            _("This invitation to %(org)s was withdrawn.") % {"org": org},
            code="revoked",
            invitation=invitation,
        )
    if invitation.is_expired:
        raise InvitationError(
            _("This invitation to %(org)s has expired.") % {"org": org},
            code="expired",
            invitation=invitation,
        )
    return invitation


def email_matches(invitation: Invitation, user: User) -> bool:
    """The invited address is the user's own: their login address or a verified one."""
    from allauth.account.models import EmailAddress

    invited = normalize_email(invitation.email)
    if normalize_email(user.email) == invited:
        return True
    return EmailAddress.objects.filter(user=user, email__iexact=invited, verified=True).exists()


def email_mismatch_error(invitation: Invitation) -> InvitationError:
    return InvitationError(
        _(
            "This invitation was sent to %(email)s. Sign in with that address to accept it, "
            "or ask %(org)s to invite the address you use."
        )
        % {"email": mask_email(invitation.email), "org": invitation.organization.name},
        code="email_mismatch",
        invitation=invitation,
    )


@transaction.atomic
def invitation_accept(*, token: str, user: User) -> Membership:
    """Join the invitation's organization with its role; returns the user's membership.

    Raises InvitationError (and changes nothing) for unknown, expired, revoked or used
    links, and when the user's address is not the invited one.
    """
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("organization")
        .filter(token_hash=token_digest(token or ""))
        .first()
    )
    invitation_check(invitation)
    if not email_matches(invitation, user):
        raise email_mismatch_error(invitation)
    organization = invitation.organization
    membership, created = Membership.objects.get_or_create(
        organization=organization, user=user, defaults={"role": invitation.role}
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    audit.record(
        organization,
        user,
        "invitation.accepted",
        "invitation",
        invitation.pk,
        {
            "role": membership.role,
            "invited_role": invitation.role,
            "membership_id": str(membership.pk),
            "already_member": not created,
        },
    )
    return membership
