"""`manage.py sender`: the sending process (started by `make run`; run one or more per
machine in production). Stops cleanly on SIGTERM/SIGINT after the batch in hand."""

import os
import signal
import socket
import threading

from django.core.management.base import BaseCommand

from engagex.delivery.sender import BATCH_SIZE, Sender, platform_smtp


class Command(BaseCommand):
    help = "Send queued deliveries until stopped."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
        parser.add_argument("--connections", type=int, default=4, help="SMTP connections")

    def handle(self, *args, batch_size, connections, **options):
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        worker = f"{socket.gethostname()}:{os.getpid()}"
        sender = Sender(
            worker=worker, smtp=platform_smtp(), batch_size=batch_size, connections=connections
        )
        self.stdout.write(f"Sender {worker} started.")
        try:
            sender.run(stop)
        finally:
            sender.close()
        self.stdout.write(f"Sender {worker} stopped.")
