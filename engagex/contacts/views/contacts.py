"""Contacts pages: the list with search, filters and bulk actions; add, edit, detail;
delete, anonymize; deleted contacts with restore.

The list uses keyset pagination (`selectors.contact_pages`), so it stays fast with
millions of contacts: the page links carry a cursor instead of a page number, and the
"select all N matching" count is fetched only when someone asks for it.
"""

from __future__ import annotations

from types import SimpleNamespace

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from engagex.accounts.tenancy import get_for_org, organization_required
from engagex.contacts.forms import ContactForm, contact_initial
from engagex.contacts.models import (
    RESTORE_WINDOW_DAYS,
    TAG_MAX_LENGTH,
    Contact,
    ContactList,
    CustomField,
)
from engagex.contacts.selectors.contact_pages import (
    CONTACT_SORTS,
    DELETED_SORTS,
    contact_stats,
    contact_table_rows,
    contact_timeline,
    contacts_deleted,
    deleted_stats,
    keyset_page,
)
from engagex.contacts.selectors.contacts import contacts_filter
from engagex.contacts.selectors.lists import contact_memberships, lists_all
from engagex.contacts.services import contacts as services
from engagex.contacts.services.lists import list_members_add, list_members_remove
from engagex.contacts.services.tags import tag_names
from engagex.web.tables import Column, Filter, table_state

PER_PAGE = 50
STATS_STALE_KEY = "contacts_stats_stale"
# Tags offered in the filter; an organization with more still finds them by search.
MAX_TAG_CHOICES = 300
BULK_ACTIONS = ("tag", "untag", "add_to_list", "remove_from_list", "unsubscribe", "delete")
COLUMNS = [
    Column("email", gettext_lazy("Email"), sortable=True),
    Column("name", gettext_lazy("Name"), sortable=True),
    Column("status", gettext_lazy("Status"), sortable=True),
    Column("tags", gettext_lazy("Tags")),
    Column("created", gettext_lazy("Added"), sortable=True),
]
DELETED_COLUMNS = [
    Column("email", gettext_lazy("Email")),
    Column("name", gettext_lazy("Name")),
    Column("deleted", gettext_lazy("Deleted")),
    Column("purge", gettext_lazy("Removed for good")),
    Column("actions", ""),
]
DELETED_FILTERS = [
    Filter(
        "window",
        gettext_lazy("Deleted"),
        [
            ("", gettext_lazy("Any time")),
            ("week", gettext_lazy("In the last 7 days")),
            ("purge_soon", gettext_lazy("Removed within 7 days")),
        ],
    )
]


# -- the list --------------------------------------------------------------------------------


def _table(request, params=None):
    """The table state (search, filters, sort) from the query string or posted fields."""
    organization = request.organization
    source = request if params is None else SimpleNamespace(GET=params)
    lists = lists_all(organization=organization).values_list("pk", "name")
    tags = tag_names(organization=organization)[:MAX_TAG_CHOICES]
    # A tag link (from a contact page) may name a tag beyond the dropdown's first ones.
    requested = source.GET.get("tag", "")[:TAG_MAX_LENGTH]
    if requested and requested not in tags:
        tags.append(requested)
    filters = [
        Filter("status", _("Status"), [("", _("All statuses")), *Contact.Status.choices]),
        Filter("list", _("List"), [("", _("All lists")), *[(str(pk), n) for pk, n in lists]]),
        Filter("tag", _("Tag"), [("", _("All tags")), *[(tag, tag) for tag in tags]]),
    ]
    return table_state(
        source,
        table_id="contacts",
        columns=COLUMNS,
        filters=filters,
        default_sort="-created",
        per_page=PER_PAGE,
        search_placeholder=_("Search by email, name or tag"),
    )


def _matching(request, state):
    return contacts_filter(
        organization=request.organization,
        search=state.search,
        status=state.filter_values["status"],
        list_id=state.filter_values["list"] or None,
        tag=state.filter_values["tag"],
    )


def _known_count(state, stats: dict[str, int]) -> int | None:
    """The number of matching contacts when the stat cards already know it."""
    if state.search or state.filter_values["list"] or state.filter_values["tag"]:
        return None
    return stats[state.filter_values["status"] or "total"]


