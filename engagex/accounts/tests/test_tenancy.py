import uuid

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.test import RequestFactory

from engagex.accounts.models import Membership, Organization
from engagex.accounts.tenancy import get_for_org, organization_required
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


def _request(membership):
    request = RequestFactory().post("/")
    request.membership = membership
    return request


@organization_required(write=True)
def write_view(request):
    return HttpResponse("written")


@organization_required()
def read_view(request):
    return HttpResponse("read")


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
    with pytest.raises(Http404):
        read_view(_request(_NoMembership()))


@pytest.mark.django_db
def test_organization_model_is_uuid7():
    assert Organization.objects.create(name="X", slug="x").pk.version == 7
