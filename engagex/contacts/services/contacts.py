"""Contacts: create, change, tag, unsubscribe, delete, restore, anonymize, purge.

Every function here is what the web pages, the API and other services call; none of
them trusts its caller to have validated anything. Bulk functions take either a list of
contact ids or — for "select all N matching" — a Contact queryset, and change the
selection with one set-based UPDATE whatever its size. They only ever touch the
organization's live (not soft-deleted) contacts, except restore and purge which work on
the deleted ones.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_ipv46_address
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from engagex import audit
from engagex.accounts.models import Organization
from engagex.accounts.services.usage import contacts_check
from engagex.contacts.emails import InvalidEmail, email_hash, normalize_email
from engagex.contacts.models import (
    RESTORE_WINDOW_DAYS,
    Contact,
    ContactList,
    CustomField,
    ListMembership,
    Suppression,
)
from engagex.contacts.selectors.contacts import contacts_live
from engagex.contacts.selectors.suppressions import is_suppressed
from engagex.contacts.services.tags import tags_ensure
from engagex.contacts.values import InvalidValue, parse_field_value, parse_tags

Status = Contact.Status
ContactIds = Iterable[uuid.UUID | str] | QuerySet

NAME_MAX_LENGTH = Contact._meta.get_field("first_name").max_length
CONSENT_SOURCE_MAX_LENGTH = Contact._meta.get_field("consent_source").max_length
CONSENT_TEXT_MAX_LENGTH = 5000
# Statuses a contact can be created with; bounced and complained come only from delivery
# feedback.
CREATE_STATUSES = (Status.SUBSCRIBED, Status.UNCONFIRMED, Status.UNSUBSCRIBED)
# The statuses a person may switch between by hand.
MANUAL_STATUSES = (Status.SUBSCRIBED, Status.UNSUBSCRIBED)
SYSTEM_STATUSES = (Status.BOUNCED, Status.COMPLAINED)
UPDATABLE = frozenset({"email", "first_name", "last_name", "fields", "tags", "status"})
ANONYMIZED_DOMAIN = "anonymized.invalid"
PURGE_CHUNK = 1000


# -- validation helpers --------------------------------------------------------------------


def _clean_email(value: str, errors: dict) -> str:
    try:
        return normalize_email(str(value or ""))
    except InvalidEmail as error:
        errors["email"] = str(error)
        return ""


def _clean_name(name: str, value: str, errors: dict) -> str:
    text = " ".join(str(value or "").split())
    if len(text) > NAME_MAX_LENGTH:
        errors[name] = _("At most %(max)s characters.") % {"max": NAME_MAX_LENGTH}
    return text


def _clean_fields(organization, raw: dict | None, errors: dict) -> dict[str, Any]:
    """Parse values by the organization's field types; None in the result means "remove"."""
    if not raw:
        return {}
    if not isinstance(raw, dict):
        errors["fields"] = _("Custom fields must be given as key → value pairs.")
        return {}
    types = dict(
        CustomField.objects.filter(organization=organization, key__in=list(raw)).values_list(
            "key", "type"
        )
    )
    values: dict[str, Any] = {}
    problems = []
    for key, value in raw.items():
        if key not in types:
            problems.append(_("There is no custom field “%(key)s”.") % {"key": str(key)[:50]})
            continue
        try:
            values[key] = parse_field_value(types[key], value)
        except InvalidValue as error:
            problems.append(f"{key}: {error}")
    if problems:
        errors["fields"] = problems
    return values


def _clean_tags(raw, errors: dict) -> list[str]:
    try:
        return parse_tags(raw or [])
    except InvalidValue as error:
        errors["tags"] = str(error)
        return []


def _suppressed_message() -> str:
    return _(
        "This address is on the suppression list, so it can't be subscribed. Remove it "
        "from the suppression list first if the person asked to get email again."
    )


def _check_plan(organization: Organization, adding: int) -> None:
    if adding <= 0 or organization.plan.max_contacts is None:
        return  # no COUNT over millions of rows when the plan has no limit
    decision = contacts_check(
        organization=organization,
        adding=adding,
        current=contacts_live(organization=organization).count(),
    )
    if not decision:
        raise ValidationError(decision.reason)


