"""The import pages: upload, mapping, start, live status, result and rejected-rows download."""

import io

import pytest
from django.urls import reverse

from engagex.accounts.tests.factories import MembershipFactory
from engagex.contacts.models import Contact, ContactImport
from engagex.contacts.services.imports import contact_import_run, contact_import_upload
from engagex.contacts.tests.factories import ContactListFactory, CustomFieldFactory
from engagex.contacts.tests.import_helpers import csv_upload, xlsx_upload

IMPORTS = reverse("contacts:imports")
UPLOAD = reverse("contacts:import-upload")
CSV_TEXT = (
    "\ufeffE-Mail;Vorname;Nachname;Stadt\n"
    "ada@example.org;Ada;Lovelace;London\n"
    "kaputt;Bob;Broken;Paris\n"
)


def detail_url(contact_import):
    return reverse("contacts:import-detail", args=[contact_import.pk])


def start_url(contact_import):
    return reverse("contacts:import-start", args=[contact_import.pk])


@pytest.fixture
def uploaded(org, editor):
    return contact_import_upload(organization=org, actor=editor, uploaded_file=csv_upload(CSV_TEXT))


def start_data(**overrides):
    data = {
        "column_0": "email",
        "column_1": "first_name",
        "column_2": "last_name",
        "column_3": "__new__",
        "label_3": "City",
        "type_3": "text",
        "existing": "update",
        "tags": "",
        "consent_text": "",
        "contact_list": "",
    }
    data.update(overrides)
    return data


# -- access ------------------------------------------------------------------------------


def test_viewer_gets_403_on_every_import_page(org, viewer, uploaded, login):
    client = login(viewer, org)

    assert client.get(IMPORTS).status_code == 403
    assert client.post(UPLOAD, {"file": csv_upload(CSV_TEXT)}).status_code == 403
    assert client.get(detail_url(uploaded)).status_code == 403
    assert client.post(start_url(uploaded), start_data()).status_code == 403
    uploaded.refresh_from_db()
    assert uploaded.status == ContactImport.Status.UPLOADED


def test_outsider_gets_404_for_another_organizations_import(outsider, other_org, uploaded, login):
    client = login(outsider, other_org)

    assert client.get(detail_url(uploaded)).status_code == 404
    assert client.post(start_url(uploaded), start_data()).status_code == 404
    rejected = reverse("contacts:import-rejected", args=[uploaded.pk])
    assert client.get(rejected).status_code == 404
    uploaded.refresh_from_db()
    assert uploaded.status == ContactImport.Status.UPLOADED


def test_imports_page_has_an_empty_state_and_the_upload_box(org, editor, login):
    response = login(editor, org).get(IMPORTS)

    assert response.status_code == 200
    assert "No imports yet" in response.text
    assert 'enctype="multipart/form-data"' in response.text
    assert "Drop a CSV or XLSX file here" in response.text


# -- upload ------------------------------------------------------------------------------


def test_upload_detects_the_file_and_shows_a_preview_with_guessed_mapping(org, editor, login):
    CustomFieldFactory(organization=org, key="stadt", label="Stadt")
    client = login(editor, org)

    response = client.post(UPLOAD, {"file": csv_upload(CSV_TEXT, name="messe.csv")})

    contact_import = ContactImport.objects.get(organization=org)
    assert response.status_code == 302
    assert response["Location"] == detail_url(contact_import)
    page = client.get(detail_url(contact_import)).text
    assert "UTF-8 (with BOM)" in page
    assert "Semicolon" in page
    assert "Lovelace" in page  # the preview
    assert '<option value="email" selected>' in page
    assert '<option value="first_name" selected>' in page
    assert '<option value="last_name" selected>' in page
    assert '<option value="field:stadt" selected>' in page


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("report.pdf", b"%PDF-1.7 not a spreadsheet", "This is a PDF document"),
        ("empty.csv", b"", "The submitted file is empty."),
        ("header.csv", b"email,name\n", "has a header row but no contacts"),
        ("dupes.csv", b"Email,Name,email\na@example.org,A,b\n", "has the column"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 old excel", "Old Excel files (.xls)"),
        ("binary.csv", b"email\n\x00\x01\x02\x03", "not a text (CSV) file"),
    ],
)
def test_bad_files_are_refused_with_a_clear_message_and_nothing_is_kept(
    org, editor, login, name, content, message
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = login(editor, org).post(UPLOAD, {"file": SimpleUploadedFile(name, content)})

    assert response.status_code == 400
    assert message in response.text
    assert not ContactImport.objects.filter(organization=org).exists()


def test_upload_without_a_file_asks_for_one(org, editor, login):
    response = login(editor, org).post(UPLOAD, {})

    assert response.status_code == 400
    assert "Choose a CSV or XLSX file to upload." in response.text


class _GeneratedBody(io.RawIOBase):
    """A multipart body of `size` bytes produced on demand, counting what is read."""

    def __init__(self, boundary: str, size: int) -> None:
        self.head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="huge.csv"\r\nContent-Type: text/csv\r\n\r\nemail\r\n'
        ).encode()
        self.size = size
        self.position = 0

    def readable(self):
        return True

    def readinto(self, buffer):
        remaining = self.size - self.position
        count = min(len(buffer), remaining)
        for index in range(count):
            offset = self.position + index
            buffer[index] = self.head[offset] if offset < len(self.head) else ord("a")
        self.position += count
        return count


