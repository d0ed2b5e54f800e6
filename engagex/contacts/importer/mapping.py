"""Column mapping: which file column fills which contact attribute.

A mapping is a list with one target per column (stored on `ContactImport.mapping` as
{"<column index>": target}). Targets:

    ""                      ignore the column
    "email", "first_name", "last_name", "tags"
    "field:<key>"           an existing custom field
    "new:<type>:<label>"    a custom field created when the import runs (in its
                            transaction, so a failed import leaves no new field behind)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from engagex.contacts.models import CustomField
from engagex.contacts.services.fields import RESERVED_KEYS
from engagex.contacts.values import field_key_from_label

IGNORE = ""
EMAIL = "email"
FIRST_NAME = "first_name"
LAST_NAME = "last_name"
TAGS = "tags"
FIELD_PREFIX = "field:"
NEW_PREFIX = "new:"
BUILTIN_TARGETS = (EMAIL, FIRST_NAME, LAST_NAME, TAGS)
NEW_FIELD_LABEL_MAX_LENGTH = 100

# Header names people use for the built-in attributes (compared without case, spaces,
# dashes and underscores).
_GUESSES = {
    EMAIL: {"email", "e-mail", "mail", "emailaddress", "mailaddress", "courriel", "correo"},
    FIRST_NAME: {"firstname", "first", "givenname", "forename", "vorname", "prénom", "prenom"},
    LAST_NAME: {"lastname", "last", "surname", "familyname", "nachname", "nom"},
    TAGS: {"tags", "tag", "labels", "schlagwörter"},
}
_SQUASH = re.compile(r"[\s_\-.]+")


def _squash(text: str) -> str:
    return _SQUASH.sub("", text.strip().casefold())


def guess_mapping(header: list[str], fields: list[CustomField]) -> list[str]:
    """A first guess at each column's target; each target is used at most once."""
    by_name: dict[str, str] = {}
    for target, names in _GUESSES.items():
        for name in names:
            by_name[_squash(name)] = target
    for custom in fields:
        by_name.setdefault(_squash(custom.key), FIELD_PREFIX + custom.key)
        by_name.setdefault(_squash(custom.label), FIELD_PREFIX + custom.key)
    mapping: list[str] = []
    used: set[str] = set()
    for name in header:
        squashed = _squash(name)
        target = by_name.get(squashed, IGNORE)
        if target == IGNORE and ("email" in squashed or "e-mail" in name.casefold()):
            target = EMAIL  # "Email address (work)" and the like
        if target in used:
            target = IGNORE
        if target:
            used.add(target)
        mapping.append(target)
    return mapping


@dataclass(frozen=True)
class NewField:
    key: str
    label: str
    type: str


@dataclass(frozen=True)
class Plan:
    """A validated mapping, ready to compile into a row validator."""

    targets: list[str]  # per column; new fields already resolved to "field:<key>"
    new_fields: list[NewField]

    @property
    def email_column(self) -> int:
        return self.targets.index(EMAIL)


def new_field_target(field_type: str, label: str) -> str:
    return f"{NEW_PREFIX}{field_type}:{label.strip()}"


