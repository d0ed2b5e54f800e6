"""Previews of user-written HTML: always a separate document in a sandboxed frame.

The email's HTML is shown as its own response, never inside our pages: the response
carries a CSP that forbids scripts, plugins, forms and any connection (only inline styles
and images load), plus the CSP `sandbox` directive, and the page frames it with
`<iframe sandbox>` as well. So even HTML that slipped past the sanitizer can't run code
or touch the app's session.

"Dark mode" is simulated: a client in dark mode applies the template's
`prefers-color-scheme: dark` rules, so the preview turns those rules on unconditionally.
"""

from __future__ import annotations

import re

from csp.decorators import csp_exempt
from django.http import HttpResponse
from django.utils.html import escape
from django.views.decorators.clickjacking import xframe_options_sameorigin

from engagex.content.rendering import RenderLimitExceeded, TemplateProblem

PREVIEW_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: http: data:; "
    "font-src https: data:; form-action 'none'; base-uri 'none'; frame-ancestors 'self'; "
    "sandbox allow-popups allow-popups-to-escape-sandbox"
)
# The visual editor's document: the editor page scripts into it (so no CSP `sandbox`,
# which would give it an opaque origin), but it can run nothing itself — no script
# source at all here, and the frame is `<iframe sandbox="allow-same-origin">`.
VISUAL_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: http: data:; "
    "font-src https: data:; form-action 'none'; base-uri 'none'; frame-ancestors 'self'"
)
_DARK_QUERY = re.compile(r"@media\s*\(\s*prefers-color-scheme\s*:\s*dark\s*\)", re.IGNORECASE)
_DARK_ROOT = "<style>:root{color-scheme:dark}</style>"


def force_dark(html: str) -> str:
    html = _DARK_QUERY.sub("@media all", html)
    if "</head>" in html:
        return html.replace("</head>", _DARK_ROOT + "</head>", 1)
    return _DARK_ROOT + html


def problem_document(message: str) -> str:
    return (
        '<!doctype html><html><body style="font-family:system-ui,sans-serif;padding:24px;'
        'color:#b42318"><p><strong>Preview unavailable.</strong></p>'
        f"<p>{escape(message)}</p></body></html>"
    )


def sandboxed_response(html: str, *, csp: str = PREVIEW_CSP) -> HttpResponse:
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = csp
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Referrer-Policy"] = "no-referrer"
    return response


def preview_response(render, *, dark: bool = False) -> HttpResponse:
    """`render()` returns the email-ready HTML; problems become a readable page."""
    try:
        html = render()
    except (TemplateProblem, RenderLimitExceeded) as error:
        html = problem_document(str(error))
    return sandboxed_response(force_dark(html) if dark else html)


def preview_view(view):
    """Decorator for views answering with `preview_response`: framed by our pages only,
    and our own CSP replaced by the preview's stricter one."""
    return xframe_options_sameorigin(csp_exempt()(view))
