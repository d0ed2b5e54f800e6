"""Mailings and their outbox (DESIGN.md §5).

A `Mailing` is a frozen message — subject, preheader, HTML and text sources (merge
tags still in them), sender, reply-to, tracking options — and knows nothing of who
asked for it (a campaign, later an automation step or an A/B variant: `owner_type`
and `owner_id` name it for them). A `Delivery` is one recipient of one mailing: the
outbox row the sender claims, sends and records. Deliveries are high-volume, so they
have bigint ids and no foreign key from other tables' hot paths.

`KillSwitch` rows stop sending: one global row, one per organization.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from engagex.accounts.models import Organization, TenantModel


class Mailing(TenantModel):
    class Status(models.TextChoices):
        SENDING = "sending", _("Sending")
        PAUSED = "paused", _("Paused")
        CANCELLED = "cancelled", _("Cancelled")
        DONE = "done", _("Done")

    owner_type = models.CharField(max_length=30)  # "campaign", later "automation", …
    owner_id = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SENDING)
    subject = models.TextField()
    preheader = models.TextField(blank=True)
    # Email-ready HTML source (CSS inlined, preheader inserted) with merge tags still in it;
    # compiled once per sender process, rendered per recipient.
    html = models.TextField()
    text = models.TextField(blank=True)  # empty: derived from the HTML
    from_name = models.CharField(max_length=200)
    from_email = models.EmailField()
    reply_to = models.EmailField(blank=True)
    track_opens = models.BooleanField(default=True)
    track_clicks = models.BooleanField(default=True)
    recipients = models.PositiveIntegerField(default=0)
    # Running totals kept by `deliveries_record` (one UPDATE per batch), so pages and
    # lists show progress without counting a million outbox rows on every poll.
    sent_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)  # failed (5xx) and dead
    # Set by the senders while the organization's hourly/daily limit holds this mailing
    # back: until when, and the pace it is allowed ("50/h during warm-up").
    throttled_until = models.DateTimeField(null=True, blank=True)
    throttle_reason = models.CharField(max_length=200, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["organization", "owner_type", "owner_id"], name="mailing_owner_idx"
            ),
            # The senders' "which mailings have work" scan.
            models.Index(
                fields=["organization", "status"],
                name="mailing_sending_idx",
                condition=Q(status="sending"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.owner_type} {self.owner_id}"


class Delivery(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")  # claimed by a sender, under a lease
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")  # permanent (5xx): bounce handling takes over
        DEAD = "dead", _("Gave up")  # temporary failures past the retry budget
        CANCELLED = "cancelled", _("Cancelled")

    id = models.BigAutoField(primary_key=True)
    # No db indexes of their own: every index here starts with the organization. No
    # database foreign-key constraints either: a million-row insert would otherwise pay
    # three deferred constraint checks per row at commit, and deleting a contact would
    # scan the whole outbox. The rows are only ever written by the outbox for its own
    # mailing; Django still cascades deletes of the organization and the mailing.
    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    mailing = models.ForeignKey(
        Mailing,
        on_delete=models.CASCADE,
        related_name="deliveries",
        db_index=False,
        db_constraint=False,
    )
    # The contact this went to; kept as history when the contact is purged later (the
    # address is copied into `email` at queue time).
    contact = models.ForeignKey(
        "contacts.Contact",
        null=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    email = models.CharField(max_length=254)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    locked_by = models.CharField(max_length=64, blank=True)
    locked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    smtp_code = models.PositiveSmallIntegerField(null=True, blank=True)
    smtp_reply = models.CharField(max_length=500, blank=True)
    provider_message_id = models.CharField(max_length=200, blank=True)
    # What the recipient did, kept up to date by the tracking roll-up and feedback
    # handling (first time each; people only — scanners and proxies don't count).
    opened_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    complained_at = models.DateTimeField(null=True, blank=True)
    bounced_at = models.DateTimeField(null=True, blank=True)
    # db_default: the outbox inserts rows with plain SQL that names only its own columns.
    bounce_type = models.CharField(max_length=6, blank=True, db_default="")  # hard, soft, policy

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "mailing", "contact"], name="delivery_mailing_contact_uniq"
            ),
        ]
        indexes = [
            # What the senders claim: due queued rows of one mailing, oldest first.
            models.Index(
                fields=["organization", "mailing", "next_attempt_at", "id"],
                name="delivery_due_idx",
                condition=Q(status="queued"),
            ),
            # Lease recovery: rows a sender claimed and never recorded.
            models.Index(
                fields=["organization", "locked_at"],
                name="delivery_leased_idx",
                condition=Q(status="sending"),
            ),
            # The campaign page's "did not go out" list. (Progress comes from the
            # mailing's running totals, so no index over every status is needed.)
            models.Index(
                fields=["organization", "mailing", "status", "id"],
                name="delivery_problem_idx",
                condition=Q(status__in=["failed", "dead"]),
            ),
            # Provider webhooks that don't echo our metadata name a message by the
            # provider's id (only rows sent through a provider have one).
            models.Index(
                fields=["organization", "provider_message_id"],
                name="delivery_provider_id_idx",
                condition=~Q(provider_message_id=""),
            ),
        ]

    def __str__(self) -> str:
        return f"delivery {self.pk}"


class KillSwitch(models.Model):
    """Sending stops while a switch is on: the global one (organization empty) or the
    organization's own. Senders re-read them at least once a second."""

    organization = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    is_on = models.BooleanField(default=False)
    reason = models.CharField(max_length=300, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # One row per organization and a single global row (NULL counts as a value).
            models.UniqueConstraint(
                fields=["organization"], nulls_distinct=False, name="killswitch_one_per_scope"
            ),
        ]

    def __str__(self) -> str:
        scope = self.organization.name if self.organization_id else "global"
        return f"kill switch ({scope}): {'on' if self.is_on else 'off'}"


