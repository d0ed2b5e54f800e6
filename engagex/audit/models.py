"""Who did what, when, on which record. Metadata only (PRODUCT.md §A)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditEntry(models.Model):
    # High-volume internal table: a bigint identity, not a UUID (DESIGN.md §4).
    id = models.BigAutoField(primary_key=True)
    # Null for events that belong to no organization yet (a failed sign-in, a sign-up).
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, null=True, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # A snapshot of the actor's email (a team member, never a contact), so the log
    # still says who it was after the user is deleted.
    actor_label = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=60)
    target_type = models.CharField(max_length=60, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=False)

    class Meta:
        indexes = [
            models.Index(fields=["organization", "-created_at", "-id"], name="audit_org_time_idx"),
            models.Index(
                fields=["organization", "action", "-created_at"], name="audit_org_action_idx"
            ),
            models.Index(
                fields=["organization", "actor", "-created_at"], name="audit_org_actor_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label or 'system'} {self.action}"
