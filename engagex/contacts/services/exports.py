"""Contact exports to CSV, in the background (PRODUCT.md §B, issue 4 item 5).

`contacts_export_start` checks the request and queues a job; `contacts_export_run` (the
task's body) streams the contacts from a server-side cursor into a CSV file that becomes
the job's result. Every cell goes through the CSV safety helper, so a contact named
`=HYPERLINK(…)` stays text in a spreadsheet. Deleted contacts are never exported.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from engagex import audit
from engagex.contacts.models import Contact, ContactList, CustomField, Segment
from engagex.contacts.selectors.contacts import contacts_filter, contacts_live
from engagex.jobs.models import Job
from engagex.jobs.services import job_create, job_fail, job_set_progress, job_succeed
from engagex.lib.csv_safety import SafeCsvWriter

JOB_KIND = "contacts.export"
ALL, LIST, SEGMENT, SEARCH = "all", "list", "segment", "search"
SCOPES = (ALL, LIST, SEGMENT, SEARCH)
BASE_COLUMNS = (
    "email",
    "first_name",
    "last_name",
    "status",
    "tags",
    "created_at",
    "consent_source",
    "consent_at",
    "consent_ip",
    "consent_text",
)
ITERATOR_CHUNK = 2_000
PROGRESS_EVERY_ROWS = 10_000


@dataclass(frozen=True)
class ExportRequest:
    """What to export; plain values so the task can receive it as arguments."""

    scope: str = ALL
    list_id: str = ""
    segment_id: str = ""
    search: str = ""
    status: str = ""
    tag: str = ""

    def as_kwargs(self) -> dict[str, str]:
        return {
            "scope": self.scope,
            "list_id": self.list_id,
            "segment_id": self.segment_id,
            "search": self.search,
            "status": self.status,
            "tag": self.tag,
        }


def export_contacts_queryset(*, organization, request: ExportRequest):
    """The live contacts an export request covers (raises ValidationError if unusable)."""
    if request.scope == ALL:
        return contacts_live(organization=organization)
    if request.scope == LIST:
        contact_list = _get(ContactList, organization, request.list_id, _("Choose a list."))
        return contacts_filter(organization=organization, list_id=contact_list.pk)
    if request.scope == SEGMENT:
        from engagex.contacts.selectors.segments import segment_contacts

        segment = _get(Segment, organization, request.segment_id, _("Choose a segment."))
        return segment_contacts(organization=organization, segment=segment).filter(
            deleted_at__isnull=True
        )
    if request.scope == SEARCH:
        if request.status and request.status not in Contact.Status.values:
            raise ValidationError(_("Unknown status “%(status)s”.") % {"status": request.status})
        list_id = None
        if request.list_id:
            list_id = _get(ContactList, organization, request.list_id, _("Choose a list.")).pk
        return contacts_filter(
            organization=organization,
            search=request.search,
            status=request.status,
            list_id=list_id,
            tag=request.tag,
        )
    raise ValidationError(
        _("Unknown export “%(scope)s”: choose all, a list, a segment or a search.")
        % {"scope": str(request.scope)[:30]}
    )


def _get(model, organization, pk, missing: str):
    if not pk:
        raise ValidationError(missing)
    try:
        return model.objects.get(organization=organization, pk=pk)
    except (model.DoesNotExist, ValidationError, ValueError):
        raise ValidationError(missing) from None


def _title(organization, request: ExportRequest) -> str:
    if request.scope == LIST:
        name = ContactList.objects.get(organization=organization, pk=request.list_id).name
        return _("Export of the list “%(name)s”") % {"name": name}
    if request.scope == SEGMENT:
        name = Segment.objects.get(organization=organization, pk=request.segment_id).name
        return _("Export of the segment “%(name)s”") % {"name": name}
    if request.scope == SEARCH:
        return _("Export of a contact search")
    return _("Export of all contacts")


@transaction.atomic
def contacts_export_start(*, organization, actor, request: ExportRequest) -> Job:
    """Queue an export; raises ValidationError for an unusable request (nothing queued)."""
    from engagex.contacts.tasks.exports import export_contacts

    export_contacts_queryset(organization=organization, request=request)
    job = job_create(
        organization=organization,
        kind=JOB_KIND,
        title=_title(organization, request),
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    # Same transaction as the job row: a queued export is never lost or orphaned.
    export_contacts.defer(job_id=str(job.pk), **request.as_kwargs())
    return job


def _cell(value) -> str | int | float:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat(timespec="seconds")
    if isinstance(value, int | float | Decimal):
        return value
    return str(value)


def contacts_export_run(*, job: Job, request: ExportRequest) -> int:
    """Write the CSV and attach it to the job; returns how many contacts were exported.

    A list or segment deleted since the export was queued fails the job with that reason.
    """
    organization = job.organization
    try:
        contacts = export_contacts_queryset(organization=organization, request=request)
    except ValidationError as error:
        job_fail(job_id=job.pk, error=" ".join(error.messages))
        return 0
    field_keys = list(
        CustomField.objects.filter(organization=organization)
        .order_by("label")
        .values_list("key", flat=True)
    )
    total = contacts.count()
    job_set_progress(job_id=job.pk, done=0, total=total, message=_("Writing the file…"))
    rows = contacts.order_by("email").values_list(*BASE_COLUMNS, "fields")
    count = 0
    with tempfile.TemporaryFile("w+", encoding="utf-8-sig", newline="") as out:
        writer = SafeCsvWriter(out)
        writer.writerow([*BASE_COLUMNS, *field_keys])
        for row in rows.iterator(chunk_size=ITERATOR_CHUNK):
            *base, fields = row
            base[4] = ", ".join(base[4])  # tags
            writer.writerow(
                [*(_cell(value) for value in base), *(_cell(fields.get(k)) for k in field_keys)]
            )
            count += 1
            if count % PROGRESS_EVERY_ROWS == 0:
                job_set_progress(
                    job_id=job.pk,
                    done=count,
                    total=max(total, count),
                    message=_("%(count)s of %(total)s contacts written")
                    % {"count": f"{count:,}", "total": f"{total:,}"},
                )
        out.seek(0)
        name = f"contacts-{_file_label(organization, request)}-{timezone.now():%Y-%m-%d}.csv"
        with transaction.atomic():
            job_succeed(
                job_id=job.pk,
                message=_("%(count)s contacts exported") % {"count": f"{count:,}"},
                result={"count": count, "scope": request.scope},
                result_file=File(out, name=name),
            )
            audit.record(
                organization,
                job.created_by,
                "contacts.exported",
                "job",
                job.pk,
                {
                    "scope": request.scope,
                    "count": count,
                    "list": request.list_id or None,
                    "segment": request.segment_id or None,
                },
            )
    return count


def _file_label(organization, request: ExportRequest) -> str:
    if request.scope == LIST:
        name = ContactList.objects.get(organization=organization, pk=request.list_id).name
        return slugify(name)[:40] or "list"
    if request.scope == SEGMENT:
        name = Segment.objects.get(organization=organization, pk=request.segment_id).name
        return slugify(name)[:40] or "segment"
    return request.scope
