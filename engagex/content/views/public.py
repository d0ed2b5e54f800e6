"""Public pages, no login: "view in your browser" and the stand-in for campaign-only
links in previews and test sends."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from engagex.contacts.models import Contact
from engagex.content import services
from engagex.content.context import sample_link_title
from engagex.content.models import Template, TemplateVersion
from engagex.content.view_online import view_online_read
from engagex.content.views.previews import preview_response, preview_view

SAMPLE_LINK_KINDS = ("unsubscribe", "preferences", "view-online")


@require_GET
@preview_view
def view_online(request, token):
    found = view_online_read(token)
    if found is None:
        raise Http404
    try:
        version = TemplateVersion.objects.select_related("template__organization").get(
            organization_id=found.organization_id,
            template_id=found.template_id,
            number=found.version,
        )
    except (TemplateVersion.DoesNotExist, ValueError):
        raise Http404 from None
    template: Template = version.template
    contact = None
    if found.contact_id:
        contact = Contact.objects.filter(
            organization_id=found.organization_id, pk=found.contact_id, anonymized_at__isnull=True
        ).first()
    url = request.build_absolute_uri()
    return preview_response(
        lambda: (
            services.render_content(
                template.organization, version.content(), contact=contact, view_online=url
            ).html
        )
    )


@require_GET
def sample_link(request, kind):
    if kind not in SAMPLE_LINK_KINDS:
        raise Http404
    return render(request, "content/sample_link.html", {"title": sample_link_title(kind)})
