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


def test_partitions_keep_every_address_in_one_partition():
    info = FileInfo(format="csv", encoding="utf-8", delimiter=",")
    addresses = [f"p{i % 40}@example.org" for i in range(100)]  # every address 2-3 times
    text = "email\n" + "".join(f"{address}\n" for address in addresses)
    with open_rows(io.BytesIO(text.encode()), info) as source:
        reader = ChunkReader(
            source,
            lambda cells: (cells[0], None, None, None, None),
            ReadTotals(),
            chunk_rows=30,
            partitions=2,
        )
        with reader as chunks:
            seen = [set(), set()]
            total = 0
            for chunk in chunks:
                assert len(chunk.payloads) == 2
                for part, payload in enumerate(chunk.payloads):
                    lines = payload.decode().splitlines()
                    total += len(lines)
                    seen[part].update(line.split("\t")[2] for line in lines)

    assert total == 100
    assert seen[0] | seen[1] == set(addresses)
    assert not seen[0] & seen[1]
    assert seen[0] and seen[1]  # both connections get work


@pytest.mark.django_db(transaction=True)
def test_parallel_merge_gives_the_same_result_as_one_connection(org, editor):
    """Two connections (see `importer.parallel`), tiny chunks so they take turns often."""
    from engagex.contacts.models import ContactList, ListMembership, Tag

    newsletter = ContactList.objects.create(organization=org, name="Newsletter")
    ContactFactory(organization=org, email="kept@example.org", first_name="Kept")
    ContactFactory(organization=org, email="renamed@example.org", first_name="Old")
    lines = [f"new{i}@example.org,New {i},vip" for i in range(12)]
    lines += ["renamed@example.org,Renamed,customer", "kept@example.org,,"]
    lines += ["new3@example.org,Duplicate,", "NEW5@example.org,Duplicate,"]
    text = "email,first_name,tags\n" + "\n".join(lines) + "\n"

    contact_import = contact_import_upload(
        organization=org, actor=editor, uploaded_file=csv_upload(text)
    )
    contact_import = contact_import_start(
        organization=org,
        actor=editor,
        contact_import=contact_import,
        mapping=["email", "first_name", "tags"],
        contact_list=newsletter,
    )
    done = contact_import_run(contact_import=contact_import, chunk_rows=3, parallel=True)

    assert done.status == ContactImport.Status.DONE, done.error
    assert (done.created_count, done.updated_count, done.skipped_count) == (12, 1, 3)
    contacts = Contact.objects.filter(organization=org)
    assert contacts.count() == 14
    assert contacts.get(email="new3@example.org").first_name == "New 3"
    assert contacts.get(email="renamed@example.org").first_name == "Renamed"
    assert contacts.get(email="kept@example.org").first_name == "Kept"
    assert ListMembership.objects.filter(contact_list=newsletter).count() == 14
    assert set(Tag.objects.filter(organization=org).values_list("name", flat=True)) == {
        "vip",
        "customer",
    }


@pytest.mark.django_db(transaction=True)
def test_parallel_import_refused_late_keeps_nothing_from_either_connection(org, editor):
    org.plan = Plan.objects.get(code="free")
    org.save()
    ContactFactory.create_batch(490, organization=org)
    text = "email\n" + "".join(f"new{i}@example.org\n" for i in range(20))

    contact_import = contact_import_upload(
        organization=org, actor=editor, uploaded_file=csv_upload(text)
    )
    contact_import = contact_import_start(
        organization=org, actor=editor, contact_import=contact_import, mapping=["email"]
    )
    done = contact_import_run(contact_import=contact_import, chunk_rows=4, parallel=True)

    assert done.status == ContactImport.Status.FAILED
    assert done.error.startswith("Nothing was imported")
    assert Contact.objects.filter(organization=org).count() == 490
