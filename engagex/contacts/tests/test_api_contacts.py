"""REST API: /api/v1/contacts (CRUD, search, tags, bulk upsert) and /api/v1/fields."""

import pytest

from engagex.audit.models import AuditEntry
from engagex.contacts.models import Contact, CustomField, ListMembership
from engagex.contacts.tests.factories import (
    ContactFactory,
    ContactListFactory,
    CustomFieldFactory,
    SuppressionFactory,
)

URL = "/api/v1/contacts"


@pytest.fixture
def write_key(make_key):
    return make_key("write")[1]


@pytest.fixture
def read_key(make_key):
    return make_key("read")[1]


def test_create_normalizes_and_returns_the_contact(api, write_key, org):
    CustomFieldFactory(organization=org, key="plan", type="text")
    customers = ContactListFactory(organization=org, name="Customers")
    response = api.post(
        URL,
        write_key,
        json={
            "email": "  Ada@Example.COM ",
            "first_name": "Ada",
            "fields": {"plan": "pro"},
            "tags": ["customer"],
            "list_ids": [str(customers.pk)],
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["email"] == "ada@example.com"
    assert body["fields"] == {"plan": "pro"}
    assert body["tags"] == ["customer"]
    assert body["lists"] == [{"id": str(customers.pk), "name": "Customers", "status": "subscribed"}]
    assert body["consent"]["source"] == "API"
    assert Contact.objects.get(organization=org).email == "ada@example.com"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "not-an-address"}, "email"),
        ({"email": 42, "tags": "vip"}, "tags"),
        ({"email": "a@example.com", "fields": {"unknown_field": 1}}, "unknown_field"),
        ({"email": "a@example.com", "fields": ["wrong", "type"]}, "fields"),
        ({"email": "a@example.com", "status": "bounced"}, "status"),
        ({"email": "a@example.com", "colour": "blue"}, "colour"),
        ({"email": "a@example.com", "list_ids": ["nope"]}, "list_ids"),
    ],
)
def test_bad_payloads_are_400_and_create_nothing(api, write_key, org, payload, field):
    response = api.post(URL, write_key, json=payload)
    assert response.status_code == 400
    assert field in str(response.json())
    assert not Contact.objects.filter(organization=org).exists()


def test_number_field_with_text_is_refused(api, write_key, org):
    CustomFieldFactory(organization=org, key="age", type=CustomField.Type.NUMBER)
    response = api.post(URL, write_key, json={"email": "a@example.com", "fields": {"age": "old"}})
    assert response.status_code == 400
    assert "not a number" in str(response.json())
    assert not Contact.objects.filter(organization=org).exists()


def test_duplicate_and_suppressed_addresses_are_refused(api, write_key, org):
    ContactFactory(organization=org, email="taken@example.com")
    SuppressionFactory(organization=org, email="blocked@example.com")
    assert api.post(URL, write_key, json={"email": "TAKEN@example.com"}).status_code == 400
    response = api.post(URL, write_key, json={"email": "blocked@example.com"})
    assert response.status_code == 400
    assert "suppress" in str(response.json()).lower()
    assert Contact.objects.filter(organization=org).count() == 1


def test_read_key_cannot_write(api, read_key, org):
    response = api.post(URL, read_key, json={"email": "a@example.com"})
    assert response.status_code == 403
    assert not Contact.objects.filter(organization=org).exists()


def test_list_search_and_filters(api, read_key, org, other_org):
    # Fixed names: the search also matches names, and a random "Adam" would match "ad".
    ContactFactory(
        organization=org, email="ada@example.com", first_name="Ada", last_name="L", tags=["vip"]
    )
    ContactFactory(
        organization=org,
        email="alan@example.com",
        first_name="Alan",
        last_name="T",
        status="unsubscribed",
    )
    ContactFactory(organization=org, email="gone@example.com", deleted_at="2026-11-01T00:00Z")
    ContactFactory(organization=other_org, email="ada.other@example.com")

    def emails(query=""):
        response = api.get(f"{URL}{query}", read_key)
        assert response.status_code == 200, response.json()
        return sorted(c["email"] for c in response.json()["results"])

    assert emails() == ["ada@example.com", "alan@example.com"]
    assert emails("?q=ad") == ["ada@example.com"]
    assert emails("?status=unsubscribed") == ["alan@example.com"]
    assert emails("?tag=vip") == ["ada@example.com"]
    assert api.get(f"{URL}?status=sleeping", read_key).status_code == 400


def test_cursor_pagination_walks_every_contact_once(api, read_key, org):
    ContactFactory.create_batch(7, organization=org)
    seen, url = [], f"{URL}?limit=3"
    while url:
        body = api.get(url, read_key).json()
        seen += [c["id"] for c in body["results"]]
        url = body["next"]
    assert len(seen) == 7 == len(set(seen))


