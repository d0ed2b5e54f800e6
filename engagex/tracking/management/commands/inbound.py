"""Run the inbound SMTP server (bounces, complaints, mailto unsubscribes) until stopped."""

from __future__ import annotations

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from engagex.lib.net import port_is_free
from engagex.tracking.inbound_smtp import MAILBOXES, inbound_controller


class Command(BaseCommand):
    help = (
        "Receive bounces, feedback-loop reports and List-Unsubscribe mails over SMTP "
        "(for the VERP addresses and the unsubscribe mailbox of BOUNCE_DOMAIN)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default=settings.INBOUND_SMTP_HOST)
        parser.add_argument("--port", type=int, default=settings.INBOUND_SMTP_PORT)

    def handle(self, *args, host: str, port: int, **options):
        # aiosmtpd only notices a busy port after its ready timeout; fail at once instead.
        if not port_is_free(host, port):
            raise CommandError(
                f"cannot listen on {host}:{port}: the port is already in use "
                "(set INBOUND_SMTP_PORT to use another port)"
            )
        controller = inbound_controller(host, port)
        try:
            controller.start()
        except (OSError, RuntimeError) as error:
            detail = getattr(error, "strerror", None) or error
            raise CommandError(f"cannot listen on {host}:{port}: {detail}") from None
        domain = settings.BOUNCE_DOMAIN or "any domain (BOUNCE_DOMAIN is empty)"
        self.stdout.write(
            f"Inbound mail server listening on {host}:{port} for bounce+…, "
            f"{', '.join(MAILBOXES)} @ {domain}"
        )
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        try:
            stop.wait()
        finally:
            controller.stop()
