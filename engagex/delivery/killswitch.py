"""Kill switches: stop sending everywhere, or for one organization, within seconds.

Stored in the database (so every sender on every machine sees the same state) and read
by senders through `KillSwitchCache`, which re-reads at most once a second: a switch
turned on stops new claims within about a second; batches already handed to the SMTP
server finish. Turning it off resumes where the queue stands.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from engagex import audit
from engagex.delivery.models import KillSwitch

CACHE_SECONDS = 1.0


@dataclass(frozen=True)
class KillSwitchState:
    global_on: bool
    organizations_on: frozenset[str]

    def stops(self, organization_id) -> bool:
        return self.global_on or str(organization_id) in self.organizations_on


def killswitch_state() -> KillSwitchState:
    rows = KillSwitch.objects.filter(is_on=True).values_list("organization_id", flat=True)
    ids = list(rows)
    return KillSwitchState(
        global_on=None in ids,
        organizations_on=frozenset(str(org_id) for org_id in ids if org_id is not None),
    )


@transaction.atomic
def killswitch_set(*, actor, on: bool, organization=None, reason: str = "") -> KillSwitch:
    """Turn the global switch (no organization) or an organization's switch on or off."""
    switch, _ = KillSwitch.objects.select_for_update().get_or_create(organization=organization)
    switch.is_on = on
    switch.reason = reason[:300]
    switch.changed_by = actor if getattr(actor, "is_authenticated", False) else None
    switch.changed_at = timezone.now()
    switch.save()
    audit.record(
        organization,
        actor,
        "delivery.killswitch_on" if on else "delivery.killswitch_off",
        "killswitch",
        switch.pk,
        {"scope": "organization" if organization else "global", "reason": reason[:200] or None},
    )
    return switch


class KillSwitchCache:
    """What a sender consults before every claim: at most one query a second."""

    def __init__(self, ttl: float = CACHE_SECONDS, clock=time.monotonic) -> None:
        self._ttl = ttl
        self._clock = clock
        self._state: KillSwitchState | None = None
        self._read_at = 0.0

    def state(self) -> KillSwitchState:
        now = self._clock()
        if self._state is None or now - self._read_at >= self._ttl:
            self._state = killswitch_state()
            self._read_at = now
        return self._state
