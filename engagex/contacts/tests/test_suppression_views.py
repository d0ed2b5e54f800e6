"""The suppression list page: browse, add, import (paste and file), remove; who may."""

import codecs

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from engagex.accounts.tests.factories import MembershipFactory
from engagex.audit.models import AuditEntry
from engagex.contacts.emails import email_hash
from engagex.contacts.models import Suppression
from engagex.contacts.tests.factories import SuppressionFactory

PAGE_URL = reverse("contacts:suppressions")
ADD_URL = reverse("contacts:suppression-add")
IMPORT_URL = reverse("contacts:suppression-import")


def remove_url(entry):
    return reverse("contacts:suppression-remove", args=[entry.pk])


@pytest.fixture
def admin(org):
    return MembershipFactory(organization=org, role="admin").user


@pytest.fixture
def entries(org, editor):
    return {
        "bounce": SuppressionFactory(
            organization=org, email="gone@shop.example", reason="hard_bounce", source="550 5.1.1"
        ),
        "manual": SuppressionFactory(
            organization=org, email="ask@example.com", reason="manual", created_by=editor
        ),
        "anonymized": SuppressionFactory(
            organization=org,
            email="",
            email_hash=email_hash("secret@example.com"),
            reason="anonymized",
        ),
    }


def suppressed(org) -> list[str]:
    return sorted(Suppression.objects.filter(organization=org).values_list("email", flat=True))


def test_empty_state_offers_to_add_and_import(login, editor, org):
    html = login(editor, org).get(PAGE_URL).content.decode()
    assert "No suppressed addresses yet" in html
    assert 'href="#add-suppression"' in html and 'id="import-suppressions"' in html


def test_page_shows_stats_rows_and_anonymized_entries_by_hash(
    login, viewer, org, entries, editor, django_assert_max_num_queries
):
    client = login(viewer, org)
    with django_assert_max_num_queries(12):
        response = client.get(PAGE_URL)
    html = response.content.decode()
    assert "gone@shop.example" in html and "550 5.1.1" in html and "Hard bounce" in html
    assert f"Anonymized #{entries['anonymized'].email_hash[:12]}…" in html
    assert editor.display_name in html  # added by
    assert "1 from an anonymized contact" in html
    # Viewers read only: no forms, no remove buttons.
    assert ADD_URL not in html and IMPORT_URL not in html
    assert "Remove" not in html


def test_search_by_prefix_and_domain_and_filter_by_reason(login, viewer, org, entries):
    client = login(viewer, org)
    html = client.get(PAGE_URL, {"q": "GONE"}).content.decode()
    assert "gone@shop.example" in html and "ask@example.com" not in html
    html = client.get(PAGE_URL, {"q": "@example.com"}).content.decode()
    assert "ask@example.com" in html and "gone@shop.example" not in html
    html = client.get(PAGE_URL, {"reason": "hard_bounce"}).content.decode()
    assert "gone@shop.example" in html and "ask@example.com" not in html
    html = client.get(PAGE_URL, {"q": "nobody"}).content.decode()
    assert "Nothing matches your search" in html


def test_pagination(login, viewer, org):
    for index in range(30):
        SuppressionFactory(organization=org, email=f"p{index:02d}@example.com")
    client = login(viewer, org)
    html = client.get(PAGE_URL, {"sort": "email"}).content.decode()
    assert "Showing 1\u201325 of 30" in html and "p00@example.com" in html
    html = client.get(PAGE_URL, {"sort": "email", "page": 2}).content.decode()
    assert "p29@example.com" in html and "p00@example.com" not in html


def test_editor_adds_an_address(login, editor, org):
    response = login(editor, org).post(
        ADD_URL, {"email": " Jane@Example.com", "note": "Asked by phone"}, follow=True
    )
    assert "jane@example.com is suppressed" in response.content.decode()
    entry = Suppression.objects.get(organization=org)
    assert (entry.email, entry.reason, entry.source) == (
        "jane@example.com",
        "manual",
        "Asked by phone",
    )


def test_adding_an_address_twice_says_so(login, editor, org, entries):
    response = login(editor, org).post(ADD_URL, {"email": "ASK@example.com"}, follow=True)
    assert "ask@example.com was already on the suppression list." in response.content.decode()
    assert Suppression.objects.filter(organization=org).count() == 3


@pytest.mark.parametrize(
    ("email", "message"),
    [("", "Enter the address to suppress."), ("jane@", "is not a valid email address")],
)
def test_adding_a_bad_address_is_explained_and_changes_nothing(login, editor, org, email, message):
    response = login(editor, org).post(ADD_URL, {"email": email})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Suppression.objects.exists()


