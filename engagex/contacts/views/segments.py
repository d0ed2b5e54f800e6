"""Segments: the table (with lazily counted rows), the builder with its live count and
preview, the detail page, duplicate and delete.

Everyone in the organization reads segments and their counts; editors and up write.
The builder saves without JavaScript (indexed inputs, server-side add/remove buttons);
segments.js adds rows in place and asks for the live count as you type.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from engagex.accounts.tenancy import get_for_org, organization_required
from engagex.contacts.models import Segment
from engagex.contacts.segments import (
    MAX_RULES,
    RuleContext,
    check_rules,
    count_rules,
    describe_rules,
)
from engagex.contacts.segments.catalog import catalog
from engagex.contacts.segments.engine import describe_outline
from engagex.contacts.segments.form import (
    apply_edit,
    blank_rule,
    builder_rows,
    general_problems,
    rules_from_post,
    starter_rules,
)
from engagex.contacts.selectors.contacts import contacts_live
from engagex.contacts.selectors.segments import rules_contacts, segment_contacts, segment_list
from engagex.contacts.services import segments as services
from engagex.contacts.services.tags import tag_names
from engagex.web.tables import Column, Filter, render_table, table_state

PREVIEW_SIZE = 10
PLACEHOLDER = "__prefix__"
NO_ID = "00000000-0000-0000-0000-000000000000"
VALUE_KINDS = (
    "none",
    "text",
    "email",
    "number",
    "date",
    "days",
    "choice",
    "list",
    "tags",
    "domains",
)
DETAIL_PAGE_SIZE = 25
COLUMNS = [
    Column("name", gettext_lazy("Name"), sortable=True),
    Column("count", gettext_lazy("Contacts"), numeric=True),
    Column("rules", gettext_lazy("Rules")),
    Column("updated_at", gettext_lazy("Updated"), sortable=True),
    Column("actions", ""),
]
FILTERS = [
    Filter(
        "owner",
        gettext_lazy("Created by"),
        [("", gettext_lazy("Anyone")), ("mine", gettext_lazy("Created by me"))],
    )
]


class SegmentForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=services.NAME_MAX_LENGTH,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        error_messages={"required": gettext_lazy("Give the segment a name.")},
    )
    description = forms.CharField(
        label=gettext_lazy("Description"),
        max_length=services.DESCRIPTION_MAX_LENGTH,
        required=False,
        help_text=gettext_lazy("Who this is, e.g. “VIP customers who signed up this year”."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


def _contact_url_pattern() -> str:
    """The contact page URL with a placeholder id (that page belongs to another module)."""
    try:
        return reverse("contacts:detail", args=[NO_ID])
    except NoReverseMatch:  # pragma: no cover - only while the contact page is not routed
        return ""


def _with_contact_urls(contacts: list) -> list:
    pattern = _contact_url_pattern()
    for contact in contacts:
        contact.url = pattern.replace(NO_ID, str(contact.pk)) if pattern else ""
    return contacts


def _live(organization, tree: dict, context: RuleContext) -> dict:
    """What the live count panel shows: the count and first matches, or the problems."""
    normalized, problems = check_rules(tree, context=context)
    if problems:
        return {"problems": [problem.message for problem in problems]}
    matched = rules_contacts(organization=organization, rules=normalized, context=context)
    count = matched.count()
    total = contacts_live(organization=organization).count()
    preview = list(
        matched.only("email", "first_name", "last_name", "status", "created_at").order_by(
            "-created_at", "-id"
        )[:PREVIEW_SIZE]
    )
    return {
        "count": count,
        "total": total,
        "percent": round(100 * count / total, 1) if total else 0,
        "preview": _with_contact_urls(preview),
        "has_rules": bool(normalized["rules"]),
    }


# -- list -----------------------------------------------------------------------------


@require_GET
@organization_required()
def segment_index(request):
    organization = request.organization
    state = table_state(
        request,
        table_id="segments",
        columns=COLUMNS,
        filters=FILTERS,
        default_sort="name",
        search_placeholder=_("Search segments by name or description"),
    )
    mine = state.filter_values["owner"] == "mine"
    rows = segment_list(
        organization=organization,
        search=state.search,
        created_by=request.user if mine else None,
    ).order_by(*state.ordering, "name", "pk")
    page = state.paginate(rows)
    context_rules = RuleContext(organization)
    for row in page.object_list:
        row.summary = describe_rules(row.rules, context_rules)
        row.rule_count = count_rules(row.rules)
    context = {
        "table": state,
        "page": page,
        "row_template": "contacts/_segment_row.html",
        "empty_title": _("No segments yet"),
        "empty_text": _("Create a segment to target contacts by their fields, tags and lists."),
        "empty_icon": "funnel",
        "can_write": request.membership.can_write,
    }
    if request.htmx and request.htmx.target == state.results_id:
        return render_table(request, "contacts/segments.html", context, state=state)
    stats = Segment.objects.filter(organization=organization).aggregate(
        total=Count("pk"), mine=Count("pk", filter=Q(created_by=request.user))
    )
    context.update(stats=stats, live_total=contacts_live(organization=organization).count())
    return render_table(request, "contacts/segments.html", context, state=state)


@require_GET
@organization_required()
def segment_count(request, segment_id):
    """One count cell of the table, loaded lazily so the page itself stays fast."""
    segment = get_for_org(Segment, request.organization, segment_id)
    try:
        count = segment_contacts(organization=request.organization, segment=segment).count()
    except ValidationError as error:
        return render(
            request,
            "contacts/_segment_count.html",
            {"segment": segment, "problem": " ".join(error.messages)},
        )
    return render(request, "contacts/_segment_count.html", {"segment": segment, "count": count})


# -- builder --------------------------------------------------------------------------


def _builder(request, *, segment, form, tree, problems=(), errors=(), status=200):
    organization = request.organization
    context_rules = RuleContext(organization)
    catalog_data = catalog(context_rules)
    # Blank rows for segments.js to clone; it replaces the placeholder prefix.
    blank = builder_rows({"rules": [blank_rule()]}, catalog_data, [])[0]
    blank.update(prefix=PLACEHOLDER, label="#")
    blank_group = builder_rows(
        {"rules": [{"match": "any", "rules": [blank_rule()]}]}, catalog_data, []
    )[0]
    blank_group.update(prefix=PLACEHOLDER, label="#")
    blank_group["rules"][0].update(prefix=f"{PLACEHOLDER}-rules-0", label="#")
    if segment:
        title = _("Edit “%(name)s”") % {"name": segment.name}
        crumbs = [
            (_("Segments"), reverse("contacts:segments")),
            (segment.name, reverse("contacts:segment-detail", args=[segment.pk])),
            (_("Edit"), ""),
        ]
    else:
        title = _("New segment")
        crumbs = [(_("Segments"), reverse("contacts:segments")), (title, "")]
    context = {
        "segment": segment,
        "form": form,
        "title": title,
        "breadcrumb_items": crumbs,
        "match": tree.get("match", "all"),
        "rows": builder_rows(tree, catalog_data, list(problems)),
        "rule_errors": list(errors) or general_problems(list(problems)),
        "catalog": catalog_data,
        "blank_rule": blank,
        "blank_group": blank_group,
        "live": _live(organization, tree, context_rules),
        "value_kinds": VALUE_KINDS,
        "max_rules": MAX_RULES,
        "tags": tag_names(organization=organization),
    }
    return render(request, "contacts/segment_form.html", context, status=status)


def _save(request, segment):
    """POST of the builder: an add/remove/refresh button re-renders, otherwise save."""
    tree, paths = rules_from_post(request.POST)
    add, remove = request.POST.get("add", ""), request.POST.get("remove", "")
    if add or remove or "refresh" in request.POST:
        typed = {key: request.POST.get(key, "") for key in ("name", "description")}
        tree = apply_edit(tree, paths, add=add, remove=remove)
        return _builder(request, segment=segment, form=SegmentForm(initial=typed), tree=tree)
    form = SegmentForm(request.POST)
    form.is_valid()  # renders the typed values and the basic field errors
    try:
        fields = {
            "organization": request.organization,
            "actor": request.user,
            "name": request.POST.get("name", ""),
            "description": request.POST.get("description", ""),
            "rules": tree,
        }
        if segment:
            segment = services.segment_update(segment=segment, **fields)
        else:
            segment = services.segment_create(**fields)
    except ValidationError as error:
        errors = error.message_dict if hasattr(error, "error_dict") else {}
        for key in ("name", "description"):
            if key not in form.errors:
                for message in errors.get(key, []):
                    form.add_error(key, message)
        _normalized, problems = check_rules(tree, context=RuleContext(request.organization))
        positional = [problem for problem in problems if problem.path]
        shown = {problem.message for problem in positional}
        general = [message for message in errors.get("rules", []) if message not in shown]
        messages.error(request, _("The segment was not saved: fix the errors below."))
        return _builder(
            request,
            segment=segment,
            form=form,
            tree=tree,
            problems=positional,
            errors=general,
            status=400,
        )
    messages.success(request, _("Segment “%(name)s” saved") % {"name": segment.name})
    return redirect("contacts:segment-detail", segment.pk)


@require_http_methods(["GET", "POST"])
@organization_required(write=True)
def segment_create(request):
    if request.method == "POST":
        return _save(request, None)
    return _builder(request, segment=None, form=SegmentForm(), tree=starter_rules())


@require_http_methods(["GET", "POST"])
@organization_required(write=True)
def segment_edit(request, segment_id):
    segment = get_for_org(Segment, request.organization, segment_id)
    if request.method == "POST":
        return _save(request, segment)
    form = SegmentForm(initial={"name": segment.name, "description": segment.description})
    return _builder(request, segment=segment, form=form, tree=segment.rules or starter_rules())


@require_POST
@organization_required()
def segment_preview(request):
    """The builder's live count: the posted (unsaved) rules, counted now."""
    tree, _paths = rules_from_post(request.POST)
    live = _live(request.organization, tree, RuleContext(request.organization))
    return render(request, "contacts/_segment_live.html", {"live": live})


