"""Fixtures of the tracking tests: the delivery tests' real SMTP sink and an
organization exempt from warm-up, so messages really go out and come back in."""

from engagex.delivery.tests.conftest import established_org, sink  # noqa: F401