def test_update_merges_fields_and_replaces_tags(api, write_key, org):
    CustomFieldFactory(organization=org, key="plan", type="text")
    CustomFieldFactory(organization=org, key="seats", type="number")
    contact = ContactFactory(organization=org, fields={"plan": "pro"}, tags=["a"])
    response = api.patch(
        f"{URL}/{contact.pk}", write_key, json={"fields": {"seats": "12"}, "tags": ["b"]}
    )
    assert response.status_code == 200, response.json()
    contact.refresh_from_db()
    assert contact.fields == {"plan": "pro", "seats": 12}
    assert contact.tags == ["b"]


def test_delete_is_soft_and_hides_the_contact(api, write_key, org):
    contact = ContactFactory(organization=org)
    assert api.delete(f"{URL}/{contact.pk}", write_key).status_code == 204
    contact.refresh_from_db()
    assert contact.deleted_at is not None
    assert api.get(f"{URL}/{contact.pk}", write_key).status_code == 404


def test_tags_endpoint_adds_and_removes(api, write_key, org):
    contact = ContactFactory(organization=org, tags=["old"])
    response = api.post(
        f"{URL}/{contact.pk}/tags", write_key, json={"add": ["new"], "remove": ["old"]}
    )
    assert response.status_code == 200, response.json()
    assert response.json()["tags"] == ["new"]
    assert api.post(f"{URL}/{contact.pk}/tags", write_key, json={}).status_code == 400


def test_another_organizations_contact_is_404(api, make_key, org, other_org, outsider):
    theirs = ContactFactory(organization=other_org)
    _, secret = make_key("write")
    assert api.get(f"{URL}/{theirs.pk}", secret).status_code == 404
    assert api.patch(f"{URL}/{theirs.pk}", secret, json={"first_name": "X"}).status_code == 404
    assert api.delete(f"{URL}/{theirs.pk}", secret).status_code == 404
    theirs.refresh_from_db()
    assert theirs.deleted_at is None and theirs.first_name != "X"


def test_bulk_upsert_creates_updates_and_reports_suppressed(api, write_key, org):
    existing = ContactFactory(organization=org, email="old@example.com", first_name="Old")
    SuppressionFactory(organization=org, email="blocked@example.com")
    newsletter = ContactListFactory(organization=org)
    response = api.post(
        f"{URL}/bulk",
        write_key,
        json={
            "contacts": [
                {"email": "new@example.com", "first_name": "New", "tags": ["import"]},
                {"email": "OLD@example.com", "first_name": "Renamed"},
                {"email": "blocked@example.com"},
            ],
            "list_id": str(newsletter.pk),
        },
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["created"], body["updated"], body["suppressed"]) == (2, 1, [2])
    existing.refresh_from_db()
    assert existing.first_name == "Renamed"
    blocked = Contact.objects.get(organization=org, email="blocked@example.com")
    assert blocked.status == Contact.Status.UNSUBSCRIBED
    assert ListMembership.objects.filter(contact_list=newsletter).count() == 2
    entry = AuditEntry.objects.get(organization=org, action="contacts.bulk_upserted")
    assert entry.metadata == {"created": 2, "updated": 1}


def test_bulk_upsert_is_all_or_nothing(api, write_key, org):
    response = api.post(
        f"{URL}/bulk",
        write_key,
        json={"contacts": [{"email": "fine@example.com"}, {"email": "broken@"}]},
    )
    assert response.status_code == 400
    assert "contacts[1]" in str(response.json())
    assert not Contact.objects.filter(organization=org).exists()


def test_bulk_upsert_refuses_more_than_1000(api, write_key, org):
    items = [{"email": f"c{i}@example.com"} for i in range(1001)]
    response = api.post(f"{URL}/bulk", write_key, json={"contacts": items})
    assert response.status_code == 400
    assert not Contact.objects.filter(organization=org).exists()


def test_bulk_upsert_respects_the_plan_limit(api, write_key, org):
    org.plan.max_contacts = 2
    org.plan.save()
    items = [{"email": f"c{i}@example.com"} for i in range(3)]
    response = api.post(f"{URL}/bulk", write_key, json={"contacts": items})
    assert response.status_code == 400
    assert "plan" in str(response.json()).lower()
    assert not Contact.objects.filter(organization=org).exists()


def test_custom_fields_endpoint(api, write_key, org):
    response = api.post("/api/v1/fields", write_key, json={"label": "Plan", "type": "text"})
    assert response.status_code == 201, response.json()
    assert response.json()["key"] == "plan"
    bad = api.post("/api/v1/fields", write_key, json={"label": "X", "type": "colour"})
    assert bad.status_code == 400
    assert [f["key"] for f in api.get("/api/v1/fields", write_key).json()] == ["plan"]