@organization_required()
@require_GET
def contact_list(request):
    state = _table(request)
    page = keyset_page(
        contact_table_rows(_matching(request, state)),
        columns=CONTACT_SORTS[state.sort_key],
        descending=state.descending,
        cursor=request.GET.get("cursor", ""),
        per_page=PER_PAGE,
    )
    partial = bool(request.htmx) and request.htmx.target == state.results_id
    # Searching and paging leave the totals alone (and counting a million rows on every
    # page would be slow); after a bulk action the stat cards are re-rendered with the
    # rows, as an out-of-band swap.
    needs_stats = not partial or request.session.pop(STATS_STALE_KEY, False)
    stats = contact_stats(organization=request.organization) if needs_stats else None
    context = {
        "table": state,
        "page": page,
        "stats": stats,
        "stats_oob": partial and needs_stats,
        "matching_count": _known_count(state, stats) if stats else None,
        "lists": lists_all(organization=request.organization),
        "can_write": request.membership.can_write,
        "return_to": request.get_full_path(),
        "restore_days": RESTORE_WINDOW_DAYS,
    }
    template = "contacts/_contact_results.html" if partial else "contacts/contact_list.html"
    return render(request, template, context)


@organization_required()
@require_GET
def contact_count(request):
    """How many contacts match the current search and filters (for "select all N")."""
    state = _table(request)
    return JsonResponse({"count": _matching(request, state).count()})


def _stats_changed(request) -> None:
    """The next results partial (after the redirect) re-renders the stat cards too."""
    if request.htmx:
        request.session[STATS_STALE_KEY] = True


def _safe_return(request, fallback: str) -> str:
    target = request.POST.get("return_to", "")
    allowed = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
    return target if allowed and target.startswith(fallback) else fallback


def _bulk_selection(request, state):
    """A queryset for "all matching", else the ticked ids; None when nothing is selected."""
    if request.POST.get("scope") == "all":
        return _matching(request, state)
    ids = request.POST.getlist("ids")
    return ids or None


def _run_bulk(request, action: str, selection) -> str:
    """Run one bulk action; returns the toast text."""
    common = {"organization": request.organization, "actor": request.user, "contact_ids": selection}
    list_name = ""
    if action in ("add_to_list", "remove_from_list"):
        list_id = request.POST.get("list", "")
        if not list_id:
            raise ValidationError(_("Choose a list."))
        contact_list = get_for_org(ContactList, request.organization, list_id)
        list_name = contact_list.name
        common["contact_list"] = contact_list
    if action == "tag":
        count = services.contacts_tag(tags=request.POST.get("tags", ""), **common)
        text = ngettext("Tagged %(count)s contact", "Tagged %(count)s contacts", count)
    elif action == "untag":
        count = services.contacts_untag(tags=request.POST.get("tags", ""), **common)
        text = ngettext(
            "Removed the tags from %(count)s contact",
            "Removed the tags from %(count)s contacts",
            count,
        )
    elif action == "add_to_list":
        count = list_members_add(**common)
        text = ngettext(
            "Added %(count)s contact to “%(list)s”", "Added %(count)s contacts to “%(list)s”", count
        )
    elif action == "remove_from_list":
        count = list_members_remove(**common)
        text = ngettext(
            "Removed %(count)s contact from “%(list)s”",
            "Removed %(count)s contacts from “%(list)s”",
            count,
        )
    elif action == "unsubscribe":
        count = services.contacts_unsubscribe(**common)
        text = ngettext("Unsubscribed %(count)s contact", "Unsubscribed %(count)s contacts", count)
    else:
        count = services.contacts_delete(**common)
        text = ngettext(
            "Deleted %(count)s contact. You can restore it from Deleted contacts for "
            "%(days)s days.",
            "Deleted %(count)s contacts. You can restore them from Deleted contacts for "
            "%(days)s days.",
            count,
        )
    return text % {"count": f"{count:,}", "list": list_name, "days": RESTORE_WINDOW_DAYS}


