"""Custom fields page: list with value counts, add, rename, delete."""

import pytest

from engagex.contacts.models import Contact, CustomField
from engagex.contacts.tests.factories import ContactFactory, CustomFieldFactory

pytestmark = pytest.mark.django_db
PAGE = "/contacts/fields/"
CREATE = "/contacts/fields/new/"


def toasts(response) -> str:
    return " ".join(str(message) for message in response.context["messages"])


def test_empty_state_and_form(login, editor, org):
    html = login(editor, org).get(PAGE).content.decode()
    assert "No custom fields yet" in html
    assert 'action="/contacts/fields/new/"' in html and "data-field-key" in html


def test_lists_fields_with_how_many_contacts_hold_a_value(login, viewer, editor, org, other_org):
    CustomFieldFactory(organization=org, key="city", label="City")
    CustomFieldFactory(organization=org, key="age", label="Age", type="number")
    CustomFieldFactory(organization=other_org, key="secret", label="Secret")
    ContactFactory.create_batch(2, organization=org, fields={"city": "Oslo"})
    ContactFactory(organization=org, fields={"city": "Rome"}, deleted_at="2026-01-01T00:00Z")
    html = login(viewer, org).get(PAGE).content.decode()
    assert "City" in html and "<code>age</code>" in html and "Secret" not in html
    assert '<td class="num">2</td>' in html and '<td class="num">0</td>' in html
    assert CREATE not in html and "/delete/" not in html  # viewers read only
    html = login(editor, org).get(PAGE).content.decode()
    assert "2 contacts hold a value for it" in html  # the delete confirmation says so


def test_search_and_type_filter(login, viewer, org):
    CustomFieldFactory(organization=org, key="city", label="City")
    CustomFieldFactory(organization=org, key="age", label="Age", type="number")
    client = login(viewer, org)
    html = client.get(PAGE, {"type": "number"}).content.decode()
    assert "<code>age</code>" in html and "<code>city</code>" not in html
    html = client.get(PAGE, {"q": "cit"}).content.decode()
    assert "<code>city</code>" in html and "<code>age</code>" not in html


def test_add_a_field(login, editor, org):
    response = login(editor, org).post(
        CREATE, {"label": "Customer since", "type": "date", "key": ""}, follow=True
    )
    assert "Field “Customer since” added (key customer_since)" in toasts(response)
    assert CustomField.objects.get().key == "customer_since"


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"label": "", "type": "text"}, "This field is required"),
        ({"label": "Colour", "type": "color"}, "Unknown field type"),
        ({"label": "Email", "type": "text"}, "built-in"),
        ({"label": "X", "type": "text", "key": "Bad Key"}, "lowercase letters"),
    ],
)
def test_bad_fields_are_explained_and_not_added(login, editor, org, data, error):
    response = login(editor, org).post(CREATE, data)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not CustomField.objects.exists()


def test_rename_and_delete(login, editor, org):
    field = CustomFieldFactory(organization=org, key="city", label="City")
    contact = ContactFactory(organization=org, fields={"city": "Oslo"})
    client = login(editor, org)
    response = client.post(f"{PAGE}{field.pk}/rename/", {"label": "Town"}, follow=True)
    assert "Field renamed to “Town”" in toasts(response)
    response = client.post(f"{PAGE}{field.pk}/rename/", {"label": ""}, follow=True)
    assert "Not renamed" in toasts(response)
    field.refresh_from_db()
    assert field.label == "Town"
    response = client.post(f"{PAGE}{field.pk}/delete/", follow=True)
    assert "Field “Town” deleted, with its value on 1 contact" in toasts(response)
    assert not CustomField.objects.exists()
    assert Contact.objects.get(pk=contact.pk).fields == {}


def test_viewer_gets_403(login, viewer, org):
    field = CustomFieldFactory(organization=org)
    client = login(viewer, org)
    assert client.post(CREATE, {"label": "X", "type": "text"}).status_code == 403
    assert client.post(f"{PAGE}{field.pk}/rename/", {"label": "Y"}).status_code == 403
    assert client.post(f"{PAGE}{field.pk}/delete/").status_code == 403
    assert CustomField.objects.get().label == field.label


def test_outsider_gets_404(login, outsider, other_org, org):
    field = CustomFieldFactory(organization=org)
    client = login(outsider, other_org)
    assert client.post(f"{PAGE}{field.pk}/rename/", {"label": "Y"}).status_code == 404
    assert client.post(f"{PAGE}{field.pk}/delete/").status_code == 404
    assert CustomField.objects.filter(pk=field.pk).exists()
