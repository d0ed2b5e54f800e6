"""Segments: create, update, duplicate, delete. Rules are validated (and normalized) by
the rule engine before anything is written; invalid input changes nothing."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from engagex import audit
from engagex.contacts.models import Segment
from engagex.contacts.segments import RuleContext, count_rules, validate_rules

NAME_MAX_LENGTH = Segment._meta.get_field("name").max_length
DESCRIPTION_MAX_LENGTH = Segment._meta.get_field("description").max_length


def _clean_name(organization, name: str, *, exclude: Segment | None = None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": _("Give the segment a name, e.g. “Active VIPs”.")})
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationError(
            {"name": _("Use at most %(max)s characters.") % {"max": NAME_MAX_LENGTH}}
        )
    taken = Segment.objects.filter(organization=organization, name__iexact=name)
    if exclude is not None:
        taken = taken.exclude(pk=exclude.pk)
    if taken.exists():
        raise ValidationError(
            {"name": _("A segment named “%(name)s” already exists.") % {"name": name}}
        )
    return name


def _clean_description(description: str) -> str:
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise ValidationError(
            {"description": _("Use at most %(max)s characters.") % {"max": DESCRIPTION_MAX_LENGTH}}
        )
    return description


def _clean(organization, *, name: str, description: str, rules: Any, exclude=None) -> dict:
    """All fields checked together, so the person sees every problem at once."""
    errors: dict[str, list] = {}
    cleaned: dict[str, Any] = {}
    checks = (
        ("name", lambda: _clean_name(organization, name, exclude=exclude)),
        ("description", lambda: _clean_description(description)),
        (
            "rules",
            lambda: validate_rules(rules, context=RuleContext(organization), require=True),
        ),
    )
    for key, check in checks:
        try:
            cleaned[key] = check()
        except ValidationError as error:
            messages = error.message_dict.get(key) if hasattr(error, "error_dict") else None
            errors[key] = messages or error.messages
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def segment_create(*, organization, actor, name: str, rules: Any, description: str = "") -> Segment:
    cleaned = _clean(organization, name=name, description=description, rules=rules)
    segment = Segment.objects.create(organization=organization, created_by=actor, **cleaned)
    audit.record(
        organization,
        actor,
        "contacts.segment_created",
        "segment",
        segment.pk,
        {"rules": count_rules(segment.rules)},
    )
    return segment


@transaction.atomic
def segment_update(
    *, organization, actor, segment: Segment, name: str, rules: Any, description: str = ""
) -> Segment:
    if segment.organization_id != organization.pk:
        raise ValueError("The segment belongs to another organization.")
    cleaned = _clean(organization, name=name, description=description, rules=rules, exclude=segment)
    for key, value in cleaned.items():
        setattr(segment, key, value)
    segment.save(update_fields=[*cleaned, "updated_at"])
    audit.record(
        organization,
        actor,
        "contacts.segment_updated",
        "segment",
        segment.pk,
        {"rules": count_rules(segment.rules)},
    )
    return segment


def _copy_name(organization, name: str) -> str:
    names = Segment.objects.filter(organization=organization).values_list("name", flat=True)
    taken = {existing.lower() for existing in names}
    for number in range(1, 1000):
        suffix = "" if number == 1 else f" ({number})"
        room = NAME_MAX_LENGTH - len(_("Copy of %(name)s") % {"name": ""}) - len(suffix)
        candidate = (_("Copy of %(name)s") % {"name": name[:room]}) + suffix
        if candidate.lower() not in taken:
            return candidate
    raise ValidationError(_("Too many copies of this segment already; rename some first."))


@transaction.atomic
def segment_duplicate(*, organization, actor, segment: Segment) -> Segment:
    """A copy named "Copy of …" with the same rules (re-validated: they may be stale)."""
    if segment.organization_id != organization.pk:
        raise ValueError("The segment belongs to another organization.")
    return segment_create(
        organization=organization,
        actor=actor,
        name=_copy_name(organization, segment.name),
        description=segment.description,
        rules=segment.rules,
    )


@transaction.atomic
def segment_delete(*, organization, actor, segment: Segment) -> None:
    if segment.organization_id != organization.pk:
        raise ValueError("The segment belongs to another organization.")
    segment_id = segment.pk
    rules = count_rules(segment.rules)
    segment.delete()
    audit.record(
        organization, actor, "contacts.segment_deleted", "segment", segment_id, {"rules": rules}
    )