def test_paste_import_reports_counts_and_lists_invalid_lines_once(login, editor, org, entries):
    client = login(editor, org)
    pasted = (
        "email;name\nnew@example.com;New\ngone@shop.example\n\nnot-an-address\nother@example.com"
    )
    response = client.post(IMPORT_URL, {"addresses": pasted, "note": ""}, follow=True)
    html = response.content.decode()
    assert "2 addresses suppressed · 1 already on the list · 1 invalid line" in html
    assert "Pasted line 5" in html and "not-an-address" in html
    assert suppressed(org) == [
        "",
        "ask@example.com",
        "gone@shop.example",
        "new@example.com",
        "other@example.com",
    ]
    assert Suppression.objects.get(email="new@example.com").source == "Pasted list"
    # The report is shown once, not on every later visit.
    assert "Pasted line 5" not in client.get(PAGE_URL).content.decode()


def test_file_import_reads_the_first_column_of_a_csv_with_bom(login, editor, org):
    content = (
        codecs.BOM_UTF8 + "E-Mail,Name\nzoë@bücher.example,Zoë\nann@example.com,Ann\n".encode()
    )
    upload = SimpleUploadedFile("unsubscribes.csv", content, content_type="text/csv")
    response = login(editor, org).post(IMPORT_URL, {"file": upload}, follow=True)
    assert "2 addresses suppressed" in response.content.decode()
    assert suppressed(org) == ["ann@example.com", "zoë@bücher.example"]
    assert set(Suppression.objects.values_list("source", flat=True)) == {"unsubscribes.csv"}


def test_file_import_reads_utf16_and_latin1(login, editor, org):
    client = login(editor, org)
    utf16 = "jörg@example.com\r\n".encode("utf-16")
    client.post(IMPORT_URL, {"file": SimpleUploadedFile("a.txt", utf16)})
    latin1 = "rené@example.com\n".encode("latin-1")
    client.post(IMPORT_URL, {"file": SimpleUploadedFile("b.txt", latin1)})
    assert suppressed(org) == ["jörg@example.com", "rené@example.com"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"addresses": "   \n  "}, "Paste addresses or choose a file."),
        ({"file": SimpleUploadedFile("list.xlsx", b"PK\x03\x04")}, "Upload a .txt or .csv file."),
        ({"file": SimpleUploadedFile("empty.csv", b"")}, "The submitted file is empty."),
        ({"file": SimpleUploadedFile("header.csv", b"email\n")}, "at least one email address"),
    ],
)
def test_bad_imports_are_explained_and_change_nothing(login, editor, org, data, message):
    response = login(editor, org).post(IMPORT_URL, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Suppression.objects.exists()
    assert not AuditEntry.objects.exists()


def test_a_file_over_5_mb_is_refused(login, editor, org):
    line = b"someone@example.com\n"
    big = SimpleUploadedFile("big.txt", line * (5 * 1024 * 1024 // len(line) + 1))
    response = login(editor, org).post(IMPORT_URL, {"file": big})
    assert response.status_code == 400
    assert "larger than 5 MB" in response.content.decode()
    assert not Suppression.objects.exists()


def test_admin_removes_an_entry_and_returns_to_the_same_search(login, admin, org, entries):
    client = login(admin, org)
    html = client.get(PAGE_URL).content.decode()
    assert remove_url(entries["bounce"]) in html
    assert remove_url(entries["anonymized"]) not in html  # can't be removed: no button
    response = client.post(remove_url(entries["bounce"]), {"next_query": "q=gone"})
    assert response["Location"] == PAGE_URL + "?q=gone"
    assert "gone@shop.example" not in suppressed(org)
    audit = AuditEntry.objects.get(action="contacts.suppression_removed")
    assert audit.target_id == str(entries["bounce"].pk)
    assert "gone" not in str(audit.metadata)


def test_removing_an_anonymized_entry_is_refused_with_a_reason(login, admin, org, entries):
    response = login(admin, org).post(remove_url(entries["anonymized"]), follow=True)
    assert "it can&#x27;t be removed" in response.content.decode()
    assert Suppression.objects.filter(pk=entries["anonymized"].pk).exists()


def test_editor_sees_no_remove_button_and_gets_403(login, editor, org, entries):
    client = login(editor, org)
    html = client.get(PAGE_URL).content.decode()
    assert ADD_URL in html and remove_url(entries["manual"]) not in html
    assert client.post(remove_url(entries["manual"])).status_code == 403
    assert Suppression.objects.filter(organization=org).count() == 3


def test_viewer_gets_403_on_every_write(login, viewer, org, entries):
    client = login(viewer, org)
    assert client.post(ADD_URL, {"email": "x@example.com"}).status_code == 403
    assert client.post(IMPORT_URL, {"addresses": "x@example.com"}).status_code == 403
    assert client.post(remove_url(entries["manual"])).status_code == 403
    assert Suppression.objects.filter(organization=org).count() == 3


def test_outsider_gets_404_for_another_organizations_entries(login, outsider, other_org, entries):
    client = login(outsider, other_org)
    assert client.post(remove_url(entries["manual"])).status_code == 404
    assert "ask@example.com" not in client.get(PAGE_URL).content.decode()
    assert Suppression.objects.filter(pk=entries["manual"].pk).exists()