@organization_required(write=True)
@require_POST
def contact_bulk(request):
    back = _safe_return(request, reverse("contacts:list"))
    action = request.POST.get("action", "")
    if action not in BULK_ACTIONS:
        messages.error(request, _("Choose what to do with the selected contacts."))
        return redirect(back)
    state = _table(request, params=request.POST)
    selection = _bulk_selection(request, state)
    if selection is None:
        messages.error(request, _("Select at least one contact first."))
        return redirect(back)
    try:
        with transaction.atomic():
            message = _run_bulk(request, action, selection)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, message)
        _stats_changed(request)
    return redirect(back)


# -- one contact -----------------------------------------------------------------------------


def _render_form(request, form: ContactForm, contact: Contact | None = None, status: int = 200):
    return render(
        request,
        "contacts/contact_form.html",
        {"form": form, "contact": contact, "has_lists": form.fields["lists"].queryset.exists()},
        status=status,
    )


@organization_required(write=True)
@require_http_methods(["GET", "POST"])
def contact_create(request):
    organization = request.organization
    if request.method == "GET":
        return _render_form(request, ContactForm(organization=organization))
    form = ContactForm(request.POST, organization=organization)
    if form.is_valid():
        data = form.cleaned_data
        try:
            contact = services.contact_create(
                organization=organization,
                actor=request.user,
                email=data["email"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                fields={k: v for k, v in form.field_values().items() if v is not None},
                tags=data["tags"],
                status=data["status"],
                list_ids=[contact_list.pk for contact_list in data["lists"]],
                consent_source=data["consent_source"],
                consent_text=data["consent_text"],
            )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, _("Contact %(email)s added") % {"email": contact.email})
            return redirect("contacts:detail", contact_id=contact.pk)
    messages.error(request, _("The contact was not saved: fix the errors below."))
    return _render_form(request, form)


def _live_contact(request, contact_id) -> Contact:
    return get_for_org(
        Contact.objects.filter(deleted_at__isnull=True), request.organization, contact_id
    )


@organization_required(write=True)
@require_http_methods(["GET", "POST"])
def contact_edit(request, contact_id):
    organization = request.organization
    contact = _live_contact(request, contact_id)
    memberships = contact_memberships(organization=organization, contact=contact)
    active = [m.contact_list_id for m in memberships if m.status != m.Status.UNSUBSCRIBED]
    if request.method == "GET":
        form = ContactForm(
            organization=organization, contact=contact, initial=contact_initial(contact, active)
        )
        return _render_form(request, form, contact)
    form = ContactForm(
        request.POST,
        organization=organization,
        contact=contact,
        initial=contact_initial(contact, active),
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                contact = services.contact_update(
                    organization=organization,
                    actor=request.user,
                    contact=contact,
                    email=data["email"],
                    first_name=data["first_name"],
                    last_name=data["last_name"],
                    fields=form.field_values(),
                    tags=data["tags"],
                    status=data["status"],
                )
                services.contact_lists_set(
                    organization=organization,
                    actor=request.user,
                    contact=contact,
                    list_ids=[contact_list.pk for contact_list in data["lists"]],
                )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, _("Contact saved"))
            return redirect("contacts:detail", contact_id=contact.pk)
    messages.error(request, _("The contact was not saved: fix the errors below."))
    return _render_form(request, form, contact)


@organization_required()
@require_GET
def contact_detail(request, contact_id):
    organization = request.organization
    contact = get_for_org(Contact, organization, contact_id)
    custom_fields = CustomField.objects.filter(organization=organization)
    memberships = list(contact_memberships(organization=organization, contact=contact))
    context = {
        "contact": contact,
        "memberships": memberships,
        "active_lists": sum(m.status != m.Status.UNSUBSCRIBED for m in memberships),
        "restore_days": RESTORE_WINDOW_DAYS,
        "field_values": [(f, contact.fields.get(f.key)) for f in custom_fields],
        "timeline": contact_timeline(organization=organization, contact=contact),
        "can_write": request.membership.can_write,
        "can_manage": request.membership.can_manage,
        "restorable": contact.is_deleted
        and not contact.is_anonymized
        and services.restorable(organization).filter(pk=contact.pk).exists(),
    }
    return render(request, "contacts/contact_detail.html", context)


