"""Reads behind the contacts pages: keyset pagination, stat cards, the activity timeline.

Keyset ("cursor") pagination instead of page numbers: a page is "the N rows after (or
before) this row in the sort order", found with a row comparison such as
`(created_at, id) < (…, …)` that PostgreSQL answers with an index range scan. Page 1 and
page 40,000 cost the same, and no page needs a COUNT(*). Each sort order matches one
index of `Contact` (see models.py); every order ends in a unique column so the order is
total and no row is skipped or shown twice.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import BooleanField, Count, Func, Q, QuerySet, Value
from django.db.models import F as Field
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from engagex.contacts.models import RESTORE_WINDOW_DAYS, Contact, CustomField, ListMembership
from engagex.contacts.selectors.contacts import contacts_live

# URL sort key → the columns that order it, ascending; descending reverses all of them.
CONTACT_SORTS: dict[str, tuple[str, ...]] = {
    "created": ("created_at", "id"),
    "email": ("email",),  # unique per organization
    "name": ("last_name", "first_name", "id"),
    "status": ("status", "email"),
}
DELETED_SORTS: dict[str, tuple[str, ...]] = {"deleted": ("deleted_at", "id")}
MAX_CURSOR_LENGTH = 1200
# The columns the tables show; `fields` (JSON, possibly large) is left out.
LIST_COLUMNS = (
    "id",
    "organization_id",
    "email",
    "first_name",
    "last_name",
    "status",
    "tags",
    "created_at",
    "deleted_at",
    "anonymized_at",
)


# -- keyset pagination ---------------------------------------------------------------------


@dataclass
class KeysetPage:
    rows: list
    next_cursor: str = ""
    previous_cursor: str = ""
    is_first: bool = True

    @property
    def has_next(self) -> bool:
        return bool(self.next_cursor)

    @property
    def has_previous(self) -> bool:
        return bool(self.previous_cursor)

    @property
    def object_list(self) -> list:  # the name Django's Page uses; templates read either
        return self.rows


def _encode(direction: str, values: list[Any]) -> str:
    plain = [
        value.isoformat() if isinstance(value, dt.datetime) else str(value) for value in values
    ]
    raw = json.dumps([direction, plain], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, columns: tuple[str, ...]) -> tuple[str, list[Any]] | None:
    """The cursor's direction and typed values, or None when it is not one of ours."""
    if not cursor or len(cursor) > MAX_CURSOR_LENGTH:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        direction, plain = json.loads(raw)
        if direction not in ("after", "before") or len(plain) != len(columns):
            return None
        return direction, [
            _typed(column, value) for column, value in zip(columns, plain, strict=True)
        ]
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        return None


def _typed(column: str, value: Any) -> Any:
    if not isinstance(value, str):
        raise TypeError(column)
    model_field = Contact._meta.get_field(column)
    if model_field.get_internal_type() == "DateTimeField":
        moment = dt.datetime.fromisoformat(value)
        if timezone.is_naive(moment):
            raise ValueError(column)
        return moment
    if model_field.get_internal_type() == "UUIDField":
        return uuid.UUID(value)
    if len(value) > 320:
        raise ValueError(column)
    return value


class _Row(Func):
    function = "ROW"


def _beyond(columns: tuple[str, ...], values: list[Any], operator: str) -> Func:
    """`ROW(col, …) > ROW(value, …)`: one index range condition for the whole key."""
    model_fields = [Contact._meta.get_field(column) for column in columns]
    return Func(
        _Row(*[Field(column) for column in columns]),
        _Row(*[Value(v, output_field=f) for v, f in zip(values, model_fields, strict=True)]),
        template="%(expressions)s",
        arg_joiner=f" {operator} ",
        output_field=BooleanField(),
    )


def keyset_page(
    queryset: QuerySet,
    *,
    columns: tuple[str, ...],
    descending: bool,
    cursor: str = "",
    per_page: int = 25,
) -> KeysetPage:
    """One page of `queryset` ordered by `columns`; a bad cursor gives the first page."""
    decoded = _decode(cursor, columns)
    direction, values = decoded if decoded else ("after", None)
    backwards = direction == "before"
    # Walking backwards is walking forwards in the reversed order, then flipping the page.
    reverse_order = descending != backwards
    order = [f"-{column}" if reverse_order else column for column in columns]
    rows = queryset
    if values is not None:
        rows = rows.filter(_beyond(columns, values, "<" if reverse_order else ">"))
    fetched = list(rows.order_by(*order)[: per_page + 1])
    more = len(fetched) > per_page
    fetched = fetched[:per_page]
    if backwards:
        fetched.reverse()
    page = KeysetPage(rows=fetched, is_first=values is None or (backwards and not more))
    if not fetched:
        return page
    key = lambda row: [getattr(row, column) for column in columns]  # noqa: E731
    has_next = more if not backwards else True
    has_previous = (values is not None and not backwards) or (backwards and more)
    if has_next:
        page.next_cursor = _encode("after", key(fetched[-1]))
    if has_previous:
        page.previous_cursor = _encode("before", key(fetched[0]))
    return page


# -- contacts page -------------------------------------------------------------------------


def contact_stats(*, organization) -> dict[str, int]:
    """Live contacts by status plus "total": one grouped COUNT (index-only scan)."""
    stats = {status: 0 for status in Contact.Status.values}
    rows = (
        contacts_live(organization=organization)
        .order_by()
        .values_list("status")
        .annotate(count=Count("id"))
        .values_list("status", "count")
    )
    stats.update(dict(rows))
    stats["total"] = sum(stats.values())
    return stats


def contact_table_rows(queryset: QuerySet) -> QuerySet:
    return queryset.only(*LIST_COLUMNS)


