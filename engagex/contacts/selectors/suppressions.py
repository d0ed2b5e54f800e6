"""Reads of the suppression list, and the SQL test "is this contact's address suppressed?".

Suppressions are matched by `email_hash`, never by `email`: an anonymized contact's entry
keeps only the hash. `suppressed_exists()` computes the hash in PostgreSQL (`sha256()`), so
set-based statements (list membership inserts, imports, campaign audiences) can exclude
suppressed addresses without a round trip per contact.
"""

from __future__ import annotations

from django.db.models import CharField, Count, Exists, Func, OuterRef, QuerySet

from engagex.contacts.emails import InvalidEmail, email_hash, normalize_email
from engagex.contacts.models import Suppression

Reason = Suppression.Reason

# Stat card groups on the suppression page: (key, reasons counted).
REASON_GROUPS = {
    "bounces": (Reason.HARD_BOUNCE, Reason.SOFT_BOUNCE),
    "complaints": (Reason.COMPLAINT,),
    "added": (Reason.MANUAL, Reason.IMPORTED),
    "anonymized": (Reason.ANONYMIZED,),
}


class Sha256Hex(Func):
    """Hex SHA-256 of a text value's UTF-8 bytes: what `emails.email_hash` computes in Python."""

    template = "encode(sha256(convert_to(%(expressions)s, 'UTF8')), 'hex')"
    output_field = CharField()


def suppressed_exists(*, email_ref: str = "email", organization_ref: str = "organization"):
    """`Exists(...)` that is true when the outer row's address is on its organization's
    suppression list. Use inside a Contact queryset, e.g. `.exclude(suppressed_exists())`,
    or with `email_ref="contact__email"` from a ListMembership queryset."""
    return Exists(
        Suppression.objects.filter(
            organization=OuterRef(organization_ref),
            email_hash=Sha256Hex(OuterRef(email_ref)),
        )
    )


def is_suppressed(*, organization, email: str) -> bool:
    """Whether the address may never be mailed by this organization.

    An address that does not even normalize is looked up as typed (lowercased): it cannot
    be on the list under another spelling, and callers reject it for its syntax anyway.
    """
    try:
        normalized = normalize_email(email)
    except InvalidEmail:
        normalized = email.strip().lower()
    return Suppression.objects.filter(
        organization=organization, email_hash=email_hash(normalized)
    ).exists()


def suppressions_filter(*, organization, search: str = "", reason: str = "") -> QuerySet:
    """The suppression page's rows.

    Search: an address prefix (index range scan on `(organization, email)`), "@domain" for
    every address at a domain, or "#" + the start of a hash for anonymized entries.
    """
    rows = Suppression.objects.filter(organization=organization).select_related("created_by")
    term = search.strip().lower()
    if term.startswith("#"):
        rows = rows.filter(email_hash__startswith=term[1:])
    elif term.startswith("@"):
        rows = rows.filter(email__endswith=term)
    elif term:
        rows = rows.filter(email__startswith=term)
    if reason:
        rows = rows.filter(reason=reason)
    return rows


def suppression_counts(*, organization) -> dict[str, int]:
    """Entries per stat-card group plus "total", in one grouped query."""
    by_reason = dict(
        Suppression.objects.filter(organization=organization)
        .values_list("reason")
        .annotate(count=Count("id"))
        .values_list("reason", "count")
    )
    counts = {
        group: sum(by_reason.get(reason, 0) for reason in reasons)
        for group, reasons in REASON_GROUPS.items()
    }
    counts["total"] = sum(by_reason.values())
    return counts