class SendCounter(models.Model):
    """Messages an organization handed to the transport in one clock hour.

    The hourly and daily limits (plan, warm-up) are checked against these rows when a
    sender claims a batch, under a row lock, so several senders never overshoot
    together. Rows older than a day are only history."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    hour = models.DateTimeField()
    sent = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "hour"], name="sendcounter_org_hour")
        ]

    def __str__(self) -> str:
        return f"{self.sent} sent at {self.hour:%Y-%m-%d %H}:00"


class SendingSettings(models.Model):
    """How an organization's mail leaves: the platform's relay, its own SMTP server or
    an email provider's API. Secrets are stored encrypted (never shown back)."""

    class Transport(models.TextChoices):
        PLATFORM = "platform", _("EngageX (default)")
        SMTP = "smtp", _("Your own SMTP server")
        PROVIDER = "provider", _("Email provider API")

    class Security(models.TextChoices):
        STARTTLS = "starttls", _("STARTTLS")
        TLS = "tls", _("TLS (SMTPS)")
        NONE = "none", _("None")

    organization = models.OneToOneField(
        Organization, primary_key=True, on_delete=models.CASCADE, related_name="sending_settings"
    )
    transport = models.CharField(
        max_length=10, choices=Transport.choices, default=Transport.PLATFORM
    )
    smtp_host = models.CharField(max_length=253, blank=True)
    smtp_port = models.PositiveIntegerField(default=587)
    smtp_security = models.CharField(
        max_length=10, choices=Security.choices, default=Security.STARTTLS
    )
    smtp_username = models.CharField(max_length=254, blank=True)
    smtp_password_encrypted = models.TextField(blank=True)
    smtp_connections = models.PositiveSmallIntegerField(default=4)
    provider = models.CharField(max_length=30, blank=True)
    provider_api_key_encrypted = models.TextField(blank=True)
    provider_options = models.JSONField(default=dict, blank=True)  # region, domain …
    # Operator's choice: an established sender moving in needs no warm-up.
    warmup_exempt = models.BooleanField(default=False)
    # Provider webhooks (tracking/webhooks.py): the URL's token is signed over the
    # organization and this nonce, so a new nonce retires a leaked URL.
    webhook_nonce = models.CharField(max_length=32, blank=True)
    # Per provider code, the key its webhook signatures are checked with (Mailgun's
    # signing key, SendGrid's verification key, Resend's signing secret), encrypted.
    webhook_keys_encrypted = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"sending settings ({self.get_transport_display()})"
