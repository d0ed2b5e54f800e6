"""Rule validation: every bad rule gets a message naming it; good input is normalized."""

import pytest
from django.core.exceptions import ValidationError

from engagex.contacts.segments import MAX_RULES, validate_rules
from engagex.contacts.segments.registry import REGISTRY
from engagex.contacts.tests.factories import ContactListFactory, CustomFieldFactory

pytestmark = pytest.mark.django_db


def rule(field, operator, value=None):
    return {"field": field, "operator": operator, "value": value}


def problems(org, *rules, match="all"):
    with pytest.raises(ValidationError) as caught:
        validate_rules({"match": match, "rules": list(rules)}, organization=org)
    return caught.value.messages


@pytest.fixture
def score(org):
    return CustomFieldFactory(organization=org, key="score", label="Score", type="number")


def test_values_are_normalized(org, score):
    CustomFieldFactory(organization=org, key="since", label="Since", type="date")
    newsletter = ContactListFactory(organization=org)
    rules = {
        "match": "any",
        "rules": [
            rule("domain", "is_one_of", "@Gmail.COM; yahoo.com, gmail.com"),
            rule("tags", "has_any", " vip ,  big   spender "),
            rule("field:score", "gt", "1,5"),
            rule("field:since", "before", "31.12.2026"),
            rule("email", "starts_with", "  Anna "),
            rule("created_at", "within_last_days", "30"),
            {"match": "all", "rules": [rule("list", "member_of", str(newsletter.pk).upper())]},
            rule("first_name", "is_set", "ignored"),
        ],
    }
    assert validate_rules(rules, organization=org) == {
        "match": "any",
        "rules": [
            rule("domain", "is_one_of", ["gmail.com", "yahoo.com"]),
            rule("tags", "has_any", ["vip", "big spender"]),
            rule("field:score", "gt", 1.5),
            rule("field:since", "before", "2026-12-31"),
            rule("email", "starts_with", "anna"),
            rule("created_at", "within_last_days", 30),
            {"match": "all", "rules": [rule("list", "member_of", str(newsletter.pk))]},
            rule("first_name", "is_set", None),
        ],
    }


def test_unknown_field(org):
    assert problems(org, rule("status", "is", "subscribed"), rule("shoe_size", "equals", "9")) == [
        "Rule 2: Unknown field “shoe_size”."
    ]


def test_custom_field_must_exist_in_this_organization(org, other_org):
    CustomFieldFactory(organization=other_org, key="plan", type="text")
    assert problems(org, rule("field:plan", "equals", "pro")) == [
        "Rule 1: There is no custom field “plan” in this organization."
    ]


def test_operator_must_fit_the_field_type(org, score):
    assert problems(org, rule("field:score", "contains", "4")) == [
        "Rule 1 (Score): “contains” does not apply to this field."
    ]
    assert problems(org, rule("email", "", "x")) == ["Rule 1 (Email): choose an operator."]


def test_bad_values_name_the_rule(org, score):
    messages = problems(
        org,
        rule("field:score", "gt", "lots"),
        rule("email", "equals", "not-an-address"),
        rule("status", "is", "happy"),
        rule("created_at", "within_last_days", "-3"),
        rule("domain", "equals", "nodot"),
        rule("tags", "has_any", "x" * 65),
        rule("first_name", "contains", "   "),
    )
    assert messages[0] == "Rule 1 (Score): “lots” is not a number."
    assert messages[1].startswith("Rule 2 (Email): ")
    assert messages[2] == "Rule 3 (Status): “happy” is not one of the choices."
    assert messages[3] == "Rule 4 (Created): Enter between 1 and 36500 days."
    assert messages[4] == "Rule 5 (Email domain): “nodot” is not a domain, e.g. gmail.com."
    assert messages[5] == "Rule 6 (Tags): A tag can be at most 64 characters."
    assert messages[6] == "Rule 7 (First name): Enter a value."


def test_wrong_json_types_are_refused_not_crashed(org, score):
    messages = problems(
        org,
        rule("field:score", "gt", {"$gt": 1}),
        rule("first_name", "equals", ["a", "b"]),
        rule(42, "equals", "x"),
        "status is subscribed",
    )
    assert messages == [
        "Rule 1 (Score): Enter a single value.",
        "Rule 2 (First name): Enter a value.",
        "Rule 3: Choose a field.",
        "Rule 4 is not a rule.",
    ]


def test_groups_nest_one_level_only(org):
    nested = {
        "match": "any",
        "rules": [{"match": "all", "rules": [rule("status", "is", "bounced")]}],
    }
    assert problems(org, nested) == ["Group 1, rule 1: groups can only be nested one level deep."]


def test_empty_group_and_bad_match(org):
    assert problems(org, {"match": "any", "rules": []}) == [
        "Group 1 has no rules: add one or remove the group."
    ]
    assert problems(org, rule("status", "is", "bounced"), match="most") == [
        "Match must be “all” or “any”."
    ]


def test_too_many_rules(org):
    rules = [rule("status", "is", "subscribed")] * (MAX_RULES - 1)
    rules.append({"match": "any", "rules": [rule("tags", "has_any", "a")] * 2})
    assert problems(org, *rules) == [
        f"A segment can have at most {MAX_RULES} rules; this one has {MAX_RULES + 1}."
    ]


def test_rules_must_be_a_tree(org):
    for bad in (None, [], "all", {"match": "all", "rules": "status"}):
        with pytest.raises(ValidationError) as caught:
            validate_rules(bad, organization=org)
        assert caught.value.messages == ["Rules must be a match (all/any) and a list of rules."]


def test_list_must_belong_to_the_organization(org, other_org):
    foreign = ContactListFactory(organization=other_org)
    assert problems(org, rule("list", "member_of", str(foreign.pk))) == [
        "Rule 1 (List): That list does not exist (any more) in this organization."
    ]
    assert problems(org, rule("list", "member_of", "not-a-uuid")) == [
        "Rule 1 (List): That list does not exist (any more) in this organization."
    ]


@pytest.mark.parametrize("field", ["opened", "clicked", "received", "no_open"])
def test_activity_rules_take_a_number_of_days(org, field):
    operator = REGISTRY[field].operators[-1].key
    assert validate_rules(
        {"match": "all", "rules": [rule(field, operator, " 30 ")]}, organization=org
    )["rules"] == [rule(field, operator, 30)]
    [message] = problems(org, rule(field, operator, 0))
    assert message.startswith("Rule 1 (") and message.endswith("Enter between 1 and 36500 days.")


def test_empty_rules_are_valid_unless_required(org):
    assert validate_rules({"match": "all", "rules": []}, organization=org)["rules"] == []
    with pytest.raises(ValidationError) as caught:
        validate_rules({"match": "all", "rules": []}, organization=org, require=True)
    assert caught.value.messages == ["Add at least one rule."]
