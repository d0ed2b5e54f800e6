"""Fixtures of the report tests: the delivery tests' real SMTP sink and an organization
exempt from warm-up, so campaigns really go out; and `story`, one campaign whose
recipients each did something different, through the real endpoints and roll-up."""

import datetime as dt

import pytest

from engagex.analytics.tests.helpers import SCANNER, Recipients, sent_campaign
from engagex.delivery.tests.conftest import established_org, sink  # noqa: F401

ANN, BOB, CAT, DAN = "ann@example.com", "bob@example.com", "cat@example.com", "dan@example.com"
EVE, FAY, GUS = "eve@example.com", "fay@example.com", "gus@example.com"
FORMULA = "=cmd@x.com"  # a spreadsheet would run this as a formula if exported raw
EVERYONE = [ANN, BOB, CAT, DAN, EVE, FAY, GUS, FORMULA]


@pytest.fixture
def story_people(established_org, owner, sink) -> Recipients:  # noqa: F811 - fixtures
    """ "Spring sale" to eight people:

    - ann opens twice (10 min, 70 min after sending) and clicks the first link later;
    - bob opens once;
    - cat's mail goes through Apple's privacy proxy (an open, not hers) and a security
      gateway that clicks the second link: machines only, so she did nothing;
    - dan hard-bounces, eve unsubscribes, fay complains;
    - gus and =cmd@x.com do nothing.
    """
    campaign, copies = sent_campaign(established_org, owner, sink, EVERYONE)
    people = Recipients(campaign, copies)
    start = campaign.mailing.started_at
    people.open(ANN)
    people.open(BOB)
    people.proxy_open(CAT)
    people.at(start + dt.timedelta(minutes=10))
    people.open(ANN)
    people.at(start + dt.timedelta(minutes=70))
    people.click(ANN, 0)
    people.click(CAT, 1, agent=SCANNER)
    people.at(start + dt.timedelta(minutes=75))
    people.hard_bounce(DAN)
    people.unsubscribe(EVE)
    people.complain(FAY)
    people.at(start + dt.timedelta(minutes=130))
    people.roll_up()
    return people


@pytest.fixture
def story(story_people):
    """The story's campaign, as the pages read it."""
    story_people.campaign.refresh_from_db()
    return story_people.campaign
