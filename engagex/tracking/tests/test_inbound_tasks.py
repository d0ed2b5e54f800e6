"""The inbound intake's periodic jobs and `manage.py inbound`."""

from __future__ import annotations

import datetime as dt
import socket

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from engagex.tracking.inbound_tasks import inbound_messages_cleanup
from engagex.tracking.models import InboundMessage


def stored(outcome: str, days_ago: int) -> InboundMessage:
    return InboundMessage.objects.create(
        source="smtp",
        outcome=outcome,
        kind="bounce",
        raw=b"x",
        received_at=timezone.now() - dt.timedelta(days=days_ago, minutes=1),
    )


def test_cleanup_keeps_understood_mail_30_days_and_the_rest_90(db):
    kept = [
        stored("processed", 29),
        stored("ignored", 29),
        stored("unknown", 89),
        stored("error", 89),
        stored("unknown", 31),
    ]
    for outcome, days in (("processed", 30), ("ignored", 45), ("unknown", 90), ("error", 120)):
        stored(outcome, days)

    assert inbound_messages_cleanup(timestamp=0) == {"deleted": 4}
    assert set(InboundMessage.objects.values_list("pk", flat=True)) == {m.pk for m in kept}
    assert inbound_messages_cleanup(timestamp=0) == {"deleted": 0}


def test_the_jobs_are_periodic():
    from procrastinate.contrib.django import app

    import engagex.tracking.inbound_tasks  # noqa: F401 (registers the tasks)

    periodic = {
        task.periodic_id: task.cron for task in app.periodic_registry.periodic_tasks.values()
    }
    assert periodic["inbound_mailbox_poll"] == "* * * * *"
    assert periodic["inbound_cleanup"] == "17 * * * *"


def test_inbound_command_refuses_a_busy_port_clearly(db):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(CommandError, match=f"127.0.0.1:{port}: the port is already in use"):
            call_command("inbound", host="127.0.0.1", port=port)
