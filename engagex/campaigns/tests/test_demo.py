"""The demo campaign `make run` seeds is ready to send to the demo contacts."""

import pytest
from django.core.management import call_command

from engagex.campaigns.checks import campaign_checklist
from engagex.campaigns.models import Campaign
from engagex.delivery.limits import send_limits


@pytest.fixture(autouse=True)
def private_var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path  # the demo password file


def test_seed_demo_adds_a_campaign_that_passes_its_checklist_once(db, capsys):
    call_command("seed_demo")
    call_command("seed_demo")
    assert "campaign ready to send" in capsys.readouterr().out
    (campaign,) = Campaign.objects.filter(organization__slug="demo")
    checklist = campaign_checklist(campaign)
    assert checklist.ok, [check.message for check in checklist.failing]
    assert checklist.recipients == 12
    # Sent to the dev inbox: not slowed down by the warm-up of a new organization.
    assert "warm-up" not in send_limits(campaign.organization).reason