def _check_same_organization(organization, contact: Contact) -> None:
    if contact.organization_id != organization.pk:
        raise ValueError("The contact belongs to another organization.")


def _actor_user(actor):
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


# -- one contact -----------------------------------------------------------------------------


@transaction.atomic
def contact_create(
    *,
    organization: Organization,
    actor,
    email: str,
    first_name: str = "",
    last_name: str = "",
    fields: dict | None = None,
    tags: Iterable[str] | str = (),
    status: str = Status.SUBSCRIBED,
    list_ids: Iterable[uuid.UUID | str] = (),
    consent_source: str = "",
    consent_ip: str | None = None,
    consent_text: str = "",
) -> Contact:
    """Add one contact, optionally putting it on lists (double opt-in lists email it).

    The address is normalized and validated, custom fields are checked against the
    organization's field definitions, and the plan's contact limit applies. A suppressed
    address can only be added as unsubscribed and not to lists.

    If a **soft-deleted** contact has the same address, that contact is restored and
    updated with the given values (names and consent when given, fields merged, tags
    added, status set unless it bounced or complained) instead of failing: for the person
    adding it, the old one was gone. A live contact with the address is a ValidationError.

    Errors are a ValidationError keyed by the argument they concern; nothing is saved.
    """
    errors: dict[str, Any] = {}
    email = _clean_email(email, errors)
    first_name = _clean_name("first_name", first_name, errors)
    last_name = _clean_name("last_name", last_name, errors)
    values = {k: v for k, v in _clean_fields(organization, fields, errors).items() if v is not None}
    tags = _clean_tags(tags, errors)
    if status not in CREATE_STATUSES:
        errors["status"] = _("A new contact can be subscribed, unconfirmed or unsubscribed.")
    consent_source = " ".join(str(consent_source or "").split())
    if len(consent_source) > CONSENT_SOURCE_MAX_LENGTH:
        errors["consent_source"] = _("At most %(max)s characters.") % {
            "max": CONSENT_SOURCE_MAX_LENGTH
        }
    consent_text = str(consent_text or "").strip()
    if len(consent_text) > CONSENT_TEXT_MAX_LENGTH:
        errors["consent_text"] = _("At most %(max)s characters.") % {"max": CONSENT_TEXT_MAX_LENGTH}
    if consent_ip:
        try:
            validate_ipv46_address(consent_ip)
        except ValidationError:
            errors["consent_ip"] = _("“%(value)s” is not an IP address.") % {
                "value": str(consent_ip)[:50]
            }
    contact_lists = _lists_of(organization, list_ids, errors)
    subscribing = status != Status.UNSUBSCRIBED or bool(contact_lists)
    if email and subscribing and is_suppressed(organization=organization, email=email):
        errors["email"] = _suppressed_message()
    if errors:
        raise ValidationError(errors)

    existing = (
        Contact.objects.select_for_update().filter(organization=organization, email=email).first()
    )
    if existing is not None and existing.deleted_at is None:
        raise ValidationError({"email": _("A contact with this address already exists.")})
    _check_plan(organization, 1)
    now = timezone.now()
    consent = {}
    if consent_source:
        consent = {
            "consent_source": consent_source,
            "consent_at": now,
            "consent_ip": consent_ip or None,
            "consent_text": consent_text,
        }
    if existing is None:
        contact = Contact(
            organization=organization,
            email=email,
            first_name=first_name,
            last_name=last_name,
            fields=values,
            tags=tags,
            status=status,
            **consent,
        )
        try:
            with transaction.atomic():
                contact.save(force_insert=True)
        except IntegrityError:  # someone added the same address a moment ago
            raise ValidationError(
                {"email": _("A contact with this address already exists.")}
            ) from None
    else:
        contact = existing
        contact.deleted_at = None
        contact.first_name = first_name or contact.first_name
        contact.last_name = last_name or contact.last_name
        contact.fields = {**contact.fields, **values}
        contact.tags = contact.tags + [tag for tag in tags if tag not in contact.tags]
        if contact.status not in SYSTEM_STATUSES:
            contact.status = status
        for name, value in consent.items():
            setattr(contact, name, value)
        contact.save()
    tags_ensure(organization=organization, names=tags)
    _lists_add(organization, actor, contact, contact_lists)
    audit.record(
        organization,
        actor,
        "contacts.created",
        "contact",
        contact.pk,
        {"restored": existing is not None, "lists": len(contact_lists)},
    )
    return contact


