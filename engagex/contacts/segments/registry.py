"""Rule types: what a segment rule may say, how its value is read, and how it becomes SQL.

Each field a rule can test is one `RuleType` subclass, registered by its `field` name.
A rule type lists its operators (each with the kind of value it needs), cleans the
value a person or the API sent, and compiles (operator, clean value) to a Django `Q`.
The engine (`engine.py`) combines those `Q`s into one queryset; nothing here builds
SQL text, so user input only ever reaches the database as query parameters.

Adding a rule means writing one subclass with `operators`, `clean_value` where the
default is not enough, and `compile` (see `rules_activity.py` for rules over other
apps' tables).
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from engagex.contacts.models import ContactList, CustomField
from engagex.contacts.values import InvalidValue, parse_field_value, parse_tags

TEXT_VALUE_MAX_LENGTH = 200
MAX_VALUES = 50  # tags or domains in one rule
MAX_DAYS = 36_500


class RuleError(ValueError):
    """This rule cannot be used; the message says why, for people."""


@dataclass(frozen=True)
class Operator:
    key: str
    label: str
    # What the value input is: "none", "text", "email", "number", "date", "days",
    # "choice" (from `RuleType.choices`: also the activity rules' campaign picker, so
    # the builder and segments.js need nothing new), "list" (a contact list), "tags",
    # "domains".
    value: str = "text"


# Group headings in the builder's field picker, in display order.
GROUP_CONTACT = gettext_lazy("Contact")
GROUP_CUSTOM = gettext_lazy("Custom fields")
GROUP_AUDIENCE = gettext_lazy("Tags and lists")
GROUP_ACTIVITY = gettext_lazy("Activity")
GROUP_ORDER = (GROUP_CONTACT, GROUP_CUSTOM, GROUP_AUDIENCE, GROUP_ACTIVITY)


@dataclass
class RuleContext:
    """Everything rules of one organization need, loaded once per validation/compile."""

    organization: Any
    now: dt.datetime = field(default_factory=timezone.now)
    # Lookups rule types make once per context (e.g. the campaign picker's choices).
    memo: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def custom_fields(self) -> dict[str, CustomField]:
        fields = CustomField.objects.filter(organization=self.organization)
        return {custom_field.key: custom_field for custom_field in fields}

    @cached_property
    def lists(self) -> dict[str, ContactList]:
        rows = ContactList.objects.filter(organization=self.organization).order_by("name")
        return {str(contact_list.pk): contact_list for contact_list in rows}

    @cached_property
    def time_zone(self) -> dt.tzinfo:
        try:
            return zoneinfo.ZoneInfo(self.organization.time_zone or "UTC")
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return dt.UTC

    @property
    def today(self) -> dt.date:
        """Dates in rules are the organization's calendar days."""
        return self.now.astimezone(self.time_zone).date()

    def day_start(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time.min, tzinfo=self.time_zone)


class RuleType:
    field: ClassVar[str] = ""
    label: ClassVar[str] = ""
    group: ClassVar[str] = GROUP_CONTACT
    operators: ClassVar[tuple[Operator, ...]] = ()
    # False: shown in the builder but disabled, and refused when submitted.
    available: ClassVar[bool] = True
    unavailable_note: ClassVar[str] = ""
    # What the rule means exactly, where the label alone can't say it.
    help: ClassVar[str] = ""

    def operator(self, key: str) -> Operator | None:
        return next((op for op in self.operators if op.key == key), None)

    def choices(self, context: RuleContext) -> list[tuple[str, str]]:
        """(value, label) pairs for operators whose value kind is "choice"."""
        return []

    def clean_value(self, operator: Operator, raw: Any, context: RuleContext) -> Any:
        return clean_value_of_kind(operator.value, raw, context, self.choices(context))

    def compile(self, operator: Operator, value: Any, context: RuleContext) -> Q:
        raise NotImplementedError

    def describe_value(self, operator: Operator, value: Any, context: RuleContext) -> str:
        if operator.value == "none":
            return ""
        if operator.value == "choice":
            return str(dict(self.choices(context)).get(value, value))
        if operator.value == "list":
            contact_list = context.lists.get(str(value))
            return f"“{contact_list.name}”" if contact_list else _("a deleted list")
        if operator.value in ("tags", "domains"):
            return ", ".join(str(item) for item in value)
        if operator.value == "days":
            return _("%(days)s days") % {"days": value}
        if operator.value in ("number", "date"):
            return str(value)
        return f"“{value}”"


REGISTRY: dict[str, RuleType] = {}


def register(cls: type[RuleType]) -> type[RuleType]:
    """Class decorator: make a rule type available under its `field` name."""
    if not cls.field or cls.field in REGISTRY or cls.field.startswith(CUSTOM_PREFIX):
        raise ValueError(f"Bad or duplicate rule field {cls.field!r}")
    REGISTRY[cls.field] = cls()
    return cls


CUSTOM_PREFIX = "field:"
# Set by `custom.py`: CustomField → its rule type.
custom_rule_factory: Callable[[CustomField], RuleType] | None = None


