"""What recipients did with a sent message (DESIGN.md §6).

- `TrackedLink`: the links of a mailing, numbered once when the first sender prepares
  it. A click token names a delivery and a link number; the redirect target always
  comes from here, never from the request, so a tracking link can't be turned into an
  open redirect.
- `TrackingEvent`: every hit and every piece of feedback — opens, clicks,
  unsubscribes, bounces, complaints, provider reports — one row each, written by the
  endpoints with one cheap INSERT. The periodic roll-up (`rollup.py`) turns new rows
  into the per-delivery first open/click and the per-mailing counters, so no hot row
  is updated per hit.
- `MailingStats`: the rolled-up counters of one mailing (what the report shows).
- `InboundMessage`: mail that reached the bounce/unsubscribe mailbox, kept for
  inspection when it couldn't be understood (and briefly when it could).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from engagex.accounts.models import Organization


class TrackedLink(models.Model):
    id = models.BigAutoField(primary_key=True)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    mailing = models.ForeignKey(
        "delivery.Mailing", on_delete=models.CASCADE, related_name="links", db_index=False
    )
    index = models.PositiveSmallIntegerField()
    # As written in the mailing; may hold merge tags ("https://shop/?u={{ email }}"),
    # then the target is rendered for the clicking recipient.
    url = models.TextField()
    # Rolled up: all clicks, and distinct recipients who clicked (people, not scanners).
    clicks = models.PositiveIntegerField(default=0)
    unique_clicks = models.PositiveIntegerField(default=0)
    bot_clicks = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "mailing", "index"], name="trackedlink_mailing_index"
            )
        ]

    def __str__(self) -> str:
        return f"link {self.index}: {self.url[:60]}"


class TrackingEvent(models.Model):
    class Kind(models.TextChoices):
        DELIVERED = "delivered", _("Delivered")  # a provider's report
        OPEN = "open", _("Opened")
        CLICK = "click", _("Clicked")
        UNSUBSCRIBE = "unsubscribe", _("Unsubscribed")
        RESUBSCRIBE = "resubscribe", _("Re-subscribed")
        BOUNCE = "bounce", _("Bounced")
        COMPLAINT = "complaint", _("Complained")

    id = models.BigAutoField(primary_key=True)
    # High volume: no database FK constraints (as the outbox: a constraint would lock the
    # organization's row on every hit), every index starts with the organization.
    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    mailing = models.ForeignKey(
        "delivery.Mailing",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    delivery = models.ForeignKey(
        "delivery.Delivery",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    contact = models.ForeignKey(
        "contacts.Contact",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    created_at = models.DateTimeField(default=timezone.now)
    link_index = models.PositiveSmallIntegerField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    # Scanners, prefetchers and privacy proxies: kept, shown apart, never counted as
    # people (`bot_reason` says why: "scanner user agent", "click within 1 s" …).
    is_bot = models.BooleanField(default=False)
    bot_reason = models.CharField(max_length=60, blank=True)
    # Bounce: severity/status/diagnostic; complaint: feedback type; source of a report.
    detail = models.JSONField(default=dict, blank=True)
    # A provider's event id: a replayed webhook is recognised and ignored.
    source_id = models.CharField(max_length=200, blank=True)
    # Set by the roll-up once the row is in the counters.
    counted = models.BooleanField(default=False)

    class Meta:
        indexes = [
            # The report: one mailing's events of a kind over time.
            models.Index(
                fields=["organization", "mailing", "kind", "created_at"],
                name="event_mailing_kind_idx",
            ),
            # The contact timeline and activity segments.
            models.Index(
                fields=["organization", "contact", "created_at"], name="event_contact_idx"
            ),
            # What the roll-up has still to count.
            models.Index(fields=["id"], name="event_uncounted_idx", condition=Q(counted=False)),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "source_id"],
                name="event_source_once",
                condition=~Q(source_id=""),
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} of delivery {self.delivery_id}"


class MailingStats(models.Model):
    """One mailing's rolled-up counters ("unique" = distinct recipients; people only,
    bots counted apart)."""

    mailing = models.OneToOneField(
        "delivery.Mailing", primary_key=True, on_delete=models.CASCADE, related_name="stats"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    delivered = models.PositiveIntegerField(default=0)  # providers' delivery reports
    opens = models.PositiveIntegerField(default=0)
    unique_opens = models.PositiveIntegerField(default=0)
    clicks = models.PositiveIntegerField(default=0)
    unique_clicks = models.PositiveIntegerField(default=0)
    bot_opens = models.PositiveIntegerField(default=0)
    bot_clicks = models.PositiveIntegerField(default=0)
    hard_bounces = models.PositiveIntegerField(default=0)
    soft_bounces = models.PositiveIntegerField(default=0)
    complaints = models.PositiveIntegerField(default=0)
    unsubscribes = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"stats of mailing {self.mailing_id}"

    def reached(self, sent: int) -> int:
        """How many of `sent` messages reached people: providers' delivery reports when
        there are any, else what was accepted and didn't bounce afterwards."""
        return self.delivered or max(sent - self.hard_bounces - self.soft_bounces, 0)


class InboundMessage(models.Model):
    class Outcome(models.TextChoices):
        PROCESSED = "processed", _("Processed")
        IGNORED = "ignored", _("Ignored")  # auto-replies, reports for unknown messages
        UNKNOWN = "unknown", _("Not understood")
        ERROR = "error", _("Failed")

    id = models.BigAutoField(primary_key=True)
    # Known once the message maps to one of our deliveries.
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    received_at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=20)  # "smtp", "pop3", "imap"
    envelope_from = models.CharField(max_length=500, blank=True)
    envelope_to = models.CharField(max_length=1000, blank=True)
    subject = models.CharField(max_length=500, blank=True)
    kind = models.CharField(max_length=20, blank=True)  # bounce, complaint, unsubscribe …
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    note = models.CharField(max_length=500, blank=True)
    # The first 256 KB of the raw message (enough to read any report; attachments cut).
    raw = models.BinaryField()
    size = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["outcome", "received_at"], name="inbound_outcome_idx")]

    def __str__(self) -> str:
        return f"inbound {self.kind or '?'} ({self.outcome})"
