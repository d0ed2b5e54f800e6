"""Column mapping: guesses from header names, and validation of what the user chose."""

import pytest
from django.core.exceptions import ValidationError

from engagex.contacts.importer.mapping import guess_mapping, mapping_validate
from engagex.contacts.models import CustomField


def field(key, label, type="text"):
    return CustomField(key=key, label=label, type=type)


def test_common_header_names_are_guessed_in_several_languages():
    header = ["E-Mail", "Vorname", "Nachname", "Tags", "Prénom", "Company", "Geburtstag", ""]
    fields = [field("company", "Company"), field("birthday", "Geburtstag", "date")]
    assert guess_mapping(header, fields) == [
        "email",
        "first_name",
        "last_name",
        "tags",
        "",  # first name is already taken by "Vorname"
        "field:company",
        "field:birthday",
        "",
    ]


def test_an_email_like_header_is_guessed_once():
    assert guess_mapping(["Work email address", "Email"], []) == ["email", ""]


def test_new_fields_get_a_key_from_their_label():
    plan = mapping_validate(["email", "new:number:Lifetime value"], ["Email", "LTV"], [])
    assert plan.targets == ["email", "field:lifetime_value"]
    assert [(f.key, f.label, f.type) for f in plan.new_fields] == [
        ("lifetime_value", "Lifetime value", "number")
    ]


def test_a_new_field_that_exists_by_run_time_is_reused_when_the_type_matches():
    existing = [field("city", "City")]
    plan = mapping_validate(
        ["email", "new:text:City"], ["Email", "City"], existing, reuse_existing=True
    )
    assert (plan.targets, plan.new_fields) == (["email", "field:city"], [])
    with pytest.raises(ValidationError, match="already exists"):
        mapping_validate(["email", "new:text:City"], ["Email", "City"], existing)


def test_every_problem_is_reported_at_once():
    with pytest.raises(ValidationError) as caught:
        mapping_validate(
            ["email", "email", "new:color:Shade", "field:nope", "bogus"],
            ["A", "B", "C", "D", "E"],
            [],
        )
    assert caught.value.messages == [
        "Columns “A” and “B” both go to “Email”: each attribute can come from one column only.",
        "Column “C”: unknown custom field type “color”.",
        "Column “D”: there is no custom field “nope”.",
        "Column “E”: unknown target “bogus”.",
    ]
