"""Reads of contacts, shared by the contacts page, exports, the API and bulk actions."""

from __future__ import annotations

from uuid import UUID

from django.db.models import Exists, OuterRef, Q, QuerySet

from engagex.contacts.models import Contact, ListMembership


def contacts_live(*, organization) -> QuerySet[Contact]:
    """Every contact of the organization that is not soft-deleted."""
    return Contact.objects.filter(organization=organization, deleted_at__isnull=True)


def contacts_filter(
    *,
    organization,
    search: str = "",
    status: str = "",
    list_id: UUID | str | None = None,
    tag: str = "",
) -> QuerySet[Contact]:
    """Live contacts matching the contacts page's search box and filters.

    Search: an address prefix (uses the email index: the database collation is "C", so
    `LIKE 'prefix%'` is an index range scan), a first/last name, or an exact tag.
    """
    contacts = contacts_live(organization=organization)
    search = search.strip()
    if "@" in search:
        # Only an address contains "@": a pure index range scan, even with millions of
        # contacts (names and tags would need a scan of every row).
        contacts = contacts.filter(email__startswith=search.lower())
    elif search:
        term = search.lower()
        contacts = contacts.filter(
            Q(email__startswith=term)
            | Q(first_name__icontains=search)
            | Q(last_name__icontains=search)
            | Q(tags__contains=[search])
        )
    if status:
        contacts = contacts.filter(status=status)
    if list_id:
        contacts = contacts.filter(
            Exists(
                ListMembership.objects.filter(
                    organization=organization, contact_list_id=list_id, contact=OuterRef("pk")
                )
            )
        )
    if tag:
        contacts = contacts.filter(tags__contains=[tag])
    return contacts
