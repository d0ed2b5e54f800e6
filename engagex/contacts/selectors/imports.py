"""Reads of contact imports: the imports page's table and stat cards, one import."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet, Sum

from engagex.accounts.tenancy import get_for_org
from engagex.contacts.models import ContactImport


def contact_import_list(*, organization, status: str = "", search: str = "") -> QuerySet:
    imports = ContactImport.objects.filter(organization=organization).select_related(
        "created_by", "contact_list", "job"
    )
    if status:
        imports = imports.filter(status=status)
    if search:
        imports = imports.filter(original_name__icontains=search)
    return imports


def contact_import_get(*, organization, import_id) -> ContactImport:
    """One import of the organization (404 for any other)."""
    return get_for_org(
        ContactImport.objects.select_related("job", "contact_list", "created_by"),
        organization,
        import_id,
    )


def contact_import_stats(*, organization) -> dict[str, int]:
    """Totals for the stat cards: imports run, contacts created, rows rejected."""
    totals = ContactImport.objects.filter(organization=organization).aggregate(
        imports=Count("id"),
        done=Count("id", filter=Q(status=ContactImport.Status.DONE)),
        created=Sum("created_count", default=0),
        updated=Sum("updated_count", default=0),
        rejected=Sum("rejected_count", default=0),
    )
    return {key: value or 0 for key, value in totals.items()}
