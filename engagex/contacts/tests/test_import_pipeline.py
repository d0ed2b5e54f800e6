"""The chunked pipeline: the same result whatever the chunk size, errors surfacing, progress."""

import io

import pytest

from engagex.accounts.models import Plan
from engagex.contacts.importer.files import FileInfo
from engagex.contacts.importer.pipeline import ChunkReader, ReadTotals
from engagex.contacts.importer.readers import open_rows
from engagex.contacts.models import Contact, ContactImport
from engagex.contacts.services.imports import (
    contact_import_run,
    contact_import_start,
    contact_import_upload,
)
from engagex.contacts.tests.factories import ContactFactory
from engagex.contacts.tests.import_helpers import csv_upload


def run_in_chunks(org, actor, text, mapping, *, chunk_rows=2, progress=None, **options):
    contact_import = contact_import_upload(
        organization=org, actor=actor, uploaded_file=csv_upload(text)
    )
    contact_import = contact_import_start(
        organization=org, actor=actor, contact_import=contact_import, mapping=mapping, **options
    )
    return contact_import_run(
        contact_import=contact_import, chunk_rows=chunk_rows, progress=progress
    )


def test_first_occurrence_wins_across_chunks(org, editor):
    text = "email,first_name\na@example.org,First\nb@example.org,B\nc@example.org,C\n"
    text += "A@example.org,Second\nd@example.org,D\n"

    done = run_in_chunks(org, editor, text, ["email", "first_name"])

    assert (done.created_count, done.skipped_count) == (4, 1)
    assert Contact.objects.get(organization=org, email="a@example.org").first_name == "First"


def test_an_unchanged_first_occurrence_still_wins_over_a_later_one(org, editor):
    ContactFactory(organization=org, email="x@example.org", first_name="Xavier")
    text = "email,first_name\nx@example.org,Xavier\nb@example.org,B\nc@example.org,C\n"
    text += "x@example.org,Changed\n"

    done = run_in_chunks(org, editor, text, ["email", "first_name"])

    assert (done.created_count, done.updated_count, done.skipped_count) == (2, 0, 2)
    assert Contact.objects.get(organization=org, email="x@example.org").first_name == "Xavier"


def test_a_restored_contact_is_not_counted_twice(org, editor):
    from django.utils import timezone

    ContactFactory(organization=org, email="back@example.org", deleted_at=timezone.now())
    text = "email\nback@example.org\nb@example.org\nc@example.org\nback@example.org\n"

    done = run_in_chunks(org, editor, text, ["email"])

    assert (done.created_count, done.updated_count, done.skipped_count) == (3, 0, 1)


def test_plan_limit_reached_in_a_later_chunk_still_imports_nothing(org, editor):
    org.plan = Plan.objects.get(code="free")
    org.save()
    ContactFactory.create_batch(497, organization=org)
    text = "email\n" + "".join(f"new{i}@example.org\n" for i in range(6))

    done = run_in_chunks(org, editor, text, ["email"])

    assert done.status == ContactImport.Status.FAILED
    assert done.error.startswith("Nothing was imported: the file has at least 4 new contacts.")
    assert Contact.objects.filter(organization=org).count() == 497


def test_progress_only_moves_forward_and_ends_near_the_top(org, editor):
    reports = []
    text = "email\n" + "".join(f"p{i}@example.org\n" for i in range(9))

    run_in_chunks(
        org, editor, text, ["email"], progress=lambda percent, message: reports.append(percent)
    )

    assert reports == sorted(reports)
    assert reports[0] == 0 and reports[-1] >= 95


def test_an_error_on_the_reader_thread_surfaces_where_chunks_are_used():
    def explode(cells):
        raise RuntimeError("disk went away")

    info = FileInfo(format="csv", encoding="utf-8", delimiter=",")
    stream = io.BytesIO(b"email\na@example.org\n")
    with (
        open_rows(stream, info) as source,
        ChunkReader(source, explode, ReadTotals()) as chunks,
        pytest.raises(RuntimeError, match="disk went away"),
    ):
        list(chunks)


def test_leaving_early_stops_the_reader_thread():
    info = FileInfo(format="csv", encoding="utf-8", delimiter=",")
    text = "email\n" + "".join(f"p{i}@example.org\n" for i in range(50))
    with open_rows(io.BytesIO(text.encode()), info) as source:
        reader = ChunkReader(
            source, lambda cells: (cells[0], None, None, None, None), ReadTotals(), chunk_rows=1
        )
        with reader as chunks:
            first = next(iter(chunks))
        assert first.rows == 1
        assert not reader._thread.is_alive()
