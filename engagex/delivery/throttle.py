"""Per recipient domain pacing, in each sender process (PRODUCT.md §E).

Mailbox providers defer senders who go too fast for them ("421 4.7.0 Try again
later"). Hammering on makes it worse, so a deferral of that kind slows that domain
down at once — the other domains go on at full speed:

- A domain can have a configured rate (messages per second per sender,
  `SENDING_DOMAIN_RATES`, e.g. ``gmail.com=50``); other domains are unpaced.
- A throttling deferral (SMTP 421, or an enhanced status 4.7.x) pauses the domain:
  1 minute, doubling on each further deferral up to 30 minutes, and after the pause
  it goes on at half its previous pace (at least one message a second).
- Every minute without a deferral doubles the pace again until it is back to the
  configured rate (or unpaced).

Messages of a paused or over-pace domain are not sent in this batch: they go back to
the queue, due when the domain has room again, without using up a retry.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass

PAUSE_FIRST = 60.0
PAUSE_MAX = 30 * 60.0
RECOVERY_SECONDS = 60.0
MIN_RATE = 1.0
# Above this a recovered, unconfigured domain counts as unpaced again.
UNPACED_AFTER = 1000.0
# Assumed pace of an unconfigured domain when its first deferral arrives.
DEFAULT_OBSERVED_RATE = 20.0

_ENHANCED_THROTTLE = re.compile(r"(?<![\d.])4\.7\.\d{1,3}(?![\d.])")


def is_throttling(code: int | None, reply: str) -> bool:
    """A deferral that says "slow down" rather than "this mailbox, later"."""
    return code == 421 or (
        code is not None and 400 <= code < 500 and bool(_ENHANCED_THROTTLE.search(reply or ""))
    )


def parse_rates(entries: Iterable[str]) -> dict[str, float]:
    """``["gmail.com=50", "yahoo.com=10"]`` → {"gmail.com": 50.0, …}; raises ValueError."""
    rates: dict[str, float] = {}
    for entry in entries:
        domain, _, value = entry.partition("=")
        domain = domain.strip().lower()
        rate = float(value)
        if not domain or rate <= 0:
            raise ValueError(f"bad domain rate {entry!r}; expected domain=messages-per-second")
        rates[domain] = rate
    return rates


@dataclass
class _Domain:
    configured: float | None
    rate: float | None
    tokens: float
    refilled_at: float
    paused_until: float = 0.0
    strikes: int = 0
    calm_since: float = 0.0


class DomainThrottle:
    def __init__(self, rates: dict[str, float] | None = None, clock=time.monotonic) -> None:
        self._configured = dict(rates or {})
        self._domains: dict[str, _Domain] = {}
        self._clock = clock

    def _state(self, domain: str, now: float) -> _Domain:
        state = self._domains.get(domain)
        if state is None:
            rate = self._configured.get(domain)
            state = self._domains[domain] = _Domain(rate, rate, rate or 0.0, now, calm_since=now)
        return state

    def _recover(self, state: _Domain, now: float) -> None:
        # Additive steps back up: one doubling per calm minute.
        while state.rate is not None and now - state.calm_since >= RECOVERY_SECONDS:
            state.calm_since += RECOVERY_SECONDS
            state.rate *= 2
            ceiling = state.configured or UNPACED_AFTER
            if state.rate >= ceiling:
                state.rate = state.configured
                state.strikes = 0
        if state.rate is not None:
            elapsed = now - state.refilled_at
            # Burst up to one second's worth.
            state.tokens = min(state.rate, state.tokens + elapsed * state.rate)
        state.refilled_at = now

    def admit(self, domain: str) -> float:
        """0.0 if one message to `domain` may go now (and counts it), else the number of
        seconds until the domain has room."""
        now = self._clock()
        state = self._state(domain, now)
        if state.paused_until > now:
            return state.paused_until - now
        self._recover(state, now)
        if state.rate is None:
            return 0.0
        if state.tokens >= 1 - 1e-9:  # float drift of the refill
            state.tokens -= 1
            return 0.0
        return max((1 - state.tokens) / state.rate, 0.05)

    def deferred(self, domain: str) -> None:
        """A throttling deferral from `domain`: pause it and halve its pace."""
        now = self._clock()
        state = self._state(domain, now)
        state.strikes += 1
        state.paused_until = now + min(PAUSE_FIRST * 2 ** (state.strikes - 1), PAUSE_MAX)
        state.rate = max((state.rate or DEFAULT_OBSERVED_RATE) / 2, MIN_RATE)
        state.tokens = 0.0
        state.refilled_at = state.paused_until
        state.calm_since = state.paused_until

    def paused(self, domain: str) -> float:
        state = self._domains.get(domain)
        return max(state.paused_until - self._clock(), 0.0) if state else 0.0
