"""Email templates and their versions (PRODUCT.md §C).

A template holds the editable source: Jinja2 merge tags and spintax in the subject,
preheader, HTML and an optional hand-written plain-text part. Stored HTML has already
been through `sanitize.sanitize_html`; rendering, CSS inlining and the preheader are
applied when a message is made (`rendering`, `email_html`), so what is stored stays
editable.

Every save that changes the content adds a `TemplateVersion` (a full copy: templates
are small, and a copy makes "view" and "restore" trivially correct).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from engagex.accounts.models import TenantModel

NAME_MAX_LENGTH = 200
SUBJECT_MAX_LENGTH = 500
PREHEADER_MAX_LENGTH = 500


class Category(models.TextChoices):
    NEWSLETTER = "newsletter", _("Newsletter")
    PROMOTIONAL = "promotional", _("Promotional")
    TRANSACTIONAL = "transactional", _("Transactional")
    ANNOUNCEMENT = "announcement", _("Announcement")
    WELCOME = "welcome", _("Welcome")
    OTHER = "other", _("Other")


class TemplateContent(models.Model):
    """The fields a version copies."""

    name = models.CharField(max_length=NAME_MAX_LENGTH)
    category = models.CharField(max_length=20, choices=Category.choices, default=Category.OTHER)
    subject = models.CharField(max_length=SUBJECT_MAX_LENGTH, blank=True)
    preheader = models.CharField(max_length=PREHEADER_MAX_LENGTH, blank=True)
    html = models.TextField(blank=True)
    # The plain-text part is generated from the HTML unless the author wrote their own:
    # `text` then holds it, and it is kept (even when the HTML changes) until reset.
    text_is_custom = models.BooleanField(default=False)
    text = models.TextField(blank=True)

    CONTENT_FIELDS = ("name", "category", "subject", "preheader", "html", "text_is_custom", "text")

    class Meta:
        abstract = True

    def content(self) -> dict:
        return {field: getattr(self, field) for field in self.CONTENT_FIELDS}


class Template(TemplateContent, TenantModel):
    preset_key = models.CharField(max_length=40, blank=True)
    version_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The templates page: live templates, most recently edited first.
            models.Index(
                fields=["organization", "-updated_at", "-id"],
                name="template_org_updated_idx",
                condition=Q(deleted_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TemplateVersion(TemplateContent, TenantModel):
    # Looked up through the (organization, template, number) constraint's index.
    template = models.ForeignKey(
        Template, on_delete=models.CASCADE, related_name="versions", db_index=False
    )
    number = models.PositiveIntegerField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Set when this version was made by restoring an older one.
    restored_from = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "template", "number"], name="template_version_number_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.template_id} v{self.number}"
