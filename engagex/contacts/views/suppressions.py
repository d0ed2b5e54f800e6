"""The suppression list page: look up, add one address, import many, remove.

Everyone reads; editors and up add; only admins and owners remove (a removed address may
be mailed again). Writes answer with a redirect and a toast; the outcome of an import
(including the invalid lines) is kept in the session for the page shown after it.
"""

from __future__ import annotations

import codecs
import re

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from engagex.accounts.tenancy import get_for_org, organization_required
from engagex.contacts.models import Suppression
from engagex.contacts.selectors.suppressions import (
    is_suppressed,
    suppression_counts,
    suppressions_filter,
)
from engagex.contacts.services import suppressions as services
from engagex.web.tables import Column, Filter, render_table, table_state

Reason = Suppression.Reason

COLUMNS = [
    Column("email", gettext_lazy("Address"), sortable=True),
    Column("reason", gettext_lazy("Reason"), sortable=True),
    Column("source", gettext_lazy("Source")),
    Column("created_at", gettext_lazy("Added"), sortable=True),
    Column("created_by", gettext_lazy("Added by")),
    Column("actions", ""),
]
FILTERS = [
    Filter("reason", gettext_lazy("Reason"), [("", gettext_lazy("Any reason")), *Reason.choices])
]
REASON_TONES = {
    Reason.HARD_BOUNCE: "danger",
    Reason.SOFT_BOUNCE: "warning",
    Reason.COMPLAINT: "danger",
    Reason.MANUAL: "accent",
    Reason.IMPORTED: "accent-2",
    Reason.ANONYMIZED: "neutral",
}
UPLOAD_MAX_BYTES = 5 * 1024 * 1024
UPLOAD_EXTENSIONS = (".txt", ".csv")
RESULT_SESSION_KEY = "suppression_import_result"
# Columns after the first one are ignored; a first line without "@" is a header.
_CELL_SPLIT = re.compile(r"[,;\t]")


class SuppressionAddForm(forms.Form):
    email = forms.CharField(
        label=gettext_lazy("Email address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off", "placeholder": "name@example.com"}),
        error_messages={"required": gettext_lazy("Enter the address to suppress.")},
    )
    note = forms.CharField(
        label=gettext_lazy("Note"),
        max_length=services.SOURCE_MAX_LENGTH,
        required=False,
        help_text=gettext_lazy("Why, for your team, e.g. “Asked by phone not to be mailed”."),
    )


