"""REST API: /api/v1/imports (multipart upload that starts a background import)."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from engagex.contacts.models import Contact, ContactImport


def _upload(key, content: bytes, name="contacts.csv", **data):
    return Client().post(
        "/api/v1/imports",
        data={"file": SimpleUploadedFile(name, content), **data},
        headers={"Authorization": f"Bearer {key}"},
    )


def test_upload_guesses_the_mapping_and_imports_in_the_background(make_key, org, run_jobs, api):
    _, key = make_key("write")
    csv = "\ufeffE-Mail;Vorname\nada@example.com;Ada\nbroken@;X\n".encode()
    response = _upload(key, csv)
    assert response.status_code == 202, response.json()
    import_id = response.json()["id"]
    assert response.json()["status"] == "queued"
    run_jobs()
    body = api.get(f"/api/v1/imports/{import_id}", key).json()
    assert (body["status"], body["created_count"], body["rejected_count"]) == ("done", 1, 1)
    assert Contact.objects.get(organization=org).first_name == "Ada"


def test_file_without_an_email_column_is_400_and_stores_nothing(make_key, org):
    _, key = make_key("write")
    response = _upload(key, b"name,city\nAda,London\n")
    assert response.status_code == 400
    assert "email" in str(response.json()).lower()
    assert not ContactImport.objects.filter(organization=org).exists()


def test_wrong_file_type_is_400(make_key, org):
    _, key = make_key("write")
    response = _upload(key, b"%PDF-1.7 binary", name="contacts.pdf")
    assert response.status_code == 400
    assert not ContactImport.objects.filter(organization=org).exists()


def test_read_key_cannot_import_and_other_orgs_imports_are_404(make_key, org, api, other_org):
    _, read_key = make_key("read")
    assert _upload(read_key, b"email\na@example.com\n").status_code == 403
    _, their_key = make_key("write", organization=other_org)
    _, key = make_key("write")
    theirs = _upload(their_key, b"email\na@example.com\n").json()["id"]
    assert api.get(f"/api/v1/imports/{theirs}", key).status_code == 404