def _lists_of(organization, list_ids, errors: dict) -> list[ContactList]:
    ids = []
    for value in list_ids or ():
        try:
            ids.append(uuid.UUID(str(value)))
        except ValueError:
            errors["list_ids"] = _("Unknown list.")
            return []
    if not ids:
        return []
    lists = list(ContactList.objects.filter(organization=organization, pk__in=ids))
    if len(lists) != len(set(ids)):
        errors["list_ids"] = _("Unknown list.")
    return lists


def _lists_add(organization, actor, contact: Contact, contact_lists: list[ContactList]) -> None:
    from engagex.contacts.services.lists import list_members_add

    for contact_list in contact_lists:
        list_members_add(
            organization=organization,
            actor=actor,
            contact_list=contact_list,
            contact_ids=[contact.pk],
        )


def _check_status_change(organization, contact: Contact, new: str, email: str) -> str | None:
    """The error message for a manual status change, or None when it is allowed."""
    if new not in MANUAL_STATUSES:
        return _("The status can be set to subscribed or unsubscribed.")
    if contact.status in SYSTEM_STATUSES:
        return _(
            "This contact's address bounced or was reported as spam, so its status is set "
            "by the system and can't be changed by hand."
        )
    if contact.status == Status.UNCONFIRMED and new == Status.SUBSCRIBED:
        return _("This contact has not confirmed the subscription yet.")
    if new == Status.SUBSCRIBED and is_suppressed(organization=organization, email=email):
        return _suppressed_message()
    return None


@transaction.atomic
def contact_update(*, organization: Organization, actor, contact: Contact, **changes) -> Contact:
    """Change a live contact. Accepts email, first_name, last_name, fields, tags, status.

    `fields` is merged into the contact's fields (an empty value or None removes one);
    `tags` replaces the tags. Status: only subscribed ↔ unsubscribed by hand (an
    unconfirmed contact may be unsubscribed); bounced and complained are the system's;
    a suppressed address can't be subscribed. Unsubscribing also unsubscribes every list
    membership, as the bulk action does.
    """
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise TypeError(f"contact_update() got unexpected changes: {', '.join(sorted(unknown))}")
    _check_same_organization(organization, contact)
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    if contact.deleted_at is not None:
        raise ValidationError(_("This contact is deleted; restore it before changing it."))
    errors: dict[str, Any] = {}
    new: dict[str, Any] = {}
    if "email" in changes:
        new["email"] = _clean_email(changes["email"], errors)
        if new["email"] and new["email"] != contact.email:
            taken = Contact.objects.filter(organization=organization, email=new["email"])
            if taken.filter(deleted_at__isnull=True).exists():
                errors["email"] = _("A contact with this address already exists.")
            elif taken.exists():
                errors["email"] = _(
                    "A deleted contact has this address. Restore that contact instead, or "
                    "wait until it is purged."
                )
    for name in ("first_name", "last_name"):
        if name in changes:
            new[name] = _clean_name(name, changes[name], errors)
    if "fields" in changes:
        merged = {**contact.fields, **_clean_fields(organization, changes["fields"], errors)}
        new["fields"] = {key: value for key, value in merged.items() if value is not None}
    if "tags" in changes:
        new["tags"] = _clean_tags(changes["tags"], errors)
    email = new.get("email") or contact.email
    status = changes.get("status")
    if status is not None and status != contact.status:
        problem = _check_status_change(organization, contact, status, email)
        if problem:
            errors["status"] = problem
        else:
            new["status"] = status
    elif (
        new.get("email", contact.email) != contact.email
        and contact.status == Status.SUBSCRIBED
        and is_suppressed(organization=organization, email=email)
    ):
        errors["email"] = _suppressed_message()
    if errors:
        raise ValidationError(errors)

    changed = [name for name, value in new.items() if getattr(contact, name) != value]
    if not changed:
        return contact
    for name in changed:
        setattr(contact, name, new[name])
    contact.save(update_fields=[*changed, "updated_at"])
    if "tags" in changed:
        tags_ensure(organization=organization, names=contact.tags)
    if "status" in changed and contact.status == Status.UNSUBSCRIBED:
        _memberships_unsubscribe(organization, Contact.objects.filter(pk=contact.pk))
    audit.record(
        organization, actor, "contacts.updated", "contact", contact.pk, {"changed": changed}
    )
    return contact


