"""The Team page (members, roles, invitations) and the invitation accept flow.

Everyone in the organization sees the team; admins and owners manage it. Any member may
leave (remove their own membership) unless they are the last owner. Every write answers
with a redirect and a toast, so the page works as plain full page loads.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from engagex.accounts import selectors
from engagex.accounts.forms_team import InvitationForm, MemberRoleForm, role_choices
from engagex.accounts.invitations_session import (
    PENDING_INVITATION_SESSION_KEY,
    forget_pending_invitation,
    remember_pending_invitation,
)
from engagex.accounts.models import Invitation, Membership
from engagex.accounts.roles import roles_assignable_by
from engagex.accounts.services import team as team_services
from engagex.accounts.services.team import InvitationError, TeamError, mask_email, role_label
from engagex.accounts.tenancy import (
    ACTIVE_ORGANIZATION_SESSION_KEY,
    get_for_org,
    organization_required,
)
from engagex.web.tables import Column, Filter, render_table, table_state

Role = Membership.Role

COLUMNS = [
    Column("name", gettext_lazy("Name"), sortable=True, order_field="user__full_name"),
    Column("email", gettext_lazy("Email"), sortable=True, order_field="user__email"),
    Column("role", gettext_lazy("Role"), sortable=True, order_field="role_rank"),
    Column("joined", gettext_lazy("Joined"), sortable=True, order_field="created_at"),
    Column("actions", gettext_lazy("Actions")),
]
FILTERS = [Filter("role", gettext_lazy("Role"), [("", gettext_lazy("All roles")), *Role.choices])]
ROLE_TONES = {"owner": "accent-2", "admin": "accent", "editor": "success", "viewer": "neutral"}


def _decorate_members(rows: list[Membership], actor: Membership, owner_count: int) -> None:
    """Per-row flags the template needs; the rules themselves live in the services."""
    for row in rows:
        row.is_me = row.pk == actor.pk
        row.role_tone = ROLE_TONES.get(row.role, "neutral")
        row.is_last_owner = row.role == Role.OWNER and owner_count <= 1
        touchable = actor.can_manage and (actor.is_owner or row.role != Role.OWNER)
        row.can_change_role = touchable and not row.is_last_owner
        row.can_remove = touchable and not row.is_me and not row.is_last_owner
        row.can_leave = row.is_me and not row.is_last_owner


def _decorate_invitations(rows: list[Invitation], actor: Membership) -> None:
    assignable = roles_assignable_by(actor.role)
    for row in rows:
        row.role_tone = ROLE_TONES.get(row.role, "neutral")
        row.can_resend = actor.can_manage and row.role in assignable
        row.can_revoke = actor.can_manage


@require_GET
@organization_required()
def members(request):
    organization = request.membership.organization
    actor = request.membership
    state = table_state(
        request,
        table_id="members",
        columns=COLUMNS,
        filters=FILTERS,
        default_sort="-role",
        search_placeholder=_("Search name or email"),
    )
    rows = selectors.members_list(
        organization=organization, search=state.search, role=state.filter_values["role"]
    ).order_by(*state.ordering, "user__email")
    page = state.paginate(rows)
    page.object_list = list(page.object_list)
    counts = selectors.member_counts(organization=organization)
    _decorate_members(page.object_list, actor, counts["owners"])
    context = {
        "table": state,
        "page": page,
        "row_template": "accounts/_member_row.html",
        "empty_title": _("No members yet"),
        "empty_text": _("Invite your teammates to work on campaigns together."),
        "empty_icon": "user-group",
        "counts": counts,
        "role_choices": role_choices(actor.role),
        "can_manage": actor.can_manage,
    }
    if request.htmx and request.htmx.target == state.results_id:
        return render_table(request, "accounts/team.html", context, state=state)
    invitations = list(
        selectors.invitations_list(organization=organization)[: selectors.MAX_PENDING_INVITATIONS]
    )
    _decorate_invitations(invitations, actor)
    context.update(
        invitations=invitations,
        pending_count=sum(1 for invitation in invitations if not invitation.is_expired),
        expired_count=sum(1 for invitation in invitations if invitation.is_expired),
        invite_form=InvitationForm(actor_role=actor.role) if actor.can_manage else None,
    )
    return render(request, "accounts/team.html", context)


@require_POST
@organization_required(role=Role.ADMIN)
def member_role(request, membership_id):
    membership = get_for_org(
        Membership.objects.select_related("user"), request.organization, membership_id
    )
    form = MemberRoleForm(request.POST, actor_role=request.membership.role)
    if not form.is_valid():
        messages.error(request, _("Choose a valid role."))
        return redirect("accounts:team")
    try:
        team_services.member_change_role(
            organization=request.membership.organization,
            actor_membership=request.membership,
            membership=membership,
            role=form.cleaned_data["role"],
        )
    except TeamError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("%(name)s is now %(role)s.")
            % {
                "name": membership.user.display_name,
                "role": role_label(form.cleaned_data["role"]).lower(),
            },
        )
    return redirect("accounts:team")


@require_POST
@organization_required()
def member_remove(request, membership_id):
    membership = get_for_org(
        Membership.objects.select_related("user"), request.organization, membership_id
    )
    actor = request.membership
    leaving = membership.pk == actor.pk
    if not leaving and not actor.can_manage:
        raise PermissionDenied
    organization = actor.organization
    try:
        team_services.member_remove(
            organization=organization, actor_membership=actor, membership=membership
        )
    except TeamError as error:
        messages.error(request, error.message)
        return redirect("accounts:team")
    if leaving:
        request.session.pop(ACTIVE_ORGANIZATION_SESSION_KEY, None)
        messages.success(request, _("You left %(org)s.") % {"org": organization.name})
        return redirect("web:dashboard")
    messages.success(
        request,
        _("%(name)s was removed from the team.") % {"name": membership.user.display_name},
    )
    return redirect("accounts:team")


@require_http_methods(["GET", "POST"])
@organization_required(role=Role.ADMIN)
def invitation_create(request):
    """POST: send an invitation. GET (and an invalid POST): the invite form as a page,
    for browsers without JavaScript, where the Team page's modal cannot open."""
    actor = request.membership
    form = InvitationForm(request.POST or None, actor_role=actor.role)
    if request.method == "POST" and form.is_valid():
        try:
            invitation, _token = team_services.invitation_create(
                organization=actor.organization,
                actor_membership=actor,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
            )
        except TeamError as error:
            form.add_error("email" if error.code != "forbidden" else None, error.message)
        else:
            messages.success(
                request,
                _("Invitation sent to %(email)s.") % {"email": invitation.email},
            )
            return redirect("accounts:team")
    status = 400 if request.method == "POST" else 200
    context = {
        "form": form,
        "breadcrumb_items": [(_("Team"), reverse("accounts:team")), (_("Invite"), "")],
    }
    return render(request, "accounts/team_invite.html", context, status=status)


