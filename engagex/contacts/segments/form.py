"""The builder form: indexed inputs ⇄ rule tree, and the rows the template renders.

Inputs are named like Django formsets, so the page saves without JavaScript:

    match                      all | any
    rules-3-field              a rule at position 3 …
    rules-3-operator, rules-3-value
    rules-5-match              … a group at position 5, with its rules
    rules-5-rules-0-field, rules-5-rules-0-operator, rules-5-rules-0-value

Indexes only order the items (segments.js adds rows with fresh numbers and removes
rows without renumbering), so gaps are fine. Buttons named "add" (value "rule",
"group" or a group's prefix) and "remove" (a row's prefix) edit the tree server-side
when JavaScript is off.
"""

from __future__ import annotations

import re
from typing import Any

from engagex.contacts.segments.catalog import fields_by_name
from engagex.contacts.segments.engine import MAX_RULES, Path, Problem, is_group

_TOP = re.compile(r"^rules-(\d{1,4})-(field|operator|value|match)$")
_NESTED = re.compile(r"^rules-(\d{1,4})-rules-(\d{1,4})-(field|operator|value)$")


def blank_rule() -> dict:
    return {"field": "email", "operator": "contains", "value": ""}


def starter_rules() -> dict:
    return {"match": "all", "rules": [{"field": "status", "operator": "is", "value": "subscribed"}]}


def rules_from_post(data) -> tuple[dict, dict[str, Path]]:
    """The tree the form describes, and each row prefix's position in it."""
    top: dict[int, dict[str, Any]] = {}
    nested: dict[int, dict[int, dict[str, Any]]] = {}
    for name in data:
        if match := _TOP.match(name):
            top.setdefault(int(match[1]), {})[match[2]] = data.get(name)
        elif match := _NESTED.match(name):
            group = nested.setdefault(int(match[1]), {})
            group.setdefault(int(match[2]), {})[match[3]] = data.get(name)
    tree: dict[str, Any] = {"match": data.get("match", "all"), "rules": []}
    paths: dict[str, Path] = {}
    for index in sorted(set(top) | set(nested)):
        values = top.get(index, {})
        prefix = f"rules-{index}"
        position = len(tree["rules"])
        paths[prefix] = (position,)
        if index in nested or "match" in values:
            children = []
            for child_index in sorted(nested.get(index, {})):
                paths[f"{prefix}-rules-{child_index}"] = (position, len(children))
                children.append(_rule(nested[index][child_index]))
            tree["rules"].append({"match": values.get("match", "all"), "rules": children})
        else:
            tree["rules"].append(_rule(values))
    return tree, paths


def _rule(values: dict[str, Any]) -> dict:
    return {
        "field": values.get("field", ""),
        "operator": values.get("operator", ""),
        "value": values.get("value", ""),
    }


def _total(tree: dict) -> int:
    return sum(len(item["rules"]) if is_group(item) else 1 for item in tree["rules"])


def apply_edit(tree: dict, paths: dict[str, Path], *, add: str = "", remove: str = "") -> dict:
    """Add or remove a row as the no-JavaScript buttons ask; unknown targets are ignored."""
    if remove in paths:
        path = paths[remove]
        if len(path) == 1:
            del tree["rules"][path[0]]
        else:
            del tree["rules"][path[0]]["rules"][path[1]]
    elif _total(tree) >= MAX_RULES:
        return tree
    elif add == "rule":
        tree["rules"].append(blank_rule())
    elif add == "group":
        tree["rules"].append({"match": "any", "rules": [blank_rule()]})
    elif add in paths and len(paths[add]) == 1 and is_group(tree["rules"][paths[add][0]]):
        tree["rules"][paths[add][0]]["rules"].append(blank_rule())
    return tree


def _value_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return str(value)


def _rule_row(item: dict, prefix: str, label: str, fields: dict, lists, errors) -> dict:
    field_name = str(item.get("field") or "")
    entry = fields.get(field_name)
    operators = entry["operators"] if entry else []
    operator_key = str(item.get("operator") or "")
    operator = next((op for op in operators if op["key"] == operator_key), None)
    if operator is None and operators:
        operator = operators[0]
    kind = operator["value"] if operator else "text"
    choices = entry.get("choices", []) if entry else []
    if kind == "list":
        choices = lists
    value = _value_text(item.get("value"))
    if kind == "choice" and value and value not in {str(choice[0]) for choice in choices}:
        # A saved value the picker doesn't offer (a campaign older than the picker's
        # newest ones): keep it selected, so saving again can't silently change the rule.
        choices = [[value, value], *choices]
    return {
        "kind": "rule",
        "prefix": prefix,
        "label": label,
        "field": field_name,
        "known_field": entry is not None,
        "operators": operators,
        "operator": operator["key"] if operator else operator_key,
        "value_kind": kind,
        "value": value,
        "choices": choices,
        "errors": errors.get(prefix, []),
    }


def builder_rows(tree: dict, catalog_data: dict, problems: list[Problem]) -> list[dict]:
    """Rows for `_segment_rules.html`, with each problem shown under its own row."""
    fields = fields_by_name(catalog_data)
    lists = catalog_data["lists"]
    errors: dict[str, list[str]] = {}
    for problem in problems:
        if problem.path:
            prefix = "rules-" + "-rules-".join(str(index) for index in problem.path)
            errors.setdefault(prefix, []).append(problem.message)
    rows = []
    for index, item in enumerate(tree.get("rules", [])):
        prefix = f"rules-{index}"
        if is_group(item):
            children = [
                _rule_row(
                    child,
                    f"{prefix}-rules-{number}",
                    f"{index + 1}.{number + 1}",
                    fields,
                    lists,
                    errors,
                )
                for number, child in enumerate(item.get("rules") or [])
                if isinstance(child, dict)
            ]
            rows.append(
                {
                    "kind": "group",
                    "prefix": prefix,
                    "label": str(index + 1),
                    "match": item.get("match", "all"),
                    "rules": children,
                    "errors": errors.get(prefix, []),
                }
            )
        elif isinstance(item, dict):
            rows.append(_rule_row(item, prefix, str(index + 1), fields, lists, errors))
    return rows


def general_problems(problems: list[Problem]) -> list[str]:
    return [problem.message for problem in problems if not problem.path]
