"""Keyset pagination and the stat-card counts behind the contacts pages."""

from datetime import timedelta

import pytest
from django.utils import timezone

from engagex.contacts.models import Contact
from engagex.contacts.selectors.contact_pages import (
    CONTACT_SORTS,
    contact_stats,
    field_value_counts,
    keyset_page,
)
from engagex.contacts.selectors.contacts import contacts_live
from engagex.contacts.tests.factories import ContactFactory, CustomFieldFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def contacts(org):
    moment = timezone.now()
    rows = []
    for i in range(23):
        # Imports give many rows the same created_at: the id must break the tie.
        created = moment if i % 3 else moment - timedelta(hours=i)
        rows.append(
            ContactFactory(
                organization=org,
                email=f"c{(i * 7) % 23:02d}@example.org",
                first_name="Same" if i % 2 else f"F{i}",
                last_name="Doe" if i % 4 else f"L{i % 5}",
                status=["subscribed", "unsubscribed", "bounced"][i % 3],
                created_at=created,
            )
        )
    return rows


def walk(queryset, columns, descending, per_page=5):
    """Every row, page by page forwards; then the same pages backwards."""
    forward, pages, cursor = [], [], ""
    while True:
        page = keyset_page(
            queryset, columns=columns, descending=descending, cursor=cursor, per_page=per_page
        )
        pages.append([row.pk for row in page.rows])
        forward += pages[-1]
        if not page.has_next:
            break
        cursor = page.next_cursor
    backward_pages = [pages[-1]]
    while page.has_previous:
        page = keyset_page(
            queryset,
            columns=columns,
            descending=descending,
            cursor=page.previous_cursor,
            per_page=per_page,
        )
        backward_pages.insert(0, [row.pk for row in page.rows])
    return forward, pages, backward_pages, page


@pytest.mark.parametrize("sort", list(CONTACT_SORTS))
@pytest.mark.parametrize("descending", [False, True])
def test_every_row_exactly_once_in_order_both_ways(org, contacts, sort, descending):
    columns = CONTACT_SORTS[sort]
    queryset = contacts_live(organization=org)
    expected = list(
        queryset.order_by(*[f"-{c}" if descending else c for c in columns]).values_list(
            "pk", flat=True
        )
    )
    forward, pages, backward_pages, first = walk(queryset, columns, descending)
    assert forward == expected
    assert backward_pages == pages
    assert first.is_first


def test_a_tampered_cursor_gives_the_first_page(org, contacts):
    queryset = contacts_live(organization=org)
    first = keyset_page(queryset, columns=CONTACT_SORTS["created"], descending=True, per_page=5)
    for cursor in ("%%%", "e30", "WyJhZnRlciIsWyJub3QtYS1kYXRlIiwieCJdXQ", "x" * 5000):
        page = keyset_page(
            queryset, columns=CONTACT_SORTS["created"], descending=True, cursor=cursor, per_page=5
        )
        assert [row.pk for row in page.rows] == [row.pk for row in first.rows]
    # A cursor of one sort order is meaningless in another, and is ignored there too.
    page = keyset_page(
        queryset,
        columns=CONTACT_SORTS["name"],
        descending=False,
        cursor=first.next_cursor,
        per_page=5,
    )
    assert page.is_first


def test_stats_count_only_live_contacts_of_the_organization(org, other_org):
    ContactFactory.create_batch(2, organization=org)
    ContactFactory(organization=org, status=Contact.Status.COMPLAINED)
    ContactFactory(organization=org, deleted_at=timezone.now())
    ContactFactory(organization=other_org)
    assert contact_stats(organization=org) == {
        "subscribed": 2,
        "unconfirmed": 0,
        "unsubscribed": 0,
        "bounced": 0,
        "complained": 1,
        "total": 3,
    }


def test_field_value_counts(org):
    city = CustomFieldFactory(organization=org, key="city")
    age = CustomFieldFactory(organization=org, key="age")
    ContactFactory(organization=org, fields={"city": "Oslo", "age": 3})
    ContactFactory(organization=org, fields={"city": "Rome"})
    assert field_value_counts(organization=org, fields=[city, age]) == {"city": 2, "age": 1}
    assert field_value_counts(organization=org, fields=[]) == {}
