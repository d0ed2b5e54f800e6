"""Fixtures and helpers of the delivery tests: a real local SMTP server, senders."""

import pytest

from engagex.delivery.models import SendingSettings
from engagex.delivery.smtp import SmtpSettings
from engagex.delivery.tests.smtp_servers import smtp_server


@pytest.fixture
def established_org(org):
    """`org` as an established sender: exempt from warm-up (50/h on day 1), so tests
    about something else can send more than a handful of messages at once."""
    SendingSettings.objects.create(organization=org, warmup_exempt=True)
    return org


@pytest.fixture
def sink():
    with smtp_server() as (controller, handler):
        yield SmtpSettings(controller.hostname, controller.port), handler