@organization_required(write=True)
@require_POST
def contact_delete(request, contact_id):
    contact = _live_contact(request, contact_id)
    services.contacts_delete(
        organization=request.organization, actor=request.user, contact_ids=[contact.pk]
    )
    messages.success(
        request,
        _("%(email)s deleted. You can restore it from Deleted contacts for %(days)s days.")
        % {"email": contact.email, "days": RESTORE_WINDOW_DAYS},
    )
    return redirect("contacts:list")


@organization_required(role="admin")
@require_POST
def contact_anonymize(request, contact_id):
    contact = get_for_org(Contact, request.organization, contact_id)
    try:
        services.contact_anonymize(
            organization=request.organization, actor=request.user, contact=contact
        )
    except ValidationError as error:
        messages.info(request, " ".join(error.messages))
        return redirect("contacts:detail", contact_id=contact.pk)
    messages.success(
        request,
        _("The contact was anonymized. Its address stays on the suppression list as a hash."),
    )
    return redirect("contacts:list")


# -- deleted contacts ------------------------------------------------------------------------


def _deleted_table(request, params=None):
    source = request if params is None else SimpleNamespace(GET=params)
    return table_state(
        source,
        table_id="deleted-contacts",
        columns=DELETED_COLUMNS,
        filters=DELETED_FILTERS,
        default_sort="",
        per_page=PER_PAGE,
        search_placeholder=_("Search by email"),
    )


def _deleted_matching(request, state):
    return contacts_deleted(
        organization=request.organization,
        search=state.search,
        window=state.filter_values["window"],
    )


@organization_required()
@require_GET
def deleted_list(request):
    state = _deleted_table(request)
    page = keyset_page(
        _deleted_matching(request, state),
        columns=DELETED_SORTS["deleted"],
        descending=True,
        cursor=request.GET.get("cursor", ""),
        per_page=PER_PAGE,
    )
    partial = bool(request.htmx) and request.htmx.target == state.results_id
    needs_stats = not partial or request.session.pop(STATS_STALE_KEY, False)
    context = {
        "table": state,
        "page": page,
        "stats": deleted_stats(organization=request.organization) if needs_stats else None,
        "stats_oob": partial and needs_stats,
        "restore_days": RESTORE_WINDOW_DAYS,
        "can_write": request.membership.can_write,
        "return_to": request.get_full_path(),
        "now": timezone.now(),
    }
    template = "contacts/_contact_deleted_results.html" if partial else "contacts/deleted.html"
    return render(request, template, context)


@organization_required()
@require_GET
def deleted_count(request):
    state = _deleted_table(request)
    return JsonResponse({"count": _deleted_matching(request, state).count()})


@organization_required(write=True)
@require_POST
def contact_restore(request):
    back = _safe_return(request, reverse("contacts:deleted"))
    if request.POST.get("scope") == "all":
        selection = _deleted_matching(request, _deleted_table(request, params=request.POST))
    else:
        selection = request.POST.getlist("ids")
        if not selection:
            messages.error(request, _("Select at least one contact first."))
            return redirect(back)
    try:
        count = services.contacts_restore(
            organization=request.organization, actor=request.user, contact_ids=selection
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(back)
    if count:
        _stats_changed(request)
        messages.success(
            request,
            ngettext("Restored %(count)s contact", "Restored %(count)s contacts", count)
            % {"count": f"{count:,}"},
        )
    else:
        messages.info(request, _("Nothing to restore: those contacts are past the restore window."))
    return redirect(back)


urlpatterns = [
    path("", contact_list, name="list"),
    path("count/", contact_count, name="count"),
    path("bulk/", contact_bulk, name="bulk"),
    path("new/", contact_create, name="create"),
    path("deleted/", deleted_list, name="deleted"),
    path("deleted/count/", deleted_count, name="deleted-count"),
    path("deleted/restore/", contact_restore, name="restore"),
    path("<uuid:contact_id>/", contact_detail, name="detail"),
    path("<uuid:contact_id>/edit/", contact_edit, name="edit"),
    path("<uuid:contact_id>/delete/", contact_delete, name="delete"),
    path("<uuid:contact_id>/anonymize/", contact_anonymize, name="anonymize"),
]
