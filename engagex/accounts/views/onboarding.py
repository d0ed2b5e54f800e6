"""The onboarding wizard after the first sign-in: organization → address → sender → done.

Answers are kept in the session between steps; the organization is created only at the
end, in one transaction, and the welcome email goes out when it commits.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from engagex.accounts.forms import (
    OrganizationAddressForm,
    OrganizationBasicsForm,
    OrganizationSenderForm,
)
from engagex.accounts.services.organizations import organization_create
from engagex.accounts.tenancy import ACTIVE_ORGANIZATION_SESSION_KEY

SESSION_KEY = "onboarding"
STEPS = (
    (gettext_lazy("Organization"), OrganizationBasicsForm),
    (gettext_lazy("Postal address"), OrganizationAddressForm),
    (gettext_lazy("Sender"), OrganizationSenderForm),
)


@login_required
def wizard(request):
    # Onboarding is for people without an organization; members go to their dashboard
    # (another organization is created from the switcher).
    if request.membership:
        return redirect("web:dashboard")
    answers: dict = request.session.get(SESSION_KEY, {})
    index = _step_index(request, answers)
    title, form_class = STEPS[index]

    if request.method == "POST" and "back" in request.POST:
        return redirect(f"{request.path}?step={max(index - 1, 0) + 1}")
    form = form_class(request.POST or None, initial={**_initial(request), **answers})
    if request.method == "POST" and form.is_valid():
        answers.update(_serializable(form.cleaned_data))
        request.session[SESSION_KEY] = answers
        if index + 1 < len(STEPS):
            return redirect(f"{request.path}?step={index + 2}")
        organization = organization_create(actor=request.user, **answers)
        request.session.pop(SESSION_KEY, None)
        request.session[ACTIVE_ORGANIZATION_SESSION_KEY] = str(organization.pk)
        messages.success(
            request,
            _("%(name)s is ready. We sent you a welcome email.") % {"name": organization.name},
        )
        return redirect("web:dashboard")

    return render(
        request,
        "accounts/onboarding.html",
        {
            "form": form,
            "steps": [
                {"number": number, "title": step_title, "state": _state(number - 1, index)}
                for number, (step_title, _form) in enumerate(STEPS, start=1)
            ],
            "step_number": index + 1,
            "step_count": len(STEPS),
            "step_title": title,
            "is_last": index + 1 == len(STEPS),
        },
    )


def _step_index(request, answers: dict) -> int:
    """The requested step, but never past the first one whose answers are missing."""
    try:
        requested = int(request.GET.get("step", "1")) - 1
    except ValueError:
        requested = 0
    requested = min(max(requested, 0), len(STEPS) - 1)
    for index, (_title, form_class) in enumerate(STEPS[:requested]):
        if any(field not in answers for field in form_class._meta.fields):
            return index
    return requested


def _state(index: int, current: int) -> str:
    if index < current:
        return "done"
    return "current" if index == current else "todo"


def _initial(request) -> dict:
    return {"default_from_email": request.user.email}


def _serializable(data: dict) -> dict:
    # CountryField cleans to a code string already; keep everything JSON-safe for the session.
    return {key: str(value) if value is not None else "" for key, value in data.items()}
