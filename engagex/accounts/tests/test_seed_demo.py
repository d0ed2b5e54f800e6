import pytest
from django.core.management import call_command

from engagex.accounts.models import Organization


@pytest.mark.django_db
def test_seed_demo_creates_the_demo_organization_once(capsys):
    call_command("seed_demo")
    call_command("seed_demo", verbosity=2)
    assert Organization.objects.filter(slug="demo").count() == 1
    output = capsys.readouterr().out
    assert "Seeded demo organization 'Demo Company'" in output
    assert "nothing to do" in output
