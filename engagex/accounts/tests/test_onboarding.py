"""The onboarding wizard: three steps, then an organization, an owner membership and a welcome."""

import pytest
from django.core import mail
from django.urls import reverse

from engagex.accounts.models import Membership, Organization
from engagex.accounts.tests.factories import UserFactory
from engagex.audit.models import AuditEntry

URL = reverse("accounts:onboarding")
BASICS = {"name": "Blue Bottle", "country": "FR", "time_zone": "Europe/Paris"}
ADDRESS = {"postal_address": "12 Rue de Rivoli\n75001 Paris"}
SENDER = {
    "default_from_name": "Blue Bottle",
    "default_from_email": "news@bluebottle.example",
    "reply_to_email": "",
}


@pytest.fixture
def newcomer(db):
    return UserFactory(email="newcomer@example.com", full_name="Nina New")


@pytest.fixture
def wizard_client(login, newcomer):
    return login(newcomer)


def test_wizard_creates_the_organization_and_sends_a_welcome(
    wizard_client, newcomer, django_capture_on_commit_callbacks
):
    page = wizard_client.get(URL).content.decode()
    assert "Step 1 of 3" in page and "Organization name" in page
    response = wizard_client.post(URL, BASICS)
    assert response.url == f"{URL}?step=2"
    assert "Step 2 of 3" in wizard_client.get(response.url).content.decode()
    response = wizard_client.post(f"{URL}?step=2", ADDRESS)
    assert response.url == f"{URL}?step=3"
    # The sender address starts as the user's own.
    assert 'value="newcomer@example.com"' in wizard_client.get(response.url).content.decode()
    assert not Organization.objects.filter(name="Blue Bottle").exists()  # only at the end

    with django_capture_on_commit_callbacks(execute=True):
        response = wizard_client.post(f"{URL}?step=3", SENDER, follow=True)

    organization = Organization.objects.get(name="Blue Bottle")
    assert (organization.country.code, organization.time_zone) == ("FR", "Europe/Paris")
    assert organization.postal_address == "12 Rue de Rivoli\n75001 Paris"
    assert organization.default_from_email == "news@bluebottle.example"
    assert organization.plan.code == "free"
    assert organization.status == "active"
    assert Membership.objects.get(organization=organization).user == newcomer
    assert Membership.objects.get(organization=organization).role == "owner"
    # Lands on the dashboard of the new organization, with a toast.
    assert response.redirect_chain[-1][0] == reverse("web:dashboard")
    page = response.content.decode()
    assert "<h1>Blue Bottle</h1>" in page
    assert "Blue Bottle is ready" in page
    # The welcome email: HTML and text.
    (welcome,) = mail.outbox
    assert welcome.to == ["newcomer@example.com"]
    assert welcome.subject == "Welcome to EngageX"
    assert "Blue Bottle is ready on EngageX" in welcome.body
    html = welcome.alternatives[0].content
    assert "Blue Bottle" in html and "http://127.0.0.1:8000/" in html
    assert AuditEntry.objects.filter(organization=organization, action="organization.created")


def test_invalid_answers_show_errors_and_keep_the_step(wizard_client):
    response = wizard_client.post(URL, {"name": "", "country": "XX", "time_zone": "Mars/Base"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Step 1 of 3" in page
    assert page.count('class="field__errors"') == 3
    wizard_client.post(URL, BASICS)
    response = wizard_client.post(f"{URL}?step=2", {"postal_address": "Paris"})
    assert "Enter a full postal address" in response.content.decode()
    wizard_client.post(f"{URL}?step=2", ADDRESS)
    response = wizard_client.post(f"{URL}?step=3", {**SENDER, "default_from_email": "not-an-email"})
    assert "Enter a valid email address" in response.content.decode()
    assert not Organization.objects.filter(name="Blue Bottle").exists()


def test_steps_cannot_be_skipped(wizard_client):
    # Jumping to the last step with nothing answered lands on the first missing one.
    page = wizard_client.get(f"{URL}?step=3").content.decode()
    assert "Step 1 of 3" in page
    wizard_client.post(URL, BASICS)
    assert "Step 2 of 3" in wizard_client.get(f"{URL}?step=3").content.decode()
    assert "Step 1 of 3" in wizard_client.get(f"{URL}?step=banana").content.decode()


def test_back_returns_to_the_previous_step_with_answers_kept(wizard_client):
    wizard_client.post(URL, BASICS)
    response = wizard_client.post(f"{URL}?step=2", {"back": "1"})
    assert response.url == f"{URL}?step=1"
    page = wizard_client.get(response.url).content.decode()
    assert 'value="Blue Bottle"' in page


def test_members_skip_onboarding_and_anonymous_must_sign_in(client, login, owner, org):
    response = client.get(URL)
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    response = login(owner, org).get(URL)
    assert response.url == reverse("web:dashboard")
