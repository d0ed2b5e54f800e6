"""Deliver Django messages as toasts on htmx responses.

A full page renders pending messages in the toast region itself. An htmx partial
has no toast region, so the pending messages travel in an `HX-Trigger` header
that app.js turns into toasts.
"""

from __future__ import annotations

import json

from django.contrib import messages


class HtmxToastMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not getattr(request, "htmx", False) or 300 <= response.status_code < 400:
            return response  # a redirect's target page shows the messages
        storage = messages.get_messages(request)
        if storage.used:  # the page already rendered them
            return response
        pending = [{"message": str(m.message), "level": m.level_tag} for m in storage]
        if pending:
            triggers = _existing_triggers(response)
            triggers["toast"] = {"messages": pending}
            response["HX-Trigger"] = json.dumps(triggers)
        return response


def _existing_triggers(response) -> dict:
    raw = response.get("HX-Trigger")
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {name.strip(): None for name in raw.split(",") if name.strip()}
    return value if isinstance(value, dict) else {}
