"""The rule tree: validation, compilation to one `Q`, and a readable summary.

    {"match": "all" | "any",
     "rules": [rule, …, {"match": "all" | "any", "rules": [rule, …]}]}
    rule = {"field": "…", "operator": "…", "value": …}

Groups nest one level only. `check_rules` returns the normalized tree and every
problem found (each naming its rule), so the builder can show them all at once;
`validate_rules` raises them as one ValidationError. `compile_rules` turns a valid tree
into a single `Q`, which the selectors apply to the organization's live contacts: one
SQL query, whatever the rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _

from engagex.contacts.segments.registry import RuleContext, RuleError, RuleType, rule_type_for

MAX_RULES = 50
MATCHES = ("all", "any")

Path = tuple[int, ...]


@dataclass(frozen=True)
class Problem:
    path: Path  # (i,) a top-level item, (i, j) rule j of group i, () the whole tree
    message: str


def empty_rules() -> dict:
    return {"match": "all", "rules": []}


def is_group(item: Any) -> bool:
    return isinstance(item, dict) and "rules" in item and "field" not in item


def location(path: Path, *, group: bool = False) -> str:
    if len(path) == 2:
        return _("Group %(group)s, rule %(rule)s") % {"group": path[0] + 1, "rule": path[1] + 1}
    if group:
        return _("Group %(number)s") % {"number": path[0] + 1}
    return _("Rule %(number)s") % {"number": path[0] + 1}


def _check_rule(
    item: Any, path: Path, context: RuleContext, problems: list[Problem]
) -> dict | None:
    where = location(path)
    if is_group(item):
        problems.append(
            Problem(
                path, _("%(where)s: groups can only be nested one level deep.") % {"where": where}
            )
        )
        return None
    if not isinstance(item, dict):
        problems.append(Problem(path, _("%(where)s is not a rule.") % {"where": where}))
        return None
    try:
        rule_type = rule_type_for(item.get("field"), context)
    except RuleError as error:
        problems.append(Problem(path, f"{where}: {error}"))
        return None
    where = f"{where} ({rule_type.label})"
    if not rule_type.available:
        problems.append(
            Problem(
                path,
                _("%(where)s: rules on “%(field)s” are %(note)s.")
                % {"where": where, "field": rule_type.label, "note": rule_type.unavailable_note},
            )
        )
        return None
    operator = rule_type.operator(item.get("operator"))
    if operator is None:
        raw = item.get("operator")
        message = (
            _("%(where)s: “%(operator)s” does not apply to this field.")
            % {"where": where, "operator": str(raw)[:40]}
            if raw
            else _("%(where)s: choose an operator.") % {"where": where}
        )
        problems.append(Problem(path, message))
        return None
    try:
        value = rule_type.clean_value(operator, item.get("value"), context)
    except RuleError as error:
        problems.append(Problem(path, f"{where}: {error}"))
        return None
    return {"field": rule_type.field, "operator": operator.key, "value": value}


def _check_match(value: Any, path: Path, problems: list[Problem]) -> str:
    if value in MATCHES:
        return value
    where = location(path, group=True) + ": " if path else ""
    problems.append(Problem(path, _("%(where)sMatch must be “all” or “any”.") % {"where": where}))
    return "all"


def check_rules(rules: Any, *, context: RuleContext) -> tuple[dict, list[Problem]]:
    """The normalized tree (valid parts only) and the problems found, in order."""
    problems: list[Problem] = []
    if not isinstance(rules, dict) or not isinstance(rules.get("rules", []), list):
        return empty_rules(), [
            Problem((), _("Rules must be a match (all/any) and a list of rules."))
        ]
    items = rules.get("rules", [])
    total = sum(
        len(item["rules"]) if is_group(item) and isinstance(item["rules"], list) else 1
        for item in items
    )
    if total > MAX_RULES:
        message = _("A segment can have at most %(max)s rules; this one has %(count)s.")
        return empty_rules(), [Problem((), message % {"max": MAX_RULES, "count": total})]
    normalized = {"match": _check_match(rules.get("match", "all"), (), problems), "rules": []}
    for index, item in enumerate(items):
        path = (index,)
        if not is_group(item):
            rule = _check_rule(item, path, context, problems)
            if rule is not None:
                normalized["rules"].append(rule)
            continue
        where = location(path, group=True)
        children = item["rules"]
        if not isinstance(children, list) or not children:
            problems.append(
                Problem(
                    path,
                    _("%(where)s has no rules: add one or remove the group.") % {"where": where},
                )
            )
            continue
        group = {"match": _check_match(item.get("match", "all"), path, problems), "rules": []}
        for child_index, child in enumerate(children):
            rule = _check_rule(child, (index, child_index), context, problems)
            if rule is not None:
                group["rules"].append(rule)
        normalized["rules"].append(group)
    return normalized, problems


def validate_rules(
    rules: Any, *, organization=None, context: RuleContext | None = None, require: bool = False
) -> dict:
    """The normalized tree, or ValidationError listing every problem (nothing is changed)."""
    context = context or RuleContext(organization)
    normalized, problems = check_rules(rules, context=context)
    if not problems and require and not normalized["rules"]:
        problems.append(Problem((), _("Add at least one rule.")))
    if problems:
        raise ValidationError([problem.message for problem in problems])
    return normalized


def _compile_item(item: dict, context: RuleContext) -> Q:
    if is_group(item):
        return _combine(item, context)
    rule_type: RuleType = rule_type_for(item["field"], context)
    operator = rule_type.operator(item["operator"])
    return rule_type.compile(operator, item.get("value"), context)


def _combine(tree: dict, context: RuleContext) -> Q:
    condition = Q()
    for item in tree["rules"]:
        part = _compile_item(item, context)
        condition = condition | part if tree["match"] == "any" else condition & part
    return condition


def compile_rules(rules: dict, *, context: RuleContext) -> Q:
    """One `Q` for a tree that passed `validate_rules` (an empty tree matches everyone)."""
    return _combine(rules, context)


# -- summary -----------------------------------------------------------------------------


def describe_rule(item: dict, context: RuleContext) -> str:
    try:
        rule_type = rule_type_for(item.get("field"), context)
    except RuleError:
        return _("unknown field “%(field)s”") % {"field": str(item.get("field"))[:40]}
    operator = rule_type.operator(item.get("operator"))
    if operator is None:
        return str(rule_type.label)
    value = rule_type.describe_value(operator, item.get("value"), context)
    return " ".join(part for part in (str(rule_type.label), str(operator.label), value) if part)


def describe_rules(rules: Any, context: RuleContext) -> str:
    """One line for tables: "Status is Subscribed and (Tags has any of vip or …)"."""
    if not isinstance(rules, dict) or not isinstance(rules.get("rules"), list):
        return ""
    joiner = f" {_('or')} " if rules.get("match") == "any" else f" {_('and')} "
    parts = []
    for item in rules["rules"]:
        if is_group(item):
            inner = describe_rules(item, context)
            if inner:
                parts.append(f"({inner})")
        elif isinstance(item, dict):
            parts.append(describe_rule(item, context))
    return joiner.join(parts)


def describe_outline(rules: Any, context: RuleContext) -> dict:
    """The tree as sentences, for the detail page: {"match", "entries": [rule | group]}."""
    outline: dict[str, Any] = {"kind": "group", "match": "all", "entries": []}
    if not isinstance(rules, dict) or not isinstance(rules.get("rules"), list):
        return outline
    outline["match"] = rules.get("match", "all")
    for item in rules["rules"]:
        if is_group(item):
            outline["entries"].append(describe_outline(item, context))
        elif isinstance(item, dict):
            outline["entries"].append({"kind": "rule", "text": describe_rule(item, context)})
    return outline


def count_rules(rules: Any) -> int:
    if not isinstance(rules, dict) or not isinstance(rules.get("rules"), list):
        return 0
    return sum(count_rules(item) if is_group(item) else 1 for item in rules["rules"])
