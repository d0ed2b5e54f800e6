"""What the builder offers: fields grouped for the picker, their operators and choices.

The same data renders the rows server-side and, as JSON, lets segments.js swap the
operator and value inputs when a field changes.
"""

from __future__ import annotations

from engagex.contacts.segments.registry import (
    GROUP_ORDER,
    RuleContext,
    RuleType,
    all_rule_types,
)


def field_entry(rule_type: RuleType, context: RuleContext) -> dict:
    entry = {
        "field": rule_type.field,
        "label": str(rule_type.label),
        "available": rule_type.available,
        "note": str(rule_type.unavailable_note),
        "help": str(rule_type.help),
        "operators": [
            {"key": op.key, "label": str(op.label), "value": op.value} for op in rule_type.operators
        ],
    }
    choices = rule_type.choices(context)
    if choices:
        entry["choices"] = [[value, str(label)] for value, label in choices]
    return entry


def catalog(context: RuleContext) -> dict:
    """{"groups": [{"label", "fields": [...]}, …], "lists": [[id, name], …]}"""
    groups: dict[str, list[dict]] = {str(group): [] for group in GROUP_ORDER}
    for rule_type in all_rule_types(context):
        groups.setdefault(str(rule_type.group), []).append(field_entry(rule_type, context))
    return {
        "groups": [
            {"label": label, "fields": fields} for label, fields in groups.items() if fields
        ],
        "lists": [[pk, contact_list.name] for pk, contact_list in context.lists.items()],
    }


def fields_by_name(data: dict) -> dict[str, dict]:
    return {entry["field"]: entry for group in data["groups"] for entry in group["fields"]}
