"""The segment rule engine against a real database: each rule type finds the right
contacts, rules combine with all/any and one level of groups, and the whole tree is one
query over the organization's live contacts."""

import datetime as dt

import pytest
from django.utils import timezone

from engagex.contacts.models import Contact, CustomField, ListMembership
from engagex.contacts.segments import describe_rules
from engagex.contacts.segments.registry import RuleContext
from engagex.contacts.selectors.segments import rules_contacts, segment_contacts
from engagex.contacts.tests.factories import (
    ContactFactory,
    ContactListFactory,
    CustomFieldFactory,
    ListMembershipFactory,
    SegmentFactory,
)

pytestmark = pytest.mark.django_db


def rule(field, operator, value=None):
    return {"field": field, "operator": operator, "value": value}


def emails(org, *rules, match="all"):
    matched = rules_contacts(organization=org, rules={"match": match, "rules": list(rules)})
    return sorted(matched.values_list("email", flat=True))


@pytest.fixture
def people(org):
    """A small, varied audience; every test below asks it a question."""
    CustomFieldFactory(organization=org, key="plan", label="Plan", type="text")
    CustomFieldFactory(organization=org, key="score", label="Score", type="number")
    CustomFieldFactory(organization=org, key="birthday", label="Birthday", type="date")
    CustomFieldFactory(organization=org, key="vip", label="VIP", type="boolean")
    today = timezone.localdate()
    recent = (today - dt.timedelta(days=3)).isoformat()
    ContactFactory(
        organization=org,
        email="anna@gmail.com",
        first_name="Anna",
        last_name="Berg",
        tags=["vip", "customer"],
        fields={"plan": "Pro", "score": 42, "birthday": "1990-05-01", "vip": True},
    )
    ContactFactory(
        organization=org,
        email="bob@mail.com",
        first_name="Bob",
        last_name="",
        tags=["customer"],
        status=Contact.Status.UNSUBSCRIBED,
        fields={"plan": "Free", "score": 7.5, "birthday": recent, "vip": False},
    )
    ContactFactory(
        organization=org,
        email="carla@example.org",
        first_name="",
        last_name="Diaz",
        tags=[],
        fields={},
    )
    return org


def test_email_operators(people):
    assert emails(people, rule("email", "equals", " Anna@GMAIL.com ")) == ["anna@gmail.com"]
    assert emails(people, rule("email", "contains", "ob@")) == ["bob@mail.com"]
    assert emails(people, rule("email", "starts_with", "CAR")) == ["carla@example.org"]
    assert emails(people, rule("email", "ends_with", ".org")) == ["carla@example.org"]
    # LIKE wildcards in the value are literal characters.
    assert emails(people, rule("email", "contains", "%")) == []
    assert emails(people, rule("email", "contains", "_")) == []


def test_domain_matches_whole_domain_only(people):
    assert emails(people, rule("domain", "equals", "mail.com")) == ["bob@mail.com"]
    assert emails(people, rule("domain", "equals", "@Gmail.com")) == ["anna@gmail.com"]
    assert emails(people, rule("domain", "is_one_of", "gmail.com, example.org")) == [
        "anna@gmail.com",
        "carla@example.org",
    ]


def test_name_operators_ignore_case(people):
    assert emails(people, rule("first_name", "equals", "anna")) == ["anna@gmail.com"]
    assert emails(people, rule("last_name", "contains", "IA")) == ["carla@example.org"]
    assert emails(people, rule("first_name", "starts_with", "b")) == ["bob@mail.com"]
    assert emails(people, rule("first_name", "is_empty")) == ["carla@example.org"]
    assert emails(people, rule("last_name", "is_set")) == ["anna@gmail.com", "carla@example.org"]


def test_status_is_and_is_not(people):
    assert emails(people, rule("status", "is", "unsubscribed")) == ["bob@mail.com"]
    assert emails(people, rule("status", "is_not", "unsubscribed")) == [
        "anna@gmail.com",
        "carla@example.org",
    ]


def test_custom_text_field(people):
    assert emails(people, rule("field:plan", "equals", "pro")) == ["anna@gmail.com"]
    assert emails(people, rule("field:plan", "contains", "RE")) == ["bob@mail.com"]
    assert emails(people, rule("field:plan", "starts_with", "P")) == ["anna@gmail.com"]
    assert emails(people, rule("field:plan", "is_set")) == ["anna@gmail.com", "bob@mail.com"]
    assert emails(people, rule("field:plan", "is_empty")) == ["carla@example.org"]


def test_custom_number_field(people):
    assert emails(people, rule("field:score", "gt", "10")) == ["anna@gmail.com"]
    assert emails(people, rule("field:score", "lt", "7,6")) == ["bob@mail.com"]
    assert emails(people, rule("field:score", "equals", "42.0")) == ["anna@gmail.com"]
    assert emails(people, rule("field:score", "is_empty")) == ["carla@example.org"]


def test_number_rule_skips_values_of_another_json_type(people):
    # Should a stray text value ever be stored, the comparison skips it instead of
    # failing the whole query on a cast.
    ContactFactory(organization=people, email="odd@example.org", fields={"score": "lots"})
    assert emails(people, rule("field:score", "gt", "1")) == ["anna@gmail.com", "bob@mail.com"]


