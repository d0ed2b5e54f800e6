"""Telling an organization about feedback that needs a person (PRODUCT.md §F).

Placeholder kept deliberately small: the notifications work (in-app + email to owners)
and the automatic suspension on bad reputation replace these bodies.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def policy_bounce(organization, *, delivery, status: str, diagnostic: str) -> None:
    log.warning(
        "policy bounce",
        extra={"organization": str(organization.pk), "status": status, "diagnostic": diagnostic},
    )


def reputation_check(organization) -> None:
    """Called after every bounce or complaint."""
