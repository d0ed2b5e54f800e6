"""Number formatting for the campaign report."""

from __future__ import annotations

from django import template
from django.core.exceptions import ObjectDoesNotExist

register = template.Library()


@register.filter
def percent(value: float | None, digits: int = 1) -> str:
    """A fraction as a percentage ("24.1%"); "—" when it can't be told (nothing sent,
    tracking off). Whole percentages drop the decimals ("100%", "0%")."""
    if value is None:
        return "—"
    number = round(value * 100, int(digits))
    if number.is_integer():
        return f"{int(number)}%"
    return f"{number:.{int(digits)}f}%"


@register.filter
def mailing_rate(mailing, what: str) -> str:
    """A sent mailing's open ("opens") or click ("clicks") rate as on its report — people
    against what reached them — for lists; "" without numbers or with tracking off."""
    if not mailing:  # a draft
        return ""
    try:
        stats = mailing.stats
    except ObjectDoesNotExist:  # not rolled up yet
        return ""
    tracked = mailing.track_opens if what == "opens" else mailing.track_clicks
    reached = stats.reached(mailing.sent_count)
    if not reached or not tracked:
        return ""
    people = stats.unique_opens if what == "opens" else stats.unique_clicks
    return percent(people / reached)


@register.filter
def share_width(value: float | None) -> str:
    """A fraction as an SVG width ("42.0%"), for the share bars (no inline styles: CSP)."""
    return f"{max(0.0, min(value or 0.0, 1.0)) * 100:.1f}%"


@register.filter
def without_scheme(url: str) -> str:
    """ "shop.example/sale" for "https://shop.example/sale": shorter, and the scheme says
    nothing a marketer needs (the full address is in the cell's title)."""
    for scheme in ("https://", "http://"):
        if url.lower().startswith(scheme):
            return url[len(scheme) :]
    return url