def test_custom_date_field(people):
    assert emails(people, rule("field:birthday", "before", "2000-01-01")) == ["anna@gmail.com"]
    assert emails(people, rule("field:birthday", "after", "31.12.1999")) == ["bob@mail.com"]
    assert emails(people, rule("field:birthday", "on", "1990-05-01")) == ["anna@gmail.com"]
    assert emails(people, rule("field:birthday", "within_last_days", 7)) == ["bob@mail.com"]
    assert emails(people, rule("field:birthday", "more_than_days_ago", "30")) == ["anna@gmail.com"]
    assert emails(people, rule("field:birthday", "is_set")) == ["anna@gmail.com", "bob@mail.com"]


def test_custom_boolean_field(people):
    assert emails(people, rule("field:vip", "is_true")) == ["anna@gmail.com"]
    assert emails(people, rule("field:vip", "is_false")) == ["bob@mail.com"]
    assert emails(people, rule("field:vip", "is_set")) == ["anna@gmail.com", "bob@mail.com"]


def test_tags_any_all_none(people):
    assert emails(people, rule("tags", "has_any", "vip, nobody")) == ["anna@gmail.com"]
    assert emails(people, rule("tags", "has_all", ["vip", "customer"])) == ["anna@gmail.com"]
    assert emails(people, rule("tags", "has_none", "vip")) == [
        "bob@mail.com",
        "carla@example.org",
    ]


def test_list_membership_counts_subscribed_members_only(people):
    newsletter = ContactListFactory(organization=people, name="Newsletter")
    anna = Contact.objects.get(email="anna@gmail.com")
    bob = Contact.objects.get(email="bob@mail.com")
    ListMembershipFactory(contact_list=newsletter, contact=anna)
    ListMembershipFactory(
        contact_list=newsletter, contact=bob, status=ListMembership.Status.UNCONFIRMED
    )
    list_id = str(newsletter.pk)
    assert emails(people, rule("list", "member_of", list_id)) == ["anna@gmail.com"]
    assert emails(people, rule("list", "not_member_of", list_id)) == [
        "bob@mail.com",
        "carla@example.org",
    ]


def test_created_date_rules(people):
    old = ContactFactory(organization=people, email="old@example.org")
    Contact.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=400))
    assert emails(people, rule("created_at", "within_last_days", 30)) == [
        "anna@gmail.com",
        "bob@mail.com",
        "carla@example.org",
    ]
    last_year = (timezone.localdate() - dt.timedelta(days=200)).isoformat()
    assert emails(people, rule("created_at", "before", last_year)) == ["old@example.org"]
    assert "old@example.org" not in emails(people, rule("created_at", "after", last_year))


def test_any_and_one_level_of_groups(people):
    rules = [
        rule("status", "is", "subscribed"),
        {
            "match": "any",
            "rules": [rule("domain", "equals", "gmail.com"), rule("last_name", "equals", "diaz")],
        },
    ]
    assert emails(people, *rules) == ["anna@gmail.com", "carla@example.org"]
    assert emails(
        people, rule("first_name", "equals", "bob"), rule("tags", "has_any", "vip"), match="any"
    ) == ["anna@gmail.com", "bob@mail.com"]


def test_no_rules_match_every_live_contact(people):
    assert len(emails(people)) == 3


def test_deleted_contacts_and_other_organizations_never_match(people, other_org):
    ContactFactory(organization=other_org, email="anna2@gmail.com", tags=["vip"])
    ContactFactory(
        organization=people, email="gone@gmail.com", tags=["vip"], deleted_at=timezone.now()
    )
    assert emails(people, rule("tags", "has_any", "vip")) == ["anna@gmail.com"]


def test_whole_tree_is_one_query(people, django_assert_num_queries):
    newsletter = ContactListFactory(organization=people)
    rules = {
        "match": "all",
        "rules": [
            rule("status", "is", "subscribed"),
            rule("field:score", "gt", 1),
            rule("list", "not_member_of", str(newsletter.pk)),
            {
                "match": "any",
                "rules": [rule("tags", "has_any", "vip"), rule("email", "ends_with", ".org")],
            },
        ],
    }
    matched = rules_contacts(organization=people, rules=rules)
    with django_assert_num_queries(1):
        assert matched.count() == 1  # anna: carla has no score


def test_segment_contacts_uses_the_saved_rules(people, other_org):
    segment = SegmentFactory(
        organization=people, rules={"match": "all", "rules": [rule("tags", "has_any", ["vip"])]}
    )
    matched = segment_contacts(organization=people, segment=segment)
    assert list(matched.values_list("email", flat=True)) == ["anna@gmail.com"]
    with pytest.raises(ValueError):
        segment_contacts(organization=other_org, segment=segment)


def test_summary_reads_like_a_sentence(people):
    newsletter = ContactListFactory(organization=people, name="Newsletter")
    rules = {
        "match": "all",
        "rules": [
            rule("status", "is", "subscribed"),
            {
                "match": "any",
                "rules": [
                    rule("tags", "has_any", ["vip"]),
                    rule("list", "member_of", str(newsletter.pk)),
                ],
            },
        ],
    }
    summary = describe_rules(rules, RuleContext(people))
    assert summary == (
        "Status is Subscribed and (Tags has any of vip or List is subscribed to “Newsletter”)"
    )


def test_custom_field_types_are_immutable_so_rules_follow_the_type(people):
    # The same key in another organization has another type; each org's rules use its own.
    from engagex.accounts.tests.factories import OrganizationFactory

    other = OrganizationFactory()
    CustomFieldFactory(organization=other, key="score", type=CustomField.Type.TEXT)
    ContactFactory(organization=other, email="t@example.org", fields={"score": "high"})
    assert emails(other, rule("field:score", "contains", "hig")) == ["t@example.org"]
    assert emails(people, rule("field:score", "gt", 0)) == ["anna@gmail.com", "bob@mail.com"]
