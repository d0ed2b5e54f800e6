"""Error pages in the EngageX style. Django's defaults already render our 4xx/500
templates; these handlers exist so htmx requests get a short text body, not a page."""

from __future__ import annotations

from django.http import HttpResponse
from django.views import defaults

_HTMX_MESSAGES = {
    400: "Bad request",
    403: "You don't have permission to do that.",
    404: "Not found",
    500: "Something went wrong — try again.",
}


def _short(request, status: int) -> HttpResponse | None:
    if getattr(request, "htmx", False):
        return HttpResponse(_HTMX_MESSAGES[status], status=status, content_type="text/plain")
    return None


def bad_request(request, exception):
    return _short(request, 400) or defaults.bad_request(request, exception)


def permission_denied(request, exception):
    return _short(request, 403) or defaults.permission_denied(request, exception)


def page_not_found(request, exception):
    return _short(request, 404) or defaults.page_not_found(request, exception)


def server_error(request):
    return _short(request, 500) or defaults.server_error(request)
