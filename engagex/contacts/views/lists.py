"""Lists: the table with member counts, create/edit forms, delete, and resending a
double opt-in confirmation. Everyone in the organization reads; editors and up write.
Every write answers with a redirect and a toast, so the pages work without JavaScript.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from engagex.accounts.tenancy import get_for_org, organization_required
from engagex.contacts.models import ContactList, ListMembership
from engagex.contacts.selectors import lists as selectors
from engagex.contacts.services import lists as services
from engagex.contacts.services.optin import confirmation_resend
from engagex.web.tables import Column, Filter, render_table, table_state

OptIn = ContactList.OptIn

COLUMNS = [
    Column("name", gettext_lazy("Name"), sortable=True),
    Column("opt_in", gettext_lazy("Opt-in"), sortable=True),
    Column("subscribed", gettext_lazy("Subscribed"), numeric=True),
    Column("unconfirmed", gettext_lazy("Unconfirmed"), numeric=True),
    Column("unsubscribed", gettext_lazy("Unsubscribed"), numeric=True),
    Column("created_at", gettext_lazy("Created"), sortable=True),
    Column("actions", ""),
]
FILTERS = [
    Filter("opt_in", gettext_lazy("Opt-in"), [("", gettext_lazy("Any opt-in")), *OptIn.choices])
]
OPT_IN_HELP = {
    OptIn.SINGLE: gettext_lazy("People you add are subscribed at once."),
    OptIn.DOUBLE: gettext_lazy(
        "People you add get an email with a link and are subscribed once they confirm. "
        "Recommended for sign-up forms: it proves consent and keeps typos off your list."
    ),
}
NO_COUNTS = {"subscribed": 0, "unconfirmed": 0, "unsubscribed": 0, "total": 0}


class ListForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=services.NAME_MAX_LENGTH,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        error_messages={"required": gettext_lazy("Give the list a name.")},
    )
    description = forms.CharField(
        label=gettext_lazy("Description"),
        max_length=services.DESCRIPTION_MAX_LENGTH,
        required=False,
        help_text=gettext_lazy("What the list is for, e.g. “Monthly product news”."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    opt_in = forms.ChoiceField(
        label=gettext_lazy("Opt-in"),
        choices=OptIn.choices,
        initial=OptIn.SINGLE,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Choose single or double opt-in.")},
    )


@require_GET
@organization_required()
def list_index(request):
    organization = request.organization
    state = table_state(
        request,
        table_id="lists",
        columns=COLUMNS,
        filters=FILTERS,
        default_sort="name",
        search_placeholder=_("Search lists by name or description"),
    )
    rows = selectors.lists_filter(
        organization=organization,
        search=state.search,
        opt_in=state.filter_values["opt_in"],
    ).order_by(*state.ordering, "name", "pk")
    page = state.paginate(rows)
    page.object_list = list(page.object_list)
    counts = selectors.list_member_counts(
        organization=organization, list_ids=[row.pk for row in page.object_list]
    )
    for row in page.object_list:
        row.counts = counts.get(row.pk, NO_COUNTS)
    can_write = request.membership.can_write
    context = {
        "table": state,
        "page": page,
        "row_template": "contacts/_list_row.html",
        "empty_title": _("No lists yet"),
        "empty_text": _("Create a list to group the contacts you mail together."),
        "empty_icon": "queue-list",
        "can_write": can_write,
    }
    if request.htmx and request.htmx.target == state.results_id:
        return render_table(request, "contacts/lists.html", context, state=state)
    context.update(
        list_counts=selectors.list_opt_in_counts(organization=organization),
        totals=selectors.membership_totals(organization=organization),
    )
    return render(request, "contacts/lists.html", context)


def _form_page(request, form: ListForm, contact_list: ContactList | None = None, status=200):
    lists_url = reverse("contacts:lists")
    title = contact_list.name if contact_list else _("New list")
    context = {
        "form": form,
        "contact_list": contact_list,
        "opt_in_help": OPT_IN_HELP,
        "breadcrumb_items": [(_("Lists"), lists_url), (title, "")],
    }
    if contact_list:
        counts = selectors.list_member_counts(
            organization=request.organization, list_ids=[contact_list.pk]
        )
        context["counts"] = counts.get(contact_list.pk, NO_COUNTS)
    return render(request, "contacts/list_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@organization_required(write=True)
def list_create(request):
    form = ListForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            contact_list = services.list_create(
                organization=request.organization, actor=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("List “%(name)s” created") % {"name": contact_list.name})
            return redirect("contacts:lists")
    if request.method == "POST":
        messages.error(request, _("The list was not created: fix the errors below."))
        return _form_page(request, form, status=400)
    return _form_page(request, form)


@require_http_methods(["GET", "POST"])
@organization_required(write=True)
def list_edit(request, list_id):
    contact_list = get_for_org(ContactList, request.organization, list_id)
    initial = {
        "name": contact_list.name,
        "description": contact_list.description,
        "opt_in": contact_list.opt_in,
    }
    form = ListForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.list_update(
                organization=request.organization,
                actor=request.user,
                contact_list=contact_list,
                **form.cleaned_data,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("List “%(name)s” saved") % {"name": contact_list.name})
            return redirect("contacts:lists")
    if request.method == "POST":
        messages.error(request, _("The list was not saved: fix the errors below."))
        return _form_page(request, form, contact_list, status=400)
    return _form_page(request, form, contact_list)


@require_POST
@organization_required(write=True)
def list_delete(request, list_id):
    contact_list = get_for_org(ContactList, request.organization, list_id)
    name = contact_list.name
    services.list_delete(
        organization=request.organization, actor=request.user, contact_list=contact_list
    )
    messages.success(
        request,
        _("List “%(name)s” deleted. Its contacts are still in your audience.") % {"name": name},
    )
    return redirect("contacts:lists")


def _safe_next(request, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


@require_POST
@organization_required(write=True)
def list_confirmation_resend(request, membership_id):
    """POST from the contact's page: send the double opt-in email again (rate limited)."""
    membership = get_for_org(
        ListMembership.objects.select_related("contact", "contact_list"),
        request.organization,
        membership_id,
    )
    try:
        confirmation_resend(
            organization=request.organization, actor=request.user, membership=membership
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("Confirmation email for “%(list)s” sent again to %(email)s.")
            % {"list": membership.contact_list.name, "email": membership.contact.email},
        )
    return redirect(_safe_next(request, reverse("contacts:lists")))


urlpatterns = [
    path("lists/", list_index, name="lists"),
    path("lists/new/", list_create, name="list-create"),
    path("lists/<uuid:list_id>/edit/", list_edit, name="list-edit"),
    path("lists/<uuid:list_id>/delete/", list_delete, name="list-delete"),
    path(
        "lists/memberships/<int:membership_id>/resend-confirmation/",
        list_confirmation_resend,
        name="list-confirmation-resend",
    ),
]