class SuppressionImportForm(forms.Form):
    addresses = forms.CharField(
        label=gettext_lazy("Paste addresses"),
        required=False,
        strip=False,
        widget=forms.Textarea(
            attrs={"rows": 6, "spellcheck": "false", "placeholder": "jane@example.com\n…"}
        ),
        help_text=gettext_lazy(
            "One per line. Extra columns after a comma or semicolon are ignored."
        ),
    )
    file = forms.FileField(
        label=gettext_lazy("Or upload a file"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".txt,.csv,text/plain,text/csv"}),
        help_text=gettext_lazy(
            ".txt or .csv, up to 5 MB: one address per line, or in the first column."
        ),
    )
    note = forms.CharField(
        label=gettext_lazy("Note"),
        max_length=services.SOURCE_MAX_LENGTH,
        required=False,
        help_text=gettext_lazy(
            "Where the addresses come from, e.g. “Unsubscribes from our old tool”."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if not upload:
            return None
        if not upload.name.lower().endswith(UPLOAD_EXTENSIONS):
            raise ValidationError(_("Upload a .txt or .csv file."))
        if upload.size > UPLOAD_MAX_BYTES:
            raise ValidationError(_("The file is larger than 5 MB. Split it into smaller files."))
        if upload.size == 0:
            raise ValidationError(_("The file is empty."))
        return upload

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not cleaned.get("addresses", "").strip() and not cleaned.get("file"):
            raise ValidationError(_("Paste addresses or choose a file."))
        return cleaned


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252 (never fails)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _first_cells(text: str, label: str) -> list[tuple[str, str]]:
    """(where, value) per non-blank line: the first column, a header line skipped."""
    cells = []
    for number, line in enumerate(text.splitlines(), start=1):
        value = _CELL_SPLIT.split(line, maxsplit=1)[0].strip().strip('"').strip()
        if not value:
            continue
        if number == 1 and "@" not in value:
            continue  # a header line ("email", "Address;Name")
        cells.append((_("%(source)s line %(number)s") % {"source": label, "number": number}, value))
    return cells


def _render_page(request, *, add_form=None, import_form=None, status=200):
    organization = request.organization
    state = table_state(
        request,
        table_id="suppressions",
        columns=COLUMNS,
        filters=FILTERS,
        default_sort="-created_at",
        search_placeholder=_("Search an address, @domain or #hash"),
    )
    rows = suppressions_filter(
        organization=organization, search=state.search, reason=state.filter_values["reason"]
    ).order_by(*state.ordering, "-created_at", "pk")
    can_write = request.membership.can_write
    context = {
        "table": state,
        "page": state.paginate(rows),
        "row_template": "contacts/_suppression_row.html",
        "empty_title": _("No suppressed addresses"),
        "empty_text": _("Addresses that must never be mailed appear here."),
        "empty_icon": "no-symbol",
        "reason_tones": REASON_TONES,
        "can_remove": request.membership.can_manage,
    }
    if request.htmx and request.htmx.target == state.results_id:
        return render_table(request, "contacts/suppressions.html", context, state=state)
    context.update(
        counts=suppression_counts(organization=organization),
        can_write=can_write,
        add_form=add_form or (SuppressionAddForm() if can_write else None),
        import_form=import_form or (SuppressionImportForm() if can_write else None),
        import_result=request.session.pop(RESULT_SESSION_KEY, None),
    )
    return render(request, "contacts/suppressions.html", context, status=status)


@require_GET
@organization_required()
def suppression_index(request):
    return _render_page(request)


@require_http_methods(["GET", "POST"])
@organization_required(write=True)
def suppression_add(request):
    if request.method == "GET":
        return redirect("contacts:suppressions")
    form = SuppressionAddForm(request.POST)
    if form.is_valid():
        already = is_suppressed(organization=request.organization, email=form.cleaned_data["email"])
        try:
            suppression = services.suppression_add(
                organization=request.organization,
                actor=request.user,
                email=form.cleaned_data["email"],
                reason=Reason.MANUAL,
                source=form.cleaned_data["note"],
            )
        except ValidationError as error:
            form.add_error("email", error)
        else:
            if already:
                messages.info(
                    request,
                    _("%(email)s was already on the suppression list.")
                    % {"email": suppression.email},
                )
            else:
                messages.success(
                    request, _("%(email)s is suppressed") % {"email": suppression.email}
                )
            return redirect("contacts:suppressions")
    messages.error(request, _("The address was not added: fix the errors below."))
    return _render_page(request, add_form=form, status=400)


@require_http_methods(["GET", "POST"])
@organization_required(write=True)
def suppression_import(request):
    if request.method == "GET":
        return redirect("contacts:suppressions")
    form = SuppressionImportForm(request.POST, request.FILES)
    if form.is_valid():
        cells = _first_cells(form.cleaned_data["addresses"], _("Pasted"))
        upload = form.cleaned_data["file"]
        if upload:
            cells += _first_cells(_decode(upload.read()), upload.name)
        note = form.cleaned_data["note"] or (upload.name if upload else _("Pasted list"))
        try:
            result = services.suppressions_add_many(
                organization=request.organization,
                actor=request.user,
                emails=[value for _where, value in cells],
                reason=Reason.IMPORTED,
                source=note,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            request.session[RESULT_SESSION_KEY] = {
                "added": result["added"],
                "already": result["already"],
                "duplicates": result["duplicates"],
                "invalid": result["invalid"],
                "invalid_items": [
                    {"where": cells[item["position"] - 1][0], **item}
                    for item in result["invalid_items"]
                ],
            }
            _toast_import(request, result)
            return redirect("contacts:suppressions")
    messages.error(request, _("Nothing was imported: fix the errors below."))
    return _render_page(request, import_form=form, status=400)


def _toast_import(request, result) -> None:
    parts = [
        ngettext("%(n)s address suppressed", "%(n)s addresses suppressed", result["added"])
        % {"n": result["added"]}
    ]
    if result["already"]:
        parts.append(
            ngettext("%(n)s already on the list", "%(n)s already on the list", result["already"])
            % {"n": result["already"]}
        )
    if result["invalid"]:
        parts.append(
            ngettext("%(n)s invalid line", "%(n)s invalid lines", result["invalid"])
            % {"n": result["invalid"]}
        )
    level = messages.WARNING if result["invalid"] else messages.SUCCESS
    messages.add_message(request, level, " · ".join(parts))


@require_POST
@organization_required(role="admin")
def suppression_remove(request, suppression_id):
    suppression = get_for_org(Suppression, request.organization, suppression_id)
    label = str(suppression)
    try:
        services.suppression_remove(
            organization=request.organization, actor=request.user, suppression=suppression
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("%(email)s was removed from the suppression list. It can be mailed again.")
            % {"email": label},
        )
    return redirect(_list_url(request))


def _list_url(request) -> str:
    # Back to the same search/filter/page the button was pressed on.
    query = request.POST.get("next_query", "")
    return reverse("contacts:suppressions") + ("?" + query if query else "")


urlpatterns = [
    path("suppressions/", suppression_index, name="suppressions"),
    path("suppressions/add/", suppression_add, name="suppression-add"),
    path("suppressions/import/", suppression_import, name="suppression-import"),
    path(
        "suppressions/<uuid:suppression_id>/remove/",
        suppression_remove,
        name="suppression-remove",
    ),
]
