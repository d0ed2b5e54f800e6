"""Users, organizations (the tenants), memberships, plans, invitations, API keys, usage.

The user model is custom from the first migration (email is the login, no usernames)
because swapping it later is painful. Tenant-owned models inherit `TenantModel`
(DESIGN.md §4): UUIDv7 key, `organization` foreign key, timestamps.
"""

from __future__ import annotations

import zoneinfo

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from engagex.lib.ids import uuid7


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields) -> User:
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> User:
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    email = models.EmailField(_("email address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    # Platform staff (the operator): may use Django admin and, later, the operator area.
    # Not a tenant role: staff get no access to an organization's data through this flag.
    is_staff = models.BooleanField(_("platform staff"), default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    def __str__(self) -> str:
        return self.email

    @property
    def display_name(self) -> str:
        return self.full_name or self.email


class Plan(models.Model):
    """What an organization may do. Seeded by migration; the operator assigns them."""

    code = models.SlugField(max_length=30, unique=True)
    name = models.CharField(max_length=60)
    # None means unlimited.
    max_contacts = models.PositiveIntegerField(null=True, blank=True)
    monthly_emails = models.PositiveIntegerField(null=True, blank=True)
    hourly_emails = models.PositiveIntegerField(null=True, blank=True)
    daily_emails = models.PositiveIntegerField(null=True, blank=True)
    custom_domains_allowed = models.BooleanField(default=False)
    # Feature flags, e.g. {"ab_tests": true, "automations": false, "api": true}.
    features = models.JSONField(default=dict, blank=True)
    price_cents = models.PositiveIntegerField(default=0)  # per month, in `currency`
    currency = models.CharField(max_length=3, default="USD")
    sort_order = models.PositiveSmallIntegerField(default=0)

    FREE = "free"

    class Meta:
        ordering = ["sort_order"]

    def __str__(self) -> str:
        return self.name

    def has_feature(self, name: str) -> bool:
        return bool(self.features.get(name))


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a known time zone."), params={"value": value})


class Organization(models.Model):
    """A tenant. Every tenant-owned row points here (DESIGN.md §4)."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        # Suspended organizations can sign in and look, but cannot send (usage service).
        SUSPENDED = "suspended", _("Suspended")

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    name = models.CharField(_("organization name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    country = CountryField(_("country"), blank=True)
    # Legally required in every marketing email footer (CAN-SPAM).
    postal_address = models.TextField(_("postal address"), blank=True)
    default_from_name = models.CharField(_("default sender name"), max_length=200, blank=True)
    default_from_email = models.EmailField(_("default sender email"), blank=True)
    reply_to_email = models.EmailField(_("reply-to address"), blank=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="UTC", validators=[validate_time_zone]
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    suspended_reason = models.CharField(max_length=300, blank=True)
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="organizations")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name

    @property
    def is_suspended(self) -> bool:
        return self.status == self.Status.SUSPENDED


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        ADMIN = "admin", _("Admin")
        EDITOR = "editor", _("Editor")
        VIEWER = "viewer", _("Viewer")

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user"], name="membership_unique_per_organization"
            )
        ]
        # The one index not led by organization: "which organizations is this user in?"
        # is asked on every request, across tenants by nature.
        indexes = [models.Index(fields=["user"], name="membership_user_idx")]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} ({self.role})"

    def has_role(self, minimum: str) -> bool:
        from engagex.accounts.roles import role_at_least

        return role_at_least(self.role, minimum)

    @property
    def can_write(self) -> bool:
        """Editor and up: create, edit and send content and contacts."""
        return self.has_role(self.Role.EDITOR)

    @property
    def can_manage(self) -> bool:
        """Admin and up: members, invitations, API keys, settings, audit log."""
        return self.has_role(self.Role.ADMIN)

    @property
    def is_owner(self) -> bool:
        """Owner only: billing, plan, deleting the organization."""
        return self.role == self.Role.OWNER


class TenantModel(models.Model):
    """Base for every tenant-owned table (DESIGN.md §4).

    Subclasses must start every index and unique constraint with `organization`.
    """

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Invitation(TenantModel):
    """An email invitation to join an organization with a role; the token is stored hashed."""

    email = models.EmailField()
    role = models.CharField(max_length=10, choices=Membership.Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    expires_at = models.DateTimeField()
    last_sent_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # One open invitation per address and organization; resending reuses it.
            models.UniqueConstraint(
                "organization",
                Lower("email"),
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_open_per_email",
            )
        ]
        indexes = [models.Index(fields=["organization", "-created_at"], name="invitation_org_idx")]

    def __str__(self) -> str:
        return f"Invitation for {self.email} to {self.organization_id}"

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None

    @property
    def is_expired(self) -> bool:
        return timezone.now() >= self.expires_at

    @property
    def state(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.is_expired:
            return "expired"
        return "pending"


class ApiKey(TenantModel):
    """An organization's API key. Only a SHA-256 of the secret is stored; the prefix is shown."""

    class Scope(models.TextChoices):
        READ = "read", _("Read")
        WRITE = "write", _("Write")
        SEND = "send", _("Send")

    name = models.CharField(max_length=100)
    # The first characters of the key ("ex_" + 8), shown in lists so people can tell keys apart.
    prefix = models.CharField(max_length=16)
    # Looked up across organizations on every API request: the key itself tells us the
    # tenant, so this unique index cannot start with organization (like Membership.user).
    key_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "-created_at"], name="apikey_org_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


class EmailUsage(models.Model):
    """Emails an organization sent in one calendar month (UTC); the plan's monthly budget."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    month = models.DateField()  # the first day of the month
    emails_sent = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "month"], name="email_usage_one_row_per_month"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.month:%Y-%m}: {self.emails_sent}"
