"""Run the development mail capture server until interrupted."""

from __future__ import annotations

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from engagex.devmail.smtp import capture_controller
from engagex.lib.net import port_is_free


class Command(BaseCommand):
    help = "Capture every email sent to the dev SMTP server; read them at /devmail/ (DEBUG only)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=settings.DEVMAIL_HOST)
        parser.add_argument("--port", type=int, default=settings.DEVMAIL_PORT)

    def handle(self, *args, host: str, port: int, **options):
        if not settings.DEBUG:
            raise CommandError("the dev mail capture runs only with DEBUG on (development)")
        # aiosmtpd only notices a busy port after its ready timeout; fail at once instead.
        if not port_is_free(host, port):
            raise CommandError(
                f"cannot listen on {host}:{port}: the port is already in use "
                "(set DEVMAIL_PORT to use another port)"
            )
        controller = capture_controller(host, port)
        try:
            controller.start()
        except OSError as error:
            raise CommandError(
                f"cannot listen on {host}:{port}: {error.strerror or error}"
            ) from None
        except RuntimeError as error:
            raise CommandError(f"cannot listen on {host}:{port}: {error}") from None
        self.stdout.write(f"Dev mail capture listening on {host}:{port}; inbox at /devmail/")
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        try:
            stop.wait()
        finally:
            controller.stop()
