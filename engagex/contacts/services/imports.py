"""Contact imports: upload → start (mapping and options) → run in the background.

Decisions (PRODUCT.md §B, issue 4 item 4):
- In-file duplicates: the first occurrence of an address wins; later ones are counted
  as skipped.
- Existing contacts, "update": names, custom fields and tags from the file are merged in
  (empty cells never erase anything; tags are added); rows that would change nothing are
  left alone and counted as skipped. "Skip": existing contacts are left exactly as they
  are — not added to the list or tagged either.
- Statuses: an import never changes the status of an existing contact. New contacts are
  subscribed, or unconfirmed when the chosen list is double opt-in (confirmation emails
  are queued). A new address on the suppression list is created, but as bounced /
  complained / unsubscribed (after the suppression's reason), never subscribed.
- A soft-deleted contact whose address is imported again is restored (it counts as
  created and against the plan limit).
- Plan limit: if the new addresses do not fit, nothing at all is imported.
- One transaction for the whole merge, including custom fields created on the fly.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator

import structlog
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from engagex import audit
from engagex.accounts.services.usage import contacts_check
from engagex.contacts.importer.files import PREVIEW_ROWS, FileInfo, inspect_upload
from engagex.contacts.importer.mapping import (
    TAGS,
    mapping_from_json,
    mapping_to_json,
    mapping_validate,
)
from engagex.contacts.importer.parallel import PartnerMerger, merge_both
from engagex.contacts.importer.pipeline import CHUNK_ROWS, ChunkReader, ReadTotals
from engagex.contacts.importer.readers import open_rows
from engagex.contacts.importer.rows import RowValidator
from engagex.contacts.importer.staging import MergeCounts, Merger, tags_register
from engagex.contacts.models import ContactImport, ContactList, CustomField, Suppression
from engagex.contacts.selectors.contacts import contacts_live
from engagex.contacts.values import InvalidValue, parse_tags
from engagex.jobs.services import GENERIC_FAILURE, job_create, job_fail, job_succeed
from engagex.lib.csv_safety import SafeCsvWriter

logger = structlog.get_logger(__name__)

JOB_KIND = "contacts.import"
CONSENT_SOURCE_MAX_LENGTH = 200
CONSENT_TEXT_MAX_LENGTH = ContactImport._meta.get_field("consent_text").max_length
NAME_MAX_LENGTH = ContactImport._meta.get_field("original_name").max_length
# From about 100,000 rows a second merging connection pays for itself.
PARALLEL_MIN_BYTES = 5 * 1024 * 1024

Progress = Callable[[int, str], None]


def _no_progress(percent: int, message: str = "") -> None:
    pass


# -- upload ------------------------------------------------------------------------------


@transaction.atomic
def contact_import_upload(*, organization, actor, uploaded_file) -> ContactImport:
    """Check an uploaded CSV/XLSX file and keep it for mapping; nothing else changes.

    Raises `ValidationError` (wrong type, empty, too large, undecodable, duplicate
    header names) and then stores nothing.
    """
    size = uploaded_file.size or 0
    info = inspect_upload(uploaded_file, size=size)
    original_name = os.path.basename(uploaded_file.name or "") or "contacts." + info.format
    contact_import = ContactImport(
        organization=organization,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        original_name=original_name[-NAME_MAX_LENGTH:],
        file_format=info.format,
        encoding=info.encoding,
        delimiter=info.delimiter,
    )
    uploaded_file.seek(0)
    contact_import.file.save(f"{contact_import.pk}.{info.format}", uploaded_file, save=False)
    contact_import.save()
    return contact_import


@contextlib.contextmanager
def _local_file(contact_import: ContactImport) -> Iterator[str]:
    """A local path to the stored upload (a temporary copy if storage is remote)."""
    try:
        path = contact_import.file.path
    except NotImplementedError:
        path = None
    if path:
        yield path
        return
    with tempfile.NamedTemporaryFile(suffix="." + contact_import.file_format) as copy:
        with contact_import.file.open("rb") as source:
            for chunk in source.chunks():
                copy.write(chunk)
        copy.flush()
        yield copy.name


def contact_import_file_info(*, contact_import: ContactImport) -> FileInfo:
    """Format, encoding, delimiter, header and the first rows of a stored upload."""
    info = FileInfo(
        format=contact_import.file_format,
        encoding=contact_import.encoding,
        delimiter=contact_import.delimiter,
    )
    with (
        _local_file(contact_import) as path,
        open(path, "rb") as stream,
        open_rows(stream, info) as source,
    ):
        info.header = source.header
        for _number, cells, _error in source.rows():
            if cells is not None:
                info.preview.append(cells)
            if len(info.preview) >= PREVIEW_ROWS:
                break
    return info


# -- start -------------------------------------------------------------------------------


def _fields(organization) -> list[CustomField]:
    return list(CustomField.objects.filter(organization=organization).order_by("label"))


@transaction.atomic
def contact_import_start(
    *,
    organization,
    actor,
    contact_import: ContactImport,
    mapping: list[str],
    contact_list: ContactList | None = None,
    tags: str | list[str] = "",
    existing: str = ContactImport.Existing.UPDATE,
    consent_text: str = "",
) -> ContactImport:
    """Record the mapping and options and queue the import as a background job.

    Every whole-file problem (no email column, a target used twice, unknown custom field
    or type, bad tags) raises `ValidationError` and changes nothing.
    """
    from engagex.contacts.tasks.imports import run_contact_import

    if contact_import.organization_id != organization.pk:
        raise ValueError("The import belongs to another organization.")
    if contact_list is not None and contact_list.organization_id != organization.pk:
        raise ValueError("The list belongs to another organization.")
    locked = ContactImport.objects.select_for_update().get(pk=contact_import.pk)
    if locked.status != ContactImport.Status.UPLOADED:
        raise ValidationError(_("This import has already been started."))
    errors: list[str] = []
    info = contact_import_file_info(contact_import=locked)
    try:
        mapping_validate(list(mapping), info.header, _fields(organization))
    except ValidationError as error:
        errors.extend(error.messages)
    try:
        tag_list = parse_tags(tags) if tags else []
    except InvalidValue as error:
        errors.append(_("Tags: %(reason)s") % {"reason": error})
        tag_list = []
    if existing not in ContactImport.Existing.values:
        errors.append(_("Choose whether to update or skip existing contacts."))
    consent_text = (consent_text or "").strip()
    if len(consent_text) > CONSENT_TEXT_MAX_LENGTH:
        errors.append(
            _("The consent text can be at most %(max)s characters.")
            % {"max": CONSENT_TEXT_MAX_LENGTH}
        )
    if errors:
        raise ValidationError(errors)
    job = job_create(
        organization=organization,
        kind=JOB_KIND,
        title=_("Import %(name)s") % {"name": locked.original_name},
        created_by=locked.created_by or _user(actor),
    )
    locked.mapping = mapping_to_json(list(mapping))
    locked.contact_list = contact_list
    locked.tags = tag_list
    locked.existing = existing
    locked.consent_text = consent_text
    locked.status = ContactImport.Status.QUEUED
    locked.job = job
    locked.save()
    # Same transaction as the status change: the job can never be lost or orphaned.
    run_contact_import.defer(import_id=str(locked.pk))
    return locked


def _user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


# -- run ---------------------------------------------------------------------------------


def contact_import_run(
    *,
    contact_import: ContactImport,
    progress: Progress | None = None,
    chunk_rows: int = CHUNK_ROWS,
    parallel: bool | None = None,
) -> ContactImport:
    """Run a queued import to the end (the background task's body; also the benchmark's).

    `chunk_rows`: rows merged per statement batch (tests use tiny chunks).
    `parallel`: merge on two connections (see `importer.parallel`); by default only files
    of at least `PARALLEL_MIN_BYTES`, where it pays for the second connection.

    Success and user-facing failures (plan limit, a field deleted meanwhile) are recorded
    on the import and its job; unexpected errors also mark both failed and re-raise.
    """
    report = progress or _no_progress
    ContactImport.objects.filter(pk=contact_import.pk).update(
        status=ContactImport.Status.RUNNING, error=""
    )
    report(0, _("Reading the file…"))
    try:
        with (
            _local_file(contact_import) as path,
            open(path, "rb") as stream,
            tempfile.TemporaryFile("w+", encoding="utf-8-sig", newline="") as rejects,
        ):
            if parallel is None:
                parallel = os.path.getsize(path) >= PARALLEL_MIN_BYTES
            with transaction.atomic():
                counts = _import(contact_import, stream, rejects, report, chunk_rows, parallel)
            message = _summary(counts)
    except ValidationError as error:
        _fail(contact_import, " ".join(error.messages))
        return contact_import
    except Exception:
        logger.exception("contact_import_failed", import_id=str(contact_import.pk))
        _fail(contact_import, GENERIC_FAILURE, notify_job=False)
        raise
    contact_import.refresh_from_db()
    if contact_import.job_id:
        job_succeed(job_id=contact_import.job_id, message=message, result=counts)
    return contact_import


def _import(
    contact_import: ContactImport,
    stream,
    rejects,
    report: Progress,
    chunk_rows: int,
    parallel: bool,
) -> dict:
    """Everything inside the import's one transaction; returns the counts."""
    organization = contact_import.organization
    contact_list = contact_import.contact_list
    now = timezone.now()
    info = FileInfo(
        format=contact_import.file_format,
        encoding=contact_import.encoding,
        delimiter=contact_import.delimiter,
    )
    with open_rows(stream, info) as source, connection.cursor() as cursor:
        header = source.header
        targets = mapping_from_json(contact_import.mapping, len(header))
        plan = mapping_validate(targets, header, _fields(organization), reuse_existing=True)
        for new in plan.new_fields:
            _field_create(contact_import, new)
        field_types = dict(
            CustomField.objects.filter(organization=organization).values_list("key", "type")
        )
        validate = RowValidator(
            plan, header=header, field_types=field_types, extra_tags=list(contact_import.tags)
        )
        writer = SafeCsvWriter(rejects, delimiter=info.delimiter or ",")
        writer.writerow([_("row"), _("reason"), *header])
        totals = ReadTotals(rejected_writer=writer)
        live_before = contacts_live(organization=organization).count()
        merger_options = {
            "organization_id": organization.pk,
            "now": now,
            "update": contact_import.existing == ContactImport.Existing.UPDATE,
            "extra_tags": list(contact_import.tags),
            "check_suppressions": Suppression.objects.filter(organization=organization).exists(),
            "collect_tags": bool(contact_import.tags) or TAGS in plan.targets,
            "list_id": contact_list.pk if contact_list else None,
            "double_opt_in": bool(contact_list and contact_list.is_double_opt_in),
            "consent_source": (_("Import: %(name)s") % {"name": contact_import.original_name})[
                :CONSENT_SOURCE_MAX_LENGTH
            ],
            "consent_text": contact_import.consent_text,
        }
        merger = Merger(cursor=cursor, **merger_options)
        # Big sorts (de-duplication) and hash joins stay in memory.
        cursor.execute("SET LOCAL work_mem = '64MB'")
        merger.create()
        merged = MergeCounts()
        registered_tags: set[str] = set()
        with contextlib.ExitStack() as stack:
            partner = None
            if parallel:
                partner = stack.enter_context(PartnerMerger(**merger_options))
            chunks = stack.enter_context(
                ChunkReader(
                    source, validate, totals, chunk_rows=chunk_rows, partitions=2 if partner else 1
                )
            )
            for chunk in chunks:
                counts = merge_both(merger, partner, chunk.payloads)
                merged += counts
                tags_register(
                    cursor,
                    organization_id=organization.pk,
                    now=now,
                    names=counts.tags - registered_tags,
                )
                registered_tags |= counts.tags
                # The plan limit is checked as new contacts appear; refusing rolls back
                # the whole transaction, so nothing at all is imported.
                decision = contacts_check(
                    organization=organization, adding=merged.new, current=live_before
                )
                if not decision:
                    raise ValidationError(_plan_refusal(merged.new, decision.reason, chunk.last))
                report(
                    min(95, int(chunk.fraction_read * 95)),
                    _("%(rows)s rows read, %(new)s new contacts so far…")
                    % {"rows": f"{totals.rows:,}", "new": f"{merged.new:,}"},
                )
            report(97, _("Finishing…"))
            merger.drop()
            counts = _finish(contact_import, merged, totals, rejects)
            if partner is not None:
                partner.commit()  # the last step before our own commit (see `parallel`)
    return counts


