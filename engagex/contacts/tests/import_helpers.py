"""Helpers shared by the import tests: build upload files and run imports end to end."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile

from engagex.contacts.services.imports import (
    contact_import_run,
    contact_import_start,
    contact_import_upload,
)


def csv_upload(text: str, *, name: str = "contacts.csv", encoding: str = "utf-8"):
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


def xlsx_bytes(rows: list[list]) -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_upload(rows: list[list], *, name: str = "contacts.xlsx"):
    return SimpleUploadedFile(name, xlsx_bytes(rows))


def run_import(org, actor, upload, mapping: list[str], **options):
    """Upload, start and run an import in this process; returns the finished import."""
    contact_import = contact_import_upload(organization=org, actor=actor, uploaded_file=upload)
    contact_import = contact_import_start(
        organization=org, actor=actor, contact_import=contact_import, mapping=mapping, **options
    )
    return contact_import_run(contact_import=contact_import)


def rejected_rows(contact_import) -> list[list[str]]:
    import csv

    with contact_import.rejected_file.open("rb") as stream:
        text = stream.read().decode("utf-8-sig")
    delimiter = contact_import.delimiter or ","
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))
