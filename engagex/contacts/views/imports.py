"""Contact imports: upload a file → map its columns → run in the background → result.

Editors and up only (imports change contacts). The upload refuses a file over the size
limit from the request's Content-Length, before reading the body, and again while the
body streams in (a client may not say or may lie).
"""

from __future__ import annotations

import os

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from engagex.accounts.tenancy import organization_required
from engagex.contacts.importer.files import (
    ENCODING_LABELS,
    import_max_bytes,
    too_large_message,
)
from engagex.contacts.importer.mapping import (
    BUILTIN_TARGETS,
    EMAIL,
    FIELD_PREFIX,
    FIRST_NAME,
    IGNORE,
    LAST_NAME,
    TAGS,
    guess_mapping,
    new_field_target,
)
from engagex.contacts.models import ContactImport, ContactList, CustomField
from engagex.contacts.selectors.imports import (
    contact_import_get,
    contact_import_list,
    contact_import_stats,
)
from engagex.contacts.services.imports import (
    contact_import_file_info,
    contact_import_start,
    contact_import_upload,
)
from engagex.web.tables import Column, Filter, render_table, table_state

# Multipart framing and the CSRF field around the file: a body this much over the limit
# cannot be a file within it.
UPLOAD_OVERHEAD_BYTES = 16 * 1024
NEW_FIELD = "__new__"
ACCEPT = ".csv,.txt,.tsv,.xlsx,text/csv,text/plain,text/tab-separated-values,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"  # noqa: E501
ACTIVE = (ContactImport.Status.QUEUED, ContactImport.Status.RUNNING)
DELIMITER_NAMES = {
    ",": gettext_lazy("Comma"),
    ";": gettext_lazy("Semicolon"),
    "\t": gettext_lazy("Tab"),
}
# Import statuses drawn with the shared status badge colours.
STATUS_BADGES = {
    ContactImport.Status.UPLOADED: "pending",
    ContactImport.Status.QUEUED: "queued",
    ContactImport.Status.RUNNING: "running",
    ContactImport.Status.DONE: "succeeded",
    ContactImport.Status.FAILED: "failed",
}

COLUMNS = [
    Column("original_name", gettext_lazy("File"), sortable=True),
    Column("created_at", gettext_lazy("Uploaded"), sortable=True),
    Column("status", gettext_lazy("Status")),
    Column("created_count", gettext_lazy("Created"), sortable=True, numeric=True),
    Column("updated_count", gettext_lazy("Updated"), numeric=True),
    Column("skipped_count", gettext_lazy("Skipped"), numeric=True),
    Column("rejected_count", gettext_lazy("Rejected"), sortable=True, numeric=True),
]
FILTERS = [
    Filter(
        "status",
        gettext_lazy("Status"),
        [("", gettext_lazy("All imports")), *ContactImport.Status.choices],
    )
]


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("CSV or Excel file"),
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT, "data-import-file": ""}),
        error_messages={"required": gettext_lazy("Choose a CSV or XLSX file to upload.")},
    )


