"""Kill switches: service, cache, command; audited."""

import pytest
from django.core.management import CommandError, call_command

from engagex.audit.models import AuditEntry
from engagex.delivery.killswitch import KillSwitchCache, killswitch_set, killswitch_state


def test_global_and_organization_switches(org, other_org, owner):
    assert not killswitch_state().stops(org.pk)

    killswitch_set(actor=owner, on=True, organization=org, reason="bounce storm")
    state = killswitch_state()
    assert state.stops(org.pk) and not state.stops(other_org.pk)

    killswitch_set(actor=None, on=True)
    assert killswitch_state().stops(other_org.pk)
    killswitch_set(actor=None, on=False)
    killswitch_set(actor=owner, on=False, organization=org)
    assert not killswitch_state().stops(org.pk)

    actions = list(AuditEntry.objects.order_by("id").values_list("action", flat=True))
    assert actions.count("delivery.killswitch_on") == 2
    assert actions.count("delivery.killswitch_off") == 2


def test_cache_rereads_at_most_once_per_ttl(org, django_assert_num_queries):
    now = [0.0]
    cache = KillSwitchCache(ttl=1.0, clock=lambda: now[0])
    with django_assert_num_queries(1):
        cache.state()
        cache.state()
    killswitch_set(actor=None, on=True, organization=org)
    assert not cache.state().stops(org.pk)  # still the cached answer
    now[0] = 1.0
    assert cache.state().stops(org.pk)  # re-read after a second


def test_command_turns_switches_on_and_off(org, capsys):
    call_command("killswitch", "on", "--org", org.slug, "--reason", "abuse report")
    assert killswitch_state().stops(org.pk)
    call_command("killswitch", "status")
    assert f"organization {org.slug}: on" in capsys.readouterr().out
    call_command("killswitch", "on")
    assert killswitch_state().global_on
    call_command("killswitch", "off")
    call_command("killswitch", "off", "--org", org.slug)
    assert not killswitch_state().stops(org.pk)
    with pytest.raises(CommandError, match="No organization"):
        call_command("killswitch", "on", "--org", "no-such-org")
