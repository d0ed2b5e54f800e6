"""Bulk actions from the contacts page: ticked rows or "all N matching"."""

import pytest

from engagex.contacts.models import Contact, ListMembership
from engagex.contacts.tests.factories import (
    ContactFactory,
    ContactListFactory,
    ListMembershipFactory,
)

pytestmark = pytest.mark.django_db
BULK = "/contacts/bulk/"


def toasts(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_tag_ticked_rows(login, editor, org):
    chosen = ContactFactory.create_batch(2, organization=org, tags=[])
    other = ContactFactory(organization=org, tags=[])
    response = login(editor, org).post(
        BULK,
        {"action": "tag", "tags": "vip", "ids": [c.pk for c in chosen], "return_to": "/contacts/"},
        follow=True,
    )
    assert "Tagged 2 contacts" in toasts(response)
    assert Contact.objects.filter(tags__contains=["vip"]).count() == 2
    other.refresh_from_db()
    assert other.tags == []


def test_select_all_matching_uses_the_search(login, editor, org):
    ContactFactory.create_batch(3, organization=org, status="subscribed")
    bounced = ContactFactory(organization=org, status="bounced")
    response = login(editor, org).post(
        BULK, {"action": "delete", "scope": "all", "status": "subscribed"}, follow=True
    )
    assert any(t.startswith("Deleted 3 contacts") for t in toasts(response))
    assert list(Contact.objects.filter(deleted_at__isnull=True)) == [bounced]


def test_add_to_and_remove_from_a_list(login, editor, org):
    contact_list = ContactListFactory(organization=org, name="News")
    contacts = ContactFactory.create_batch(2, organization=org)
    client = login(editor, org)
    data = {"list": contact_list.pk, "ids": [c.pk for c in contacts]}
    response = client.post(BULK, {**data, "action": "add_to_list"}, follow=True)
    assert "Added 2 contacts to “News”" in toasts(response)
    assert ListMembership.objects.filter(contact_list=contact_list).count() == 2
    response = client.post(BULK, {**data, "action": "remove_from_list"}, follow=True)
    assert "Removed 2 contacts from “News”" in toasts(response)
    assert not ListMembership.objects.exists()


def test_unsubscribe(login, editor, org):
    membership = ListMembershipFactory(contact_list=ContactListFactory(organization=org))
    response = login(editor, org).post(
        BULK, {"action": "unsubscribe", "ids": [membership.contact_id]}, follow=True
    )
    assert "Unsubscribed 1 contact" in toasts(response)
    membership.refresh_from_db()
    assert membership.status == "unsubscribed"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "explode", "ids": ["x"]}, "Choose what to do"),
        ({"action": "delete", "ids": []}, "Select at least one contact"),
        ({"action": "tag", "tags": " "}, "Give at least one tag"),
        ({"action": "add_to_list", "list": ""}, "Choose a list"),
    ],
)
def test_bad_requests_explain_and_change_nothing(login, editor, org, data, message):
    contact = ContactFactory(organization=org, tags=[])
    data = {"ids": [contact.pk], **data}
    response = login(editor, org).post(BULK, data, follow=True)
    assert any(message in t for t in toasts(response))
    contact.refresh_from_db()
    assert contact.tags == [] and contact.deleted_at is None
    assert not ListMembership.objects.exists()


def test_returns_to_the_page_it_came_from_but_never_elsewhere(login, editor, org):
    contact = ContactFactory(organization=org)
    client = login(editor, org)
    data = {"action": "delete", "ids": [contact.pk]}
    response = client.post(BULK, {**data, "return_to": "/contacts/?status=bounced"})
    assert response["Location"] == "/contacts/?status=bounced"
    response = client.post(BULK, {**data, "return_to": "https://evil.example/contacts/"})
    assert response["Location"] == "/contacts/"


def test_viewer_gets_403_and_nothing_changes(login, viewer, org):
    contact = ContactFactory(organization=org)
    response = login(viewer, org).post(BULK, {"action": "delete", "ids": [contact.pk]})
    assert response.status_code == 403
    contact.refresh_from_db()
    assert contact.deleted_at is None


def test_outsider_cannot_touch_another_organizations_contacts(login, outsider, other_org, org):
    contact = ContactFactory(organization=org)
    contact_list = ContactListFactory(organization=org)
    client = login(outsider, other_org)
    response = client.post(BULK, {"action": "delete", "ids": [contact.pk]}, follow=True)
    assert "Deleted 0 contacts" in toasts(response)[0]
    contact.refresh_from_db()
    assert contact.deleted_at is None
    response = client.post(
        BULK, {"action": "add_to_list", "list": contact_list.pk, "ids": [contact.pk]}
    )
    assert response.status_code == 404
