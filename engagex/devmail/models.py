"""Messages captured by the development SMTP server (`manage.py devmail`).

Development only: not tenant data, never used in production.
"""

from django.db import models
from django.utils import timezone


class CapturedMessage(models.Model):
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    mail_from = models.CharField(max_length=320, blank=True)
    recipients = models.TextField(blank=True)  # envelope recipients, comma-separated
    subject = models.CharField(max_length=998, blank=True)
    size = models.PositiveIntegerField(default=0)
    peer = models.CharField(max_length=100, blank=True)
    raw = models.BinaryField()

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return self.subject or "(no subject)"
