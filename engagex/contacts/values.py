"""Custom field values and tag names: parsing user input into what we store.

Forms, the API, imports and the segment builder all parse through here, so "1,5",
"yes" or "31.12.2026" mean the same thing everywhere.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from engagex.contacts.models import FIELD_KEY_MAX_LENGTH, TAG_MAX_LENGTH, CustomField

FIELD_KEY_PATTERN = re.compile(rf"[a-z][a-z0-9_]{{0,{FIELD_KEY_MAX_LENGTH - 1}}}")
TEXT_VALUE_MAX_LENGTH = 1000
TRUE_WORDS = {"true", "yes", "y", "1", "on", "ja", "oui", "si", "x"}
FALSE_WORDS = {"false", "no", "n", "0", "off", "nein", "non"}
DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%Y/%m/%d")


class InvalidValue(ValueError):
    """The value does not fit the field; the message says why, for people."""


def field_key_from_label(label: str) -> str:
    """Suggest a key for a new field: "Date of birth" → "date_of_birth"."""
    key = re.sub(r"[^a-z0-9]+", "_", label.strip().lower()).strip("_")
    if not key or not key[0].isalpha():
        key = f"field_{key}".rstrip("_")
    return key[:FIELD_KEY_MAX_LENGTH]


def parse_field_value(field_type: str, raw):
    """Convert input (text, or a JSON value from the API) to the stored JSON value.

    Returns None for an empty value (the field is then removed from the contact).
    """
    if raw is None:
        return None
    if isinstance(raw, str):
        raw = raw.strip()
        if raw == "":
            return None
    if field_type == CustomField.Type.TEXT:
        text = str(raw)
        if len(text) > TEXT_VALUE_MAX_LENGTH:
            raise InvalidValue(f"Text is longer than {TEXT_VALUE_MAX_LENGTH} characters.")
        return text
    if field_type == CustomField.Type.NUMBER:
        return _parse_number(raw)
    if field_type == CustomField.Type.DATE:
        return _parse_date(raw).isoformat()
    if field_type == CustomField.Type.BOOLEAN:
        return _parse_boolean(raw)
    raise InvalidValue(f"Unknown field type “{field_type}”.")


def _parse_number(raw) -> int | float:
    if isinstance(raw, bool):
        raise InvalidValue("Expected a number.")
    if isinstance(raw, int | float):
        number = Decimal(str(raw))
    else:
        text = str(raw).replace(" ", "").replace("\u00a0", "")
        if text.count(",") == 1 and "." not in text:
            text = text.replace(",", ".")  # decimal comma
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise InvalidValue(f"“{raw}” is not a number.") from None
    if not number.is_finite():
        raise InvalidValue(f"“{raw}” is not a number.")
    return int(number) if number == number.to_integral_value() else float(number)


def _parse_date(raw) -> dt.date:
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    text = str(raw)
    for date_format in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text[:10], date_format).date()
        except ValueError:
            continue
    raise InvalidValue(f"“{raw}” is not a date (use YYYY-MM-DD).")


def _parse_boolean(raw) -> bool:
    if isinstance(raw, bool):
        return raw
    word = str(raw).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise InvalidValue(f"“{raw}” is not yes or no.")


def normalize_tag(raw: str) -> str:
    """Tags are trimmed, inner whitespace collapsed, case kept; empty or too long is refused."""
    tag = " ".join(str(raw).split())
    if not tag:
        raise InvalidValue("A tag cannot be empty.")
    if len(tag) > TAG_MAX_LENGTH:
        raise InvalidValue(f"A tag can be at most {TAG_MAX_LENGTH} characters.")
    return tag


def parse_tags(raw: str | list[str] | tuple[str, ...]) -> list[str]:
    """ "vip, customer; 2026" or a list → unique tags in first-seen order."""
    items = re.split(r"[,;|]", raw) if isinstance(raw, str) else list(raw)
    tags: list[str] = []
    for item in items:
        if isinstance(item, str) and not item.strip():
            continue
        tag = normalize_tag(item)
        if tag not in tags:
            tags.append(tag)
    return tags