def _invitation_action(request, invitation_id, service, success_message: str):
    """Resend or revoke: the service decides, the user gets a toast either way."""
    invitation = get_for_org(Invitation, request.organization, invitation_id)
    try:
        service(
            organization=request.membership.organization,
            actor_membership=request.membership,
            invitation=invitation,
        )
    except TeamError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, success_message % {"email": invitation.email})
    return redirect("accounts:team")


@require_POST
@organization_required(role=Role.ADMIN)
def invitation_resend(request, invitation_id):
    return _invitation_action(
        request,
        invitation_id,
        team_services.invitation_resend,
        _("Invitation sent again to %(email)s. The previous link no longer works."),
    )


@require_POST
@organization_required(role=Role.ADMIN)
def invitation_revoke(request, invitation_id):
    return _invitation_action(
        request,
        invitation_id,
        team_services.invitation_revoke,
        _("Invitation for %(email)s revoked."),
    )


# -- accepting -------------------------------------------------------------------------------

PROBLEM_STATUS = {"invalid": 404, "expired": 410, "revoked": 410, "used": 410}


def _problem(request, error: InvitationError, token: str):
    """A dead link: explain, change nothing, and stop sending people back to it."""
    if request.session.get(PENDING_INVITATION_SESSION_KEY) == token:
        forget_pending_invitation(request)
    invitation = error.invitation
    already_member = bool(
        invitation
        and request.user.is_authenticated
        and Membership.objects.filter(
            organization_id=invitation.organization_id, user=request.user
        ).exists()
    )
    return render(
        request,
        "accounts/invitation_accept_invalid.html",
        {"error": error, "invitation": invitation, "already_member": already_member},
        status=PROBLEM_STATUS.get(error.code, 400),
    )


@require_http_methods(["GET", "POST"])
def invitation_accept(request, token):
    invitation = selectors.invitation_by_token(token)
    try:
        team_services.invitation_check(invitation)
    except InvitationError as error:
        return _problem(request, error, token)

    context = {
        "invitation": invitation,
        "organization": invitation.organization,
        "inviter_name": invitation.invited_by.display_name if invitation.invited_by else "",
        "role_label": role_label(invitation.role),
        "masked_email": mask_email(invitation.email),
    }
    if not request.user.is_authenticated:
        # Sign-up (with its email verification) or sign-in comes back here (adapter.py).
        remember_pending_invitation(request, token)
        if request.method == "POST":
            return redirect_to_login(request.path)
        context.update(
            signup_url=reverse("account_signup") + "?" + urlencode({"email": invitation.email}),
            login_url=reverse("account_login") + "?" + urlencode({"next": request.path}),
        )
        return render(request, "accounts/invitation_accept.html", context)

    if not team_services.email_matches(invitation, request.user):
        error = team_services.email_mismatch_error(invitation)
        # Kept: after signing out and in with the right account, they land back here.
        remember_pending_invitation(request, token)
        context.update(mismatch=error.message)
        return render(
            request,
            "accounts/invitation_accept.html",
            context,
            status=403 if request.method == "POST" else 200,
        )

    if request.method == "GET":
        context["already_member"] = Membership.objects.filter(
            organization_id=invitation.organization_id, user=request.user
        ).first()
        return render(request, "accounts/invitation_accept.html", context)

    try:
        existing = Membership.objects.filter(
            organization_id=invitation.organization_id, user=request.user
        ).exists()
        membership = team_services.invitation_accept(token=token, user=request.user)
    except InvitationError as error:
        return _problem(request, error, token)
    request.session[ACTIVE_ORGANIZATION_SESSION_KEY] = str(membership.organization_id)
    forget_pending_invitation(request)
    organization = invitation.organization
    if existing:
        messages.info(
            request,
            _("You were already a member of %(org)s, as %(role)s.")
            % {"org": organization.name, "role": role_label(membership.role).lower()},
        )
    else:
        messages.success(
            request,
            _("Welcome to %(org)s! You joined as %(role)s.")
            % {"org": organization.name, "role": role_label(membership.role).lower()},
        )
    return redirect("web:dashboard")
