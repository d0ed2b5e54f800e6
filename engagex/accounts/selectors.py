"""Reads for accounts pages. Tenant reads take `organization` as a required keyword."""

from __future__ import annotations

from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When

from engagex.accounts.models import ApiKey, Invitation, Membership, Organization
from engagex.accounts.roles import RANK
from engagex.lib.tokens import token_digest

# Cap for the pending invitations list: it is never paginated (open invitations are few).
MAX_PENDING_INVITATIONS = 200


def members_list(
    *, organization: Organization, search: str = "", role: str = ""
) -> QuerySet[Membership]:
    """The organization's memberships with their users, annotated with `role_rank`
    (owner highest) so tables can sort by role meaningfully."""
    members = (
        Membership.objects.filter(organization=organization)
        .select_related("user")
        .annotate(
            role_rank=Case(
                *[When(role=name, then=Value(rank)) for name, rank in RANK.items()],
                output_field=IntegerField(),
            )
        )
    )
    if role:
        members = members.filter(role=role)
    if search:
        members = members.filter(
            Q(user__full_name__icontains=search) | Q(user__email__icontains=search)
        )
    return members


def member_counts(*, organization: Organization) -> dict[str, int]:
    """{"members": n, "managers": admins + owners, "owners": n} in one query."""
    return Membership.objects.filter(organization=organization).aggregate(
        members=Count("pk"),
        managers=Count("pk", filter=Q(role__in=["owner", "admin"])),
        owners=Count("pk", filter=Q(role="owner")),
    )


def invitations_list(*, organization: Organization) -> QuerySet[Invitation]:
    """Open invitations (not accepted, not revoked; expired ones included), newest first."""
    return (
        Invitation.objects.filter(
            organization=organization, accepted_at__isnull=True, revoked_at__isnull=True
        )
        .select_related("invited_by")
        .order_by("-created_at")
    )


def invitation_by_token(token: str) -> Invitation | None:
    """The invitation a link points at, in any state; None for an unknown token.

    Not tenant-scoped: the token itself names the organization (like an API key).
    """
    if not token or len(token) > 200:
        return None
    return (
        Invitation.objects.select_related("organization", "invited_by")
        .filter(token_hash=token_digest(token))
        .first()
    )


def api_key_list(
    *, organization: Organization, search: str = "", status: str = ""
) -> QuerySet[ApiKey]:
    """The organization's keys for the settings page; `status` is "", "active" or "revoked"."""
    keys = ApiKey.objects.filter(organization=organization).select_related("created_by")
    if search:
        keys = keys.filter(Q(name__icontains=search) | Q(prefix__icontains=search))
    if status == "active":
        keys = keys.filter(revoked_at__isnull=True)
    elif status == "revoked":
        keys = keys.filter(revoked_at__isnull=False)
    return keys
