import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command

from engagex.accounts.models import Membership, Organization


@pytest.fixture(autouse=True)
def private_var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path


@pytest.mark.django_db
def test_seed_demo_creates_the_demo_team_once(capsys, client, settings):
    call_command("seed_demo")
    call_command("seed_demo", verbosity=2)
    assert Organization.objects.filter(slug="demo").count() == 1
    output = capsys.readouterr().out
    assert "Seeded demo organization 'Demo Company'" in output
    assert "nothing to do" in output
    roles = dict(
        Membership.objects.filter(organization__slug="demo").values_list("user__email", "role")
    )
    assert roles == {
        "demo@example.com": "owner",
        "editor@example.com": "editor",
        "viewer@example.com": "viewer",
    }
    assert EmailAddress.objects.filter(email="demo@example.com", verified=True).exists()
    # The printed password signs in for real.
    password = (settings.VAR_DIR / "demo_password").read_text().strip()
    response = client.post(
        "/accounts/login/", {"login": "demo@example.com", "password": password}, follow=True
    )
    assert response.context["request"].organization.slug == "demo"


@pytest.mark.django_db
def test_seed_demo_restores_the_printed_password(settings):
    call_command("seed_demo")
    (settings.VAR_DIR / "demo_password").unlink()
    call_command("seed_demo")
    from engagex.accounts.models import User

    password = (settings.VAR_DIR / "demo_password").read_text().strip()
    assert User.objects.get(email="viewer@example.com").check_password(password)
