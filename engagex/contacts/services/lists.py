"""Lists and their members.

Adding members is one set-based `INSERT … SELECT … ON CONFLICT DO NOTHING`, whatever the
number of contacts (a bulk action may pass "all 800,000 matching" as a queryset).

Who is never added (the statement skips them; the count returned does not include them):
- soft-deleted contacts;
- contacts whose status is unsubscribed, bounced or complained: they opted out (or their
  address does not work), and putting them on a list by hand must not look like a new
  subscription. They are skipped rather than added as "unsubscribed" members, so a list
  only holds people who are, or are about to be, subscribed;
- addresses on the suppression list (matched by hash, so anonymized entries count too).
An existing membership is left exactly as it is: re-adding someone who unsubscribed from
this list does not resubscribe them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from engagex import audit
from engagex.accounts.tenancy import check_same_organization
from engagex.contacts.models import Contact, ContactList, ListMembership
from engagex.contacts.selectors.suppressions import suppressed_exists
from engagex.contacts.services.optin import OPTED_OUT, confirmations_queue

NAME_MAX_LENGTH = ContactList._meta.get_field("name").max_length
DESCRIPTION_MAX_LENGTH = ContactList._meta.get_field("description").max_length
_UNSET: Any = object()

ContactIds = Iterable[UUID | str] | QuerySet


def _clean_name(organization, name: str, *, exclude_pk=None) -> str:
    name = " ".join(str(name or "").split())
    if not name:
        raise ValidationError({"name": _("Give the list a name.")})
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationError(
            {"name": _("A list name can be at most %(max)s characters.") % {"max": NAME_MAX_LENGTH}}
        )
    # Case-insensitive: "Newsletter" and "newsletter" side by side only confuse people.
    taken = ContactList.objects.filter(organization=organization, name__iexact=name)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise ValidationError(
            {"name": _("There is already a list called “%(name)s”.") % {"name": name}}
        )
    return name


def _clean_description(description: str) -> str:
    description = str(description or "").strip()
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise ValidationError(
            {
                "description": _("The description can be at most %(max)s characters.")
                % {"max": DESCRIPTION_MAX_LENGTH}
            }
        )
    return description


def _clean_opt_in(opt_in: str) -> str:
    if opt_in not in ContactList.OptIn.values:
        raise ValidationError({"opt_in": _("Choose single or double opt-in.")})
    return opt_in


@transaction.atomic
def list_create(
    *,
    organization,
    actor,
    name: str,
    description: str = "",
    opt_in: str = ContactList.OptIn.SINGLE,
) -> ContactList:
    contact_list = ContactList.objects.create(
        organization=organization,
        name=_clean_name(organization, name),
        description=_clean_description(description),
        opt_in=_clean_opt_in(opt_in),
    )
    audit.record(
        organization,
        actor,
        "contacts.list_created",
        "contact_list",
        contact_list.pk,
        {"opt_in": contact_list.opt_in},
    )
    return contact_list


@transaction.atomic
def list_update(
    *,
    organization,
    actor,
    contact_list: ContactList,
    name: str = _UNSET,
    description: str = _UNSET,
    opt_in: str = _UNSET,
) -> ContactList:
    """Change a list. The opt-in type applies to members added from now on: current
    members keep their status (pending confirmations stay pending)."""
    check_same_organization(organization, contact_list)
    changes: dict[str, str] = {}
    if name is not _UNSET:
        changes["name"] = _clean_name(organization, name, exclude_pk=contact_list.pk)
    if description is not _UNSET:
        changes["description"] = _clean_description(description)
    if opt_in is not _UNSET:
        changes["opt_in"] = _clean_opt_in(opt_in)
    changed = [field for field, value in changes.items() if getattr(contact_list, field) != value]
    if not changed:
        return contact_list
    for field in changed:
        setattr(contact_list, field, changes[field])
    contact_list.save(update_fields=[*changed, "updated_at"])
    audit.record(
        organization,
        actor,
        "contacts.list_updated",
        "contact_list",
        contact_list.pk,
        {"changed": changed},
    )
    return contact_list


@transaction.atomic
def list_delete(*, organization, actor, contact_list: ContactList) -> int:
    """Delete a list and its memberships; the contacts stay. Returns the number of members."""
    check_same_organization(organization, contact_list)
    members = ListMembership.objects.filter(
        organization=organization, contact_list=contact_list
    ).count()
    list_id = contact_list.pk
    # One statement for the memberships (no per-row signals), then the list itself.
    ListMembership.objects.filter(organization=organization, contact_list=contact_list).delete()
    contact_list.delete()
    audit.record(
        organization,
        actor,
        "contacts.list_deleted",
        "contact_list",
        list_id,
        {"members": members},
    )
    return members


def _contacts_matching(organization, contact_ids: ContactIds) -> QuerySet:
    contacts = Contact.objects.filter(organization=organization)
    if isinstance(contact_ids, QuerySet):
        return contacts.filter(pk__in=contact_ids.values("pk"))
    return contacts.filter(pk__in=list(contact_ids))


def _is_empty(contact_ids: ContactIds) -> bool:
    return not isinstance(contact_ids, QuerySet) and not list(contact_ids)


@transaction.atomic
def list_members_add(
    *, organization, actor, contact_list: ContactList, contact_ids: ContactIds
) -> int:
    """Put contacts on a list; returns how many memberships were created.

    Single opt-in: the membership is subscribed. Double opt-in: it is unconfirmed and a
    confirmation email is queued for it. Skipped contacts: see the module docstring.
    `contact_ids` is a list of ids or a queryset of the organization's contacts.
    """
    check_same_organization(organization, contact_list)
    if not isinstance(contact_ids, QuerySet):
        contact_ids = list(contact_ids)
    if _is_empty(contact_ids):
        return 0
    eligible = (
        _contacts_matching(organization, contact_ids)
        .filter(deleted_at__isnull=True)
        .exclude(status__in=OPTED_OUT)
        .exclude(suppressed_exists())
        .values("pk")
    )
    select_sql, select_params = eligible.query.sql_with_params()
    double = contact_list.is_double_opt_in
    status = ListMembership.Status.UNCONFIRMED if double else ListMembership.Status.SUBSCRIBED
    table = ListMembership._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} (organization_id, contact_list_id, contact_id, status, created_at)
            SELECT %s, %s, eligible.contact_id, %s, %s FROM ({select_sql}) AS eligible(contact_id)
            ON CONFLICT (organization_id, contact_list_id, contact_id) DO NOTHING
            """,  # noqa: S608 - the table name and the ORM's compiled SQL; values are parameters
            [organization.pk, contact_list.pk, status, timezone.now(), *select_params],
        )
        added = cursor.rowcount
    if double:
        # Also picks up earlier unconfirmed members whose email never went out.
        confirmations_queue(organization=organization, contact_list=contact_list)
    if added:
        audit.record(
            organization,
            actor,
            "contacts.list_members_added",
            "contact_list",
            contact_list.pk,
            {"count": added},
        )
    return added


@transaction.atomic
def list_members_remove(
    *, organization, actor, contact_list: ContactList, contact_ids: ContactIds
) -> int:
    """Take contacts off a list (the memberships are deleted); returns how many were removed."""
    check_same_organization(organization, contact_list)
    if not isinstance(contact_ids, QuerySet):
        contact_ids = list(contact_ids)
    if _is_empty(contact_ids):
        return 0
    removed, _detail = ListMembership.objects.filter(
        organization=organization,
        contact_list=contact_list,
        contact__in=_contacts_matching(organization, contact_ids).values("pk"),
    ).delete()
    if removed:
        audit.record(
            organization,
            actor,
            "contacts.list_members_removed",
            "contact_list",
            contact_list.pk,
            {"count": removed},
        )
    return removed
