"""REST API: the suppression list says why and since when — for entries made by real
bounce and complaint handling of a campaign sent for real, and by hand."""

import pytest
from django.test import Client

from engagex.contacts.tests.activity_helpers import people, send_campaign
from engagex.contacts.tests.factories import SuppressionFactory
from engagex.delivery.models import Delivery
from engagex.tracking import feedback

URL = "/api/v1/suppressions"


@pytest.fixture
def key(make_key):
    return make_key("write")[1]


@pytest.fixture
def suppressed(established_org, sink):
    crowd = people(established_org, "ann", "bob", "cat")
    sent = send_campaign(established_org, sink, list(crowd.values()))

    def delivery(name):
        found = Delivery.objects.get(mailing=sent.mailing, email=f"{name}@example.com")
        return feedback.delivery_for(found.pk)

    feedback.bounce(
        delivery("ann"), severity="hard", status="5.1.1", diagnostic="User unknown", source="smtp"
    )
    feedback.complaint(delivery("bob"), source="arf")
    return established_org


def rows(response):
    assert response.status_code == 200, response.json()
    return {row["email"]: row for row in response.json()["results"]}


def test_each_entry_has_its_reason_source_and_date(api, key, suppressed, other_org):
    SuppressionFactory(organization=other_org, email="theirs@example.com")
    api.post(URL, key, json={"email": "dan@example.com", "source": "Asked by phone"})
    listed = rows(api.get(URL, key))
    assert set(listed) == {"ann@example.com", "bob@example.com", "dan@example.com"}
    ann, bob, dan = (listed[f"{n}@example.com"] for n in ("ann", "bob", "dan"))
    assert ann["reason"] == "hard_bounce" and "5.1.1" in ann["source"]
    assert bob["reason"] == "complaint" and "arf" in bob["source"]
    assert (dan["reason"], dan["source"]) == ("manual", "Asked by phone")
    assert all(row["created_at"] for row in listed.values())


def test_filter_by_reason(api, key, suppressed):
    assert set(rows(api.get(f"{URL}?reason=hard_bounce", key))) == {"ann@example.com"}
    assert set(rows(api.get(f"{URL}?reason=complaint", key))) == {"bob@example.com"}
    assert rows(api.get(f"{URL}?reason=soft_bounce", key)) == {}
    response = api.get(f"{URL}?reason=bounced", key)
    assert response.status_code == 400 and "reason" in response.json()


def test_the_schema_explains_the_reasons(db):
    schema = Client().get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/suppressions"]["get"]
    for reason in ("hard_bounce", "soft_bounce", "complaint", "manual", "imported", "anonymized"):
        assert f"`{reason}`" in operation["description"]
    fields = schema["components"]["schemas"]["Suppression"]["properties"]
    assert {"reason", "source", "created_at"} <= set(fields)
    assert fields["source"]["description"]
