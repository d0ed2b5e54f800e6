"""Suppression services: add one or many, remove, look up, and the SQL hash match."""

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Value

from engagex.audit.models import AuditEntry
from engagex.contacts.emails import email_hash
from engagex.contacts.models import Contact, Suppression
from engagex.contacts.selectors.suppressions import (
    Sha256Hex,
    suppressed_exists,
    suppression_counts,
    suppressions_filter,
)
from engagex.contacts.services.suppressions import (
    is_suppressed,
    suppression_add,
    suppression_remove,
    suppressions_add_many,
)
from engagex.contacts.tests.factories import ContactFactory, SuppressionFactory


def test_add_normalizes_and_records_who_and_why(org, editor):
    entry = suppression_add(
        organization=org, actor=editor, email="  Jane@Example.COM ", reason="manual", source="Phone"
    )
    assert (entry.email, entry.reason, entry.source, entry.created_by) == (
        "jane@example.com",
        "manual",
        "Phone",
        editor,
    )
    assert entry.email_hash == email_hash("jane@example.com")
    audit = AuditEntry.objects.get(action="contacts.suppression_added")
    assert audit.target_id == str(entry.pk)
    assert "jane" not in str(audit.metadata)


def test_add_is_idempotent_and_keeps_the_first_reason(org, editor):
    first = suppression_add(organization=org, actor=None, email="a@example.com", reason="complaint")
    again = suppression_add(organization=org, actor=editor, email="A@example.com", reason="manual")
    assert again.pk == first.pk and again.reason == "complaint"
    assert Suppression.objects.filter(organization=org).count() == 1


def test_system_adds_are_not_audited(org):
    entry = suppression_add(
        organization=org, actor=None, email="b@example.com", reason="hard_bounce"
    )
    assert entry.created_by is None
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize(
    ("email", "reason", "message"),
    [
        ("not-an-address", "manual", "is not a valid email address"),
        ("", "manual", "The email address is empty."),
        ("ok@example.com", "because", "Unknown suppression reason"),
    ],
)
def test_add_refuses_bad_input(org, editor, email, reason, message):
    with pytest.raises(ValidationError, match=message):
        suppression_add(organization=org, actor=editor, email=email, reason=reason)
    assert not Suppression.objects.exists()


def test_add_many_counts_added_already_duplicates_and_invalid(org, editor):
    SuppressionFactory(organization=org, email="old@example.com")
    result = suppressions_add_many(
        organization=org,
        actor=editor,
        emails=[
            "new@example.com",
            "",
            "OLD@example.com",
            "new@example.com",
            "broken@",
            "zoë@bücher.example",
            "   ",
            "two words@example.com",
        ],
        source="Old tool",
    )
    assert (result["added"], result["already"], result["duplicates"], result["invalid"]) == (
        2,
        1,
        1,
        2,
    )
    assert [(item["position"], item["value"]) for item in result["invalid_items"]] == [
        (5, "broken@"),
        (8, "two words@example.com"),
    ]
    assert all(item["error"] for item in result["invalid_items"])
    rows = Suppression.objects.filter(organization=org, reason="imported")
    assert sorted(rows.values_list("email", flat=True)) == ["new@example.com", "zoë@bücher.example"]
    assert set(rows.values_list("source", flat=True)) == {"Old tool"}
    assert set(rows.values_list("created_by", flat=True)) == {editor.pk}
    audit = AuditEntry.objects.get(action="contacts.suppressions_imported")
    assert audit.metadata == {"reason": "imported", "added": 2, "already": 1, "invalid": 2}


def test_add_many_handles_more_than_one_chunk(org, editor):
    emails = [f"person{index}@example.com" for index in range(5003)]
    result = suppressions_add_many(organization=org, actor=editor, emails=emails)
    assert result["added"] == 5003
    assert Suppression.objects.filter(organization=org).count() == 5003


def test_add_many_with_nothing_in_it_is_refused(org, editor):
    with pytest.raises(ValidationError, match="at least one email address"):
        suppressions_add_many(organization=org, actor=editor, emails=["", "  "])
    assert not AuditEntry.objects.exists()


def test_add_many_with_only_invalid_lines_adds_nothing_but_reports_them(org, editor):
    result = suppressions_add_many(organization=org, actor=editor, emails=["nope", "also nope"])
    assert (result["added"], result["invalid"]) == (0, 2)
    assert not Suppression.objects.exists()


