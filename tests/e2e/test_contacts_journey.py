"""The contacts journey in a real browser: import a semicolon CSV with a BOM and bad rows,
watch it finish, download the rejected rows, build a segment with a live count, export it,
then delete and restore a contact."""

import csv
import io
import threading

from playwright.sync_api import expect

from engagex.contacts.models import Contact
from tests.e2e.test_team import sign_in

CSV = (
    "\ufeffE-Mail;Vorname;Nachname\n"
    "ada@example.org;Ada;Lovelace\n"
    "grace@example.org;Grace;Hopper\n"
    "linus@kernel.example;Linus;Torvalds\n"
    "not-an-email;Bad;Row\n"
    "broken@;Worse;Row\n"
).encode()


def _run_jobs_outside_playwright(run_jobs) -> None:
    # The worker runs its own asyncio loop; Playwright's sync API owns this thread's.
    worker = threading.Thread(target=run_jobs)
    worker.start()
    worker.join()


def _download_text(page, trigger) -> str:
    with page.expect_download() as download_info:
        trigger.click()
    path = download_info.value.path()
    with open(path, encoding="utf-8-sig") as handle:
        return handle.read()


def test_import_segment_export_delete_restore(open_page, owner, org, run_jobs):
    page = sign_in(open_page, owner)

    # Import: upload → mapping (guessed from the German header) → background job.
    page.goto("/contacts/imports/")
    page.locator("input[name=file]").set_input_files(
        {"name": "kunden.csv", "mimeType": "text/csv", "buffer": CSV}
    )
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.locator("body")).to_contain_text("ada@example.org")
    page.get_by_role("button", name="Start import").click()
    expect(page.locator("#import-status")).to_be_visible()
    _run_jobs_outside_playwright(run_jobs)
    status = page.locator("#import-status")
    expect(status).to_contain_text("Import finished", timeout=15_000)
    expect(status.locator("progress").first).to_have_attribute("value", "100")
    expect(status).to_contain_text("Created")
    assert Contact.objects.filter(organization=org).count() == 3

    rejected = _download_text(page, status.get_by_role("link", name="Download rejected rows (CSV)"))
    rows = list(csv.reader(io.StringIO(rejected)))
    assert len(rows) == 3  # header + the two bad rows, each with a reason
    assert any("not-an-email" in cell for row in rows for cell in row)

    # Segment: the live count follows the rule as it is typed.
    page.goto("/contacts/segments/new/")
    page.get_by_label("Name", exact=True).fill("Example.org people")
    page.locator("[name='rules-0-field']").select_option("domain")
    page.locator("[name='rules-0-value']").fill("example.org")
    expect(page.locator("[data-live-count]")).to_have_text("2", timeout=10_000)
    page.get_by_role("button", name="Create segment").click()
    expect(page.locator("#toasts")).to_contain_text("Example.org people")

    # Export the segment: a background job, then a CSV with exactly its contacts.
    page.goto("/contacts/exports/")
    page.get_by_label("The contacts in a segment").check()
    page.locator("#export-segment").select_option(label="Example.org people")
    page.get_by_role("button", name="Export to CSV").click()
    _run_jobs_outside_playwright(run_jobs)
    download = page.get_by_role("link", name="Download result")
    expect(download).to_be_visible(timeout=15_000)
    exported = list(csv.DictReader(io.StringIO(_download_text(page, download))))
    assert sorted(row["email"] for row in exported) == ["ada@example.org", "grace@example.org"]

    # Delete (after confirming) and restore.
    ada = Contact.objects.get(organization=org, email="ada@example.org")
    page.goto(f"/contacts/{ada.pk}/")
    page.get_by_role("button", name="Delete").click()
    page.locator("#confirm-modal").get_by_role("button", name="Delete contact").click()
    expect(page.locator("#toasts")).to_be_visible()
    ada.refresh_from_db()
    assert ada.deleted_at is not None
    page.goto("/contacts/deleted/")
    page.locator("tr", has_text="ada@example.org").get_by_role("button", name="Restore").click()
    expect(page.locator("#toasts")).to_contain_text("estored")
    ada.refresh_from_db()
    assert ada.deleted_at is None
