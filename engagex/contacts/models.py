"""Contacts and audiences (PRODUCT.md §B): contacts, custom fields, tags, lists, segments,
suppressions and imports.

Every index and unique constraint starts with `organization` (DESIGN.md §4). The one
exception is the GIN index on `Contact.tags`: a GIN index cannot lead with a plain
column without the `btree_gin` extension, which the embedded PostgreSQL does not ship.
Tag queries always also filter by organization, so the planner combines both indexes.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from engagex.accounts.models import Organization, TenantModel

# Soft-deleted contacts can be restored for this long; then a periodic job purges them.
RESTORE_WINDOW_DAYS = 30
TAG_MAX_LENGTH = 64
FIELD_KEY_MAX_LENGTH = 40


class CustomField(TenantModel):
    """A typed field an organization defines for its contacts; values live in `Contact.fields`.

    The type never changes after creation, so stored values always match it and the
    segment engine may cast them safely.
    """

    class Type(models.TextChoices):
        TEXT = "text", _("Text")
        NUMBER = "number", _("Number")
        DATE = "date", _("Date")
        BOOLEAN = "boolean", _("Yes / no")

    # The key used in `Contact.fields`, merge tags ({{ contact.fields.key }}), CSV headers
    # and the API: lowercase letters, digits and underscores, starting with a letter.
    key = models.CharField(max_length=FIELD_KEY_MAX_LENGTH)
    label = models.CharField(max_length=100)
    type = models.CharField(max_length=10, choices=Type.choices, default=Type.TEXT)

    class Meta:
        ordering = ["label"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="customfield_org_key_uniq")
        ]

    def __str__(self) -> str:
        return self.label


class Tag(TenantModel):
    """The organization's known tag names (for pickers and filters).

    Contacts carry their tags in `Contact.tags`; this table only lists the names, so a
    filter dropdown never has to scan millions of contacts.
    """

    name = models.CharField(max_length=TAG_MAX_LENGTH)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="tag_org_name_uniq")
        ]

    def __str__(self) -> str:
        return self.name


class Contact(TenantModel):
    class Status(models.TextChoices):
        SUBSCRIBED = "subscribed", _("Subscribed")
        UNCONFIRMED = "unconfirmed", _("Unconfirmed")
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
        BOUNCED = "bounced", _("Bounced")
        COMPLAINED = "complained", _("Complained")

    # No index of its own: the unique (organization, email) index serves every lookup by
    # organization, and one index fewer to maintain makes big imports ~5 % faster.
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    # Normalized by `engagex.contacts.emails.normalize_email`: lowercase, Unicode domain.
    email = models.CharField(max_length=254)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    # Custom field values by `CustomField.key`, stored in their JSON type (number, bool,
    # ISO date string, text).
    fields = models.JSONField(default=dict, blank=True)
    tags = ArrayField(models.CharField(max_length=TAG_MAX_LENGTH), default=list, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SUBSCRIBED)
    # Consent record (GDPR): where, when, from which IP and with which wording.
    consent_source = models.CharField(max_length=200, blank=True)
    consent_at = models.DateTimeField(null=True, blank=True)
    consent_ip = models.GenericIPAddressField(null=True, blank=True)
    consent_text = models.TextField(blank=True)
    last_activity_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    anonymized_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # Includes soft-deleted contacts: adding the address again restores the row.
            models.UniqueConstraint(
                fields=["organization", "email"], name="contact_org_email_uniq"
            ),
        ]
        indexes = [
            # The contacts page: newest first, keyset-paginated over live contacts.
            models.Index(
                fields=["organization", "-created_at", "-id"],
                name="contact_org_created_idx",
                condition=Q(deleted_at__isnull=True),
            ),
            models.Index(
                fields=["organization", "status", "email"],
                name="contact_org_status_email_idx",
                condition=Q(deleted_at__isnull=True),
            ),
            models.Index(
                fields=["organization", "last_name", "first_name", "id"],
                name="contact_org_name_idx",
                condition=Q(deleted_at__isnull=True),
            ),
            # "Deleted contacts" view and the purge job.
            models.Index(
                fields=["organization", "deleted_at", "id"],
                name="contact_org_deleted_id_idx",
                condition=Q(deleted_at__isnull=False),
            ),
            GinIndex(fields=["tags"], name="contact_tags_gin"),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def is_anonymized(self) -> bool:
        return self.anonymized_at is not None

    @property
    def purge_at(self):
        if self.deleted_at is None:
            return None
        return self.deleted_at + timezone.timedelta(days=RESTORE_WINDOW_DAYS)


class ContactList(TenantModel):
    class OptIn(models.TextChoices):
        SINGLE = "single", _("Single opt-in")
        DOUBLE = "double", _("Double opt-in")

    name = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True)
    opt_in = models.CharField(max_length=6, choices=OptIn.choices, default=OptIn.SINGLE)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="list_org_name_uniq")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_double_opt_in(self) -> bool:
        return self.opt_in == self.OptIn.DOUBLE


class ListMembership(models.Model):
    """A contact on a list, with its own subscription status. High volume: bigint id."""

    class Status(models.TextChoices):
        SUBSCRIBED = "subscribed", _("Subscribed")
        UNCONFIRMED = "unconfirmed", _("Awaiting confirmation")
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")

    id = models.BigAutoField(primary_key=True)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    contact_list = models.ForeignKey(
        ContactList, on_delete=models.CASCADE, related_name="memberships"
    )
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="memberships")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SUBSCRIBED)
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    # When the last double opt-in confirmation email went out (resend throttling).
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "contact_list", "contact"], name="membership_list_contact"
            )
        ]
        indexes = [
            models.Index(fields=["organization", "contact"], name="membership_org_contact_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.contact_id} on {self.contact_list_id} ({self.status})"


class Segment(TenantModel):
    """A saved rule set, evaluated fresh in the database every time (see `segments/`)."""

    name = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True)
    # {"match": "all"|"any", "rules": [rule | {"match": …, "rules": [rule, …]}]}
    rules = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="segment_org_name_uniq")
        ]

    def __str__(self) -> str:
        return self.name


class Suppression(TenantModel):
    """An address that must never be mailed by this organization.

    Looked up by `email_hash` (SHA-256 of the normalized address), so an anonymized
    contact stays suppressed after its address is erased (`email` is then blank).
    """

    class Reason(models.TextChoices):
        HARD_BOUNCE = "hard_bounce", _("Hard bounce")
        SOFT_BOUNCE = "soft_bounce", _("Repeated soft bounces")
        COMPLAINT = "complaint", _("Spam complaint")
        MANUAL = "manual", _("Added manually")
        IMPORTED = "imported", _("Imported")
        ANONYMIZED = "anonymized", _("Anonymized contact")

    email = models.CharField(max_length=254, blank=True)
    email_hash = models.CharField(max_length=64)
    reason = models.CharField(max_length=12, choices=Reason.choices)
    source = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "email_hash"], name="suppression_org_hash_uniq"
            )
        ]
        indexes = [
            models.Index(
                fields=["organization", "-created_at"], name="suppression_org_created_idx"
            ),
            models.Index(fields=["organization", "email"], name="suppression_org_email_idx"),
        ]

    def __str__(self) -> str:
        return self.email or f"#{self.email_hash[:12]}"


class ContactImport(TenantModel):
    """One upload going through preview → mapping → options → background run → result."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Waiting for mapping")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    class Existing(models.TextChoices):
        UPDATE = "update", _("Update existing contacts")
        SKIP = "skip", _("Skip existing contacts")

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    job = models.OneToOneField(
        "jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    file = models.FileField(upload_to="imports/%Y/%m/")
    original_name = models.CharField(max_length=255)
    file_format = models.CharField(max_length=4)  # "csv" | "xlsx"
    encoding = models.CharField(max_length=20, blank=True)
    delimiter = models.CharField(max_length=1, blank=True)
    # Column index (as string) → target: "email", "first_name", "last_name", "tags",
    # "field:<key>", or "" to ignore.
    mapping = models.JSONField(default=dict, blank=True)
    contact_list = models.ForeignKey(
        ContactList, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    tags = ArrayField(models.CharField(max_length=TAG_MAX_LENGTH), default=list, blank=True)
    existing = models.CharField(max_length=6, choices=Existing.choices, default=Existing.UPDATE)
    consent_text = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.UPLOADED)
    total_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    rejected_count = models.PositiveIntegerField(default=0)
    rejected_file = models.FileField(upload_to="imports/rejected/%Y/%m/", blank=True)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="import_org_created_idx"),
        ]

    def __str__(self) -> str:
        return self.original_name
