"""Rules on the contact's own columns, its tags and its list memberships."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from engagex.contacts.models import Contact, ListMembership
from engagex.contacts.segments.registry import (
    GROUP_AUDIENCE,
    Operator,
    RuleContext,
    RuleError,
    RuleType,
    register,
)

EQUALS = Operator("equals", _("equals"))
CONTAINS = Operator("contains", _("contains"))
STARTS_WITH = Operator("starts_with", _("starts with"))
IS_SET = Operator("is_set", _("is set"), "none")
IS_EMPTY = Operator("is_empty", _("is empty"), "none")


@register
class EmailRule(RuleType):
    field = "email"
    label = _("Email")
    operators = (
        Operator("equals", _("equals"), "email"),
        CONTAINS,
        STARTS_WITH,
        Operator("ends_with", _("ends with")),
    )

    def clean_value(self, operator: Operator, raw: Any, context: RuleContext) -> Any:
        value = super().clean_value(operator, raw, context)
        # Addresses are stored lowercased (emails.normalize_email).
        return value.lower()

    def compile(self, operator: Operator, value: Any, context: RuleContext) -> Q:
        lookup = {
            "equals": "email",
            "contains": "email__contains",
            "starts_with": "email__startswith",
            "ends_with": "email__endswith",
        }[operator.key]
        return Q(**{lookup: value})


@register
class DomainRule(RuleType):
    field = "domain"
    label = _("Email domain")
    operators = (
        Operator("equals", _("is"), "domains"),
        Operator("is_one_of", _("is one of"), "domains"),
    )

    def clean_value(self, operator: Operator, raw: Any, context: RuleContext) -> Any:
        domains = super().clean_value(operator, raw, context)
        if operator.key == "equals" and len(domains) > 1:
            raise RuleError(_("Enter one domain, or use “is one of” for several."))
        return domains

    def compile(self, operator: Operator, value: Any, context: RuleContext) -> Q:
        # No domain column: a suffix match on the normalized address, "@" included so
        # "mail.com" does not match "gmail.com".
        condition = Q()
        for domain in value:
            condition |= Q(email__endswith=f"@{domain}")
        return condition


class _NameRule(RuleType):
    operators = (EQUALS, CONTAINS, STARTS_WITH, IS_SET, IS_EMPTY)

    def compile(self, operator: Operator, value: Any, context: RuleContext) -> Q:
        column = self.field
        if operator.key == "is_set":
            return ~Q(**{column: ""})
        if operator.key == "is_empty":
            return Q(**{column: ""})
        # Names keep their case; people expect "anna" to find "Anna".
        lookup = {"equals": "iexact", "contains": "icontains", "starts_with": "istartswith"}
        return Q(**{f"{column}__{lookup[operator.key]}": value})


@register
class FirstNameRule(_NameRule):
    field = "first_name"
    label = _("First name")


@register
class LastNameRule(_NameRule):
    field = "last_name"
    label = _("Last name")


@register
class StatusRule(RuleType):
    field = "status"
    label = _("Status")
    operators = (Operator("is", _("is"), "choice"), Operator("is_not", _("is not"), "choice"))

    def choices(self, context: RuleContext) -> list[tuple[str, str]]:
        return [(value, str(label)) for value, label in Contact.Status.choices]

    def compile(self, operator: Operator, value: Any, context: RuleContext) -> Q:
        condition = Q(status=value)
        return condition if operator.key == "is" else ~condition


@register
class CreatedRule(RuleType):
    field = "created_at"
    label = _("Created")
    operators = (
        Operator("before", _("before"), "date"),
        Operator("after", _("after"), "date"),
        Operator("within_last_days", _("within the last"), "days"),
    )

    def compile(self, operator: Operator, value: Any, context: RuleContext) -> Q:
        if operator.key == "within_last_days":
            return Q(created_at__gte=context.now - dt.timedelta(days=value))
        day = dt.date.fromisoformat(value)
        if operator.key == "before":
            return Q(created_at__lt=context.day_start(day))
        return Q(created_at__gte=context.day_start(day + dt.timedelta(days=1)))


@register
class TagsRule(RuleType):
    field = "tags"
    label = _("Tags")
    group = GROUP_AUDIENCE
    operators = (
        Operator("has_any", _("has any of"), "tags"),
        Operator("has_all", _("has all of"), "tags"),
        Operator("has_none", _("has none of"), "tags"),
    )

    def compile(self, operator: Operator, value: Any, context: RuleContext) -> Q:
        # Array operators (&&, @>) so the GIN index on tags can answer them.
        if operator.key == "has_all":
            return Q(tags__contains=value)
        overlap = Q(tags__overlap=value)
        return overlap if operator.key == "has_any" else ~overlap


@register
class ListRule(RuleType):
    field = "list"
    label = _("List")
    group = GROUP_AUDIENCE
    operators = (
        Operator("member_of", _("is subscribed to"), "list"),
        Operator("not_member_of", _("is not subscribed to"), "list"),
    )

    def compile(self, operator: Operator, value: Any, context: RuleContext) -> Q:
        # Membership means a *subscribed* membership: people awaiting confirmation or
        # who left the list are not "on" it for sending purposes.
        subscribed = Exists(
            ListMembership.objects.filter(
                organization=context.organization,
                contact_list_id=value,
                contact_id=OuterRef("pk"),
                status=ListMembership.Status.SUBSCRIBED,
            )
        )
        return Q(subscribed) if operator.key == "member_of" else ~Q(subscribed)
