"""The builder's indexed inputs ⇄ rule tree (the no-JavaScript path of the builder)."""

from django.http import QueryDict

from engagex.contacts.segments.engine import MAX_RULES, Problem
from engagex.contacts.segments.form import apply_edit, blank_rule, builder_rows, rules_from_post

CATALOG = {
    "groups": [
        {
            "label": "Contact",
            "fields": [
                {
                    "field": "email",
                    "label": "Email",
                    "available": True,
                    "note": "",
                    "operators": [
                        {"key": "contains", "label": "contains", "value": "text"},
                        {"key": "equals", "label": "equals", "value": "email"},
                    ],
                }
            ],
        }
    ],
    "lists": [],
}


def post(**data) -> QueryDict:
    query = QueryDict(mutable=True)
    for key, value in data.items():
        query[key.replace("_", "-")] = value
    return query


def test_indexes_order_rows_and_gaps_do_not_matter():
    data = post(
        match="any",
        rules_10_field="email",
        rules_10_operator="contains",
        rules_10_value="b",
        rules_2_field="email",
        rules_2_operator="equals",
        rules_2_value="a@example.org",
        rules_5_match="all",
        rules_5_rules_9_field="status",
        rules_5_rules_3_field="tags",
    )
    tree, paths = rules_from_post(data)
    assert tree["match"] == "any"
    assert [item.get("value") for item in tree["rules"]] == ["a@example.org", None, "b"]
    group = tree["rules"][1]
    assert group["match"] == "all"
    assert [rule["field"] for rule in group["rules"]] == ["tags", "status"]
    assert paths == {
        "rules-2": (0,),
        "rules-5": (1,),
        "rules-5-rules-3": (1, 0),
        "rules-5-rules-9": (1, 1),
        "rules-10": (2,),
    }


def test_unrelated_or_malformed_names_are_ignored():
    tree, _ = rules_from_post(post(csrfmiddlewaretoken="x", rules_x_field="email", name="n"))
    assert tree == {"match": "all", "rules": []}


def test_add_and_remove():
    tree, paths = rules_from_post(post(rules_0_field="email", rules_3_match="any"))
    apply_edit(tree, paths, add="rules-3")
    assert tree["rules"][1]["rules"] == [blank_rule()]
    apply_edit(tree, paths, remove="rules-0")
    assert len(tree["rules"]) == 1
    apply_edit(tree, paths, add="nonsense")
    assert len(tree["rules"]) == 1


def test_add_stops_at_the_rule_cap():
    tree = {"match": "all", "rules": [blank_rule() for _ in range(MAX_RULES)]}
    apply_edit(tree, {}, add="rule")
    assert len(tree["rules"]) == MAX_RULES


def test_rows_carry_their_problems_and_fall_back_to_a_valid_operator():
    tree = {
        "match": "all",
        "rules": [
            {"field": "email", "operator": "gt", "value": "x"},
            {"field": "gone", "operator": ""},
        ],
    }
    rows = builder_rows(tree, CATALOG, [Problem((1,), "Rule 2: Unknown field “gone”.")])
    assert rows[0]["operator"] == "contains" and rows[0]["value_kind"] == "text"
    assert rows[0]["errors"] == []
    assert rows[1]["known_field"] is False
    assert rows[1]["errors"] == ["Rule 2: Unknown field “gone”."]
