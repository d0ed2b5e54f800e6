"""Segment services: create, update, duplicate, delete — validated, audited, all-or-nothing."""

import pytest
from django.core.exceptions import ValidationError

from engagex.audit.models import AuditEntry
from engagex.contacts.models import Segment
from engagex.contacts.services.segments import (
    segment_create,
    segment_delete,
    segment_duplicate,
    segment_update,
)
from engagex.contacts.tests.factories import ContactListFactory, SegmentFactory

pytestmark = pytest.mark.django_db

VIP = {"match": "all", "rules": [{"field": "tags", "operator": "has_any", "value": "vip"}]}


def test_create_stores_normalized_rules_and_audits_without_addresses(org, editor):
    rules = {
        "match": "all",
        "rules": [
            {"field": "email", "operator": "equals", "value": "Anna@Example.org"},
            {"field": "tags", "operator": "has_any", "value": "vip"},
        ],
    }
    segment = segment_create(
        organization=org, actor=editor, name="  Top   fans ", description=" Best ", rules=rules
    )
    segment.refresh_from_db()
    assert segment.name == "Top fans"
    assert segment.description == "Best"
    assert segment.created_by == editor
    assert segment.rules["rules"][0]["value"] == "anna@example.org"
    assert segment.rules["rules"][1]["value"] == ["vip"]
    entry = AuditEntry.objects.get(action="contacts.segment_created")
    assert entry.organization == org and entry.actor == editor
    assert entry.target_id == str(segment.pk)
    assert entry.metadata == {"rules": 2}
    assert "anna" not in str(entry.metadata)


def test_every_problem_is_reported_and_nothing_saved(org, editor):
    SegmentFactory(organization=org, name="VIPs")
    with pytest.raises(ValidationError) as caught:
        segment_create(
            organization=org,
            actor=editor,
            name="vips",
            description="x" * 301,
            rules={"match": "all", "rules": [{"field": "nope", "operator": "is", "value": 1}]},
        )
    errors = caught.value.message_dict
    assert errors["name"] == ["A segment named “vips” already exists."]
    assert errors["description"] == ["Use at most 300 characters."]
    assert errors["rules"] == ["Rule 1: Unknown field “nope”."]
    assert Segment.objects.count() == 1
    assert not AuditEntry.objects.filter(action__startswith="contacts.segment").exists()


def test_a_name_and_at_least_one_rule_are_required(org, editor):
    with pytest.raises(ValidationError) as caught:
        segment_create(
            organization=org, actor=editor, name="  ", rules={"match": "all", "rules": []}
        )
    assert caught.value.message_dict == {
        "name": ["Give the segment a name, e.g. “Active VIPs”."],
        "rules": ["Add at least one rule."],
    }


def test_same_name_in_another_organization_is_fine(org, other_org, editor):
    SegmentFactory(organization=other_org, name="VIPs")
    assert segment_create(organization=org, actor=editor, name="VIPs", rules=VIP).pk


def test_update_changes_rules_and_keeps_its_own_name(org, editor):
    segment = segment_create(organization=org, actor=editor, name="VIPs", rules=VIP)
    newsletter = ContactListFactory(organization=org)
    rules = {
        "match": "any",
        "rules": [{"field": "list", "operator": "member_of", "value": str(newsletter.pk)}],
    }
    segment_update(organization=org, actor=editor, segment=segment, name="VIPs", rules=rules)
    segment.refresh_from_db()
    assert segment.rules == rules
    assert AuditEntry.objects.filter(
        action="contacts.segment_updated", target_id=str(segment.pk)
    ).exists()


def test_failed_update_changes_nothing(org, editor):
    segment = segment_create(organization=org, actor=editor, name="VIPs", rules=VIP)
    bad = {"match": "all", "rules": [{"field": "status", "operator": "is", "value": "asleep"}]}
    with pytest.raises(ValidationError):
        segment_update(organization=org, actor=editor, segment=segment, name="Renamed", rules=bad)
    segment.refresh_from_db()
    assert segment.name == "VIPs"
    assert segment.rules == VIP | {"rules": [{**VIP["rules"][0], "value": ["vip"]}]}


def test_duplicate_picks_a_free_name(org, editor):
    segment = segment_create(organization=org, actor=editor, name="VIPs", rules=VIP)
    first = segment_duplicate(organization=org, actor=editor, segment=segment)
    second = segment_duplicate(organization=org, actor=editor, segment=segment)
    assert (first.name, second.name) == ("Copy of VIPs", "Copy of VIPs (2)")
    assert first.rules == segment.rules
    long = segment_create(organization=org, actor=editor, name="L" * 100, rules=VIP)
    assert len(segment_duplicate(organization=org, actor=editor, segment=long).name) == 100


def test_duplicate_of_stale_rules_is_refused(org, editor):
    newsletter = ContactListFactory(organization=org)
    rules = {
        "match": "all",
        "rules": [{"field": "list", "operator": "member_of", "value": str(newsletter.pk)}],
    }
    segment = segment_create(organization=org, actor=editor, name="Readers", rules=rules)
    newsletter.delete()
    with pytest.raises(ValidationError):
        segment_duplicate(organization=org, actor=editor, segment=segment)
    assert Segment.objects.count() == 1


def test_delete_is_audited(org, editor):
    segment = segment_create(organization=org, actor=editor, name="VIPs", rules=VIP)
    segment_id = str(segment.pk)
    segment_delete(organization=org, actor=editor, segment=segment)
    assert not Segment.objects.exists()
    entry = AuditEntry.objects.get(action="contacts.segment_deleted")
    assert entry.target_id == segment_id and entry.metadata == {"rules": 1}


def test_services_refuse_another_organizations_segment(org, other_org, editor):
    foreign = SegmentFactory(organization=other_org, rules=VIP)
    with pytest.raises(ValueError):
        segment_update(organization=org, actor=editor, segment=foreign, name="x", rules=VIP)
    with pytest.raises(ValueError):
        segment_duplicate(organization=org, actor=editor, segment=foreign)
    with pytest.raises(ValueError):
        segment_delete(organization=org, actor=editor, segment=foreign)
    assert Segment.objects.filter(pk=foreign.pk).exists()
