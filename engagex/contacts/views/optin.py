"""The public double opt-in page behind the link in a confirmation email (no login).

GET shows who is asking and a "Confirm subscription" button; only the POST confirms, so
mail scanners that open links subscribe nobody. A forged link answers 404, an expired or
no-longer-usable one 410, each with a page that explains it and changes nothing.
"""

from __future__ import annotations

from django.shortcuts import render
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from engagex.accounts.services.team import mask_email
from engagex.contacts.services.optin import OptinLinkError, optin_check, optin_confirm

PROBLEM_STATUS = {"invalid": 404, "expired": 410, "unavailable": 410}


def _problem(request, error: OptinLinkError):
    membership = error.membership
    context = {
        "error": error,
        "organization": membership.organization if membership else None,
    }
    return render(
        request, "contacts/optin_problem.html", context, status=PROBLEM_STATUS[error.code]
    )


def _context(membership) -> dict:
    return {
        "membership": membership,
        "organization": membership.organization,
        "contact_list": membership.contact_list,
        "masked_email": mask_email(membership.contact.email),
    }


@never_cache
@require_http_methods(["GET", "POST"])
def confirm(request, token):
    if request.method == "GET":
        try:
            membership = optin_check(token)
        except OptinLinkError as error:
            return _problem(request, error)
        template = (
            "contacts/optin_done.html"
            if membership.status == membership.Status.SUBSCRIBED
            else "contacts/optin_confirm.html"
        )
        return render(request, template, {**_context(membership), "already": True})
    try:
        membership, changed = optin_confirm(
            token=token, ip_address=request.META.get("REMOTE_ADDR") or None
        )
    except OptinLinkError as error:
        return _problem(request, error)
    return render(
        request, "contacts/optin_done.html", {**_context(membership), "already": not changed}
    )


urlpatterns = [path("<str:token>/", confirm, name="confirm")]
