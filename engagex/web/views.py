"""Dashboard shell, error pages and the developer styleguide."""

from __future__ import annotations

import functools

from django.conf import settings
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from engagex.accounts.services import usage
from engagex.accounts.tenancy import organization_required
from engagex.monitoring.health import health_report


def debug_only(view):
    """Developer pages exist only with DEBUG on; otherwise they are a plain 404."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not settings.DEBUG:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


@organization_required()
def dashboard(request):
    organization = request.organization
    email_usage = usage.emails_check(organization=organization, count=0)
    member_count = organization.memberships.count()
    return render(
        request,
        "web/dashboard.html",
        {
            "email_usage": email_usage,
            "usage_percent": (
                round(100 * email_usage.used / email_usage.limit) if email_usage.limit else None
            ),
            "member_count": member_count,
            "setup_steps": [
                (_("Organization created"), True, None),
                (_("Postal address for email footers"), bool(organization.postal_address), None),
                (_("Sender name and address"), bool(organization.default_from_email), None),
                (
                    _("Invite your team"),
                    member_count > 1,
                    reverse("accounts:team"),
                ),
            ],
            "status_cards": _status_cards(),
        },
    )


def _status_cards() -> list[dict]:
    report = health_report()
    worker_age = report.get("worker_heartbeat_age_seconds")
    status_cards = [
        {
            "label": _("Database"),
            "level": "good" if report["database"] == "ok" else "bad",
            "value": _("Connected") if report["database"] == "ok" else _("Unreachable"),
        },
        {
            "label": _("Job worker"),
            "level": "good" if report["worker"] == "ok" else "bad",
            "value": _("Running") if report["worker"] == "ok" else _("Not running"),
            "caption": (
                _("Last heartbeat %(seconds)s s ago") % {"seconds": int(worker_age)}
                if worker_age is not None
                else _("No heartbeat yet")
            ),
        },
        {
            "label": _("Jobs waiting"),
            "level": "good" if (report["queue_depth"] or 0) < 100 else "warn",
            "value": report["queue_depth"] if report["queue_depth"] is not None else "—",
        },
    ]
    return status_cards


def csrf_failure(request, reason=""):
    return render(request, "403.html", {"csrf_failure": True}, status=403)
