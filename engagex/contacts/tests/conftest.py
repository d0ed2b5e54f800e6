"""Fixtures of the contacts tests that send real email (activity segments, the API's
unsubscribe): the delivery tests' SMTP sink and an organization exempt from warm-up."""

from engagex.delivery.tests.conftest import established_org, sink  # noqa: F401
