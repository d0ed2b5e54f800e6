"""The lists pages: table with counts, create/edit/delete, resend a confirmation; who may."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from engagex.audit.models import AuditEntry
from engagex.contacts.models import Contact, ContactList, ListMembership
from engagex.contacts.tests.factories import (
    ContactListFactory,
    ListMembershipFactory,
)

LISTS_URL = reverse("contacts:lists")
CREATE_URL = reverse("contacts:list-create")


def edit_url(contact_list):
    return reverse("contacts:list-edit", args=[contact_list.pk])


def delete_url(contact_list):
    return reverse("contacts:list-delete", args=[contact_list.pk])


def resend_url(membership):
    return reverse("contacts:list-confirmation-resend", args=[membership.pk])


@pytest.fixture
def newsletter(org):
    contact_list = ContactListFactory(
        organization=org, name="Newsletter", description="Monthly product news"
    )
    ListMembershipFactory.create_batch(3, contact_list=contact_list)
    ListMembershipFactory(contact_list=contact_list, status="unsubscribed")
    return contact_list


@pytest.fixture
def pending(org):
    contact_list = ContactListFactory(organization=org, name="Digest", opt_in="double")
    return ListMembershipFactory(
        contact_list=contact_list, status="unconfirmed", contact__email="jane@example.com"
    )


def test_empty_state_invites_editors_to_create_a_list(login, editor, org):
    html = login(editor, org).get(LISTS_URL).content.decode()
    assert "No lists yet" in html
    assert f'href="{CREATE_URL}"' in html


def test_viewer_sees_lists_with_counts_but_no_write_buttons(
    login, viewer, org, newsletter, django_assert_max_num_queries
):
    ContactListFactory(organization=org, name="Partners", opt_in="double")
    client = login(viewer, org)
    with django_assert_max_num_queries(12):
        response = client.get(LISTS_URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Newsletter" in html and "Monthly product news" in html and "Partners" in html
    assert "Double opt-in" in html
    assert f"?list={newsletter.pk}" in html  # opens the contacts page filtered by the list
    assert '<td class="num">3</td>' in html  # subscribed
    assert CREATE_URL not in html
    assert delete_url(newsletter) not in html


def test_query_count_does_not_grow_with_the_number_of_lists(
    login, viewer, org, django_assert_max_num_queries
):
    for index in range(20):
        ListMembershipFactory(contact_list=ContactListFactory(organization=org, name=f"L{index}"))
    client = login(viewer, org)
    with django_assert_max_num_queries(12):
        assert client.get(LISTS_URL).status_code == 200


def test_search_and_opt_in_filter(login, viewer, org, newsletter):
    ContactListFactory(organization=org, name="Partners", opt_in="double")
    client = login(viewer, org)
    html = client.get(LISTS_URL, {"q": "product"}).content.decode()
    assert "Newsletter" in html and "Partners" not in html
    html = client.get(LISTS_URL, {"opt_in": "double"}).content.decode()
    assert "Partners" in html and "Newsletter" not in html
    html = client.get(LISTS_URL, {"q": "nothing like it"}).content.decode()
    assert "Nothing matches your search" in html


def test_htmx_search_returns_only_the_results(login, viewer, org, newsletter):
    response = login(viewer, org).get(
        LISTS_URL, {"q": "news"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="lists-results"
    )
    html = response.content.decode()
    assert "Newsletter" in html and "<html" not in html


def test_editor_creates_a_list(login, editor, org):
    client = login(editor, org)
    assert "Double opt-in" in client.get(CREATE_URL).content.decode()
    response = client.post(
        CREATE_URL,
        {"name": "Customers", "description": "People who bought", "opt_in": "double"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == LISTS_URL
    assert "List “Customers” created" in response.content.decode()
    created = ContactList.objects.get(organization=org, name="Customers")
    assert created.opt_in == "double"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "opt_in": "single"}, "Give the list a name."),
        ({"name": "newsletter", "opt_in": "single"}, "There is already a list called"),
        ({"name": "Other", "opt_in": "weekly"}, "Select a valid choice"),
    ],
)
def test_bad_input_is_explained_and_nothing_is_created(
    login, editor, org, newsletter, data, message
):
    response = login(editor, org).post(CREATE_URL, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert ContactList.objects.filter(organization=org).count() == 1


def test_editor_edits_a_list(login, editor, org, newsletter):
    client = login(editor, org)
    html = client.get(edit_url(newsletter)).content.decode()
    assert 'value="Newsletter"' in html and "Members" in html
    response = client.post(
        edit_url(newsletter), {"name": "News", "description": "", "opt_in": "double"}
    )
    assert response.status_code == 302
    newsletter.refresh_from_db()
    assert (newsletter.name, newsletter.description, newsletter.opt_in) == ("News", "", "double")


def test_editing_to_a_taken_name_changes_nothing(login, editor, org, newsletter):
    ContactListFactory(organization=org, name="Partners")
    response = login(editor, org).post(
        edit_url(newsletter), {"name": "Partners", "opt_in": "double"}
    )
    assert response.status_code == 400
    assert "There is already a list called “Partners”." in response.content.decode()
    newsletter.refresh_from_db()
    assert (newsletter.name, newsletter.opt_in) == ("Newsletter", "single")


def test_delete_asks_first_and_keeps_the_contacts(login, editor, org, newsletter):
    client = login(editor, org)
    html = client.get(LISTS_URL).content.decode()
    assert "Delete the list “Newsletter”?" in html  # the confirm modal's question
    contact_ids = list(newsletter.memberships.values_list("contact_id", flat=True))
    response = client.post(delete_url(newsletter), follow=True)
    assert "Its contacts are still in your audience" in response.content.decode()
    assert not ContactList.objects.filter(pk=newsletter.pk).exists()
    assert not ListMembership.objects.filter(contact_id__in=contact_ids).exists()
    assert Contact.objects.filter(pk__in=contact_ids).count() == 4


def test_viewer_gets_403_on_every_write(login, viewer, org, newsletter, pending):
    client = login(viewer, org)
    assert client.get(CREATE_URL).status_code == 403
    assert client.post(CREATE_URL, {"name": "X", "opt_in": "single"}).status_code == 403
    assert client.get(edit_url(newsletter)).status_code == 403
    assert client.post(edit_url(newsletter), {"name": "X", "opt_in": "single"}).status_code == 403
    assert client.post(delete_url(newsletter)).status_code == 403
    assert client.post(resend_url(pending)).status_code == 403
    assert ContactList.objects.filter(organization=org).count() == 2
    assert mail.outbox == []


def test_outsider_gets_404_for_another_organizations_lists(
    login, outsider, other_org, newsletter, pending
):
    client = login(outsider, other_org)
    assert client.get(edit_url(newsletter)).status_code == 404
    assert client.post(edit_url(newsletter), {"name": "X", "opt_in": "single"}).status_code == 404
    assert client.post(delete_url(newsletter)).status_code == 404
    assert client.post(resend_url(pending)).status_code == 404
    assert "Newsletter" not in client.get(LISTS_URL).content.decode()
    newsletter.refresh_from_db()
    assert newsletter.name == "Newsletter"
    assert mail.outbox == []


def test_anonymous_visitors_are_sent_to_sign_in(client, newsletter):
    response = client.get(LISTS_URL)
    assert response.status_code == 302 and "/login" in response["Location"]


def test_resend_confirmation_then_rate_limited(
    login, editor, org, pending, django_capture_on_commit_callbacks
):
    client = login(editor, org)
    contact_page = f"/contacts/{pending.contact_id}/"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(resend_url(pending), {"next": contact_page})
    assert response.status_code == 302 and response["Location"] == contact_page
    [message] = mail.outbox
    assert message.to == ["jane@example.com"]
    response = client.post(resend_url(pending), follow=True)
    assert "less than 10 minutes ago" in response.content.decode()
    assert len(mail.outbox) == 1
    assert AuditEntry.objects.filter(action="contacts.optin_resent").count() == 1


def test_resend_never_redirects_off_site(login, editor, org, pending):
    ListMembership.objects.filter(pk=pending.pk).update(
        confirmation_sent_at=timezone.now() - timedelta(hours=1)
    )
    response = login(editor, org).post(resend_url(pending), {"next": "https://evil.example/"})
    assert response["Location"] == LISTS_URL
