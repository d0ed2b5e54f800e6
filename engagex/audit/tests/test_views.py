"""The audit log page: admins and owners only, one organization's entries, filterable."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from engagex import audit
from engagex.accounts.tests.factories import MembershipFactory
from engagex.audit.models import AuditEntry

URL = reverse("audit:log")


@pytest.fixture
def admin(org):
    return MembershipFactory(organization=org, role="admin").user


@pytest.fixture
def entries(org, other_org, owner, admin, outsider):
    audit.record(org, owner, "api_key.created", "api_key", "key-1")
    audit.record(org, admin, "member.role_changed", "membership", "m-1", {"to": "editor"})
    old = audit.record(org, owner, "plan.changed", "organization", org.pk, {"to": "pro"})
    AuditEntry.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=10))
    audit.record(other_org, outsider, "organization.secret_thing", "organization", other_org.pk)


def _rows(response) -> str:
    return response.content.decode().split('id="audit-results"')[1]


def test_admin_sees_this_organizations_entries_only(login, admin, org, entries):
    response = login(admin, org).get(URL)
    rows = _rows(response)
    assert "api_key.created" in rows and "member.role_changed" in rows and "plan.changed" in rows
    assert "organization.secret_thing" not in response.content.decode()
    assert "to: editor" in rows


def test_filters_by_action_user_and_date(login, owner, admin, org, entries):
    client = login(owner, org)
    rows = _rows(client.get(URL, {"action": "plan.changed"}))
    assert "plan.changed" in rows and "api_key.created" not in rows
    rows = _rows(client.get(URL, {"user": str(admin.pk)}))
    assert "member.role_changed" in rows and "api_key.created" not in rows
    rows = _rows(client.get(URL, {"period": "week"}))
    assert "api_key.created" in rows and "plan.changed" not in rows
    rows = _rows(client.get(URL, {"q": "membership"}))
    assert "member.role_changed" in rows and "api_key.created" not in rows
    # A filter value from elsewhere is ignored, not an error.
    assert client.get(URL, {"action": "organization.secret_thing"}).status_code == 200


def test_filtering_to_nothing_shows_an_empty_state(login, owner, org, entries):
    page = login(owner, org).get(URL, {"q": "no-such-thing"}).content.decode()
    assert "Nothing matches your search" in page


def test_empty_log_explains_what_will_appear(login, owner, org):
    client = login(owner, org)
    AuditEntry.objects.all().delete()  # signing in is itself logged
    page = client.get(URL).content.decode()
    assert "Nothing logged yet" in page


def test_paginates(login, owner, org):
    for number in range(60):
        audit.record(org, owner, "test.event", "thing", str(number))
    client = login(owner, org)
    assert _rows(client.get(URL)).count("<tr") == 51  # header + 50
    assert _rows(client.get(URL, {"page": 2})).count("test.event") == 10


@pytest.mark.parametrize("role", ["editor", "viewer"])
def test_editors_and_viewers_get_403(login, org, role):
    user = MembershipFactory(organization=org, role=role).user
    assert login(user, org).get(URL).status_code == 403


def test_outsider_sees_only_their_own_log(login, outsider, other_org, entries):
    page = login(outsider, other_org).get(URL).content.decode()
    assert "organization.secret_thing" in page and "api_key.created" not in page


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


def test_query_count_does_not_grow_with_entries(login, owner, org, django_assert_max_num_queries):
    client = login(owner, org)
    for number in range(30):
        audit.record(org, owner, "test.event", "thing", str(number))
    with django_assert_max_num_queries(12):
        client.get(URL)
