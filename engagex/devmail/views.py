"""The dev inbox (DEBUG only): every email the application sent in development."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_POST

from engagex.devmail import selectors, services
from engagex.devmail.parsing import parse_message
from engagex.web.tables import Column, Filter, render_table, table_state
from engagex.web.views import debug_only

COLUMNS = [
    Column("subject", _("Subject"), sortable=True),
    Column("recipients", _("To"), sortable=True),
    Column("mail_from", _("From"), sortable=True),
    Column("size", _("Size"), sortable=True, numeric=True),
    Column("received_at", _("Received"), sortable=True),
]
FILTERS = [
    Filter(
        "period",
        _("Received"),
        [("", _("Any time")), ("today", _("Last 24 hours")), ("week", _("Last 7 days"))],
    )
]
VIEWS = ("html", "text", "headers", "raw")
# The email's own HTML, shown in a sandboxed iframe: no scripts, no forms, no access to
# our origin, only inline styles and remote images as real mail clients allow.
EMAIL_PREVIEW_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data: cid: http: https:; "
    "font-src data: http: https:; frame-ancestors 'self'; sandbox allow-popups "
    "allow-popups-to-escape-sandbox"
)


@debug_only
@require_GET
def inbox(request):
    state = table_state(
        request,
        table_id="inbox",
        columns=COLUMNS,
        filters=FILTERS,
        default_sort="-received_at",
        search_placeholder=_("Search subject, sender or recipient"),
    )
    rows = selectors.message_list(
        search=state.search, period=state.filter_values["period"]
    ).order_by(*state.ordering, "-id")
    context = {
        "table": state,
        "page": state.paginate(rows),
        "row_template": "devmail/_message_row.html",
        "empty_title": _("No emails captured yet"),
        "empty_text": _(
            "Every email EngageX sends in development lands here instead of a real mailbox."
        ),
        "empty_icon": "inbox",
        "total": selectors.message_count(),
    }
    return render_table(request, "devmail/inbox.html", context, state=state)


@debug_only
@require_GET
def detail(request, message_id: int):
    message = selectors.message_get(message_id=message_id)
    parsed = parse_message(bytes(message.raw))
    view = request.GET.get("view", "")
    if view not in VIEWS:
        view = "html" if parsed.html else "text"
    return render(
        request,
        "devmail/detail.html",
        {
            "message": message,
            "parsed": parsed,
            "view": view,
            "raw": bytes(message.raw).decode("utf-8", errors="replace") if view == "raw" else "",
            "breadcrumb_items": [(_("Dev inbox"), reverse("devmail:inbox")), (message, "")],
        },
    )


@debug_only
@require_GET
@xframe_options_sameorigin
def html_body(request, message_id: int):
    message = selectors.message_get(message_id=message_id)
    html = parse_message(bytes(message.raw)).html or ""
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = EMAIL_PREVIEW_CSP
    return response


@debug_only
@require_POST
def delete(request, message_id: int):
    message = selectors.message_get(message_id=message_id)
    services.message_delete(message=message)
    messages.success(request, _("Email deleted"))
    return redirect("devmail:inbox")


@debug_only
@require_POST
def clear(request):
    count = services.messages_clear()
    messages.success(request, _("Inbox cleared (%(count)s emails deleted)") % {"count": count})
    return redirect("devmail:inbox")