def _finish(contact_import: ContactImport, merged: MergeCounts, totals: ReadTotals, rejects):
    """Record the outcome (still inside the import's transaction)."""
    organization = contact_import.organization
    contact_list = contact_import.contact_list
    counts = {
        "total": totals.rows,
        "created": merged.new,
        "updated": merged.updated,
        "skipped": totals.rows - totals.rejected - merged.new - merged.updated,
        "rejected": totals.rejected,
        "added_to_list": merged.memberships_added,
    }
    if totals.rejected:
        rejects.seek(0)
        contact_import.rejected_file.save(
            f"{contact_import.pk}-rejected.csv", File(rejects), save=False
        )
    ContactImport.objects.filter(pk=contact_import.pk).update(
        status=ContactImport.Status.DONE,
        total_rows=counts["total"],
        created_count=counts["created"],
        updated_count=counts["updated"],
        skipped_count=counts["skipped"],
        rejected_count=counts["rejected"],
        rejected_file=contact_import.rejected_file.name or "",
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )
    if contact_list is not None and merged.memberships_unconfirmed:
        from engagex.contacts.services.optin import confirmations_queue

        confirmations_queue(organization=organization, contact_list=contact_list)
    audit.record(
        organization,
        contact_import.created_by,
        "contacts.imported",
        "contact_import",
        contact_import.pk,
        {**counts, "list": str(contact_list.pk) if contact_list else None},
    )
    return counts


