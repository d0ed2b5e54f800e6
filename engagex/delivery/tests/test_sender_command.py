"""`manage.py sender` as a real process: SIGKILL it mid-mailing (several times), restart,
and every recipient gets the message; duplicates are at most the killed in-flight batches.
SIGTERM stops it cleanly."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection
from django.utils import timezone

from engagex.accounts.models import Plan
from engagex.contacts.models import Contact
from engagex.contacts.tests.factories import ContactFactory
from engagex.delivery import outbox
from engagex.delivery.models import Delivery
from engagex.delivery.tests.factories import MailingFactory
from engagex.delivery.tests.smtp_servers import smtp_server

BASE_DIR = Path(__file__).resolve().parents[3]
BATCH = 20
# Warm-up has tests of its own (test_limits, test_sender_pacing).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("established_org")]


def database_url() -> str:
    db = connection.settings_dict
    host = db["HOST"]
    if host.startswith("/"):  # the embedded server's unix socket
        return f"postgresql://{quote(db['USER'])}@/{db['NAME']}?host={quote(host)}"
    return (
        f"postgresql://{quote(db['USER'])}:{quote(db['PASSWORD'])}@{host}:{db['PORT']}/{db['NAME']}"
    )


def start_sender(controller) -> subprocess.Popen:
    env = dict(
        os.environ,
        DATABASE_URL=database_url(),
        EMAIL_HOST=controller.hostname,
        EMAIL_PORT=str(controller.port),
        LOG_LEVEL="warning",
    )
    return subprocess.Popen(
        [sys.executable, "manage.py", "sender", "--batch-size", str(BATCH), "--connections", "2"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def sent_count() -> int:
    return Delivery.objects.filter(status="sent").count()


def wait_for(condition, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_sigkill_mid_mailing_loses_nothing_and_sigterm_stops_cleanly(org):
    org.postal_address = "1 Main Street"
    # Unlimited: the hourly limit counts what each killed sender had claimed, and the
    # free plan's 500/h could hold back the last resends for an hour.
    org.plan = Plan.objects.get(code="enterprise")
    org.save()
    total = 400
    mailing = MailingFactory(organization=org)
    ContactFactory.create_batch(total, organization=org)
    outbox.deliveries_materialize(mailing=mailing, contacts=Contact.objects.all())

    with smtp_server() as (controller, handler):
        kills = 0
        for target in (60, 160, 260):
            process = start_sender(controller)
            assert wait_for(lambda t=target: len(handler.messages) >= t), process.stdout.read()
            process.send_signal(signal.SIGKILL)
            process.wait()
            kills += 1
            # Its leases would come back after LEASE; make that "now" instead of waiting.
            Delivery.objects.filter(status="sending").update(
                locked_at=timezone.now() - outbox.LEASE - timedelta(seconds=1)
            )
        process = start_sender(controller)
        try:
            assert wait_for(lambda: sent_count() == total), f"{sent_count()} of {total} sent"
        finally:
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=30)
        assert process.returncode == 0, output
        assert "stopped" in output

        ids = handler.message_ids()
        assert len(set(ids)) == total  # every recipient got it
        # Only messages in flight when a sender died can arrive twice.
        assert len(ids) - total <= kills * BATCH
