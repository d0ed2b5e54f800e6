"""Bulk upsert of up to 1,000 contacts per call (the API's sync endpoint).

All or nothing: every item is validated first; one bad item fails the call with its index
and changes nothing. The writes are set-based (a handful of queries per call, not per
contact) and leave one audit entry for the whole batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from engagex import audit
from engagex.accounts.services.usage import contacts_check
from engagex.contacts.emails import InvalidEmail, email_hash, normalize_email
from engagex.contacts.models import Contact, ContactList, CustomField, Suppression
from engagex.contacts.selectors.contacts import contacts_live
from engagex.contacts.services.tags import tags_ensure
from engagex.contacts.values import InvalidValue, parse_field_value, parse_tags

MAX_BATCH = 1000
# Statuses a caller may set; bounced/complained come only from delivery feedback.
SETTABLE_STATUSES = {Contact.Status.SUBSCRIBED, Contact.Status.UNSUBSCRIBED}


@dataclass
class UpsertResult:
    created: list[Contact] = field(default_factory=list)
    updated: list[Contact] = field(default_factory=list)
    # Indexes of items whose address is suppressed: stored, but never subscribed.
    suppressed: list[int] = field(default_factory=list)


@dataclass
class _Item:
    index: int
    email: str
    values: dict[str, Any]
    fields: dict[str, Any]
    tags: list[str]


def _parse_item(index: int, raw: dict, field_types: dict[str, str]) -> _Item:
    errors: dict[str, str] = {}
    try:
        email = normalize_email(str(raw.get("email") or ""))
    except InvalidEmail as error:
        errors["email"] = str(error)
        email = ""
    values: dict[str, Any] = {}
    for name in ("first_name", "last_name"):
        if name in raw:
            text = str(raw[name] or "").strip()
            if len(text) > 100:
                errors[name] = _("At most 100 characters.")
            values[name] = text
    if "status" in raw:
        if raw["status"] not in SETTABLE_STATUSES:
            errors["status"] = _("Status must be “subscribed” or “unsubscribed”.")
        values["status"] = raw["status"]
    fields: dict[str, Any] = {}
    for key, value in (raw.get("fields") or {}).items():
        if key not in field_types:
            errors[f"fields.{key}"] = _("No custom field “%(key)s” exists.") % {"key": key}
            continue
        try:
            fields[key] = parse_field_value(field_types[key], value)
        except InvalidValue as error:
            errors[f"fields.{key}"] = str(error)
    try:
        tags = parse_tags(raw.get("tags") or [])
    except InvalidValue as error:
        errors["tags"] = str(error)
        tags = []
    if errors:
        raise ValidationError({f"contacts[{index}]": [f"{k}: {v}" for k, v in errors.items()]})
    return _Item(index, email, values, fields, tags)


@transaction.atomic
def contacts_upsert_many(
    *,
    organization,
    actor,
    items: Sequence[dict],
    update_existing: bool = True,
    contact_list: ContactList | None = None,
    consent_source: str = "API",
) -> UpsertResult:
    """Create new contacts and (optionally) update existing ones by email address.

    A later item with the same address overrides an earlier one. Soft-deleted contacts
    with a listed address are restored. Suppressed addresses are stored but keep (or get)
    the unsubscribed status.
    """
    if not items:
        raise ValidationError(_("Send at least one contact."))
    if len(items) > MAX_BATCH:
        raise ValidationError(
            _("At most %(max)s contacts per call; split the batch.") % {"max": MAX_BATCH}
        )
    if contact_list is not None and contact_list.organization_id != organization.pk:
        raise ValidationError(_("Unknown list."))
    field_types = dict(
        CustomField.objects.filter(organization=organization).values_list("key", "type")
    )
    parsed: dict[str, _Item] = {}
    errors: dict[str, list[str]] = {}
    for index, raw in enumerate(items):
        try:
            item = _parse_item(index, raw, field_types)
        except ValidationError as error:
            errors.update(error.message_dict)
            continue
        parsed[item.email] = item
    if errors:
        raise ValidationError(errors)

    emails = list(parsed)
    existing = {
        contact.email: contact
        for contact in Contact.objects.select_for_update().filter(
            organization=organization, email__in=emails
        )
    }
    suppressed = set(
        Suppression.objects.filter(
            organization=organization, email_hash__in=[email_hash(e) for e in emails]
        ).values_list("email_hash", flat=True)
    )
    revived = [c for c in existing.values() if c.deleted_at is not None]
    adding = len(emails) - len(existing) + len(revived)
    decision = contacts_check(
        organization=organization,
        adding=adding,
        current=contacts_live(organization=organization).count(),
    )
    if not decision:
        raise ValidationError(decision.reason)

    now = timezone.now()
    result = UpsertResult()
    to_create: list[Contact] = []
    to_update: list[Contact] = []
    for email, item in parsed.items():
        is_suppressed = email_hash(email) in suppressed
        if is_suppressed:
            result.suppressed.append(item.index)
        contact = existing.get(email)
        if contact is None:
            status = item.values.get("status", Contact.Status.SUBSCRIBED)
            contact = Contact(
                organization=organization,
                email=email,
                first_name=item.values.get("first_name", ""),
                last_name=item.values.get("last_name", ""),
                fields={k: v for k, v in item.fields.items() if v is not None},
                tags=item.tags,
                status=Contact.Status.UNSUBSCRIBED if is_suppressed else status,
                consent_source=consent_source,
                consent_at=now,
            )
            to_create.append(contact)
            continue
        if contact.deleted_at is None and not update_existing:
            continue
        contact.deleted_at = None
        for name in ("first_name", "last_name"):
            if name in item.values:
                setattr(contact, name, item.values[name])
        merged = {**contact.fields, **item.fields}
        contact.fields = {k: v for k, v in merged.items() if v is not None}
        contact.tags = contact.tags + [t for t in item.tags if t not in contact.tags]
        # Only the two manual statuses can be set, and never over a bounce/complaint
        # or onto a suppressed address.
        wanted = item.values.get("status")
        system_status = contact.status in (Contact.Status.BOUNCED, Contact.Status.COMPLAINED)
        if wanted and not system_status and not (is_suppressed and wanted == "subscribed"):
            contact.status = wanted
        contact.updated_at = now
        to_update.append(contact)

    Contact.objects.bulk_create(to_create)
    Contact.objects.bulk_update(
        to_update,
        ["first_name", "last_name", "fields", "tags", "status", "deleted_at", "updated_at"],
    )
    result.created, result.updated = to_create, to_update
    tags_ensure(organization=organization, names={t for i in parsed.values() for t in i.tags})
    if contact_list is not None:
        from engagex.contacts.services.lists import list_members_add

        list_members_add(
            organization=organization,
            actor=actor,
            contact_list=contact_list,
            contact_ids=[c.pk for c in to_create + to_update],
        )
    audit.record(
        organization,
        actor,
        "contacts.bulk_upserted",
        "contact",
        "",
        {"created": len(to_create), "updated": len(to_update)},
    )
    return result
