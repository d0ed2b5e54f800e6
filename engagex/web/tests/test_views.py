import pytest
from django.urls import reverse
from procrastinate.contrib.django.models import ProcrastinateJob

from engagex.accounts.tests.factories import MembershipFactory, UserFactory
from engagex.jobs.models import Job


def test_dashboard_shows_the_organization_usage_and_system_status(login, owner, org):
    page = login(owner, org).get(reverse("web:dashboard")).content.decode()
    assert "<h1>Acme Inc</h1>" in page
    assert "Free" in page  # the plan
    assert "of 1,000 on your plan" in page
    assert "Getting started" in page
    assert "Invite your team" in page
    assert "System status" in page
    assert "Connected" in page  # the database
    assert "Not running" in page  # no worker heartbeat in tests
    assert "Nothing to show yet" in page


@pytest.mark.django_db
def test_dashboard_needs_sign_in_and_an_organization(client, login):
    response = client.get(reverse("web:dashboard"))
    assert (response.status_code, response.url) == (302, "/accounts/login/?next=/")
    response = login(UserFactory()).get(reverse("web:dashboard"))
    assert (response.status_code, response.url) == (302, reverse("accounts:onboarding"))


def test_dashboard_sidebar_marks_unbuilt_sections(login, viewer, org):
    page = login(viewer, org).get(reverse("web:dashboard")).content.decode()
    assert 'aria-current="page"' in page
    # Automations, Analytics, Domains are not built yet; Templates and Campaigns are.
    assert page.count("Soon") == 3
    assert 'href="/templates/"' in page and 'href="/campaigns/"' in page
    # Admin-only sections are not offered to a viewer.
    assert "Audit log" not in page
    assert "API keys" not in page
    assert 'href="/team/"' in page


def test_sidebar_offers_admin_sections_to_admins(login, owner, org):
    page = login(owner, org).get(reverse("web:dashboard")).content.decode()
    assert 'href="/audit/"' in page
    assert 'href="/settings/api-keys/"' in page


def test_top_bar_switches_between_the_users_organizations(login, owner, org, other_org):
    MembershipFactory(organization=other_org, user=owner, role="viewer")
    client = login(owner, org)
    page = client.get(reverse("web:dashboard")).content.decode()
    assert "Outsider Ltd" in page and 'aria-current="true"' in page
    response = client.post(
        reverse("accounts:organization-switch"),
        {"organization": str(other_org.pk), "next": "/settings/?tab=x"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/settings/"
    assert response.context["request"].organization == other_org
    assert "Switched to Outsider Ltd" in response.content.decode()


def test_suspended_organization_shows_a_banner(login, owner, org):
    org.status = "suspended"
    org.save()
    page = login(owner, org).get(reverse("web:dashboard")).content.decode()
    assert "This organization is suspended" in page


@pytest.mark.django_db
def test_developer_pages_hidden_without_debug(client, settings, login, owner, org):
    settings.DEBUG = False
    assert client.get(reverse("web:styleguide")).status_code == 404
    assert client.post(reverse("web:styleguide-demo-delete")).status_code == 404
    assert "Styleguide" not in login(owner, org).get(reverse("web:dashboard")).content.decode()


@pytest.mark.django_db
def test_styleguide_shows_every_component(client, debug_on):
    page = client.get(reverse("web:styleguide")).content.decode()
    for marker in (
        'class="page-header"',
        'class="breadcrumb"',
        "btn--primary",
        "btn--secondary",
        "btn--danger",
        "btn--ghost",
        'class="badge',
        'data-status="throttled"',
        'class="health ',
        'class="card stat',
        'id="demo-table"',
        'class="empty"',
        'id="confirm-modal"',
        'id="toast-template"',
        "<progress",
        "--color-accent-2",
    ):
        assert marker in page, marker


@pytest.mark.django_db
def test_styleguide_table_searches_filters_sorts(client, debug_on):
    page = client.get(
        reverse("web:styleguide"), {"status": "sent", "sort": "-recipients"}
    ).content.decode()
    rows = page.split('id="demo-table-results"')[1].split("</tbody>")[0]
    assert 'data-status="sent"' in rows
    assert 'data-status="draft"' not in rows
    assert 'aria-sort="descending"' in page


@pytest.mark.django_db
def test_confirmed_delete_demo_round_trips_a_toast(client, debug_on):
    response = client.post(reverse("web:styleguide-demo-delete"), follow=True)
    assert "Demo item deleted" in response.content.decode()
    assert client.get(reverse("web:styleguide-demo-delete")).status_code == 405


@pytest.mark.django_db
def test_demo_job_is_created_and_queued(django_capture_on_commit_callbacks, client, debug_on):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("web:styleguide-demo-job-start"), headers={"HX-Request": "true"}
        )
    job = Job.objects.get()
    assert (job.kind, job.status, job.organization.slug) == ("demo", "queued", "demo")
    assert (
        ProcrastinateJob.objects.filter(task_name="engagex.jobs.tasks.demo_progress").count() == 1
    )
    fragment = response.content.decode()
    assert f'id="job-{job.id}"' in fragment
    assert reverse("web:styleguide-demo-job", args=[job.id]) in fragment
    assert "Waiting for a worker" in fragment


def test_only_the_most_specific_sidebar_item_is_current(login, owner, org):
    page = login(owner, org).get(reverse("accounts:api-keys")).content.decode()
    assert page.count('aria-current="page"') == 1
    current = page.split('aria-current="page"')[1].split("</a>")[0]
    assert "API keys" in current
