"""Per-row validation on the import hot path: cheap, allocation-light, no database.

A `RowValidator` turns a row's cells into what is staged — (email, first name, last
name, fields as JSON text, tags) — or raises `RowRejected` with the reason a person
reads in the rejected-rows report. Empty cells mean "no value": they never erase
what an existing contact already has.
"""

from __future__ import annotations

import json

from django.utils.translation import gettext as _

from engagex.contacts.emails import InvalidEmail, normalize_email
from engagex.contacts.importer.mapping import (
    EMAIL,
    FIELD_PREFIX,
    FIRST_NAME,
    LAST_NAME,
    TAGS,
    Plan,
)
from engagex.contacts.models import Contact
from engagex.contacts.values import InvalidValue, parse_field_value, parse_tags

NAME_MAX_LENGTH = Contact._meta.get_field("first_name").max_length

Staged = tuple[str, str | None, str | None, str | None, list[str] | None]
# One encoder, reused: `json.dumps` builds a new one per call, a measurable cost per row.
_to_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class RowRejected(ValueError):
    """The row is not imported; the message goes into the rejected-rows report."""


class RowValidator:
    def __init__(
        self,
        plan: Plan,
        *,
        header: list[str],
        field_types: dict[str, str],
        extra_tags: list[str] = (),
    ) -> None:
        targets = plan.targets
        self.width = len(header)
        self.email_column = targets.index(EMAIL)
        self.first_column = targets.index(FIRST_NAME) if FIRST_NAME in targets else None
        self.last_column = targets.index(LAST_NAME) if LAST_NAME in targets else None
        self.tags_column = targets.index(TAGS) if TAGS in targets else None
        self.extra_tags = list(extra_tags)
        # (column, key, type, column name) of every custom field column.
        self.field_columns = [
            (
                index,
                target[len(FIELD_PREFIX) :],
                field_types[target[len(FIELD_PREFIX) :]],
                header[index] or _("Column %(number)s") % {"number": index + 1},
            )
            for index, target in enumerate(targets)
            if target.startswith(FIELD_PREFIX)
        ]

    def __call__(self, cells: list[str]) -> Staged:
        if len(cells) != self.width:
            raise RowRejected(
                _("Expected %(expected)s columns, found %(found)s.")
                % {"expected": self.width, "found": len(cells)}
            )
        try:
            email = normalize_email(cells[self.email_column])
        except InvalidEmail as error:
            raise RowRejected(_("Email: %(reason)s") % {"reason": error}) from None
        first = self._name(cells, self.first_column, FIRST_NAME)
        last = self._name(cells, self.last_column, LAST_NAME)
        fields = None
        if self.field_columns:
            values = {}
            for index, key, field_type, column in self.field_columns:
                try:
                    value = parse_field_value(field_type, cells[index])
                except InvalidValue as error:
                    raise RowRejected(
                        _("Column “%(column)s”: %(reason)s") % {"column": column, "reason": error}
                    ) from None
                if value is not None:
                    values[key] = value
            if values:
                fields = _to_json(values)
        tags = None
        if self.tags_column is not None and cells[self.tags_column].strip():
            try:
                tags = parse_tags(cells[self.tags_column])
            except InvalidValue as error:
                raise RowRejected(_("Tags: %(reason)s") % {"reason": error}) from None
            tags.extend(tag for tag in self.extra_tags if tag not in tags)
        return email, first, last, fields, tags

    @staticmethod
    def _name(cells: list[str], column: int | None, target: str) -> str | None:
        if column is None:
            return None
        name = cells[column].strip()
        if not name:
            return None
        if len(name) > NAME_MAX_LENGTH:
            # Translated only here: gettext on every row would cost more than the row.
            label = _("First name") if target == FIRST_NAME else _("Last name")
            raise RowRejected(
                _("%(label)s is longer than %(max)s characters.")
                % {"label": label, "max": NAME_MAX_LENGTH}
            )
        return name
