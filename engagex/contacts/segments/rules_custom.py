"""Rules on custom fields (`Contact.fields`, JSONB keyed by `CustomField.key`).

Values are stored in their JSON type (CustomField types never change), so:

- numbers compare as jsonb numbers (`fields->'k' > '5'::jsonb`), guarded by
  `jsonb_typeof(...) = 'number'` because jsonb orders strings above numbers; no cast
  that could fail on a stray value, whatever order PostgreSQL evaluates conditions in;
- dates are ISO "YYYY-MM-DD" strings, which sort like the dates they are, so they
  compare as text (again type-guarded);
- booleans and numbers test equality on the jsonb value itself.

The key travels as a query parameter (`->` / `->>` operands), never inside SQL text.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import CharField, JSONField, Q, Value
from django.db.models.expressions import Func
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.lookups import (
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    IContains,
    IExact,
    IsNull,
    IStartsWith,
    LessThan,
    LessThanOrEqual,
)
from django.utils.translation import gettext_lazy as _

from engagex.contacts.models import CustomField
from engagex.contacts.segments import registry
from engagex.contacts.segments.registry import (
    CUSTOM_PREFIX,
    GROUP_CUSTOM,
    Operator,
    RuleContext,
    RuleType,
)
from engagex.contacts.segments.rules_contact import CONTAINS, IS_EMPTY, IS_SET, STARTS_WITH


class JsonbTypeof(Func):
    function = "jsonb_typeof"
    output_field = CharField()


def _json(key: str) -> KeyTransform:
    return KeyTransform(key, "fields")


def _text(key: str) -> KeyTextTransform:
    return KeyTextTransform(key, "fields")


def _typed(key: str, json_type: str) -> Q:
    return Q(Exact(JsonbTypeof(_json(key)), json_type))


def _json_value(value: Any) -> Value:
    return Value(value, output_field=JSONField())


def _is_set(key: str) -> Q:
    # `->>` yields SQL NULL for a missing key and for a JSON null.
    return Q(IsNull(_text(key), False)) & ~Q(Exact(_text(key), ""))


def _is_empty(key: str) -> Q:
    return Q(IsNull(_text(key), True)) | Q(Exact(_text(key), ""))


class CustomFieldRule(RuleType):
    group = GROUP_CUSTOM

    def __init__(self, custom_field: CustomField):
        self.custom_field = custom_field
        self.key = custom_field.key

    @property
    def field(self) -> str:  # type: ignore[override]
        return f"{CUSTOM_PREFIX}{self.key}"

    @property
    def label(self) -> str:  # type: ignore[override]
        return self.custom_field.label

    def compile(self, operator: Operator, value: Any, context: RuleContext) -> Q:
        if operator.key == "is_set":
            return _is_set(self.key)
        if operator.key == "is_empty":
            return _is_empty(self.key)
        return self.compile_value(operator, value, context)

    def compile_value(self, operator: Operator, value: Any, context: RuleContext) -> Q:
        raise NotImplementedError


class TextFieldRule(CustomFieldRule):
    operators = (Operator("equals", _("equals")), CONTAINS, STARTS_WITH, IS_SET, IS_EMPTY)

    def compile_value(self, operator: Operator, value: Any, context: RuleContext) -> Q:
        lookup = {"equals": IExact, "contains": IContains, "starts_with": IStartsWith}
        return Q(lookup[operator.key](_text(self.key), value))


class NumberFieldRule(CustomFieldRule):
    operators = (
        Operator("equals", _("equals"), "number"),
        Operator("gt", _("is greater than"), "number"),
        Operator("lt", _("is less than"), "number"),
        IS_SET,
        IS_EMPTY,
    )

    def compile_value(self, operator: Operator, value: Any, context: RuleContext) -> Q:
        lookup = {"equals": Exact, "gt": GreaterThan, "lt": LessThan}[operator.key]
        return _typed(self.key, "number") & Q(lookup(_json(self.key), _json_value(value)))


class DateFieldRule(CustomFieldRule):
    operators = (
        Operator("before", _("is before"), "date"),
        Operator("after", _("is after"), "date"),
        Operator("on", _("is on"), "date"),
        Operator("within_last_days", _("is within the last"), "days"),
        Operator("more_than_days_ago", _("is more than … days ago"), "days"),
        IS_SET,
        IS_EMPTY,
    )

    def compile_value(self, operator: Operator, value: Any, context: RuleContext) -> Q:
        text = _text(self.key)
        if operator.key in ("within_last_days", "more_than_days_ago"):
            since = (context.today - dt.timedelta(days=value)).isoformat()
            if operator.key == "within_last_days":
                condition = Q(GreaterThanOrEqual(text, since)) & Q(
                    LessThanOrEqual(text, context.today.isoformat())
                )
            else:
                condition = Q(LessThan(text, since))
        else:
            lookup = {"before": LessThan, "after": GreaterThan, "on": Exact}[operator.key]
            condition = Q(lookup(text, value))
        return _typed(self.key, "string") & condition


class BooleanFieldRule(CustomFieldRule):
    operators = (
        Operator("is_true", _("is yes"), "none"),
        Operator("is_false", _("is no"), "none"),
        IS_SET,
    )

    def compile_value(self, operator: Operator, value: Any, context: RuleContext) -> Q:
        return Q(Exact(_json(self.key), _json_value(operator.key == "is_true")))


RULES_BY_TYPE: dict[str, type[CustomFieldRule]] = {
    CustomField.Type.TEXT: TextFieldRule,
    CustomField.Type.NUMBER: NumberFieldRule,
    CustomField.Type.DATE: DateFieldRule,
    CustomField.Type.BOOLEAN: BooleanFieldRule,
}


def custom_rule(custom_field: CustomField) -> CustomFieldRule:
    return RULES_BY_TYPE.get(custom_field.type, TextFieldRule)(custom_field)


registry.custom_rule_factory = custom_rule