class ImportStartForm(forms.Form):
    """The column mapping (one select per file column) and the import's options."""

    contact_list = forms.ModelChoiceField(
        label=gettext_lazy("Add to list"),
        queryset=ContactList.objects.none(),
        required=False,
        empty_label=gettext_lazy("Don't add to a list"),
        help_text=gettext_lazy(
            "On a double opt-in list, new contacts get a confirmation email first."
        ),
    )
    tags = forms.CharField(
        label=gettext_lazy("Tags for every row"),
        required=False,
        max_length=500,
        help_text=gettext_lazy("Separate tags with commas, e.g. “fair-2026, lead”."),
    )
    existing = forms.ChoiceField(
        label=gettext_lazy("Contacts you already have"),
        choices=[
            (
                ContactImport.Existing.UPDATE,
                gettext_lazy("Update them: fill in names, fields and tags from the file"),
            ),
            (
                ContactImport.Existing.SKIP,
                gettext_lazy("Skip them: leave them exactly as they are"),
            ),
        ],
        initial=ContactImport.Existing.UPDATE,
        widget=forms.RadioSelect,
    )
    consent_text = forms.CharField(
        label=gettext_lazy("How did these people agree to hear from you?"),
        required=False,
        max_length=300,
        help_text=gettext_lazy(
            "Kept as the consent record of each new contact, e.g. “Signed up at our booth, "
            "Messe 2026”."
        ),
    )

    def __init__(self, *args, header, custom_fields, lists, guesses, **kwargs):
        super().__init__(*args, **kwargs)
        self.header = header
        self.fields["contact_list"].queryset = lists
        builtin_labels = {
            EMAIL: _("Email"),
            FIRST_NAME: _("First name"),
            LAST_NAME: _("Last name"),
            TAGS: _("Tags"),
        }
        choices = [
            (IGNORE, _("Don't import")),
            (_("Contact"), [(target, builtin_labels[target]) for target in BUILTIN_TARGETS]),
        ]
        if custom_fields:
            choices.append(
                (
                    _("Custom fields"),
                    [(FIELD_PREFIX + field.key, field.label) for field in custom_fields],
                )
            )
        choices.append((_("New"), [(NEW_FIELD, _("New custom field…"))]))
        type_error = _("Unknown custom field type “%(value)s”.")
        for index, name in enumerate(header):
            label = name or _("Column %(number)s") % {"number": index + 1}
            self.fields[f"column_{index}"] = forms.ChoiceField(
                label=label,
                choices=choices,
                required=False,
                initial=guesses[index],
                widget=forms.Select(attrs={"class": "select"}),
            )
            self.fields[f"label_{index}"] = forms.CharField(
                label=_("Field name"),
                required=False,
                max_length=100,
                initial=name,
                widget=forms.TextInput(attrs={"class": "input", "autocomplete": "off"}),
            )
            self.fields[f"type_{index}"] = forms.ChoiceField(
                label=_("Type"),
                choices=CustomField.Type.choices,
                required=False,
                initial=CustomField.Type.TEXT,
                error_messages={"invalid_choice": type_error},
                widget=forms.Select(attrs={"class": "select"}),
            )

    def columns(self, preview: list[list[str]]) -> list[dict]:
        """Per file column: its name, sample values and its three form fields."""
        return [
            {
                "index": index,
                "name": name,
                "samples": [row[index] for row in preview if index < len(row) and row[index]][:3],
                "target": self[f"column_{index}"],
                "label": self[f"label_{index}"],
                "type": self[f"type_{index}"],
            }
            for index, name in enumerate(self.header)
        ]

    def mapping(self) -> list[str]:
        targets = []
        for index in range(len(self.header)):
            target = self.cleaned_data.get(f"column_{index}") or IGNORE
            if target == NEW_FIELD:
                target = new_field_target(
                    self.cleaned_data.get(f"type_{index}") or CustomField.Type.TEXT,
                    self.cleaned_data.get(f"label_{index}") or "",
                )
            targets.append(target)
        return targets


# -- list and upload ---------------------------------------------------------------------


def _render_imports(request, *, form: ImportUploadForm, status: int = 200, upload_error: str = ""):
    state = table_state(
        request,
        table_id="imports",
        columns=COLUMNS,
        filters=FILTERS,
        default_sort="-created_at",
        search_placeholder=_("Search by file name"),
    )
    rows = contact_import_list(
        organization=request.organization,
        status=state.filter_values["status"],
        search=state.search,
    ).order_by(*state.ordering, "-created_at")
    stats = contact_import_stats(organization=request.organization)
    context = {
        "table": state,
        "page": state.paginate(rows),
        "row_template": "contacts/_import_row.html",
        "empty_title": _("No imports yet"),
        "empty_text": _("Upload a CSV or Excel file above to bring in your contacts."),
        "empty_icon": "arrow-up-tray",
        "stats": stats,
        "form": form,
        "upload_errors": [upload_error] if upload_error else list(form["file"].errors),
        "max_size": filesizeformat(import_max_bytes()),
        "breadcrumb": [(_("Contacts"), reverse("contacts:list")), (_("Imports"), "")],
        "status_badges": STATUS_BADGES,
    }
    response = render_table(request, "contacts/imports.html", context, state=state)
    response.status_code = status
    return response


@require_GET
@organization_required(write=True)
def import_list(request):
    return _render_imports(request, form=ImportUploadForm())


class _SizeLimitHandler(FileUploadHandler):
    """Stops reading an uploaded file as soon as it passes the limit."""

    def __init__(self, request, limit: int) -> None:
        super().__init__(request)
        self.limit = limit

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > self.limit:
            self.request.import_too_large = True
            # Read and drop the rest of the body, so the browser gets our page back.
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size):
        return None


@csrf_exempt  # checked below, once the size limit is in place (CSRF reads the body)
@require_POST
@organization_required(write=True)
def import_upload(request):
    limit = import_max_bytes()
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit + UPLOAD_OVERHEAD_BYTES:
        # Refused before a byte of the body is read.
        return _refuse_too_large(request, limit)
    request.upload_handlers.insert(0, _SizeLimitHandler(request, limit))
    return _import_upload(request, limit)