@transaction.atomic
def contact_lists_set(
    *, organization: Organization, actor, contact: Contact, list_ids: Iterable[uuid.UUID | str]
) -> tuple[int, int]:
    """Make the contact's active lists exactly `list_ids` (the edit form's checkboxes).

    Active: subscribed or awaiting confirmation. Lists left out are removed. Lists added
    go through `list_members_add` (double opt-in lists email a confirmation); a list the
    contact had unsubscribed from is joined afresh, since a person explicitly ticked it.
    Only a subscribed or unconfirmed contact can join lists. Returns (added, removed).
    """
    from engagex.contacts.services.lists import list_members_remove

    _check_same_organization(organization, contact)
    errors: dict[str, Any] = {}
    wanted = {
        contact_list.pk: contact_list for contact_list in _lists_of(organization, list_ids, errors)
    }
    if errors:
        raise ValidationError(errors)
    memberships = {
        membership.contact_list_id: membership
        for membership in ListMembership.objects.filter(
            organization=organization, contact=contact
        ).select_related("contact_list")
    }
    active = {
        list_id
        for list_id, membership in memberships.items()
        if membership.status != ListMembership.Status.UNSUBSCRIBED
    }
    joining = [wanted[list_id] for list_id in wanted.keys() - active]
    if joining and contact.status not in (Status.SUBSCRIBED, Status.UNCONFIRMED):
        raise ValidationError(
            {"list_ids": _("An unsubscribed contact can't join lists; subscribe them first.")}
        )
    if joining and is_suppressed(organization=organization, email=contact.email):
        raise ValidationError({"list_ids": _suppressed_message()})
    removed = 0
    for list_id in active - wanted.keys():
        removed += list_members_remove(
            organization=organization,
            actor=actor,
            contact_list=memberships[list_id].contact_list,
            contact_ids=[contact.pk],
        )
    for contact_list in joining:
        if contact_list.pk in memberships:  # unsubscribed from it earlier: join afresh
            list_members_remove(
                organization=organization,
                actor=actor,
                contact_list=contact_list,
                contact_ids=[contact.pk],
            )
    _lists_add(organization, actor, contact, joining)
    return len(joining), removed


# -- bulk actions ----------------------------------------------------------------------------


def _selection(organization, contact_ids: ContactIds, *, deleted: bool = False) -> QuerySet:
    """The organization's live (or deleted) contacts among the given ids or queryset."""
    contacts = Contact.objects.filter(organization=organization, deleted_at__isnull=not deleted)
    if isinstance(contact_ids, QuerySet):
        if contact_ids.model is not Contact:
            raise TypeError("Pass contact ids or a Contact queryset.")
        return contacts.filter(pk__in=contact_ids.values("pk"))
    ids = []
    for value in contact_ids:
        try:
            ids.append(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))
        except ValueError:
            raise ValidationError(_("Unknown contact.")) from None
    return contacts.filter(pk__in=ids)


def _single_id(contact_ids: ContactIds) -> str:
    """The target id for the audit entry when exactly one contact was named."""
    if isinstance(contact_ids, list | tuple) and len(contact_ids) == 1:
        return str(contact_ids[0])
    return ""


def _required_tags(tags) -> list[str]:
    errors: dict[str, Any] = {}
    cleaned = _clean_tags(tags, errors)
    if errors:
        raise ValidationError(errors)
    if not cleaned:
        raise ValidationError({"tags": _("Give at least one tag.")})
    return cleaned