def test_add_many_does_not_touch_another_organization(org, other_org, editor):
    SuppressionFactory(organization=other_org, email="shared@example.com")
    result = suppressions_add_many(organization=org, actor=editor, emails=["shared@example.com"])
    assert result["added"] == 1
    assert Suppression.objects.filter(email="shared@example.com").count() == 2


def test_remove_deletes_and_audits_without_the_address(org, owner):
    entry = SuppressionFactory(organization=org, email="gone@example.com", reason="hard_bounce")
    entry_id = entry.pk
    suppression_remove(organization=org, actor=owner, suppression=entry)
    assert not Suppression.objects.filter(pk=entry_id).exists()
    audit = AuditEntry.objects.get(action="contacts.suppression_removed")
    assert audit.target_id == str(entry_id)
    assert audit.metadata == {"reason": "hard_bounce"}


def test_an_anonymized_entry_cannot_be_removed(org, owner):
    entry = SuppressionFactory(
        organization=org, email="", email_hash=email_hash("x@example.com"), reason="anonymized"
    )
    with pytest.raises(ValidationError, match="anonymized contact"):
        suppression_remove(organization=org, actor=owner, suppression=entry)
    assert Suppression.objects.filter(pk=entry.pk).exists()
    assert not AuditEntry.objects.exists()


def test_remove_refuses_an_entry_of_another_organization(org, other_org, owner):
    entry = SuppressionFactory(organization=other_org)
    with pytest.raises(ValueError):
        suppression_remove(organization=org, actor=owner, suppression=entry)
    assert Suppression.objects.filter(pk=entry.pk).exists()


def test_is_suppressed_matches_any_spelling_and_only_this_organization(org, other_org):
    SuppressionFactory(organization=org, email="jane@example.com")
    assert is_suppressed(organization=org, email=" JANE@example.com")
    assert not is_suppressed(organization=other_org, email="jane@example.com")
    assert not is_suppressed(organization=org, email="john@example.com")
    assert not is_suppressed(organization=org, email="not an address")


def test_the_database_hash_equals_the_python_hash(org):
    contact = ContactFactory(organization=org)
    for address in ["plain@example.com", "zoë@bücher.example", "用户@例子.广告"]:
        rows = Contact.objects.filter(pk=contact.pk).annotate(digest=Sha256Hex(Value(address)))
        assert rows.values_list("digest", flat=True).get() == email_hash(address)


def test_suppressed_exists_finds_contacts_by_hash(org, other_org):
    blocked = ContactFactory(organization=org, email="zoë@bücher.example")
    ContactFactory(organization=org, email="fine@example.com")
    twin = ContactFactory(organization=other_org, email="zoë@bücher.example")
    SuppressionFactory(
        organization=org, email="", email_hash=email_hash(blocked.email), reason="anonymized"
    )
    matched = Contact.objects.filter(suppressed_exists())
    assert list(matched) == [blocked]
    assert twin not in matched


def test_filter_by_prefix_domain_hash_and_reason(org):
    SuppressionFactory(organization=org, email="anna@shop.example", reason="hard_bounce")
    SuppressionFactory(organization=org, email="bert@shop.example", reason="complaint")
    SuppressionFactory(organization=org, email="anders@mail.example", reason="manual")
    anonymized = SuppressionFactory(
        organization=org, email="", email_hash=email_hash("secret@x.example"), reason="anonymized"
    )

    def emails(**filters):
        return sorted(s.email for s in suppressions_filter(organization=org, **filters))

    assert emails(search="AN") == ["anders@mail.example", "anna@shop.example"]
    assert emails(search="@shop.example") == ["anna@shop.example", "bert@shop.example"]
    assert emails(reason="complaint") == ["bert@shop.example"]
    found = list(suppressions_filter(organization=org, search="#" + anonymized.email_hash[:8]))
    assert found == [anonymized]


def test_counts_group_reasons_for_the_stat_cards(org):
    for reason in ["hard_bounce", "soft_bounce", "complaint", "manual", "imported", "imported"]:
        SuppressionFactory(organization=org, reason=reason)
    assert suppression_counts(organization=org) == {
        "bounces": 2,
        "complaints": 1,
        "added": 3,
        "anonymized": 0,
        "total": 6,
    }
