"""`manage.py inbound_poll`: fetch bounces from the POP3/IMAP mailbox once, now."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from engagex.tracking.mailbox import POLL_LIMIT, MailboxError, mailbox_poll


class Command(BaseCommand):
    help = (
        "Fetch new messages from INBOUND_MAILBOX_URL (POP3 or IMAP), process each as "
        "inbound mail (bounce, complaint, unsubscribe) and delete it from the mailbox."
    )

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=POLL_LIMIT, help="most messages to fetch")

    def handle(self, *args, limit: int, **options):
        try:
            result = mailbox_poll(limit=limit)
        except MailboxError as error:
            raise CommandError(str(error)) from None
        if result is None:
            raise CommandError("INBOUND_MAILBOX_URL is not set: there is no mailbox to poll.")
        self.stdout.write(
            f"{result.mailbox}: {result.fetched} processed, {result.too_large} too large, "
            f"{result.remaining} left for the next poll."
        )
