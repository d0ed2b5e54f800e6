"""The import services end to end: upload → start → run, against the real database."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from engagex.accounts.models import Plan
from engagex.audit.models import AuditEntry
from engagex.contacts.models import (
    Contact,
    ContactImport,
    CustomField,
    ListMembership,
    Tag,
)
from engagex.contacts.services.imports import (
    contact_import_run,
    contact_import_start,
    contact_import_upload,
)
from engagex.contacts.tests.factories import (
    ContactFactory,
    ContactListFactory,
    CustomFieldFactory,
    ListMembershipFactory,
    SuppressionFactory,
)
from engagex.contacts.tests.import_helpers import (
    csv_upload,
    rejected_rows,
    run_import,
    xlsx_upload,
)
from engagex.jobs.models import Job

REALISTIC = (
    "\ufeffE-Mail;Vorname;Nachname;Tags\n"
    "ada@example.org;Ada;Lovelace;vip, founders\n"
    "not-an-address;Bob;Broken;\n"
    "  GRACE@Example.ORG ;Grace;Hopper;\n"
    "ada@example.org;Ada again;Duplicate;\n"
    "short;row\n"
    "linus@bücher.example;Linus;Unicode;\n"
)


def emails(org):
    return sorted(Contact.objects.filter(organization=org).values_list("email", flat=True))


def test_realistic_semicolon_file_with_bom_imports_valid_rows_and_reports_the_rest(org, editor):
    done = run_import(
        org,
        editor,
        csv_upload(REALISTIC, name="Messe 2026.csv"),
        ["email", "first_name", "last_name", "tags"],
    )

    assert done.status == ContactImport.Status.DONE
    assert (done.encoding, done.delimiter) == ("utf-8-sig", ";")
    assert (done.total_rows, done.created_count, done.updated_count) == (6, 3, 0)
    assert (done.skipped_count, done.rejected_count) == (1, 2)
    assert emails(org) == ["ada@example.org", "grace@example.org", "linus@bücher.example"]
    ada = Contact.objects.get(organization=org, email="ada@example.org")
    assert (ada.first_name, ada.last_name, ada.tags) == ("Ada", "Lovelace", ["vip", "founders"])
    assert ada.status == Contact.Status.SUBSCRIBED
    assert ada.consent_source == "Import: Messe 2026.csv"
    assert ada.consent_at is not None
    assert sorted(Tag.objects.filter(organization=org).values_list("name", flat=True)) == [
        "founders",
        "vip",
    ]
    report = rejected_rows(done)
    assert report[0] == ["row", "reason", "E-Mail", "Vorname", "Nachname", "Tags"]
    assert [row[0] for row in report[1:]] == ["3", "6"]
    assert report[1][1].startswith("Email:")
    assert report[2][1] == "Expected 4 columns, found 2."
    job = Job.objects.get(pk=done.job_id)
    assert job.status == Job.Status.SUCCEEDED
    assert job.message == "3 created, 0 updated, 1 skipped, 2 rejected"
    entry = AuditEntry.objects.get(organization=org, action="contacts.imported")
    assert entry.metadata["created"] == 3
    assert "ada@example.org" not in str(entry.metadata)


def test_existing_contacts_are_updated_without_erasing_or_resubscribing(org, editor):
    city = CustomFieldFactory(organization=org, key="city", label="City")
    ContactFactory(
        organization=org,
        email="ada@example.org",
        first_name="Augusta",
        last_name="King",
        fields={"city": "London", "keep": "me"},
        tags=["old"],
        status=Contact.Status.UNSUBSCRIBED,
    )
    ContactFactory(organization=org, email="same@example.org", first_name="Same", last_name="")
    text = "email,first name,last name,city,tags\nada@example.org,Ada,,Paris,new\n"
    text += "same@example.org,Same,,,\nnew@example.org,New,Person,Rome,\n"

    done = run_import(
        org,
        editor,
        csv_upload(text),
        ["email", "first_name", "last_name", f"field:{city.key}", "tags"],
    )

    assert (done.created_count, done.updated_count, done.skipped_count) == (1, 1, 1)
    ada = Contact.objects.get(organization=org, email="ada@example.org")
    assert (ada.first_name, ada.last_name) == ("Ada", "King")  # empty cell erased nothing
    assert ada.fields == {"city": "Paris", "keep": "me"}
    assert ada.tags == ["old", "new"]
    assert ada.status == Contact.Status.UNSUBSCRIBED
    assert ada.consent_source == ""  # the consent record of an existing contact stays


def test_skip_leaves_existing_contacts_exactly_as_they_are(org, editor):
    contact_list = ContactListFactory(organization=org)
    ContactFactory(organization=org, email="ada@example.org", first_name="Augusta", tags=[])
    text = "email,first_name\nada@example.org,Ada\nnew@example.org,New\n"

    done = run_import(
        org,
        editor,
        csv_upload(text),
        ["email", "first_name"],
        existing="skip",
        contact_list=contact_list,
        tags="fair",
    )

    assert (done.created_count, done.updated_count, done.skipped_count) == (1, 0, 1)
    ada = Contact.objects.get(organization=org, email="ada@example.org")
    assert (ada.first_name, ada.tags) == ("Augusta", [])
    members = ListMembership.objects.filter(contact_list=contact_list)
    assert [m.contact.email for m in members] == ["new@example.org"]
    assert Contact.objects.get(organization=org, email="new@example.org").tags == ["fair"]


def test_list_option_adds_every_imported_contact_once(org, editor):
    contact_list = ContactListFactory(organization=org)
    existing = ContactFactory(organization=org, email="ada@example.org")
    ListMembershipFactory(
        contact_list=contact_list, contact=existing, status=ListMembership.Status.UNSUBSCRIBED
    )
    text = "email\nada@example.org\nbob@example.org\n"

    run_import(org, editor, csv_upload(text), ["email"], contact_list=contact_list)

    statuses = dict(
        ListMembership.objects.filter(contact_list=contact_list).values_list(
            "contact__email", "status"
        )
    )
    # Someone who left the list is not put back on it.
    assert statuses == {"ada@example.org": "unsubscribed", "bob@example.org": "subscribed"}


def test_suppressed_addresses_are_imported_but_never_subscribed(org, editor):
    contact_list = ContactListFactory(organization=org)
    SuppressionFactory(organization=org, email="bounced@example.org", reason="hard_bounce")
    SuppressionFactory(organization=org, email="manual@example.org", reason="manual")
    existing = ContactFactory(organization=org, email="known@example.org")
    SuppressionFactory(organization=org, email="known@example.org", reason="complaint")
    text = "email\nbounced@example.org\nMANUAL@example.org\nknown@example.org\nfine@example.org\n"

    done = run_import(org, editor, csv_upload(text), ["email"], contact_list=contact_list)

    assert done.created_count == 3
    statuses = dict(Contact.objects.filter(organization=org).values_list("email", "status"))
    assert statuses == {
        "bounced@example.org": "bounced",
        "manual@example.org": "unsubscribed",
        "known@example.org": existing.status,  # an existing contact keeps its status
        "fine@example.org": "subscribed",
    }
    memberships = dict(
        ListMembership.objects.filter(contact_list=contact_list).values_list(
            "contact__email", "status"
        )
    )
    assert memberships == {
        "bounced@example.org": "unsubscribed",
        "manual@example.org": "unsubscribed",
        "known@example.org": "unsubscribed",
        "fine@example.org": "subscribed",
    }


def test_double_opt_in_list_makes_new_contacts_unconfirmed(
    org, editor, django_capture_on_commit_callbacks
):
    contact_list = ContactListFactory(organization=org, opt_in="double")
    subscribed = ContactFactory(organization=org, email="known@example.org")
    text = "email\nnew@example.org\nknown@example.org\n"

    with django_capture_on_commit_callbacks() as callbacks:
        run_import(org, editor, csv_upload(text), ["email"], contact_list=contact_list)

    new = Contact.objects.get(organization=org, email="new@example.org")
    assert new.status == Contact.Status.UNCONFIRMED
    subscribed.refresh_from_db()
    assert subscribed.status == Contact.Status.SUBSCRIBED
    assert set(
        ListMembership.objects.filter(contact_list=contact_list).values_list("status", flat=True)
    ) == {"unconfirmed"}
    assert callbacks, "confirmation emails are queued when the import commits"


def test_plan_limit_refuses_the_whole_import_with_a_clear_message(org, editor):
    org.plan = Plan.objects.get(code="free")
    org.save()
    ContactFactory.create_batch(498, organization=org)
    before = Contact.objects.filter(organization=org).count()
    text = "email,Favourite colour\n" + "".join(f"new{i}@example.org,blue\n" for i in range(5))

    done = run_import(org, editor, csv_upload(text), ["email", "new:text:Favourite colour"])

    assert done.status == ContactImport.Status.FAILED
    assert done.error.startswith("Nothing was imported: the file has 5 new contacts.")
    assert "only 2 more can be added" in done.error
    assert Contact.objects.filter(organization=org).count() == before
    assert not CustomField.objects.filter(organization=org).exists()
    job = Job.objects.get(pk=done.job_id)
    assert (job.status, job.error) == (Job.Status.FAILED, done.error)


def test_addresses_already_present_do_not_count_against_the_plan(org, editor):
    org.plan = Plan.objects.get(code="free")
    org.save()
    existing = ContactFactory.create_batch(500, organization=org)
    text = "email\n" + "".join(f"{contact.email}\n" for contact in existing[:10])

    done = run_import(org, editor, csv_upload(text), ["email"])

    assert done.status == ContactImport.Status.DONE


def test_custom_fields_are_parsed_by_type_and_bad_values_rejected(org, editor):
    CustomFieldFactory(organization=org, key="age", label="Age", type="number")
    text = "email,Age,Member since,Newsletter\n"
    text += 'a@example.org,"1,5",31.12.2020,yes\n'
    text += "b@example.org,old,2020-01-01,no\n"
    text += "c@example.org,40,someday,no\n"

    done = run_import(
        org,
        editor,
        csv_upload(text),
        ["email", "field:age", "new:date:Member since", "new:boolean:Newsletter"],
    )

    assert (done.created_count, done.rejected_count) == (1, 2)
    a = Contact.objects.get(organization=org, email="a@example.org")
    assert a.fields == {"age": 1.5, "member_since": "2020-12-31", "newsletter": True}
    assert dict(CustomField.objects.filter(organization=org).values_list("key", "type")) == {
        "age": "number",
        "member_since": "date",
        "newsletter": "boolean",
    }
    reasons = [row[1] for row in rejected_rows(done)[1:]]
    assert reasons == [
        "Column “Age”: “old” is not a number.",
        "Column “Member since”: “someday” is not a date (use YYYY-MM-DD).",
    ]


def test_formula_like_values_are_neutralized_in_the_rejected_rows_report(org, editor):
    text = "email,first_name\n=cmd|' /C calc'!A0,@evil\n"

    done = run_import(org, editor, csv_upload(text), ["email", "first_name"])

    assert rejected_rows(done)[1][2:] == ["'=cmd|' /C calc'!A0", "'@evil"]


def test_soft_deleted_contact_is_restored_and_counts_as_created(org, editor):
    deleted = ContactFactory(
        organization=org, email="back@example.org", deleted_at=dt.datetime.now(dt.UTC)
    )

    done = run_import(org, editor, csv_upload("email\nback@example.org\n"), ["email"])

    deleted.refresh_from_db()
    assert deleted.deleted_at is None
    assert (done.created_count, done.updated_count) == (1, 0)


def test_other_organizations_contacts_are_never_touched(org, other_org, editor):
    theirs = ContactFactory(organization=other_org, email="ada@example.org", first_name="Theirs")

    run_import(
        org, editor, csv_upload("email,first_name\nada@example.org,Ours\n"), ["email", "first_name"]
    )

    theirs.refresh_from_db()
    assert theirs.first_name == "Theirs"
    assert Contact.objects.get(organization=org).first_name == "Ours"


def test_xlsx_first_sheet_is_imported_with_typed_cells(org, editor):
    CustomFieldFactory(organization=org, key="joined", label="Joined", type="date")
    CustomFieldFactory(organization=org, key="score", label="Score", type="number")
    rows = [
        ["Email", "First name", "Joined", "Score"],
        ["ada@example.org", "Ada", dt.datetime(2024, 5, 17), 12.0],
        [None, None, None, None],
        ["bob@example.org", None, None, 2.5],
    ]

    done = run_import(
        org, editor, xlsx_upload(rows), ["email", "first_name", "field:joined", "field:score"]
    )

    assert (done.file_format, done.created_count, done.rejected_count) == ("xlsx", 2, 0)
    ada = Contact.objects.get(organization=org, email="ada@example.org")
    assert ada.fields == {"joined": "2024-05-17", "score": 12}
    assert Contact.objects.get(organization=org, email="bob@example.org").fields == {"score": 2.5}


@pytest.mark.parametrize("encoding", ["utf-16", "cp1252", "latin-1"])
def test_legacy_encodings_keep_accents(org, editor, encoding):
    text = "email;first_name;last_name\njose@example.org;José;Müller\n"

    done = run_import(
        org, editor, csv_upload(text, encoding=encoding), ["email", "first_name", "last_name"]
    )

    contact = Contact.objects.get(organization=org)
    assert (contact.first_name, contact.last_name) == ("José", "Müller")
    assert done.encoding in {"utf-16", "cp1252"}


def test_failure_midway_leaves_nothing_behind(org, editor):
    contact_list = ContactListFactory(organization=org)
    with connection.cursor() as cursor:
        # The database refuses the list memberships: the last step of the merge.
        cursor.execute(
            "CREATE FUNCTION pg_temp.refuse() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'disk full'; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON contacts_listmembership "
            "FOR EACH ROW EXECUTE FUNCTION pg_temp.refuse()"
        )
    upload = csv_upload("email,Team\nada@example.org,Red\nbob@example.org,Blue\n")
    contact_import = contact_import_upload(organization=org, actor=editor, uploaded_file=upload)
    contact_import = contact_import_start(
        organization=org,
        actor=editor,
        contact_import=contact_import,
        mapping=["email", "new:text:Team"],
        contact_list=contact_list,
        tags="fair",
    )

    with pytest.raises(Exception, match="disk full"):
        contact_import_run(contact_import=contact_import)

    assert not Contact.objects.filter(organization=org).exists()
    assert not CustomField.objects.filter(organization=org).exists()
    assert not Tag.objects.filter(organization=org).exists()
    contact_import.refresh_from_db()
    assert contact_import.status == ContactImport.Status.FAILED
    assert contact_import.error.startswith("Something went wrong")


# -- start: whole-file problems -----------------------------------------------------------


@pytest.fixture
def uploaded(org, editor):
    text = "email,first_name,last_name\nada@example.org,Ada,Lovelace\n"
    return contact_import_upload(organization=org, actor=editor, uploaded_file=csv_upload(text))


@pytest.mark.parametrize(
    ("mapping", "options", "message"),
    [
        (["", "first_name", "last_name"], {}, "Choose which column holds the email address."),
        (
            ["email", "first_name", "first_name"],
            {},
            "Columns “first_name” and “last_name” both go to “First name”",
        ),
        (["email", "new:colour:Shade", ""], {}, "unknown custom field type “colour”"),
        (["email", "field:nope", ""], {}, "there is no custom field “nope”"),
        (["email", "new:text:Email", ""], {}, "built-in contact property"),
        (["email", "", ""], {"tags": "x" * 65}, "Tags: A tag can be at most 64 characters."),
        (["email", "", ""], {"existing": "merge"}, "update or skip existing contacts"),
        (["email", ""], {}, "The mapping does not match the file's columns."),
    ],
)
def test_start_refuses_bad_mappings_and_options_and_changes_nothing(
    org, editor, uploaded, mapping, options, message
):
    with pytest.raises(ValidationError) as caught:
        contact_import_start(
            organization=org, actor=editor, contact_import=uploaded, mapping=mapping, **options
        )

    assert any(message in text for text in caught.value.messages), caught.value.messages
    uploaded.refresh_from_db()
    assert (uploaded.status, uploaded.job_id, uploaded.mapping) == ("uploaded", None, {})
    assert not CustomField.objects.filter(organization=org).exists()


def test_an_import_starts_only_once(org, editor, uploaded):
    contact_import_start(
        organization=org, actor=editor, contact_import=uploaded, mapping=["email", "", ""]
    )

    with pytest.raises(ValidationError, match="already been started"):
        contact_import_start(
            organization=org, actor=editor, contact_import=uploaded, mapping=["email", "", ""]
        )
    assert Job.objects.filter(organization=org).count() == 1
