import uuid

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.test import RequestFactory

from engagex.accounts.models import Membership
from engagex.accounts.tenancy import get_for_org, organization_required
from engagex.accounts.tests.factories import OrganizationFactory, UserFactory
from engagex.jobs.models import Job


@pytest.fixture
def job(org):
    return Job.objects.create(organization=org, kind="demo", title="Mine")


def test_get_for_org_returns_own_rows(org, job):
    assert get_for_org(Job, org, job.pk) == job


def test_get_for_org_hides_other_organizations_rows(other_org, job):
    with pytest.raises(Http404):
        get_for_org(Job, other_org, job.pk)


@pytest.mark.parametrize("bad_pk", ["not-a-uuid", uuid.uuid4()])
def test_get_for_org_404s_on_unknown_or_malformed_ids(org, bad_pk):
    with pytest.raises(Http404):
        get_for_org(Job, org, bad_pk)


def test_get_for_org_without_organization_is_404(job):
    with pytest.raises(Http404):
        get_for_org(Job, None, job.pk)


def test_get_for_org_accepts_a_queryset(org, job):
    assert get_for_org(Job.objects.filter(kind="demo"), org, job.pk) == job
    with pytest.raises(Http404):
        get_for_org(Job.objects.filter(kind="other"), org, job.pk)


def _request(membership, user=None):
    request = RequestFactory().post("/")
    request.user = user or UserFactory()
    request.membership = membership
    return request


@organization_required(write=True)
def write_view(request):
    return HttpResponse("written")


@organization_required()
def read_view(request):
    return HttpResponse("read")


@organization_required(role="admin")
def manage_view(request):
    return HttpResponse("managed")


@organization_required(role="owner")
def owner_view(request):
    return HttpResponse("owned")


class _NoMembership:
    def __bool__(self):
        return False


@pytest.mark.django_db
def test_roles_guard_writes(org):
    viewer = Membership(organization=org, role=Membership.Role.VIEWER)
    editor = Membership(organization=org, role=Membership.Role.EDITOR)
    assert read_view(_request(viewer)).content == b"read"
    with pytest.raises(PermissionDenied):
        write_view(_request(viewer))
    assert write_view(_request(editor)).content == b"written"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("viewer", {"read"}),
        ("editor", {"read", "write"}),
        ("admin", {"read", "write", "manage"}),
        ("owner", {"read", "write", "manage", "own"}),
    ],
)
def test_role_ladder(org, role, allowed):
    membership = Membership(organization=org, role=role)
    views = {"read": read_view, "write": write_view, "manage": manage_view, "own": owner_view}
    for name, view in views.items():
        if name in allowed:
            assert view(_request(membership)).status_code == 200, name
        else:
            with pytest.raises(PermissionDenied):
                view(_request(membership))


@pytest.mark.django_db
def test_no_organization_goes_to_onboarding_and_anonymous_to_sign_in():
    response = read_view(_request(_NoMembership()))
    assert (response.status_code, response.url) == (302, "/onboarding/")
    request = _request(_NoMembership(), user=AnonymousUser())
    request.path = "/campaigns/"
    response = read_view(request)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/?next=")


@pytest.mark.django_db
def test_organization_model_is_uuid7():
    assert OrganizationFactory().pk.version == 7