@transaction.atomic
def contacts_tag(*, organization, actor, contact_ids: ContactIds, tags) -> int:
    """Add tags to the selected contacts; returns how many contacts gained a tag."""
    tags = _required_tags(tags)
    selection = _selection(organization, contact_ids).exclude(tags__contains=tags)
    count = selection.update(
        tags=RawSQL(
            '"contacts_contact"."tags" || ARRAY(SELECT t FROM unnest(%s::varchar[]) AS t '
            'WHERE NOT (t = ANY("contacts_contact"."tags")))',
            (tags,),
        ),
        updated_at=timezone.now(),
    )
    tags_ensure(organization=organization, names=tags)
    audit.record(
        organization,
        actor,
        "contacts.bulk_tagged",
        "contact",
        _single_id(contact_ids),
        {"count": count, "tags": len(tags)},
    )
    return count


@transaction.atomic
def contacts_untag(*, organization, actor, contact_ids: ContactIds, tags) -> int:
    """Remove tags from the selected contacts; returns how many contacts lost a tag."""
    tags = _required_tags(tags)
    selection = _selection(organization, contact_ids).filter(tags__overlap=tags)
    count = selection.update(
        tags=RawSQL(
            'ARRAY(SELECT t FROM unnest("contacts_contact"."tags") WITH ORDINALITY AS u(t, n) '
            "WHERE NOT (t = ANY(%s::varchar[])) ORDER BY n)",
            (tags,),
        ),
        updated_at=timezone.now(),
    )
    audit.record(
        organization,
        actor,
        "contacts.bulk_untagged",
        "contact",
        _single_id(contact_ids),
        {"count": count, "tags": len(tags)},
    )
    return count


def _memberships_unsubscribe(organization, contacts: QuerySet) -> int:
    return (
        ListMembership.objects.filter(organization=organization, contact__in=contacts.values("pk"))
        .exclude(status=ListMembership.Status.UNSUBSCRIBED)
        .update(status=ListMembership.Status.UNSUBSCRIBED, unsubscribed_at=timezone.now())
    )


@transaction.atomic
def contacts_unsubscribe(*, organization, actor, contact_ids: ContactIds) -> int:
    """Unsubscribe the selected contacts and all their list memberships.

    Bounced and complained contacts keep that status (it says more); their memberships
    are unsubscribed too. Returns how many contacts changed status.
    """
    selection = _selection(organization, contact_ids)
    # Memberships first: a queryset selection ("all subscribed matching …") would no
    # longer match once the contacts' status has changed.
    _memberships_unsubscribe(organization, selection)
    count = selection.filter(status__in=[Status.SUBSCRIBED, Status.UNCONFIRMED]).update(
        status=Status.UNSUBSCRIBED, updated_at=timezone.now()
    )
    audit.record(
        organization,
        actor,
        "contacts.bulk_unsubscribed",
        "contact",
        _single_id(contact_ids),
        {"count": count},
    )
    return count


@transaction.atomic
def contacts_delete(*, organization, actor, contact_ids: ContactIds) -> int:
    """Soft-delete: the contacts disappear everywhere and can be restored for
    RESTORE_WINDOW_DAYS days, after which the periodic purge removes them."""
    now = timezone.now()
    count = _selection(organization, contact_ids).update(deleted_at=now, updated_at=now)
    audit.record(
        organization,
        actor,
        "contacts.bulk_deleted",
        "contact",
        _single_id(contact_ids),
        {"count": count},
    )
    return count


def restorable(organization) -> QuerySet:
    """Soft-deleted contacts still inside the restore window (anonymized ones never are)."""
    cutoff = timezone.now() - timedelta(days=RESTORE_WINDOW_DAYS)
    return Contact.objects.filter(
        organization=organization, deleted_at__gte=cutoff, anonymized_at__isnull=True
    )


@transaction.atomic
def contacts_restore(*, organization, actor, contact_ids: ContactIds) -> int:
    """Bring soft-deleted contacts back (within the restore window; plan limit applies)."""
    selection = _selection(organization, contact_ids, deleted=True).filter(
        pk__in=restorable(organization).values("pk")
    )
    if organization.plan.max_contacts is not None:
        _check_plan(organization, selection.count())
    count = selection.update(deleted_at=None, updated_at=timezone.now())
    audit.record(
        organization,
        actor,
        "contacts.restored",
        "contact",
        _single_id(contact_ids),
        {"count": count},
    )
    return count


