"""Contact detail page, delete and anonymize actions."""

from datetime import timedelta

import pytest
from django.utils import timezone

from engagex.accounts.models import Membership
from engagex.accounts.tests.factories import MembershipFactory
from engagex.contacts.models import Contact, Suppression
from engagex.contacts.selectors import contact_pages
from engagex.contacts.selectors.contact_pages import TimelineItem, timeline_source
from engagex.contacts.tests.factories import (
    ContactFactory,
    ContactListFactory,
    CustomFieldFactory,
    ListMembershipFactory,
)

pytestmark = pytest.mark.django_db


def toasts(response) -> str:
    return " ".join(str(message) for message in response.context["messages"])


def url(contact, action=""):
    return f"/contacts/{contact.pk}/{action + '/' if action else ''}"


@pytest.fixture
def admin(org):
    return MembershipFactory(organization=org, role=Membership.Role.ADMIN).user


@pytest.fixture
def ada(org):
    now = timezone.now()
    contact = ContactFactory(
        organization=org,
        email="ada@example.org",
        first_name="Ada",
        last_name="Lovelace",
        fields={"city": "London"},
        tags=["pioneer"],
        consent_source="Sign-up form",
        consent_at=now - timedelta(days=2),
        consent_ip="192.0.2.9",
        created_at=now - timedelta(days=3),
    )
    CustomFieldFactory(organization=org, key="city", label="City")
    ListMembershipFactory(
        organization=org,
        contact=contact,
        contact_list=ContactListFactory(organization=org, name="Weekly"),
        status="unsubscribed",
        created_at=now - timedelta(days=1),
        unsubscribed_at=now - timedelta(hours=1),
    )
    return contact


def test_detail_shows_profile_lists_tags_consent_and_timeline(
    login, viewer, org, ada, django_assert_max_num_queries
):
    client = login(viewer, org)
    with django_assert_max_num_queries(12):
        html = client.get(url(ada)).content.decode()
    for text in (
        "ada@example.org",
        "Ada Lovelace",
        "London",
        "Weekly",
        "pioneer",
        "Sign-up form",
        "192.0.2.9",
        "Added as a contact",
        "Consent recorded: Sign-up form",
        "Unsubscribed from “Weekly”",
    ):
        assert text in html, text
    # Viewers read only.
    assert url(ada, "edit") not in html and url(ada, "delete") not in html
    assert url(ada, "anonymize") not in html


def test_timeline_is_newest_first_and_open_to_more_sources(org, ada, monkeypatch):
    monkeypatch.setattr(contact_pages, "TIMELINE_SOURCES", list(contact_pages.TIMELINE_SOURCES))

    @timeline_source
    def deliveries(*, organization, contact):
        yield TimelineItem(timezone.now(), "sent", "Received “Spring sale”")

    items = contact_pages.contact_timeline(organization=org, contact=ada)
    assert [item.kind for item in items] == [
        "sent",
        "list_unsubscribed",
        "list_joined",
        "consent",
        "created",
    ]
    assert items[0].text == "Received “Spring sale”"


def test_editor_deletes_a_contact(login, editor, org, ada):
    client = login(editor, org)
    html = client.get(url(ada)).content.decode()
    assert url(ada, "delete") in html and "data-confirm" in html
    assert url(ada, "anonymize") not in html  # admins only
    response = client.post(url(ada, "delete"), follow=True)
    assert response.redirect_chain[-1][0] == "/contacts/"
    assert "restore it from Deleted contacts for 30 days" in toasts(response)
    ada.refresh_from_db()
    assert ada.deleted_at is not None
    html = client.get(url(ada)).content.decode()
    assert "will be removed for good on" in html and "Restore" in html


def test_admin_anonymizes_a_contact(login, admin, org, ada):
    client = login(admin, org)
    html = client.get(url(ada)).content.decode()
    assert "can never be recovered" in html
    response = client.post(url(ada, "anonymize"), follow=True)
    assert response.redirect_chain[-1][0] == "/contacts/"
    ada.refresh_from_db()
    assert ada.is_anonymized and ada.first_name == ""
    assert Suppression.objects.filter(organization=org, email="").exists()
    html = client.get(url(ada)).content.decode()
    assert "Anonymized contact" in html and "ada@example.org" not in html
    response = client.post(url(ada, "anonymize"), follow=True)
    assert "already anonymized" in toasts(response)


def test_editor_and_viewer_cannot_anonymize_or_delete_beyond_their_role(
    login, editor, viewer, org, ada
):
    assert login(editor, org).post(url(ada, "anonymize")).status_code == 403
    assert login(viewer, org).post(url(ada, "delete")).status_code == 403
    ada.refresh_from_db()
    assert not ada.is_anonymized and ada.deleted_at is None


def test_outsider_gets_404(login, outsider, other_org, org, ada):
    client = login(outsider, other_org)
    for action in ("", "delete", "anonymize"):
        method = client.get if not action else client.post
        assert method(url(ada, action)).status_code == 404
    assert Contact.objects.get(pk=ada.pk).deleted_at is None


def test_unknown_contact_is_404(login, viewer, org):
    assert (
        login(viewer, org).get("/contacts/01900000-0000-7000-8000-000000000000/").status_code == 404
    )