# -- detail, duplicate, delete ------------------------------------------------------------


@require_GET
@organization_required()
def segment_detail(request, segment_id):
    organization = request.organization
    segment = get_for_org(Segment.objects.select_related("created_by"), organization, segment_id)
    context_rules = RuleContext(organization)
    problems: list[str] = []
    page = None
    try:
        matched = segment_contacts(
            organization=organization, segment=segment, context=context_rules
        )
    except ValidationError as error:
        problems = error.messages
    else:
        ordered = matched.only(
            "email", "first_name", "last_name", "status", "created_at", "tags"
        ).order_by("-created_at", "-id")
        page = Paginator(ordered, DETAIL_PAGE_SIZE).get_page(request.GET.get("page"))
        _with_contact_urls(page.object_list)
    total = contacts_live(organization=organization).count()
    count = page.paginator.count if page else 0
    context = {
        "segment": segment,
        "summary": describe_rules(segment.rules, context_rules),
        "outline": describe_outline(segment.rules, context_rules),
        "rule_count": count_rules(segment.rules),
        "problems": problems,
        "page": page,
        "count": count,
        "total": total,
        "percent": round(100 * count / total, 1) if total else 0,
        "can_write": request.membership.can_write,
        "breadcrumb_items": [(_("Segments"), reverse("contacts:segments")), (segment.name, "")],
    }
    return render(request, "contacts/segment_detail.html", context)


