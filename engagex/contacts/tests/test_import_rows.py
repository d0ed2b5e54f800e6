"""Per-row validation: what is staged, and the reason a person reads for a rejected row."""

import pytest

from engagex.contacts.importer.mapping import Plan
from engagex.contacts.importer.rows import RowRejected, RowValidator

HEADER = ["Email", "First", "Last", "Age", "Tags"]


def validator(extra_tags=()):
    plan = Plan(targets=["email", "first_name", "last_name", "field:age", "tags"], new_fields=[])
    return RowValidator(plan, header=HEADER, field_types={"age": "number"}, extra_tags=extra_tags)


def test_a_valid_row_is_normalized():
    assert validator()([" Ada@Example.ORG ", " Ada ", "", "36", "vip; team"]) == (
        "ada@example.org",
        "Ada",
        None,
        '{"age":36}',
        ["vip", "team"],
    )


def test_tags_for_every_row_are_added_after_the_rows_own():
    row = ["a@example.org", "", "", "", "team"]
    assert validator(["fair", "team"])(row)[4] == ["team", "fair"]
    # Without a tags cell, the import's tags are applied in the database (see staging).
    assert validator(["fair"])(["a@example.org", "", "", "", ""])[4] is None


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (["a@example.org", "A"], "Expected 5 columns, found 2."),
        (["not an address", "", "", "", ""], "Email: "),
        (["", "", "", "", ""], "Email: The email address is empty."),
        (["a@example.org", "x" * 101, "", "", ""], "First name is longer than 100 characters."),
        (["a@example.org", "", "", "many", ""], "Column “Age”: “many” is not a number."),
        (["a@example.org", "", "", "", "x" * 65], "Tags: A tag can be at most 64 characters."),
    ],
)
def test_bad_rows_are_rejected_with_a_reason(row, reason):
    with pytest.raises(RowRejected) as caught:
        validator()(row)
    assert str(caught.value).startswith(reason)
