"""The audit log viewer: admins and owners only."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from engagex.accounts.models import Membership
from engagex.accounts.tenancy import organization_required
from engagex.audit import selectors
from engagex.web.tables import Column, Filter, render_table, table_state

COLUMNS = [
    Column("created_at", _("When"), sortable=True),
    Column("actor_label", _("Who"), sortable=True),
    Column("action", _("Action"), sortable=True),
    Column("target", _("Record")),
    Column("metadata", _("Details")),
    Column("ip_address", _("IP address")),
]


@organization_required(role="admin")
@require_GET
def entry_list(request):
    organization = request.organization
    members = (
        Membership.objects.filter(organization=organization)
        .select_related("user")
        .order_by("user__email")
    )
    filters = [
        Filter(
            "action",
            _("Action"),
            [("", _("All actions"))]
            + [(action, action) for action in selectors.actions_used(organization=organization)],
        ),
        Filter(
            "user",
            _("User"),
            [("", _("Everyone"))] + [(str(m.user_id), m.user.email) for m in members],
        ),
        Filter(
            "period",
            _("Date"),
            [
                ("", _("Any time")),
                ("day", _("Last 24 hours")),
                ("week", _("Last 7 days")),
                ("month", _("Last 30 days")),
            ],
        ),
    ]
    state = table_state(
        request,
        table_id="audit",
        columns=COLUMNS,
        filters=filters,
        default_sort="-created_at",
        per_page=50,
        search_placeholder=_("Search actions, records or people"),
    )
    entries = selectors.entry_list(
        organization=organization,
        search=state.search,
        action=state.filter_values["action"],
        actor_id=state.filter_values["user"],
        period=state.filter_values["period"],
    ).order_by(*state.ordering, "-id")
    context = {
        "table": state,
        "page": state.paginate(entries),
        "row_template": "audit/_entry_row.html",
        "empty_title": _("Nothing logged yet"),
        "empty_text": _(
            "Sign-ins, team changes, API keys, plan changes, imports and sends are recorded here."
        ),
        "empty_icon": "clipboard-document-list",
    }
    return render_table(request, "audit/log.html", context, state=state)
