"""Tracked links and the open pixel in a mailing's HTML (DESIGN.md §6).

When a sender first prepares a mailing, `tracked_html` numbers the mailing's links
(`TrackedLink` rows; every sender computes the same numbers from the same frozen HTML)
and rewrites each `href` to the tracking host with a per-recipient token filled at
render time:

    <a href="https://shop.example/sale">  →  <a href="https://t…/t/c/{{ __clicks[3] }}">

Not tracked: `mailto:`/`tel:` links, `#anchors`, anything that isn't http(s), and our
own unsubscribe / preferences / view-online links (unsubscribing must never depend on
the tracker, and it isn't a click on the content). A link whose address holds merge
tags is stored as written and rendered for the clicking recipient.
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection
from django.urls import reverse

from engagex.accounts.models import Organization
from engagex.contacts.models import Contact
from engagex.content.rendering import (
    SENDER_CLICKS,
    SENDER_OPEN,
    RenderLimitExceeded,
    TemplateProblem,
    compile_message,
)
from engagex.tracking.models import TrackedLink

_ANCHOR_HREF = re.compile(r"""(<a\b[^>]*?\shref\s*=\s*)(["'])(.*?)\2""", re.IGNORECASE | re.DOTALL)
_OWN_LINKS = ("unsubscribe_url", "preferences_url", "view_online_url")
_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)
_TRACKABLE = re.compile(r"https?://", re.IGNORECASE)
_SLOT = "TOKEN0SLOT"
# Context names the sender fills per recipient (reserved in templates people write).
CLICKS, OPEN = SENDER_CLICKS, SENDER_OPEN


def tracking_base() -> str:
    return (settings.TRACKING_URL or settings.SITE_URL).rstrip("/")


def _endpoint(name: str) -> str:
    return tracking_base() + reverse(name, args=[_SLOT]).replace(_SLOT, "")


def is_trackable(url: str) -> bool:
    url = url.strip()
    if any(own in url for own in _OWN_LINKS):
        return False
    if url.startswith("{{"):  # the whole address is a merge tag: checked at click time
        return True
    return bool(_TRACKABLE.match(url))


@dataclass(frozen=True)
class TrackedHtml:
    html: str
    links: list[str]  # link number → address as written


def rewrite(html: str, *, clicks: bool, opens: bool) -> TrackedHtml:
    """The HTML with tracked links and the pixel; pure (no database)."""
    links: list[str] = []
    numbers: dict[str, int] = {}
    if clicks:
        click_base = _endpoint("tracking:click")

        def replace(match: re.Match) -> str:
            url = match.group(3).strip()
            if not is_trackable(url):
                return match.group(0)
            number = numbers.setdefault(url, len(numbers))
            if number == len(links):
                links.append(url)
            quote = match.group(2)
            return f"{match.group(1)}{quote}{click_base}{{{{ {CLICKS}[{number}] }}}}{quote}"

        html = _ANCHOR_HREF.sub(replace, html)
    if opens:
        pixel = (
            f'<img src="{_endpoint("tracking:open")}{{{{ {OPEN} }}}}" width="1" height="1" alt=""'
            ' style="display:block;width:1px;height:1px;border:0">'
        )
        ends = list(_BODY_END.finditer(html))
        html = html[: ends[-1].start()] + pixel + html[ends[-1].start() :] if ends else html + pixel
    return TrackedHtml(html, links)


_INSERT_LINKS = f"""
INSERT INTO {TrackedLink._meta.db_table}
    (organization_id, mailing_id, "index", url, clicks, unique_clicks, bot_clicks)
VALUES (%s, %s, %s, %s, 0, 0, 0)
ON CONFLICT (organization_id, mailing_id, "index") DO NOTHING
"""  # noqa: S608 - the table name is interpolated; every value is a parameter


def tracked_html(mailing, html: str) -> TrackedHtml:
    """`rewrite` for a mailing, with its links stored (idempotent: senders race here)."""
    tracked = rewrite(html, clicks=mailing.track_clicks, opens=mailing.track_opens)
    if tracked.links:
        with connection.cursor() as cursor:
            cursor.executemany(
                _INSERT_LINKS,
                [
                    (mailing.organization_id, mailing.pk, index, url)
                    for index, url in enumerate(tracked.links)
                ],
            )
    return tracked


_HREF = re.compile(r'href="([^"]*)"')


def click_target(click) -> str | None:
    """Where a recorded click goes: the link as written in the mailing — rendered for
    the recipient if it holds merge tags — and only ever an http(s) address."""
    url = click.url
    if "{{" in url or "{%" in url:
        url = _render_for_recipient(click)
        if url is None:
            return None
    url = html_lib.unescape(url).strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url


@lru_cache(maxsize=256)
def _compiled_link(url: str):
    # Rendered the way the message rendered it: as an attribute value of the HTML part.
    return compile_message(subject="link", html=f'<a href="{url}">link</a>')


def _render_for_recipient(click) -> str | None:
    contact = (
        Contact.objects.filter(organization_id=click.organization_id, pk=click.contact_id)
        .values("email", "first_name", "last_name", "fields")
        .first()
        or {}
    )
    organization = Organization.objects.filter(pk=click.organization_id).first()
    first, last = contact.get("first_name", ""), contact.get("last_name", "")
    context = {
        "email": contact.get("email", ""),
        "first_name": first,
        "last_name": last,
        "full_name": " ".join(part for part in (first, last) if part),
        "fields": contact.get("fields") or {},
        "organization_name": organization.name if organization else "",
        "organization_address": organization.postal_address if organization else "",
    }
    try:
        html = (
            _compiled_link(click.url)
            .render(context, seed=f"{click.contact_id}:{click.mailing_id}")
            .html
        )
    except (TemplateProblem, RenderLimitExceeded):
        return None
    match = _HREF.search(html)
    return match.group(1) if match else None
