"""REST API: POST /api/v1/contacts/{id}/unsubscribe — the contact and its lists, the
event log and the audit log; idempotent; scopes and tenancy."""

import pytest

from engagex.audit.models import AuditEntry
from engagex.contacts.models import Contact, ListMembership
from engagex.contacts.tests.factories import (
    ContactFactory,
    ContactListFactory,
    ListMembershipFactory,
)
from engagex.tracking.models import TrackingEvent

EVENTS = "/api/v1/events"


def url(contact):
    return f"/api/v1/contacts/{contact.pk}/unsubscribe"


@pytest.fixture
def write_key(make_key):
    return make_key("write")[1]


@pytest.fixture
def ann(org):
    contact = ContactFactory(organization=org, email="ann@example.com")
    for name in ("News", "Offers"):
        ListMembershipFactory(
            contact_list=ContactListFactory(organization=org, name=name), contact=contact
        )
    return contact


def test_unsubscribes_the_contact_and_its_lists_once(api, write_key, org, ann):
    response = api.post(url(ann), write_key)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "unsubscribed"
    assert {entry["status"] for entry in body["lists"]} == {"unsubscribed"}
    ann.refresh_from_db()
    assert ann.status == Contact.Status.UNSUBSCRIBED
    assert not ListMembership.objects.exclude(status="unsubscribed").exists()
    event = TrackingEvent.objects.get()
    assert (event.organization_id, event.contact_id, event.kind) == (org.pk, ann.pk, "unsubscribe")
    assert event.mailing_id is None  # no campaign's unsubscribe
    assert event.detail["source"] == "api" and len(event.detail["lists"]) == 2
    audit = AuditEntry.objects.get(action="contacts.updated", target_id=str(ann.pk))
    assert audit.actor is None and audit.metadata == {"changed": ["status"]}

    # Again: same answer, nothing new.
    again = api.post(url(ann), write_key)
    assert again.status_code == 200 and again.json() == body
    assert TrackingEvent.objects.count() == 1
    assert AuditEntry.objects.filter(action="contacts.updated").count() == 1

    # The event log shows where it came from.
    listed = api.get(f"{EVENTS}?kind=unsubscribe", write_key).json()["results"]
    assert [(row["email"], row["detail"]["source"], row["campaign_id"]) for row in listed] == [
        ("ann@example.com", "api", None)
    ]


@pytest.mark.parametrize("status", ["bounced", "complained", "unsubscribed"])
def test_a_contact_that_cannot_be_mailed_is_left_as_it_is(api, write_key, org, status):
    contact = ContactFactory(organization=org, status=status)
    response = api.post(url(contact), write_key)
    assert response.status_code == 200 and response.json()["status"] == status
    assert not TrackingEvent.objects.exists()


def test_an_unconfirmed_contact_is_unsubscribed(api, write_key, org):
    contact = ContactFactory(organization=org, status="unconfirmed")
    assert api.post(url(contact), write_key).json()["status"] == "unsubscribed"


def test_a_read_only_key_is_refused(api, make_key, ann):
    response = api.post(url(ann), make_key("read")[1])
    assert response.status_code == 403 and "write" in response.json()["detail"]
    ann.refresh_from_db()
    assert ann.status == "subscribed" and not TrackingEvent.objects.exists()
    assert api.post(url(ann)).status_code == 401


def test_other_organizations_and_deleted_contacts_are_404(api, write_key, make_key, other_org, ann):
    theirs = ContactFactory(organization=other_org)
    assert api.post(url(theirs), write_key).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "subscribed"
    their_key = make_key("write", organization=other_org)[1]
    assert api.post(url(ann), their_key).status_code == 404
    deleted = ContactFactory(organization=ann.organization)
    api.delete(f"/api/v1/contacts/{deleted.pk}", write_key)
    assert api.post(url(deleted), write_key).status_code == 404
    assert api.post("/api/v1/contacts/not-an-id/unsubscribe", write_key).status_code == 404
    assert not TrackingEvent.objects.exists()
