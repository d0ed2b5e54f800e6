"""audit.record(): metadata only, never addresses, bodies or rows."""

import pytest

from engagex import audit
from engagex.audit.models import AuditEntry
from engagex.audit.services import REDACTED


def test_record_stores_who_what_and_when(org, owner):
    entry = audit.record(
        org, owner, "member.role_changed", "membership", "abc", {"from": "viewer", "to": "editor"}
    )
    entry.refresh_from_db()
    assert (entry.organization, entry.actor, entry.actor_label) == (org, owner, owner.email)
    assert entry.metadata == {"from": "viewer", "to": "editor"}
    assert entry.created_at is not None


def test_email_addresses_and_long_text_never_reach_the_log(org):
    entry = audit.record(
        org,
        None,
        "contacts.imported",
        metadata={
            "rows": 1200,
            "first_row": "jane@example.com,Jane,Doe",
            "address": "JANE@EXAMPLE.COM",
            "body": "x" * 5000,
            "nested": {"email": "a@b.c"},
            "list": ["ok", "bob@example.org"],
        },
    )
    entry.refresh_from_db()
    assert entry.metadata["rows"] == 1200
    assert entry.metadata["first_row"] == REDACTED
    assert entry.metadata["address"] == REDACTED
    assert len(entry.metadata["body"]) == 200
    assert "nested" not in entry.metadata
    assert entry.metadata["list"] == ["ok", REDACTED]
    assert "@" not in str(entry.metadata)


def test_anonymous_actor_is_recorded_as_system(org):
    from django.contrib.auth.models import AnonymousUser

    entry = audit.record(org, AnonymousUser(), "organization.suspended")
    assert entry.actor is None and entry.actor_label == ""


@pytest.mark.django_db
def test_entries_survive_the_actor_being_deleted(org, owner):
    audit.record(org, owner, "api_key.created", "api_key", "k1")
    owner.delete()
    entry = AuditEntry.objects.get(action="api_key.created")
    assert entry.actor is None and entry.actor_label.endswith("@example.com")