def rule_type_for(field_name: str, context: RuleContext) -> RuleType:
    """The rule type behind a rule's "field", or RuleError naming what is wrong."""
    if not isinstance(field_name, str) or not field_name:
        raise RuleError(_("Choose a field."))
    if field_name.startswith(CUSTOM_PREFIX):
        key = field_name.removeprefix(CUSTOM_PREFIX)
        custom_field = context.custom_fields.get(key)
        if custom_field is None or custom_rule_factory is None:
            raise RuleError(
                _("There is no custom field “%(key)s” in this organization.") % {"key": key[:60]}
            )
        return custom_rule_factory(custom_field)
    try:
        return REGISTRY[field_name]
    except KeyError:
        raise RuleError(_("Unknown field “%(field)s”.") % {"field": field_name[:60]}) from None


def all_rule_types(context: RuleContext) -> list[RuleType]:
    """Every rule type for this organization, in picker order."""
    types = [rule for rule in REGISTRY.values()]
    if custom_rule_factory is not None:
        types += [custom_rule_factory(cf) for cf in context.custom_fields.values()]
    order = {str(group): index for index, group in enumerate(GROUP_ORDER)}
    return sorted(types, key=lambda rule: order.get(str(rule.group), len(order)))


# -- values ----------------------------------------------------------------------------


def _text(raw: Any) -> str:
    if isinstance(raw, list | tuple | dict) or raw is None:
        raise RuleError(_("Enter a value."))
    text = " ".join(str(raw).split())
    if not text:
        raise RuleError(_("Enter a value."))
    if len(text) > TEXT_VALUE_MAX_LENGTH:
        raise RuleError(_("Use at most %(max)s characters.") % {"max": TEXT_VALUE_MAX_LENGTH})
    return text


def _days(raw: Any) -> int:
    if isinstance(raw, bool):
        raise RuleError(_("Enter a number of days."))
    try:
        days = int(str(raw).strip())
    except (TypeError, ValueError):
        raise RuleError(_("Enter a whole number of days, e.g. 30.")) from None
    if not 1 <= days <= MAX_DAYS:
        raise RuleError(_("Enter between 1 and %(max)s days.") % {"max": MAX_DAYS})
    return days


def _items(raw: Any) -> list[str]:
    if isinstance(raw, str):
        return [item for item in raw.replace(";", ",").split(",") if item.strip()]
    if isinstance(raw, list | tuple):
        return [str(item) for item in raw if str(item).strip()]
    raise RuleError(_("Enter one or more values, separated by commas."))


def clean_domains(raw: Any) -> list[str]:
    from engagex.contacts.emails import InvalidEmail, email_domain, normalize_email

    domains: list[str] = []
    for item in _items(raw):
        text = item.strip().lower().lstrip("@")
        try:
            domain = email_domain(normalize_email(f"postmaster@{text}"))
        except InvalidEmail:
            raise RuleError(
                _("“%(value)s” is not a domain, e.g. gmail.com.") % {"value": item.strip()[:60]}
            ) from None
        if domain not in domains:
            domains.append(domain)
    if not domains:
        raise RuleError(_("Enter a domain, e.g. gmail.com."))
    if len(domains) > MAX_VALUES:
        raise RuleError(_("Use at most %(max)s domains.") % {"max": MAX_VALUES})
    return domains


def clean_value_of_kind(
    kind: str, raw: Any, context: RuleContext, choices: list[tuple[str, str]] = ()
) -> Any:
    if kind == "none":
        return None
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise RuleError(_("Enter a value.") if kind != "list" else _("Choose a list."))
    if kind == "text":
        return _text(raw)
    if kind == "email":
        from engagex.contacts.emails import InvalidEmail, normalize_email

        try:
            return normalize_email(_text(raw))
        except InvalidEmail as error:
            raise RuleError(str(error)) from None
    if kind in ("number", "date"):
        if isinstance(raw, list | tuple | dict):
            raise RuleError(_("Enter a single value."))
        try:
            return parse_field_value(kind, raw)
        except InvalidValue as error:
            raise RuleError(str(error)) from None
    if kind == "days":
        return _days(raw)
    if kind == "choice":
        value = str(raw)
        if value not in dict(choices):
            raise RuleError(_("“%(value)s” is not one of the choices.") % {"value": value[:60]})
        return value
    if kind == "list":
        try:
            list_id = str(uuid.UUID(str(raw).strip()))
        except ValueError:
            list_id = ""
        contact_list = context.lists.get(list_id)
        if contact_list is None:
            raise RuleError(_("That list does not exist (any more) in this organization."))
        return str(contact_list.pk)
    if kind == "tags":
        try:
            tags = parse_tags(_items(raw))
        except InvalidValue as error:
            raise RuleError(str(error)) from None
        if not tags:
            raise RuleError(_("Enter at least one tag."))
        if len(tags) > MAX_VALUES:
            raise RuleError(_("Use at most %(max)s tags.") % {"max": MAX_VALUES})
        return tags
    if kind == "domains":
        return clean_domains(raw)
    raise RuleError(_("This rule cannot take a value yet."))
