"""REST API: /api/v1/lists (+ members), /api/v1/segments (+ count, members),
/api/v1/suppressions."""

import pytest

from engagex.contacts.models import ContactList, ListMembership, Segment, Suppression
from engagex.contacts.tests.factories import (
    ContactFactory,
    ContactListFactory,
    ListMembershipFactory,
    SegmentFactory,
    SuppressionFactory,
)

VIP_RULES = {"match": "all", "rules": [{"field": "tags", "operator": "has_any", "value": ["vip"]}]}


@pytest.fixture
def key(make_key):
    return make_key("write")[1]


def test_list_crud(api, key, org):
    response = api.post("/api/v1/lists", key, json={"name": "Weekly", "opt_in": "double"})
    assert response.status_code == 201, response.json()
    list_id = response.json()["id"]
    assert response.json()["opt_in"] == "double"
    duplicate = api.post("/api/v1/lists", key, json={"name": "Weekly"})
    assert duplicate.status_code == 400
    renamed = api.patch(f"/api/v1/lists/{list_id}", key, json={"name": "Weekly news"})
    assert renamed.status_code == 200, renamed.json()
    assert [item["name"] for item in api.get("/api/v1/lists", key).json()] == ["Weekly news"]
    assert api.delete(f"/api/v1/lists/{list_id}", key).status_code == 204
    assert not ContactList.objects.filter(organization=org).exists()


def test_list_with_wrong_types_is_400(api, key, org):
    response = api.post("/api/v1/lists", key, json={"name": ["x"], "opt_in": "triple"})
    assert response.status_code == 400
    assert {"name", "opt_in"} <= set(response.json())
    assert not ContactList.objects.filter(organization=org).exists()


def test_members_add_list_and_remove(api, key, org):
    weekly = ContactListFactory(organization=org)
    ada, alan = ContactFactory.create_batch(2, organization=org)
    url = f"/api/v1/lists/{weekly.pk}/members"
    response = api.post(url, key, json={"contact_ids": [str(ada.pk), str(alan.pk)]})
    assert response.status_code == 200, response.json()
    assert response.json() == {"count": 2}
    listed = api.get(url, key).json()["results"]
    assert {c["id"] for c in listed} == {str(ada.pk), str(alan.pk)}
    removed = api.post(f"{url}/remove", key, json={"contact_ids": [str(ada.pk)]})
    assert removed.json() == {"count": 1}
    assert list(
        ListMembership.objects.filter(contact_list=weekly).values_list("contact", flat=True)
    ) == [alan.pk]
    counts = api.get(f"/api/v1/lists/{weekly.pk}", key).json()
    assert counts["subscribed"] == 1


def test_members_add_refuses_other_organizations_contacts(api, key, org, other_org):
    weekly = ContactListFactory(organization=org)
    theirs = ContactFactory(organization=other_org)
    response = api.post(
        f"/api/v1/lists/{weekly.pk}/members", key, json={"contact_ids": [str(theirs.pk)]}
    )
    assert response.status_code == 400
    assert not ListMembership.objects.exists()


def test_segment_crud_count_and_members(api, key, org):
    vip = ContactFactory(organization=org, tags=["vip"])
    ContactFactory(organization=org, tags=["other"])
    response = api.post("/api/v1/segments", key, json={"name": "VIPs", "rules": VIP_RULES})
    assert response.status_code == 201, response.json()
    segment_id = response.json()["id"]
    assert api.get(f"/api/v1/segments/{segment_id}/count", key).json() == {"count": 1}
    members = api.get(f"/api/v1/segments/{segment_id}/members", key).json()["results"]
    assert [m["id"] for m in members] == [str(vip.pk)]
    changed = api.patch(f"/api/v1/segments/{segment_id}", key, json={"name": "Top"})
    assert changed.status_code == 200 and changed.json()["name"] == "Top"
    assert api.delete(f"/api/v1/segments/{segment_id}", key).status_code == 204
    assert not Segment.objects.filter(organization=org).exists()


def test_segment_on_a_missing_field_is_400_and_not_saved(api, key, org):
    rules = {
        "match": "all",
        "rules": [{"field": "field:shoe_size", "operator": "equals", "value": "9"}],
    }
    response = api.post("/api/v1/segments", key, json={"name": "Shoes", "rules": rules})
    assert response.status_code == 400
    assert "shoe_size" in str(response.json())
    assert not Segment.objects.filter(organization=org).exists()


def test_suppressions_add_list_and_remove(api, key, org):
    response = api.post("/api/v1/suppressions", key, json={"email": "Spam@Example.com"})
    assert response.status_code == 201, response.json()
    assert response.json()["email"] == "spam@example.com"
    again = api.post("/api/v1/suppressions", key, json={"email": "spam@example.com"})
    assert again.status_code == 200
    assert api.post("/api/v1/suppressions", key, json={"email": "nope"}).status_code == 400
    listed = api.get("/api/v1/suppressions?q=spam", key).json()["results"]
    assert [s["email"] for s in listed] == ["spam@example.com"]
    assert api.delete(f"/api/v1/suppressions/{listed[0]['id']}", key).status_code == 204
    assert not Suppression.objects.filter(organization=org).exists()


def test_other_organizations_audiences_are_404(api, key, other_org):
    their_list = ContactListFactory(organization=other_org)
    their_segment = SegmentFactory(organization=other_org)
    their_suppression = SuppressionFactory(organization=other_org)
    ListMembershipFactory(contact_list=their_list)
    assert api.get(f"/api/v1/lists/{their_list.pk}", key).status_code == 404
    assert api.get(f"/api/v1/lists/{their_list.pk}/members", key).status_code == 404
    assert api.delete(f"/api/v1/lists/{their_list.pk}", key).status_code == 404
    assert api.get(f"/api/v1/segments/{their_segment.pk}/count", key).status_code == 404
    assert api.delete(f"/api/v1/suppressions/{their_suppression.pk}", key).status_code == 404
    assert ContactList.objects.filter(pk=their_list.pk).exists()
    assert Suppression.objects.filter(pk=their_suppression.pk).exists()


def test_read_key_cannot_change_audiences(api, make_key, org):
    _, read_key = make_key("read")
    weekly = ContactListFactory(organization=org)
    assert api.post("/api/v1/lists", read_key, json={"name": "X"}).status_code == 403
    assert api.delete(f"/api/v1/lists/{weekly.pk}", read_key).status_code == 403
    assert api.post("/api/v1/suppressions", read_key, json={"email": "a@b.co"}).status_code == 403
    assert ContactList.objects.filter(organization=org).count() == 1


def test_list_counts_leave_out_deleted_contacts(api, key, org):
    weekly = ContactListFactory(organization=org)
    ListMembershipFactory(contact_list=weekly)
    ListMembershipFactory(contact_list=weekly, contact__deleted_at="2026-11-01T00:00Z")
    body = api.get(f"/api/v1/lists/{weekly.pk}", key).json()
    assert (body["subscribed"], body["unconfirmed"], body["unsubscribed"]) == (1, 0, 0)
    assert api.get("/api/v1/lists", key).json()[0]["subscribed"] == 1
