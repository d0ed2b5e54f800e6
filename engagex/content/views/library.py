"""The templates page (a grid of cards), creating from a preset or blank, duplicate, delete.
Everyone in the organization reads; editors and up write. Writes answer with a redirect
and a toast, so everything works without JavaScript."""

from __future__ import annotations

from pathlib import Path

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from engagex.accounts.tenancy import get_for_org, organization_required
from engagex.content import presets, selectors, services
from engagex.content.models import Category, Template
from engagex.content.views.previews import preview_response, preview_view
from engagex.web.tables import MAX_SEARCH_LENGTH

PER_PAGE = 24
# A starting point for "Blank template": the footer every marketing email needs.
BLANK_HTML = (Path(__file__).resolve().parents[1] / "blank.html").read_text(encoding="utf-8")


@require_GET
@organization_required()
def template_index(request):
    organization = request.organization
    search = request.GET.get("q", "").strip()[:MAX_SEARCH_LENGTH]
    category = request.GET.get("category", "")
    if category not in Category.values:
        category = ""
    rows = selectors.templates_filter(
        organization=organization, search=search, category=category
    ).order_by("-updated_at", "-id")
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    counts = selectors.template_category_counts(organization=organization)
    tabs = [("", _("All"), sum(counts.values()))] + [
        (value, label, counts.get(value, 0)) for value, label in Category.choices
    ]
    context = {
        "page": page,
        "search": search,
        "category": category,
        "tabs": tabs,
        "total": sum(counts.values()),
        "presets": presets.preset_list(),
        "can_write": request.membership.can_write,
    }
    template_name = (
        "content/_template_grid.html"
        if request.htmx and request.htmx.target == "template-grid"
        else "content/templates.html"
    )
    return render(request, template_name, context)


@require_GET
@organization_required(write=True)
def template_new(request):
    return render(request, "content/template_new.html", {"presets": presets.preset_list()})


@require_POST
@organization_required(write=True)
def template_create(request):
    preset_key = request.POST.get("preset", "")
    try:
        if preset_key:
            saved = services.template_create_from_preset(
                organization=request.organization, actor=request.user, preset_key=preset_key
            )
        else:
            saved = services.template_create(
                organization=request.organization,
                actor=request.user,
                name=_("Untitled template"),
                html=BLANK_HTML,
            )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("content:new")
    messages.success(request, _("Template created. Make it yours, then save."))
    return redirect("content:edit", saved.template.pk)


@require_POST
@organization_required(write=True)
def template_duplicate(request, pk):
    template = live_template(request, pk)
    saved = services.template_duplicate(
        organization=request.organization, actor=request.user, template=template
    )
    messages.success(request, _("Copied as “%(name)s”") % {"name": saved.template.name})
    return redirect("content:edit", saved.template.pk)


@require_POST
@organization_required(write=True)
def template_delete(request, pk):
    template = live_template(request, pk)
    services.template_delete(
        organization=request.organization, actor=request.user, template=template
    )
    messages.success(request, _("Template “%(name)s” deleted") % {"name": template.name})
    return redirect("content:index")


@require_GET
@organization_required()
@preview_view
def preset_preview(request, key):
    preset = presets.preset_get(key)
    if preset is None:
        from django.http import Http404

        raise Http404
    content = {
        "subject": preset.subject,
        "preheader": preset.preheader,
        "html": preset.html,
    }
    return preview_response(
        lambda: services.render_content(request.organization, content).html,
        dark=request.GET.get("dark") == "1",
    )


def live_template(request, pk) -> Template:
    return get_for_org(
        selectors.templates_live(organization=request.organization), request.organization, pk
    )
