"""The open pixel and the click redirect (DESIGN.md §6): public, no login, fast.

Both verify the token first (a forged, altered or truncated one records nothing and
gets a 404 — for a click, a friendly page, never a redirect), then record the hit in
one statement. The click target always comes from the mailing's links table.
"""

from __future__ import annotations

import base64

from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from engagex.tracking import hits
from engagex.tracking.bots import request_bot_reason
from engagex.tracking.links import click_target
from engagex.tracking.tokens import click_parse, open_parse

# A transparent 1x1 GIF.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def _hit(request) -> dict:
    agent = request.META.get("HTTP_USER_AGENT", "")
    ip = request.META.get("REMOTE_ADDR") or None
    reason = request_bot_reason(request.method, request.META, agent, ip)
    return {"ip": ip, "agent": agent, "bot_reason": reason}


def _not_found(request):
    return render(request, "tracking/link_not_found.html", status=404)


@never_cache
@require_http_methods(["GET", "HEAD"])
def open_pixel(request, token):
    delivery_id = open_parse(token)
    if delivery_id is None or not hits.open_record(delivery_id=delivery_id, **_hit(request)):
        return HttpResponse(status=404)
    return HttpResponse(PIXEL, content_type="image/gif")


@never_cache
@require_http_methods(["GET", "HEAD"])
def click(request, token):
    parsed = click_parse(token)
    if parsed is None:
        return _not_found(request)
    delivery_id, link_index = parsed
    recorded = hits.click_record(delivery_id=delivery_id, link_index=link_index, **_hit(request))
    target = click_target(recorded) if recorded else None
    if target is None:
        return _not_found(request)
    return HttpResponseRedirect(target)