@transaction.atomic
def contact_anonymize(*, organization, actor, contact: Contact) -> Contact:
    """Erase a contact's personal data for good (GDPR), keeping what statistics need.

    Irreversible. The address becomes `anonymized-<random>@anonymized.invalid`; names,
    custom fields, tags and the consent IP and wording are cleared; the status becomes
    unsubscribed and every list membership unsubscribed (the rows stay, so past counts
    stay right). The address on sent messages and the IPs and user agents of the
    contact's opens and clicks are erased as well. The contact is also soft-deleted, and
    never restored or purged: it keeps anchoring statistics rows while appearing nowhere.

    The original address's hash goes on the suppression list (reason "anonymized", no
    address stored), so the address is never mailed again even if it is re-imported. An
    existing suppression entry for it keeps its reason but loses its stored address.
    """
    _check_same_organization(organization, contact)
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    if contact.anonymized_at is not None:
        raise ValidationError(_("This contact is already anonymized."))
    now = timezone.now()
    address_hash = email_hash(contact.email)
    Suppression.objects.bulk_create(
        [
            Suppression(
                organization=organization,
                email="",
                email_hash=address_hash,
                reason=Suppression.Reason.ANONYMIZED,
                created_by=_actor_user(actor),
            )
        ],
        ignore_conflicts=True,
    )
    Suppression.objects.filter(organization=organization, email_hash=address_hash).exclude(
        email=""
    ).update(email="", updated_at=now)
    _memberships_unsubscribe(organization, Contact.objects.filter(pk=contact.pk))
    contact.email = f"anonymized-{uuid.uuid4().hex}@{ANONYMIZED_DOMAIN}"
    contact.first_name = ""
    contact.last_name = ""
    contact.fields = {}
    contact.tags = []
    contact.consent_ip = None
    contact.consent_text = ""
    contact.status = Status.UNSUBSCRIBED
    contact.deleted_at = contact.deleted_at or now
    contact.anonymized_at = now
    contact.save()
    _erase_sending_history(organization, contact)
    audit.record(organization, actor, "contacts.anonymized", "contact", contact.pk, {})
    return contact


def _erase_sending_history(organization, contact: Contact) -> None:
    """The address copied onto every message sent to the contact, and the IP addresses
    and browsers of their opens and clicks, go too; what they did stays, anonymously."""
    from engagex.delivery.models import Delivery
    from engagex.tracking.models import TrackingEvent

    Delivery.objects.filter(organization=organization, contact_id=contact.pk).update(
        email=contact.email
    )
    TrackingEvent.objects.filter(organization=organization, contact_id=contact.pk).update(
        ip=None, user_agent=""
    )


def contacts_purge_deleted(*, now=None) -> int:
    """Hard-delete contacts (of every organization) deleted more than RESTORE_WINDOW_DAYS
    ago, in chunks of PURGE_CHUNK, each in its own short transaction. Anonymized
    contacts are kept (see `contact_anonymize`). Returns how many were removed."""
    cutoff = (now or timezone.now()) - timedelta(days=RESTORE_WINDOW_DAYS)
    expired = Contact.objects.filter(deleted_at__lt=cutoff, anonymized_at__isnull=True)
    total = 0
    while True:
        with transaction.atomic():
            rows = list(
                expired.order_by("deleted_at").values_list("pk", "organization_id")[:PURGE_CHUNK]
            )
            if not rows:
                return total
            per_organization: dict[uuid.UUID, int] = {}
            for _pk, organization_id in rows:
                per_organization[organization_id] = per_organization.get(organization_id, 0) + 1
            Contact.objects.filter(pk__in=[pk for pk, _org in rows]).delete()
            for organization_id, count in per_organization.items():
                audit.record(
                    Organization(pk=organization_id),
                    None,
                    "contacts.purged",
                    "contact",
                    "",
                    {"count": count},
                )
        total += len(rows)