def _refuse_too_large(request, limit: int):
    messages.error(request, _("The file was not uploaded: fix the problem below."))
    return _render_imports(
        request, form=ImportUploadForm(), status=413, upload_error=too_large_message(limit)
    )


@csrf_protect
def _import_upload(request, limit: int):
    form = ImportUploadForm(request.POST, request.FILES)
    if getattr(request, "import_too_large", False):
        return _refuse_too_large(request, limit)
    if form.is_valid():
        try:
            contact_import = contact_import_upload(
                organization=request.organization,
                actor=request.user,
                uploaded_file=form.cleaned_data["file"],
            )
        except ValidationError as error:
            form.add_error("file", error)
        else:
            messages.success(request, _("File uploaded: now match its columns."))
            return redirect("contacts:import-detail", import_id=contact_import.pk)
    messages.error(request, _("The file was not uploaded: fix the problem below."))
    return _render_imports(request, form=form, status=400)


# -- one import --------------------------------------------------------------------------


def _start_form(request, contact_import, info, data=None) -> ImportStartForm:
    custom_fields = list(CustomField.objects.filter(organization=request.organization))
    return ImportStartForm(
        data,
        header=info.header,
        custom_fields=custom_fields,
        lists=ContactList.objects.filter(organization=request.organization),
        guesses=guess_mapping(info.header, custom_fields),
    )


def _render_detail(request, contact_import, *, form=None, info=None, status: int = 200):
    context = {
        "breadcrumb": [
            (_("Contacts"), reverse("contacts:list")),
            (_("Imports"), reverse("contacts:imports")),
            (contact_import.original_name, ""),
        ],
        "contact_import": contact_import,
        "job": contact_import.job,
        "status_badges": STATUS_BADGES,
        "poll": contact_import.status in ACTIVE,
    }
    if contact_import.status == ContactImport.Status.UPLOADED:
        info = info or contact_import_file_info(contact_import=contact_import)
        form = form or _start_form(request, contact_import, info)
        context.update(
            {
                "info": info,
                "form": form,
                "columns": form.columns(info.preview),
                "encoding_label": ENCODING_LABELS.get(info.encoding, info.encoding),
                "delimiter_label": DELIMITER_NAMES.get(info.delimiter, info.delimiter),
            }
        )
    if request.htmx and request.htmx.target == "import-status":
        context["oob"] = True
        return render(request, "contacts/_import_status.html", context, status=status)
    return render(request, "contacts/import_detail.html", context, status=status)


@require_GET
@organization_required(write=True)
def import_detail(request, import_id):
    contact_import = contact_import_get(organization=request.organization, import_id=import_id)
    return _render_detail(request, contact_import)


@require_POST
@organization_required(write=True)
def import_start(request, import_id):
    contact_import = contact_import_get(organization=request.organization, import_id=import_id)
    if contact_import.status != ContactImport.Status.UPLOADED:
        messages.info(request, _("This import has already been started."))
        return redirect("contacts:import-detail", import_id=contact_import.pk)
    info = contact_import_file_info(contact_import=contact_import)
    form = _start_form(request, contact_import, info, data=request.POST)
    if form.is_valid():
        try:
            contact_import_start(
                organization=request.organization,
                actor=request.user,
                contact_import=contact_import,
                mapping=form.mapping(),
                contact_list=form.cleaned_data["contact_list"],
                tags=form.cleaned_data["tags"],
                existing=form.cleaned_data["existing"],
                consent_text=form.cleaned_data["consent_text"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Import started: it runs in the background."))
            return redirect("contacts:import-detail", import_id=contact_import.pk)
    messages.error(request, _("The import did not start: fix the problems below."))
    return _render_detail(request, contact_import, form=form, info=info, status=400)


@require_GET
@organization_required(write=True)
def import_rejected(request, import_id):
    contact_import = contact_import_get(organization=request.organization, import_id=import_id)
    if not contact_import.rejected_file:
        raise Http404
    stem = os.path.splitext(contact_import.original_name)[0] or "import"
    return FileResponse(
        contact_import.rejected_file.open("rb"),
        as_attachment=True,
        filename=f"{stem}-rejected-rows.csv",
        content_type="text/csv; charset=utf-8",
    )


urlpatterns = [
    path("imports/", import_list, name="imports"),
    path("imports/upload/", import_upload, name="import-upload"),
    path("imports/<uuid:import_id>/", import_detail, name="import-detail"),
    path("imports/<uuid:import_id>/start/", import_start, name="import-start"),
    path("imports/<uuid:import_id>/rejected/", import_rejected, name="import-rejected"),
]
