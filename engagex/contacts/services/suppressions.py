"""The suppression list: addresses an organization must never mail again.

Entries come from hard bounces and complaints (issue 7 calls `suppression_add`), from
people on the suppression page (one address or a pasted/uploaded list) and from
anonymized contacts (hash only). Everything is keyed by `email_hash`, so an entry keeps
working after the address itself is erased.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypedDict

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from engagex import audit
from engagex.contacts.emails import InvalidEmail, email_hash, normalize_email
from engagex.contacts.models import Suppression
from engagex.contacts.selectors.suppressions import is_suppressed
from engagex.lib.ids import uuid7

__all__ = [
    "SOURCE_MAX_LENGTH",
    "is_suppressed",
    "suppression_add",
    "suppression_remove",
    "suppressions_add_many",
]

SOURCE_MAX_LENGTH = Suppression._meta.get_field("source").max_length
# Rows per INSERT statement when adding many: bounded statement size and memory.
INSERT_CHUNK = 5000
# How many invalid lines the result keeps to show people (the count is always exact).
INVALID_EXAMPLES_KEPT = 100


class InvalidItem(TypedDict):
    position: int  # 1-based position in the `emails` given
    value: str
    error: str


class AddManyResult(TypedDict):
    added: int
    already: int
    duplicates: int
    invalid: int
    invalid_items: list[InvalidItem]


def _clean_reason(reason: str) -> str:
    if reason not in Suppression.Reason.values:
        raise ValidationError(_("Unknown suppression reason “%(reason)s”.") % {"reason": reason})
    return reason


def _clean_source(source: str) -> str:
    # One line: it is shown in a table cell and may come from a bounce message.
    return " ".join(str(source or "").split())[:SOURCE_MAX_LENGTH]


def _actor_user(actor):
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


@transaction.atomic
def suppression_add(
    *, organization, actor, email: str, reason: str, source: str = ""
) -> Suppression:
    """Suppress one address (normalized first). Idempotent: an address already on the list
    keeps its entry (first reason and date win), which is returned unchanged.

    `actor` is None for system callers (bounce and complaint handling); only entries a
    person adds are written to the audit log.
    """
    try:
        normalized = normalize_email(email)
    except InvalidEmail as error:
        raise ValidationError(
            _("“%(value)s” is not a valid email address: %(reason)s")
            % {"value": str(email).strip()[:100], "reason": error}
        ) from None
    reason = _clean_reason(reason)
    suppression, created = Suppression.objects.get_or_create(
        organization=organization,
        email_hash=email_hash(normalized),
        defaults={
            "email": normalized,
            "reason": reason,
            "source": _clean_source(source),
            "created_by": _actor_user(actor),
        },
    )
    if created and _actor_user(actor):
        audit.record(
            organization,
            actor,
            "contacts.suppression_added",
            "suppression",
            suppression.pk,
            {"reason": reason},
        )
    return suppression


@transaction.atomic
def suppressions_add_many(
    *,
    organization,
    actor,
    emails: Iterable[str],
    reason: str = Suppression.Reason.IMPORTED,
    source: str = "",
) -> AddManyResult:
    """Suppress many addresses at once (a pasted list, an uploaded file).

    Blank values are ignored; invalid ones are counted and the first ones returned with
    their reason; duplicates in the input count once. Valid addresses are inserted with
    set-based `INSERT … ON CONFLICT DO NOTHING` in chunks. Raises ValidationError (and
    changes nothing) when there is not a single address in the input.
    """
    reason = _clean_reason(reason)
    source = _clean_source(source)
    seen: dict[str, str] = {}  # hash → normalized address, in input order
    invalid = 0
    duplicates = 0
    invalid_items: list[InvalidItem] = []
    for position, raw in enumerate(emails, start=1):
        value = str(raw or "").strip()
        if not value:
            continue
        try:
            normalized = normalize_email(value)
        except InvalidEmail as error:
            invalid += 1
            if len(invalid_items) < INVALID_EXAMPLES_KEPT:
                invalid_items.append(
                    {"position": position, "value": value[:254], "error": str(error)}
                )
            continue
        digest = email_hash(normalized)
        if digest in seen:
            duplicates += 1
        else:
            seen[digest] = normalized
    if not seen and not invalid:
        raise ValidationError(_("Paste or upload at least one email address."))

    added = 0
    items = list(seen.items())
    created_by_id = getattr(_actor_user(actor), "pk", None)
    now = timezone.now()
    table = Suppression._meta.db_table
    with connection.cursor() as cursor:
        for start in range(0, len(items), INSERT_CHUNK):
            chunk = items[start : start + INSERT_CHUNK]
            cursor.execute(
                f"""
                INSERT INTO {table}
                    (id, organization_id, created_at, updated_at, email, email_hash, reason,
                     source, created_by_id)
                SELECT new.id, %s, %s, %s, new.email, new.email_hash, %s, %s, %s
                FROM unnest(%s::uuid[], %s::text[], %s::text[]) AS new(id, email, email_hash)
                ON CONFLICT (organization_id, email_hash) DO NOTHING
                """,  # noqa: S608 - only the table name is interpolated; values are parameters
                [
                    organization.pk,
                    now,
                    now,
                    reason,
                    source,
                    created_by_id,
                    [uuid7() for _ in chunk],
                    [address for _, address in chunk],
                    [digest for digest, _ in chunk],
                ],
            )
            added += cursor.rowcount
    result: AddManyResult = {
        "added": added,
        "already": len(items) - added,
        "duplicates": duplicates,
        "invalid": invalid,
        "invalid_items": invalid_items,
    }
    audit.record(
        organization,
        actor,
        "contacts.suppressions_imported",
        "suppression",
        "",
        {
            "reason": reason,
            "added": added,
            "already": result["already"],
            "invalid": invalid,
        },
    )
    return result


@transaction.atomic
def suppression_remove(*, organization, actor, suppression: Suppression) -> None:
    """Take an address off the list: it may be mailed again (if the contact is subscribed).

    Entries of anonymized contacts cannot be removed: their address is gone, the hash is
    all that keeps the person from being mailed if someone re-imports them.
    """
    if suppression.organization_id != organization.pk:
        raise ValueError("The suppression belongs to another organization.")
    if not suppression.email or suppression.reason == Suppression.Reason.ANONYMIZED:
        raise ValidationError(
            _(
                "This entry belongs to an anonymized contact. Its address was erased, and this "
                "entry is what keeps the person from ever being mailed again, so it can't be "
                "removed."
            )
        )
    entry_id, reason = suppression.pk, suppression.reason
    suppression.delete()
    audit.record(
        organization,
        actor,
        "contacts.suppression_removed",
        "suppression",
        entry_id,
        {"reason": reason},
    )
