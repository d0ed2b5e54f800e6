"""The sidebar: every section of the product, with the ones not built yet marked "Soon"."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NavItem:
    label: str
    icon: str
    url_name: str | None = None  # None: section not available yet
    # The lowest organization role that sees the item (pages check the role again).
    minimum_role: str = "viewer"

    def url(self) -> str | None:
        return reverse(self.url_name) if self.url_name else None


@dataclass(frozen=True)
class NavSection:
    heading: str | None
    items: tuple[NavItem, ...]


PRODUCT_SECTIONS = (
    NavSection(
        None,
        (
            NavItem(_("Dashboard"), "home", "web:dashboard"),
            NavItem(_("Contacts"), "users", "contacts:list"),
            NavItem(_("Lists"), "queue-list", "contacts:lists"),
            NavItem(_("Segments"), "funnel", "contacts:segments"),
            NavItem(_("Suppression list"), "no-symbol", "contacts:suppressions"),
            NavItem(_("Templates"), "document-text", "content:index"),
            NavItem(_("Campaigns"), "paper-airplane", "campaigns:list"),
            NavItem(_("Automations"), "bolt"),
            NavItem(_("Analytics"), "chart-bar"),
        ),
    ),
    NavSection(
        _("Organization"),
        (
            NavItem(_("Domains"), "globe-alt"),
            NavItem(_("Team"), "user-group", "accounts:team"),
            NavItem(_("API keys"), "key", "accounts:api-keys", minimum_role="admin"),
            NavItem(_("Audit log"), "clipboard-document-list", "audit:log", minimum_role="admin"),
            NavItem(_("Settings"), "cog-6-tooth", "accounts:settings"),
        ),
    ),
)

DEVELOPER_SECTION = NavSection(
    _("Developer"),
    (
        NavItem(_("Dev inbox"), "inbox", "devmail:inbox"),
        NavItem(_("Styleguide"), "swatch", "web:styleguide"),
    ),
)


def nav_sections(current_path: str, membership=None) -> list[dict]:
    sections = list(PRODUCT_SECTIONS)
    if settings.DEBUG:
        sections.append(DEVELOPER_SECTION)
    rendered = []
    for section in sections:
        items = []
        for item in section.items:
            if item.minimum_role != "viewer" and not (
                membership and membership.has_role(item.minimum_role)
            ):
                continue
            items.append({"label": item.label, "icon": item.icon, "url": item.url()})
        rendered.append({"heading": section.heading, "items": items})
    # The current item is the longest URL the path starts with: /settings/api-keys/ is
    # "API keys", not also "Settings".
    matches = [
        item
        for section in rendered
        for item in section["items"]
        if item["url"]
        and (
            current_path == item["url"]
            or (item["url"] != "/" and current_path.startswith(item["url"]))
        )
    ]
    current = max(matches, key=lambda item: len(item["url"]), default=None)
    for section in rendered:
        for item in section["items"]:
            item["current"] = item is current
    return rendered