# -- deleted contacts ----------------------------------------------------------------------


def contacts_deleted(*, organization, search: str = "", window: str = "") -> QuerySet[Contact]:
    """Soft-deleted contacts that can still be restored or are waiting for the purge.

    Anonymized contacts are not listed: they can never come back. `window`: "" (all),
    "week" (deleted in the last 7 days) or "purge_soon" (purged within 7 days).
    """
    rows = Contact.objects.filter(
        organization=organization, deleted_at__isnull=False, anonymized_at__isnull=True
    )
    term = search.strip().lower()
    if term:
        rows = rows.filter(email__startswith=term)
    now = timezone.now()
    if window == "week":
        rows = rows.filter(deleted_at__gte=now - dt.timedelta(days=7))
    elif window == "purge_soon":
        rows = rows.filter(deleted_at__lt=now - dt.timedelta(days=RESTORE_WINDOW_DAYS - 7))
    return rows.only(*LIST_COLUMNS)


def deleted_stats(*, organization) -> dict[str, int]:
    now = timezone.now()
    soon = now - dt.timedelta(days=RESTORE_WINDOW_DAYS - 7)
    return Contact.objects.filter(
        organization=organization, deleted_at__isnull=False, anonymized_at__isnull=True
    ).aggregate(
        total=Count("id"),
        purge_soon=Count("id", filter=Q(deleted_at__lt=soon)),
    )


# -- custom fields -------------------------------------------------------------------------


def field_value_counts(*, organization, fields: Iterable[CustomField]) -> dict[str, int]:
    """{key: live contacts holding a value} for the given fields, in one scan."""
    keys = [custom_field.key for custom_field in fields]
    if not keys:
        return {}
    counts = contacts_live(organization=organization).aggregate(
        **{f"k{i}": Count("id", filter=Q(fields__has_key=key)) for i, key in enumerate(keys)}
    )
    return {key: counts[f"k{i}"] for i, key in enumerate(keys)}


# -- activity timeline ---------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class TimelineItem:
    time: dt.datetime
    kind: str  # "created", "consent", "list_joined", … (the template picks an icon by kind)
    text: str = field(compare=False)
    # What the item is about, e.g. the campaign: shown after the text, linked if `url`.
    subject: str = field(default="", compare=False)
    url: str = field(default="", compare=False)
    # A second line: the link clicked, a bounce's diagnostic, "3 times" …
    detail: str = field(default="", compare=False)
    # Shown greyed out: recorded but not the person's doing (a scanner, a proxy).
    muted: bool = field(default=False, compare=False)


TimelineSource = Callable[..., Iterable[TimelineItem]]
TIMELINE_SOURCES: list[TimelineSource] = []
# Sources of apps above contacts (DESIGN.md §5), by dotted path: contacts must not import
# them, so they are looked up when a timeline is first built (not at import time, when
# the import would go round in a circle back to this module).
TIMELINE_PLUGINS = ("engagex.tracking.timeline.email_activity",)


def timeline_source(function: TimelineSource) -> TimelineSource:
    """Register `function(*, organization, contact) -> Iterable[TimelineItem]`.

    Sources register when their module is imported (or are listed in
    `TIMELINE_PLUGINS`); the contact page shows every source's items merged by time.
    """
    if function not in TIMELINE_SOURCES:
        TIMELINE_SOURCES.append(function)
    return function


def _timeline_sources() -> list[TimelineSource]:
    for dotted_path in TIMELINE_PLUGINS:
        timeline_source(import_string(dotted_path))
    return TIMELINE_SOURCES


def contact_timeline(*, organization, contact: Contact, limit: int = 100) -> list[TimelineItem]:
    """The contact's activity, newest first."""
    items: list[TimelineItem] = []
    for source in _timeline_sources():
        items.extend(source(organization=organization, contact=contact))
    items.sort(reverse=True)
    return items[:limit]


@timeline_source
def _profile_events(*, organization, contact: Contact) -> Iterable[TimelineItem]:
    yield TimelineItem(contact.created_at, "created", _("Added as a contact"))
    if contact.consent_at:
        if contact.consent_source:
            text = _("Consent recorded: %(source)s") % {"source": contact.consent_source}
        else:
            text = _("Consent recorded")
        yield TimelineItem(contact.consent_at, "consent", text)
    if contact.last_activity_at:
        yield TimelineItem(contact.last_activity_at, "activity", _("Last activity"))
    if contact.deleted_at and not contact.anonymized_at:
        yield TimelineItem(contact.deleted_at, "deleted", _("Deleted"))
    if contact.anonymized_at:
        yield TimelineItem(contact.anonymized_at, "anonymized", _("Anonymized"))


@timeline_source
def _membership_events(*, organization, contact: Contact) -> Iterable[TimelineItem]:
    memberships = ListMembership.objects.filter(
        organization=organization, contact=contact
    ).select_related("contact_list")
    for membership in memberships:
        name = membership.contact_list.name
        if membership.status == ListMembership.Status.UNCONFIRMED or membership.confirmed_at:
            text = _("Added to “%(list)s”, confirmation requested") % {"list": name}
        else:
            text = _("Joined “%(list)s”") % {"list": name}
        yield TimelineItem(membership.created_at, "list_joined", text)
        if membership.confirmed_at:
            yield TimelineItem(
                membership.confirmed_at,
                "list_confirmed",
                _("Confirmed the subscription to “%(list)s”") % {"list": name},
            )
        if membership.unsubscribed_at:
            yield TimelineItem(
                membership.unsubscribed_at,
                "list_unsubscribed",
                _("Unsubscribed from “%(list)s”") % {"list": name},
            )