@require_POST
@organization_required(write=True)
def segment_duplicate(request, segment_id):
    segment = get_for_org(Segment, request.organization, segment_id)
    try:
        copy = services.segment_duplicate(
            organization=request.organization, actor=request.user, segment=segment
        )
    except ValidationError as error:
        messages.error(
            request,
            _("The segment was not copied: %(reason)s") % {"reason": " ".join(error.messages)},
        )
        return redirect("contacts:segments")
    messages.success(request, _("Copied as “%(name)s”") % {"name": copy.name})
    return redirect("contacts:segment-edit", copy.pk)


@require_POST
@organization_required(write=True)
def segment_delete(request, segment_id):
    segment = get_for_org(Segment, request.organization, segment_id)
    name = segment.name
    services.segment_delete(organization=request.organization, actor=request.user, segment=segment)
    messages.success(request, _("Segment “%(name)s” deleted") % {"name": name})
    return redirect("contacts:segments")


urlpatterns = [
    path("segments/", segment_index, name="segments"),
    path("segments/new/", segment_create, name="segment-create"),
    path("segments/preview/", segment_preview, name="segment-preview"),
    path("segments/<uuid:segment_id>/", segment_detail, name="segment-detail"),
    path("segments/<uuid:segment_id>/edit/", segment_edit, name="segment-edit"),
    path("segments/<uuid:segment_id>/count/", segment_count, name="segment-count"),
    path("segments/<uuid:segment_id>/duplicate/", segment_duplicate, name="segment-duplicate"),
    path("segments/<uuid:segment_id>/delete/", segment_delete, name="segment-delete"),
]
