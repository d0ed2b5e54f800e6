"""Ready-made email templates that ship with EngageX (package data, read-only).

Each preset is a full, table-based HTML document in ``<key>.html`` beside this module,
plus a subject, a preheader and a category. Merge tags are Jinja2 (rendered later in the
sandbox) and use only the built-in contact and organization variables listed in
``PRESET_VARIABLES``; presets contain no spintax, scripts or external resources.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

CATEGORIES = ("newsletter", "promotional", "transactional", "announcement", "welcome", "other")

# The variables a preset may use; custom fields (`fields.*`) are left to the user.
PRESET_VARIABLES = frozenset(
    {
        "email",
        "first_name",
        "last_name",
        "full_name",
        "fields",
        "unsubscribe_url",
        "preferences_url",
        "view_online_url",
        "organization_name",
        "organization_address",
    }
)

StrOrPromise = str | Promise


@dataclass(frozen=True)
class Preset:
    key: str
    name: StrOrPromise
    category: str
    description: StrOrPromise
    subject: str
    preheader: str
    html: str


# key, name, category, description, subject, preheader — in the order they are listed.
_SPECS: tuple[tuple[str, StrOrPromise, str, StrOrPromise, str, str], ...] = (
    (
        "newsletter",
        _("Newsletter"),
        "newsletter",
        _("A monthly digest: dark masthead, a short intro and three articles with buttons."),
        "This month at {{ organization_name }}: three things worth your time",
        "A customer story, a guide to cleaner lists and a free live workshop.",
    ),
    (
        "announcement",
        _("Announcement"),
        "announcement",
        _("A big launch: gradient hero with one call to action, a chart and three highlights."),
        "Introducing Smart Scheduling: send when people actually read",
        "Our biggest update this year is live in every account today.",
    ),
    (
        "promotion",
        _("Promotion"),
        "promotional",
        _("A sale: bold discount, a discount-code block, a deadline and two featured products."),
        '{{ first_name|default("there") }}, 25% off everything ends Sunday',
        "Use code SUMMER25 at checkout. No minimum spend, 48 hours only.",
    ),
    (
        "welcome",
        _("Welcome"),
        "welcome",
        _("A warm first email: personal greeting, three getting-started steps and a button."),
        'Welcome to {{ organization_name }}, {{ first_name|default("there") }}!',
        "Three quick steps to get the most out of your new account.",
    ),
    (
        "re_engagement",
        _("Re-engagement"),
        "other",
        _("Win back quiet contacts: “We miss you”, what's new, one button and an easy way out."),
        "{{ first_name|default(\"there\") }}, it's been a while. Here's what you missed",
        "A lot has changed since your last visit, and your next month is on us.",
    ),
    (
        "event_invitation",
        _("Event invitation"),
        "announcement",
        _("An invitation: date, time and place at a glance, RSVP button, calendar link, agenda."),
        'You\'re invited, {{ first_name|default("there") }}: Email Marketing Summit, 12 September',
        "An afternoon of talks, workshops and drinks in Berlin. Seats are limited.",
    ),
    (
        "product_update",
        _("Product update"),
        "announcement",
        _("Release notes: a changelog with New, Improved and Fixed badges and a link to more."),
        "What's new in {{ organization_name }}: scheduled sends, faster imports and more",
        "Release notes for June: two new features, two improvements and a handful of fixes.",
    ),
    (
        "plain_letter",
        _("Plain letter"),
        "other",
        _("A personal note that reads like an email from a colleague: just text and a signature."),
        '{{ first_name|default("there") }}, a quick personal note',
        "No sales pitch, just a thank-you and one question.",
    ),
    (
        "receipt",
        _("Order receipt"),
        "transactional",
        _("An order confirmation: items and totals in neat columns, delivery details, a button."),
        "Your order #10482 is confirmed",
        "We're getting it ready. Here's your receipt for your records.",
    ),
)


def _read_html(key: str) -> str:
    return resources.files(__name__).joinpath(f"{key}.html").read_text(encoding="utf-8")


@cache
def _presets() -> dict[str, Preset]:
    return {
        key: Preset(key, name, category, description, subject, preheader, _read_html(key))
        for key, name, category, description, subject, preheader in _SPECS
    }


def preset_list() -> list[Preset]:
    """All presets, in display order."""
    return list(_presets().values())


def preset_get(key: str) -> Preset | None:
    return _presets().get(key)
