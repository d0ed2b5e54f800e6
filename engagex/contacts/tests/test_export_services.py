"""Exports: which contacts, which columns, safe cells, audit — against the real database."""

import csv
import io

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from engagex.audit.models import AuditEntry
from engagex.contacts.services.exports import (
    ExportRequest,
    contacts_export_run,
    contacts_export_start,
)
from engagex.contacts.tests.factories import (
    ContactFactory,
    ContactListFactory,
    CustomFieldFactory,
    ListMembershipFactory,
    SegmentFactory,
)
from engagex.jobs.models import Job


def export(org, actor, **request):
    job = contacts_export_start(organization=org, actor=actor, request=ExportRequest(**request))
    contacts_export_run(job=job, request=ExportRequest(**request))
    job.refresh_from_db()
    return job


def rows(job) -> list[list[str]]:
    with job.result_file.open("rb") as stream:
        return list(csv.reader(io.StringIO(stream.read().decode("utf-8-sig"))))


def test_all_contacts_with_every_column_and_no_deleted_ones(org, editor):
    CustomFieldFactory(organization=org, key="plan", label="Plan")
    CustomFieldFactory(organization=org, key="age", label="Age", type="number")
    CustomFieldFactory(organization=org, key="vip", label="VIP", type="boolean")
    ContactFactory(
        organization=org,
        email="ada@example.org",
        first_name="Ada",
        last_name="Lovelace",
        tags=["a", "b"],
        fields={"plan": "pro", "age": 36, "vip": True},
        consent_source="Import: fair.csv",
    )
    ContactFactory(organization=org, email="gone@example.org", deleted_at=timezone.now())

    job = export(org, editor, scope="all")

    table = rows(job)
    assert table[0] == [
        "email",
        "first_name",
        "last_name",
        "status",
        "tags",
        "created_at",
        "consent_source",
        "consent_at",
        "consent_ip",
        "consent_text",
        "age",
        "plan",
        "vip",
    ]
    assert len(table) == 2
    ada = dict(zip(table[0], table[1], strict=True))
    assert (ada["email"], ada["tags"], ada["status"]) == ("ada@example.org", "a, b", "subscribed")
    assert (ada["age"], ada["plan"], ada["vip"]) == ("36", "pro", "true")
    assert ada["consent_source"] == "Import: fair.csv"
    assert job.status == Job.Status.SUCCEEDED
    assert job.result == {"count": 1, "scope": "all"}
    assert job.result_file.name.endswith(".csv")


def test_formula_like_cells_are_neutralized(org, editor):
    ContactFactory(
        organization=org,
        email="x@example.org",
        first_name="=HYPERLINK(1)",
        last_name="+1",
        tags=["@x"],
    )

    table = rows(export(org, editor, scope="all"))

    assert table[1][1:3] == ["'=HYPERLINK(1)", "'+1"]
    assert table[1][4] == "'@x"


def test_a_list_exports_its_members_only(org, editor):
    contact_list = ContactListFactory(organization=org)
    member = ListMembershipFactory(contact_list=contact_list).contact
    ContactFactory(organization=org, email="other@example.org")

    table = rows(export(org, editor, scope="list", list_id=str(contact_list.pk)))

    assert [row[0] for row in table[1:]] == [member.email]


def test_a_segment_exports_its_live_matches(org, editor):
    segment = SegmentFactory(
        organization=org,
        rules={
            "match": "all",
            "rules": [{"field": "tags", "operator": "has_any", "value": ["vip"]}],
        },
    )
    ContactFactory(organization=org, email="vip@example.org", tags=["vip"])
    ContactFactory(
        organization=org, email="gone@example.org", tags=["vip"], deleted_at=timezone.now()
    )
    ContactFactory(organization=org, email="plain@example.org")

    table = rows(export(org, editor, scope="segment", segment_id=str(segment.pk)))

    assert [row[0] for row in table[1:]] == ["vip@example.org"]


def test_a_search_exports_what_the_contacts_page_shows(org, editor):
    names = {"first_name": "Zed", "last_name": "Zed", "tags": ["fair"]}
    ContactFactory(organization=org, email="anna@example.org", **names)
    ContactFactory(organization=org, email="anton@example.org", status="unsubscribed", **names)
    ContactFactory(organization=org, email="bob@example.org", **names)

    table = rows(export(org, editor, scope="search", search="an", status="subscribed", tag="fair"))

    assert [row[0] for row in table[1:]] == ["anna@example.org"]


def test_export_is_audited_with_scope_and_count_but_no_addresses(org, editor):
    ContactFactory.create_batch(3, organization=org)

    job = export(org, editor, scope="all")

    entry = AuditEntry.objects.get(organization=org, action="contacts.exported")
    assert entry.target_id == str(job.pk)
    assert entry.metadata["scope"] == "all"
    assert entry.metadata["count"] == 3
    assert "@" not in str(entry.metadata)


@pytest.mark.parametrize(
    ("request_kwargs", "message"),
    [
        ({"scope": "everything"}, "Unknown export “everything”"),
        ({"scope": "list"}, "Choose a list."),
        ({"scope": "list", "list_id": "not-a-uuid"}, "Choose a list."),
        ({"scope": "segment"}, "Choose a segment."),
        ({"scope": "search", "status": "sleeping"}, "Unknown status “sleeping”."),
    ],
)
def test_unusable_requests_are_refused_and_queue_nothing(org, editor, request_kwargs, message):
    with pytest.raises(ValidationError, match=message):
        contacts_export_start(
            organization=org, actor=editor, request=ExportRequest(**request_kwargs)
        )
    assert not Job.objects.filter(organization=org).exists()


def test_another_organizations_list_is_not_found(org, other_org, editor):
    theirs = ContactListFactory(organization=other_org)

    with pytest.raises(ValidationError, match="Choose a list"):
        contacts_export_start(
            organization=org,
            actor=editor,
            request=ExportRequest(scope="list", list_id=str(theirs.pk)),
        )


def test_a_list_deleted_before_the_export_runs_fails_the_job_with_the_reason(org, editor):
    contact_list = ContactListFactory(organization=org)
    request = ExportRequest(scope="list", list_id=str(contact_list.pk))
    job = contacts_export_start(organization=org, actor=editor, request=request)
    contact_list.delete()

    assert contacts_export_run(job=job, request=request) == 0

    job.refresh_from_db()
    assert (job.status, job.error) == (Job.Status.FAILED, "Choose a list.")
