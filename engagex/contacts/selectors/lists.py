"""Reads of lists and their member counts.

Member counts leave out soft-deleted contacts (they disappear from lists until restored).
They are counted for the lists on the current page only, in one grouped query, so the
lists page costs the same however many lists an organization has.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from django.db.models import Count, Q, QuerySet

from engagex.contacts.models import ContactList, ListMembership

Status = ListMembership.Status


def lists_all(*, organization) -> QuerySet[ContactList]:
    """Every list of the organization by name (for pickers: add to list, import, filters)."""
    return ContactList.objects.filter(organization=organization).order_by("name")


def lists_filter(*, organization, search: str = "", opt_in: str = "") -> QuerySet[ContactList]:
    rows = ContactList.objects.filter(organization=organization)
    search = search.strip()
    if search:
        rows = rows.filter(Q(name__icontains=search) | Q(description__icontains=search))
    if opt_in:
        rows = rows.filter(opt_in=opt_in)
    return rows


def _live_memberships(organization) -> QuerySet[ListMembership]:
    return ListMembership.objects.filter(
        organization=organization, contact__deleted_at__isnull=True
    )


def list_member_counts(
    *, organization, list_ids: Iterable[UUID | str]
) -> dict[UUID, dict[str, int]]:
    """{list id: {"subscribed": n, "unconfirmed": n, "unsubscribed": n, "total": n}}."""
    ids = list(list_ids)
    counts: dict[UUID, dict[str, int]] = {}
    if not ids:
        return counts
    rows = (
        _live_memberships(organization)
        .filter(contact_list_id__in=ids)
        .values_list("contact_list_id", "status")
        .annotate(count=Count("id"))
        .order_by()
    )
    for list_id, status, count in rows:
        entry = counts.setdefault(list_id, {"total": 0})
        entry[status] = count
        entry["total"] += count
    for list_id in counts:
        for status in Status.values:
            counts[list_id].setdefault(status, 0)
    return counts


def membership_totals(*, organization) -> dict[str, int]:
    """Memberships of the whole organization by status (the lists page's stat cards)."""
    totals = {status: 0 for status in Status.values}
    rows = (
        _live_memberships(organization)
        .values_list("status")
        .annotate(count=Count("id"))
        .values_list("status", "count")
        .order_by()
    )
    totals.update(dict(rows))
    return totals


def list_opt_in_counts(*, organization) -> dict[str, int]:
    counts = {value: 0 for value in ContactList.OptIn.values}
    counts.update(
        dict(
            ContactList.objects.filter(organization=organization)
            .values_list("opt_in")
            .annotate(count=Count("id"))
            .values_list("opt_in", "count")
            .order_by()
        )
    )
    counts["total"] = sum(counts.values())
    return counts


def contact_memberships(*, organization, contact) -> QuerySet[ListMembership]:
    """One contact's lists with their per-list status (the contact detail page)."""
    return (
        ListMembership.objects.filter(organization=organization, contact=contact)
        .select_related("contact_list")
        .order_by("contact_list__name")
    )
