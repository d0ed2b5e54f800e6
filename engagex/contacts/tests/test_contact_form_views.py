"""Add and edit contact forms: custom fields by type, lists, tags, consent, errors."""

import pytest

from engagex.audit.models import AuditEntry
from engagex.contacts.models import Contact, CustomField, ListMembership
from engagex.contacts.tests.factories import (
    ContactFactory,
    ContactListFactory,
    CustomFieldFactory,
    ListMembershipFactory,
    SuppressionFactory,
)

pytestmark = pytest.mark.django_db
CREATE = "/contacts/new/"


def edit_url(contact):
    return f"/contacts/{contact.pk}/edit/"


@pytest.fixture
def custom_fields(org):
    return {
        "age": CustomFieldFactory(organization=org, key="age", label="Age", type="number"),
        "born": CustomFieldFactory(organization=org, key="born", label="Born", type="date"),
        "vip": CustomFieldFactory(organization=org, key="vip", label="VIP", type="boolean"),
        "city": CustomFieldFactory(organization=org, key="city", label="City", type="text"),
    }


def test_form_shows_an_input_per_custom_field(login, editor, org, custom_fields):
    ContactListFactory(organization=org, name="Newsletter")
    html = login(editor, org).get(CREATE).content.decode()
    assert 'name="field__age"' in html and 'inputmode="decimal"' in html
    assert 'type="date" name="field__born"' in html
    assert 'type="checkbox" name="field__vip"' in html
    assert 'name="field__city"' in html
    assert "Newsletter" in html
    assert 'name="consent_source"' in html


def test_create_contact(login, editor, org, custom_fields):
    news = ContactListFactory(organization=org, name="News")
    response = login(editor, org).post(
        CREATE,
        {
            "email": "Ada@Example.org",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "status": "subscribed",
            "lists": [news.pk],
            "tags": "vip, math",
            "field__age": "36,5",
            "field__born": "1815-12-10",
            "field__vip": "on",
            "field__city": "",
            "consent_source": "Phone call",
            "consent_text": "Agreed on the phone",
        },
        follow=True,
    )
    contact = Contact.objects.get()
    assert response.redirect_chain[-1][0] == f"/contacts/{contact.pk}/"
    assert "Contact ada@example.org added" in [str(m) for m in response.context["messages"]]
    assert contact.fields == {"age": 36.5, "born": "1815-12-10", "vip": True}
    assert contact.tags == ["vip", "math"]
    assert contact.consent_source == "Phone call"
    assert ListMembership.objects.get().contact_list == news


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"email": "nope"}, "@"),
        ({"field__age": "lots"}, "not a number"),
        ({"field__born": "yesterday"}, "not a date"),
        ({"status": "bounced"}, "Select a valid choice"),
    ],
)
def test_create_errors_are_shown_and_nothing_is_saved(
    login, editor, org, custom_fields, data, error
):
    response = login(editor, org).post(
        CREATE, {"email": "ok@example.org", "status": "subscribed", **data}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert error in html
    assert "The contact was not saved: fix the errors below." in [
        str(m) for m in response.context["messages"]
    ]
    assert not Contact.objects.exists()


def test_create_duplicate_and_suppressed_addresses_show_on_the_email_field(login, editor, org):
    ContactFactory(organization=org, email="taken@example.org")
    SuppressionFactory(organization=org, email="blocked@example.org")
    client = login(editor, org)
    for address, words in (
        ("taken@example.org", "already exists"),
        ("blocked@example.org", "suppression"),
    ):
        response = client.post(CREATE, {"email": address, "status": "subscribed"})
        assert words in response.context["form"].errors["email"][0]
    assert Contact.objects.count() == 1


def test_edit_contact(login, editor, org, custom_fields):
    news, deals = (
        ContactListFactory(organization=org, name="News"),
        ContactListFactory(organization=org, name="Deals"),
    )
    contact = ContactFactory(
        organization=org, email="ada@example.org", fields={"vip": True, "age": 3}, tags=["a"]
    )
    ListMembershipFactory(organization=org, contact_list=news, contact=contact)
    client = login(editor, org)
    html = client.get(edit_url(contact)).content.decode()
    assert 'value="ada@example.org"' in html and 'name="consent_source"' not in html
    response = client.post(
        edit_url(contact),
        {
            "email": "ada@example.org",
            "first_name": "Ada",
            "status": "unsubscribed",
            "lists": [],
            "tags": "b",
            "field__age": "",
        },
        follow=True,
    )
    assert "Contact saved" in [str(m) for m in response.context["messages"]]
    contact.refresh_from_db()
    assert contact.first_name == "Ada"
    assert contact.status == "unsubscribed"
    # An unticked box turns an earlier "yes" into "no"; an emptied input removes the value.
    assert contact.fields == {"vip": False}
    assert contact.tags == ["b"]
    # Unsubscribed from everything: the membership stays, as history, but unsubscribed.
    assert ListMembership.objects.get(contact_list=news).status == "unsubscribed"
    assert not ListMembership.objects.filter(contact_list=deals).exists()


def test_edit_errors_roll_back_everything(login, editor, org):
    news = ContactListFactory(organization=org)
    contact = ContactFactory(organization=org, status="unsubscribed", first_name="Old")
    response = login(editor, org).post(
        edit_url(contact),
        {"email": contact.email, "first_name": "New", "status": "unsubscribed", "lists": [news.pk]},
    )
    assert response.status_code == 200
    assert "can't join lists" in response.context["form"].errors["lists"][0]
    contact.refresh_from_db()
    assert contact.first_name == "Old"
    assert not AuditEntry.objects.filter(action="contacts.updated").exists()


def test_bounced_contact_status_is_shown_but_locked(login, editor, org):
    contact = ContactFactory(organization=org, status="bounced")
    html = login(editor, org).get(edit_url(contact)).content.decode()
    assert "Set by the system" in html
    login(editor, org).post(edit_url(contact), {"email": contact.email, "status": "subscribed"})
    contact.refresh_from_db()
    assert contact.status == "bounced"


def test_custom_field_labels_and_types_come_from_the_organization(login, editor, org, other_org):
    CustomFieldFactory(organization=other_org, key="secret", label="Secret")
    html = login(editor, org).get(CREATE).content.decode()
    assert "field__secret" not in html


def test_viewer_gets_403(login, viewer, org):
    contact = ContactFactory(organization=org)
    client = login(viewer, org)
    assert client.get(CREATE).status_code == 403
    assert (
        client.post(CREATE, {"email": "x@example.org", "status": "subscribed"}).status_code == 403
    )
    assert client.post(edit_url(contact), {"email": "x@example.org"}).status_code == 403
    assert not Contact.objects.filter(email="x@example.org").exists()


def test_outsider_gets_404(login, outsider, other_org, org):
    contact = ContactFactory(organization=org)
    client = login(outsider, other_org)
    assert client.get(edit_url(contact)).status_code == 404
    response = client.post(edit_url(contact), {"email": "x@example.org", "status": "subscribed"})
    assert response.status_code == 404


def test_deleted_contacts_cannot_be_edited(login, editor, org):
    contact = ContactFactory(organization=org, deleted_at="2026-01-01T00:00:00Z")
    assert login(editor, org).get(edit_url(contact)).status_code == 404


def test_date_field_keeps_its_value_in_the_form(login, editor, org):
    CustomFieldFactory(organization=org, key="born", label="Born", type=CustomField.Type.DATE)
    contact = ContactFactory(organization=org, fields={"born": "1990-05-17"})
    html = login(editor, org).get(edit_url(contact)).content.decode()
    assert 'value="1990-05-17"' in html