def mapping_validate(
    targets: list[str],
    header: list[str],
    fields: list[CustomField],
    *,
    reuse_existing: bool = False,
) -> Plan:
    """Check a mapping against the file and the organization's fields.

    Raises `ValidationError` with every problem found (no email column, a target used
    twice, an unknown field or field type, a new field clashing with an existing one).
    `reuse_existing` (when the import runs): a "new" field that meanwhile exists with the
    same key and type is simply used.
    """
    if len(targets) != len(header):
        raise ValidationError(_("The mapping does not match the file's columns."))
    known = {custom.key: custom for custom in fields}
    labels = {custom.label.casefold(): custom for custom in fields}
    valid_types = {choice for choice, _label in CustomField.Type.choices}
    errors: list[str] = []
    resolved: list[str] = []
    new_fields: list[NewField] = []
    seen: dict[str, int] = {}
    for index, target in enumerate(targets):
        column = _column_name(header, index)
        if target.startswith(NEW_PREFIX):
            field_type, _sep, label = target[len(NEW_PREFIX) :].partition(":")
            label = label.strip()
            if field_type not in valid_types:
                errors.append(
                    _("Column “%(column)s”: unknown custom field type “%(type)s”.")
                    % {"column": column, "type": field_type}
                )
                resolved.append(IGNORE)
                continue
            if not label:
                errors.append(
                    _("Column “%(column)s”: give the new custom field a name.") % {"column": column}
                )
                resolved.append(IGNORE)
                continue
            key = field_key_from_label(label)
            if key in RESERVED_KEYS:
                errors.append(
                    _(
                        "Column “%(column)s”: “%(label)s” is a built-in contact property; "
                        "choose it from the list or give the new field another name."
                    )
                    % {"column": column, "label": label}
                )
                resolved.append(IGNORE)
                continue
            clash = known.get(key) or labels.get(label.casefold())
            if clash is not None and reuse_existing and clash.type == field_type:
                target = FIELD_PREFIX + clash.key
                clash = None
            elif clash is not None:
                errors.append(
                    _(
                        "Column “%(column)s”: a custom field “%(label)s” already exists; "
                        "choose it from the list instead of creating a new one."
                    )
                    % {"column": column, "label": clash.label}
                )
                resolved.append(IGNORE)
                continue
            else:
                new_fields.append(
                    NewField(key=key, label=label[:NEW_FIELD_LABEL_MAX_LENGTH], type=field_type)
                )
                target = FIELD_PREFIX + key
        elif target.startswith(FIELD_PREFIX):
            if target[len(FIELD_PREFIX) :] not in known:
                errors.append(
                    _("Column “%(column)s”: there is no custom field “%(key)s”.")
                    % {"column": column, "key": target[len(FIELD_PREFIX) :]}
                )
                resolved.append(IGNORE)
                continue
        elif target not in (IGNORE, *BUILTIN_TARGETS):
            errors.append(
                _("Column “%(column)s”: unknown target “%(target)s”.")
                % {"column": column, "target": target}
            )
            resolved.append(IGNORE)
            continue
        if target:
            if target in seen:
                errors.append(
                    _(
                        "Columns “%(first)s” and “%(second)s” both go to %(target)s: "
                        "each attribute can come from one column only."
                    )
                    % {
                        "first": _column_name(header, seen[target]),
                        "second": column,
                        "target": target_label(target, fields, new_fields),
                    }
                )
            seen[target] = index
        resolved.append(target)
    if EMAIL not in resolved and not errors:
        errors.append(_("Choose which column holds the email address."))
    if errors:
        raise ValidationError(errors)
    return Plan(targets=resolved, new_fields=new_fields)


def target_label(target: str, fields: list[CustomField], new_fields: list[NewField] = ()) -> str:
    builtin = {
        EMAIL: _("Email"),
        FIRST_NAME: _("First name"),
        LAST_NAME: _("Last name"),
        TAGS: _("Tags"),
    }
    if target in builtin:
        return f"“{builtin[target]}”"
    key = target[len(FIELD_PREFIX) :]
    for custom in [*fields, *new_fields]:
        if custom.key == key:
            return f"“{custom.label}”"
    return f"“{key}”"


def _column_name(header: list[str], index: int) -> str:
    name = header[index].strip() if index < len(header) else ""
    return name or _("Column %(number)s") % {"number": index + 1}


def mapping_to_json(targets: list[str]) -> dict[str, str]:
    return {str(index): target for index, target in enumerate(targets)}


def mapping_from_json(mapping: dict, width: int) -> list[str]:
    return [str(mapping.get(str(index), IGNORE) or IGNORE) for index in range(width)]
