"""Creating, changing and deleting organizations; plans and suspension; the demo data."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext as _

from engagex import audit
from engagex.accounts.models import Membership, Organization, Plan, User
from engagex.accounts.plans import default_plan, plans_ensure
from engagex.web.emails import absolute_url, send_email

# Fields people edit on the onboarding wizard and the settings page.
PROFILE_FIELDS = (
    "name",
    "country",
    "postal_address",
    "default_from_name",
    "default_from_email",
    "reply_to_email",
    "time_zone",
)


def _unique_slug(name: str) -> str:
    base = slugify(name)[:60] or "organization"
    slug = base
    while Organization.objects.filter(slug=slug).exists():
        slug = f"{base}-{secrets.token_hex(3)}"
    return slug


@transaction.atomic
def organization_create(*, actor: User, send_welcome: bool = True, **profile) -> Organization:
    """A new organization on the free plan, with `actor` as its owner; sends the welcome email."""
    unknown = set(profile) - set(PROFILE_FIELDS)
    if unknown:
        raise TypeError(f"Unknown organization fields: {', '.join(sorted(unknown))}")
    organization = Organization(slug=_unique_slug(profile["name"]), plan=default_plan(), **profile)
    organization.full_clean()
    organization.save()
    Membership.objects.create(organization=organization, user=actor, role=Membership.Role.OWNER)
    audit.record(organization, actor, "organization.created", "organization", organization.pk)
    if send_welcome:
        send_email(
            to=actor.email,
            subject=_("Welcome to EngageX"),
            name="welcome",
            context={
                "user": actor,
                "organization": organization,
                "preheader": _("Your organization is ready."),
                "dashboard_url": absolute_url(reverse("web:dashboard")),
            },
        )
    return organization


@transaction.atomic
def organization_update(*, organization: Organization, actor: User, **changes) -> Organization:
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise TypeError(f"Unknown organization fields: {', '.join(sorted(unknown))}")
    changed = [field for field, value in changes.items() if getattr(organization, field) != value]
    for field in changed:
        setattr(organization, field, changes[field])
    if changed:
        organization.full_clean()
        organization.save(update_fields=changed)
        audit.record(
            organization,
            actor,
            "organization.updated",
            "organization",
            organization.pk,
            {"fields": sorted(changed)},
        )
    return organization


@transaction.atomic
def organization_delete(*, organization: Organization, actor: User) -> None:
    """Deletes the organization and everything it owns. Owners only (checked by the view).

    The audit entry is written without an organization: the organization's own log goes
    with it, so the platform keeps this one.
    """
    audit.record(
        None,
        actor,
        "organization.deleted",
        "organization",
        organization.pk,
        {"name": organization.name},
    )
    organization.delete()


@transaction.atomic
def organization_set_plan(*, organization: Organization, actor: User | None, plan: Plan) -> None:
    previous = organization.plan
    if previous.pk == plan.pk:
        return
    organization.plan = plan
    organization.save(update_fields=["plan"])
    audit.record(
        organization,
        actor,
        "plan.changed",
        "organization",
        organization.pk,
        {"from": previous.code, "to": plan.code},
    )


@transaction.atomic
def organization_suspend(*, organization: Organization, actor: User | None, reason: str) -> None:
    """A suspended organization can still sign in and look around, but cannot send."""
    organization.status = Organization.Status.SUSPENDED
    organization.suspended_reason = reason[:300]
    organization.save(update_fields=["status", "suspended_reason"])
    audit.record(organization, actor, "organization.suspended", "organization", organization.pk)


@transaction.atomic
def organization_reactivate(*, organization: Organization, actor: User | None) -> None:
    organization.status = Organization.Status.ACTIVE
    organization.suspended_reason = ""
    organization.save(update_fields=["status", "suspended_reason"])
    audit.record(organization, actor, "organization.reactivated", "organization", organization.pk)


# -- Demo data (`make run` seeds it the first time) -------------------------------------------

DEMO_SLUG = "demo"
DEMO_NAME = "Demo Company"
DEMO_OWNER_EMAIL = "demo@example.com"
DEMO_TEAM = (
    (DEMO_OWNER_EMAIL, "Dana Demo", Membership.Role.OWNER),
    ("editor@example.com", "Eddie Editor", Membership.Role.EDITOR),
    ("viewer@example.com", "Vera Viewer", Membership.Role.VIEWER),
)


def demo_password_path():
    return settings.VAR_DIR / "demo_password"


def demo_password() -> str:
    """The demo team's password: generated once, kept in var/ so `make run` can print it."""
    path = demo_password_path()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(9))
        path.chmod(0o600)
    return path.read_text().strip()


@transaction.atomic
def demo_organization_ensure() -> tuple[Organization, bool]:
    """The demo organization with an owner, an editor and a viewer; (organization, created).

    Idempotent: existing rows are left alone, missing ones are added. The demo users'
    email addresses count as verified so they can sign in straight away.
    """
    from allauth.account.models import EmailAddress

    plans_ensure()
    organization, created = Organization.objects.get_or_create(
        slug=DEMO_SLUG,
        defaults={
            "name": DEMO_NAME,
            "plan": default_plan(),
            "country": "US",
            "postal_address": "548 Market Street, Suite 100\nSan Francisco, CA 94104",
            "default_from_name": DEMO_NAME,
            "default_from_email": "news@demo.example.com",
            "reply_to_email": "hello@demo.example.com",
            "time_zone": "America/New_York",
        },
    )
    password = demo_password()
    for email, full_name, role in DEMO_TEAM:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email, password, full_name=full_name)
        elif not user.check_password(password):
            # The password file was removed: the printed password must keep working.
            user.set_password(password)
            user.save(update_fields=["password"])
        EmailAddress.objects.get_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
        Membership.objects.get_or_create(
            organization=organization, user=user, defaults={"role": role}
        )
    return organization, created
