"""Reads of templates; the organization is always required (DESIGN.md §4)."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from engagex.content.models import Template, TemplateVersion


def templates_live(*, organization) -> QuerySet[Template]:
    return Template.objects.filter(organization=organization, deleted_at__isnull=True)


def templates_filter(*, organization, search: str = "", category: str = "") -> QuerySet[Template]:
    rows = templates_live(organization=organization)
    if category:
        rows = rows.filter(category=category)
    search = search.strip()
    if search:
        rows = rows.filter(Q(name__icontains=search) | Q(subject__icontains=search))
    return rows.select_related("updated_by")


def template_category_counts(*, organization) -> dict[str, int]:
    rows = templates_live(organization=organization).values("category").annotate(n=Count("id"))
    return {row["category"]: row["n"] for row in rows}


def template_versions(*, organization, template: Template) -> QuerySet[TemplateVersion]:
    return (
        TemplateVersion.objects.filter(organization=organization, template=template)
        .select_related("created_by")
        .order_by("-number")
    )


def template_version_get(*, organization, template: Template, number: int) -> TemplateVersion:
    return TemplateVersion.objects.get(organization=organization, template=template, number=number)