def test_a_200_mb_upload_is_refused_before_its_body_is_read(org, editor, login):
    boundary = "engagexboundary"
    size = 200 * 1024 * 1024
    body = _GeneratedBody(boundary, size)
    client = login(editor, org)

    response = client.generic(
        "POST",
        UPLOAD,
        b"x",
        content_type=f"multipart/form-data; boundary={boundary}",
        CONTENT_LENGTH=str(size),
        **{"wsgi.input": body},
    )

    assert response.status_code == 413
    assert "The file is larger than 100.0\xa0MB" in response.text
    assert body.position == 0
    assert not ContactImport.objects.filter(organization=org).exists()


def test_a_file_over_a_configured_limit_is_stopped_while_streaming(org, editor, login, settings):
    # The body is small enough to pass the Content-Length check; the upload handler
    # stops the file part itself once it passes the limit.
    settings.CONTACT_IMPORT_MAX_BYTES = 1000
    text = "email\n" + "".join(f"person{i}@example.org\n" for i in range(200))

    response = login(editor, org).post(UPLOAD, {"file": csv_upload(text)})

    assert response.status_code == 413
    assert "The file is larger than 1000\xa0bytes: split it into smaller files." in response.text
    assert not ContactImport.objects.filter(organization=org).exists()


def test_xlsx_upload_is_previewed(org, editor, login):
    client = login(editor, org)

    client.post(UPLOAD, {"file": xlsx_upload([["Email", "Name"], ["ada@example.org", "Ada"]])})

    contact_import = ContactImport.objects.get(organization=org)
    page = client.get(detail_url(contact_import)).text
    assert "Excel workbook (first sheet)" in page
    assert "ada@example.org" in page


# -- start ---------------------------------------------------------------------------------


def test_start_without_an_email_column_explains_and_changes_nothing(org, editor, uploaded, login):
    response = login(editor, org).post(start_url(uploaded), start_data(column_0=""))

    assert response.status_code == 400
    assert "Choose which column holds the email address." in response.text
    uploaded.refresh_from_db()
    assert (uploaded.status, uploaded.job_id) == ("uploaded", None)


def test_start_with_an_unknown_field_type_explains(org, editor, uploaded, login):
    response = login(editor, org).post(start_url(uploaded), start_data(type_3="colour"))

    assert response.status_code == 400
    assert "Unknown custom field type “colour”." in response.text
    uploaded.refresh_from_db()
    assert uploaded.status == "uploaded"


def test_start_with_another_organizations_list_is_refused(org, other_org, editor, uploaded, login):
    theirs = ContactListFactory(organization=other_org)

    response = login(editor, org).post(start_url(uploaded), start_data(contact_list=theirs.pk))

    assert response.status_code == 400
    uploaded.refresh_from_db()
    assert uploaded.status == "uploaded"


def test_start_queues_the_job_and_the_page_polls_until_the_result(org, editor, uploaded, login):
    contact_list = ContactListFactory(organization=org)
    client = login(editor, org)

    response = client.post(
        start_url(uploaded), start_data(contact_list=contact_list.pk, tags="fair")
    )

    assert response.status_code == 302
    uploaded.refresh_from_db()
    assert uploaded.status == ContactImport.Status.QUEUED
    assert uploaded.job.kind == "contacts.import"
    page = client.get(detail_url(uploaded))
    assert 'hx-trigger="every 1s"' in page.text
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page.text
    fragment = client.get(
        detail_url(uploaded), headers={"HX-Request": "true", "HX-Target": "import-status"}
    )
    assert '<div id="import-status"' in fragment.text
    assert 'id="import-badge" hx-swap-oob="true"' in fragment.text

    contact_import_run(contact_import=uploaded)

    fragment = client.get(
        detail_url(uploaded), headers={"HX-Request": "true", "HX-Target": "import-status"}
    ).text
    assert "every 1s" not in fragment
    assert "Import finished" in fragment
    assert 'data-status="succeeded"' in fragment  # the header badge follows
    assert "Download rejected rows (CSV)" in fragment
    assert Contact.objects.get(organization=org).fields == {"city": "London"}
    # Starting again is refused politely.
    again = client.post(start_url(uploaded), start_data(), follow=True)
    assert "This import has already been started." in again.text


def test_rejected_rows_download_has_a_reason_per_row(org, editor, uploaded, login):
    client = login(editor, org)
    client.post(start_url(uploaded), start_data())
    uploaded.refresh_from_db()
    contact_import_run(contact_import=uploaded)

    response = client.get(reverse("contacts:import-rejected", args=[uploaded.pk]))

    assert response.status_code == 200
    assert response["Content-Disposition"] == ('attachment; filename="contacts-rejected-rows.csv"')
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert lines[0] == "row;reason;E-Mail;Vorname;Nachname;Stadt"
    assert lines[1].startswith("3;Email: ")
    assert lines[1].endswith(";kaputt;Bob;Broken;Paris")


def test_past_imports_are_listed_with_their_counts(org, editor, uploaded, login):
    client = login(editor, org)
    client.post(start_url(uploaded), start_data())
    uploaded.refresh_from_db()
    contact_import_run(contact_import=uploaded)
    admin = MembershipFactory(organization=org, role="admin").user

    page = login(admin, org).get(IMPORTS).text

    assert "contacts.csv" in page
    assert "Done" in page
    assert reverse("contacts:import-rejected", args=[uploaded.pk]) in page


def test_a_large_upload_spooled_to_disk_is_inspected_too(org, editor, login, settings):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024  # anything bigger goes to a temporary file
    text = "email;name\n" + "".join(f"person{i}@example.org;Zoë {i}\n" for i in range(2000))

    response = login(editor, org).post(UPLOAD, {"file": csv_upload(text, encoding="cp1252")})

    assert response.status_code == 302
    contact_import = ContactImport.objects.get(organization=org)
    assert (contact_import.encoding, contact_import.delimiter) == ("cp1252", ";")
