"""Custom fields page: list, define, rename and delete the organization's contact fields."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.shortcuts import redirect
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from engagex.accounts.tenancy import get_for_org, organization_required
from engagex.contacts.forms import CustomFieldCreateForm, CustomFieldRenameForm
from engagex.contacts.models import CustomField
from engagex.contacts.selectors.contact_pages import field_value_counts
from engagex.contacts.services.fields import (
    custom_field_create,
    custom_field_delete,
    custom_field_update,
)
from engagex.web.tables import Column, Filter, render_table, table_state

COLUMNS = [
    Column("label", gettext_lazy("Name"), sortable=True),
    Column("key", gettext_lazy("Key"), sortable=True),
    Column("type", gettext_lazy("Type"), sortable=True),
    Column("values", gettext_lazy("Contacts with a value"), numeric=True),
    Column("actions", ""),
]
FILTERS = [
    Filter(
        "type", gettext_lazy("Type"), [("", gettext_lazy("All types")), *CustomField.Type.choices]
    )
]


def _render_page(request, *, form: CustomFieldCreateForm | None = None, status: int = 200):
    organization = request.organization
    state = table_state(
        request,
        table_id="custom-fields",
        columns=COLUMNS,
        filters=FILTERS,
        default_sort="label",
        search_placeholder=_("Search by name or key"),
    )
    rows = CustomField.objects.filter(organization=organization)
    if state.search:
        rows = rows.filter(Q(label__icontains=state.search) | Q(key__icontains=state.search))
    if state.filter_values["type"]:
        rows = rows.filter(type=state.filter_values["type"])
    page = state.paginate(rows.order_by(*state.ordering, "key"))
    counts = field_value_counts(organization=organization, fields=page.object_list)
    for custom_field in page.object_list:
        custom_field.value_count = counts.get(custom_field.key, 0)
    can_write = request.membership.can_write
    context = {
        "table": state,
        "page": page,
        "row_template": "contacts/_field_row.html",
        "empty_title": _("No custom fields yet"),
        "empty_text": _(
            "Add fields such as “Company”, “Birthday” or “Customer since” to keep more "
            "about each contact."
        ),
        "empty_icon": "adjustments-horizontal",
        "has_fields": CustomField.objects.filter(organization=organization).exists(),
        "form": (form or CustomFieldCreateForm()) if can_write else None,
        "can_write": can_write,
        "types": CustomField.Type.choices,
    }
    response = render_table(request, "contacts/fields.html", context, state=state)
    response.status_code = status
    return response


@organization_required()
@require_GET
def field_list(request):
    return _render_page(request)


@organization_required(write=True)
@require_POST
def field_create(request):
    form = CustomFieldCreateForm(request.POST)
    if form.is_valid():
        try:
            custom_field = custom_field_create(
                organization=request.organization,
                actor=request.user,
                label=form.cleaned_data["label"],
                type=form.cleaned_data["type"],
                key=form.cleaned_data["key"] or None,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("Field “%(label)s” added (key %(key)s)")
                % {"label": custom_field.label, "key": custom_field.key},
            )
            return redirect("contacts:fields")
    messages.error(request, _("The field was not added: fix the errors below."))
    return _render_page(request, form=form)


@organization_required(write=True)
@require_POST
def field_rename(request, field_id):
    custom_field = get_for_org(CustomField, request.organization, field_id)
    form = CustomFieldRenameForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(form.errors["label"])
        custom_field_update(
            organization=request.organization,
            actor=request.user,
            field=custom_field,
            label=form.cleaned_data["label"],
        )
    except ValidationError as error:
        messages.error(request, _("Not renamed: %(reason)s") % {"reason": " ".join(error.messages)})
    else:
        messages.success(request, _("Field renamed to “%(label)s”") % {"label": custom_field.label})
    return redirect("contacts:fields")


@organization_required(write=True)
@require_POST
def field_delete(request, field_id):
    custom_field = get_for_org(CustomField, request.organization, field_id)
    label = custom_field.label
    cleared = custom_field_delete(
        organization=request.organization, actor=request.user, field=custom_field
    )
    messages.success(
        request,
        ngettext(
            "Field “%(label)s” deleted, with its value on %(count)s contact",
            "Field “%(label)s” deleted, with its values on %(count)s contacts",
            cleared,
        )
        % {"label": label, "count": f"{cleared:,}"},
    )
    return redirect("contacts:fields")


urlpatterns = [
    path("fields/", field_list, name="fields"),
    path("fields/new/", field_create, name="field-create"),
    path("fields/<uuid:field_id>/rename/", field_rename, name="field-rename"),
    path("fields/<uuid:field_id>/delete/", field_delete, name="field-delete"),
]