def _plan_refusal(new: int, reason: str, exact: bool) -> str:
    if exact:
        text = _("Nothing was imported: the file has %(new)s new contacts. %(reason)s")
    else:
        text = _("Nothing was imported: the file has at least %(new)s new contacts. %(reason)s")
    return text % {"new": f"{new:,}", "reason": reason}


def _field_create(contact_import: ContactImport, new) -> None:
    from engagex.contacts.services.fields import custom_field_create

    try:
        custom_field_create(
            organization=contact_import.organization,
            actor=contact_import.created_by,
            label=new.label,
            type=new.type,
            key=new.key,
        )
    except ValidationError as error:
        raise ValidationError(
            _("The custom field “%(label)s” could not be created: %(reason)s")
            % {"label": new.label, "reason": " ".join(error.messages)}
        ) from None


def _summary(counts: dict) -> str:
    return _(
        "%(created)s created, %(updated)s updated, %(skipped)s skipped, %(rejected)s rejected"
    ) % {key: f"{counts[key]:,}" for key in ("created", "updated", "skipped", "rejected")}


def _fail(contact_import: ContactImport, message: str, *, notify_job: bool = True) -> None:
    ContactImport.objects.filter(pk=contact_import.pk).update(
        status=ContactImport.Status.FAILED,
        error=message,
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )
    if notify_job and contact_import.job_id:
        job_fail(job_id=contact_import.job_id, error=message)
    audit.record(
        contact_import.organization,
        contact_import.created_by,
        "contacts.import_failed",
        "contact_import",
        contact_import.pk,
        {},
    )
    contact_import.refresh_from_db()
