"""Per-domain pacing: configured rates, pauses on "slow down" deferrals, recovery."""

import pytest

from engagex.delivery.throttle import DomainThrottle, is_throttling, parse_rates


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.mark.parametrize(
    ("code", "reply", "expected"),
    [
        (421, "Service not available", True),
        (451, "4.7.1 Rate limited, slow down", True),
        (450, "4.7.28 Our system has detected an unusual rate", True),
        (450, "4.2.1 Mailbox busy", False),
        (452, "4.3.1 Insufficient system storage", False),
        (550, "5.7.1 Rejected by policy", False),  # permanent: not a deferral
        (None, "connection dropped", False),
    ],
)
def test_which_deferrals_mean_slow_down(code, reply, expected):
    assert is_throttling(code, reply) is expected


def test_rates_parse_and_bad_entries_fail_loudly():
    assert parse_rates(["Gmail.com=50", "yahoo.com=2.5"]) == {"gmail.com": 50.0, "yahoo.com": 2.5}
    for bad in (["gmail.com"], ["gmail.com=0"], ["=5"], ["gmail.com=fast"]):
        with pytest.raises(ValueError):
            parse_rates(bad)


def test_unconfigured_domains_are_unpaced():
    throttle = DomainThrottle({}, clock=Clock())
    assert all(throttle.admit("example.org") == 0 for _ in range(10_000))


def test_a_configured_rate_is_kept():
    clock = Clock()
    throttle = DomainThrottle({"gmail.com": 5}, clock=clock)
    assert [throttle.admit("gmail.com") for _ in range(5)] == [0] * 5
    assert throttle.admit("gmail.com") == pytest.approx(0.2)
    clock.now += 0.4
    assert [throttle.admit("gmail.com") for _ in range(3)][:2] == [0, 0]
    assert throttle.admit("other.org") == 0


def test_a_deferral_pauses_the_domain_then_it_recovers_at_half_pace_and_climbs_back():
    clock = Clock()
    throttle = DomainThrottle({"gmail.com": 8}, clock=clock)
    throttle.deferred("gmail.com")
    assert throttle.admit("gmail.com") == pytest.approx(60)
    assert throttle.admit("yahoo.com") == 0  # other domains go on
    clock.now += 60
    # Back at 4/s: a second's burst, then waits.
    clock.now += 1
    assert [throttle.admit("gmail.com") for _ in range(4)] == [0] * 4
    assert throttle.admit("gmail.com") > 0
    # A further deferral pauses longer (doubling).
    throttle.deferred("gmail.com")
    assert throttle.paused("gmail.com") == pytest.approx(120)
    # Calm minutes double the pace back to the configured 8/s.
    clock.now += 120 + 3 * 60 + 1
    assert [throttle.admit("gmail.com") for _ in range(8)] == [0] * 8
    assert throttle.admit("gmail.com") > 0


def test_an_unconfigured_domain_that_defers_gets_paced_until_it_recovers():
    clock = Clock()
    throttle = DomainThrottle({}, clock=clock)
    throttle.deferred("example.org")
    clock.now += 61
    admitted = sum(1 for _ in range(100) if throttle.admit("example.org") == 0)
    assert admitted == 10  # half the assumed 20/s
    clock.now += 60 * 12  # calm long enough: unpaced again
    assert all(throttle.admit("example.org") == 0 for _ in range(5_000))
